//! PostgreSQL's catalog functions that clients call while browsing (psql's `\dt+`, `\dT`,
//! `\db`, DBeaver's and SQLAlchemy's reflection) and that neither DataFusion nor the
//! pg_catalog emulation provide. Each answers as PostgreSQL would for a database whose objects
//! are our tables and procedures: sizes are 0 (nothing is stored here), every object is
//! visible, there are no view, trigger, rule or constraint definitions, no tablespace
//! locations, no recovery, and advisory locks are always granted (nothing here needs them).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::prelude::SessionContext;

/// (name, argument counts it takes, its answer).
fn constants() -> Vec<(&'static str, &'static [usize], ScalarValue)> {
    let no_text = ScalarValue::Utf8(None);
    let yes = ScalarValue::Boolean(Some(true));
    let zero = ScalarValue::Int64(Some(0));
    let mut list = vec![
        // Nothing is stored here: every relation and database takes no room.
        ("pg_table_size", &[1][..], zero.clone()),
        ("pg_relation_size", &[1, 2][..], zero.clone()),
        ("pg_total_relation_size", &[1][..], zero.clone()),
        ("pg_indexes_size", &[1][..], zero.clone()),
        ("pg_database_size", &[1][..], zero.clone()),
        ("pg_tablespace_size", &[1][..], zero),
        // No definitions of kinds of objects we do not have.
        ("pg_get_viewdef", &[1, 2][..], no_text.clone()),
        // No table of ours has an index.
        ("pg_get_indexdef", &[1, 3][..], no_text.clone()),
        ("pg_get_triggerdef", &[1, 2][..], no_text.clone()),
        ("pg_get_ruledef", &[1, 2][..], no_text.clone()),
        ("pg_get_constraintdef", &[1, 2][..], no_text.clone()),
        ("pg_get_function_sqlbody", &[1][..], no_text.clone()),
        ("pg_get_statisticsobjdef_columns", &[1][..], no_text.clone()),
        ("pg_get_partkeydef", &[1][..], no_text.clone()),
        ("pg_get_partition_constraintdef", &[1][..], no_text.clone()),
        ("shobj_description", &[2][..], no_text.clone()),
        ("obj_description", &[1, 2][..], no_text.clone()),
        ("col_description", &[2][..], no_text.clone()),
        (
            "pg_tablespace_location",
            &[1][..],
            ScalarValue::Utf8(Some(String::new())),
        ),
        (
            "pg_encoding_to_char",
            &[1][..],
            ScalarValue::Utf8(Some("UTF8".into())),
        ),
        ("pg_char_to_encoding", &[1][..], ScalarValue::Int32(Some(6))),
        (
            "pg_is_in_recovery",
            &[0][..],
            ScalarValue::Boolean(Some(false)),
        ),
        (
            "getdatabaseencoding",
            &[0][..],
            ScalarValue::Utf8(Some("UTF8".into())),
        ),
        // Objects of extensions (`\dx+`): there are none.
        ("pg_describe_object", &[3][..], no_text.clone()),
        (
            "pg_relation_is_publishable",
            &[1][..],
            ScalarValue::Boolean(Some(false)),
        ),
        ("pg_has_role", &[2, 3][..], yes.clone()),
        ("txid_current", &[0][..], ScalarValue::Int64(Some(1))),
        // Advisory locks: granted, since nothing else here takes them.
        ("pg_try_advisory_lock", &[1, 2][..], yes.clone()),
        ("pg_try_advisory_xact_lock", &[1, 2][..], yes.clone()),
        ("pg_advisory_unlock", &[1, 2][..], yes.clone()),
        ("pg_advisory_lock", &[1, 2][..], no_text.clone()),
        ("pg_advisory_xact_lock", &[1, 2][..], no_text.clone()),
        ("pg_advisory_unlock_all", &[0][..], no_text),
    ];
    // Every object of ours is in the search path.
    for name in [
        "pg_type_is_visible",
        "pg_operator_is_visible",
        "pg_opclass_is_visible",
        "pg_opfamily_is_visible",
        "pg_conversion_is_visible",
        "pg_statistics_obj_is_visible",
        "pg_ts_parser_is_visible",
        "pg_ts_dict_is_visible",
        "pg_ts_template_is_visible",
        "pg_ts_config_is_visible",
    ] {
        list.push((name, &[1][..], yes.clone()));
    }
    list
}

/// Set-returning catalog functions of things we do not have (options of foreign objects,
/// partitions, text search tokens): empty, with PostgreSQL's columns.
const EMPTY_TABLE_FUNCTIONS: &[(&str, &[(&str, DataType)])] = &[
    (
        "pg_options_to_table",
        &[
            ("option_name", DataType::Utf8),
            ("option_value", DataType::Utf8),
        ],
    ),
    ("pg_partition_ancestors", &[("relid", DataType::Int32)]),
    (
        "pg_partition_tree",
        &[
            ("relid", DataType::Int32),
            ("parentrelid", DataType::Int32),
            ("isleaf", DataType::Boolean),
            ("level", DataType::Int32),
        ],
    ),
    (
        "ts_token_type",
        &[
            ("tokid", DataType::Int32),
            ("alias", DataType::Utf8),
            ("description", DataType::Utf8),
        ],
    ),
];

/// A set-returning function with no rows (see [`EMPTY_TABLE_FUNCTIONS`]).
#[derive(Debug)]
struct EmptyTableFunction {
    schema: datafusion::arrow::datatypes::SchemaRef,
}

impl datafusion::catalog::TableFunctionImpl for EmptyTableFunction {
    fn call_with_args(
        &self,
        _args: datafusion::catalog::TableFunctionArgs,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
        Ok(Arc::new(datafusion::catalog::MemTable::try_new(
            self.schema.clone(),
            vec![vec![]],
        )?))
    }
}

/// Registers the functions in `ctx`.
pub fn register(ctx: &SessionContext) {
    for (name, columns) in EMPTY_TABLE_FUNCTIONS {
        let fields: Vec<datafusion::arrow::datatypes::Field> = columns
            .iter()
            .map(|(c, t)| datafusion::arrow::datatypes::Field::new(*c, t.clone(), true))
            .collect();
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
        ctx.register_udtf(name, Arc::new(EmptyTableFunction { schema }));
    }
    for (name, arities, value) in constants() {
        ctx.register_udf(ScalarUDF::new_from_impl(Constant::new(
            name, arities, value,
        )));
    }
    ctx.register_udf(ScalarUDF::new_from_impl(Text::new(
        "pg_size_pretty",
        (1, 0),
        size_pretty,
    )));
    ctx.register_udf(ScalarUDF::new_from_impl(Text::new(
        "quote_literal",
        (1, 0),
        |v| v.map(quote_literal),
    )));
    ctx.register_udf(ScalarUDF::new_from_impl(Format::new()));
    ctx.register_udf(ScalarUDF::new_from_impl(TypeOf::new()));
    // `set_config(name, value, is_local)` answers the value (the setting itself is `SET`'s).
    ctx.register_udf(ScalarUDF::new_from_impl(Text::new(
        "set_config",
        (3, 1),
        |v| v.map(str::to_string),
    )));
}

/// A function whose answer does not depend on its arguments.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Constant {
    name: &'static str,
    value: ScalarValue,
    signature: Signature,
}

impl Constant {
    fn new(name: &'static str, arities: &[usize], value: ScalarValue) -> Self {
        let signatures = arities
            .iter()
            .map(|&n| match n {
                0 => TypeSignature::Nullary,
                n => TypeSignature::Any(n),
            })
            .collect();
        Self {
            name,
            value,
            signature: Signature::one_of(signatures, Volatility::Stable),
        }
    }
}

impl ScalarUDFImpl for Constant {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.value.data_type() {
            // A NULL answer of a function that returns nothing useful (`void`): text.
            DataType::Null => DataType::Utf8,
            other => other,
        })
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
}

/// A function of one of its arguments' text.
#[derive(Debug)]
struct Text {
    name: &'static str,
    /// Which argument.
    arg: usize,
    answer: fn(Option<&str>) -> Option<String>,
    signature: Signature,
}

impl Text {
    /// `(arity, arg)`: how many arguments it takes, and which one it reads.
    fn new(
        name: &'static str,
        (arity, arg): (usize, usize),
        answer: fn(Option<&str>) -> Option<String>,
    ) -> Self {
        Self {
            name,
            arg,
            answer,
            signature: Signature::any(arity, Volatility::Stable),
        }
    }
}

// Functions are told apart by name (their answers are functions, which do not compare).
impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        (self.name, self.arg) == (other.name, other.arg)
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.name, self.arg).hash(state);
    }
}

impl ScalarUDFImpl for Text {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[self.arg], ColumnarValue::Scalar(_));
        let array = args.args[self.arg].to_array(args.number_rows)?;
        let text = datafusion::arrow::compute::cast(&array, &DataType::Utf8)?;
        let text = datafusion::common::cast::as_string_array(&text)?;
        let out: ArrayRef = Arc::new(text.iter().map(self.answer).collect::<StringArray>());
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// `pg_typeof(any)`: the PostgreSQL type the wire reports for the argument, named as
/// PostgreSQL's `format_type` names it (`bigint`, `timestamp with time zone`, `text[]`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct TypeOf {
    signature: Signature,
}

impl TypeOf {
    fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for TypeOf {
    fn name(&self) -> &str {
        "pg_typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = type_name(&args.args[0].data_type());
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))))
    }
}

/// PostgreSQL's `format_type` name of the type an Arrow type goes over the wire as.
fn type_name(data_type: &DataType) -> String {
    use datafusion_postgres::arrow_pg::datatypes::into_pg_type;
    let Ok(pg) = into_pg_type(data_type) else {
        return "unknown".to_string();
    };
    let (base, array) = match pg.name().strip_prefix('_') {
        Some(element) => (element, "[]"),
        None => (pg.name(), ""),
    };
    let base = match base {
        "int2" => "smallint",
        "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "float8" => "double precision",
        "bool" => "boolean",
        "varchar" => "character varying",
        "bpchar" => "character",
        "timestamptz" => "timestamp with time zone",
        "timestamp" => "timestamp without time zone",
        "timetz" => "time with time zone",
        "time" => "time without time zone",
        other => other,
    };
    format!("{base}{array}")
}

/// `format(text, …)`: `%s` (the value as text, NULL as nothing), `%I` (an identifier,
/// quoted when needed), `%L` (a literal, NULL as `NULL`) and `%%`, as psql's `\dX` and
/// `\dA…` use them; positions (`%2$s`) and widths are not read.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Format {
    signature: Signature,
}

impl Format {
    fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Stable),
        }
    }
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let texts = args
            .args
            .iter()
            .map(|a| {
                let array = a.to_array(args.number_rows)?;
                Ok(datafusion::arrow::compute::cast(&array, &DataType::Utf8)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let texts = texts
            .iter()
            .map(|a| datafusion::common::cast::as_string_array(a).cloned())
            .collect::<Result<Vec<_>>>()?;
        let out: StringArray = (0..args.number_rows)
            .map(|row| {
                let value = |i: usize| {
                    texts
                        .get(i)
                        .filter(|a| !a.is_null(row))
                        .map(|a| a.value(row))
                };
                let template = value(0)?;
                Some(formatted(template, value))
            })
            .collect();
        let out: ArrayRef = Arc::new(out);
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// `template` with its `%` specifiers filled from `arg(1)`, `arg(2)`, ….
fn formatted<'a>(template: &str, arg: impl Fn(usize) -> Option<&'a str>) -> String {
    let mut out = String::new();
    let mut next = 1;
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s') => {
                out.push_str(arg(next).unwrap_or(""));
                next += 1;
            }
            Some('I') => {
                out.push_str(&quote_ident(arg(next).unwrap_or("")));
                next += 1;
            }
            Some('L') => {
                out.push_str(&arg(next).map_or_else(|| "NULL".to_string(), quote_literal));
                next += 1;
            }
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// An identifier as PostgreSQL writes it: as it is when lower-case letters, digits and `_`
/// (not starting with a digit), else double-quoted.
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `pg_size_pretty(bigint)`: bytes, kB, MB, GB, TB, PB, rounded as PostgreSQL does (a unit is
/// used once the size reaches 10 of it, halves rounded up).
fn size_pretty(bytes: Option<&str>) -> Option<String> {
    let mut size: i128 = bytes?.trim().parse::<f64>().ok()?.round() as i128;
    if size.abs() < 10 * 1024 {
        return Some(format!("{size} bytes"));
    }
    for unit in ["kB", "MB", "GB", "TB"] {
        let half = size / 512;
        let next = (half + half.signum()) / 2;
        if next.abs() < 10 * 1024 || unit == "TB" {
            return Some(format!("{next} {unit}"));
        }
        size /= 1024;
    }
    Some(format!("{size} PB"))
}

/// `quote_literal(text)`: `'it''s'`, with `E'…'` when it holds a backslash.
fn quote_literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_as_postgresql_writes_them() {
        let pretty = |n: i64| size_pretty(Some(&n.to_string())).unwrap();
        assert_eq!(pretty(0), "0 bytes");
        assert_eq!(pretty(10 * 1024 - 1), "10239 bytes");
        assert_eq!(pretty(10 * 1024), "10 kB");
        assert_eq!(pretty(1_000_000), "977 kB");
        assert_eq!(pretty(10 * 1024 * 1024), "10 MB");
        assert_eq!(pretty(123_456_789_012), "115 GB");
        assert_eq!(size_pretty(None), None);
    }

    #[test]
    fn formats_fill_their_specifiers() {
        let args = ["x", "My Table", "it's"];
        let arg = |i: usize| args.get(i - 1).copied();
        assert_eq!(
            formatted("%s.%I = %L (100%%)", arg),
            "x.\"My Table\" = 'it''s' (100%)"
        );
        assert_eq!(formatted("%L", |_| None), "NULL");
    }

    #[test]
    fn types_are_named_as_format_type_names_them() {
        use datafusion::arrow::datatypes::{Field, TimeUnit};
        let micros = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        assert_eq!(type_name(&micros), "timestamp with time zone");
        assert_eq!(type_name(&DataType::Int64), "bigint");
        assert_eq!(type_name(&DataType::Utf8), "text");
        let list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        assert_eq!(type_name(&list), "text[]");
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
    }
}
