//! One connection: its own DataFusion session (settings, temporary tables, prepared
//! statements) over the shared Intercom client, answering the simple and the extended query
//! protocol. Every statement takes the same road: session statements and datafusion-postgres'
//! hooks (SET/SHOW, transactions, cursors) first, then policy, `CALL` rewriting, planning and
//! execution, each guarded against panics and cancel requests.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, UInt64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ParamValues;
use datafusion::common::config::{ConfigNonZeroUsize, Dialect};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{EmptyRelation, Expr, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{Set, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion_postgres::QueryHook;
use datafusion_postgres::arrow_pg::datatypes::df::deserialize_parameters_with_server_types;
use datafusion_postgres::arrow_pg::datatypes::{
    arrow_schema_to_pg_fields, encode_recordbatch, into_pg_type,
};
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{FieldInfo, QueryResponse, Response, Tag};
use datafusion_postgres::pgwire::api::stmt::QueryParser;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers, Type};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::messages::data::DataRow;
use datafusion_postgres::pgwire::messages::extendedquery::Execute;
use datafusion_postgres::pgwire::types::format::FormatOptions;
use futures::{Sink, StreamExt, stream};

use super::SessionSetup;
use super::auth::{ScramSource, StartupGate};
use super::errors::{from_datafusion, to_pgwire, user_error};
use super::guard::{
    CancelRegistry, CancelWatch, ConnectionCancel, GuardedStream, RegistryCancelHandler, guarded,
};
use super::notify::{Listening, Subscription};
use super::policy::{
    Policy, SessionCommand, check_setting, files_refused, needs_datafusion_parser, session_command,
};
use crate::error::Error;
use crate::limits::complexity::{self, CheckedParseError};
use crate::limits::{LimitError, runtime};
use crate::session::{SessionFactory, command_tag, new_session_config, prepare};

/// How deep the SQL parser may recurse: deeper statements fail with an error instead of
/// exhausting the stack.
pub const RECURSION_LIMIT: usize = crate::limits::PARSER_RECURSION_LIMIT;

/// Texts up to this size that only the compatibility parser reads (its token rewrites fix a
/// few client queries PostgreSQL's grammar in sqlparser refuses) are parsed by it unchecked;
/// longer ones get the syntax error. Such a text nests at most half as deep as it is long.
const UNCHECKED_COMPAT_PARSE_BYTES: usize = 64 << 10;

/// What every connection of one server shares.
pub struct Shared {
    /// Makes each connection's session over the shared client.
    pub factory: SessionFactory,
    /// Limits on statements.
    pub policy: Policy,
    /// Cancel signals of all connections.
    pub cancels: Arc<CancelRegistry>,
    /// The SCRAM verifier, when authentication is on.
    pub scram: Option<Arc<ScramSource>>,
    /// Refuse plaintext clients.
    pub tls_required: bool,
    /// The embedder's per-session setup.
    pub session_setup: Option<SessionSetup>,
    /// The webhook notifications received, when the server receives them.
    pub webhooks: Option<WebhookState>,
    /// The other workspaces, by the database name that selects them (`psql …/eu`); empty
    /// with one workspace, which then answers to any database name.
    pub workspaces: std::collections::BTreeMap<String, SessionFactory>,
}

/// What sessions see of the webhook receiver.
pub struct WebhookState {
    /// The notifications kept (the `webhook_events` table).
    pub store: Arc<crate::webhooks::Store>,
    /// Each new notification, for listening connections.
    pub events: super::notify::Events,
}

/// The statement a prepared statement holds: its text, and the parsed statement with its
/// plan (the type datafusion-postgres' cursor hook expects in the portal store).
pub type PreparedStatement = (String, Option<(Statement, LogicalPlan)>);

/// pgwire's handlers for one connection.
pub struct Connection {
    shared: Arc<Shared>,
    session: Arc<SessionHandler>,
    startup: Arc<StartupGate>,
    listening: Arc<Listening>,
}

impl Connection {
    /// Handlers for a newly accepted connection (its session is built on first use).
    pub fn new(shared: Arc<Shared>) -> Self {
        let listening = Arc::new(Listening::default());
        let database = Arc::new(Mutex::new(None));
        let state = Arc::new(ConnectionSession {
            ctx: Mutex::new(None),
            database: database.clone(),
            listening: listening.clone(),
            cancel: ConnectionCancel::new(shared.cancels.clone()),
            sql_parser: Arc::new(PostgresCompatibilityParser::new()),
            hooks: vec![
                Arc::new(CursorStatementHook),
                Arc::new(SetShowHook),
                Arc::new(TransactionStatementHook),
            ],
            shared: shared.clone(),
        });
        let databases = (!shared.workspaces.is_empty()).then(|| {
            let mut names: Vec<String> = shared.workspaces.keys().cloned().collect();
            names.push(shared.factory.catalog().to_string());
            names.push(crate::session::DEFAULT_CATALOG.to_string());
            names
        });
        let startup = Arc::new(StartupGate::new(
            shared.tls_required,
            shared.scram.clone(),
            databases,
            database,
        ));
        Self {
            shared,
            session: Arc::new(SessionHandler {
                parser: Arc::new(StatementParser {
                    state: state.clone(),
                }),
                state,
            }),
            startup,
            listening,
        }
    }

    /// What the connection loop needs to deliver webhook notifications, when there are any.
    pub fn subscription(&self) -> Option<Subscription> {
        let webhooks = self.shared.webhooks.as_ref()?;
        Some(Subscription {
            events: webhooks.events.subscribe(),
            listening: self.listening.clone(),
        })
    }
}

impl PgWireServerHandlers for Connection {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.session.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.session.clone()
    }

    fn startup_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl datafusion_postgres::pgwire::api::cancel::CancelHandler> {
        Arc::new(RegistryCancelHandler(self.shared.cancels.clone()))
    }
}

/// One connection's session.
pub struct ConnectionSession {
    shared: Arc<Shared>,
    /// Built on first use (a cancel request's connection never needs one); replaced by
    /// `DISCARD ALL`.
    ctx: Mutex<Option<Arc<SessionContext>>>,
    cancel: ConnectionCancel,
    sql_parser: Arc<PostgresCompatibilityParser>,
    hooks: Vec<Arc<dyn QueryHook>>,
    /// The channels `LISTEN` named.
    listening: Arc<Listening>,
    /// The database the startup packet named (it selects the workspace).
    database: Arc<Mutex<Option<String>>>,
}

impl ConnectionSession {
    /// The session's context, built on first use.
    fn context(&self) -> PgWireResult<Arc<SessionContext>> {
        let mut slot = self
            .ctx
            .lock()
            .map_err(|_| user_error("XX000", "internal error: session lock poisoned"))?;
        if let Some(ctx) = slot.as_ref() {
            return Ok(ctx.clone());
        }
        let ctx = Arc::new(self.build_context()?);
        *slot = Some(ctx.clone());
        Ok(ctx)
    }

    fn build_context(&self) -> PgWireResult<SessionContext> {
        let mut config = new_session_config();
        {
            let options = config.options_mut();
            options.sql_parser.recursion_limit =
                ConfigNonZeroUsize::try_new(RECURSION_LIMIT).map_err(from_datafusion)?;
            options.sql_parser.dialect = Dialect::PostgreSQL;
        }
        let database = self.database.lock().ok().and_then(|d| d.clone());
        let factory = database
            .and_then(|d| self.shared.workspaces.get(&d))
            .unwrap_or(&self.shared.factory);
        let ctx = factory
            .new_context_with(config)
            .map_err(|e| to_pgwire(&e))?;
        let catalog = factory.catalog().to_string();
        setup_pg_catalog(&ctx, &catalog, EmptyContextProvider).map_err(|e| from_datafusion(*e))?;
        super::compat::register(&ctx, &catalog).map_err(from_datafusion)?;
        if let Some(webhooks) = &self.shared.webhooks {
            let table = crate::webhooks::WebhookEvents::new(webhooks.store.clone());
            ctx.register_table(crate::webhooks::TABLE_NAME, Arc::new(table))
                .map_err(from_datafusion)?;
        }
        if let Some(setup) = &self.shared.session_setup {
            setup(&ctx).map_err(|e| to_pgwire(&e))?;
        }
        Ok(ctx)
    }

    /// `DISCARD ALL`: the next statement gets a fresh session.
    fn reset(&self) {
        if let Ok(mut slot) = self.ctx.lock() {
            *slot = None;
        }
    }

    /// A query starts: cancel requests with this connection's key reach it from now on.
    fn start_query<C: ClientInfo>(&self, client: &C) -> CancelWatch {
        let (pid, secret_key) = client.pid_and_secret_key();
        self.cancel.register(pid, &secret_key);
        self.cancel
            .watch()
            .with_timeout(Self::statement_timeout(client))
    }

    /// The server's statement and memory limits.
    fn limits(&self) -> crate::limits::Limits {
        self.shared.factory.client().config().limits
    }

    /// Parses `sql` into statements, refusing (54000/54001) what is longer, deeper or larger
    /// than the limits before anything walks it (see [`crate::limits::complexity`]). Runs on
    /// the query runtime: the compatibility rewrites recurse as deep as the statement nests.
    async fn parse(&self, sql: &str) -> PgWireResult<Vec<Statement>> {
        let parser = self.sql_parser.clone();
        let limits = self.limits();
        let sql = sql.to_string();
        runtime::run(async move { Ok(parse_statements(&parser, &sql, &limits)) })
            .await
            .map_err(from_planning)?
    }

    /// Policy, `CALL` rewriting and planning: the one road from a statement to a plan. Plans
    /// on the query runtime (see [`crate::limits::runtime`]).
    async fn plan(
        &self,
        ctx: &Arc<SessionContext>,
        statement: &Statement,
    ) -> PgWireResult<LogicalPlan> {
        let policy = self.shared.policy;
        policy.check_statement(statement)?;
        let shown = shown_setting(statement);
        let ctx = ctx.clone();
        let statement = match check_setting(statement)? {
            Some(clamped) => clamped,
            // The statement may nest as deep as the limit: cloned on a query thread's stack.
            None => runtime::on_query_stack(|| statement.clone()).map_err(from_datafusion)?,
        };
        let planned = runtime::run(async move {
            let state = ctx.state();
            let df_statement = if needs_datafusion_parser(&statement) {
                // Only reached with --allow-files: COPY … TO and CREATE EXTERNAL TABLE are
                // DataFusion's own grammar.
                state.sql_to_statement(&statement.to_string(), &Dialect::PostgreSQL)?
            } else {
                DFStatement::Statement(Box::new(statement))
            };
            prepare(&state, df_statement)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))
        })
        .await;
        let plan = planned.map_err(from_planning)?;
        policy.check_plan(&plan)?;
        match shown {
            Some(name) => shown_as_postgresql_shows(&name, plan).map_err(from_planning),
            None => Ok(plan),
        }
    }

    /// The session's `statement_timeout`, which datafusion-postgres' `SET` keeps in the client's
    /// metadata (in milliseconds, under `statement_timeout_ms`); none when 0 or unset.
    fn statement_timeout<C: ClientInfo>(client: &C) -> Option<std::time::Duration> {
        client
            .metadata()
            .get("statement_timeout_ms")
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(std::time::Duration::from_millis)
    }

    /// `SET intercom.x = …` / `SHOW intercom.x` (any dotted name): DataFusion's settings,
    /// with errors reported (the SET/SHOW hook would ignore them).
    fn is_datafusion_setting(statement: &Statement) -> bool {
        match statement {
            Statement::Set(Set::SingleAssignment { variable, .. }) => {
                variable.to_string().contains('.')
            }
            Statement::ShowVariable { variable } => {
                let name: Vec<String> = variable.iter().map(|v| v.value.to_lowercase()).collect();
                // PostgreSQL's names of several words are not dotted names.
                let spaced = ["time zone", "transaction isolation level"];
                (name.join(".").contains('.') && !spaced.contains(&name.join(" ").as_str()))
                    || name == ["all"]
            }
            _ => false,
        }
    }

    /// Runs one statement and answers it. `params` fill `$n` (extended protocol).
    async fn run<C>(
        &self,
        client: &mut C,
        statement: &Statement,
        prepared: Option<(&LogicalPlan, &ParamValues)>,
        format: &Format,
        cancel: CancelWatch,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Some(command) = session_command(statement) {
            if let SessionCommand::Deallocate(Some(_)) = &command {
                // A statement prepared with SQL `PREPARE` lives in DataFusion, one prepared
                // over the protocol in pgwire's store: drop whichever there is.
                let ctx = self.context()?;
                let dropped = async {
                    let state = ctx.state();
                    let plan = state
                        .statement_to_plan(DFStatement::Statement(Box::new(statement.clone())))
                        .await?;
                    ctx.execute_logical_plan(plan).await
                };
                let _ = dropped.await;
            }
            return self.run_session_command(client, command);
        }
        // Before the hooks: the cursor hook plans and runs its query itself.
        self.shared.policy.check_statement(statement)?;
        let ctx = self.context()?;
        if !Self::is_datafusion_setting(statement) {
            for hook in &self.hooks {
                let answer = match prepared {
                    Some((plan, params)) => {
                        hook.handle_extended_query(statement, plan, params, &ctx, client)
                            .await
                    }
                    None => hook.handle_simple_query(statement, &ctx, client).await,
                };
                if let Some(answer) = answer {
                    return answer;
                }
            }
        }
        let plan = match prepared {
            Some((plan, params)) => {
                runtime::on_query_stack(|| plan.clone().replace_params_with_values(params))
                    .and_then(|bound| bound)
                    .map_err(from_datafusion)?
            }
            None => self.plan(&ctx, statement).await?,
        };
        let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
        let names = super::compat::postgres_column_names(statement, plan.schema().fields().len());
        execute(&ctx, plan, format, options, names, cancel).await
    }

    /// Statements only DataFusion's parser reads, all touching files: refused without
    /// `--allow-files`, else planned and run like any other.
    async fn run_file_statements(
        &self,
        statements: Vec<DFStatement>,
    ) -> PgWireResult<Vec<Response>> {
        let policy = self.shared.policy;
        if !policy.allow_files {
            return Err(files_refused());
        }
        let ctx = self.context()?;
        let mut responses = Vec::with_capacity(statements.len());
        for statement in statements {
            let state = ctx.state();
            let plan = state
                .statement_to_plan(statement)
                .await
                .map_err(from_datafusion)?;
            policy.check_plan(&plan)?;
            let options = Arc::new(FormatOptions::default());
            responses.push(
                execute(
                    &ctx,
                    plan,
                    &Format::UnifiedText,
                    options,
                    None,
                    self.cancel.watch(),
                )
                .await?,
            );
        }
        Ok(responses)
    }

    fn run_session_command<C>(
        &self,
        client: &mut C,
        command: SessionCommand,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore,
        C::PortalStore: PortalStore,
    {
        Ok(match command {
            SessionCommand::Discard(tag) => {
                self.reset();
                if tag == "DISCARD ALL" {
                    self.listening.unlisten(None);
                }
                Response::Execution(Tag::new(&tag))
            }
            SessionCommand::Listen(channel) => {
                if self.shared.webhooks.is_none() {
                    return Err(user_error(
                        "0A000",
                        "LISTEN needs webhooks: start the server with --webhook-listen (docs/webhooks.md)",
                    ));
                }
                self.listening
                    .listen(&channel)
                    .map_err(|e| user_error("54000", e))?;
                Response::Execution(Tag::new("LISTEN"))
            }
            SessionCommand::Unlisten(channel) => {
                self.listening.unlisten(channel.as_deref());
                Response::Execution(Tag::new("UNLISTEN"))
            }
            SessionCommand::Deallocate(Some(name)) => {
                client.portal_store().rm_statement(&name);
                Response::Execution(Tag::new("DEALLOCATE"))
            }
            // pgwire's store cannot list statements; they go with the connection.
            SessionCommand::Deallocate(None) => Response::Execution(Tag::new("DEALLOCATE ALL")),
            SessionCommand::Acknowledge(tag) => Response::Execution(Tag::new(tag)),
        })
    }
}

/// [`ConnectionSession::parse`]'s work: checked parse, compatibility parse and rewrites.
fn parse_statements(
    parser: &PostgresCompatibilityParser,
    sql: &str,
    limits: &crate::limits::Limits,
) -> PgWireResult<Vec<Statement>> {
    let checked = match complexity::parse_checked(sql, limits) {
        Ok(statements) => Some(statements),
        Err(CheckedParseError::Limit(limit)) => return Err(to_pgwire(&Error::Limit(limit))),
        Err(CheckedParseError::Syntax(syntax)) if sql.len() > UNCHECKED_COMPAT_PARSE_BYTES => {
            return Err(syntax_error(syntax));
        }
        Err(CheckedParseError::Syntax(_)) => None,
    };
    let statements = parser.parse(sql).map_err(syntax_error)?;
    drop(checked);
    let checked: Result<(), LimitError> = statements
        .iter()
        .try_for_each(|s| complexity::check(s, limits).map(|_| ()));
    if let Err(limit) = checked {
        complexity::drop_deep(statements, sql.len());
        return Err(to_pgwire(&Error::Limit(limit)));
    }
    if statements
        .iter()
        .any(|s| matches!(s, Statement::ShowVariable { variable } if variable.is_empty()))
    {
        return Err(user_error(
            "42601",
            "syntax error: SHOW needs a setting name (SHOW ALL lists them)",
        ));
    }
    Ok(statements.into_iter().map(super::compat::rewrite).collect())
}

fn from_planning(error: DataFusionError) -> PgWireError {
    to_pgwire(&Error::from_carried(error))
}

/// `sql` as DataFusion statements, if `parse_error` is a syntax error, DataFusion parses the
/// text and every statement is a `COPY … TO` or `CREATE EXTERNAL TABLE`. Parsed on the query
/// runtime and checked against the limits like any statement.
async fn datafusion_file_statements(
    sql: &str,
    parse_error: &PgWireError,
    limits: crate::limits::Limits,
) -> Option<Vec<DFStatement>> {
    let syntax = matches!(parse_error, PgWireError::UserError(info) if info.code == "42601");
    if !syntax || sql.len() > UNCHECKED_COMPAT_PARSE_BYTES {
        return None;
    }
    let sql = sql.to_string();
    runtime::run(async move { Ok(parse_file_statements(&sql, &limits)) })
        .await
        .ok()
        .flatten()
}

fn parse_file_statements(sql: &str, limits: &crate::limits::Limits) -> Option<Vec<DFStatement>> {
    let statements = DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {}).ok()?;
    if statements
        .iter()
        .any(|s| complexity::check_datafusion(s, limits).is_err())
    {
        complexity::drop_deep(statements, sql.len());
        return None;
    }
    let all_files = !statements.is_empty()
        && statements.iter().all(|s| {
            matches!(
                s,
                DFStatement::CopyTo(_) | DFStatement::CreateExternalTable(_)
            )
        });
    all_files.then(|| statements.into_iter().collect())
}

fn syntax_error(e: ParserError) -> PgWireError {
    from_datafusion(datafusion::error::DataFusionError::SQL(Box::new(e), None))
}

/// Executes a plan: DML and DDL answer with a command tag, everything else streams rows.
/// The physical plan is made and run on the query runtime (see [`crate::limits::runtime`]):
/// deep plans have its stacks, and cancel requests stay prompt.
/// `names`: the columns' names as PostgreSQL gives them, where they differ from the plan's
/// (`super::compat::postgres_column_names`).
async fn execute(
    ctx: &SessionContext,
    plan: LogicalPlan,
    format: &Format,
    options: Arc<FormatOptions>,
    names: Option<Vec<Option<String>>>,
    cancel: CancelWatch,
) -> PgWireResult<Response> {
    let tag = command_tag(&plan);
    // INSERT/UPDATE/DELETE … RETURNING answers with rows and the write's own tag.
    let returning = crate::dml::returning::command(&plan);
    let counted = matches!(plan, LogicalPlan::Dml(_) | LogicalPlan::Copy(_));
    let setting = match &plan {
        LogicalPlan::Statement(datafusion::logical_expr::Statement::SetVariable(set)) => {
            Some(set.variable.clone())
        }
        _ => None,
    };
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| match &setting {
            // A value the setting cannot take (`SET …prefer_hash_join = 0`): PostgreSQL's 22023.
            Some(name) => user_error(
                "22023",
                format!(
                    "invalid value for {name}: {}",
                    Error::from(e).user_message()
                ),
            ),
            None => from_datafusion(e),
        })?;
    if !counted && let Some(tag) = tag {
        return Ok(Response::Execution(Tag::new(tag)));
    }
    let context = Arc::new(df.task_ctx());
    let plan = runtime::run(async move { df.create_physical_plan().await })
        .await
        .map_err(from_planning)?;
    // The columns as the rows will carry them: the optimizer may widen a type (a UNION of
    // an integer and a numeric is numeric) after the unoptimized plan's schema was fixed.
    let fields = Arc::new(arrow_schema_to_pg_fields(
        &super::compat::renamed(plan.schema().as_ref(), names.as_deref()),
        format,
        Some(options),
    )?);
    let batches = runtime::execute(plan, context).map_err(from_datafusion)?;
    if counted {
        let rows = rows_affected(batches).await?;
        let tag = match tag {
            Some("INSERT") => Tag::new("INSERT").with_oid(0).with_rows(rows),
            Some(other) => Tag::new(other).with_rows(rows),
            None => Tag::new("SELECT").with_rows(rows),
        };
        return Ok(Response::Execution(tag));
    }
    let row_fields = fields.clone();
    let rows = batches
        .map(move |batch| {
            let rows: Box<dyn Iterator<Item = PgWireResult<DataRow>> + Send + Sync> = match batch {
                Ok(batch) => encode_recordbatch(row_fields.clone(), batch),
                Err(e) => Box::new(std::iter::once(Err(from_planning(e)))),
            };
            stream::iter(rows)
        })
        .flatten();
    let mut response = QueryResponse::new(fields, GuardedStream::new(rows, cancel));
    match returning {
        // PostgreSQL's `INSERT 0 <rows>`: the row count follows the tag.
        Some("INSERT") => response.set_command_tag("INSERT 0"),
        Some(tag) => response.set_command_tag(tag),
        None => {}
    }
    Ok(Response::Query(response))
}

/// The `count` a DML plan returns (one row, UInt64), summed to be safe.
async fn rows_affected(mut batches: SendableRecordBatchStream) -> PgWireResult<usize> {
    let mut rows = 0u64;
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(from_planning)?;
        if let Some(counts) = batch
            .column_by_name("count")
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        {
            rows += (0..counts.len())
                .filter(|i| counts.is_valid(*i))
                .map(|i| counts.value(i))
                .sum::<u64>();
        }
    }
    Ok(usize::try_from(rows).unwrap_or(usize::MAX))
}

/// The simple and extended query handler of one connection.
pub struct SessionHandler {
    state: Arc<ConnectionSession>,
    parser: Arc<StatementParser>,
}

#[async_trait]
impl SimpleQueryHandler for SessionHandler {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let cancel = self.state.start_query(client);
        let statements = match self.state.parse(query).await {
            Ok(statements) => statements,
            Err(syntax) => {
                // PostgreSQL's grammar has no `CREATE EXTERNAL TABLE … STORED AS` or
                // `COPY … TO … STORED AS`; DataFusion's has.
                let limits = self.state.limits();
                return match datafusion_file_statements(query, &syntax, limits).await {
                    Some(statements) => {
                        guarded(self.state.run_file_statements(statements), cancel).await
                    }
                    None => Err(syntax),
                };
            }
        };
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut responses = Vec::with_capacity(statements.len());
        for statement in &statements {
            let answer = guarded(
                self.state.run(
                    client,
                    statement,
                    None,
                    &Format::UnifiedText,
                    cancel.clone(),
                ),
                cancel.clone(),
            )
            .await;
            match answer {
                Ok(response) => responses.push(response),
                // The first statement's error is the query's error; a later one ends the
                // script after the statements that ran, as in PostgreSQL.
                Err(e) if responses.is_empty() => return Err(e),
                Err(e) => {
                    responses.push(Response::Error(Box::new(ErrorInfo::from(e))));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

#[async_trait]
impl ExtendedQueryHandler for SessionHandler {
    type Statement = PreparedStatement;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// Streams the rows of every `Execute`, up to its row limit (`max_rows <= 0`: all), never
    /// buffering them (see [`super::execute`]).
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        super::execute::execute(self, client, message).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (_, Some((statement, plan))) = &portal.statement.statement else {
            return Ok(Response::EmptyQuery);
        };
        let cancel = self.state.start_query(client);
        let params = bound_parameters(portal, plan)?;
        guarded(
            self.state.run(
                client,
                statement,
                Some((plan, &params)),
                &portal.result_column_format,
                cancel.clone(),
            ),
            cancel,
        )
        .await
    }
}

/// Parses and plans the extended protocol's `Parse` messages in the connection's session.
pub struct StatementParser {
    state: Arc<ConnectionSession>,
}

impl StatementParser {
    async fn plan_prepared(
        &self,
        client: &(dyn ClientInfo + Send + Sync),
        statement: &Statement,
    ) -> PgWireResult<LogicalPlan> {
        if session_command(statement).is_some() {
            return Ok(empty_plan());
        }
        self.state.shared.policy.check_statement(statement)?;
        let ctx = self.state.context()?;
        if !ConnectionSession::is_datafusion_setting(statement) {
            for hook in &self.state.hooks {
                if let Some(plan) = hook
                    .handle_extended_parse_query(statement, &ctx, client)
                    .await
                {
                    return plan;
                }
            }
        }
        self.state.plan(&ctx, statement).await
    }
}

/// The setting a `SHOW intercom.x` shows (not `SHOW ALL`).
fn shown_setting(statement: &Statement) -> Option<String> {
    let Statement::ShowVariable { variable } = statement else {
        return None;
    };
    let name: Vec<String> = variable.iter().map(|v| v.value.to_lowercase()).collect();
    (name != ["all"]).then(|| name.join("."))
}

/// `SHOW intercom.x` answers as PostgreSQL's `SHOW` does: one column named after the setting
/// (DataFusion's plan has two, `name` and `value`).
fn shown_as_postgresql_shows(
    name: &str,
    plan: LogicalPlan,
) -> datafusion::error::Result<LogicalPlan> {
    if plan.schema().field_with_unqualified_name("value").is_err() {
        return Ok(plan);
    }
    datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .project(vec![datafusion::prelude::col("value").alias(name)])?
        .build()
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = PreparedStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut statements = match self.state.parse(sql).await {
            Ok(statements) => statements,
            Err(error) => {
                let limits = self.state.limits();
                if datafusion_file_statements(sql, &error, limits)
                    .await
                    .is_none()
                {
                    return Err(error);
                }
                return Err(if self.state.shared.policy.allow_files {
                    user_error(
                        "0A000",
                        "COPY … TO and CREATE EXTERNAL TABLE run over the simple query protocol only",
                    )
                } else {
                    files_refused()
                });
            }
        };
        if statements.is_empty() {
            return Ok(None);
        }
        if statements.len() > 1 {
            return Err(user_error(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        let statement = statements.remove(0);
        // Planning may panic too; nothing to cancel yet, so the watch never fires.
        let idle = self.state.cancel.watch();
        let plan = guarded(self.plan_prepared(client, &statement), idle).await?;
        Ok(Some((sql.to_string(), Some((statement, plan)))))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        match stmt {
            (_, Some((_, plan))) => parameter_types(plan)?
                .into_iter()
                .map(|t| t.map_or(Ok(Type::UNKNOWN), |t| into_pg_type(&t)))
                .collect(),
            _ => Ok(Vec::new()),
        }
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        match stmt {
            (_, Some((statement, plan))) if command_tag(plan).is_none() => {
                let schema = plan.schema().as_arrow();
                let names = super::compat::postgres_column_names(statement, schema.fields().len());
                arrow_schema_to_pg_fields(
                    &super::compat::renamed(schema, names.as_deref()),
                    column_format.unwrap_or(&Format::UnifiedText),
                    None,
                )
            }
            _ => Ok(Vec::new()),
        }
    }
}

/// A plan for statements answered without DataFusion (no rows, no columns).
fn empty_plan() -> LogicalPlan {
    LogicalPlan::EmptyRelation(EmptyRelation {
        produce_one_row: false,
        schema: Arc::new(datafusion::common::DFSchema::empty()),
    })
}

/// The types of `$1`, `$2`, … in order: what DataFusion inferred, else the type of a cast
/// around the placeholder (`$1::int`), else unknown (also for a number the plan lacks).
fn parameter_types(plan: &LogicalPlan) -> PgWireResult<Vec<Option<DataType>>> {
    let mut inferred = plan.get_parameter_types().map_err(from_datafusion)?;
    if inferred.values().any(Option::is_none) {
        let _ = plan.apply_with_subqueries(|node| {
            for expr in node.expressions() {
                let _ = expr.apply(|e| {
                    if let Expr::Cast(cast) = e
                        && let Expr::Placeholder(placeholder) = cast.expr.as_ref()
                        && let Some(slot @ None) = inferred.get_mut(&placeholder.id)
                    {
                        *slot = Some(cast.field.data_type().clone());
                    }
                    Ok(TreeNodeRecursion::Continue)
                });
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    // By number, not by rank: a placeholder the compatibility rewrite dropped (inside a
    // sub-select it replaced by NULL) leaves a gap, of unknown type, that keeps `$n` at n - 1.
    let numbered: Vec<(usize, Option<DataType>)> = inferred
        .into_iter()
        .filter_map(|(id, t)| Some((id.trim_start_matches('$').parse::<usize>().ok()?, t)))
        .filter(|(n, _)| *n >= 1)
        .collect();
    let mut types = vec![None; numbered.iter().map(|(n, _)| *n).max().unwrap_or(0)];
    for (n, t) in numbered {
        types[n - 1] = t;
    }
    Ok(types)
}

/// The portal's parameter values, decoded with the types the statement advertised.
fn bound_parameters(
    portal: &Portal<PreparedStatement>,
    plan: &LogicalPlan,
) -> PgWireResult<ParamValues> {
    let types = parameter_types(plan)?;
    let wire_types: Vec<Type> = types
        .iter()
        .map(|t| t.as_ref().map_or(Ok(Type::UNKNOWN), into_pg_type))
        .collect::<PgWireResult<_>>()?;
    let inferred: Vec<Option<&DataType>> = types.iter().map(Option::as_ref).collect();
    let wire: Vec<Option<&Type>> = wire_types.iter().map(Some).collect();
    deserialize_parameters_with_server_types(portal, &inferred, &wire)
}
