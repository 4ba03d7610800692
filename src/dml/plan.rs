//! INSERT/UPDATE/DELETE inside DataFusion's planning.
//!
//! DataFusion plans `UPDATE t SET … WHERE …` as a `Dml` node over a query that yields, for
//! every matching row, the row's new values: a projection over a filter over the table scan
//! (or over joins, for subqueries and `UPDATE … FROM`). [`DmlRule`] replaces the `Dml` node of
//! an Intercom table by a [`WriteNode`] over that same query, so the rows to change are found
//! exactly as a SELECT would find them — same pushdown, same results — and only then written.
//! Statements are checked here, before anything runs: the table and statement kind must be
//! writable, only settable columns may be given, and UPDATE/DELETE need a WHERE clause.
//! [`super::exec::WritePlanner`] makes the node executable ([`super::exec::WriteExec`]); nothing is
//! sent before the plan runs, so EXPLAIN sends nothing (EXPLAIN ANALYZE runs the statement).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchemaRef, ScalarValue, TableReference};
use datafusion::datasource::DefaultTableSource;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{
    DmlStatement, Expr, Extension, LogicalPlan, UserDefinedLogicalNodeCore, WriteOp,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::sql::sqlparser::ast::{
    AssignmentTarget, Ident, ObjectName, ObjectNamePart, Statement,
};

use super::DmlError;
use super::error::external;
use super::{Kind, TableWrites, Write};
use crate::provider::IntercomTable;
use crate::tables::{ColumnDef, ColumnType};

/// Turns `Dml` nodes on Intercom tables into [`WriteNode`]s (other tables are left alone).
#[derive(Debug)]
pub struct DmlRule;

impl AnalyzerRule for DmlRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up(|node| match node {
            LogicalPlan::Dml(dml) => rewrite(dml),
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "intercom_dml"
    }
}

fn refuse(message: String) -> DataFusionError {
    external(DmlError::Unsupported(message))
}

pub(super) fn rewrite(dml: DmlStatement) -> Result<Transformed<LogicalPlan>> {
    let Some(table) = dml
        .target
        .as_ref()
        .downcast_ref::<DefaultTableSource>()
        .and_then(|s| s.table_provider.as_ref().downcast_ref::<IntercomTable>())
    else {
        return Ok(Transformed::no(LogicalPlan::Dml(dml)));
    };
    let def = table.def();
    let name = def.name.clone();
    let kind = match &dml.op {
        WriteOp::Insert(InsertOp::Append) => Kind::Insert,
        WriteOp::Insert(other) => {
            return Err(refuse(format!(
                "{other} is not supported on {name}; use INSERT INTO {name} … VALUES/SELECT"
            )));
        }
        WriteOp::Update => Kind::Update,
        WriteOp::Delete => Kind::Delete,
        WriteOp::Truncate => {
            return Err(refuse(format!(
                "TRUNCATE is not supported on {name}; use DELETE FROM {name} WHERE …"
            )));
        }
        _ => return Ok(Transformed::no(LogicalPlan::Dml(dml))),
    };
    let statement = statement_name(kind, &name);
    let writes = def.writes.clone().ok_or_else(|| {
        let writable: Vec<&str> = super::all().map(|t| t.table).collect();
        refuse(format!(
            "{statement}: Intercom has no way to write {name}; writable tables are {}",
            writable.join(", ")
        ))
    })?;
    let write = writes.write(kind).ok_or_else(|| {
        refuse(format!(
            "{statement} is not supported: {name} takes {} only",
            writes.kinds()
        ))
    })?;
    if kind != Kind::Insert && !has_where(&dml.input) {
        return Err(refuse(format!(
            "{statement} without WHERE is refused: it would act on every row. Add a WHERE clause (WHERE true if you mean every row; intercom.max_write_rows still applies)"
        )));
    }
    let target = target_names(&dml.table_name, &dml.input);
    let mut given = given_columns(kind, &dml.input, &target);
    check_given(kind, &statement, &writes, write, &given)?;
    // A table holding one kind of object (`bug_report_tickets`) creates that kind: its fixed
    // column goes into every INSERT, filled when the statement leaves it out.
    let fixed = def.fixed.clone().filter(|_| kind == Kind::Insert);
    if let Some((column, _)) = &fixed
        && !given.contains(column)
    {
        given.push(column.clone());
    }
    let json_columns = def
        .columns
        .iter()
        .filter(|c| c.kind == ColumnType::Json)
        .map(|c| c.name.clone())
        .collect();
    let node = WriteNode {
        client: Workspace(table.client().clone()),
        table: name,
        kind,
        writes: Arc::new(writes),
        fixed,
        given,
        json_columns,
        input: Arc::unwrap_or_clone(dml.input),
        schema: dml.output_schema,
        returning: None,
    };
    Ok(Transformed::yes(LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    })))
}

/// `UPDATE contacts`, `INSERT INTO notes`, `DELETE FROM tags`.
pub(crate) fn statement_name(kind: Kind, table: &str) -> String {
    match kind {
        Kind::Insert => format!("INSERT INTO {table}"),
        Kind::Update => format!("UPDATE {table}"),
        Kind::Delete => format!("DELETE FROM {table}"),
    }
}

/// Whether the statement has a WHERE clause of its own: the SQL planner puts its filter right
/// under UPDATE's projection, or at the top of DELETE's input. A filter deeper down (inside an
/// `UPDATE … FROM (subquery)`) does not count.
fn has_where(input: &LogicalPlan) -> bool {
    match input {
        LogicalPlan::Filter(_) => true,
        LogicalPlan::Projection(projection) => {
            matches!(projection.input.as_ref(), LogicalPlan::Filter(_))
        }
        _ => false,
    }
}

/// The columns the statement gives values for: INSERT's column list (columns left out are
/// filled with a NULL literal by the SQL planner), UPDATE's SET list (the other columns are
/// projected unchanged).
fn given_columns(kind: Kind, input: &LogicalPlan, target: &[TableReference]) -> Vec<String> {
    let LogicalPlan::Projection(projection) = input else {
        return match kind {
            Kind::Delete => Vec::new(),
            _ => input
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
        };
    };
    if kind == Kind::Delete {
        return Vec::new();
    }
    projection
        .expr
        .iter()
        .filter_map(|expr| {
            let Expr::Alias(alias) = expr else {
                return None;
            };
            let unchanged = match (kind, alias.expr.as_ref()) {
                (Kind::Insert, inner) => is_null_literal(inner),
                // `SET name = s.name` (UPDATE … FROM) copies another table's column.
                (_, Expr::Column(c)) => {
                    c.name == alias.name
                        && c.relation
                            .as_ref()
                            .is_none_or(|r| target.iter().any(|t| r.resolved_eq(t)))
                }
                _ => false,
            };
            (!unchanged).then(|| alias.name.clone())
        })
        .collect()
}

/// The names the target table goes by in the statement: its own, and its alias if it has one.
fn target_names(table: &TableReference, input: &LogicalPlan) -> Vec<TableReference> {
    let mut names = vec![table.clone()];
    let _ = input.apply(|node| {
        if let LogicalPlan::SubqueryAlias(alias) = node
            && let LogicalPlan::TableScan(scan) = alias.input.as_ref()
            && scan.table_name.resolved_eq(table)
        {
            names.push(alias.alias.clone());
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    names
}

fn is_null_literal(expr: &Expr) -> bool {
    match expr {
        Expr::Literal(ScalarValue::Null, _) => true,
        Expr::Literal(value, _) => value.is_null(),
        Expr::Cast(cast) => is_null_literal(&cast.expr),
        Expr::TryCast(cast) => is_null_literal(&cast.expr),
        _ => false,
    }
}

fn check_given(
    kind: Kind,
    statement: &str,
    writes: &TableWrites,
    write: &Write,
    given: &[String],
) -> Result<()> {
    let path_columns = write.path_columns();
    for column in given {
        let in_request =
            path_columns.contains(column) || write.keys.iter().any(|(c, _)| c == column);
        let identifies = writes.key.contains(&column.as_str()) || in_request;
        let ok = match kind {
            // INSERT gives the columns its request names (a note's contact_id); Intercom
            // assigns the new object's own id.
            Kind::Insert => write.settable(column) || in_request,
            _ => write.settable(column),
        };
        if ok {
            continue;
        }
        if identifies {
            if kind == Kind::Insert {
                return Err(refuse(format!(
                    "{statement}: {column} is assigned by Intercom and cannot be given"
                )));
            }
            return Err(refuse(format!(
                "{statement}: {column} identifies the row and cannot be changed"
            )));
        }
        return Err(refuse(format!(
            "{statement}: column {column} cannot be set through the API; settable columns: {}",
            write.settable_list()
        )));
    }
    if kind == Kind::Update && given.is_empty() {
        return Err(refuse(format!("{statement}: SET changes nothing")));
    }
    Ok(())
}

/// The workspace a write goes to: the client of the table written (each workspace's tables
/// have their own, so `eu.public.contacts` is written in the EU workspace).
#[derive(Clone)]
pub struct Workspace(pub Arc<crate::client::IntercomClient>);

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0.config().base_url)
    }
}

/// A write statement on an Intercom table, over the query yielding its rows.
#[derive(Debug, Clone)]
pub struct WriteNode {
    /// The workspace written.
    pub client: Workspace,
    /// SQL table name.
    pub table: String,
    /// Statement kind.
    pub kind: Kind,
    /// What the table accepts (declared with it, or made when its definition was discovered).
    pub writes: Arc<TableWrites>,
    /// INSERT into a table of one kind of object: the column that says which, and its value.
    pub fixed: Option<(String, String)>,
    /// Columns the statement gives values for.
    pub given: Vec<String>,
    /// Columns holding JSON text (sent as JSON values).
    pub json_columns: Vec<String>,
    /// The rows to write (INSERT: new rows; UPDATE: rows with their new values; DELETE: the
    /// rows to delete).
    pub input: LogicalPlan,
    /// `count`, as DataFusion's own DML; with `returning`, the table's own columns.
    pub schema: DFSchemaRef,
    /// With `RETURNING`: the table's columns, which the written rows are answered with (see
    /// [`super::returning`]).
    pub returning: Option<Vec<ColumnDef>>,
}

impl PartialEq for WriteNode {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.client.0, &other.client.0)
            && self.table == other.table
            && self.kind == other.kind
            && self.given == other.given
            && self.input == other.input
            && self.returning.is_some() == other.returning.is_some()
    }
}

impl Eq for WriteNode {}

impl Hash for WriteNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.table.hash(state);
        self.kind.hash(state);
        self.given.hash(state);
        self.input.hash(state);
    }
}

impl PartialOrd for WriteNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (&self.table, self.kind, &self.given)
            .partial_cmp(&(&other.table, other.kind, &other.given))
            .filter(|o| *o != Ordering::Equal || self == other)
    }
}

impl UserDefinedLogicalNodeCore for WriteNode {
    fn name(&self) -> &str {
        "IntercomWrite"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let endpoint = self
            .writes
            .write(self.kind)
            .map(Write::endpoint)
            .unwrap_or_default();
        write!(
            f,
            "IntercomWrite: {} [{endpoint} per row]",
            statement_name(self.kind, &self.table)
        )?;
        if !self.given.is_empty() {
            write!(f, " columns=[{}]", self.given.join(", "))?;
        }
        if self.returning.is_some() {
            write!(f, " returning the written rows")?;
        }
        Ok(())
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        let input = inputs
            .pop()
            .filter(|_| inputs.is_empty())
            .ok_or_else(|| DataFusionError::Internal("IntercomWrite has one input".into()))?;
        Ok(Self {
            input,
            ..self.clone()
        })
    }
}

/// `UPDATE contacts SET custom_attributes.plan_tier = …` names the column
/// `custom_attributes.plan_tier`, as in SELECT; DataFusion would read only the last part.
pub fn rewrite_custom_attribute_targets(statement: Statement) -> Statement {
    let Statement::Update(mut update) = statement else {
        return statement;
    };
    for assignment in &mut update.assignments {
        if let AssignmentTarget::ColumnName(name) = &mut assignment.target {
            merge_custom_attribute_name(name);
        }
    }
    Statement::Update(update)
}

fn merge_custom_attribute_name(name: &mut ObjectName) {
    let idents: Option<Vec<&Ident>> = name.0.iter().map(ObjectNamePart::as_ident).collect();
    let Some(idents) = idents else { return };
    let [.., parent, attribute] = idents.as_slice() else {
        return;
    };
    if !parent.value.eq_ignore_ascii_case("custom_attributes") {
        return;
    }
    let merged = Ident::with_quote('"', format!("custom_attributes.{}", attribute.value));
    name.0 = vec![ObjectNamePart::Identifier(merged)];
}
