//! `IntercomTable`: a `TableProvider` driven by a [`TableDef`]. It decides which filters the
//! scan can answer itself (id lookups, a child table's parent key) and plans the scan.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType,
};
use datafusion::physical_plan::ExecutionPlan;

use super::scan::{IntercomScanExec, ScanColumns, ScanPlan};
use crate::client::IntercomClient;
use crate::pushdown;
use crate::settings::{IntercomOptions, Switch};
use crate::tables::TableDef;

/// A table of one Intercom object type.
#[derive(Debug)]
pub struct IntercomTable {
    def: Arc<TableDef>,
    client: Arc<IntercomClient>,
    schema: SchemaRef,
}

impl IntercomTable {
    /// A provider for `def`, reading through `client`.
    pub fn new(def: TableDef, client: Arc<IntercomClient>) -> Self {
        let schema = def.schema();
        Self {
            def: Arc::new(def),
            client,
            schema,
        }
    }

    /// The table's definition.
    pub fn def(&self) -> &TableDef {
        &self.def
    }
}

/// The expression with column references stripped of their table qualifier (the scan's own
/// schema is unqualified).
fn unqualified(expr: Expr) -> Result<Expr> {
    expr.transform_up(|e| {
        Ok(match e {
            Expr::Column(c) if c.relation.is_some() => {
                Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))
            }
            other => Transformed::no(other),
        })
    })
    .map(|t| t.data)
}

/// The literal string values a filter pins `column` to: `column = 'a'`, `column IN ('a', 'b')`
/// or `column = 'a' OR column = 'b'`.
/// Anything else (other operators, NOT IN, non-literals, other columns) gives `None`.
pub(crate) fn key_values(filter: &Expr, column: &str) -> Option<BTreeSet<String>> {
    let is_column = |e: &Expr| matches!(e, Expr::Column(c) if c.name == column);
    match filter {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let literal = if is_column(left) {
                right
            } else if is_column(right) {
                left
            } else {
                return None;
            };
            Some(BTreeSet::from([string_literal(literal)?]))
        }
        // DataFusion rewrites short IN lists as ORs of equalities.
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let mut values = key_values(left, column)?;
            values.extend(key_values(right, column)?);
            Some(values)
        }
        Expr::InList(list) if !list.negated && is_column(&list.expr) => {
            list.list.iter().map(string_literal).collect()
        }
        _ => None,
    }
}

fn string_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        _ => None,
    }
}

#[async_trait]
impl TableProvider for IntercomTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let keys = self.def.key_columns();
        Ok(filters
            .iter()
            .map(|f| {
                // The request returns a superset of the rows (see `crate::pushdown`) and the
                // scan applies the exact predicate to what comes back, so the filter is Exact:
                // DataFusion can hand the scan a LIMIT. With `SET intercom.pushdown = off` the
                // scan lists everything and applies the same predicate.
                let keyed = keys.iter().any(|k| key_values(f, k).is_some());
                if keyed || pushdown::classify(&self.def, f).is_some() {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let enabled = state
            .config_options()
            .extensions
            .get::<IntercomOptions>()
            .is_none_or(|o| o.pushdown == Switch::On);
        // The filters shape the requests only with pushdown on; the scan re-checks all of them
        // either way, which is what makes them Exact.
        let pushed = if enabled { filters } else { &[] };
        // The first key column the filters pin; several filters on it are ANDed.
        let mut keys: Option<(String, BTreeSet<String>)> = None;
        for column in self.def.key_columns() {
            for values in pushed.iter().filter_map(|f| key_values(f, column)) {
                keys = Some(match keys {
                    Some((c, k)) => (c, k.intersection(&values).cloned().collect()),
                    None => (column.to_string(), values),
                });
            }
            if keys.is_some() {
                break;
            }
        }
        let search = pushdown::translate(&self.def, pushed);
        let page_size = self.client.config().page_size;
        let keys = keys.map(|(column, values)| (column, values.into_iter().collect()));
        let plan = ScanPlan::for_table(&self.def, keys, search, page_size);

        let projection = projection
            .cloned()
            .unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        // Decode the projected columns plus those the filters read.
        let mut decoded: BTreeSet<usize> = projection.iter().copied().collect();
        for filter in filters {
            for column in filter.column_refs() {
                if let Ok(i) = self.schema.index_of(&column.name) {
                    decoded.insert(i);
                }
            }
        }
        let decoded: Vec<usize> = decoded.into_iter().collect();
        let decoded_schema = DFSchema::try_from(self.schema.project(&decoded)?)?;
        let unqualified_filters = filters
            .iter()
            .cloned()
            .map(unqualified)
            .collect::<Result<Vec<_>>>()?;
        let predicate = conjunction(unqualified_filters)
            .map(|e| state.create_physical_expr(e, &decoded_schema))
            .transpose()?;
        let output = projection
            .iter()
            .map(|p| decoded.iter().position(|d| d == p))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                DataFusionError::Internal("projection outside the decoded columns".into())
            })?;
        Ok(Arc::new(IntercomScanExec::new(
            self.def.clone(),
            self.client.clone(),
            plan,
            ScanColumns {
                decoded,
                output,
                predicate,
            },
            limit,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::key_values;
    use datafusion::prelude::{col, lit};

    #[test]
    fn recognises_key_equalities_and_nothing_else() {
        let set = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(key_values(&col("id").eq(lit("a")), "id"), set(&["a"]));
        assert_eq!(key_values(&lit("a").eq(col("id")), "id"), set(&["a"]));
        assert_eq!(
            key_values(&col("id").in_list(vec![lit("a"), lit("b")], false), "id"),
            set(&["a", "b"])
        );
        assert_eq!(
            key_values(&col("id").eq(lit("a")).or(col("id").eq(lit("b"))), "id"),
            set(&["a", "b"])
        );
        assert_eq!(
            key_values(&col("id").in_list(vec![lit("a")], true), "id"),
            None
        );
        assert_eq!(
            key_values(&col("id").eq(lit("a")).or(col("email").eq(lit("b"))), "id"),
            None
        );
        assert_eq!(key_values(&col("id").not_eq(lit("a")), "id"), None);
        assert_eq!(key_values(&col("email").eq(lit("a")), "id"), None);
        assert_eq!(key_values(&col("id").eq(lit(5)), "id"), None);
    }
}
