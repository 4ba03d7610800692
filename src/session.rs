//! The engine: builds the DataFusion `SessionContext`, registers the Intercom tables, and runs SQL.
//! The REPL, the CLI, the PostgreSQL server, the tests and the examples all go through here.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{DdlStatement, LogicalPlan, WriteOp};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::Statement;
use futures::TryStreamExt;

use crate::client::IntercomClient;
use crate::config::Config;
use crate::discovery::{
    CustomAttributePlanner, SchemaCache, discover_custom_attributes, discover_ticket_types,
};
use crate::error::Error;
use crate::limits::memory::MemoryBudget;
use crate::limits::{Limits, complexity, runtime};
use crate::procedures;
use crate::provider::IntercomTable;
use crate::settings::IntercomOptions;
use crate::tables;

/// A table as the user sees it: for `\dt`, `\d` and tab completion.
#[derive(Clone, Debug)]
pub struct TableInfo {
    /// SQL name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Arrow schema of the table.
    pub schema: SchemaRef,
    /// Per-column descriptions, in schema order.
    pub column_descriptions: Vec<String>,
}

/// DataFusion's physical planner with the planners of our own nodes (procedure calls, writes).
struct IntercomQueryPlanner {
    extensions: Vec<Arc<dyn ExtensionPlanner + Send + Sync>>,
}

impl std::fmt::Debug for IntercomQueryPlanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntercomQueryPlanner")
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl QueryPlanner for IntercomQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn datafusion::catalog::Session,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(self.extensions.clone())
            .create_physical_plan(logical_plan, session)
            .await
    }
}

/// Registers every Intercom table into `ctx` (default catalog and schema) and returns the
/// client the tables share, whose counters tell how many requests were made.
///
/// This is the one call an analytics application needs to embed intercom-sql.
pub fn register_intercom(
    ctx: &SessionContext,
    config: Config,
) -> Result<Arc<IntercomClient>, Error> {
    let client = Arc::new(IntercomClient::new(config)?);
    register_with_client(ctx, &client)?;
    Ok(client)
}

/// [`register_intercom`] over an existing client, so several sessions share one client (one
/// API budget, one set of request counters).
fn register_with_client(ctx: &SessionContext, client: &Arc<IntercomClient>) -> Result<(), Error> {
    {
        // `SET intercom.pushdown = off` and friends need the settings registered.
        let state = ctx.state_ref();
        let mut state = state.write();
        let options = state.config_mut().options_mut();
        if options.extensions.get::<IntercomOptions>().is_none() {
            options.extensions.insert(IntercomOptions {
                cache_ttl: client.config().cache_ttl,
                ..IntercomOptions::default()
            });
        }
    }
    for def in tables::all() {
        let name = def.name.clone();
        ctx.register_table(
            name.as_str(),
            Arc::new(IntercomTable::new(def.clone(), client.clone())),
        )?;
    }
    // The custom object types the configuration names, a table each.
    for def in tables::custom_objects::for_types(&client.config().custom_object_types) {
        let name = def.name.clone();
        ctx.register_table(
            name.as_str(),
            Arc::new(IntercomTable::new(def, client.clone())),
        )?;
    }
    ctx.register_udtf(
        crate::provider::raw_items::NAME,
        Arc::new(crate::provider::RawItemsFunction {
            client: client.clone(),
        }),
    );
    // One physical planner for the session: procedure calls and writes are siblings.
    let planner = Arc::new(IntercomQueryPlanner {
        extensions: vec![
            procedures::plan::extension_planner(client.clone()),
            Arc::new(crate::dml::WritePlanner),
        ],
    });
    let state = SessionStateBuilder::new_from_existing(ctx.state())
        .with_query_planner(planner)
        .with_physical_optimizer_rule(Arc::new(crate::provider::SequentialUnderLimit))
        .with_physical_optimizer_rule(Arc::new(crate::provider::OrderedUnderTopK))
        .with_physical_optimizer_rule(Arc::new(crate::limits::yielding::YieldingJoins))
        .build();
    *ctx.state_ref().write() = state;
    // Procedures: CALL, table functions, LATERAL bulk calls, and their metadata tables.
    procedures::register(ctx, client.clone())?;
    // INSERT, UPDATE and DELETE on Intercom tables.
    crate::dml::register(ctx);
    ctx.register_table(
        procedures::catalog::PROCEDURES_TABLE,
        Arc::new(procedures::catalog::procedures_table()?),
    )?;
    ctx.register_table(
        procedures::catalog::PARAMETERS_TABLE,
        Arc::new(procedures::catalog::parameters_table()?),
    )?;
    Ok(())
}

/// Plans one SQL statement in `ctx`. `CALL P(args)` is rewritten to `SELECT * FROM p(args)`
/// first (DataFusion cannot plan `CALL`), so a procedure runs the same way from `CALL`, from
/// `SELECT`, with literals or with `$n` parameters. This is the one place SQL text becomes a
/// plan; the pgwire server reuses [`rewrite_call`] for statements it parses itself.
///
/// The statement is refused (SQLSTATE 54000/54001) before planning when it is longer, deeper
/// or larger than the session's [`Limits`] allow (see [`crate::limits`]). Planning recurses as
/// deep as the statement nests: call it on a thread with a large stack, or use
/// [`Engine::execute_stream`], which plans on the query runtime.
pub async fn plan_sql(ctx: &SessionContext, sql: &str) -> Result<LogicalPlan, Error> {
    let state = ctx.state();
    let limits = session_limits(ctx);
    complexity::check_length(sql, &limits)?;
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state.sql_to_statement(sql, &dialect)?;
    if let Err(too_complex) = complexity::check_datafusion(&statement, &limits) {
        complexity::drop_deep(statement, sql.len());
        return Err(too_complex.into());
    }
    prepare(&state, statement).await
}

/// The one road from a parsed statement to a logical plan, taken by the shell, `-c`/`-f`, the
/// library ([`plan_sql`]) and the PostgreSQL server: procedure calls and custom-attribute
/// targets rewritten ([`rewrite_calls`]), then DataFusion's planner with our planners and
/// rules. The caller has already checked the statement against the session's limits.
pub async fn prepare(
    state: &datafusion::execution::session_state::SessionState,
    statement: DFStatement,
) -> Result<LogicalPlan, Error> {
    let mut statement = rewrite_calls(statement)?;
    let names = Names::of(state, &statement);
    let returning = crate::dml::returning::take(&mut statement)?;
    let plan = match state.statement_to_plan(statement).await {
        Ok(plan) => plan,
        Err(e) => return Err(names.unknown(state).await.unwrap_or_else(|| e.into())),
    };
    let plan = match returning {
        None => plan,
        Some(returning) => {
            let dialect = state.config().options().sql_parser.dialect;
            let select = state.sql_to_statement(&returning.select, &dialect)?;
            let select = state.statement_to_plan(select).await?;
            crate::dml::returning::plan(plan, select)?
        }
    };
    SQLOptions::new().verify_plan(&plan)?;
    Ok(plan)
}

/// The tables and table functions a statement names, read before planning so that a planning
/// failure can be explained from the catalog rather than from DataFusion's message.
struct Names {
    tables: Vec<datafusion::common::TableReference>,
    functions: std::collections::HashSet<String>,
    created: Option<String>,
}

impl Names {
    fn of(
        state: &datafusion::execution::session_state::SessionState,
        statement: &DFStatement,
    ) -> Self {
        use datafusion::sql::sqlparser::ast::{ObjectName, TableFactor, Visit, Visitor};
        use std::ops::ControlFlow;
        struct Functions(std::collections::HashSet<String>);
        impl Visitor for Functions {
            type Break = ();
            fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
                if let TableFactor::Table {
                    name,
                    args: Some(_),
                    ..
                } = factor
                    && let Some(last) = name.0.last().and_then(|p| p.as_ident())
                {
                    self.0.insert(last.value.to_lowercase());
                }
                ControlFlow::Continue(())
            }
        }
        let last = |name: &ObjectName| {
            name.0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.to_lowercase())
        };
        let mut functions = Functions(Default::default());
        let mut created = None;
        let mut inner = statement;
        while let DFStatement::Explain(explain) = inner {
            inner = &explain.statement;
        }
        if let DFStatement::Statement(s) = inner {
            let _ = s.visit(&mut functions);
            created = match s.as_ref() {
                Statement::CreateTable(create) => last(&create.name),
                Statement::CreateView(view) => last(&view.name),
                _ => None,
            };
        }
        Self {
            tables: state
                .resolve_table_references(statement)
                .unwrap_or_default(),
            functions: functions.0,
            created,
        }
    }

    /// The first named table or table function that does not exist, as our own error with the
    /// nearest name; `None` when everything named exists (the failure is something else).
    async fn unknown(
        &self,
        state: &datafusion::execution::session_state::SessionState,
    ) -> Option<Error> {
        let options = state.config().options();
        let (catalog, schema) = (
            options.catalog.default_catalog.as_str(),
            options.catalog.default_schema.as_str(),
        );
        for reference in &self.tables {
            let name = reference.table().to_lowercase();
            if self.functions.contains(&name) {
                if !state.table_functions().contains_key(&name) {
                    return Some(Error::UnknownTableFunction {
                        name: reference.table().to_string(),
                        suggestion: procedures::suggest(&name).map(|p| p.function_name.clone()),
                    });
                }
                continue;
            }
            if self.created.as_deref() == Some(name.as_str()) {
                continue;
            }
            // Looked up as DataFusion's planner looks it up, so the two cannot disagree.
            let exists = match state.schema_for_ref(reference.clone()) {
                Ok(schema) => matches!(schema.table(reference.table()).await, Ok(Some(_))),
                Err(_) => false,
            };
            if !exists {
                return Some(Error::UnknownTable {
                    name: reference.clone().resolve(catalog, schema).to_string(),
                    suggestion: tables::suggest(reference.table()).map(|t| t.name.clone()),
                });
            }
        }
        None
    }
}

/// The command tag of a plan that answers with one (`None`: it returns rows).
pub fn command_tag(plan: &LogicalPlan) -> Option<&'static str> {
    use datafusion::logical_expr::Statement as PlanStatement;
    let tag = match plan {
        LogicalPlan::Dml(dml) => match dml.op {
            WriteOp::Insert(_) => "INSERT",
            WriteOp::Update => "UPDATE",
            WriteOp::Delete => "DELETE",
            WriteOp::Ctas => "SELECT",
            WriteOp::Truncate => "TRUNCATE TABLE",
            _ => "INSERT",
        },
        LogicalPlan::Copy(_) => "COPY",
        LogicalPlan::Ddl(ddl) => match ddl {
            DdlStatement::CreateExternalTable(_) | DdlStatement::CreateMemoryTable(_) => {
                "CREATE TABLE"
            }
            DdlStatement::CreateView(_) => "CREATE VIEW",
            DdlStatement::CreateCatalogSchema(_) => "CREATE SCHEMA",
            DdlStatement::CreateCatalog(_) => "CREATE DATABASE",
            DdlStatement::CreateIndex(_) => "CREATE INDEX",
            DdlStatement::DropTable(_) => "DROP TABLE",
            DdlStatement::DropView(_) => "DROP VIEW",
            DdlStatement::DropCatalogSchema(_) => "DROP SCHEMA",
            DdlStatement::CreateFunction(_) => "CREATE FUNCTION",
            DdlStatement::DropFunction(_) => "DROP FUNCTION",
        },
        LogicalPlan::Statement(PlanStatement::Prepare(_)) => "PREPARE",
        LogicalPlan::Statement(PlanStatement::Deallocate(_)) => "DEALLOCATE",
        LogicalPlan::Statement(PlanStatement::SetVariable(_)) => "SET",
        LogicalPlan::Statement(PlanStatement::ResetVariable(_)) => "RESET",
        _ => return None,
    };
    Some(tag)
}

/// The limits a session was made with ([`SessionFactory`] and [`Engine`] sessions carry
/// them), else this machine's defaults.
pub fn session_limits(ctx: &SessionContext) -> Limits {
    ctx.state_ref()
        .read()
        .config()
        .get_extension::<Limits>()
        .map_or_else(Limits::for_this_machine, |l| *l)
}

/// [`rewrite_call`] on a DataFusion statement, including the one inside `EXPLAIN`.
pub fn rewrite_calls(statement: DFStatement) -> Result<DFStatement, Error> {
    Ok(match statement {
        DFStatement::Statement(inner) => DFStatement::Statement(Box::new(rewrite_call(*inner)?)),
        DFStatement::Explain(mut explain) => {
            explain.statement = Box::new(rewrite_calls(*explain.statement)?);
            DFStatement::Explain(explain)
        }
        other => other,
    })
}

/// `CALL P(args)` → `SELECT * FROM p(args)` (also under `EXPLAIN`), and
/// `UPDATE … SET custom_attributes.x = …` names the custom-attribute column; any other
/// statement unchanged. Unknown procedures are reported with the nearest name.
pub fn rewrite_call(statement: Statement) -> Result<Statement, Error> {
    match statement {
        Statement::Explain {
            describe_alias,
            analyze,
            verbose,
            query_plan,
            estimate,
            statement,
            format,
            options,
        } => Ok(Statement::Explain {
            describe_alias,
            analyze,
            verbose,
            query_plan,
            estimate,
            statement: Box::new(rewrite_call(*statement)?),
            format,
            options,
        }),
        Statement::Call(function) => Ok(procedures::plan::call_to_query(&function)?),
        update @ Statement::Update(_) => {
            Ok(crate::dml::plan::rewrite_custom_attribute_targets(update))
        }
        other => Ok(other),
    }
}

/// One statement run by [`Engine::execute_statement`].
pub struct Executed {
    /// The command tag of a statement that answers with one (`INSERT`, `UPDATE`, `DELETE`,
    /// `SET`, `CREATE TABLE`, …), `None` for a query.
    pub command: Option<&'static str>,
    /// The rows: DataFusion's one-row `count` for INSERT/UPDATE/DELETE.
    pub stream: SendableRecordBatchStream,
}

/// A ready-to-use SQL session over one Intercom workspace.
pub struct Engine {
    ctx: SessionContext,
    client: Arc<IntercomClient>,
    /// The process's memory budget, shared by every session made here.
    memory: MemoryBudget,
    /// Tables whose definitions the workspace extended (custom attributes), by name. Shared
    /// with the [`SessionFactory`]s handed out, so later sessions see them too.
    discovered: Arc<std::sync::RwLock<Vec<tables::TableDef>>>,
    /// The catalog of this workspace's tables (`intercom` unless named).
    catalog: String,
    /// Other workspaces attached as catalogs (shared with the factories handed out).
    attached: Arc<std::sync::RwLock<Vec<(String, SessionFactory)>>>,
}

/// Makes fresh, independent sessions (own settings, own temporary tables) over one shared
/// Intercom client and the engine's table definitions, custom attributes included. The
/// PostgreSQL server makes one per connection. Cheap to clone.
#[derive(Clone)]
pub struct SessionFactory {
    client: Arc<IntercomClient>,
    discovered: Arc<std::sync::RwLock<Vec<tables::TableDef>>>,
    memory: MemoryBudget,
    /// The catalog its tables are in (`intercom`, or the workspace's profile name).
    catalog: String,
    /// Other workspaces, each a catalog of its own in every session (see [`Engine::attach`]).
    attached: Arc<std::sync::RwLock<Vec<(String, SessionFactory)>>>,
}

impl SessionFactory {
    /// A new `SessionContext` with every Intercom table and procedure registered, sharing the
    /// client (so one API budget and one set of request counters). Makes no request.
    pub fn new_context(&self) -> Result<SessionContext, Error> {
        self.new_context_with(new_session_config())
    }

    /// [`SessionFactory::new_context`] with a session configuration of the caller's
    /// (the server sets its own parser limits); the Intercom settings are added to it.
    pub fn new_context_with(&self, mut config: SessionConfig) -> Result<SessionContext, Error> {
        config.options_mut().catalog.default_catalog = self.catalog.clone();
        let ctx = base_context(config, &self.client.config().limits, &self.memory)?;
        register_with_client(&ctx, &self.client)?;
        crate::discovery::register(&ctx, &self.client, &self.discovered_tables())?;
        let attached = self.attached.read().map(|a| a.clone()).unwrap_or_default();
        for (catalog, other) in &attached {
            other.register_as_catalog(&ctx, catalog)?;
        }
        Ok(ctx)
    }

    /// The name of the catalog holding this workspace's tables.
    pub fn catalog(&self) -> &str {
        &self.catalog
    }

    /// The tables whose definitions the workspace extended (custom attributes).
    fn discovered_tables(&self) -> Vec<tables::TableDef> {
        self.discovered
            .read()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// Registers this workspace's tables in `ctx` as the catalog `name` (schema `public`),
    /// reading and writing through this workspace's client. Its procedures stay with the
    /// sessions whose own workspace it is.
    pub fn register_as_catalog(&self, ctx: &SessionContext, name: &str) -> Result<(), Error> {
        use datafusion::catalog::{
            CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, SchemaProvider,
        };
        let mut defs: std::collections::BTreeMap<String, tables::TableDef> = tables::all()
            .iter()
            .cloned()
            .chain(tables::custom_objects::for_types(
                &self.client.config().custom_object_types,
            ))
            .map(|d| (d.name.clone(), d))
            .collect();
        for def in self.discovered_tables() {
            defs.insert(def.name.clone(), def);
        }
        let schema = Arc::new(MemorySchemaProvider::new());
        for (table, def) in defs {
            schema.register_table(
                table,
                Arc::new(IntercomTable::new(def, self.client.clone())),
            )?;
        }
        let catalog = Arc::new(MemoryCatalogProvider::new());
        catalog.register_schema("public", schema)?;
        ctx.register_catalog(name, catalog);
        Ok(())
    }

    /// This factory with a client that refuses every write (same connections, counters and
    /// table definitions): a read-only server's sessions.
    pub fn read_only(&self) -> SessionFactory {
        let attached = self
            .attached
            .read()
            .map(|a| {
                a.iter()
                    .map(|(name, f)| (name.clone(), f.read_only()))
                    .collect()
            })
            .unwrap_or_default();
        SessionFactory {
            client: Arc::new(self.client.read_only()),
            discovered: self.discovered.clone(),
            memory: self.memory.clone(),
            catalog: self.catalog.clone(),
            attached: Arc::new(std::sync::RwLock::new(attached)),
        }
    }

    /// The shared Intercom client.
    pub fn client(&self) -> &Arc<IntercomClient> {
        &self.client
    }
}

/// The catalog of the tables of a single workspace (several workspaces: each its profile's
/// name).
pub const DEFAULT_CATALOG: &str = "intercom";

/// The session configuration every engine session starts from: `information_schema` on,
/// tables in `intercom.public`.
pub fn new_session_config() -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_default_catalog_and_schema(DEFAULT_CATALOG, "public");
    // DataFusion's top-k aggregation (`GROUP BY … ORDER BY … LIMIT n`, `DISTINCT … LIMIT n`)
    // sizes its hash table by `n` before reading a row, outside any memory pool: a LIMIT of
    // 100,000,000 asked for 32 GB at once and the failed allocation aborted the process.
    config.options_mut().optimizer.enable_topk_aggregation = false;
    config
}

/// A context with our planners and functions, but no tables yet; its queries draw on
/// `memory` and are held to `limits`.
fn base_context(
    session_config: SessionConfig,
    limits: &Limits,
    memory: &MemoryBudget,
) -> Result<SessionContext, Error> {
    let session_config = session_config.with_extension(Arc::new(*limits));
    let mut state = SessionStateBuilder::new()
        .with_config(session_config)
        .with_runtime_env(memory.session_runtime()?)
        .with_default_features();
    // `custom_attributes.plan_tier` names a column; ahead of DataFusion's struct-field
    // reading of the dot.
    if let Some(planners) = state.expr_planners() {
        planners.insert(0, Arc::new(CustomAttributePlanner));
    }
    let mut ctx = SessionContext::new_with_state(state.build());
    // json_get_str(custom_attributes, 'plan_tier'), `->>` and friends, for the JSON columns.
    datafusion_functions_json::register_all(&mut ctx)?;
    crate::limits::functions::register(&ctx, limits.max_function_bytes());
    Ok(ctx)
}

impl Engine {
    /// Builds a session with the Intercom tables registered. Makes no request.
    pub fn connect(config: Config) -> Result<Self, Error> {
        Self::connect_as(config, DEFAULT_CATALOG)
    }

    /// [`Engine::connect`] with the workspace's tables in the catalog `catalog` (a profile's
    /// name, when several workspaces are attached: `eu.public.contacts`).
    pub fn connect_as(config: Config, catalog: &str) -> Result<Self, Error> {
        let memory = MemoryBudget::new(&config.limits);
        let mut session_config = new_session_config();
        session_config.options_mut().catalog.default_catalog = catalog.to_string();
        let ctx = base_context(session_config, &config.limits, &memory)?;
        let client = register_intercom(&ctx, config)?;
        Ok(Self {
            ctx,
            client,
            memory,
            discovered: Arc::new(std::sync::RwLock::new(Vec::new())),
            catalog: catalog.to_string(),
            attached: Arc::default(),
        })
    }

    /// Adds another workspace's tables as the catalog `name`, here and in every session made
    /// from now on: `SELECT … FROM eu.public.contacts JOIN contacts …` reads both workspaces,
    /// each through its own client (token, API root, rate budget); writes to a table go to
    /// its workspace. Call after `other` discovered its custom attributes.
    pub fn attach(&self, name: &str, other: &Engine) -> Result<(), Error> {
        if name == self.catalog {
            return Err(Error::Config(format!(
                "cannot attach a workspace as '{name}': it is this workspace's own catalog"
            )));
        }
        let factory = other.base_factory();
        factory.register_as_catalog(&self.ctx, name)?;
        if let Ok(mut attached) = self.attached.write() {
            attached.retain(|(n, _)| n != name);
            attached.push((name.to_string(), factory));
        }
        Ok(())
    }

    /// The catalog of this workspace's tables.
    pub fn catalog(&self) -> &str {
        &self.catalog
    }

    /// A factory for this workspace alone (no attachments).
    fn base_factory(&self) -> SessionFactory {
        SessionFactory {
            client: self.client.clone(),
            discovered: self.discovered.clone(),
            memory: self.memory.clone(),
            catalog: self.catalog.clone(),
            attached: Arc::default(),
        }
    }

    /// Sends progress of long waits (`CALL WaitForDataExport`) to `sink` (see
    /// [`IntercomClient::report_progress_to`]).
    pub fn report_progress_to(&self, sink: crate::client::ProgressSink) {
        self.client.report_progress_to(sink);
    }

    /// A factory for more sessions like this one, sharing its client and table definitions
    /// (see [`SessionFactory`]).
    pub fn session_factory(&self) -> SessionFactory {
        SessionFactory {
            attached: self.attached.clone(),
            ..self.base_factory()
        }
    }

    /// Adds the workspace's custom attributes as typed columns of contacts, companies and
    /// conversations (`GET /data_attributes`, one request per model). Returns how many
    /// columns were added. On error the tables keep only their JSON `custom_attributes`.
    pub async fn discover_custom_attributes(&self) -> Result<usize, Error> {
        self.discover_custom_attributes_of(|_| true, true, None)
            .await
    }

    /// Like [`Engine::discover_custom_attributes`], for the tables a script names only: a
    /// one-off `-c` lookup on contacts asks for contacts' attributes and no others, and one on
    /// tags asks for none. A table is named when its name is a word of the script (a quoted
    /// name, a qualified one, in any statement), so nothing it reads is left without its
    /// attributes. Answers younger than the `cache`'s TTL are taken from it instead.
    pub async fn discover_custom_attributes_for(
        &self,
        sql: &str,
        cache: Option<&SchemaCache>,
    ) -> Result<usize, Error> {
        use datafusion::sql::sqlparser::dialect::GenericDialect;
        use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
        let words: std::collections::HashSet<String> =
            match Tokenizer::new(&GenericDialect {}, sql).tokenize() {
                Ok(tokens) => tokens
                    .into_iter()
                    .filter_map(|t| match t {
                        Token::Word(w) => Some(w.value.to_lowercase()),
                        _ => None,
                    })
                    .collect(),
                // The script will fail with its own error; discover everything meanwhile.
                Err(_) => {
                    return self
                        .discover_custom_attributes_of(|_| true, true, cache)
                        .await;
                }
            };
        // A ticket type's table is named `<type>_tickets`.
        let ticket_types = words.iter().any(|w| w.ends_with("_tickets"));
        self.discover_custom_attributes_of(|def| words.contains(&def.name), ticket_types, cache)
            .await
    }

    /// Discovers the custom attributes of the tables `wanted` picks and, with `ticket_types`,
    /// one table per ticket type (`GET /ticket_types`, see [`tables::typed_tickets`]).
    async fn discover_custom_attributes_of(
        &self,
        wanted: impl Fn(&tables::TableDef) -> bool,
        ticket_types: bool,
        cache: Option<&SchemaCache>,
    ) -> Result<usize, Error> {
        let mut defs = discover_custom_attributes(&self.ctx, &self.client, wanted, cache).await?;
        let added = defs
            .iter()
            .map(|d| {
                d.columns.len()
                    - tables::find(&d.name).map_or(d.columns.len(), |base| base.columns.len())
            })
            .sum();
        // The attributes found stay found if the ticket types cannot be read.
        let typed = match ticket_types {
            true => discover_ticket_types(&self.ctx, &self.client, cache).await,
            false => Ok(Vec::new()),
        };
        if let Ok(typed) = &typed {
            defs.extend(typed.iter().cloned());
        }
        if let Ok(mut discovered) = self.discovered.write() {
            *discovered = defs;
        }
        typed.map(|_| added)
    }

    /// The DataFusion context, for callers that want to register more tables or run DataFrames.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The shared Intercom client (request counters live here).
    pub fn client(&self) -> &Arc<IntercomClient> {
        &self.client
    }

    /// Runs one SQL statement and returns its rows as a stream: batches arrive as Intercom pages
    /// do. Dropping the stream stops the scan; no further API calls are made.
    ///
    /// The statement plans and runs on the query runtime (see [`crate::limits::runtime`]),
    /// so the caller's thread and its stack size do not matter.
    pub async fn execute_stream(&self, sql: &str) -> Result<SendableRecordBatchStream, Error> {
        Ok(self.execute_statement(sql).await?.stream)
    }

    /// Runs one SQL statement: its rows, and the command tag its plan answers with
    /// ([`command_tag`]: `INSERT`, `UPDATE`, `SET`, …; `None` for a query).
    pub async fn execute_statement(&self, sql: &str) -> Result<Executed, Error> {
        let ctx = self.ctx.clone();
        let sql = sql.to_string();
        let planned = runtime::run(async move {
            let plan = plan_sql(&ctx, &sql)
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            let command = command_tag(&plan);
            let df = ctx.execute_logical_plan(plan).await?;
            let task = Arc::new(df.task_ctx());
            Ok((df.create_physical_plan().await?, task, command))
        })
        .await;
        let (plan, task, command) = planned.map_err(Error::from_carried)?;
        Ok(Executed {
            command,
            stream: runtime::execute(plan, task)?,
        })
    }

    /// Runs one SQL statement and collects every row.
    pub async fn execute(&self, sql: &str) -> Result<Vec<RecordBatch>, Error> {
        let stream = self.execute_stream(sql).await?;
        Ok(stream.try_collect().await?)
    }

    /// Splits a script into statements (on `;`, respecting quotes and comments).
    pub fn split_statements(sql: &str) -> Result<Vec<String>, Error> {
        crate::session::split(sql)
    }

    /// The procedures (`CALL …`), grouped by resource.
    pub fn procedures(&self) -> &'static [procedures::Procedure] {
        procedures::all()
    }

    /// The procedure called `name` (CALL or table-function name, any case), or an error that
    /// suggests the nearest name.
    pub fn procedure(&self, name: &str) -> Result<&'static procedures::Procedure, Error> {
        procedures::find(name).ok_or_else(|| procedures::ProcedureError::unknown(name).into())
    }

    /// The Intercom tables, sorted by name.
    pub fn tables(&self) -> Vec<TableInfo> {
        let discovered = self
            .discovered
            .read()
            .map(|d| d.clone())
            .unwrap_or_default();
        tables::all()
            .iter()
            .map(|def| {
                discovered
                    .iter()
                    .find(|d| d.name == def.name)
                    .cloned()
                    .unwrap_or_else(|| def.clone())
            })
            .map(|def| TableInfo {
                name: def.name.clone(),
                description: def.description.clone(),
                schema: def.schema(),
                column_descriptions: def.columns.iter().map(|c| c.description.clone()).collect(),
            })
            .collect()
    }
}

/// Statement splitting with DataFusion's SQL tokenizer, so `;` inside strings or comments is kept.
fn split(sql: &str) -> Result<Vec<String>, Error> {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| Error::Sql(e.to_string()))?;
    let mut statements = Vec::new();
    let mut current = String::new();
    // Whether `current` holds anything but whitespace and comments.
    let mut substantive = false;
    for token in tokens {
        match token {
            Token::SemiColon => {
                if substantive {
                    statements.push(current.trim().to_string());
                }
                current.clear();
                substantive = false;
            }
            Token::Whitespace(_) => current.push_str(&token.to_string()),
            other => {
                substantive = true;
                current.push_str(&other.to_string());
            }
        }
    }
    if substantive {
        statements.push(current.trim().to_string());
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_on_semicolons_outside_strings_and_skips_empty_statements() {
        let got = split("SELECT 'a;b'; -- only a comment\n; SELECT 2;;").unwrap();
        assert_eq!(
            got,
            vec!["SELECT 'a;b'".to_string(), "SELECT 2".to_string()]
        );
    }
}
