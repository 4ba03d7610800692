//! The vocabulary of actions: what a table file declares about each Intercom action on its
//! object (a procedure: SQL name, typed and documented parameters, the request, the result
//! columns). Nothing here runs a request; `crate::procedures` binds, sends and plans them.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

pub use super::ColumnType;

/// Bound arguments: parameter name → JSON value, for the parameters that are set (NULL and
/// omitted optional parameters without a default are absent).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args {
    values: BTreeMap<String, Value>,
}

impl Args {
    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
    /// The value of `name` as text (numbers are written out), if set.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(value_text)
    }
    /// Whether `name` is set.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
    /// Sets a value (lookups add resolved ids this way).
    pub fn insert(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }
    /// Builds arguments from pairs, for tests and lookups.
    pub fn from_pairs(pairs: &[(&str, Value)]) -> Self {
        Self {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }
}

/// JSON scalar as text: strings as they are, other values as JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One parameter of a procedure.
#[derive(Clone, Debug)]
pub struct Param {
    /// Name, used for named arguments (`name => value`).
    pub name: &'static str,
    /// SQL type.
    pub ty: ColumnType,
    /// A required parameter must be given and must not be NULL.
    pub required: bool,
    /// Value used when an optional parameter is omitted or NULL.
    pub default: Option<Value>,
    /// One line for the person calling the procedure.
    pub doc: &'static str,
    /// Allowed values of a text parameter (empty: any). Matched case-insensitively and sent
    /// spelled as declared.
    pub allowed: &'static [&'static str],
    /// When omitted or NULL, the token's own admin (`GET /me`'s `id`) is sent.
    pub token_admin: bool,
}

impl Param {
    fn new(name: &'static str, ty: ColumnType, doc: &'static str) -> Self {
        Self {
            name,
            ty,
            required: true,
            default: None,
            doc,
            allowed: &[],
            token_admin: false,
        }
    }
    /// A required text parameter.
    pub fn text(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ColumnType::Text, doc)
    }
    /// A required integer parameter.
    pub fn int(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ColumnType::Int, doc)
    }
    /// A required boolean parameter.
    pub fn bool(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ColumnType::Bool, doc)
    }
    /// A required timestamp parameter.
    pub fn timestamp(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ColumnType::Timestamp, doc)
    }
    /// A required JSON parameter.
    pub fn json(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ColumnType::Json, doc)
    }
    /// `contact_id text`: the contact an action is on (shared by the tables whose actions take it).
    pub fn contact_id() -> Self {
        Self::text("contact_id", "Intercom id of the contact.")
    }
    /// Makes the parameter optional (NULL when omitted).
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
    /// Makes the parameter optional with a default value.
    pub fn default_value(mut self, value: impl Into<Value>) -> Self {
        self.required = false;
        self.default = Some(value.into());
        self
    }
    /// Makes an admin parameter optional: when omitted, the token's own admin acts (one `GET
    /// /me` before the request).
    pub fn or_token_admin(mut self) -> Self {
        self.required = false;
        self.token_admin = true;
        self
    }
    /// Restricts a text parameter to these values.
    pub fn one_of(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }
    /// `name type` or `name type = default`, as shown in signatures.
    pub fn signature(&self) -> String {
        let mut text = format!("{} {}", self.name, self.ty.sql_name());
        if !self.required {
            text.push_str(" = ");
            text.push_str(&self.default_sql());
        }
        text
    }
    /// The default as SQL text (`NULL` when there is none).
    pub fn default_sql(&self) -> String {
        match &self.default {
            None | Some(Value::Null) => "NULL".into(),
            Some(Value::String(s)) => format!("'{}'", s.replace('\'', "''")),
            Some(other) => other.to_string(),
        }
    }
}

/// Where a result column's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultSource {
    /// A dotted JSON path into the response (`id`, `tag.name`, `customers.0.id`).
    Response(&'static str),
    /// The value of an argument (for responses that do not repeat it, or are empty).
    Arg(&'static str),
    /// The HTTP status of the response.
    Status,
}

/// One result column of a procedure.
#[derive(Clone, Debug)]
pub struct ResultColumn {
    /// Column name.
    pub name: &'static str,
    /// SQL type (JSON columns are text holding JSON).
    pub ty: ColumnType,
    /// Where the value comes from.
    pub source: ResultSource,
}

impl ResultColumn {
    /// A text column read from the response at `path`.
    pub fn text(name: &'static str, path: &'static str) -> Self {
        Self {
            name,
            ty: ColumnType::Text,
            source: ResultSource::Response(path),
        }
    }
    /// A column of type `ty` read from the response at `path`.
    pub fn typed(name: &'static str, ty: ColumnType, path: &'static str) -> Self {
        Self {
            name,
            ty,
            source: ResultSource::Response(path),
        }
    }
    /// A column that repeats the argument `param`.
    pub fn arg(name: &'static str, ty: ColumnType, param: &'static str) -> Self {
        Self {
            name,
            ty,
            source: ResultSource::Arg(param),
        }
    }
}

/// Builds the JSON body of a request from the bound arguments. An `Err` is a one-line message
/// about the arguments (checked before any request).
pub type BodyFn = fn(&Args) -> Result<Value, String>;
/// Checks arguments together (e.g. "exactly one of"); an `Err` is a one-line message.
pub type CheckFn = fn(&Args) -> Result<(), String>;
/// Reads what a preliminary GET returned into more arguments (e.g. an attribute id by name).
pub type ResolveFn = fn(&mut Args, &Value) -> Result<(), String>;

/// A preliminary read whose answer completes the arguments (UpdateTicketTypeAttribute finds
/// the attribute by name).
#[derive(Clone, Copy, Debug)]
pub struct ArgLookup {
    /// `GET` path template.
    pub path: &'static str,
    /// Adds arguments from the response, or explains what was not found.
    pub resolve: ResolveFn,
}

/// A procedure: everything needed to bind, send, describe and document one Intercom action.
#[derive(Clone, Debug)]
pub struct Procedure {
    /// SQL name for `CALL`, PascalCase (`ArchiveContact`).
    pub name: &'static str,
    /// Table-function name, snake_case (`archive_contact`).
    pub function_name: String,
    /// One or two sentences for `\procs`, the `procedures` table and the docs.
    pub description: &'static str,
    /// HTTP method (`*` for `intercom_api`, whose method is an argument).
    pub method: &'static str,
    /// Path template; `{param}` is replaced by the (URL-encoded) argument.
    pub path: &'static str,
    /// Parameters in positional order.
    pub params: Vec<Param>,
    /// Result columns before `response` (and before `ok`/`error` in bulk calls).
    pub columns: Vec<ResultColumn>,
    /// One example call, for the docs.
    pub example: &'static str,
    /// Builds the JSON body; `None` sends no body.
    pub body: Option<BodyFn>,
    /// Cross-parameter checks.
    pub check: Option<CheckFn>,
    /// A read made first to complete the arguments.
    pub lookup: Option<ArgLookup>,
    /// Repeating the request leaves the same state, so it is retried after a 5xx or a lost
    /// connection; other writes are retried only after a 429.
    pub idempotent: bool,
    /// The name of the procedure this one is an alias of (Skyvia's signatures).
    pub alias_of: Option<&'static str>,
    /// A shorter positional form: exactly this many positional arguments fill these
    /// parameters, in this order (Skyvia's two-argument `SnoozeConversation(id, until)`).
    pub short_form: Option<&'static [&'static str]>,
    /// A read sent again until its answer is done (an export job finishing): see [`Wait`].
    pub wait: Option<Wait>,
}

/// The parameter of a waiting procedure that bounds the wait, in seconds.
pub const WAIT_TIMEOUT: &str = "timeout_seconds";

/// How a waiting procedure knows it is done: the answer's `field` is one of `done`. It asks
/// again after 1 s, then 1.5 times longer each time up to 15 s, until the argument
/// `timeout_seconds` has passed; meanwhile it reports progress (the REPL shows it on a
/// terminal), and cancelling the statement ends the wait (not the job).
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    /// The answer's field holding the state (`status`).
    pub field: &'static str,
    /// The states that end the wait.
    pub done: &'static [&'static str],
}

impl Procedure {
    /// A procedure making `method path`, with no parameters yet.
    pub fn new(
        name: &'static str,
        description: &'static str,
        method: &'static str,
        path: &'static str,
    ) -> Self {
        Self {
            name,
            function_name: snake_case(name),
            description,
            method,
            path,
            params: Vec::new(),
            columns: Vec::new(),
            example: "",
            body: None,
            check: None,
            lookup: None,
            idempotent: false,
            alias_of: None,
            short_form: None,
            wait: None,
        }
    }
    /// Adds a parameter.
    pub fn param(mut self, param: Param) -> Self {
        self.params.push(param);
        self
    }
    /// Adds a result column.
    pub fn column(mut self, column: ResultColumn) -> Self {
        self.columns.push(column);
        self
    }
    /// Adds several result columns.
    pub fn columns(mut self, columns: impl IntoIterator<Item = ResultColumn>) -> Self {
        self.columns.extend(columns);
        self
    }
    /// Sets the body builder.
    pub fn body(mut self, body: BodyFn) -> Self {
        self.body = Some(body);
        self
    }
    /// Sets the cross-parameter check.
    pub fn check(mut self, check: CheckFn) -> Self {
        self.check = Some(check);
        self
    }
    /// Sets the preliminary lookup.
    pub fn lookup(mut self, path: &'static str, resolve: ResolveFn) -> Self {
        self.lookup = Some(ArgLookup { path, resolve });
        self
    }
    /// Marks the request as idempotent.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
    /// Sets the example call.
    pub fn example(mut self, example: &'static str) -> Self {
        self.example = example;
        self
    }
    /// Sends the (read) request again until the answer's `field` is one of `done`; the
    /// procedure must have an int parameter `timeout_seconds` (see [`Wait`]).
    pub fn waits_until(mut self, field: &'static str, done: &'static [&'static str]) -> Self {
        self.wait = Some(Wait { field, done });
        self
    }
    /// Declares a shorter positional form (see [`Procedure::short_form`]).
    pub fn short_form(mut self, params: &'static [&'static str]) -> Self {
        self.short_form = Some(params);
        self
    }
    /// Declares this procedure an alias of `other` (same request, other parameter order).
    pub fn alias_of(mut self, other: &'static str) -> Self {
        self.alias_of = Some(other);
        self
    }
    /// Overrides the table-function name (for `intercom_api`, already snake_case).
    pub(crate) fn function_name(mut self, name: &str) -> Self {
        self.function_name = name.to_string();
        self
    }

    /// `ArchiveContact(contact_id text)`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self.params.iter().map(Param::signature).collect();
        format!("{}({})", self.name, params.join(", "))
    }

    /// `POST /contacts/{contact_id}/archive`, with the lookup first when there is one.
    pub fn endpoint(&self) -> String {
        if self.method == "*" {
            return "any method and path, from the arguments".to_string();
        }
        let mut first = Vec::new();
        if let Some(admin) = self.params.iter().find(|p| p.token_admin) {
            first.push(format!("GET /me (when {} is not given)", admin.name));
        }
        if let Some(lookup) = &self.lookup {
            first.push(format!("GET {}", lookup.path));
        }
        first.push(format!("{} {}", self.method, self.path));
        first.join(" then ")
    }

    /// Number of required parameters.
    pub fn required_count(&self) -> usize {
        self.params.iter().filter(|p| p.required).count()
    }

    /// The parameter called `name` (case-insensitive).
    pub fn param_named(&self, name: &str) -> Option<(usize, &Param)> {
        self.params
            .iter()
            .enumerate()
            .find(|(_, p)| p.name.eq_ignore_ascii_case(name))
    }
}

/// `ArchiveContact` → `archive_contact`.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Procedure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.signature())
    }
}

/// The `{name}` placeholders of a path template.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let _ = super::path::fill_path(template, |name| {
        out.push(name.to_string());
        Ok::<_, ()>(String::new())
    });
    out
}

/// Body helper: an object of `key: argument` pairs for the arguments that are set.
pub fn fields(args: &Args, pairs: &[(&str, &str)]) -> Map<String, Value> {
    let mut map = Map::new();
    for (key, param) in pairs {
        if let Some(value) = args.get(param) {
            map.insert((*key).to_string(), value.clone());
        }
    }
    map
}

/// The tag the tag endpoints answer with, after the tagged object's id.
pub fn tag_columns(object: &'static str) -> Vec<ResultColumn> {
    vec![
        ResultColumn::arg(object, ColumnType::Text, object),
        ResultColumn::text("tag_id", "id"),
        ResultColumn::text("tag_name", "name"),
    ]
}

/// Problems in one action's declaration: no description or example, an example that does not
/// call it, parameters twice or undocumented, defaults outside the allowed values, path
/// placeholders without a parameter, result columns reading unknown arguments or using a
/// reserved name. `tables::validate_all` runs it for every table's actions.
pub fn validate(p: &Procedure) -> Vec<String> {
    let mut problems = Vec::new();
    if p.description.is_empty() || p.example.is_empty() {
        problems.push(format!("{} needs a description and an example", p.name));
    }
    if !p.example.contains(p.name) && !p.example.contains(&p.function_name) {
        problems.push(format!("{}: the example does not call it", p.name));
    }
    let provided: Vec<&str> = p.params.iter().map(|x| x.name).collect();
    let mut seen = Vec::new();
    for param in &p.params {
        if seen.contains(&param.name) {
            problems.push(format!("{}: parameter {} twice", p.name, param.name));
        }
        seen.push(param.name);
        if param.doc.is_empty() {
            problems.push(format!("{}: parameter {} has no doc", p.name, param.name));
        }
        if let Some(Value::String(d)) = &param.default
            && !param.allowed.is_empty()
            && !param.allowed.contains(&d.as_str())
        {
            problems.push(format!(
                "{}: default of {} is not allowed",
                p.name, param.name
            ));
        }
    }
    if p.wait.is_some()
        && (p.method != "GET"
            || !p
                .params
                .iter()
                .any(|x| x.name == WAIT_TIMEOUT && x.ty == ColumnType::Int))
    {
        problems.push(format!(
            "{}: a waiting procedure is a GET with an int parameter {WAIT_TIMEOUT}",
            p.name
        ));
    }
    let lookup_path = p.lookup.map(|l| l.path).unwrap_or("");
    for template in [p.path, lookup_path] {
        for placeholder in placeholders(template) {
            let from_lookup = p.lookup.is_some() && !lookup_path.contains(&placeholder);
            if !provided.contains(&placeholder.as_str()) && !from_lookup {
                problems.push(format!(
                    "{}: {{{placeholder}}} in {template} is not a parameter",
                    p.name
                ));
            }
        }
    }
    for column in &p.columns {
        if let ResultSource::Arg(arg) = column.source
            && !provided.contains(&arg)
        {
            problems.push(format!(
                "{}: column {} reads unknown argument {arg}",
                p.name, column.name
            ));
        }
        if ["response", "ok", "error"].contains(&column.name) {
            problems.push(format!(
                "{}: column name {} is reserved",
                p.name, column.name
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_action_is_reported() {
        let broken = Procedure::new("TagThing", "", "POST", "/things/{thing_id}/tags")
            .param(Param::text("tag_id", ""))
            .column(ResultColumn::arg("thing", ColumnType::Text, "thing_id"))
            .example("CALL Other()");
        let problems = validate(&broken);
        for expected in [
            "TagThing needs a description and an example",
            "TagThing: the example does not call it",
            "TagThing: parameter tag_id has no doc",
            "TagThing: {thing_id} in /things/{thing_id}/tags is not a parameter",
            "TagThing: column thing reads unknown argument thing_id",
        ] {
            assert!(
                problems.iter().any(|p| p == expected),
                "{expected}: {problems:?}"
            );
        }
    }
}
