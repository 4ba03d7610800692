//! A cancelled statement stops using the CPU: every join's (and unnest's) output passes
//! through DataFusion's `CooperativeExec`, which hands the thread back to the runtime once the
//! task's budget of polls is spent. Without it, an aggregate over a cross join of
//! in-memory rows (`SELECT count(*) FROM contacts a, contacts b, …`) polls the join's
//! endless supply of ready batches without ever yielding, so the abort that a cancel, a
//! `statement_timeout` or a dropped connection sends is never seen and the query runs on,
//! a core busy, long after its client was told it stopped. DataFusion's own
//! `EnsureCooperative` covers the leaves (their batches come from I/O); an operator that
//! makes many batches out of one does not spend their budget.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::{ExecutionPlan, replace_children_if_necessary};

/// Operators whose output may be far larger than their input.
const MULTIPLYING: &[&str] = &[
    "CrossJoinExec",
    "NestedLoopJoinExec",
    "HashJoinExec",
    "SortMergeJoinExec",
    "SymmetricHashJoinExec",
    "UnnestExec",
];

/// Puts a `CooperativeExec` above every [`MULTIPLYING`] operator (once).
#[derive(Debug, Default)]
pub struct YieldingJoins;

impl PhysicalOptimizerRule for YieldingJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let wrapped = plan.transform_up(|node| {
            let children = node.children();
            let wrap_child = |child: &Arc<dyn ExecutionPlan>| MULTIPLYING.contains(&child.name());
            if node.name() == CooperativeExec::static_name()
                || !children.iter().any(|c| wrap_child(c))
            {
                return Ok(Transformed::no(node));
            }
            let children: Vec<Arc<dyn ExecutionPlan>> = children
                .into_iter()
                .map(|child| match wrap_child(child) {
                    true => Arc::new(CooperativeExec::new(child.clone())) as Arc<dyn ExecutionPlan>,
                    false => child.clone(),
                })
                .collect();
            Ok(Transformed::yes(replace_children_if_necessary(
                node, children,
            )?))
        })?;
        // A join at the root has no parent to put the wrapper under.
        let root = wrapped.data;
        Ok(match MULTIPLYING.contains(&root.name()) {
            true => Arc::new(CooperativeExec::new(root)),
            false => root,
        })
    }

    fn name(&self) -> &str {
        "intercom_yielding_joins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
