//! Time bounds sent as query parameters: a listing that takes a range of a timestamp column
//! itself (`GET /admins/activity_logs?created_at_after=…&created_at_before=…`) instead of a
//! search. Each comparison becomes a bound widened by a second on its side (Intercom does
//! not say whether the bounds are inclusive), so the listing returns a superset and the scan
//! applies the exact comparison.

use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};

use super::literal;
use crate::tables::TableDef;

/// The range one conjunct gives a bounded column, in Unix seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Rows created after this second (exclusive or not).
    pub after: Option<i64>,
    /// Rows created before this second.
    pub before: Option<i64>,
}

impl Bounds {
    /// Both ranges at once (the tighter bound of each side).
    pub fn and(self, other: Bounds) -> Bounds {
        let tighter = |a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64| match (a, b) {
            (Some(a), Some(b)) => Some(pick(a, b)),
            (a, b) => a.or(b),
        };
        Bounds {
            after: tighter(self.after, other.after, i64::max),
            before: tighter(self.before, other.before, i64::min),
        }
    }

    /// The query parameters for this range, given the column's (after, before) names.
    pub fn params(&self, names: (&str, &str)) -> Vec<(String, String)> {
        let mut params = Vec::new();
        if let Some(after) = self.after {
            params.push((names.0.to_string(), after.to_string()));
        }
        if let Some(before) = self.before {
            params.push((names.1.to_string(), before.to_string()));
        }
        params
    }
}

/// The range `filter` gives a column declared with query bounds
/// (`ColumnDef::query_bounds`): `<`, `<=`, `>`, `>=`, `=` against a timestamp, or `BETWEEN`.
pub fn bounds_of(def: &TableDef, filter: &Expr) -> Option<Bounds> {
    let bounded = |e: &Expr| match e {
        Expr::Column(c) => def
            .column_named(&c.name)
            .is_some_and(|c| c.query_bounds.is_some()),
        _ => false,
    };
    let seconds = |e: &Expr| literal(e)?.into_seconds();
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (op, value) = if bounded(left) {
                (*op, seconds(right)?)
            } else if bounded(right) {
                (op.swap()?, seconds(left)?)
            } else {
                return None;
            };
            let (after, before) = (Some(value - 1), Some(value + 1));
            match op {
                Operator::Gt | Operator::GtEq => Some(Bounds {
                    after,
                    before: None,
                }),
                Operator::Lt | Operator::LtEq => Some(Bounds {
                    after: None,
                    before,
                }),
                Operator::Eq => Some(Bounds { after, before }),
                _ => None,
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if bounded(expr) => Some(Bounds {
            after: Some(seconds(low)? - 1),
            before: Some(seconds(high)? + 1),
        }),
        _ => None,
    }
}
