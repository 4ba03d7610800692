//! Procedures inside DataFusion's planning:
//!
//! - a [`RelationPlanner`] turns `archive_contact(…)` (or `ArchiveContact(…)`) in `FROM` into
//!   a [`ProcedureCallNode`], binding positional and `name => value` arguments (DataFusion's own
//!   table functions take positional arguments only);
//! - an [`AnalyzerRule`] turns `FROM t, LATERAL archive_contact(t.id)` — a join with a call
//!   whose arguments refer to `t` — into a [`ProcedureApplyNode`] over `t`: one call per row
//!   (DataFusion cannot decorrelate a lateral table function by itself);
//! - an [`ExtensionPlanner`] makes both executable ([`super::exec`]), so requests are sent when
//!   the plan runs, never while planning: `EXPLAIN` sends nothing;
//! - a [`TableFunctionImpl`] per procedure serves `SessionContext::table_function` callers.
//!
//! [`register`] installs all of it; [`call_to_query`] turns `CALL P(…)` into
//! `SELECT * FROM p(…)` so `CALL` runs the same way.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, DFSchemaRef, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::planner::{
    PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning,
};
use datafusion::logical_expr::{
    Expr, Extension, Filter, JoinType, LogicalPlan, Projection, TableType, UserDefinedLogicalNode,
    UserDefinedLogicalNodeCore, lit,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName,
    SetExpr, Statement, TableFactor,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::exec::{ProcedureApplyExec, ProcedureExec};
use super::{ColumnType, ERROR, OK, Procedure, ProcedureError, RESPONSE, bind, external, find};
use crate::client::IntercomClient;

/// Installs procedures into `ctx`: the relation planner, the LATERAL rule and one table
/// function per procedure. Their nodes become execution plans through [`extension_planner`],
/// which the session's query planner (`crate::session`) installs beside the DML one.
pub fn register(ctx: &SessionContext, client: Arc<IntercomClient>) -> Result<()> {
    ctx.register_relation_planner(Arc::new(ProcedureRelationPlanner))?;
    ctx.add_analyzer_rule(Arc::new(LateralProcedureRule));
    for procedure in super::all() {
        ctx.register_udtf(
            &procedure.function_name,
            Arc::new(ProcedureFunction {
                procedure,
                client: client.clone(),
            }),
        );
    }
    Ok(())
}

/// The last part of a possibly qualified name.
fn last_name(name: &ObjectName) -> Option<String> {
    name.0
        .last()
        .and_then(|part| part.as_ident())
        .map(|ident| ident.value.clone())
}

/// The catalog `name` qualifies a procedure with, when it is not `own` (the session's
/// workspace): `eu.ArchiveContact` or `eu.public.ArchiveContact` in a session on `us` acts on
/// the workspace attached as `eu`.
pub fn foreign_catalog(name: &ObjectName, own: &str) -> Option<String> {
    // Unquoted names are folded to lower case, as PostgreSQL reads them.
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(|i| match i.quote_style {
            Some(_) => i.value.clone(),
            None => i.value.to_lowercase(),
        })
        .collect();
    let catalog = match parts.as_slice() {
        [catalog, _, _] => catalog,
        [first, _] if first != "public" => first,
        [_] => return None,
        // Four parts or more name no procedure: refused by naming them as the catalog, so
        // the call is never run on the session's own workspace.
        _ => return Some(name.to_string()),
    };
    (catalog != own).then(|| catalog.clone())
}

/// A procedure named for a catalog that is no workspace of the session.
fn unknown_workspace(catalog: &str, procedure: &str, own: &str) -> ProcedureError {
    ProcedureError::Unsupported(format!(
        "{catalog}.{procedure}: no workspace '{catalog}' in this session (its own is '{own}'; \
         others are attached with --profile {own},{catalog})"
    ))
}

/// `CALL ArchiveContact('x')` → `SELECT * FROM archive_contact('x')`: the call is then planned
/// like the table function, so binding, `$n` parameters and execution are shared. Unknown
/// names get the nearest procedure's name.
pub fn call_to_query(call: &Function) -> Result<Statement, ProcedureError> {
    let name = last_name(&call.name).unwrap_or_else(|| call.name.to_string());
    let procedure = find(&name).ok_or_else(|| ProcedureError::unknown(&name))?;
    let args = match &call.args {
        FunctionArguments::None => Vec::new(),
        FunctionArguments::List(list) => list.args.clone(),
        FunctionArguments::Subquery(_) => {
            return Err(ProcedureError::Unsupported(format!(
                "CALL {} takes values, not a query; to call it for many rows write \
                 SELECT * FROM t, LATERAL {}(t.col)",
                procedure.name, procedure.function_name
            )));
        }
    };
    // The query is parsed without arguments and the call's own argument AST put in, so no
    // argument goes through text again (whatever the session's SQL dialect).
    let sql = format!("SELECT * FROM {}()", procedure.function_name);
    let mut statement = Parser::parse_sql(&GenericDialect {}, &sql)
        .ok()
        .and_then(|mut statements| statements.pop());
    let slot = statement.as_mut().and_then(|statement| match statement {
        Statement::Query(query) => match query.body.as_mut() {
            SetExpr::Select(select) => match select.from.first_mut().map(|f| &mut f.relation) {
                Some(TableFactor::Table {
                    args: Some(table_args),
                    name,
                    ..
                }) => {
                    // `CALL eu.ArchiveContact(…)` keeps its qualifier: `eu.archive_contact(…)`.
                    let qualifier = &call.name.0[..call.name.0.len().saturating_sub(1)];
                    name.0.splice(0..0, qualifier.iter().cloned());
                    Some(&mut table_args.args)
                }
                _ => None,
            },
            _ => None,
        },
        _ => None,
    });
    match slot {
        Some(slot) => *slot = args,
        None => {
            return Err(ProcedureError::Unsupported(format!(
                "internal error: cannot rewrite CALL {} as a query; please report it",
                procedure.name
            )));
        }
    }
    statement.ok_or_else(|| {
        ProcedureError::Unsupported("internal error: empty CALL rewrite; please report it".into())
    })
}

/// The result fields of a call: the procedure's columns, then `ok` and `error` for bulk calls,
/// then `response`.
pub fn result_fields(procedure: &Procedure, bulk: bool) -> Vec<Field> {
    let mut fields: Vec<Field> = procedure
        .columns
        .iter()
        .map(|c| Field::new(c.name, c.ty.data_type(), true))
        .collect();
    if bulk {
        fields.push(Field::new(OK, DataType::Boolean, false));
        fields.push(Field::new(ERROR, DataType::Utf8, true));
    }
    fields.push(Field::new(RESPONSE, DataType::Utf8, true));
    fields
}

fn has_outer_reference(expr: &Expr) -> bool {
    expr.exists(|e| Ok(matches!(e, Expr::OuterReferenceColumn(..))))
        .unwrap_or(false)
}

fn show_args(procedure: &Procedure, args: &[Expr]) -> String {
    procedure
        .params
        .iter()
        .zip(args)
        .filter(|(_, a)| !matches!(a, Expr::Literal(v, _) if v.is_null()))
        .map(|(p, a)| format!("{} => {a}", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One call with values known at planning (`SELECT * FROM archive_contact('x')`), or — before
/// [`LateralProcedureRule`] rewrites it — a bulk call whose arguments refer to another table.
#[derive(Clone, Debug)]
pub struct ProcedureCallNode {
    /// The procedure.
    pub procedure: &'static Procedure,
    /// One expression per parameter (NULL literals for omitted ones).
    pub args: Vec<Expr>,
    /// Whether `ok`/`error` columns are included (arguments refer to another table).
    pub bulk: bool,
    /// The catalog of the workspace it acts on, when not the session's own
    /// (`CALL eu.ArchiveContact(…)`).
    pub workspace: Option<String>,
    schema: DFSchemaRef,
}

impl ProcedureCallNode {
    fn new(
        procedure: &'static Procedure,
        args: Vec<Expr>,
        workspace: Option<String>,
    ) -> Result<Self> {
        let bulk = args.iter().any(has_outer_reference);
        let schema = DFSchema::try_from_qualified_schema(
            procedure.function_name.as_str(),
            &Schema::new(result_fields(procedure, bulk)),
        )?;
        Ok(Self {
            procedure,
            args,
            bulk,
            workspace,
            schema: Arc::new(schema),
        })
    }
}

impl PartialEq for ProcedureCallNode {
    fn eq(&self, other: &Self) -> bool {
        self.procedure.name == other.procedure.name
            && self.args == other.args
            && self.bulk == other.bulk
            && self.workspace == other.workspace
    }
}
impl Eq for ProcedureCallNode {}
impl Hash for ProcedureCallNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.procedure.name.hash(state);
        self.args.hash(state);
        self.workspace.hash(state);
    }
}
impl PartialOrd for ProcedureCallNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.procedure.name.cmp(other.procedure.name) {
            Ordering::Equal => self.args.partial_cmp(&other.args),
            unequal => Some(unequal),
        }
    }
}

impl UserDefinedLogicalNodeCore for ProcedureCallNode {
    fn name(&self) -> &str {
        "ProcedureCall"
    }
    fn inputs(&self) -> Vec<&LogicalPlan> {
        Vec::new()
    }
    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }
    fn expressions(&self) -> Vec<Expr> {
        self.args.clone()
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ProcedureCall: {}({}) [{}]",
            self.procedure.name,
            show_args(self.procedure, &self.args),
            self.procedure.endpoint()
        )
    }
    fn with_exprs_and_inputs(&self, exprs: Vec<Expr>, _inputs: Vec<LogicalPlan>) -> Result<Self> {
        Ok(Self {
            args: exprs,
            ..self.clone()
        })
    }
}

/// A bulk call: the procedure once per row of `input`, arguments evaluated on that row. The
/// output is the input's columns plus the procedure's result columns (named with a unique
/// prefix, so predicates on input columns can be pushed below it by name).
#[derive(Clone, Debug)]
pub struct ProcedureApplyNode {
    /// Rows to call the procedure for.
    pub input: LogicalPlan,
    /// The procedure.
    pub procedure: &'static Procedure,
    /// One expression per parameter, over the input's columns.
    pub args: Vec<Expr>,
    /// Prefix of the result columns' names (`__call3_`).
    pub prefix: String,
    /// The catalog of the workspace it acts on, when not the session's own.
    pub workspace: Option<String>,
    schema: DFSchemaRef,
}

impl ProcedureApplyNode {
    fn new(
        input: LogicalPlan,
        procedure: &'static Procedure,
        args: Vec<Expr>,
        prefix: String,
        workspace: Option<String>,
    ) -> Result<Self> {
        let fields: Vec<Field> = result_fields(procedure, true)
            .into_iter()
            .map(|f| {
                let name = format!("{prefix}{}", f.name());
                f.with_name(name)
            })
            .collect();
        let added = DFSchema::from_unqualified_fields(fields.into(), Default::default())?;
        let schema = input.schema().join(&added)?;
        Ok(Self {
            input,
            procedure,
            args,
            prefix,
            workspace,
            schema: Arc::new(schema),
        })
    }
}

impl PartialEq for ProcedureApplyNode {
    fn eq(&self, other: &Self) -> bool {
        self.procedure.name == other.procedure.name
            && self.args == other.args
            && self.prefix == other.prefix
            && self.input == other.input
            && self.workspace == other.workspace
    }
}
impl Eq for ProcedureApplyNode {}
impl Hash for ProcedureApplyNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.procedure.name.hash(state);
        self.args.hash(state);
        self.prefix.hash(state);
        self.input.hash(state);
    }
}
impl PartialOrd for ProcedureApplyNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self.procedure.name, &self.prefix).cmp(&(other.procedure.name, &other.prefix)) {
            Ordering::Equal => self.args.partial_cmp(&other.args),
            unequal => Some(unequal),
        }
    }
}

impl UserDefinedLogicalNodeCore for ProcedureApplyNode {
    fn name(&self) -> &str {
        "ProcedureApply"
    }
    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }
    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }
    fn expressions(&self) -> Vec<Expr> {
        self.args.clone()
    }
    /// Only predicates on the procedure's results must stay above; the prefix keeps their
    /// names apart from the input's (`c.id` vs the result `id`).
    fn prevent_predicate_push_down_columns(&self) -> HashSet<String> {
        self.schema
            .fields()
            .iter()
            .filter(|f| f.name().starts_with(&self.prefix))
            .map(|f| f.name().clone())
            .collect()
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ProcedureApply: {}({}) for each input row [{}]",
            self.procedure.name,
            show_args(self.procedure, &self.args),
            self.procedure.endpoint()
        )
    }
    fn with_exprs_and_inputs(
        &self,
        exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        let input = inputs
            .pop()
            .ok_or_else(|| DataFusionError::Internal("ProcedureApply needs its input".into()))?;
        Self::new(
            input,
            self.procedure,
            exprs,
            self.prefix.clone(),
            self.workspace.clone(),
        )
    }
    /// One output row per input row, so a LIMIT may be applied to the input: `LIMIT 5`
    /// acts on five rows only.
    fn supports_limit_pushdown(&self) -> bool {
        true
    }
    /// The input columns the output keeps; DataFusion adds those the arguments read.
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let input_len = self.input.schema().fields().len();
        Some(vec![
            output_columns
                .iter()
                .copied()
                .filter(|i| *i < input_len)
                .collect(),
        ])
    }
}

/// `$1` as a procedure argument takes the parameter's type, so a client preparing
/// `SELECT * FROM archive_contact($1)` (pgjdbc's `{call …}` escape) learns what to send.
/// Timestamps are declared as text: ISO-8601 text is what clients send most easily, and
/// binding also accepts Unix seconds in it.
fn typed_placeholder(expr: Expr, ty: ColumnType) -> Expr {
    match expr {
        Expr::Placeholder(mut placeholder) if placeholder.field.is_none() => {
            let data_type = match ty {
                ColumnType::Timestamp => DataType::Utf8,
                other => other.data_type(),
            };
            placeholder.field = Some(Arc::new(Field::new(
                placeholder.id.clone(),
                data_type,
                true,
            )));
            Expr::Placeholder(placeholder)
        }
        other => other,
    }
}

/// Plans procedure calls in `FROM`.
#[derive(Debug)]
struct ProcedureRelationPlanner;

impl RelationPlanner for ProcedureRelationPlanner {
    fn plan_relation(
        &self,
        relation: TableFactor,
        context: &mut dyn RelationPlannerContext,
    ) -> Result<RelationPlanning> {
        let procedure = match &relation {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => last_name(name).and_then(|n| find(&n)),
            _ => None,
        };
        let Some(procedure) = procedure else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let mut workspace = None;
        if let TableFactor::Table { name, .. } | TableFactor::Function { name, .. } = &relation {
            let own = context
                .context_provider()
                .options()
                .catalog
                .default_catalog
                .clone();
            // Whether it is a workspace is known once the session's catalogs are at hand
            // (`ProcedureExtensionPlanner::client_for`).
            workspace = foreign_catalog(name, &own);
        }
        let (args, alias) = match relation {
            TableFactor::Table {
                args: Some(args),
                alias,
                ..
            } => (args.args, alias),
            TableFactor::Function { args, alias, .. } => (args, alias),
            other => return Ok(RelationPlanning::Original(Box::new(other))),
        };
        let mut planned = Vec::with_capacity(args.len());
        for arg in args {
            let (name, expr) = match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => (None, expr),
                FunctionArg::Named {
                    name,
                    arg: FunctionArgExpr::Expr(expr),
                    ..
                } => (Some(name.value), expr),
                FunctionArg::ExprNamed {
                    name: SqlExpr::Identifier(name),
                    arg: FunctionArgExpr::Expr(expr),
                    ..
                } => (Some(name.value), expr),
                other => {
                    return Err(external(ProcedureError::Arguments(format!(
                        "{}: unsupported argument {other}; pass values, or name => value",
                        procedure.name
                    ))));
                }
            };
            // Column names resolve against the outer query only: in `FROM t, LATERAL p(t.id)`
            // DataFusion has put `t` there, making them outer references.
            let expr = context.sql_to_expr(expr, &DFSchema::empty())?;
            planned.push((name, expr));
        }
        let slots = bind::arrange(procedure, planned).map_err(external)?;
        let args = slots
            .into_iter()
            .zip(&procedure.params)
            .map(|(slot, param)| match slot {
                Some(expr) => typed_placeholder(expr, param.ty),
                None => lit(ScalarValue::Null),
            })
            .collect();
        let node = ProcedureCallNode::new(procedure, args, workspace)?;
        let plan = LogicalPlan::Extension(Extension {
            node: Arc::new(node),
        });
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(
            plan, alias,
        ))))
    }
}

/// Rewrites lateral joins with a procedure call into [`ProcedureApplyNode`]s.
///
/// ```text
/// Join Inner (no condition)                Projection [c.*, __call1_id AS a.id, …]
///   SubqueryAlias c: contacts        →       ProcedureApply ArchiveContact(contact_id => c.id)
///   SubqueryAlias a                            SubqueryAlias c: contacts
///     Subquery [outer_ref(c.id)]
///       ProcedureCall ArchiveContact
/// ```
#[derive(Debug)]
struct LateralProcedureRule;

impl AnalyzerRule for LateralProcedureRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        // Result columns are named `__call<n>_<column>`, numbered within the plan so EXPLAIN
        // output is the same every time.
        let mut next = first_free_call_number(&plan)?;
        let plan = plan
            .transform_up_with_subqueries(|node| rewrite_lateral(node, &mut next))?
            .data;
        // Anything left refers to another table in a way we cannot run row by row.
        let mut stray = None;
        plan.apply_with_subqueries(|node| {
            if let Some(call) = as_call(node)
                && call.bulk
            {
                stray = Some(call.procedure);
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        if let Some(procedure) = stray {
            return Err(external(ProcedureError::Unsupported(format!(
                "{}: arguments that refer to another table work only as FROM t, LATERAL {}(t.col) (or CROSS/LEFT JOIN LATERAL … ON true)",
                procedure.name, procedure.function_name
            ))));
        }
        Ok(plan)
    }

    fn name(&self) -> &str {
        "intercom_lateral_procedure"
    }
}

fn as_call(plan: &LogicalPlan) -> Option<&ProcedureCallNode> {
    match plan {
        LogicalPlan::Extension(e) => e.node.as_any().downcast_ref::<ProcedureCallNode>(),
        _ => None,
    }
}

/// The call at the bottom of a lateral join's right side, and each output column of that side
/// as an expression over the call's columns. `None` for shapes other than aliases, subquery
/// wrappers and projections over a call.
fn procedure_side(plan: &LogicalPlan) -> Result<Option<(ProcedureCallNode, Vec<Expr>)>> {
    match plan {
        LogicalPlan::Extension(_) => Ok(as_call(plan).map(|call| {
            let columns = call
                .schema
                .columns()
                .into_iter()
                .map(Expr::Column)
                .collect();
            (call.clone(), columns)
        })),
        LogicalPlan::SubqueryAlias(alias) => procedure_side(&alias.input),
        LogicalPlan::Subquery(subquery) => procedure_side(&subquery.subquery),
        LogicalPlan::Projection(projection) => {
            let Some((call, inner)) = procedure_side(&projection.input)? else {
                return Ok(None);
            };
            let input_schema = projection.input.schema();
            let mut exprs = Vec::with_capacity(projection.expr.len());
            for expr in &projection.expr {
                let rewritten = expr.clone().unalias().transform(|e| match e {
                    Expr::Column(c) => {
                        let index = input_schema.index_of_column(&c)?;
                        let inner = inner.get(index).ok_or_else(|| {
                            DataFusionError::Internal(format!("no input column {index}"))
                        })?;
                        Ok(Transformed::yes(inner.clone()))
                    }
                    other => Ok(Transformed::no(other)),
                })?;
                exprs.push(rewritten.data);
            }
            Ok(Some((call, exprs)))
        }
        _ => Ok(None),
    }
}

/// One more than the highest `n` of the plan's existing `__call<n>_` prefixes.
fn first_free_call_number(plan: &LogicalPlan) -> Result<usize> {
    let mut highest = 0;
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Extension(e) = node
            && let Some(apply) = e.node.as_any().downcast_ref::<ProcedureApplyNode>()
            && let Some(n) = apply
                .prefix
                .strip_prefix("__call")
                .and_then(|rest| rest.trim_end_matches('_').parse::<usize>().ok())
        {
            highest = highest.max(n);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(highest + 1)
}

fn rewrite_lateral(node: LogicalPlan, next: &mut usize) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Join(join) = &node else {
        return Ok(Transformed::no(node));
    };
    let Some((call, right_exprs)) = procedure_side(&join.right)? else {
        return Ok(Transformed::no(node));
    };
    if !call.bulk {
        // Constant arguments: an ordinary join with a one-row table.
        return Ok(Transformed::no(node));
    }
    let unsupported = |what: &str| {
        Err(external(ProcedureError::Unsupported(format!(
            "{}: {what}; write FROM t, LATERAL {}(t.col) or LEFT JOIN LATERAL {}(t.col) ON true, and filter in WHERE",
            call.procedure.name, call.procedure.function_name, call.procedure.function_name
        ))))
    };
    let always = |filter: &Option<Expr>| {
        filter
            .as_ref()
            .is_none_or(|f| matches!(f, Expr::Literal(ScalarValue::Boolean(Some(true)), _)))
    };
    let filter = match join.join_type {
        JoinType::Inner if join.on.is_empty() => {
            join.filter.clone().filter(|_| !always(&join.filter))
        }
        JoinType::Left if join.on.is_empty() && always(&join.filter) => None,
        _ => return unsupported("a bulk call cannot be joined with a condition or this join type"),
    };
    let prefix = format!("__call{next}_");
    *next += 1;
    let args = call
        .args
        .iter()
        .map(|arg| {
            arg.clone()
                .transform(|e| match e {
                    Expr::OuterReferenceColumn(_, column) => {
                        Ok(Transformed::yes(Expr::Column(column)))
                    }
                    other => Ok(Transformed::no(other)),
                })
                .map(|t| t.data)
        })
        .collect::<Result<Vec<_>>>()?;
    let left = join.left.as_ref().clone();
    let left_len = left.schema().fields().len();
    let apply = ProcedureApplyNode::new(
        left,
        call.procedure,
        args,
        prefix.clone(),
        call.workspace.clone(),
    )?;
    // Right-side expressions read the call's columns; point them at the apply's.
    let call_schema = call.schema.clone();
    let mut exprs: Vec<Expr> = join
        .left
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    for (i, (qualifier, field)) in join.schema.iter().enumerate().skip(left_len) {
        let right = right_exprs.get(i - left_len).ok_or_else(|| {
            DataFusionError::Internal(format!("lateral join column {i} has no expression"))
        })?;
        let expr = right.clone().transform(|e| match e {
            Expr::Column(c) if call_schema.has_column(&c) => Ok(Transformed::yes(Expr::Column(
                Column::from_name(format!("{prefix}{}", c.name)),
            ))),
            // `LATERAL (SELECT c.email, … FROM p(c.id))`: the left side's columns, now local.
            Expr::OuterReferenceColumn(_, column) => Ok(Transformed::yes(Expr::Column(column))),
            other => Ok(Transformed::no(other)),
        })?;
        exprs.push(expr.data.alias_qualified(qualifier.cloned(), field.name()));
    }
    let projection = Projection::try_new(
        exprs,
        Arc::new(LogicalPlan::Extension(Extension {
            node: Arc::new(apply),
        })),
    )?;
    let mut plan = LogicalPlan::Projection(projection);
    if let Some(condition) = filter {
        plan = LogicalPlan::Filter(Filter::try_new(condition, Arc::new(plan))?);
    }
    Ok(Transformed::yes(plan))
}

/// Turns procedure nodes into execution plans.
pub fn extension_planner(client: Arc<IntercomClient>) -> Arc<dyn ExtensionPlanner + Send + Sync> {
    Arc::new(ProcedureExtensionPlanner { client })
}

#[derive(Debug)]
struct ProcedureExtensionPlanner {
    client: Arc<IntercomClient>,
}

impl ProcedureExtensionPlanner {
    /// The client of `workspace` (a catalog of the session holding another workspace's
    /// tables: its tables read and write through it), or the session's own.
    async fn client_for(
        &self,
        session: &dyn Session,
        workspace: Option<&str>,
        procedure: &Procedure,
    ) -> Result<Arc<IntercomClient>> {
        let Some(catalog) = workspace else {
            return Ok(self.client.clone());
        };
        let table = match session
            .as_any()
            .downcast_ref::<datafusion::execution::session_state::SessionState>()
            .and_then(|state| state.catalog_list().catalog(catalog))
            .and_then(|c| c.schema("public"))
        {
            Some(schema) => schema.table("admins").await?,
            None => None,
        };
        table
            .as_ref()
            .and_then(|t| t.as_ref().downcast_ref::<crate::provider::IntercomTable>())
            .map(|t| t.client().clone())
            .ok_or_else(|| {
                let own = &session.config_options().catalog.default_catalog;
                DataFusionError::External(Box::new(unknown_workspace(
                    catalog,
                    &procedure.function_name,
                    own,
                )))
            })
    }
}

#[async_trait]
impl ExtensionPlanner for ProcedureExtensionPlanner {
    async fn plan_extension(
        &self,
        planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        session: &dyn Session,
        planning_ctx: &datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        if let Some(call) = node.as_any().downcast_ref::<ProcedureCallNode>() {
            let empty = DFSchema::empty();
            let args = call
                .args
                .iter()
                .map(|e| planner.create_physical_expr(e, &empty, session, planning_ctx))
                .collect::<Result<Vec<_>>>()?;
            let schema: SchemaRef = Arc::new(call.schema.as_arrow().clone());
            let client = self
                .client_for(session, call.workspace.as_deref(), call.procedure)
                .await?;
            return Ok(Some(Arc::new(ProcedureExec::new(
                call.procedure,
                args,
                schema,
                client,
            ))));
        }
        if let Some(apply) = node.as_any().downcast_ref::<ProcedureApplyNode>() {
            let (Some(logical), Some(physical)) = (logical_inputs.first(), physical_inputs.first())
            else {
                return Err(DataFusionError::Internal(
                    "ProcedureApply without input".into(),
                ));
            };
            let args = apply
                .args
                .iter()
                .map(|e| planner.create_physical_expr(e, logical.schema(), session, planning_ctx))
                .collect::<Result<Vec<_>>>()?;
            let schema: SchemaRef = Arc::new(apply.schema.as_arrow().clone());
            let client = self
                .client_for(session, apply.workspace.as_deref(), apply.procedure)
                .await?;
            return Ok(Some(Arc::new(ProcedureApplyExec::new(
                physical.clone(),
                apply.procedure,
                args,
                schema,
                client,
            ))));
        }
        Ok(None)
    }
}

/// A procedure as a DataFusion table function, for `SessionContext::table_function` callers
/// (SQL goes through the relation planner, which also takes named arguments).
#[derive(Debug)]
struct ProcedureFunction {
    procedure: &'static Procedure,
    client: Arc<IntercomClient>,
}

impl TableFunctionImpl for ProcedureFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let positional = args.exprs().iter().map(|e| (None, e.clone())).collect();
        let slots = bind::arrange(self.procedure, positional).map_err(external)?;
        let args: Vec<Expr> = slots
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| lit(ScalarValue::Null)))
            .collect();
        let schema = Arc::new(Schema::new(result_fields(self.procedure, false)));
        Ok(Arc::new(ProcedureTable {
            procedure: self.procedure,
            args,
            schema,
            client: self.client.clone(),
        }))
    }
}

/// One call as a table; the request is sent when the scan executes.
#[derive(Debug)]
struct ProcedureTable {
    procedure: &'static Procedure,
    args: Vec<Expr>,
    schema: SchemaRef,
    client: Arc<IntercomClient>,
}

#[async_trait]
impl TableProvider for ProcedureTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let empty = DFSchema::empty();
        let args = self
            .args
            .iter()
            .map(|e| state.create_physical_expr(e.clone(), &empty))
            .collect::<Result<Vec<_>>>()?;
        let exec = ProcedureExec::new(
            self.procedure,
            args,
            self.schema.clone(),
            self.client.clone(),
        );
        Ok(Arc::new(match projection {
            Some(columns) => exec.with_projection(columns.clone())?,
            None => exec,
        }))
    }
}
