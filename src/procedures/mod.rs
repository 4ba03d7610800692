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
mod custom_objects;
pub mod exec;
mod fin;
mod messages;
pub mod plan;
mod raw;
pub mod run;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::client::ClientError;

pub use crate::tables::action::{
    ArgLookup, Args, ColumnType, Param, Procedure, ResultColumn, ResultSource, fields, placeholders,
};
pub use plan::register;

/// Names of the columns every call adds after the procedure's own.
pub const RESPONSE: &str = "response";
/// `ok` and `error`: added to bulk (LATERAL) calls, which report failures row by row.
pub const OK: &str = "ok";
/// See [`OK`].
pub const ERROR: &str = "error";

/// Every procedure: each table's actions (in table order), then those that belong to no
/// table (messages, workspace, the raw `intercom_api`).
static REGISTRY: LazyLock<Vec<Procedure>> = LazyLock::new(|| {
    let mut all: Vec<Procedure> = crate::tables::all()
        .iter()
        .flat_map(|t| t.actions.iter().cloned())
        .collect();
    all.extend(messages::procedures());
    all.extend(fin::procedures());
    all.extend(custom_objects::procedures());
    all.extend(raw::procedures());
    all
});

/// Every procedure, grouped by table.
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
    let max_distance = 3.max(wanted.len() / 4);
    crate::suggest::nearest(&wanted, all(), |p| squash(p.name), max_distance)
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
    /// A wait ended before the job did (`timeout_seconds`).
    #[error("{0}")]
    TimedOut(String),
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
            ProcedureError::TimedOut(_) => "57014",
        }
    }

    /// Whether a bulk call should stop after this error rather than try the next rows: every
    /// following row would fail the same way (see [`ClientError::dooms_following_requests`]).
    pub fn stops_bulk(&self) -> bool {
        match self {
            ProcedureError::Request { source, .. } => source.dooms_following_requests(),
            ProcedureError::ReadOnly { .. } => true,
            _ => false,
        }
    }
}

/// Wraps a procedure error for DataFusion; `Error::user_message` unwraps it again.
pub(crate) fn external(e: ProcedureError) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(e))
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
        problems.extend(crate::tables::action::validate(p));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::action::snake_case;

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
