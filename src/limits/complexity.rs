//! How complex a parsed statement is, checked before anything plans it.
//!
//! sqlparser builds a chain like `1 + 1 + … + 1` or `a OR b OR …` in a loop, so a long chain
//! parses fine into a tree as deep as the chain is long. Everything after the parser (the
//! compatibility rewrites, DataFusion's planner and optimizer, our pushdown, dropping the
//! tree) walks such trees recursively, and a deep enough one overflows any thread's stack,
//! which aborts the whole process. So each statement's nesting depth and expression count are
//! measured right after parsing; past either limit it fails with SQLSTATE 54001
//! (`statement_too_complex`) and nothing else sees it. The walk stops as soon as a limit is
//! passed, so the check itself never recurses deeper than the limit.

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{Expr, Query, SetExpr, Statement, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

use super::{LimitError, Limits};

/// What a statement measures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Complexity {
    /// The deepest nesting of expressions, queries and set operations.
    pub depth: usize,
    /// Expressions in the statement (every literal of an `IN` list counts).
    pub nodes: usize,
}

struct Measure {
    depth: usize,
    /// Depth added by each open query's chain of set operations.
    query_depths: Vec<usize>,
    found: Complexity,
    limits: Limits,
}

impl Measure {
    fn enter(&mut self, by: usize) -> ControlFlow<LimitError> {
        self.depth += by;
        self.found.depth = self.found.depth.max(self.depth);
        if self.depth > self.limits.max_statement_depth {
            return ControlFlow::Break(LimitError::TooComplex {
                what: "nesting depth",
                limit: self.limits.max_statement_depth,
            });
        }
        ControlFlow::Continue(())
    }
}

impl Visitor for Measure {
    type Break = LimitError;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<LimitError> {
        let by = 1 + set_operation_depth(&query.body);
        self.query_depths.push(by);
        self.enter(by)
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<LimitError> {
        self.depth -= self.query_depths.pop().unwrap_or(0);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<LimitError> {
        self.found.nodes += 1;
        if self.found.nodes > self.limits.max_statement_nodes {
            return ControlFlow::Break(LimitError::TooComplex {
                what: "expressions",
                limit: self.limits.max_statement_nodes,
            });
        }
        self.enter(1)
    }

    fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<LimitError> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

/// The longest chain of set operations (`UNION`, `INTERSECT`, `EXCEPT`) and parenthesized
/// queries under `body`, counted without recursion (the chain can be as long as the text).
fn set_operation_depth(body: &SetExpr) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(body, 0usize)];
    while let Some((node, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        if let SetExpr::SetOperation { left, right, .. } = node {
            pending.push((left, depth + 1));
            pending.push((right, depth + 1));
        }
    }
    deepest
}

/// Measures `statement`, failing as soon as it passes a limit.
pub fn check(statement: &Statement, limits: &Limits) -> Result<Complexity, LimitError> {
    measure(statement, limits)
}

fn measure(node: &impl Visit, limits: &Limits) -> Result<Complexity, LimitError> {
    let mut measure = Measure {
        depth: 0,
        query_depths: Vec::new(),
        found: Complexity::default(),
        limits: *limits,
    };
    match node.visit(&mut measure) {
        ControlFlow::Continue(()) => Ok(measure.found),
        ControlFlow::Break(error) => Err(error),
    }
}

/// Refuses a text longer than `limits.max_statement_bytes`.
pub fn check_length(sql: &str, limits: &Limits) -> Result<(), LimitError> {
    if sql.len() > limits.max_statement_bytes {
        return Err(LimitError::TooLong {
            bytes: sql.len(),
            limit: limits.max_statement_bytes,
        });
    }
    Ok(())
}

/// [`check`] on a statement of DataFusion's parser (`EXPLAIN`, `COPY (query) TO`, …).
pub fn check_datafusion(statement: &DFStatement, limits: &Limits) -> Result<(), LimitError> {
    match statement {
        DFStatement::Statement(statement) => check(statement, limits).map(|_| ()),
        DFStatement::Explain(explain) => check_datafusion(&explain.statement, limits),
        DFStatement::CopyTo(copy) => match &copy.source {
            CopyToSource::Query(query) => check_query(query, limits),
            CopyToSource::Relation(_) => Ok(()),
        },
        _ => Ok(()),
    }
}

fn check_query(query: &Query, limits: &Limits) -> Result<(), LimitError> {
    measure(query, limits).map(|_| ())
}

/// Parses `sql` (PostgreSQL dialect) and checks every statement against `limits`: the text
/// length first, then each statement's complexity. A statement over a limit is dropped on a
/// thread whose stack fits its depth (see [`drop_deep`]) and reported.
pub fn parse_checked(sql: &str, limits: &Limits) -> Result<Vec<Statement>, CheckedParseError> {
    check_length(sql, limits).map_err(CheckedParseError::Limit)?;
    let statements = Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(super::PARSER_RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(CheckedParseError::Syntax)?;
    let verdict = statements
        .iter()
        .try_for_each(|statement| check(statement, limits).map(|_| ()));
    match verdict {
        Ok(()) => Ok(statements),
        Err(error) => {
            drop_deep(statements, sql.len());
            Err(CheckedParseError::Limit(error))
        }
    }
}

/// Why [`parse_checked`] refused a text.
#[derive(Debug)]
pub enum CheckedParseError {
    /// Not SQL.
    Syntax(ParserError),
    /// SQL past a limit.
    Limit(LimitError),
}

/// Stack bytes per level of tree that dropping a parsed statement may use, with room to
/// spare (measured: examples/stack_depth.rs).
const DROP_STACK_PER_BYTE: usize = 512;

/// Drops parsed statements that may be as deep as their text is long. Dropping recurses as
/// deep as the tree; a chain of `n` operators is at most `text_len / 2` levels, so the
/// statements are dropped on a thread whose stack fits that, and freed with it.
pub fn drop_deep<T: Send + 'static>(value: T, text_len: usize) {
    let stack = (8 << 20) + text_len.saturating_mul(DROP_STACK_PER_BYTE);
    let (hand_over, received) = std::sync::mpsc::channel::<T>();
    let dropper = std::thread::Builder::new()
        .name("intercom-sql-drop".into())
        .stack_size(stack)
        .spawn(move || drop(received.recv()));
    match dropper {
        Ok(handle) => {
            if let Err(std::sync::mpsc::SendError(value)) = hand_over.send(value) {
                // The thread is gone already: keeping the tree costs memory, dropping it
                // here could abort.
                std::mem::forget(value);
            }
            let _ = handle.join();
        }
        Err(_) => std::mem::forget(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(depth: usize, nodes: usize) -> Limits {
        Limits {
            max_statement_depth: depth,
            max_statement_nodes: nodes,
            max_statement_bytes: 1 << 20,
            ..Limits::for_this_machine()
        }
    }

    fn measure_sql(sql: &str) -> Complexity {
        let statements = parse_checked(sql, &limits(usize::MAX, usize::MAX)).expect("parses");
        check(&statements[0], &limits(usize::MAX, usize::MAX)).expect("measures")
    }

    #[test]
    fn chains_are_as_deep_as_they_are_long() {
        assert_eq!(measure_sql("SELECT 1").depth, 2);
        let plus = measure_sql(&format!("SELECT {}", vec!["1"; 101].join("+")));
        assert_eq!(plus.depth, 102);
        assert_eq!(plus.nodes, 201);
        let union = (0..50)
            .map(|i| format!("SELECT {i}"))
            .collect::<Vec<_>>()
            .join(" UNION ");
        assert!(measure_sql(&union).depth >= 50);
        let wide = format!("SELECT 1 WHERE 1 IN ({})", vec!["2"; 500].join(","));
        let wide = measure_sql(&wide);
        assert!(wide.depth < 10, "{wide:?}");
        assert!(wide.nodes > 500, "{wide:?}");
    }

    #[test]
    fn limits_refuse_with_their_names() {
        let deep = format!("SELECT {}", vec!["1"; 2_000].join("+"));
        match parse_checked(&deep, &limits(1_000, usize::MAX)) {
            Err(CheckedParseError::Limit(e)) => {
                assert_eq!(e.sqlstate(), "54001");
                assert!(
                    e.to_string()
                        .contains("nesting depth passes the limit of 1000"),
                    "{e}"
                );
            }
            other => panic!("{other:?}"),
        }
        let wide = format!("SELECT 1 WHERE 1 IN ({})", vec!["2"; 2_000].join(","));
        match parse_checked(&wide, &limits(1_000, 1_000)) {
            Err(CheckedParseError::Limit(e)) => {
                assert!(
                    e.to_string()
                        .contains("expressions passes the limit of 1000"),
                    "{e}"
                )
            }
            other => panic!("{other:?}"),
        }
        let long = "SELECT 1".to_string() + &" ".repeat(2 << 20);
        match parse_checked(&long, &limits(1_000, 1_000)) {
            Err(CheckedParseError::Limit(e)) => assert_eq!(e.sqlstate(), "54000"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_checked("SELEC 1", &limits(1_000, 1_000)),
            Err(CheckedParseError::Syntax(_))
        ));
    }

    #[test]
    fn a_refused_tree_is_dropped_without_overflowing_a_small_stack() {
        // 200,000 levels would overflow this 1 MiB thread if dropped on it.
        let deep = format!("SELECT {}", vec!["1"; 200_000].join("+"));
        let outcome = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                matches!(
                    parse_checked(&deep, &limits(1_000, usize::MAX)),
                    Err(CheckedParseError::Limit(_))
                )
            })
            .expect("thread")
            .join()
            .expect("no overflow");
        assert!(outcome);
    }
}
