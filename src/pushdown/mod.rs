//! Pushdown: the one pure step from a table's declaration and a WHERE clause to the requests a
//! scan sends. [`plan`] turns (table, filters, LIMIT) into a [`ScanPlan`] — a get per id, the
//! sub-resources of some parents, a search, or a listing — and [`support`] tells DataFusion
//! which filters those requests use; both decide through [`use_of`], so they cannot disagree.
//! A join's keys narrow the plan at run time ([`ScanPlan::with_join_keys`], keys read by
//! [`join_keys`]). Nothing here does I/O; `crate::provider` executes the plan and EXPLAIN
//! prints [`ScanPlan::describe`].
//!
//! **Superset rule.** The rows Intercom returns must include every row the SQL wants, so each
//! pushed predicate is a *widening* of the SQL one; the scan applies the exact predicate to
//! what comes back, which is why the filters are reported `Exact` (and a LIMIT can be handed
//! to the scan). Where Intercom is coarser than SQL the request is widened on purpose: contacts'
//! dates match by calendar day in the workspace's time zone, and string comparisons ignore
//! case (only case-neutral text is pushed under a negation, see [`case_neutral`]). Where
//! widening is impossible the predicate stays local. Running out of pushdown is never an error.
//!
//! Examples (contacts):
//! - `email = 'ada@x.io'`            → `{"field":"email","operator":"=","value":"ada@x.io"}`
//! - `role IN ('user','lead')`       → `{"field":"role","operator":"IN","value":["user","lead"]}`
//! - `name LIKE 'Ad%'`               → `{"field":"name","operator":"^","value":"Ad"}`
//! - `created_at > 1700000000`       → `{"field":"created_at","operator":">","value":1699827200}`
//!   (−2 days)
//! - `a = 1 OR (b = 2 AND c = 3)`    → an OR group whose AND member is widened to `b = 2` when
//!   nesting would exceed Intercom's 2 levels
//! - `lower(email) = 'x'`            → not pushed
//! - `id IN ('a', 'b')`              → `GET /contacts/a`, `GET /contacts/b`

mod bounds;
pub mod join_keys;
mod keys;
pub mod partition;
pub mod plan;
mod search_query;

pub use bounds::Bounds;
pub use keys::key_values;
pub use plan::{JOIN_LOOKUP_LIMIT, Parents, ScanPlan};
pub use search_query::{MAX_DEPTH, MAX_GROUP_ITEMS, SearchNode};

use std::collections::BTreeSet;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::TableProviderFilterPushDown;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Like, Operator};
use serde_json::{Value, json};

use crate::settings::ScanMode;
use crate::tables::{ColumnDef, SearchType, Source, TableDef};

/// Two days: one for day truncation, one for the workspace's unknown time zone
/// (docs/intercom-notes.md, "Search: dates").
const DATE_SLACK_SECS: i64 = 2 * 86_400;

/// Most values sent in one `IN` filter; longer lists stay local (or, for keys, are split).
pub const MAX_IN_VALUES: usize = 100;

/// Most keys one search looks for: [`MAX_GROUP_ITEMS`] `IN` filters of [`MAX_IN_VALUES`] keys,
/// ORed (see [`key_queries`]).
pub const MAX_KEYS_PER_SEARCH: usize = MAX_GROUP_ITEMS * MAX_IN_VALUES;

/// The search field that finds rows by the key `column`, when the table's search can filter on
/// it: `id` on every table with a search endpoint (contacts, conversations and tickets all
/// accept it, though the column is not offered for general pushdown), or a searchable text
/// column such as contacts' `external_id`.
pub fn key_search_field(def: &TableDef, column: &str) -> Option<String> {
    def.search.as_ref()?;
    if column == "id" {
        return Some("id".to_string());
    }
    let def_column = def.column_named(column)?;
    (def_column.search? == SearchType::Str)
        .then(|| def_column.search_field_name())
        .flatten()
}

/// The searches that together return every row whose `field` is one of `keys` (a superset,
/// as string matching may ignore case): one `IN` filter per [`MAX_IN_VALUES`] keys, up to
/// [`MAX_GROUP_ITEMS`] of them ORed in one search, so within Intercom's limits of one group
/// level and 15 members a group.
pub fn key_queries(field: &str, keys: &[String]) -> Vec<SearchNode> {
    keys.chunks(MAX_KEYS_PER_SEARCH)
        .map(|keys| {
            any_of(
                keys.chunks(MAX_IN_VALUES)
                    .map(|chunk| SearchNode::filter(field, "IN", json!(chunk)))
                    .collect(),
            )
        })
        .collect()
}

/// `items` ORed (one item alone as it is); `items` is not empty.
fn any_of(mut items: Vec<SearchNode>) -> SearchNode {
    match items.len() {
        1 => items.remove(0),
        _ => SearchNode::Group {
            operator: "OR",
            items,
        },
    }
}

/// What the requests make of one conjunct of a WHERE clause.
#[derive(Clone, Debug, PartialEq)]
pub enum FilterUse {
    /// It pins a key column (a lookup key, or a child table's parent key) to these values.
    Key(String, BTreeSet<String>),
    /// (A widening of) it goes into the search query.
    Search(SearchNode),
    /// It goes into the parent table's search, which finds the parents a child table walks
    /// (see `TableDef::parent_searches`).
    Parent(SearchNode),
    /// It bounds a column the listing takes a range of as query parameters (see
    /// `ColumnDef::query_bounds`).
    Bounds(String, Bounds),
    /// The requests ignore it; only the scan's own check applies it.
    Local,
}

/// What the requests make of `filter`: the first key column it pins, else its search query.
pub fn use_of(def: &TableDef, filter: &Expr) -> FilterUse {
    for column in def.key_columns() {
        if let Some(values) = key_values(filter, column) {
            return FilterUse::Key(column.to_string(), values);
        }
    }
    for (column, field) in &def.parent_searches {
        // Membership fields (`tag_id`, `segment_id`) take `=` only: an OR of them, within
        // one group's limit.
        if let Some(values) = key_values(filter, column)
            && !values.is_empty()
            && values.len() <= MAX_GROUP_ITEMS
        {
            return FilterUse::Parent(any_of(
                values
                    .into_iter()
                    .map(|v| SearchNode::filter(field, "=", json!(v)))
                    .collect(),
            ));
        }
    }
    if let Some(bounds) = bounds::bounds_of(def, filter)
        && let Some(column) = filter.column_refs().into_iter().next()
    {
        return FilterUse::Bounds(column.name.clone(), bounds);
    }
    match classify(def, filter) {
        Some(node) => FilterUse::Search(node),
        None => FilterUse::Local,
    }
}

/// How DataFusion should treat `filter`: `Exact` when the requests use it (the scan re-checks
/// every filter on what comes back), `Unsupported` otherwise.
pub fn support(def: &TableDef, filter: &Expr) -> TableProviderFilterPushDown {
    match use_of(def, filter) {
        // A listing's query parameter for it (`state=published`); the scan checks the rows.
        FilterUse::Local if query_param(def, filter).is_some() => {
            TableProviderFilterPushDown::Exact
        }
        FilterUse::Local => TableProviderFilterPushDown::Unsupported,
        FilterUse::Key(..)
        | FilterUse::Search(_)
        | FilterUse::Parent(_)
        | FilterUse::Bounds(..) => TableProviderFilterPushDown::Exact,
    }
}

/// The listing's query parameter and value for `filter`, when it is `column = 'value'` on a
/// column that declares one (see `ColumnDef::query_param`).
pub fn query_param(def: &TableDef, filter: &Expr) -> Option<(&'static str, String)> {
    def.columns.iter().find_map(|column| {
        let (name, allowed) = column.query_param?;
        let values = key_values(filter, &column.name)?;
        let [value] = Vec::from_iter(values).try_into().ok()?;
        allowed.contains(&value.as_str()).then_some((name, value))
    })
}

/// The requests a scan of `def` sends for the conjuncts `filters` and a `limit`, with pages of
/// `page_size`; without a limit, searches and whole tables may be read in concurrent windows
/// as `scan` says (see [`ScanPlan::spread`]). With `enabled` false (`SET intercom.pushdown = off`) the
/// filters shape nothing:
/// the table is listed whole and the scan applies them. `listed_pages` is how many pages a
/// listing of the whole table takes, when known ([`plan::listing_pages`]): requests per key are
/// not sent when the listing takes fewer ([`ScanPlan::cheapest`]).
pub fn plan(
    def: &TableDef,
    filters: &[Expr],
    enabled: bool,
    limit: Option<usize>,
    page_size: u32,
    scan: ScanMode,
    listed_pages: Option<u64>,
) -> ScanPlan {
    let pushed = if enabled { filters } else { &[] };
    let uses: Vec<FilterUse> = pushed.iter().map(|f| use_of(def, f)).collect();
    // The first key column the filters pin, in the table's order of preference; several
    // filters on it are ANDed.
    let mut keys: Option<(String, BTreeSet<String>)> = None;
    for column in def.key_columns() {
        for used in &uses {
            let FilterUse::Key(key, values) = used else {
                continue;
            };
            if key != column {
                continue;
            }
            keys = Some(match keys {
                Some((c, k)) => (c, k.intersection(values).cloned().collect()),
                None => (column.to_string(), values.clone()),
            });
        }
        if keys.is_some() {
            break;
        }
    }
    // Each conjunct was classified once, above: a key filter is answered by the key plan (ids,
    // parents, or a search for the keys), the others by the search.
    // A child table's own search filters shape nothing (it has no search); its parent
    // filters choose the parents it walks.
    let child = matches!(def.source, Source::Children { .. });
    // Ranges of the columns a listing bounds itself: every conjunct on one column, ANDed.
    let mut bounds: Option<(String, Bounds)> = None;
    for used in &uses {
        if let FilterUse::Bounds(column, b) = used {
            bounds = Some(match bounds {
                Some((c, known)) if &c == column => (c, known.and(*b)),
                Some(other) => other,
                None => (column.clone(), *b),
            });
        }
    }
    // A table that is part of another searches for its part in every request (see
    // `TableDef::fixed`); pushdown off or not, it is the table's own definition.
    let fixed = fixed_search(def);
    let search = all_of(
        fixed
            .into_iter()
            .chain(uses.into_iter().filter_map(|used| match used {
                FilterUse::Search(node) if !child => Some(node),
                FilterUse::Parent(node) if child => Some(node),
                _ => None,
            })),
    );
    let keys = keys.map(|(column, values)| (column, values.into_iter().collect()));
    // Without a residual predicate every fetched row is returned, so a LIMIT bounds the pages.
    ScanPlan::for_table(def, keys, search, page_size)
        .with_bounds(def, bounds)
        .with_query_params(def, pushed)
        .with_limit(limit, filters.is_empty())
        .spread(def, scan, limit.is_some())
        .cheapest(def, listed_pages, page_size, scan, limit.is_some())
}

/// The search filter of a table's fixed value (`ticket_type_id = 95`), when it has one and
/// its column is searchable.
fn fixed_search(def: &TableDef) -> Option<SearchNode> {
    let (column, value) = def.fixed.as_ref()?;
    def.search.as_ref()?;
    let field = def.column_named(column)?.search_field_name()?;
    Some(SearchNode::filter(&field, "=", json!(value)))
}

/// The exact predicate of a table's fixed value (see `TableDef::fixed`), which the scan
/// applies to every row whatever request found it (a ticket looked up by id may be of
/// another type).
pub fn fixed_predicate(def: &TableDef) -> Option<Expr> {
    let (column, value) = def.fixed.as_ref()?;
    Some(datafusion::prelude::col(column.as_str()).eq(datafusion::prelude::lit(value.clone())))
}

/// The one child column and value that `filters` pin through the parent's search, when that
/// is all they do, they pin one value (`WHERE tag_id = 'x'` on `contact_tags`) and the columns
/// `wanted` are at most that one and the parent key: then every parent found is exactly the
/// one row `column = value` ([`ScanPlan::members`]).
pub fn member_filter(
    def: &TableDef,
    filters: &[Expr],
    wanted: &[&str],
) -> Option<(String, String)> {
    let Source::Children { key_column, .. } = &def.source else {
        return None;
    };
    let [filter] = filters else { return None };
    def.parent_searches.iter().find_map(|(column, _)| {
        if !wanted.iter().all(|w| w == column || w == key_column) {
            return None;
        }
        let values = key_values(filter, column)?;
        let [value] = Vec::from_iter(values).try_into().ok()?;
        Some((column.clone(), value))
    })
}

/// Whether the search for `filters` finds exactly the rows they keep, no more: then its
/// `total_count` is their count ([`ScanPlan::counted`]). True for no filter at all, and for
/// conjuncts each of which is a comparison Intercom makes exactly as SQL does, or an OR of
/// them: `=` or `IN` on an integer, a boolean flag, `=` or `IN` on text without letters (Intercom may ignore case,
/// docs/intercom-notes.md, "Search: string matching"). Dates (matched by day on contacts),
/// ranges (`<` may be inclusive), patterns and negations are widened, so they are read and
/// checked row by row.
pub fn counts_exactly(def: &TableDef, filters: &[Expr]) -> bool {
    filters.len() <= MAX_GROUP_ITEMS
        && filters
            .iter()
            .all(|f| matches!(use_of(def, f), FilterUse::Search(_)) && exact(def, f))
}

/// Whether `expr` is one comparison the search makes exactly (see [`counts_exactly`]).
fn exact(def: &TableDef, expr: &Expr) -> bool {
    let exact_value = |kind: SearchType, value: Option<Literal>| match (kind, value) {
        (SearchType::Int, Some(Literal::Int(_))) | (SearchType::Bool, Some(Literal::Bool(_))) => {
            true
        }
        (SearchType::Str, Some(Literal::Str(s))) => case_neutral(&s),
        _ => false,
    };
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (searchable(def, left), searchable(def, right)) {
            (Some((_, kind, _)), None) => exact_value(kind, literal(right)),
            (None, Some((_, kind, _))) => exact_value(kind, literal(left)),
            _ => false,
        },
        // An OR of such comparisons is sent whole, one group deep (`IN` of a few values becomes
        // one).
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::Or, ..
        }) => {
            let members = disjuncts(expr);
            members.len() <= MAX_GROUP_ITEMS
                && members.iter().all(|m| {
                    !matches!(m, Expr::BinaryExpr(BinaryExpr { op, .. })
                        if matches!(op, Operator::And | Operator::Or))
                        && exact(def, m)
                })
        }
        Expr::InList(list) if !list.negated => searchable(def, &list.expr)
            .is_some_and(|(_, kind, _)| list.list.iter().all(|v| exact_value(kind, literal(v)))),
        Expr::Column(_) => searchable(def, expr).is_some_and(|(_, k, _)| k == SearchType::Bool),
        Expr::Not(inner) => {
            matches!(inner.as_ref(), Expr::Column(_))
                && searchable(def, inner).is_some_and(|(_, k, _)| k == SearchType::Bool)
        }
        _ => false,
    }
}

/// What the scan itself checks on every row it fetches: the conjunction of all the filters it
/// was given (pushed or not, which is what makes them Exact), over its own unqualified columns.
#[derive(Clone, Debug)]
pub struct Residual {
    /// The exact predicate, `None` when there is no filter.
    pub predicate: Option<Expr>,
    /// The columns it reads.
    pub columns: BTreeSet<String>,
}

/// The [`Residual`] of `filters`.
pub fn residual(filters: &[Expr]) -> datafusion::error::Result<Residual> {
    let columns = filters
        .iter()
        .flat_map(|f| f.column_refs())
        .map(|c| c.name.clone())
        .collect();
    let unqualified = filters
        .iter()
        .cloned()
        .map(unqualified)
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    Ok(Residual {
        predicate: datafusion::logical_expr::utils::conjunction(unqualified),
        columns,
    })
}

/// The expression with column references stripped of their table qualifier (the scan's own
/// schema is unqualified).
fn unqualified(expr: Expr) -> datafusion::error::Result<Expr> {
    expr.transform_up(|e| {
        Ok(match e {
            Expr::Column(c) if c.relation.is_some() => Transformed::yes(Expr::Column(
                datafusion::common::Column::new_unqualified(c.name),
            )),
            other => Transformed::no(other),
        })
    })
    .map(|t| t.data)
}

/// The search query for one conjunct of a WHERE clause, if any part of it can be sent.
pub fn classify(def: &TableDef, filter: &Expr) -> Option<SearchNode> {
    def.search.as_ref()?;
    widen(def, filter, MAX_DEPTH - 1)
}

/// The search query for all the conjuncts of a WHERE clause: an AND of the pushable ones (at
/// most [`MAX_GROUP_ITEMS`]; the rest stay local). `None` when nothing can be pushed.
pub fn translate(def: &TableDef, filters: &[Expr]) -> Option<SearchNode> {
    all_of(filters.iter().filter_map(|f| classify(def, f)))
}

/// An AND of `nodes` (at most [`MAX_GROUP_ITEMS`]; dropping members of an AND only widens it).
fn all_of(nodes: impl Iterator<Item = SearchNode>) -> Option<SearchNode> {
    let mut nodes: Vec<SearchNode> = nodes.take(MAX_GROUP_ITEMS).collect();
    match nodes.len() {
        0 => None,
        1 => nodes.pop(),
        _ => Some(SearchNode::Group {
            operator: "AND",
            items: nodes,
        }),
    }
}

/// A search node matching a superset of the rows `expr` keeps, using at most `levels` groups.
fn widen(def: &TableDef, expr: &Expr, levels: usize) -> Option<SearchNode> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::And, ..
        }) => {
            // Dropping members of an AND only widens it.
            let mut members: Vec<SearchNode> = conjuncts(expr)
                .into_iter()
                .filter_map(|e| widen(def, e, levels.saturating_sub(1)))
                .collect();
            if levels == 0 {
                return members
                    .into_iter()
                    .find(|n| matches!(n, SearchNode::Filter { .. }));
            }
            members.truncate(MAX_GROUP_ITEMS);
            match members.len() {
                0 => None,
                1 => members.pop(),
                _ => Some(SearchNode::Group {
                    operator: "AND",
                    items: members,
                }),
            }
        }
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::Or, ..
        }) => {
            // An OR can only be sent whole.
            if levels == 0 {
                return None;
            }
            let members: Option<Vec<SearchNode>> = disjuncts(expr)
                .into_iter()
                .map(|e| widen(def, e, levels - 1))
                .collect();
            let members = members?;
            (members.len() <= MAX_GROUP_ITEMS).then_some(SearchNode::Group {
                operator: "OR",
                items: members,
            })
        }
        _ => leaf(def, expr),
    }
}

fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => {
            let mut all = conjuncts(left);
            all.extend(conjuncts(right));
            all
        }
        other => vec![other],
    }
}

fn disjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let mut all = disjuncts(left);
            all.extend(disjuncts(right));
            all
        }
        other => vec![other],
    }
}

/// The searchable column an expression names (looking through casts between timestamp types).
fn searchable<'a>(def: &'a TableDef, expr: &Expr) -> Option<(&'a ColumnDef, SearchType, String)> {
    let column = match expr {
        Expr::Column(c) => c,
        Expr::Cast(cast)
            if matches!(
                cast.field.data_type(),
                datafusion::arrow::datatypes::DataType::Timestamp(..)
            ) =>
        {
            match cast.expr.as_ref() {
                Expr::Column(c) => c,
                _ => return None,
            }
        }
        _ => return None,
    };
    let def_column = def.column_named(&column.name)?;
    Some((
        def_column,
        def_column.search?,
        def_column.search_field_name()?,
    ))
}

/// `=` or `IN` on a column searched by other names than shown ([`ColumnDef::search_values`]),
/// each value sent by its searched name; anything else on such a column is not pushed.
/// `None` when `expr` is not on such a column.
fn renamed_values(def: &TableDef, expr: &Expr) -> Option<Option<SearchNode>> {
    let on_renamed = |e: &Expr| {
        searchable(def, e).and_then(|(column, _, field)| Some((column.search_values?, field)))
    };
    let searched = |pairs: &[(&str, &'static str)], value: Option<Literal>| {
        let shown = value?.into_string()?;
        pairs.iter().find(|(s, _)| *s == shown).map(|(_, v)| *v)
    };
    Some(match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let ((pairs, field), value) = match (on_renamed(left), on_renamed(right)) {
                (Some(c), None) => (c, right),
                (None, Some(c)) => (c, left),
                _ => return None,
            };
            (*op == Operator::Eq)
                .then(|| searched(pairs, literal(value)))
                .flatten()
                .map(|v| SearchNode::filter(&field, "=", json!(v)))
        }
        Expr::InList(list) => {
            let (pairs, field) = on_renamed(&list.expr)?;
            let values: Option<Vec<&str>> = list
                .list
                .iter()
                .map(|v| searched(pairs, literal(v)))
                .collect();
            values
                .filter(|v| !list.negated && !v.is_empty() && v.len() <= MAX_IN_VALUES)
                .map(|v| SearchNode::filter(&field, "IN", json!(v)))
        }
        Expr::Like(like) => {
            on_renamed(&like.expr)?;
            None
        }
        Expr::IsNull(inner) | Expr::IsNotNull(inner) => {
            on_renamed(inner)?;
            None
        }
        _ => return None,
    })
}

/// One comparison, `IN`, `LIKE` or `IS NULL` on a searchable column.
fn leaf(def: &TableDef, expr: &Expr) -> Option<SearchNode> {
    if let Some(node) = renamed_values(def, expr) {
        return node;
    }
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (column, op, literal) = match (searchable(def, left), searchable(def, right)) {
                (Some(c), None) => (c, *op, literal(right)?),
                (None, Some(c)) => (c, op.swap()?, literal(left)?),
                _ => return None,
            };
            comparison(column.1, &column.2, op, literal)
        }
        Expr::InList(list) => {
            let (_, kind, field) = searchable(def, &list.expr)?;
            let values: Option<Vec<Literal>> = list.list.iter().map(literal).collect();
            let values = values?;
            if values.is_empty() || values.len() > MAX_IN_VALUES {
                return None;
            }
            match kind {
                SearchType::Str if !list.negated => {
                    let strings: Option<Vec<String>> =
                        values.into_iter().map(Literal::into_string).collect();
                    Some(SearchNode::filter(&field, "IN", json!(strings?)))
                }
                // NIN keeps rows whose value differs; with case-insensitive matching
                // (docs/intercom-notes.md, "Search: string matching") that drops rows SQL keeps
                // unless no value has letters.
                SearchType::Str => {
                    let strings: Option<Vec<String>> =
                        values.into_iter().map(Literal::into_string).collect();
                    let strings = strings?;
                    strings
                        .iter()
                        .all(|s| case_neutral(s))
                        .then(|| SearchNode::filter(&field, "NIN", json!(strings)))
                }
                SearchType::Int => {
                    let ints: Option<Vec<i64>> =
                        values.into_iter().map(Literal::into_int).collect();
                    Some(SearchNode::filter(
                        &field,
                        if list.negated { "NIN" } else { "IN" },
                        json!(ints?),
                    ))
                }
                // IN/NIN are rejected on dates (docs/intercom-notes.md, "Search: operators");
                // booleans gain nothing.
                SearchType::Date | SearchType::Bool => None,
            }
        }
        Expr::Like(like) => like_filter(def, like),
        // `= null` matches unset fields (docs/intercom-notes.md, "Search: nulls"). Never for dates,
        // and not IS NOT NULL: Intercom may count an empty string as unset, which SQL does not.
        Expr::IsNull(inner) => {
            let (_, kind, field) = searchable(def, inner)?;
            (kind != SearchType::Date).then(|| SearchNode::filter(&field, "=", Value::Null))
        }
        // DataFusion simplifies `flag = true` to `flag` and `flag = false` to `NOT flag`.
        Expr::Column(_) => boolean(def, expr, true),
        Expr::Not(inner) => match inner.as_ref() {
            Expr::Column(_) => boolean(def, inner, false),
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Eq,
                right,
            }) => leaf(
                def,
                &Expr::BinaryExpr(BinaryExpr::new(
                    left.clone(),
                    Operator::NotEq,
                    right.clone(),
                )),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// A boolean column used as a condition: `flag` (`= true`) or `NOT flag` (`= false`).
fn boolean(def: &TableDef, column: &Expr, value: bool) -> Option<SearchNode> {
    let (_, kind, field) = searchable(def, column)?;
    (kind == SearchType::Bool).then(|| SearchNode::filter(&field, "=", json!(value)))
}

fn comparison(kind: SearchType, field: &str, op: Operator, value: Literal) -> Option<SearchNode> {
    use Operator::*;
    match kind {
        SearchType::Str => {
            let s = value.into_string()?;
            match op {
                Eq => Some(SearchNode::filter(field, "=", json!(s))),
                // Case-insensitive `!=` (docs/intercom-notes.md, "Search: string matching") would
                // drop rows differing only in case.
                NotEq if case_neutral(&s) => Some(SearchNode::filter(field, "!=", json!(s))),
                _ => None,
            }
        }
        SearchType::Int => {
            let v = value.into_int()?;
            // `<`/`>` may be inclusive on some endpoints (docs/intercom-notes.md, "Search:
            // operators"); either way they widen.
            match op {
                Eq => Some(SearchNode::filter(field, "=", json!(v))),
                NotEq => Some(SearchNode::filter(field, "!=", json!(v))),
                Lt => Some(SearchNode::filter(field, "<", json!(v))),
                LtEq => Some(SearchNode::filter(field, "<", json!(v.checked_add(1)?))),
                Gt => Some(SearchNode::filter(field, ">", json!(v))),
                GtEq => Some(SearchNode::filter(field, ">", json!(v.checked_sub(1)?))),
                _ => None,
            }
        }
        SearchType::Bool => {
            let b = value.into_bool()?;
            match op {
                Eq => Some(SearchNode::filter(field, "=", json!(b))),
                NotEq => Some(SearchNode::filter(field, "!=", json!(b))),
                _ => None,
            }
        }
        SearchType::Date => {
            let t = value.into_seconds()?;
            // docs/intercom-notes.md, "Search: dates": contacts compare by calendar day in the
            // workspace's zone: `=` t matches t's whole day; `>` v starts at the day after v; `<` v
            // ends before v's day. Widen by two days so the request holds every row whatever the
            // zone.
            match op {
                Eq => Some(SearchNode::filter(field, "=", json!(t))),
                Gt | GtEq => Some(SearchNode::filter(field, ">", json!(t - DATE_SLACK_SECS))),
                Lt | LtEq => Some(SearchNode::filter(field, "<", json!(t + DATE_SLACK_SECS))),
                _ => None,
            }
        }
    }
}

/// `LIKE 'x%'` → `^`, `LIKE '%x'` → `$`, `LIKE '%x%'` → `~`, `LIKE 'x'` → `=`; `NOT LIKE '%x%'`
/// → `!~` only when `x` has no letters (case rules, docs/intercom-notes.md, "Search: string
/// matching"). ILIKE is not pushed: were Intercom's matching case-sensitive, the request would miss
/// rows.
fn like_filter(def: &TableDef, like: &Like) -> Option<SearchNode> {
    if like.case_insensitive || like.escape_char.is_some() {
        return None;
    }
    let (_, kind, field) = searchable(def, &like.expr)?;
    if kind != SearchType::Str {
        return None;
    }
    let pattern = literal(&like.pattern)?.into_string()?;
    let starts = pattern.starts_with('%');
    let ends = pattern.ends_with('%') && pattern.len() > 1;
    let core = pattern.trim_start_matches('%').trim_end_matches('%');
    if core.is_empty()
        || core.contains(['%', '_', '\\'])
        || (starts && pattern[1..].starts_with('%'))
    {
        return None;
    }
    let operator = match (like.negated, starts, ends) {
        (false, false, false) => "=",
        (false, false, true) => "^",
        (false, true, false) => "$",
        (false, true, true) => "~",
        (true, true, true) if case_neutral(core) => "!~",
        _ => return None,
    };
    Some(SearchNode::filter(&field, operator, json!(core)))
}

/// Whether no case-insensitive comparison can tell `s` from anything SQL's exact comparison
/// does not: only then may a negative filter (`!=`, `NIN`, `!~`) be pushed, as case-insensitive
/// matching of a negative drops rows SQL keeps. Letters of every kind (titlecase `ǅ` is neither
/// lower nor upper case but still matches `ǆ`), modifier letters and the combining marks that
/// case folding produces (`İ` folds to `i` + U+0307) are all excluded; what is left (digits,
/// punctuation, symbols, spaces) is nobody's case variant.
/// `case_neutral_chars_fold_to_nothing_else` checks this against every Unicode character.
pub(crate) fn case_neutral(s: &str) -> bool {
    s.chars().all(|c| {
        !c.is_alphabetic()
            && !c.is_lowercase()
            && !c.is_uppercase()
            && !('\u{0300}'..='\u{036F}').contains(&c)
            && caseless::default_case_fold_str(c.encode_utf8(&mut [0; 4]))
                .chars()
                .eq([c])
    })
}

/// A literal's value, reduced to what search values can be.
enum Literal {
    Str(String),
    Int(i64),
    Bool(bool),
    Seconds(i64),
}

impl Literal {
    fn into_string(self) -> Option<String> {
        match self {
            Literal::Str(s) => Some(s),
            _ => None,
        }
    }
    fn into_int(self) -> Option<i64> {
        match self {
            Literal::Int(i) => Some(i),
            _ => None,
        }
    }
    fn into_bool(self) -> Option<bool> {
        match self {
            Literal::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn into_seconds(self) -> Option<i64> {
        match self {
            Literal::Seconds(s) => Some(s),
            _ => None,
        }
    }
}

fn literal(expr: &Expr) -> Option<Literal> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    Some(match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Literal::Str(s.clone()),
        ScalarValue::Int8(Some(v)) => Literal::Int(i64::from(*v)),
        ScalarValue::Int16(Some(v)) => Literal::Int(i64::from(*v)),
        ScalarValue::Int32(Some(v)) => Literal::Int(i64::from(*v)),
        ScalarValue::Int64(Some(v)) => Literal::Int(*v),
        ScalarValue::UInt8(Some(v)) => Literal::Int(i64::from(*v)),
        ScalarValue::UInt16(Some(v)) => Literal::Int(i64::from(*v)),
        ScalarValue::UInt32(Some(v)) => Literal::Int(i64::from(*v)),
        ScalarValue::UInt64(Some(v)) => Literal::Int(i64::try_from(*v).ok()?),
        ScalarValue::Boolean(Some(b)) => Literal::Bool(*b),
        ScalarValue::TimestampSecond(Some(v), _) => Literal::Seconds(*v),
        ScalarValue::TimestampMillisecond(Some(v), _) => Literal::Seconds(v.div_euclid(1_000)),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Literal::Seconds(v.div_euclid(1_000_000)),
        ScalarValue::TimestampNanosecond(Some(v), _) => {
            Literal::Seconds(v.div_euclid(1_000_000_000))
        }
        _ => return None,
    })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
