//! Procedures: Intercom actions (archive a contact, reply to a conversation, …) called as
//! `CALL ArchiveContact('…')`, as the table function `archive_contact('…')`, or in bulk as
//! `FROM contacts c, LATERAL archive_contact(c.id)`.
//!
//! Each procedure is a [`Procedure`] value declared as data in one of the resource files
//! (`contacts.rs`, `conversations.rs`, …): SQL name, typed and documented parameters, the request
//! it makes and the result columns it reads out of the response. Everything else is generic:
//! [`bind`] checks arguments before any request, [`run`] sends the request, [`plan`] and
//! [`exec`] plug procedures into DataFusion, [`catalog`] describes them as tables and docs.

pub mod bind;
pub mod catalog;
mod contacts;
mod conversations;
pub mod exec;
mod messages;
pub mod plan;
mod raw;
pub mod run;
mod tickets;
mod workspace;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::client::ClientError;

pub use bind::Args;
pub use plan::register;

/// SQL type of a parameter or a result column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamType {
    /// Text. Integers are accepted too (ids are often typed as numbers).
    Text,
    /// 64-bit integer. Numeric text is accepted too.
    Int,
    /// Boolean. `'true'`/`'false'` text and 0/1 are accepted too.
    Bool,
    /// A point in time, sent to Intercom as Unix seconds. Accepts timestamps, ISO-8601 text
    /// (`'2026-03-01T09:00:00Z'`, `'2026-03-01'`) and integers (Unix seconds).
    Timestamp,
    /// JSON, written as text (`'{"plan": "pro"}'`).
    Json,
}

impl ParamType {
    /// The SQL spelling shown in signatures.
    pub fn sql_name(self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::Int => "bigint",
            ParamType::Bool => "boolean",
            ParamType::Timestamp => "timestamp",
            ParamType::Json => "json",
        }
    }
}

/// One parameter of a procedure.
#[derive(Clone, Debug)]
pub struct Param {
    /// Name, used for named arguments (`name => value`).
    pub name: &'static str,
    /// SQL type.
    pub ty: ParamType,
    /// A required parameter must be given and must not be NULL.
    pub required: bool,
    /// Value used when an optional parameter is omitted or NULL.
    pub default: Option<Value>,
    /// One line for the person calling the procedure.
    pub doc: &'static str,
    /// Allowed values of a text parameter (empty: any). Matched case-insensitively and sent
    /// spelled as declared.
    pub allowed: &'static [&'static str],
}

impl Param {
    fn new(name: &'static str, ty: ParamType, doc: &'static str) -> Self {
        Self {
            name,
            ty,
            required: true,
            default: None,
            doc,
            allowed: &[],
        }
    }
    /// A required text parameter.
    pub fn text(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamType::Text, doc)
    }
    /// A required integer parameter.
    pub fn int(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamType::Int, doc)
    }
    /// A required boolean parameter.
    pub fn bool(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamType::Bool, doc)
    }
    /// A required timestamp parameter.
    pub fn timestamp(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamType::Timestamp, doc)
    }
    /// A required JSON parameter.
    pub fn json(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, ParamType::Json, doc)
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
pub enum Source {
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
    pub ty: ParamType,
    /// Where the value comes from.
    pub source: Source,
}

impl ResultColumn {
    /// A text column read from the response at `path`.
    pub fn text(name: &'static str, path: &'static str) -> Self {
        Self {
            name,
            ty: ParamType::Text,
            source: Source::Response(path),
        }
    }
    /// A column of type `ty` read from the response at `path`.
    pub fn typed(name: &'static str, ty: ParamType, path: &'static str) -> Self {
        Self {
            name,
            ty,
            source: Source::Response(path),
        }
    }
    /// A column that repeats the argument `param`.
    pub fn arg(name: &'static str, ty: ParamType, param: &'static str) -> Self {
        Self {
            name,
            ty,
            source: Source::Arg(param),
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
pub struct Lookup {
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
    pub lookup: Option<Lookup>,
    /// Repeating the request leaves the same state, so it is retried after a 5xx or a lost
    /// connection; other writes are retried only after a 429.
    pub idempotent: bool,
    /// The name of the procedure this one is an alias of (Skyvia's signatures).
    pub alias_of: Option<&'static str>,
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
        self.lookup = Some(Lookup { path, resolve });
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
    /// Declares this procedure an alias of `other` (same request, other parameter order).
    pub fn alias_of(mut self, other: &'static str) -> Self {
        self.alias_of = Some(other);
        self
    }
    /// Overrides the table-function name (for `intercom_api`, already snake_case).
    fn function_name(mut self, name: &str) -> Self {
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
        match &self.lookup {
            Some(lookup) => format!("GET {} then {} {}", lookup.path, self.method, self.path),
            None => format!("{} {}", self.method, self.path),
        }
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
fn snake_case(name: &str) -> String {
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

static REGISTRY: LazyLock<Vec<Procedure>> = LazyLock::new(|| {
    let mut all = Vec::new();
    all.extend(contacts::procedures());
    all.extend(conversations::procedures());
    all.extend(messages::procedures());
    all.extend(tickets::procedures());
    all.extend(workspace::procedures());
    all.extend(raw::procedures());
    all
});

/// Every procedure, in declaration order (grouped by resource).
pub fn all() -> &'static [Procedure] {
    &REGISTRY
}

/// The procedure called `name`: its CALL name or its table-function name, case-insensitive.
pub fn find(name: &str) -> Option<&'static Procedure> {
    all()
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name) || p.function_name.eq_ignore_ascii_case(name))
}

/// The procedure whose name is nearest to `name`, if one is close enough to be a typo.
pub fn suggest(name: &str) -> Option<&'static Procedure> {
    let wanted = squash(name);
    all()
        .iter()
        .map(|p| (crate::error::edit_distance(&wanted, &squash(p.name)), p))
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, _)| *distance <= 3.max(wanted.len() / 4))
        .map(|(_, p)| p)
}

/// Lower case without underscores, so `archive_contacts` is near `ArchiveContact`.
fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Why a procedure could not be called. Messages are one line, name the procedure, and say
/// what to change.
#[derive(Debug, thiserror::Error)]
pub enum ProcedureError {
    /// No procedure has this name.
    #[error("{}", unknown_message(name, *suggestion))]
    Unknown {
        /// The name as written.
        name: String,
        /// The nearest procedure name.
        suggestion: Option<&'static str>,
    },
    /// Wrong number, names, types or values of arguments (found before any request).
    #[error("{0}")]
    Arguments(String),
    /// The session is read-only.
    #[error("intercom-sql is read-only (--read-only); CALL {procedure} was not run")]
    ReadOnly {
        /// CALL name.
        procedure: &'static str,
    },
    /// A bulk call would act on more rows than `intercom.max_write_rows`.
    #[error(
        "{procedure} would run for more than intercom.max_write_rows ({limit}) rows (at least {rows}); nothing was sent. Narrow the query, or allow it for this session with SET intercom.max_write_rows = <rows>"
    )]
    TooManyRows {
        /// CALL name.
        procedure: &'static str,
        /// Rows read before stopping (more than the limit).
        rows: usize,
        /// The limit in force.
        limit: u64,
    },
    /// A SQL form procedures do not support (with what to write instead).
    #[error("{0}")]
    Unsupported(String),
    /// Intercom answered with an error, or could not be reached.
    #[error("{procedure}: {source}")]
    Request {
        /// CALL name.
        procedure: &'static str,
        /// The client's error.
        source: ClientError,
    },
    /// Intercom's answer lacked something the procedure needs (e.g. the named attribute).
    #[error("{0}")]
    NotFound(String),
    /// INSERT/UPDATE/DELETE on a read-only session.
    #[error("intercom-sql is read-only (--read-only); {statement} was not run")]
    WriteReadOnly {
        /// `UPDATE contacts`, …
        statement: String,
    },
    /// INSERT/UPDATE/DELETE acting on more rows than `intercom.max_write_rows`.
    #[error(
        "{statement} would act on more than intercom.max_write_rows ({limit}) rows (at least {rows}); nothing was sent. Narrow the statement, or allow it for this session with SET intercom.max_write_rows = <rows>"
    )]
    TooManyWriteRows {
        /// `UPDATE contacts`, …
        statement: String,
        /// Rows read before stopping (more than the limit).
        rows: usize,
        /// The limit in force.
        limit: u64,
    },
    /// INSERT/UPDATE/DELETE that wrote some rows but not all: which were, which were not, why.
    #[error("{0}")]
    PartialWrite(String),
}

fn unknown_message(name: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        Some(nearest) => {
            format!("procedure {name} does not exist; did you mean {nearest}? (\\procs lists them)")
        }
        None => format!("procedure {name} does not exist; \\procs lists the procedures"),
    }
}

impl ProcedureError {
    /// The error for an unknown procedure name, with the nearest name.
    pub fn unknown(name: &str) -> Self {
        ProcedureError::Unknown {
            name: name.to_string(),
            suggestion: suggest(name).map(|p| p.name),
        }
    }

    /// The PostgreSQL SQLSTATE for this error, for the pgwire server.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            ProcedureError::Unknown { .. } => "42883",
            ProcedureError::Arguments(_) => "22023",
            ProcedureError::ReadOnly { .. } => "25006",
            ProcedureError::TooManyRows { .. } => "54000",
            ProcedureError::Unsupported(_) => "0A000",
            ProcedureError::Request { source, .. } => match source.status() {
                Some(401) => "28000",
                _ => "58000",
            },
            ProcedureError::NotFound(_) => "42704",
            ProcedureError::WriteReadOnly { .. } => "25006",
            ProcedureError::TooManyWriteRows { .. } => "54000",
            ProcedureError::PartialWrite(_) => "58000",
        }
    }

    /// Whether a bulk call should stop after this error rather than try the next rows: every
    /// following row would fail the same way (see [`ClientError::dooms_following_requests`]).
    pub fn stops_bulk(&self) -> bool {
        match self {
            ProcedureError::Request { source, .. } => source.dooms_following_requests(),
            ProcedureError::ReadOnly { .. } | ProcedureError::WriteReadOnly { .. } => true,
            _ => false,
        }
    }
}

impl fmt::Display for Procedure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.signature())
    }
}

/// Problems in the registry itself: duplicate names, path placeholders without a parameter,
/// result columns reading unknown arguments, defaults outside the allowed values. Reports all
/// at once; runs in a unit test.
pub fn validate_all() -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let mut names = BTreeMap::new();
    for p in all() {
        for key in [p.name.to_ascii_lowercase(), p.function_name.clone()] {
            if let Some(other) = names.insert(key.clone(), p.name)
                && other != p.name
            {
                problems.push(format!("{} and {other} share the name {key}", p.name));
            }
        }
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
            if let Source::Arg(arg) = column.source
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
        if let Some(target) = p.alias_of
            && find(target).is_none_or(|t| t.alias_of.is_some())
        {
            problems.push(format!("{}: alias of unknown {target}", p.name));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The `{name}` placeholders of a path template.
pub(crate) fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let _ = crate::client::fill_path(template, |name| {
        out.push(name.to_string());
        Ok::<_, ()>(String::new())
    });
    out
}

/// Body helper: an object of `key: argument` pairs for the arguments that are set.
pub(crate) fn fields(args: &Args, pairs: &[(&str, &str)]) -> Map<String, Value> {
    let mut map = Map::new();
    for (key, param) in pairs {
        if let Some(value) = args.get(param) {
            map.insert((*key).to_string(), value.clone());
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_consistent() {
        if let Err(problems) = validate_all() {
            panic!("procedure registry problems:\n{}", problems.join("\n"));
        }
    }

    #[test]
    fn names_are_found_case_insensitively_in_both_spellings() {
        assert_eq!(find("archivecontact").unwrap().name, "ArchiveContact");
        assert_eq!(find("ARCHIVE_CONTACT").unwrap().name, "ArchiveContact");
        assert_eq!(find("intercom_api").unwrap().function_name, "intercom_api");
        assert!(find("archive").is_none());
        assert_eq!(
            snake_case("AdminReplyToConversation"),
            "admin_reply_to_conversation"
        );
    }

    #[test]
    fn unknown_names_suggest_the_nearest() {
        let e = ProcedureError::unknown("archivecontacts");
        assert_eq!(
            e.to_string(),
            "procedure archivecontacts does not exist; did you mean ArchiveContact? (\\procs lists them)"
        );
        let e = ProcedureError::unknown("frobnicate_everything_now");
        assert!(
            e.to_string().ends_with("\\procs lists the procedures"),
            "{e}"
        );
    }

    #[test]
    fn signatures_show_types_and_defaults() {
        let p = find("SubscribeContact").unwrap();
        assert_eq!(
            p.signature(),
            "SubscribeContact(contact_id text, subscription_type_id text, consent_type text = 'opt_in')"
        );
        assert_eq!(placeholders("/a/{x}/b/{y}"), vec!["x", "y"]);
    }
}
