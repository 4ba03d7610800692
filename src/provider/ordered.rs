//! `ORDER BY <column> … LIMIT n` read from a listing Intercom sorts by that column: `SELECT *
//! FROM companies ORDER BY last_request_at DESC NULLS LAST LIMIT 10` is one `POST
//! /companies/list?order=desc` page (official spec: `listAllCompanies`, sorted by
//! `last_request_at`), not the whole company list.
//!
//! The rule ([`OrderedUnderTopK`]) keeps DataFusion's TopK sort above the scan, so the answer
//! never depends on how Intercom breaks ties or where it puts objects with no value: the scan
//! only has to pass on a superset of the first `n` rows. It reads the sorted listing in the
//! sort's direction and stops once it has passed `n` rows with a value and then a row whose
//! value differs from the `n`th (so every tie of the `n`th is in, for sorts on more columns);
//! rows with no value are passed on as they come. Only NULLS LAST sorts are taken: Intercom
//! does not say where objects with no value sort, and with NULLS FIRST they could all be at the
//! far end of the listing. PostgreSQL's default for `ASC` is NULLS LAST; write `DESC NULLS
//! LAST` for the newest first.

use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::common::ScalarValue;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ExecutionPlan, replace_children_if_necessary};

use super::scan::IntercomScanExec;
use crate::pushdown::ScanPlan;
use crate::pushdown::plan::list_request;
use crate::settings::{IntercomOptions, Switch};

/// Reads the scan under a TopK sort on a column Intercom can sort by from the sorted listing;
/// see the module docs.
#[derive(Debug)]
pub struct OrderedUnderTopK;

impl PhysicalOptimizerRule for OrderedUnderTopK {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let enabled = config
            .extensions
            .get::<IntercomOptions>()
            .is_none_or(|o| o.pushdown == Switch::On);
        if !enabled {
            return Ok(plan);
        }
        plan.transform_down(|node| {
            let Some(sort) = node.downcast_ref::<SortExec>() else {
                return Ok(Transformed::no(node));
            };
            let (Some(fetch), first) = (sort.fetch(), sort.expr().first()) else {
                return Ok(Transformed::no(node));
            };
            let Some(column) = first.expr.downcast_ref::<Column>() else {
                return Ok(Transformed::no(node));
            };
            if first.options.nulls_first {
                return Ok(Transformed::no(node));
            }
            let descending = first.options.descending;
            match sorted_input(sort.input(), column.name(), fetch, descending)? {
                Some(input) => {
                    let sort = SortExec::new(sort.expr().clone(), input)
                        .with_fetch(Some(fetch))
                        .with_preserve_partitioning(sort.preserve_partitioning());
                    Ok(Transformed::yes(Arc::new(sort) as Arc<dyn ExecutionPlan>))
                }
                None => Ok(Transformed::no(node)),
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "intercom_ordered_under_topk"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan` reading its scan from the listing sorted by `column`, when rows reach the sort from
/// the scan unfiltered and in order (through projections that keep the column's name,
/// repartitions and coalesces) and the scan reads its whole table.
fn sorted_input(
    plan: &Arc<dyn ExecutionPlan>,
    column: &str,
    fetch: usize,
    descending: bool,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    if let Some(scan) = plan.downcast_ref::<IntercomScanExec>() {
        return Ok(scan
            .sorted_by(column, fetch, descending)
            .map(|s| Arc::new(s) as Arc<dyn ExecutionPlan>));
    }
    let passes = match plan.name() {
        "RepartitionExec"
        | "CoalescePartitionsExec"
        | "CoalesceBatchesExec"
        | "CooperativeExec" => true,
        "ProjectionExec" => plan
            .downcast_ref::<datafusion::physical_plan::projection::ProjectionExec>()
            .is_some_and(|p| {
                p.expr().iter().any(|e| {
                    e.alias == column
                        && e.expr
                            .downcast_ref::<Column>()
                            .is_some_and(|c| c.name() == column)
                })
            }),
        _ => false,
    };
    let children = plan.children();
    let [child] = children.as_slice() else {
        return Ok(None);
    };
    if !passes || plan.fetch().is_some() {
        return Ok(None);
    }
    match sorted_input(child, column, fetch, descending)? {
        Some(input) => Ok(Some(replace_children_if_necessary(
            Arc::clone(plan),
            vec![input],
        )?)),
        None => Ok(None),
    }
}

impl IntercomScanExec {
    /// This scan reading the listing sorted by `column` (see the module docs), when its table
    /// has one, the scan reads the whole table and `fetch` is within the listing's reach.
    fn sorted_by(&self, column: &str, fetch: usize, descending: bool) -> Option<Self> {
        let ordered = self.def().ordered.as_ref().filter(|o| o.column == column)?;
        let index = self.schema().index_of(column).ok()?;
        // Only a read of the whole table: its own listing, nothing narrowing it.
        let (ScanPlan::List(whole) | ScanPlan::Pages(whole)) = self.plan() else {
            return None;
        };
        let own =
            matches!(&self.def().source, crate::tables::Source::List(l) if l.path == whole.path);
        if !own || !whole.query.is_empty() || fetch as u64 > ordered.reach {
            return None;
        }
        let page_size = whole.per_page.unwrap_or(50);
        // One more than the LIMIT: the row after the last tells whether it has ties.
        let per_page = (fetch as u64 + 1).min(u64::from(page_size)) as u32;
        let mut request = list_request(&ordered.listing, ordered.listing.path.clone(), per_page);
        request.per_page = Some(per_page);
        request.query.push((
            "order".into(),
            if descending { "desc" } else { "asc" }.into(),
        ));
        Some(self.reading_sorted(
            ScanPlan::List(request),
            SortedStop::new(index, fetch, column, descending),
        ))
    }
}

/// When a scan of a sorted listing has passed enough rows (see the module docs).
#[derive(Clone, Debug)]
pub(super) struct SortedStop {
    /// The sorted column's index in the scan's output.
    column: usize,
    /// Rows with a value still to pass before the stop.
    left: usize,
    /// The value of the last of them, once passed: its ties pass too.
    last: Option<ScalarValue>,
    /// For EXPLAIN.
    describe: String,
}

impl SortedStop {
    fn new(column: usize, fetch: usize, name: &str, descending: bool) -> Self {
        let direction = if descending { "DESC" } else { "ASC" };
        Self {
            column,
            left: fetch,
            last: None,
            describe: format!(
                "sorted by {name} {direction} NULLS LAST: stops after {fetch} rows with a value and their ties"
            ),
        }
    }

    /// What EXPLAIN says of it.
    pub(super) fn describe(&self) -> &str {
        &self.describe
    }

    /// The part of `batch` to pass on, and whether the scan stops after it.
    pub(super) fn take(&mut self, batch: RecordBatch) -> Result<(RecordBatch, bool)> {
        let values = batch.column(self.column);
        for row in 0..batch.num_rows() {
            if values.is_null(row) {
                continue;
            }
            if self.left > 0 {
                self.left -= 1;
                if self.left == 0 {
                    self.last = Some(ScalarValue::try_from_array(values, row)?);
                }
                continue;
            }
            let value = ScalarValue::try_from_array(values, row)?;
            if self.last.as_ref() != Some(&value) {
                return Ok((batch.slice(0, row), true));
            }
        }
        Ok((batch, false))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(values: &[Option<i64>]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("t", DataType::Int64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
    }

    #[test]
    fn passes_the_first_rows_with_a_value_their_ties_and_every_null_before_the_stop() {
        let mut stop = SortedStop::new(0, 3, "t", true);
        let (first, done) = stop.take(batch(&[Some(9), None, Some(8)])).unwrap();
        assert_eq!((first.num_rows(), done), (3, false));
        // The third row with a value is 7; its tie passes, the next value stops the scan.
        let (second, done) = stop
            .take(batch(&[Some(7), None, Some(7), Some(6), Some(5)]))
            .unwrap();
        assert_eq!((second.num_rows(), done), (3, true));
        // A listing that ends before the stop passes everything.
        let mut stop = SortedStop::new(0, 5, "t", false);
        let (all, done) = stop.take(batch(&[None, Some(1), Some(2)])).unwrap();
        assert_eq!((all.num_rows(), done), (3, false));
    }
}
