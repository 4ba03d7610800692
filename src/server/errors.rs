//! The one place a failure becomes a PostgreSQL `ErrorResponse`: the user-facing text of
//! [`Error::user_message`] plus a SQLSTATE a client can branch on.
//!
//! SQLSTATE mapping (first match wins):
//!
//! | Failure | SQLSTATE |
//! |---|---|
//! | procedure error (`CALL …`, `archive_contact(…)`), not an API error | [`crate::procedures::ProcedureError::sqlstate`]: unknown 42883, arguments 22023, read-only 25006, too many rows 54000, unsupported 0A000, not found 42704 |
//! | INSERT/UPDATE/DELETE error, not an API error | [`crate::dml::DmlError::sqlstate`]: bad row value 22023, read-only 25006, too many rows 54000, unsupported 0A000, partly written 58000 |
//! | Intercom API 401 (token refused) | 28000 invalid_authorization_specification |
//! | Intercom API 403 | 42501 insufficient_privilege |
//! | Intercom API 404 | P0002 no_data_found |
//! | Intercom API 429 after retries | 53400 configuration_limit_exceeded |
//! | Intercom API 5xx | 58000 system_error |
//! | other Intercom API 4xx (400, 409, 422, …) | 22023 invalid_parameter_value |
//! | Intercom unreachable (transport, timeout) | 58030 io_error |
//! | Intercom answer not understood, cursor loop | 58000 system_error |
//! | write refused by `--read-only` | 25006 read_only_sql_transaction |
//! | the company scroll held by another read / expired mid-read | 55006 object_in_use / 55000 object_not_in_prerequisite_state |
//! | SQL syntax | 42601 syntax_error |
//! | unknown table | 42P01 undefined_table |
//! | unknown column | 42703 undefined_column |
//! | ambiguous column | 42702 ambiguous_column |
//! | unknown (table) function | 42883 undefined_function |
//! | other planning errors | 42000 syntax_error_or_access_rule_violation |
//! | not implemented by DataFusion | 0A000 feature_not_supported |
//! | division by zero | 22012 division_by_zero |
//! | memory limit (`--max-query-memory`, `--max-memory`, one function call) | 53200 out_of_memory |
//! | statement nests too deep or has too many expressions | 54001 statement_too_complex |
//! | statement text too long | 54000 program_limit_exceeded |
//! | `SET` of an unknown or bad setting | 22023 invalid_parameter_value |
//! | other execution errors | 22000 data_exception |
//! | internal errors and panics | XX000 internal_error |
//!
//! Server-side refusals use: 42501 for local files (`COPY … TO`, `CREATE EXTERNAL TABLE`)
//! without `--allow-files`, 25006 for writes under `--read-only`, 57014 for a cancelled
//! query, 28P01 for a wrong password and 28000 for a plaintext client when TLS is required.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError};

use crate::client::ClientError;
use crate::error::Error;
use crate::limits::runtime::panic_message;

/// The SQLSTATE for `error` (see the module table).
pub fn sqlstate(error: &Error) -> &'static str {
    if let Some(client) = error.client_error() {
        return client_sqlstate(client);
    }
    if let Some(procedure) = error.procedure_error() {
        return procedure.sqlstate();
    }
    if let Some(write) = error.dml_error() {
        return write.sqlstate();
    }
    if let Some(limit) = error.limit_error() {
        return limit.sqlstate();
    }
    match error {
        Error::DataFusion(e) => datafusion_sqlstate(e),
        Error::Sql(_) => "42601",
        Error::UnknownTable { .. } => "42P01",
        Error::UnknownTableFunction { .. } => "42883",
        Error::Config(_) => "22023",
        Error::Io { .. } => "58030",
        Error::Client(c) => client_sqlstate(c),
        Error::Procedure(p) => p.sqlstate(),
        Error::Limit(l) => l.sqlstate(),
    }
}

/// SQLSTATE of an Intercom client error.
pub fn client_sqlstate(error: &ClientError) -> &'static str {
    match error {
        ClientError::Api(api) => match api.status {
            401 => "28000",
            403 => "42501",
            404 => "P0002",
            429 => "53400",
            500..=599 => "58000",
            _ => "22023",
        },
        ClientError::Transport { .. } => "58030",
        ClientError::ReadOnly { .. } => "25006",
        ClientError::ScrollBusy { .. } => "55006",
        ClientError::ScrollExpired { .. } => "55000",
        ClientError::Config(_) => "22023",
        _ => "58000",
    }
}

fn datafusion_sqlstate(error: &DataFusionError) -> &'static str {
    match error {
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            datafusion_sqlstate(inner)
        }
        DataFusionError::Shared(inner) => datafusion_sqlstate(inner),
        DataFusionError::Collection(errors) => {
            errors.first().map(datafusion_sqlstate).unwrap_or("XX000")
        }
        DataFusionError::External(inner) => match inner.downcast_ref::<DataFusionError>() {
            Some(inner) => datafusion_sqlstate(inner),
            None => "XX000",
        },
        DataFusionError::SQL(inner, _) => match inner.as_ref() {
            ParserError::RecursionLimitExceeded => "54001",
            _ => "42601",
        },
        DataFusionError::SchemaError(inner, _) => {
            use datafusion::common::SchemaError;
            match inner.as_ref() {
                SchemaError::FieldNotFound { .. } => "42703",
                SchemaError::AmbiguousReference { .. } => "42702",
                _ => "42000",
            }
        }
        DataFusionError::Plan(message) => plan_sqlstate(message),
        DataFusionError::NotImplemented(_) => "0A000",
        DataFusionError::ResourcesExhausted(_) => "53200",
        DataFusionError::Configuration(_) => "22023",
        DataFusionError::Execution(message) if message.contains("Divide by zero") => "22012",
        DataFusionError::ArrowError(inner, _) if inner.to_string().contains("Divide by zero") => {
            "22012"
        }
        DataFusionError::Execution(_) | DataFusionError::ArrowError(..) => "22000",
        DataFusionError::Internal(_) | DataFusionError::ExecutionJoin(_) => "XX000",
        DataFusionError::IoError(_) | DataFusionError::ObjectStore(_) => "58030",
        _ => "XX000",
    }
}

/// Planning errors arrive as text; DataFusion words the common ones consistently.
fn plan_sqlstate(message: &str) -> &'static str {
    if message.contains("table function") && message.contains("not found") {
        "42883"
    } else if message.starts_with("table '") && message.contains("' not found") {
        "42P01"
    } else if message.contains("No field named") {
        "42703"
    } else if message.contains("Invalid function") || message.contains("No function matches") {
        "42883"
    } else {
        "42000"
    }
}

/// `error` as the `ErrorResponse` a client receives: its SQLSTATE and one-line message.
pub fn to_pgwire(error: &Error) -> PgWireError {
    user_error(sqlstate(error), error.user_message())
}

/// A DataFusion error as a client-facing error.
pub fn from_datafusion(error: DataFusionError) -> PgWireError {
    to_pgwire(&Error::from(error))
}

/// An `ERROR` with this SQLSTATE and message.
pub fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        code.to_string(),
        message.into(),
    )))
}

/// A `FATAL` error: the server closes the connection after sending it.
pub fn fatal_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        code.to_string(),
        message.into(),
    )))
}

/// The error a query that panicked returns: the connection and the server carry on.
pub fn panic_error(payload: &(dyn std::any::Any + Send)) -> PgWireError {
    user_error("XX000", panic_message(payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ApiError;

    fn api(status: u16) -> Error {
        Error::Client(ClientError::Api(Box::new(ApiError::from_body(
            status,
            "GET /contacts".into(),
            b"",
        ))))
    }

    #[test]
    fn intercom_statuses_map_to_documented_sqlstates() {
        let got: Vec<_> = [401, 403, 404, 429, 500, 503, 400, 422]
            .into_iter()
            .map(|s| sqlstate(&api(s)))
            .collect();
        assert_eq!(
            got,
            [
                "28000", "42501", "P0002", "53400", "58000", "58000", "22023", "22023"
            ]
        );
    }

    #[test]
    fn planning_errors_map_by_kind() {
        let plan = |m: &str| sqlstate(&Error::from(DataFusionError::Plan(m.into())));
        assert_eq!(plan("table 'intercom.public.nope' not found"), "42P01");
        assert_eq!(plan("table function 'nope' not found"), "42883");
        assert_eq!(plan("something else"), "42000");
        let syntax = Error::from(DataFusionError::SQL(
            Box::new(ParserError::ParserError("Expected: x".into())),
            None,
        ));
        assert_eq!(sqlstate(&syntax), "42601");
        let nested = Error::from(DataFusionError::Context(
            "scanning".into(),
            Box::new(DataFusionError::External(Box::new(
                crate::procedures::ProcedureError::Arguments("bad".into()),
            ))),
        ));
        assert_eq!(sqlstate(&nested), "22023");
    }
}
