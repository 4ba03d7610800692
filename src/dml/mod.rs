//! INSERT, UPDATE and DELETE on Intercom tables.
//!
//! What each table accepts is declared here as data ([`TableWrites`]): for every statement
//! kind, the request one row becomes and which columns go where in its body. Planning
//! ([`plan`]) reads the statement's rows with the same scan and pushdown as a SELECT — the
//! WHERE clause, subqueries and joins included — and [`exec`] sends one request per row.
//!
//! Nothing here does I/O: [`Write::request`] turns one row into one request.

pub mod exec;
pub mod plan;

use reqwest::Method;
use serde_json::{Map, Value};

use crate::client::{ApiRequest, fill_path, path_segment};

pub use plan::{DmlRule, WritePlanner};

/// How custom-attribute columns are named: `custom_attributes.<name>`.
const CUSTOM_PREFIX: &str = "custom_attributes.";

/// The statement kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd)]
pub enum Kind {
    /// `INSERT INTO t … VALUES / SELECT`.
    Insert,
    /// `UPDATE t SET … WHERE …`.
    Update,
    /// `DELETE FROM t WHERE …`.
    Delete,
}

impl Kind {
    /// `INSERT`, `UPDATE`, `DELETE`.
    pub fn sql(self) -> &'static str {
        match self {
            Kind::Insert => "INSERT",
            Kind::Update => "UPDATE",
            Kind::Delete => "DELETE",
        }
    }
    /// `inserted`, `updated`, `deleted`.
    pub fn past(self) -> &'static str {
        match self {
            Kind::Insert => "inserted",
            Kind::Update => "updated",
            Kind::Delete => "deleted",
        }
    }
}

/// Finishes a body from the row's values, e.g. turns a contact id into `contacts: [{id}]`. An
/// `Err` is a one-line message about the row.
pub type FinishFn = fn(&mut Map<String, Value>) -> Result<(), String>;

/// The request one row of one statement kind becomes.
#[derive(Debug)]
pub struct Write {
    /// HTTP method.
    pub method: &'static str,
    /// Path; `{column}` is replaced by the row's (URL-encoded) value of that column.
    pub path: &'static str,
    /// Settable columns and where they go in the body (dotted path).
    pub fields: &'static [(&'static str, &'static str)],
    /// Columns copied into the body from the row whatever the statement says (a rename's id).
    pub keys: &'static [(&'static str, &'static str)],
    /// Columns an INSERT must give (non-NULL).
    pub required: &'static [&'static str],
    /// Whether `custom_attributes.<name>` columns (and the JSON `custom_attributes` column) go
    /// to the body's `custom_attributes` object.
    pub custom_attributes: bool,
    /// Last touches to the body.
    pub finish: Option<FinishFn>,
    /// Repeating the request leaves the same state (retried after a 5xx).
    pub idempotent: bool,
}

impl Write {
    const fn new(method: &'static str, path: &'static str) -> Self {
        Self {
            method,
            path,
            fields: &[],
            keys: &[],
            required: &[],
            custom_attributes: false,
            finish: None,
            idempotent: false,
        }
    }
    const fn fields(mut self, fields: &'static [(&'static str, &'static str)]) -> Self {
        self.fields = fields;
        self
    }
    const fn keys(mut self, keys: &'static [(&'static str, &'static str)]) -> Self {
        self.keys = keys;
        self
    }
    const fn required(mut self, required: &'static [&'static str]) -> Self {
        self.required = required;
        self
    }
    const fn custom(mut self) -> Self {
        self.custom_attributes = true;
        self
    }
    const fn finish(mut self, finish: FinishFn) -> Self {
        self.finish = Some(finish);
        self
    }
    const fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// `METHOD /path`, for EXPLAIN and the docs.
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The columns the path names (`{id}` → `id`).
    pub fn path_columns(&self) -> Vec<String> {
        crate::procedures::placeholders(self.path)
    }

    /// Whether a statement may give a value for `column`.
    pub fn settable(&self, column: &str) -> bool {
        self.fields.iter().any(|(c, _)| *c == column)
            || (self.custom_attributes
                && (column == "custom_attributes" || column.starts_with(CUSTOM_PREFIX)))
    }

    /// The columns a statement may give, for error messages.
    pub fn settable_list(&self) -> String {
        let mut names: Vec<String> = self.fields.iter().map(|(c, _)| c.to_string()).collect();
        if self.custom_attributes {
            names.push("custom_attributes.<name>".into());
        }
        names.join(", ")
    }

    /// The request for one row. `row` holds (column, value) for every column the statement
    /// read; `given` names the columns the statement set (INSERT's column list, UPDATE's SET).
    /// NULLs are left out of INSERT bodies and sent as `null` by UPDATE (to clear a field).
    pub fn request(
        &self,
        kind: Kind,
        row: &[(String, Value)],
        given: &[String],
    ) -> Result<ApiRequest, String> {
        let value_of = |name: &str| row_value(row, name).clone();
        for column in self.required {
            if value_of(column).is_null() {
                return Err(format!("{column} must be given (not NULL)"));
            }
        }
        let path = fill_path(self.path, |column| {
            let text = match value_of(column) {
                Value::Null => return Err(format!("{column} must not be NULL")),
                Value::String(s) => s,
                other => other.to_string(),
            };
            if text.trim().is_empty() {
                return Err(format!("{column} must not be empty"));
            }
            path_segment(&text).ok_or_else(|| format!("{column} '{text}' is not a valid id"))
        })?;

        let mut body = Map::new();
        for (column, target) in self.keys {
            set_path(&mut body, target, value_of(column));
        }
        for column in given {
            let value = value_of(column);
            if value.is_null() && kind == Kind::Insert {
                continue;
            }
            if let Some((_, target)) = self.fields.iter().find(|(c, _)| c == column) {
                set_path(&mut body, target, value);
            } else if let Some(name) = column.strip_prefix(CUSTOM_PREFIX) {
                set_path_parts(&mut body, &["custom_attributes", name], value);
            } else if column == "custom_attributes" {
                merge_custom_attributes(&mut body, value)?;
            }
        }
        if let Some(finish) = self.finish {
            finish(&mut body)?;
        }
        let method = Method::from_bytes(self.method.as_bytes()).map_err(|e| e.to_string())?;
        let body = (method != Method::DELETE || !body.is_empty()).then_some(Value::Object(body));
        let request = ApiRequest::write(method, path, body);
        Ok(if self.idempotent {
            request.idempotent()
        } else {
            request
        })
    }
}

/// The value of column `name` in a row of (column, value) pairs; NULL when absent.
pub(crate) fn row_value<'a>(row: &'a [(String, Value)], name: &str) -> &'a Value {
    row.iter()
        .find(|(c, _)| c == name)
        .map(|(_, v)| v)
        .unwrap_or(&Value::Null)
}

/// The JSON `custom_attributes` column: an object merged under the body's own.
fn merge_custom_attributes(body: &mut Map<String, Value>, value: Value) -> Result<(), String> {
    match value {
        Value::Null => Ok(()),
        Value::Object(values) => {
            for (name, v) in values {
                set_path_parts(body, &["custom_attributes", &name], v);
            }
            Ok(())
        }
        _ => Err("custom_attributes must be a JSON object, e.g. '{\"plan\": \"pro\"}'".into()),
    }
}

/// Sets `body.a.b = value` for the dotted path `a.b`.
fn set_path(body: &mut Map<String, Value>, dotted: &str, value: Value) {
    let parts: Vec<&str> = dotted.split('.').collect();
    set_path_parts(body, &parts, value);
}

fn set_path_parts(body: &mut Map<String, Value>, parts: &[&str], value: Value) {
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut node = body;
    for part in parents {
        let entry = node
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(map) = entry else { return };
        node = map;
    }
    node.insert((*last).to_string(), value);
}

/// What one table accepts.
#[derive(Debug)]
pub struct TableWrites {
    /// SQL table name.
    pub table: &'static str,
    /// INSERT.
    pub insert: Option<Write>,
    /// UPDATE.
    pub update: Option<Write>,
    /// DELETE.
    pub delete: Option<Write>,
    /// The columns that identify a row: UPDATE and DELETE act once per distinct key.
    pub key: &'static [&'static str],
}

impl TableWrites {
    /// The write for `kind`, if the table takes it.
    pub fn write(&self, kind: Kind) -> Option<&Write> {
        match kind {
            Kind::Insert => self.insert.as_ref(),
            Kind::Update => self.update.as_ref(),
            Kind::Delete => self.delete.as_ref(),
        }
    }

    /// `INSERT, UPDATE and DELETE`, for messages.
    pub fn kinds(&self) -> String {
        let kinds: Vec<&str> = [Kind::Insert, Kind::Update, Kind::Delete]
            .into_iter()
            .filter(|k| self.write(*k).is_some())
            .map(Kind::sql)
            .collect();
        match kinds.as_slice() {
            [one] => one.to_string(),
            [a, b] => format!("{a} and {b}"),
            [a, b, c] => format!("{a}, {b} and {c}"),
            _ => String::new(),
        }
    }
}

const CONTACT_FIELDS: &[(&str, &str)] = &[
    ("role", "role"),
    ("external_id", "external_id"),
    ("email", "email"),
    ("phone", "phone"),
    ("name", "name"),
    ("owner_id", "owner_id"),
    ("signed_up_at", "signed_up_at"),
    ("last_seen_at", "last_seen_at"),
    ("unsubscribed_from_emails", "unsubscribed_from_emails"),
];

const COMPANY_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("plan_name", "plan"),
    ("size", "size"),
    ("website", "website"),
    ("industry", "industry"),
    ("monthly_spend", "monthly_spend"),
];

const COMPANY_CREATE_FIELDS: &[(&str, &str)] = &[
    ("company_id", "company_id"),
    ("name", "name"),
    ("plan_name", "plan"),
    ("size", "size"),
    ("website", "website"),
    ("industry", "industry"),
    ("monthly_spend", "monthly_spend"),
    ("remote_created_at", "remote_created_at"),
];

const TICKET_FIELDS: &[(&str, &str)] = &[
    ("title", "ticket_attributes._default_title_"),
    ("description", "ticket_attributes._default_description_"),
    ("ticket_state_id", "ticket_state_id"),
    ("open", "open"),
    ("is_shared", "is_shared"),
    ("snoozed_until", "snoozed_until"),
    ("admin_assignee_id", "assignee_id"),
    ("team_assignee_id", "assignee_id"),
];

/// Every writable table.
pub fn all() -> &'static [TableWrites] {
    &TABLES
}

/// What `table` accepts, if it is writable at all.
pub fn find(table: &str) -> Option<&'static TableWrites> {
    all().iter().find(|t| t.table == table)
}

static TABLES: [TableWrites; 9] = [
    TableWrites {
        table: "contacts",
        insert: Some(
            Write::new("POST", "/contacts")
                .fields(CONTACT_FIELDS)
                .custom(),
        ),
        update: Some(
            Write::new("PUT", "/contacts/{id}")
                .fields(CONTACT_FIELDS)
                .custom()
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/contacts/{id}").idempotent()),
        key: &["id"],
    },
    TableWrites {
        table: "companies",
        insert: Some(
            Write::new("POST", "/companies")
                .fields(COMPANY_CREATE_FIELDS)
                .required(&["company_id"])
                .custom()
                .idempotent(),
        ),
        update: Some(
            Write::new("PUT", "/companies/{id}")
                .fields(COMPANY_FIELDS)
                .custom()
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/companies/{id}").idempotent()),
        key: &["id"],
    },
    TableWrites {
        table: "tags",
        insert: Some(
            Write::new("POST", "/tags")
                .fields(&[("name", "name")])
                .required(&["name"])
                .idempotent(),
        ),
        update: Some(
            Write::new("POST", "/tags")
                .fields(&[("name", "name")])
                .keys(&[("id", "id")])
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/tags/{id}").idempotent()),
        key: &["id"],
    },
    TableWrites {
        table: "notes",
        insert: Some(
            Write::new("POST", "/contacts/{contact_id}/notes")
                .fields(&[("body", "body"), ("admin_id", "admin_id")])
                .required(&["body"]),
        ),
        update: None,
        delete: None,
        key: &["id"],
    },
    TableWrites {
        table: "data_attributes",
        insert: Some(
            Write::new("POST", "/data_attributes")
                .fields(&[
                    ("name", "name"),
                    ("model", "model"),
                    ("data_type", "data_type"),
                    ("description", "description"),
                    ("options", "options"),
                    ("messenger_writable", "messenger_writable"),
                ])
                .required(&["name", "model", "data_type"])
                .finish(option_objects),
        ),
        update: Some(
            Write::new("PUT", "/data_attributes/{id}")
                .fields(&[
                    ("description", "description"),
                    ("options", "options"),
                    ("archived", "archived"),
                    ("messenger_writable", "messenger_writable"),
                ])
                .finish(option_objects)
                .idempotent(),
        ),
        delete: None,
        key: &["id"],
    },
    TableWrites {
        table: "tickets",
        insert: Some(
            Write::new("POST", "/tickets")
                .fields(&[
                    ("ticket_type_id", "ticket_type_id"),
                    ("contacts", "contacts"),
                    ("title", "ticket_attributes._default_title_"),
                    ("description", "ticket_attributes._default_description_"),
                    ("ticket_attributes", "ticket_attributes"),
                    ("created_at", "created_at"),
                ])
                .required(&["ticket_type_id", "contacts"])
                .finish(ticket_contacts),
        ),
        update: Some(
            Write::new("PUT", "/tickets/{id}")
                .fields(TICKET_FIELDS)
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/tickets/{id}").idempotent()),
        key: &["id"],
    },
    TableWrites {
        table: "conversations",
        insert: None,
        update: Some(
            Write::new("PUT", "/conversations/{id}")
                .fields(&[("title", "title"), ("read", "read")])
                .custom()
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/conversations/{id}").idempotent()),
        key: &["id"],
    },
    TableWrites {
        table: "contact_tags",
        insert: Some(
            Write::new("POST", "/contacts/{contact_id}/tags")
                .keys(&[("tag_id", "id")])
                .required(&["contact_id", "tag_id"])
                .idempotent(),
        ),
        update: None,
        delete: Some(Write::new("DELETE", "/contacts/{contact_id}/tags/{tag_id}").idempotent()),
        key: &["contact_id", "tag_id"],
    },
    TableWrites {
        table: "contact_companies",
        insert: Some(
            Write::new("POST", "/contacts/{contact_id}/companies")
                .keys(&[("company_id", "id")])
                .required(&["contact_id", "company_id"])
                .idempotent(),
        ),
        update: None,
        delete: Some(
            Write::new("DELETE", "/contacts/{contact_id}/companies/{company_id}").idempotent(),
        ),
        key: &["contact_id", "company_id"],
    },
];

/// `options` of a list attribute: Intercom wants `[{"value": …}]`; plain strings are wrapped.
fn option_objects(body: &mut Map<String, Value>) -> Result<(), String> {
    let Some(options) = body.get_mut("options") else {
        return Ok(());
    };
    let Value::Array(items) = options else {
        return Err("options must be a JSON array, e.g. '[\"Gold\", \"Silver\"]'".into());
    };
    for item in items.iter_mut() {
        if let Value::String(s) = item {
            *item = serde_json::json!({ "value": s });
        }
    }
    Ok(())
}

/// A ticket's `contacts`: one id (`'6650…'`), a JSON array of ids or of `{id|external_id|email}`
/// objects, or the `{contacts: [...]}` object the table shows.
fn ticket_contacts(body: &mut Map<String, Value>) -> Result<(), String> {
    let Some(value) = body.remove("contacts") else {
        return Ok(());
    };
    let list = match value {
        Value::String(id) => vec![Value::String(id)],
        // An all-digit id read as JSON.
        Value::Number(id) => vec![Value::String(id.to_string())],
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("contacts") {
            Some(Value::Array(items)) => items,
            _ => return Err(CONTACTS_SHAPE.into()),
        },
        _ => return Err(CONTACTS_SHAPE.into()),
    };
    let mut contacts = Vec::with_capacity(list.len());
    for item in list {
        contacts.push(match item {
            Value::String(id) => serde_json::json!({ "id": id }),
            Value::Number(id) => serde_json::json!({ "id": id.to_string() }),
            Value::Object(map) => {
                let wanted = ["id", "external_id", "email"];
                let picked: Map<String, Value> = map
                    .into_iter()
                    .filter(|(k, _)| wanted.contains(&k.as_str()))
                    .take(1)
                    .collect();
                if picked.is_empty() {
                    return Err(CONTACTS_SHAPE.into());
                }
                Value::Object(picked)
            }
            _ => return Err(CONTACTS_SHAPE.into()),
        });
    }
    if contacts.is_empty() {
        return Err(CONTACTS_SHAPE.into());
    }
    body.insert("contacts".into(), Value::Array(contacts));
    Ok(())
}

const CONTACTS_SHAPE: &str = "contacts must be a contact id, or a JSON array of ids or of {\"id\"|\"external_id\"|\"email\": …} objects";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn given(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_declared_column_exists_in_its_table() {
        for t in all() {
            let def = crate::tables::find(t.table).unwrap_or_else(|| panic!("{}", t.table));
            let names: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
            for kind in [Kind::Insert, Kind::Update, Kind::Delete] {
                let Some(w) = t.write(kind) else { continue };
                let mut columns: Vec<String> = w.path_columns();
                columns.extend(w.fields.iter().map(|(c, _)| c.to_string()));
                columns.extend(w.keys.iter().map(|(c, _)| c.to_string()));
                columns.extend(w.required.iter().map(|c| c.to_string()));
                for c in columns {
                    assert!(names.contains(&c.as_str()), "{}.{c} ({kind:?})", t.table);
                }
            }
            for k in t.key {
                assert!(names.contains(k), "{}.{k} key", t.table);
            }
        }
    }

    #[test]
    fn updates_send_only_the_set_columns_and_null_clears() {
        let w = find("contacts").unwrap().write(Kind::Update).unwrap();
        let r = row(&[
            ("id", json!("a/b")),
            ("name", json!("Ada")),
            ("phone", Value::Null),
            ("email", json!("untouched@example.com")),
            ("custom_attributes.plan tier", json!("gold")),
        ]);
        let request = w
            .request(
                Kind::Update,
                &r,
                &given(&["name", "phone", "custom_attributes.plan tier"]),
            )
            .unwrap();
        assert_eq!(request.describe(), "PUT /contacts/a%2Fb");
        assert_eq!(
            request.body.unwrap(),
            json!({"name": "Ada", "phone": null, "custom_attributes": {"plan tier": "gold"}})
        );
    }

    #[test]
    fn inserts_skip_nulls_and_check_required_columns() {
        let w = find("tickets").unwrap().write(Kind::Insert).unwrap();
        let r = row(&[
            ("ticket_type_id", json!("95")),
            ("contacts", json!("c1")),
            ("title", json!("Broken")),
            ("description", Value::Null),
        ]);
        let request = w
            .request(
                Kind::Insert,
                &r,
                &given(&["ticket_type_id", "contacts", "title", "description"]),
            )
            .unwrap();
        assert_eq!(
            request.body.unwrap(),
            json!({"ticket_type_id": "95", "contacts": [{"id": "c1"}],
                   "ticket_attributes": {"_default_title_": "Broken"}})
        );
        let missing = row(&[("ticket_type_id", json!("95"))]);
        let e = w
            .request(Kind::Insert, &missing, &given(&["ticket_type_id"]))
            .unwrap_err();
        assert_eq!(e, "contacts must be given (not NULL)");
    }

    #[test]
    fn junction_rows_fill_the_path_and_the_key() {
        let t = find("contact_tags").unwrap();
        let r = row(&[("contact_id", json!("c1")), ("tag_id", json!("t 1"))]);
        let insert = t
            .write(Kind::Insert)
            .unwrap()
            .request(Kind::Insert, &r, &given(&["contact_id", "tag_id"]))
            .unwrap();
        assert_eq!(insert.describe(), "POST /contacts/c1/tags");
        assert_eq!(insert.body.unwrap(), json!({"id": "t 1"}));
        let delete = t
            .write(Kind::Delete)
            .unwrap()
            .request(Kind::Delete, &r, &[])
            .unwrap();
        assert_eq!(delete.describe(), "DELETE /contacts/c1/tags/t%201");
        assert!(delete.body.is_none());
    }

    #[test]
    fn list_options_are_wrapped() {
        let w = find("data_attributes")
            .unwrap()
            .write(Kind::Insert)
            .unwrap();
        let r = row(&[
            ("name", json!("tier")),
            ("model", json!("contact")),
            ("data_type", json!("options")),
            ("options", json!(["a", {"value": "b"}])),
        ]);
        let request = w
            .request(
                Kind::Insert,
                &r,
                &given(&["name", "model", "data_type", "options"]),
            )
            .unwrap();
        assert_eq!(
            request.body.unwrap()["options"],
            json!([{"value": "a"}, {"value": "b"}])
        );
    }
}

/// The reference part of `docs/dml.md`: per table, what each statement sends and which columns
/// it takes.
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for t in all() {
        out.push_str(&format!("\n## `{}`\n\n", t.table));
        out.push_str("| statement | request per row | columns |\n|---|---|---|\n");
        for kind in [Kind::Insert, Kind::Update, Kind::Delete] {
            let Some(w) = t.write(kind) else { continue };
            let mut columns: Vec<String> = Vec::new();
            if kind == Kind::Insert {
                columns.extend(w.path_columns());
                columns.extend(w.keys.iter().map(|(c, _)| c.to_string()));
            }
            if kind != Kind::Delete {
                columns.extend(w.fields.iter().map(|(c, _)| c.to_string()));
                if w.custom_attributes {
                    columns.push("custom_attributes".into());
                    columns.push("custom_attributes.<name>".into());
                }
            }
            let mut seen = Vec::new();
            columns.retain(|c| {
                let fresh = !seen.contains(c);
                seen.push(c.clone());
                fresh
            });
            let described: Vec<String> = columns
                .iter()
                .map(|c| {
                    if w.required.contains(&c.as_str()) || w.path_columns().contains(c) {
                        format!("`{c}` (required)")
                    } else {
                        format!("`{c}`")
                    }
                })
                .collect();
            let columns = match kind {
                Kind::Delete => format!("rows found by the WHERE clause, by {}", t.key.join(", ")),
                _ => described.join(", "),
            };
            out.push_str(&format!(
                "| {} | `{}` | {} |\n",
                kind.sql(),
                w.endpoint(),
                columns
            ));
        }
    }
    out
}

/// The line between the hand-written part of `docs/dml.md` and [`reference_markdown`].
pub const REFERENCE_MARKER: &str = "<!-- The reference below is generated from src/dml; regenerate with: INTERCOM_SQL_WRITE_DOCS=1 cargo test --lib dml -->";

#[cfg(test)]
mod doc_tests {
    use super::*;

    #[test]
    fn docs_list_every_writable_table() {
        const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/dml.md");
        let text = std::fs::read_to_string(DOC).unwrap_or_default();
        let intro = text
            .split_once(REFERENCE_MARKER)
            .map(|(intro, _)| intro.to_string())
            .unwrap_or_default();
        assert!(
            !intro.is_empty(),
            "docs/dml.md must contain {REFERENCE_MARKER}"
        );
        let expected = format!("{intro}{REFERENCE_MARKER}\n{}", reference_markdown());
        if std::env::var_os("INTERCOM_SQL_WRITE_DOCS").is_some() {
            std::fs::write(DOC, &expected).unwrap();
            return;
        }
        assert!(
            text == expected,
            "docs/dml.md is out of date; run INTERCOM_SQL_WRITE_DOCS=1 cargo test --lib dml"
        );
    }
}
