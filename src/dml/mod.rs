//! INSERT, UPDATE and DELETE on Intercom tables.
//!
//! What each table accepts is declared with its table, as data ([`TableWrites`] in
//! `tables/<object>.rs`): for every statement kind, the request one row becomes and which
//! columns go where in its body. Planning
//! ([`plan`]) reads the statement's rows with the same scan and pushdown as a SELECT — the
//! WHERE clause, subqueries and joins included — and [`exec`] sends one request per row.
//!
//! [`Write::request`] turns one row into one request.

mod error;
pub mod exec;
pub mod plan;
pub mod returning;

pub use error::DmlError;

pub use crate::tables::write::{Kind, TableWrites, Write, row_value};
pub use exec::WritePlanner;
pub use plan::DmlRule;

/// Installs INSERT/UPDATE/DELETE on Intercom tables into `ctx` (the analyzer rule that turns
/// DataFusion's DML nodes into ours). Their nodes become execution plans through
/// [`WritePlanner`], which the session's query planner installs.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    ctx.add_analyzer_rule(std::sync::Arc::new(DmlRule));
}

/// Every writable table, in table-name order.
pub fn all() -> impl Iterator<Item = &'static TableWrites> {
    crate::tables::all()
        .iter()
        .filter_map(|t| t.writes.as_ref())
}

/// What `table` accepts, if it is writable at all.
pub fn find(table: &str) -> Option<&'static TableWrites> {
    crate::tables::find(table)?.writes.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ApiRequest;
    use serde_json::{Value, json};

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
        assert_eq!(
            ApiRequest::from(request.clone()).describe(),
            "PUT /contacts/a%2Fb"
        );
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
        assert_eq!(
            ApiRequest::from(insert.clone()).describe(),
            "POST /contacts/c1/tags"
        );
        assert_eq!(insert.body.unwrap(), json!({"id": "t 1"}));
        let delete = t
            .write(Kind::Delete)
            .unwrap()
            .request(Kind::Delete, &r, &[])
            .unwrap();
        assert_eq!(
            ApiRequest::from(delete.clone()).describe(),
            "DELETE /contacts/c1/tags/t%201"
        );
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
