//! `INSERT … RETURNING`, `UPDATE … RETURNING` and `DELETE … RETURNING` on Intercom tables.
//!
//! DataFusion plans no RETURNING clause, so the statement is planned in two halves: the write
//! without its clause (a [`WriteNode`]), and `SELECT <the clause> FROM <the table>`, whose
//! table scan is then replaced by the write. The write answers with the rows it wrote, in
//! the table's own columns, and the SELECT's projection (expressions, aliases, `*`) applies
//! to them as to any row of the table:
//! - INSERT and UPDATE: the object Intercom answered the request with (the created contact
//!   with its new `id`, the updated ticket); a child table's row keeps its parent key
//!   (`contact_id` of a note or of an attached tag) from the statement's row;
//! - DELETE: the row as it was read before it was deleted.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::DefaultTableSource;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    FromTable, SelectItem, Statement, TableFactor, TableObject, TableWithJoins,
};

use super::DmlError;
use super::error::external;
use super::plan::{WriteNode, rewrite};
use crate::provider::IntercomTable;

/// The RETURNING clause taken out of a statement: the SELECT that applies it.
pub struct Returning {
    /// `SELECT <items> FROM <table [alias]>`, as SQL text.
    pub select: String,
}

/// Takes the RETURNING clause out of `statement` (which is left a plain write); `None` when
/// there is none, or the statement is not a write.
pub fn take(statement: &mut DFStatement) -> Result<Option<Returning>> {
    let statement = match statement {
        DFStatement::Statement(statement) => statement,
        DFStatement::Explain(explain) => {
            return match take(&mut explain.statement)? {
                Some(_) => Err(external(DmlError::Unsupported(
                    "EXPLAIN of a statement with RETURNING is not supported; EXPLAIN it without \
                     the RETURNING list"
                        .into(),
                ))),
                None => Ok(None),
            };
        }
        _ => return Ok(None),
    };
    let (items, relation) = match statement.as_mut() {
        Statement::Insert(insert) => {
            let Some(items) = insert.returning.take() else {
                return Ok(None);
            };
            let TableObject::TableName(name) = &insert.table else {
                return Err(unsupported("INSERT … RETURNING into a table function"));
            };
            let alias = insert
                .table_alias
                .as_ref()
                .map(|a| format!(" AS {}", a.alias))
                .unwrap_or_default();
            (items, format!("{name}{alias}"))
        }
        Statement::Update(update) => {
            let Some(items) = update.returning.take() else {
                return Ok(None);
            };
            (items, relation(&update.table)?)
        }
        Statement::Delete(delete) => {
            let Some(items) = delete.returning.take() else {
                return Ok(None);
            };
            let tables = match &delete.from {
                FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables) => tables,
            };
            let [table] = tables.as_slice() else {
                return Err(unsupported("DELETE … RETURNING from more than one table"));
            };
            (items, relation(table)?)
        }
        _ => return Ok(None),
    };
    let items: Vec<String> = items.iter().map(SelectItem::to_string).collect();
    Ok(Some(Returning {
        select: format!("SELECT {} FROM {relation}", items.join(", ")),
    }))
}

/// The written table as the FROM of the SELECT (with the statement's alias).
fn relation(table: &TableWithJoins) -> Result<String> {
    match &table.relation {
        factor @ TableFactor::Table { .. } if table.joins.is_empty() => Ok(factor.to_string()),
        _ => Err(unsupported("RETURNING on a write with joins")),
    }
}

fn unsupported(what: &str) -> DataFusionError {
    external(DmlError::Unsupported(format!("{what} is not supported")))
}

/// The plan of a statement with RETURNING: `select` (the plan of [`Returning::select`]) over
/// the write planned from the statement without its clause.
pub fn plan(write: LogicalPlan, select: LogicalPlan) -> Result<LogicalPlan> {
    let LogicalPlan::Dml(dml) = write else {
        return Err(unsupported("RETURNING on this statement"));
    };
    let table = dml.table_name.clone();
    let node = match rewrite(dml)?.data {
        LogicalPlan::Extension(ext) => ext
            .node
            .as_any()
            .downcast_ref::<WriteNode>()
            .cloned()
            .ok_or_else(|| unsupported("RETURNING on this statement"))?,
        _ => {
            return Err(unsupported(&format!(
                "RETURNING on {table}, which is not an Intercom table,"
            )));
        }
    };
    let mut node = Some(node);
    let planned = select.transform_up(|plan| match plan {
        LogicalPlan::TableScan(scan) if scan.table_name.resolved_eq(&table) => {
            let def = scan
                .source
                .as_ref()
                .downcast_ref::<DefaultTableSource>()
                .and_then(|s| s.table_provider.as_ref().downcast_ref::<IntercomTable>())
                .map(|t| t.def().columns.clone());
            match (node.take(), def) {
                (Some(mut write), Some(columns)) => {
                    write.schema = scan.projected_schema.clone();
                    write.returning = Some(columns);
                    Ok(Transformed::yes(LogicalPlan::Extension(Extension {
                        node: Arc::new(write),
                    })))
                }
                _ => Err(unsupported("RETURNING naming the written table twice")),
            }
        }
        other => Ok(Transformed::no(other)),
    })?;
    if node.is_some() {
        return Err(DataFusionError::Internal(format!(
            "the RETURNING query does not read {table}"
        )));
    }
    Ok(planned.data)
}

/// Whether `plan` writes and answers with the written rows: the command tag it ends with
/// (`INSERT`, `UPDATE`, `DELETE`), as PostgreSQL's answer to a RETURNING statement.
pub fn command(plan: &LogicalPlan) -> Option<&'static str> {
    let mut tag = None;
    let _ = plan.apply(|node| {
        if let LogicalPlan::Extension(ext) = node
            && let Some(write) = ext.node.as_any().downcast_ref::<WriteNode>()
            && write.returning.is_some()
        {
            tag = Some(write.kind.sql());
            return Ok(datafusion::common::tree_node::TreeNodeRecursion::Stop);
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    tag
}
