//! Keys a join hands to a scan at run time.
//!
//! When DataFusion's hash join has built its table from the small side, it publishes a dynamic
//! filter for the probe side: `key IN (…)` (with min/max bounds) for up to
//! `hash_join_inlist_pushdown_max_distinct_values` keys, routed per partition by a `CASE` in
//! partitioned mode. A scan that receives it before its first request can fetch just those keys
//! (`GET /contacts/{id}/tags` for the matching contacts) instead of walking the whole parent
//! table. This module reads the filter; [`implied_values`] is pure and conservative.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{
    BinaryExpr, CaseExpr, Column, DynamicFilterPhysicalExpr, InListExpr, Literal,
};

/// A set of values such that every row the filter accepts has `column` in the set, or `None`
/// when the filter does not bound `column` that way (a hash-table lookup, a range, `true`).
///
/// Rows the filter rejects may still be in the set; only "accepted ⇒ in set" is promised, which
/// is what makes fetching only these keys safe.
pub fn implied_values(expr: &Arc<dyn PhysicalExpr>, column: &str) -> Option<BTreeSet<String>> {
    if let Some(dynamic) = expr.downcast_ref::<DynamicFilterPhysicalExpr>() {
        return implied_values(&dynamic.current().ok()?, column);
    }
    if let Some(literal) = expr.downcast_ref::<Literal>() {
        // `false` and NULL accept nothing; `true` bounds nothing.
        return match literal.value() {
            ScalarValue::Boolean(Some(true)) => None,
            ScalarValue::Boolean(_) | ScalarValue::Null => Some(BTreeSet::new()),
            _ => None,
        };
    }
    if let Some(list) = expr.downcast_ref::<InListExpr>() {
        if list.negated() || !is_column(list.expr(), column) {
            return None;
        }
        return list.list().iter().map(string_literal).collect();
    }
    if let Some(binary) = expr.downcast_ref::<BinaryExpr>() {
        return match binary.op() {
            Operator::And => {
                match (
                    implied_values(binary.left(), column),
                    implied_values(binary.right(), column),
                ) {
                    (Some(l), Some(r)) => Some(l.intersection(&r).cloned().collect()),
                    (Some(one), None) | (None, Some(one)) => Some(one),
                    (None, None) => None,
                }
            }
            Operator::Or => {
                let mut values = implied_values(binary.left(), column)?;
                values.extend(implied_values(binary.right(), column)?);
                Some(values)
            }
            Operator::Eq => {
                let value = if is_column(binary.left(), column) {
                    binary.right()
                } else if is_column(binary.right(), column) {
                    binary.left()
                } else {
                    return None;
                };
                Some(BTreeSet::from([string_literal(value)?]))
            }
            _ => None,
        };
    }
    if let Some(case) = expr.downcast_ref::<CaseExpr>() {
        // A row is accepted only through one of the branches' results.
        let mut values = BTreeSet::new();
        for (_, then) in case.when_then_expr() {
            values.extend(implied_values(then, column)?);
        }
        // No ELSE means NULL: nothing accepted.
        if let Some(otherwise) = case.else_expr() {
            values.extend(implied_values(otherwise, column)?);
        }
        return Some(values);
    }
    None
}

fn is_column(expr: &Arc<dyn PhysicalExpr>, column: &str) -> bool {
    expr.downcast_ref::<Column>()
        .is_some_and(|c| c.name() == column)
}

fn string_literal(expr: &Arc<dyn PhysicalExpr>) -> Option<String> {
    match expr.downcast_ref::<Literal>()?.value() {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_expr::expressions::{col, in_list, lit};

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("contact_id", DataType::Utf8, true),
            Field::new("tag_id", DataType::Utf8, true),
        ])
    }

    fn key_in(values: &[&str]) -> Arc<dyn PhysicalExpr> {
        let schema = schema();
        let list = values.iter().map(|v| lit(*v)).collect();
        in_list(col("contact_id", &schema).unwrap(), list, &false, &schema).unwrap()
    }

    fn set(values: &[&str]) -> Option<BTreeSet<String>> {
        Some(values.iter().map(|v| v.to_string()).collect())
    }

    fn and(l: Arc<dyn PhysicalExpr>, r: Arc<dyn PhysicalExpr>) -> Arc<dyn PhysicalExpr> {
        Arc::new(BinaryExpr::new(l, Operator::And, r))
    }

    fn or(l: Arc<dyn PhysicalExpr>, r: Arc<dyn PhysicalExpr>) -> Arc<dyn PhysicalExpr> {
        Arc::new(BinaryExpr::new(l, Operator::Or, r))
    }

    #[test]
    fn in_lists_and_bounds_give_the_keys() {
        let schema = schema();
        let key = col("contact_id", &schema).unwrap();
        let bounds = and(
            Arc::new(BinaryExpr::new(key.clone(), Operator::GtEq, lit("a"))),
            Arc::new(BinaryExpr::new(key.clone(), Operator::LtEq, lit("z"))),
        );
        let filter = and(bounds, key_in(&["b", "c"]));
        assert_eq!(implied_values(&filter, "contact_id"), set(&["b", "c"]));
        assert_eq!(implied_values(&filter, "tag_id"), None);
        let eq: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(key, Operator::Eq, lit("x")));
        assert_eq!(implied_values(&eq, "contact_id"), set(&["x"]));
    }

    #[test]
    fn partition_routing_unions_the_branches() {
        let schema = schema();
        let route = col("tag_id", &schema).unwrap();
        let case = |otherwise| {
            Arc::new(
                CaseExpr::try_new(
                    Some(route.clone()),
                    vec![(lit("p0"), key_in(&["a"])), (lit("p1"), key_in(&["b"]))],
                    Some(otherwise),
                )
                .unwrap(),
            ) as Arc<dyn PhysicalExpr>
        };
        assert_eq!(
            implied_values(&case(lit(false)), "contact_id"),
            set(&["a", "b"])
        );
        // A partition whose keys are unknown (`true`) bounds nothing.
        assert_eq!(implied_values(&case(lit(true)), "contact_id"), None);
    }

    #[test]
    fn anything_unbounded_gives_none() {
        let schema = schema();
        let key = col("contact_id", &schema).unwrap();
        assert_eq!(implied_values(&lit(true), "contact_id"), None);
        assert_eq!(implied_values(&lit(false), "contact_id"), set(&[]));
        // NULL keys kept for a null-aware join: `key IS NULL OR key IN (…)` is unbounded.
        let nulls: Arc<dyn PhysicalExpr> = Arc::new(
            datafusion::physical_expr::expressions::IsNullExpr::new(key.clone()),
        );
        assert_eq!(
            implied_values(&or(nulls, key_in(&["a"])), "contact_id"),
            None
        );
        assert_eq!(
            implied_values(&or(key_in(&["a"]), key_in(&["b"])), "contact_id"),
            set(&["a", "b"])
        );
        let negated = in_list(key, vec![lit("a")], &true, &schema).unwrap();
        assert_eq!(implied_values(&negated, "contact_id"), None);
        let dynamic: Arc<dyn PhysicalExpr> = Arc::new(DynamicFilterPhysicalExpr::new(
            vec![col("contact_id", &schema).unwrap()],
            lit(true),
        ));
        assert_eq!(implied_values(&dynamic, "contact_id"), None);
    }
}
