//! The key values a WHERE clause pins a column to (`id = 'a'`, `id IN (…)`, ORs of equalities):
//! what lets a scan fetch by id, or fetch only some parents' sub-resources.

use std::collections::BTreeSet;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

/// The literal string values a filter pins `column` to: `column = 'a'`, `column IN ('a', 'b')`
/// or `column = 'a' OR column = 'b'`.
/// Anything else (other operators, NOT IN, non-literals, other columns) gives `None`.
pub fn key_values(filter: &Expr, column: &str) -> Option<BTreeSet<String>> {
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
