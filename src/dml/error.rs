//! Why an INSERT, UPDATE or DELETE was refused or did not finish. Messages are one line, name
//! the statement, and say what to change.

use datafusion::error::DataFusionError;

/// A refused or failed write statement.
#[derive(Debug, thiserror::Error)]
pub enum DmlError {
    /// A statement form or target that cannot be written (with what to write instead).
    #[error("{0}")]
    Unsupported(String),
    /// A row whose values cannot become a request (found before any request is sent).
    #[error("{0}")]
    Row(String),
    /// The session is read-only.
    #[error("intercom-sql is read-only (--read-only); {statement} was not run")]
    ReadOnly {
        /// `UPDATE contacts`, …
        statement: String,
    },
    /// The statement would act on more rows than `intercom.max_write_rows`.
    #[error(
        "{statement} would act on more than intercom.max_write_rows ({limit}) rows (at least {rows}); nothing was sent. Narrow the statement, or allow it for this session with SET intercom.max_write_rows = <rows>"
    )]
    TooManyRows {
        /// `UPDATE contacts`, …
        statement: String,
        /// Rows read before stopping (more than the limit).
        rows: usize,
        /// The limit in force.
        limit: u64,
    },
    /// Some rows were written but not all: which were, which were not, why.
    #[error("{0}")]
    Partial(String),
}

impl DmlError {
    /// The PostgreSQL SQLSTATE for this error, for the pgwire server.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            DmlError::Unsupported(_) => "0A000",
            DmlError::Row(_) => "22023",
            DmlError::ReadOnly { .. } => "25006",
            DmlError::TooManyRows { .. } => "54000",
            DmlError::Partial(_) => "58000",
        }
    }
}

/// `e` carried through DataFusion (found again by `crate::error::find_external`).
pub(super) fn external(e: DmlError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
