//! What a client may do, decided from the statement and its plan before anything runs:
//! no local files without `--allow-files`, no writes under `--read-only`; and the session
//! statements (DISCARD, DEALLOCATE, RESET, …) that are answered without DataFusion.

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::sql::sqlparser::ast::{CopyTarget, Expr, Set, SetExpr, Statement, Value};
use datafusion_postgres::pgwire::error::PgWireError;

use super::errors::user_error;

/// The server's limits on statements.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    /// `--allow-files`: `COPY … TO 'file'`, `CREATE EXTERNAL TABLE` and friends are allowed.
    pub allow_files: bool,
}

const FILES_REFUSED: &str = "reading or writing files on the server is disabled; start intercom-sql serve with --allow-files to allow it";

/// The refusal of a statement touching the server's files.
pub fn files_refused() -> PgWireError {
    user_error("42501", FILES_REFUSED)
}

impl Policy {
    /// Refuses a parsed statement that touches the server's files (before planning), and a
    /// cursor over anything but a query (PostgreSQL's rule; such a cursor would also run a
    /// write past `--read-only`, since cursors are answered before planning).
    pub fn check_statement(&self, statement: &Statement) -> Result<(), PgWireError> {
        if !self.allow_files && touches_files(statement) {
            return Err(files_refused());
        }
        if let Statement::Declare { stmts } = statement
            && stmts
                .iter()
                .any(|d| d.for_query.as_ref().is_some_and(|q| !is_read(&q.body)))
        {
            return Err(user_error(
                "42601",
                "DECLARE CURSOR can only be used with SELECT or VALUES",
            ));
        }
        Ok(())
    }

    /// Refuses a plan that touches files when it may not. Walks subqueries too. (Writes to
    /// Intercom are refused by the sessions' client: see `IntercomClient::refuses`.)
    pub fn check_plan(&self, plan: &LogicalPlan) -> Result<(), PgWireError> {
        let mut refusal = None;
        let _ = plan.apply_with_subqueries(|node| {
            match node {
                LogicalPlan::Copy(_) | LogicalPlan::Ddl(DdlStatement::CreateExternalTable(_))
                    if !self.allow_files =>
                {
                    refusal = Some(files_refused());
                }
                _ => return Ok(TreeNodeRecursion::Continue),
            }
            Ok(TreeNodeRecursion::Stop)
        });
        refusal.map_or(Ok(()), Err)
    }
}

/// DataFusion settings a client may change over the wire, by prefix or full name. Every other
/// `datafusion.*` setting decides what a session may use (memory, spilling, temporary files,
/// paths, parallelism, parser depth) and is refused with 42501; [`CLAMPED`] ones are held to
/// a maximum. docs/security.md lists both.
const SETTABLE: &[&str] = &[
    "datafusion.explain.",
    "datafusion.format.",
    "datafusion.optimizer.",
    "datafusion.sql_parser.dialect",
    "datafusion.sql_parser.enable_ident_normalization",
    "datafusion.sql_parser.enable_options_value_normalization",
    "datafusion.sql_parser.parse_float_as_decimal",
    "datafusion.sql_parser.support_varchar_with_length",
    "datafusion.sql_parser.map_string_types_to_utf8view",
    "datafusion.sql_parser.collect_spans",
    "datafusion.sql_parser.default_null_ordering",
    "datafusion.execution.time_zone",
    "datafusion.execution.collect_statistics",
    "datafusion.execution.coalesce_batches",
    "datafusion.execution.enable_recursive_ctes",
    "datafusion.execution.skip_partial_aggregation_probe_ratio_threshold",
    "datafusion.execution.skip_partial_aggregation_probe_rows_threshold",
    "datafusion.execution.enforce_batch_size_in_joins",
];

/// The largest value a clamped setting may take.
type Maximum = fn() -> u64;

/// Settings under an allowed prefix of [`SETTABLE`] that are refused all the same:
/// top-k aggregation allocates by the LIMIT before reading a row, outside the memory pools.
const UNSETTABLE: &[&str] = &["datafusion.optimizer.enable_topk_aggregation"];

/// Settings a client may lower but not raise past a maximum (larger values are clamped).
const CLAMPED: &[(&str, Maximum)] = &[
    ("datafusion.execution.target_partitions", max_partitions),
    ("datafusion.execution.planning_concurrency", max_partitions),
    ("datafusion.execution.batch_size", || 65_536),
];

/// Most partitions (and planning threads) a session may ask for: twice the cores.
fn max_partitions() -> u64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    2 * cores as u64
}

/// `SET datafusion.x = v` as the server runs it: refused (42501) for the settings that
/// decide resources, clamped for [`CLAMPED`] ones, unchanged otherwise (and for every other
/// statement).
pub fn check_setting(statement: &Statement) -> Result<Option<Statement>, PgWireError> {
    let Statement::Set(Set::SingleAssignment {
        scope,
        hivevar,
        variable,
        values,
    }) = statement
    else {
        return Ok(None);
    };
    let name = variable.to_string().to_ascii_lowercase();
    if !name.starts_with("datafusion.") {
        return Ok(None);
    }
    if let Some((_, max)) = CLAMPED.iter().find(|(n, _)| *n == name) {
        let max = max();
        let asked = match values.as_slice() {
            [Expr::Value(v)] => match &v.value {
                Value::Number(n, _) => n.parse::<u64>().ok(),
                Value::SingleQuotedString(n) => n.trim().parse::<u64>().ok(),
                _ => None,
            },
            _ => None,
        };
        return Ok(match asked {
            Some(asked) if asked > max => Some(Statement::Set(Set::SingleAssignment {
                scope: *scope,
                hivevar: *hivevar,
                variable: variable.clone(),
                values: vec![Expr::value(Value::Number(max.to_string(), false))],
            })),
            _ => None,
        });
    }
    if !UNSETTABLE.contains(&name.as_str())
        && SETTABLE.iter().any(|allowed| {
            name == *allowed || (allowed.ends_with('.') && name.starts_with(allowed))
        })
    {
        return Ok(None);
    }
    Err(user_error(
        "42501",
        format!(
            "SET {name} is not allowed over the wire: it decides what a session may use (memory, spilling, files, parallelism); the server's --max-query-memory and --max-memory apply"
        ),
    ))
}

/// Whether a query body only reads (no INSERT, UPDATE, DELETE, MERGE inside it).
fn is_read(body: &SetExpr) -> bool {
    let mut pending = vec![body];
    while let Some(node) = pending.pop() {
        match node {
            SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => {}
            SetExpr::Query(query) => pending.push(&query.body),
            SetExpr::SetOperation { left, right, .. } => {
                pending.push(left);
                pending.push(right);
            }
            _ => return false,
        }
    }
    true
}

/// Whether DataFusion's own parser must read this statement: PostgreSQL's grammar has no
/// `COPY … TO 'file' (FORMAT …)` or `CREATE EXTERNAL TABLE` in DataFusion's sense.
pub fn needs_datafusion_parser(statement: &Statement) -> bool {
    touches_files(statement)
}

fn touches_files(statement: &Statement) -> bool {
    match statement {
        Statement::Copy { target, .. } => {
            matches!(target, CopyTarget::File { .. } | CopyTarget::Program { .. })
        }
        Statement::CreateTable(create) => create.external || create.location.is_some(),
        Statement::Unload { .. }
        | Statement::Install { .. }
        | Statement::Load { .. }
        | Statement::LoadData { .. }
        | Statement::AttachDatabase { .. }
        | Statement::AttachDuckDBDatabase { .. }
        | Statement::CreateStage { .. }
        | Statement::CopyIntoSnowflake { .. } => true,
        _ => false,
    }
}

/// A session statement answered without DataFusion.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionCommand {
    /// `DISCARD ALL` (and `DISCARD PLANS`/…): a fresh session; the tag names what was discarded.
    Discard(String),
    /// `DEALLOCATE [PREPARE] name | ALL`.
    Deallocate(Option<String>),
    /// `LISTEN channel`.
    Listen(String),
    /// `UNLISTEN channel | *` (`None`: every channel).
    Unlisten(Option<String>),
    /// Acknowledged with this command tag and nothing else (RESET, UNLISTEN, SAVEPOINT, …).
    Acknowledge(&'static str),
}

/// The session command `statement` is, if it is one.
pub fn session_command(statement: &Statement) -> Option<SessionCommand> {
    match statement {
        Statement::Discard { object_type } => Some(SessionCommand::Discard(format!(
            "DISCARD {}",
            object_type.to_string().to_uppercase()
        ))),
        Statement::Deallocate { name, .. } => {
            let name = name.value.clone();
            Some(SessionCommand::Deallocate(
                (!name.eq_ignore_ascii_case("all")).then_some(name),
            ))
        }
        Statement::Reset(_) => Some(SessionCommand::Acknowledge("RESET")),
        Statement::UNLISTEN { channel } => Some(SessionCommand::Unlisten(
            (channel.value != "*").then(|| channel_name(channel)),
        )),
        Statement::LISTEN { channel } => Some(SessionCommand::Listen(channel_name(channel))),
        Statement::Savepoint { .. } => Some(SessionCommand::Acknowledge("SAVEPOINT")),
        Statement::ReleaseSavepoint { .. } => Some(SessionCommand::Acknowledge("RELEASE")),
        _ => None,
    }
}

/// A channel's name as PostgreSQL reads it: unquoted names are folded to lower case.
fn channel_name(channel: &datafusion::sql::sqlparser::ast::Ident) -> String {
    match channel.quote_style {
        Some(_) => channel.value.clone(),
        None => channel.value.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn file_statements_are_refused_unless_allowed() {
        let closed = Policy::default();
        let open = Policy { allow_files: true };
        for sql in [
            "COPY contacts TO '/tmp/x.csv'",
            "COPY contacts FROM '/etc/passwd'",
            "COPY (SELECT 1) TO PROGRAM 'rm -rf /'",
        ] {
            let statement = parse(sql);
            assert!(closed.check_statement(&statement).is_err(), "{sql}");
            assert!(open.check_statement(&statement).is_ok(), "{sql}");
        }
        assert!(closed.check_statement(&parse("SELECT 1")).is_ok());
    }

    #[test]
    fn session_statements_are_recognised() {
        assert_eq!(
            session_command(&parse("DISCARD ALL")),
            Some(SessionCommand::Discard("DISCARD ALL".into()))
        );
        assert_eq!(
            session_command(&parse("DEALLOCATE s1")),
            Some(SessionCommand::Deallocate(Some("s1".into())))
        );
        assert_eq!(
            session_command(&parse("DEALLOCATE ALL")),
            Some(SessionCommand::Deallocate(None))
        );
        assert_eq!(
            session_command(&parse("LISTEN \"contact.user.created\"")),
            Some(SessionCommand::Listen("contact.user.created".into()))
        );
        assert_eq!(
            session_command(&parse("LISTEN Intercom_Events")),
            Some(SessionCommand::Listen("intercom_events".into()))
        );
        assert_eq!(
            session_command(&parse("UNLISTEN *")),
            Some(SessionCommand::Unlisten(None))
        );
        assert_eq!(
            session_command(&parse("UNLISTEN intercom_events")),
            Some(SessionCommand::Unlisten(Some("intercom_events".into())))
        );
        assert_eq!(session_command(&parse("SELECT 1")), None);
    }
}
