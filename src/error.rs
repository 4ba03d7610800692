//! The crate's error type and the one place that turns any failure into the single line a user
//! reads (REPL, CLI) — with Intercom API errors dug out of DataFusion's wrapping.

use datafusion::error::DataFusionError;

use crate::client::ClientError;

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
    /// SQL that could not even be split into statements.
    #[error("SQL error: {0}")]
    Sql(String),
    /// Bad command-line or configuration input.
    #[error("{0}")]
    Config(String),
    /// Reading a file or writing output failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
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
            Error::DataFusion(e) => find_client_error(e),
            _ => None,
        }
    }
}

/// Finds a [`ClientError`] wrapped (possibly several times) inside a DataFusion error.
pub fn find_client_error(e: &DataFusionError) -> Option<&ClientError> {
    match e {
        DataFusionError::External(inner) => inner.downcast_ref::<ClientError>(),
        DataFusionError::Context(_, inner) => find_client_error(inner),
        DataFusionError::Shared(inner) => find_client_error(inner),
        DataFusionError::Diagnostic(_, inner) => find_client_error(inner),
        _ => None,
    }
}

fn datafusion_message(e: &DataFusionError) -> String {
    if let Some(client) = find_client_error(e) {
        return client.to_string();
    }
    match e {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            datafusion_message(inner)
        }
        DataFusionError::Shared(inner) => datafusion_message(inner),
        DataFusionError::ArrowError(inner, _) => format!("Arrow error: {inner}"),
        other => other.strip_backtrace(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
    fn planning_errors_are_one_line() {
        let e = Error::from(DataFusionError::Plan("table 'x' not found\nmore".into()));
        assert_eq!(
            e.user_message(),
            "Error during planning: table 'x' not found more"
        );
    }
}
