//! Intercom's search query language (docs/intercom-notes.md, "Search: query shape"), parsed and
//! evaluated in memory.
//!
//! Pure: no I/O, no store, no HTTP. A route builds a [`SearchSchema`] (which fields exist, their
//! types, strict or lenient operator rules, workspace time zone), calls [`compile`] on the
//! request's `query` object, then asks [`Query::matches`] about each record through the
//! [`Searchable`] trait.
//!
//! Rules implemented (each names the section of docs/intercom-notes.md it comes from):
//! * shape (docs/intercom-notes.md, "Search: query shape"): a single filter
//!   `{field, operator, value}` or a group `{operator: "AND"|"OR", value: [...]}`; a group may
//!   mix filters and groups; at most 2 levels of groups and at most 15 items in one group,
//!   otherwise 400.
//! * operators (docs/intercom-notes.md, "Search: operators"): contacts are strict (string
//!   `= != IN NIN ~ !~ ^ $`; boolean `= != IN NIN`; integer/float `= != IN NIN < > <= >=`; date
//!   `= < >`; `tag_id`/`segment_id` `= !=`). Conversations and tickets are lenient: `= != IN NIN`
//!   everywhere, `< > <= >=` on numbers and dates, string operators on strings. `<` and `>` are
//!   *inclusive* there, as the 2.15 text describes them ("greater (or equal) than").
//! * case (docs/intercom-notes.md, "Search: string matching", undocumented upstream, our
//!   decision): every string comparison (`=`, `!=`, `IN`, `NIN`, `~`, `!~`, `^`, `$`) ignores
//!   case: both sides are compared after Unicode full case folding, character by character
//!   ([`fold`]: `Σ`, `σ` and `ς` all match; `ß` matches `ss`).
//! * `source.body` (docs/intercom-notes.md, "Search: string matching") is matched per token:
//!   HTML tags are removed, the text is split on anything that is not alphanumeric, and `=` is
//!   true when the value is one of the tokens (so a value with several words never matches);
//!   `~`/`^`/`$` test the tag-free text.
//! * array fields (`tag_ids`, `contact_ids`, `teammate_ids`, contacts' `tag_id`/`segment_id`):
//!   `=` means "contains", `!=` "does not contain", `IN` "contains any", `NIN` "contains none".
//! * contact dates (docs/intercom-notes.md, "Search: dates"): the value is truncated to the
//!   start of its calendar day in the workspace time zone, `d0`; `d1` is the start of the next
//!   calendar day. `=` ⇒ `d0 <= x < d1`, `>` ⇒ `x >= d1`, `<` ⇒ `x < d0`.
//! * nulls (docs/intercom-notes.md, "Search: nulls"): `= null` matches unset fields (empty
//!   lists count as unset), `!= null` matches set fields; the negative operators `!=`, `NIN` and
//!   `!~` also match unset fields; every other operator never matches an unset field. `null` is
//!   only accepted with `=` and `!=`.
//! * values (docs/intercom-notes.md, "Search: query shape"): timestamps and numbers may be sent
//!   as strings; a value that cannot be coerced to the field's type is a 400.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::Value;

/// Most items allowed in one AND/OR group (docs/intercom-notes.md, "Search: query shape").
pub const MAX_FILTERS_PER_GROUP: usize = 15;
/// Most levels of nested groups (docs/intercom-notes.md, "Search: query shape").
pub const MAX_GROUP_DEPTH: usize = 2;

/// The type of a searchable field; decides operators, coercion and comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Text; string operators, case-insensitive.
    String,
    /// Whole number.
    Integer,
    /// Fractional number.
    Float,
    /// true/false.
    Boolean,
    /// Unix seconds; day-truncated on contacts.
    Date,
    /// Contacts' `tag_id` / `segment_id`: membership, `=` and `!=` only.
    Reference,
    /// An array of ids (`tag_ids`, `contact_ids`…): membership semantics.
    StringList,
    /// `source.body`: token matching.
    Tokens,
}

/// How operators are checked against field types (docs/intercom-notes.md, "Search: operators").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    /// Contacts: the documented operator/type matrix, day-granular dates.
    Strict,
    /// Conversations and tickets: the older, looser table, second-precision dates.
    Lenient,
}

/// Everything [`compile`] needs to know about one searchable model.
#[derive(Clone, Debug)]
pub struct SearchSchema {
    strictness: Strictness,
    tz: Tz,
    /// Search field name -> (type, key passed to [`Searchable::field`]).
    fields: HashMap<String, (FieldType, String)>,
}

impl SearchSchema {
    /// An empty schema for a model with the given rules and workspace time zone.
    pub fn new(strictness: Strictness, tz: Tz) -> Self {
        Self {
            strictness,
            tz,
            fields: HashMap::new(),
        }
    }

    /// Adds a field whose record key is its own name.
    pub fn with_field(mut self, name: &str, ty: FieldType) -> Self {
        self.add_field(name, ty, name);
        self
    }

    /// Adds a field searched under `name` but read from the record under `key`
    /// (used for `ticket_attribute.<id>`, read by attribute name).
    pub fn add_field(&mut self, name: &str, ty: FieldType, key: &str) {
        self.fields.insert(name.to_string(), (ty, key.to_string()));
    }

    /// The type of a field, if it is searchable.
    pub fn field_type(&self, name: &str) -> Option<FieldType> {
        self.fields.get(name).map(|(ty, _)| *ty)
    }
}

/// A value read from a record for comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// Unset or JSON null.
    Null,
    /// Text.
    Str(Cow<'a, str>),
    /// Whole number (also dates in Unix seconds).
    Int(i64),
    /// Fractional number.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Array of ids.
    List(Vec<Cow<'a, str>>),
}

/// A record that can be searched: returns the value under a field key.
pub trait Searchable {
    /// The value of `key` (a search field name such as `location.city` or
    /// `custom_attributes.plan_tier`); [`FieldValue::Null`] when unset or unknown.
    fn field(&self, key: &str) -> FieldValue<'_>;
}

/// A query rejected by the rules above; becomes a `400 parameter_invalid` error.list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchError {
    /// Human-readable reason, shown as the error message.
    pub message: String,
}

impl SearchError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A comparison operator of a single filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `IN`
    In,
    /// `NIN`
    Nin,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `~`
    Contains,
    /// `!~`
    NotContains,
    /// `^`
    StartsWith,
    /// `$`
    EndsWith,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            "IN" => Op::In,
            "NIN" => Op::Nin,
            "<" => Op::Lt,
            ">" => Op::Gt,
            "<=" => Op::Le,
            ">=" => Op::Ge,
            "~" => Op::Contains,
            "!~" => Op::NotContains,
            "^" => Op::StartsWith,
            "$" => Op::EndsWith,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::In => "IN",
            Op::Nin => "NIN",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Contains => "~",
            Op::NotContains => "!~",
            Op::StartsWith => "^",
            Op::EndsWith => "$",
        }
    }

    fn is_negative(self) -> bool {
        matches!(self, Op::Ne | Op::Nin | Op::NotContains)
    }
}

/// A coerced operand value.
#[derive(Clone, Debug, PartialEq)]
enum Scalar {
    Str(String), // already case-folded ([`fold`])
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Null,
    One(Scalar),
    Many(Vec<Scalar>),
    /// Contact date: the day `[d0, d1)` containing the supplied instant.
    Day {
        d0: i64,
        d1: i64,
    },
}

#[derive(Clone, Debug, PartialEq)]
struct Leaf {
    key: String,
    ty: FieldType,
    op: Op,
    operand: Operand,
    inclusive: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Leaf(Leaf),
    And(Vec<Node>),
    Or(Vec<Node>),
}

/// A validated, ready-to-run query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    root: Node,
}

impl Query {
    /// Whether a record satisfies the query.
    pub fn matches<R: Searchable + ?Sized>(&self, record: &R) -> bool {
        eval(&self.root, record)
    }

    /// The range `[lo, hi)` (`None`: open) that the whole-number field `key` of every matching
    /// record lies in, as far as the query's comparisons of `key` bound it: a superset, so a
    /// route may test only the records inside it (`super::range_index`). A record whose `key`
    /// is unset or not a whole number never satisfies a bounding comparison, so it is outside
    /// any bounded range.
    pub fn int_range(&self, key: &str) -> IntRange {
        int_range(&self.root, key)
    }

    /// The range `[lo, hi)` that a record whose whole-number field `key` is set matches this
    /// query exactly when its value lies in, and no other record matches: `Some` when the query
    /// is nothing but comparisons of `key` (`=`, `<`, `>`, `<=`, `>=`) joined so that the values
    /// they accept make one range, as a partitioned read's windows are. A route may then take
    /// the records inside it without testing each (`super::range_index`).
    pub fn exact_int_range(&self, key: &str) -> Option<IntRange> {
        exact_range(&self.root, key)
    }
}

/// [`Query::exact_int_range`] of `node`.
fn exact_range(node: &Node, key: &str) -> Option<IntRange> {
    match node {
        Node::Leaf(leaf) => {
            let exact = matches!(
                (&leaf.operand, leaf.op),
                (
                    Operand::One(Scalar::Int(_)),
                    Op::Eq | Op::Lt | Op::Gt | Op::Le | Op::Ge
                ) | (Operand::Day { .. }, Op::Eq | Op::Lt | Op::Gt)
            );
            (leaf.key == key && exact).then(|| leaf_range(leaf))
        }
        // Every child holds: the values in all their ranges.
        Node::And(children) => children.iter().try_fold((None, None), |(lo, hi), child| {
            let (l, h) = exact_range(child, key)?;
            Some((lo.max(l), min_bound(hi, h)))
        }),
        // One child holds: the values in any of their ranges, when those make one range.
        Node::Or(children) => {
            let mut ranges = children
                .iter()
                .map(|child| exact_range(child, key))
                .collect::<Option<Vec<IntRange>>>()?;
            ranges.retain(|&(lo, hi)| !is_empty(lo, hi));
            ranges.sort_by_key(|&(lo, _)| lo);
            let mut ranges = ranges.into_iter();
            let Some(mut union) = ranges.next() else {
                // No child can hold: nothing matches.
                return Some((Some(0), Some(0)));
            };
            for (lo, hi) in ranges {
                match (union.1, lo) {
                    // Open above: it holds everything after.
                    (None, _) => {}
                    (Some(end), Some(lo)) if lo > end => return None,
                    _ => union.1 = union.1.zip(hi).map(|(a, b)| a.max(b)),
                }
            }
            Some(union)
        }
    }
}

/// The lower of two upper bounds (`None` is open).
fn min_bound(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether `[lo, hi)` holds no value.
fn is_empty(lo: Option<i64>, hi: Option<i64>) -> bool {
    matches!((lo, hi), (Some(lo), Some(hi)) if lo >= hi)
}

/// `[lo, hi)` of a whole-number field; `None` is open.
pub type IntRange = (Option<i64>, Option<i64>);

fn int_range(node: &Node, key: &str) -> IntRange {
    match node {
        Node::Leaf(leaf) if leaf.key == key => leaf_range(leaf),
        Node::Leaf(_) => (None, None),
        // Every child holds: the narrowest of their bounds.
        Node::And(children) => {
            children
                .iter()
                .map(|c| int_range(c, key))
                .fold((None, None), |(lo, hi), (l, h)| {
                    (
                        lo.max(l),
                        match (hi, h) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        },
                    )
                })
        }
        // One child holds: the widest, open as soon as one child is open.
        Node::Or(children) => {
            let ranges: Vec<IntRange> = children.iter().map(|c| int_range(c, key)).collect();
            let lo = ranges
                .iter()
                .map(|r| r.0)
                .collect::<Option<Vec<i64>>>()
                .and_then(|los| los.into_iter().min());
            let hi = ranges
                .iter()
                .map(|r| r.1)
                .collect::<Option<Vec<i64>>>()
                .and_then(|his| his.into_iter().max());
            (lo, hi)
        }
    }
}

/// The range one comparison bounds its field to (see [`eval_scalar`]).
fn leaf_range(leaf: &Leaf) -> IntRange {
    match (&leaf.operand, leaf.op) {
        (Operand::One(Scalar::Int(v)), op) => {
            let v = *v;
            match op {
                Op::Eq => (Some(v), v.checked_add(1)),
                Op::Gt if leaf.inclusive => (Some(v), None),
                Op::Ge => (Some(v), None),
                Op::Gt => (v.checked_add(1), None),
                Op::Lt if leaf.inclusive => (None, v.checked_add(1)),
                Op::Le => (None, v.checked_add(1)),
                Op::Lt => (None, Some(v)),
                _ => (None, None),
            }
        }
        (Operand::Day { d0, d1 }, Op::Eq) => (Some(*d0), Some(*d1)),
        (Operand::Day { d1, .. }, Op::Gt) => (Some(*d1), None),
        (Operand::Day { d0, .. }, Op::Lt) => (None, Some(*d0)),
        _ => (None, None),
    }
}

/// Validates a `query` JSON object against a schema and compiles it.
///
/// ```text
/// {"field":"email","operator":"~","value":"acme"}                   -> ok
/// {"field":"created_at","operator":">=","value":1}  (contacts)      -> 400: not allowed on dates
/// {"operator":"AND","value":[ …16 filters… ]}                        -> 400: more than 15
/// ```
pub fn compile(query: &Value, schema: &SearchSchema) -> Result<Query, SearchError> {
    Ok(Query {
        root: compile_node(query, schema, 0)?,
    })
}

fn compile_node(node: &Value, schema: &SearchSchema, depth: usize) -> Result<Node, SearchError> {
    let obj = node
        .as_object()
        .ok_or_else(|| SearchError::new("query must be an object"))?;
    if obj.contains_key("field") {
        return compile_leaf(obj, schema).map(Node::Leaf);
    }
    let op = obj
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| SearchError::new("query is missing an operator"))?;
    if op != "AND" && op != "OR" {
        return Err(SearchError::new(format!(
            "'{op}' is not a valid group operator; use AND or OR"
        )));
    }
    let depth = depth + 1;
    if depth > MAX_GROUP_DEPTH {
        return Err(SearchError::new(format!(
            "query has more than {MAX_GROUP_DEPTH} levels of nested filters"
        )));
    }
    let items = obj
        .get("value")
        .and_then(Value::as_array)
        .ok_or_else(|| SearchError::new(format!("{op} group needs an array value")))?;
    if items.is_empty() {
        return Err(SearchError::new(format!("{op} group must not be empty")));
    }
    if items.len() > MAX_FILTERS_PER_GROUP {
        return Err(SearchError::new(format!(
            "a {op} group can contain at most {MAX_FILTERS_PER_GROUP} filters, got {}",
            items.len()
        )));
    }
    let children = items
        .iter()
        .map(|item| compile_node(item, schema, depth))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if op == "AND" {
        Node::And(children)
    } else {
        Node::Or(children)
    })
}

fn compile_leaf(
    obj: &serde_json::Map<String, Value>,
    schema: &SearchSchema,
) -> Result<Leaf, SearchError> {
    let field = obj
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(|| SearchError::new("field must be a string"))?;
    let (ty, key) = schema
        .fields
        .get(field)
        .ok_or_else(|| SearchError::new(format!("'{field}' is not a searchable field")))?;
    let op_text = obj
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| SearchError::new(format!("filter on '{field}' is missing an operator")))?;
    let op = Op::parse(op_text).ok_or_else(|| {
        SearchError::new(format!(
            "'{op_text}' is not a valid operator (field '{field}')"
        ))
    })?;
    let ty = *ty;
    if !operator_allowed(schema.strictness, ty, op) {
        return Err(SearchError::new(format!(
            "operator '{}' is not supported for field '{field}' of type {}",
            op.symbol(),
            type_name(ty)
        )));
    }
    let value = obj
        .get("value")
        .ok_or_else(|| SearchError::new(format!("filter on '{field}' is missing a value")))?;
    let operand = coerce_operand(field, ty, op, value, schema)?;
    Ok(Leaf {
        key: key.clone(),
        ty,
        op,
        operand,
        inclusive: schema.strictness == Strictness::Lenient,
    })
}

fn type_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String | FieldType::Tokens => "string",
        FieldType::Integer => "integer",
        FieldType::Float => "float",
        FieldType::Boolean => "boolean",
        FieldType::Date => "date",
        FieldType::Reference => "reference",
        FieldType::StringList => "list",
    }
}

/// The operator/type matrix (docs/intercom-notes.md, "Search: operators").
fn operator_allowed(strictness: Strictness, ty: FieldType, op: Op) -> bool {
    use Op::*;
    let equality = matches!(op, Eq | Ne | In | Nin);
    let ordering = matches!(op, Lt | Gt | Le | Ge);
    let text = matches!(op, Contains | NotContains | StartsWith | EndsWith);
    match (strictness, ty) {
        (_, FieldType::String | FieldType::Tokens) => equality || text,
        (_, FieldType::Boolean) => equality,
        (_, FieldType::Integer | FieldType::Float) => equality || ordering,
        (Strictness::Strict, FieldType::Date) => matches!(op, Eq | Lt | Gt),
        (Strictness::Lenient, FieldType::Date) => equality || ordering,
        (_, FieldType::Reference) => matches!(op, Eq | Ne),
        (_, FieldType::StringList) => equality,
    }
}

fn coerce_operand(
    field: &str,
    ty: FieldType,
    op: Op,
    value: &Value,
    schema: &SearchSchema,
) -> Result<Operand, SearchError> {
    let mismatch = || {
        SearchError::new(format!(
            "value {value} is not valid for field '{field}' of type {} with operator '{}'",
            type_name(ty),
            op.symbol()
        ))
    };
    match op {
        Op::In | Op::Nin => {
            let items = value.as_array().ok_or_else(mismatch)?;
            let scalars = items
                .iter()
                .map(|v| coerce_scalar(ty, v).ok_or_else(mismatch))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Operand::Many(scalars))
        }
        _ if value.is_null() => {
            if matches!(op, Op::Eq | Op::Ne) {
                Ok(Operand::Null)
            } else {
                Err(mismatch())
            }
        }
        _ => {
            let scalar = coerce_scalar(ty, value).ok_or_else(mismatch)?;
            if ty == FieldType::Date && schema.strictness == Strictness::Strict {
                let Scalar::Int(v) = scalar else {
                    return Err(mismatch());
                };
                let (d0, d1) = day_bounds(v, schema.tz).ok_or_else(mismatch)?;
                return Ok(Operand::Day { d0, d1 });
            }
            Ok(Operand::One(scalar))
        }
    }
}

fn coerce_scalar(ty: FieldType, value: &Value) -> Option<Scalar> {
    match ty {
        FieldType::String | FieldType::Tokens | FieldType::Reference | FieldType::StringList => {
            match value {
                Value::String(s) => Some(Scalar::Str(fold(s))),
                Value::Number(n) if n.is_i64() || n.is_u64() => Some(Scalar::Str(n.to_string())),
                _ => None,
            }
        }
        FieldType::Integer | FieldType::Date => match value {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Scalar::Int),
            Value::String(s) => s.trim().parse::<i64>().ok().map(Scalar::Int),
            _ => None,
        },
        FieldType::Float => match value {
            Value::Number(n) => n.as_f64().map(Scalar::Float),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Scalar::Float),
            _ => None,
        },
        FieldType::Boolean => match value {
            Value::Bool(b) => Some(Scalar::Bool(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Scalar::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Scalar::Bool(false)),
            _ => None,
        },
    }
}

/// Start of the calendar day containing `instant` in `tz`, and start of the next one
/// (docs/intercom-notes.md, "Search: dates").
pub fn day_bounds(instant: i64, tz: Tz) -> Option<(i64, i64)> {
    let local = tz.timestamp_opt(instant, 0).single()?;
    let date = local.date_naive();
    let d0 = start_of_day(date, tz)?;
    let d1 = start_of_day(date.succ_opt()?, tz)?;
    Some((d0, d1))
}

/// First instant of a local date; when midnight does not exist (a DST gap), the first
/// existing minute after it.
fn start_of_day(date: NaiveDate, tz: Tz) -> Option<i64> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    (0..=180)
        .find_map(|minutes| {
            tz.from_local_datetime(&(midnight + chrono::Duration::minutes(minutes)))
                .earliest()
        })
        .map(|dt| dt.timestamp())
}

fn eval<R: Searchable + ?Sized>(node: &Node, record: &R) -> bool {
    match node {
        Node::And(children) => children.iter().all(|c| eval(c, record)),
        Node::Or(children) => children.iter().any(|c| eval(c, record)),
        Node::Leaf(leaf) => eval_leaf(leaf, record),
    }
}

fn is_unset(value: &FieldValue<'_>) -> bool {
    match value {
        FieldValue::Null => true,
        FieldValue::List(items) => items.is_empty(),
        _ => false,
    }
}

fn eval_leaf<R: Searchable + ?Sized>(leaf: &Leaf, record: &R) -> bool {
    let value = record.field(&leaf.key);
    if let Operand::Null = leaf.operand {
        return match leaf.op {
            Op::Eq => is_unset(&value),
            _ => !is_unset(&value),
        };
    }
    if is_unset(&value) {
        return leaf.op.is_negative();
    }
    match leaf.ty {
        FieldType::StringList | FieldType::Reference => eval_membership(leaf, &value),
        FieldType::Tokens => eval_tokens(leaf, &value),
        _ => eval_scalar(leaf, &value),
    }
}

fn eval_membership(leaf: &Leaf, value: &FieldValue<'_>) -> bool {
    let contains = |needle: &Scalar| -> bool {
        let Scalar::Str(needle) = needle else {
            return false;
        };
        match value {
            FieldValue::List(items) => items.iter().any(|i| fold(i) == *needle),
            FieldValue::Str(s) => fold(s) == *needle,
            _ => false,
        }
    };
    match (&leaf.operand, leaf.op) {
        (Operand::One(s), Op::Eq) => contains(s),
        (Operand::One(s), Op::Ne) => !contains(s),
        (Operand::Many(list), Op::In) => list.iter().any(contains),
        (Operand::Many(list), Op::Nin) => !list.iter().any(contains),
        _ => false,
    }
}

/// HTML-free text of a body: tags removed, common entities decoded.
fn strip_html(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut in_tag = false;
    for ch in body.chars() {
        match ch {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
}

fn eval_tokens(leaf: &Leaf, value: &FieldValue<'_>) -> bool {
    let FieldValue::Str(body) = value else {
        return false;
    };
    let text = fold(&strip_html(body));
    let has_token = |needle: &Scalar| -> bool {
        let Scalar::Str(needle) = needle else {
            return false;
        };
        let needle = needle.trim();
        !needle.is_empty()
            && text
                .split(|c: char| !c.is_alphanumeric())
                .any(|token| token == needle)
    };
    match (&leaf.operand, leaf.op) {
        (Operand::One(s), Op::Eq) => has_token(s),
        (Operand::One(s), Op::Ne) => !has_token(s),
        (Operand::Many(list), Op::In) => list.iter().any(has_token),
        (Operand::Many(list), Op::Nin) => !list.iter().any(has_token),
        (Operand::One(Scalar::Str(s)), op) => string_op(op, text.trim(), s),
        _ => false,
    }
}

fn string_op(op: Op, haystack: &str, needle: &str) -> bool {
    match op {
        Op::Eq => haystack == needle,
        Op::Ne => haystack != needle,
        Op::Contains => haystack.contains(needle),
        Op::NotContains => !haystack.contains(needle),
        Op::StartsWith => haystack.starts_with(needle),
        Op::EndsWith => haystack.ends_with(needle),
        _ => false,
    }
}

/// Compares a record value with one operand scalar; `None` when the types cannot compare.
fn compare(value: &FieldValue<'_>, operand: &Scalar) -> Option<std::cmp::Ordering> {
    match (value, operand) {
        (FieldValue::Str(s), Scalar::Str(o)) => Some(fold(s).as_str().cmp(o.as_str())),
        (FieldValue::Int(v), Scalar::Int(o)) => Some(v.cmp(o)),
        (FieldValue::Int(v), Scalar::Float(o)) => (*v as f64).partial_cmp(o),
        (FieldValue::Float(v), Scalar::Float(o)) => v.partial_cmp(o),
        (FieldValue::Float(v), Scalar::Int(o)) => v.partial_cmp(&(*o as f64)),
        (FieldValue::Bool(v), Scalar::Bool(o)) => Some(v.cmp(o)),
        _ => None,
    }
}

fn eval_scalar(leaf: &Leaf, value: &FieldValue<'_>) -> bool {
    use std::cmp::Ordering::*;
    match &leaf.operand {
        Operand::Null => false,
        Operand::Day { d0, d1 } => {
            let FieldValue::Int(x) = value else {
                return false;
            };
            match leaf.op {
                Op::Eq => *d0 <= *x && *x < *d1,
                Op::Gt => *x >= *d1,
                Op::Lt => *x < *d0,
                _ => false,
            }
        }
        Operand::Many(list) => {
            let any = list.iter().any(|s| compare(value, s) == Some(Equal));
            if leaf.op == Op::In { any } else { !any }
        }
        Operand::One(scalar) => {
            if let (FieldValue::Str(s), Scalar::Str(needle)) = (value, scalar) {
                let folded = fold(s);
                if !matches!(leaf.op, Op::Lt | Op::Gt | Op::Le | Op::Ge) {
                    return string_op(leaf.op, &folded, needle);
                }
            }
            let Some(ord) = compare(value, scalar) else {
                return leaf.op.is_negative();
            };
            match leaf.op {
                Op::Eq => ord == Equal,
                Op::Ne => ord != Equal,
                Op::Lt if leaf.inclusive => ord != Greater,
                Op::Gt if leaf.inclusive => ord != Less,
                Op::Lt => ord == Less,
                Op::Gt => ord == Greater,
                Op::Le => ord != Greater,
                Op::Ge => ord != Less,
                _ => false,
            }
        }
    }
}

/// Unicode full case folding (CaseFolding.txt, statuses C and F), character by character. Unlike
/// `str::to_lowercase` it has no context rules, so folding a needle and folding a text that holds
/// it agree (`to_lowercase` turns a word-final `Σ` into `ς`, so `ΟΔΥΣ` would miss `Οδυσσέας`).
fn fold(s: &str) -> String {
    caseless::default_case_fold_str(s)
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
