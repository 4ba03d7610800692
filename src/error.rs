//! The crate's error type and the one place that turns any failure into the single line a user
//! reads (REPL, CLI) — with Intercom API errors dug out of DataFusion's wrapping.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

use crate::client::ClientError;
use crate::dml::DmlError;
use crate::limits::LimitError;
use crate::procedures::ProcedureError;

/// Anything that can fail in intercom-sql.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Planning or execution failed in DataFusion (this includes scans' Intercom errors,
    /// wrapped as external errors; [`Error::user_message`] unwraps them).
    #[error(transparent)]
    DataFusion(Box<DataFusionError>),
    /// Talking to Intercom failed outside a query.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A procedure call was refused or failed (`CALL`, outside DataFusion's planning).
    #[error(transparent)]
    Procedure(#[from] ProcedureError),
    /// A table the statement names does not exist.
    #[error("table '{name}' not found; {}", nearest(suggestion.as_deref(), "\\dt lists the tables"))]
    UnknownTable {
        /// The name as resolved (`intercom.public.contacs`).
        name: String,
        /// The nearest Intercom table, if one is close.
        suggestion: Option<String>,
    },
    /// A table function the statement calls does not exist.
    #[error("table function '{name}' not found; {}", nearest(suggestion.as_deref(), "\\procs lists the procedures"))]
    UnknownTableFunction {
        /// The name as written.
        name: String,
        /// The nearest procedure's table-function name, if one is close.
        suggestion: Option<String>,
    },
    /// SQL that could not even be split into statements.
    #[error("SQL error: {0}")]
    Sql(String),
    /// Bad command-line or configuration input.
    #[error("{0}")]
    Config(String),
    /// A statement or query went past a limit (statement size or depth, memory).
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// Reading a file or writing output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// `did you mean x?`, or where to look.
fn nearest(suggestion: Option<&str>, otherwise: &str) -> String {
    match suggestion {
        Some(name) => format!("did you mean {name}?"),
        None => otherwise.to_string(),
    }
}

impl Error {
    /// The message for the person who typed the SQL: one line, the innermost useful cause.
    pub fn user_message(&self) -> String {
        let text = match self {
            Error::DataFusion(e) => datafusion_message(e),
            other => other.to_string(),
        };
        one_line(&text)
    }

    /// The Intercom client error inside this error, if there is one.
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            Error::Client(e) => Some(e),
            Error::Procedure(ProcedureError::Request { source, .. }) => Some(source),
            Error::DataFusion(e) => {
                find_client_error(e).or_else(|| match find_procedure_error(e) {
                    Some(ProcedureError::Request { source, .. }) => Some(source),
                    _ => None,
                })
            }
            _ => None,
        }
    }

    /// The limit this error reports, if it reports one.
    pub fn limit_error(&self) -> Option<&LimitError> {
        match self {
            Error::Limit(e) => Some(e),
            Error::DataFusion(e) => find_external::<LimitError>(e),
            _ => None,
        }
    }

    /// The INSERT/UPDATE/DELETE error inside this error, if there is one.
    pub fn dml_error(&self) -> Option<&DmlError> {
        match self {
            Error::DataFusion(e) => find_external(e),
            _ => None,
        }
    }

    /// The procedure error inside this error, if there is one.
    pub fn procedure_error(&self) -> Option<&ProcedureError> {
        match self {
            Error::Procedure(e) => Some(e),
            Error::DataFusion(e) => find_procedure_error(e),
            _ => None,
        }
    }
}

/// Finds an error of type `T` wrapped (possibly several times) inside a DataFusion error.
pub fn find_external<T: std::error::Error + 'static>(e: &DataFusionError) -> Option<&T> {
    match e {
        DataFusionError::External(inner) => inner.downcast_ref::<T>(),
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            find_external(inner)
        }
        DataFusionError::Shared(inner) => find_external(inner),
        _ => None,
    }
}

/// Finds a [`ProcedureError`] wrapped inside a DataFusion error.
pub fn find_procedure_error(e: &DataFusionError) -> Option<&ProcedureError> {
    find_external(e)
}

/// Finds a [`ClientError`] wrapped (possibly several times) inside a DataFusion error.
pub fn find_client_error(e: &DataFusionError) -> Option<&ClientError> {
    find_external(e)
}

fn datafusion_message(e: &DataFusionError) -> String {
    if let Some(client) = find_client_error(e) {
        return client.to_string();
    }
    if let Some(procedure) = find_procedure_error(e) {
        return procedure.to_string();
    }
    if let Some(write) = find_external::<DmlError>(e) {
        return write.to_string();
    }
    if let Some(limit) = find_external::<LimitError>(e) {
        return limit.to_string();
    }
    match e {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            datafusion_message(inner)
        }
        DataFusionError::Shared(inner) => datafusion_message(inner),
        DataFusionError::ArrowError(inner, _) => format!("Arrow error: {inner}"),
        // A wide table's every column would fill the screen: name the missing one only.
        DataFusionError::SchemaError(inner, _) => match inner.as_ref() {
            datafusion::common::SchemaError::FieldNotFound {
                field,
                valid_fields,
            } if valid_fields.len() > 10 => format!(
                "Schema error: No field named {}. Run \\d <table> to list its columns.",
                field.quoted_flat_name()
            ),
            _ => e.strip_backtrace(),
        },
        // Our pools and function caps word their refusals in full ("out of memory: …").
        DataFusionError::ResourcesExhausted(message) if message.starts_with("out of memory") => {
            message.clone()
        }
        DataFusionError::SQL(inner, _) => match inner.as_ref() {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => {
                format!("syntax error: {m}")
            }
            other => format!("syntax error: {other}"),
        },
        other => other.strip_backtrace(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Error {
    /// An error back from work that had to return a DataFusion error (the query runtime):
    /// our own error carried inside it comes out as it was, keeping its SQLSTATE.
    pub fn from_carried(error: DataFusionError) -> Self {
        match error {
            DataFusionError::External(inner) => match inner.downcast::<Error>() {
                Ok(ours) => *ours,
                Err(other) => Error::from(DataFusionError::External(other)),
            },
            other => Error::from(other),
        }
    }
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        Error::DataFusion(Box::new(e))
    }
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io {
            context: "I/O error".to_string(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ApiError;
    use std::sync::Arc;

    #[test]
    fn api_errors_surface_through_datafusion_wrapping() {
        let api = ApiError::from_body(
            401,
            "GET /contacts".into(),
            br#"{"type":"error.list","request_id":"r1","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}"#,
        );
        let df = DataFusionError::Context(
            "scanning contacts".into(),
            Box::new(DataFusionError::Shared(Arc::new(
                DataFusionError::External(Box::new(ClientError::Api(Box::new(api)))),
            ))),
        );
        let e = Error::from(df);
        let msg = e.user_message();
        assert!(
            msg.starts_with("Intercom API 401 unauthorized: Access Token Invalid"),
            "{msg}"
        );
        assert!(e.client_error().is_some());
    }

    #[test]
    fn unknown_tables_get_the_nearest_name() {
        let e = Error::UnknownTable {
            name: "intercom.public.contactz".into(),
            suggestion: crate::tables::suggest("contactz").map(|t| t.name.clone()),
        };
        assert_eq!(
            e.user_message(),
            "table 'intercom.public.contactz' not found; did you mean contacts?"
        );
        let e = Error::UnknownTable {
            name: "intercom.public.zzzzzzzzzz".into(),
            suggestion: crate::tables::suggest("zzzzzzzzzz").map(|t| t.name.clone()),
        };
        assert!(
            e.user_message().ends_with("\\dt lists the tables"),
            "{}",
            e.user_message()
        );
        assert_eq!(crate::suggest::edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn long_field_lists_are_cut() {
        use datafusion::common::{Column, SchemaError};
        let valid_fields = (0..40)
            .map(|i| Column::new(Some("contacts"), format!("field_{i}")))
            .collect();
        let e = Error::from(DataFusionError::SchemaError(
            Box::new(SchemaError::FieldNotFound {
                field: Box::new(Column::new_unqualified("nope")),
                valid_fields,
            }),
            Box::new(None),
        ));
        assert_eq!(
            e.user_message(),
            "Schema error: No field named nope. Run \\d <table> to list its columns."
        );
    }

    #[test]
    fn syntax_errors_read_as_such() {
        let e = Error::from(DataFusionError::SQL(
            Box::new(ParserError::ParserError(
                "Expected: an SQL statement, found: selec".into(),
            )),
            None,
        ));
        assert_eq!(
            e.user_message(),
            "syntax error: Expected: an SQL statement, found: selec"
        );
    }

    #[test]
    fn planning_errors_are_one_line() {
        let e = Error::from(DataFusionError::Plan("column x is\nambiguous".into()));
        assert_eq!(
            e.user_message(),
            "Error during planning: column x is ambiguous"
        );
    }
}
