//! The vocabulary of writes: what a table file declares about INSERT, UPDATE and DELETE on
//! its object — for every statement kind, the request one row becomes and which columns go
//! where in its body. Nothing here does I/O: [`Write::request`] turns one row into one request;
//! `crate::dml` plans statements and sends the requests.

use reqwest::Method;
use serde_json::{Map, Value};

use super::path::{fill_path, path_segment};

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

/// One row's request, as data (the client sends it as an `ApiRequest`).
#[derive(Clone, Debug, PartialEq)]
pub struct WriteRequest {
    /// HTTP method.
    pub method: Method,
    /// Path with the row's values filled in.
    pub path: String,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// Repeating the request leaves the same state.
    pub idempotent: bool,
}

/// The request one row of one statement kind becomes.
#[derive(Clone, Debug)]
pub struct Write {
    /// HTTP method.
    pub method: &'static str,
    /// Path; `{column}` is replaced by the row's (URL-encoded) value of that column.
    pub path: &'static str,
    /// Settable columns and where they go in the body (dotted path).
    pub fields: &'static [(&'static str, &'static str)],
    /// More settable columns, known only when the session starts (a ticket type's attributes):
    /// each column and the body path its value goes to.
    pub attribute_fields: Vec<(String, Vec<String>)>,
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
    /// When Intercom answers with something else than the written object (`POST
    /// /conversations` answers with the message it created), where the object is: a `GET`
    /// path whose `{field}` placeholders are filled from the answer
    /// (`/conversations/{conversation_id}`). RETURNING reads it from there.
    pub read_back: Option<&'static str>,
}

impl Write {
    pub const fn new(method: &'static str, path: &'static str) -> Self {
        Self {
            method,
            path,
            fields: &[],
            attribute_fields: Vec::new(),
            keys: &[],
            required: &[],
            custom_attributes: false,
            finish: None,
            idempotent: false,
            read_back: None,
        }
    }
    pub const fn read_back(mut self, path: &'static str) -> Self {
        self.read_back = Some(path);
        self
    }
    pub const fn fields(mut self, fields: &'static [(&'static str, &'static str)]) -> Self {
        self.fields = fields;
        self
    }
    pub const fn keys(mut self, keys: &'static [(&'static str, &'static str)]) -> Self {
        self.keys = keys;
        self
    }
    pub const fn required(mut self, required: &'static [&'static str]) -> Self {
        self.required = required;
        self
    }
    pub const fn custom(mut self) -> Self {
        self.custom_attributes = true;
        self
    }
    pub const fn finish(mut self, finish: FinishFn) -> Self {
        self.finish = Some(finish);
        self
    }
    pub const fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// The id of the object a successful request wrote, from Intercom's answer: its `id`, or
    /// the answer field [`Write::read_back`] names (a created conversation's
    /// `conversation_id`).
    pub fn written_id(&self, answer: &Value) -> Option<String> {
        let field = match self.read_back {
            Some(path) => super::action::placeholders(path).into_iter().next()?,
            None => "id".to_string(),
        };
        match answer.get(&field)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// `METHOD /path`, for EXPLAIN and the docs.
    pub fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The columns the path names (`{id}` → `id`).
    pub fn path_columns(&self) -> Vec<String> {
        super::action::placeholders(self.path)
    }

    /// Whether a statement may give a value for `column`.
    pub fn settable(&self, column: &str) -> bool {
        self.fields.iter().any(|(c, _)| *c == column)
            || self.attribute_fields.iter().any(|(c, _)| c == column)
            || (self.custom_attributes
                && (column == "custom_attributes" || column.starts_with(CUSTOM_PREFIX)))
    }

    /// The columns a statement may give, for error messages.
    pub fn settable_list(&self) -> String {
        let mut names: Vec<String> = self.fields.iter().map(|(c, _)| c.to_string()).collect();
        names.extend(self.attribute_fields.iter().map(|(c, _)| c.clone()));
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
    ) -> Result<WriteRequest, String> {
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
            } else if let Some((_, target)) =
                self.attribute_fields.iter().find(|(c, _)| c == column)
            {
                set_path_parts(&mut body, target, value);
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
        Ok(WriteRequest {
            method,
            path,
            body,
            idempotent: self.idempotent,
        })
    }
}

/// The value of column `name` in a row of (column, value) pairs; NULL when absent.
pub fn row_value<'a>(row: &'a [(String, Value)], name: &str) -> &'a Value {
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

/// Sets `body.a.b = value` for the path `[a, b]`, making the objects on the way.
pub fn set_path_parts(body: &mut Map<String, Value>, parts: &[impl AsRef<str>], value: Value) {
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut node = body;
    for part in parents {
        let entry = node
            .entry(part.as_ref().to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(map) = entry else { return };
        node = map;
    }
    node.insert(last.as_ref().to_string(), value);
}

/// What one table accepts.
#[derive(Clone, Debug)]
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

/// Problems in the tables' write declarations: a declaration for another table, or a column
/// (path placeholder, field, key, required) the table does not have.
pub(super) fn validate(tables: &[super::TableDef]) -> Vec<String> {
    let mut problems = Vec::new();
    for def in tables {
        let Some(writes) = &def.writes else { continue };
        if writes.table != def.name {
            problems.push(format!(
                "{}: writes declared for {}",
                def.name, writes.table
            ));
        }
        let has = |c: &str| def.column_named(c).is_some();
        for kind in [Kind::Insert, Kind::Update, Kind::Delete] {
            let Some(w) = writes.write(kind) else {
                continue;
            };
            let mut columns: Vec<String> = w.path_columns();
            columns.extend(w.fields.iter().map(|(c, _)| c.to_string()));
            columns.extend(w.keys.iter().map(|(c, _)| c.to_string()));
            columns.extend(w.required.iter().map(|c| c.to_string()));
            for c in columns.iter().filter(|c| !has(c)) {
                problems.push(format!("{}.{c} ({kind:?}) is not a column", def.name));
            }
        }
        for k in writes.key.iter().filter(|k| !has(k)) {
            problems.push(format!("{}.{k} (key) is not a column", def.name));
        }
    }
    problems
}
