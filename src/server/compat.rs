//! What real PostgreSQL clients ask that DataFusion and the pg_catalog emulation do not answer
//! by themselves (read off `tests/fixtures/client_traffic/`): a PostgreSQL-style `version()`,
//! `SHOW` of the settings drivers probe, the catalog functions of psql's `\df`, JDBC's
//! metadata queries and SQLAlchemy's reflection, and our procedures in `pg_proc`.
//!
//! Two parts: [`register`] adds functions and the `pg_proc` rows to a new session;
//! [`rewrite`] adjusts a parsed statement before planning (SHOW → SELECT, duplicate
//! unnamed select items get an alias).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int32Array, StringArray, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, ScalarValue, cast::as_int64_array};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf,
};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, CastKind, DataType as SqlDataType, Expr as SqlExpr,
    Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, GroupByExpr,
    Ident, JoinOperator, ObjectName, Query, SelectItem, SetExpr, Statement, Subscript, TableFactor,
    Value, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::procedures;

/// The PostgreSQL version we claim to be (`server_version`'s major.minor): clients parse it.
pub const PG_VERSION: &str = "16.6";

/// `version()`: PostgreSQL's shape, so that clients parsing it (SQLAlchemy) accept it.
pub fn version_string() -> String {
    format!(
        "PostgreSQL {PG_VERSION} (intercom-sql {}, Apache DataFusion {}) on {}-{}",
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION,
        std::env::consts::ARCH,
        std::env::consts::OS,
    )
}

/// Registers the compatibility functions and our procedures' `pg_proc` rows in `ctx`
/// (after `setup_pg_catalog`).
pub fn register(ctx: &SessionContext, catalog: &str) -> Result<()> {
    let version = ScalarValue::Utf8(Some(version_string()));
    ctx.register_udf(create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_| Ok(ColumnarValue::Scalar(version.clone()))),
    ));
    ctx.register_udf(oid_udf(
        "pg_function_is_visible",
        DataType::Boolean,
        |oids| {
            Arc::new(
                oids.iter()
                    .map(|o| o.map(|_| true))
                    .collect::<BooleanArray>(),
            )
        },
    ));
    ctx.register_udf(oid_udf(
        "pg_collation_is_visible",
        DataType::Boolean,
        |oids| {
            Arc::new(
                oids.iter()
                    .map(|o| o.map(|_| true))
                    .collect::<BooleanArray>(),
            )
        },
    ));
    ctx.register_udf(oid_udf("pg_get_function_result", DataType::Utf8, |oids| {
        text_per_procedure(oids, |_| "record".to_string())
    }));
    ctx.register_udf(oid_udf(
        "pg_get_function_arguments",
        DataType::Utf8,
        |oids| text_per_procedure(oids, procedure_arguments),
    ));
    ctx.register_udf(oid_udf(
        "pg_get_function_identity_arguments",
        DataType::Utf8,
        |oids| text_per_procedure(oids, procedure_arguments),
    ));
    ctx.register_udf(oid_udf("pg_get_functiondef", DataType::Utf8, |oids| {
        text_per_procedure(oids, procedure_definition)
    }));
    ctx.register_udf(create_udf(
        "to_regtype",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Stable,
        Arc::new(to_regtype),
    ));
    ctx.register_udf(create_udf(
        "pg_get_serial_sequence",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        // No column of ours is backed by a sequence.
        Arc::new(|_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)))),
    ));
    ctx.register_udf(create_udf(
        "current_setting",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(current_setting),
    ));
    ctx.register_udf(ScalarUDF::new_from_impl(ExpandArray::new()));
    ctx.register_udf(ScalarUDF::new_from_impl(JsonBuildObject::new()));
    super::functions::register(ctx);
    super::catalog::patch(ctx, catalog)
}

/// A one-argument function of an OID (any integer type is coerced to Int64).
fn oid_udf(
    name: &str,
    returns: DataType,
    answer: fn(&datafusion::arrow::array::Int64Array) -> ArrayRef,
) -> ScalarUDF {
    create_udf(
        name,
        vec![DataType::Int64],
        returns,
        Volatility::Stable,
        Arc::new(move |args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let oids = as_int64_array(&arrays[0])?;
            let out = answer(oids);
            if matches!(args[0], ColumnarValue::Scalar(_)) {
                return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
            }
            Ok(ColumnarValue::Array(out))
        }),
    )
}

/// The procedure an OID of ours stands for.
fn procedure_by_oid(oid: i64) -> Option<&'static procedures::Procedure> {
    let index =
        usize::try_from(oid.checked_sub(i64::from(super::catalog::PROCEDURE_OID_BASE))?).ok()?;
    procedures::all().get(index)
}

/// Text for our procedures' OIDs, NULL for any other.
fn text_per_procedure(
    oids: &datafusion::arrow::array::Int64Array,
    text: fn(&procedures::Procedure) -> String,
) -> ArrayRef {
    Arc::new(
        oids.iter()
            .map(|o| o.and_then(procedure_by_oid).map(text))
            .collect::<StringArray>(),
    )
}

/// `contact_id text, …` as `pg_get_function_arguments` spells it.
fn procedure_arguments(procedure: &procedures::Procedure) -> String {
    procedure
        .params
        .iter()
        .map(|p| format!("{} {}", p.name, p.ty.sql_name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `pg_get_functiondef` (psql's `\sf`) shows of a procedure: its signature and the
/// request it sends.
fn procedure_definition(procedure: &procedures::Procedure) -> String {
    format!(
        "CREATE OR REPLACE PROCEDURE public.{}({})\n LANGUAGE intercom\nAS $procedure$\n-- {}\n{}\n$procedure$\n",
        procedure.function_name,
        procedure_arguments(procedure),
        procedure.description,
        procedure.endpoint(),
    )
}

/// `current_setting(name)`: the value `SHOW name` gives, NULL for a setting we do not know
/// (SQLAlchemy's get_table_options reads `default_table_access_method`).
fn current_setting(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let value = |name: Option<&str>| {
        name.and_then(|n| setting(&n.trim().to_lowercase()))
            .map(|(_, value)| value)
    };
    Ok(match &args[0] {
        ColumnarValue::Scalar(name) => {
            let name = match name {
                ScalarValue::Utf8(n) | ScalarValue::LargeUtf8(n) | ScalarValue::Utf8View(n) => {
                    n.as_deref()
                }
                _ => None,
            };
            ColumnarValue::Scalar(ScalarValue::Utf8(value(name).map(str::to_string)))
        }
        ColumnarValue::Array(names) => {
            let names = datafusion::common::cast::as_string_array(names)?;
            ColumnarValue::Array(Arc::new(names.iter().map(value).collect::<StringArray>()))
        }
    })
}

/// `to_regtype(name)`: the OID of a few built-in types, NULL otherwise (e.g. `hstore`,
/// which psycopg probes for and we do not have).
fn to_regtype(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let names = datafusion::common::cast::as_string_array(&arrays[0])?;
    let oids: Int32Array = names
        .iter()
        .map(|n| {
            Some(match n?.trim().to_ascii_lowercase().as_str() {
                "bool" | "boolean" => 16,
                "int8" | "bigint" => 20,
                "int2" | "smallint" => 21,
                "int4" | "integer" | "int" => 23,
                "text" => 25,
                "oid" => 26,
                "float8" | "double precision" => 701,
                "varchar" | "character varying" => 1043,
                "timestamp" => 1114,
                "timestamptz" | "timestamp with time zone" => 1184,
                _ => return None,
            })
        })
        .collect();
    let out: ArrayRef = Arc::new(oids);
    if matches!(args[0], ColumnarValue::Scalar(_)) {
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
    }
    Ok(ColumnarValue::Array(out))
}

/// `information_schema._pg_expandarray(array)`, which JDBC's getPrimaryKeys and getIndexInfo
/// read as `(…).x` / `(…).n`. PostgreSQL's is set-returning; ours is scalar and NULL, which is
/// the same answer for every table of ours: none has an index or a key.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ExpandArray {
    signature: Signature,
}

impl ExpandArray {
    fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }

    fn fields() -> Fields {
        Fields::from(vec![
            Field::new("x", DataType::Int32, true),
            Field::new("n", DataType::Int32, true),
        ])
    }
}

impl ScalarUDFImpl for ExpandArray {
    fn name(&self) -> &str {
        "_pg_expandarray"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(Self::fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Array(Arc::new(StructArray::new_null(
            Self::fields(),
            args.number_rows,
        ))))
    }
}

/// `json_build_object(k1, v1, k2, v2, …)` as PostgreSQL prints it (`{"k1" : v1, …}`), as
/// text: SQLAlchemy's get_columns builds identity and collation details with it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuildObject {
    signature: Signature,
}

impl JsonBuildObject {
    fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !args.args.len().is_multiple_of(2) {
            return datafusion::common::plan_err!(
                "json_build_object takes an even number of arguments (key, value, …), got {}",
                args.args.len()
            );
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = Vec::with_capacity(args.number_rows);
        for row in 0..args.number_rows {
            let mut members = Vec::with_capacity(arrays.len() / 2);
            for pair in arrays.chunks(2) {
                let key = ScalarValue::try_from_array(&pair[0], row)?;
                if key.is_null() {
                    return datafusion::common::exec_err!(
                        "json_build_object: a key is NULL; keys must not be NULL"
                    );
                }
                let key = serde_json::Value::String(scalar_text(&key));
                let value = json_value(&ScalarValue::try_from_array(&pair[1], row)?);
                members.push(format!("{key} : {value}"));
            }
            out.push(format!("{{{}}}", members.join(", ")));
        }
        let out: ArrayRef = Arc::new(StringArray::from(out));
        if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
        {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// A value's text without quotes (`Utf8("a")` → `a`).
fn scalar_text(value: &ScalarValue) -> String {
    value
        .try_as_str()
        .flatten()
        .map_or_else(|| value.to_string(), str::to_string)
}

fn json_value(value: &ScalarValue) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        v if v.is_null() => Json::Null,
        ScalarValue::Boolean(Some(b)) => Json::Bool(*b),
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::UInt8(_)
        | ScalarValue::UInt16(_)
        | ScalarValue::UInt32(_)
        | ScalarValue::UInt64(_)
        | ScalarValue::Float32(_)
        | ScalarValue::Float64(_) => {
            serde_json::from_str(&value.to_string()).unwrap_or(Json::String(value.to_string()))
        }
        other => Json::String(scalar_text(other)),
    }
}

/// Adjusts a statement clients send that DataFusion would refuse: `SHOW` of a PostgreSQL
/// setting becomes a one-row `SELECT`; duplicate unnamed select items get an alias.
pub fn rewrite(statement: Statement) -> Statement {
    match statement {
        Statement::ShowVariable { variable } => match show_value(&variable) {
            Some((name, value)) => {
                show_as_select(name, value).unwrap_or(Statement::ShowVariable { variable })
            }
            // `SHOW TimeZone` is `SHOW TIME ZONE`, which the session answers with its zone.
            None if variable.len() == 1 && variable[0].value.eq_ignore_ascii_case("timezone") => {
                Statement::ShowVariable {
                    variable: vec![Ident::new("TIME"), Ident::new("ZONE")],
                }
            }
            None => Statement::ShowVariable { variable },
        },
        // `SET TimeZone = 'x'` is `SET TIME ZONE 'x'`: one road, so `SHOW TimeZone` and the
        // session's time zone both follow either spelling.
        Statement::Set(datafusion::sql::sqlparser::ast::Set::SingleAssignment {
            scope: None,
            hivevar: false,
            variable,
            mut values,
        }) if variable.to_string().eq_ignore_ascii_case("timezone") && values.len() == 1 => {
            Statement::Set(datafusion::sql::sqlparser::ast::Set::SetTimeZone {
                local: false,
                value: values.remove(0),
            })
        }
        Statement::Set(datafusion::sql::sqlparser::ast::Set::SingleAssignment {
            scope,
            hivevar,
            variable,
            mut values,
        }) => {
            // `SET extra_float_digits = 3`: the session keeps these settings' values as text,
            // and a number's was lost (SHOW answered nothing).
            const KEPT_AS_TEXT: &[&str] = &[
                "extra_float_digits",
                "application_name",
                "search_path",
                "datestyle",
                "intervalstyle",
                "bytea_output",
            ];
            let kept_as_text = KEPT_AS_TEXT.contains(&variable.to_string().to_lowercase().as_str());
            for value in values.iter_mut().filter(|_| kept_as_text) {
                if let SqlExpr::Value(v) = value
                    && let Value::Number(number, _) = &v.value
                {
                    *value = SqlExpr::value(Value::SingleQuotedString(number.clone()));
                }
            }
            Statement::Set(datafusion::sql::sqlparser::ast::Set::SingleAssignment {
                scope,
                hivevar,
                variable,
                values,
            })
        }
        Statement::Query(mut query) => {
            alias_duplicates(&mut query);
            let mut statement = Statement::Query(query);
            field_access_as_subscript(&mut statement);
            like_escape_as_backslash(&mut statement);
            name_casts_as_text(&mut statement);
            missing_information_schema_views_as_empty(&mut statement);
            regproc_names_as_text(&mut statement);
            descriptions_looked_up(&mut statement);
            system_catalogs_as_fixed_oids(&mut statement);
            array_subqueries_aggregated(&mut statement);
            tableoid_as_zero(&mut statement);
            array_literals_of_oid_arrays(&mut statement);
            udt_names_of_columns(&mut statement);
            catalog_subqueries_known_empty(&mut statement);
            case_of_subquery_as_filter(&mut statement);
            catalog_subqueries_aggregated(&mut statement);
            generate_subscripts_as_unnest(&mut statement);
            statement
        }
        other => other,
    }
}

/// The names PostgreSQL gives a query's columns, by position, where they differ from
/// DataFusion's: an unnamed function call is named after the function (`count(*)` is `count`),
/// a cast of a literal after the type (`'a'::text` is `text`), `CASE` is `case`, other
/// unnamed expressions `?column?` (DataFusion says `count(*)`, `Int64(1)`). `None` keeps
/// DataFusion's name (columns, aliases, what a `*` expands to). Only the clients' view
/// changes: PostgreSQL allows two columns of one name, DataFusion's plan does not.
pub fn postgres_column_names(statement: &Statement, columns: usize) -> Option<Vec<Option<String>>> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let mut body = query.body.as_ref();
    // A UNION's columns are named by its first branch.
    while let SetExpr::SetOperation { left, .. } = body {
        body = left.as_ref();
    }
    let SetExpr::Select(select) = body else {
        return None;
    };
    let wildcards = select
        .projection
        .iter()
        .filter(|i| {
            matches!(
                i,
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
            )
        })
        .count();
    // What one `*` stands for (with two, which columns are whose is not known here).
    let expanded = match wildcards {
        0 => 0,
        1 => (columns + 1).checked_sub(select.projection.len())?,
        _ => return None,
    };
    let mut names = Vec::with_capacity(columns);
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(expr) => names.push(postgres_name(expr)),
            // A repeated unnamed expression, given a name by [`alias_duplicates`].
            SelectItem::ExprWithAlias { alias, .. } if alias.value.starts_with("?column?_") => {
                names.push(Some("?column?".into()))
            }
            SelectItem::ExprWithAlias { .. } => names.push(None),
            _ => names.extend(std::iter::repeat_n(None, expanded)),
        }
    }
    (names.len() == columns && names.iter().any(Option::is_some)).then_some(names)
}

/// PostgreSQL's name for an unnamed select-list expression (`None`: a column, named as it is).
fn postgres_name(expr: &SqlExpr) -> Option<String> {
    let name = match expr {
        SqlExpr::Identifier(_) | SqlExpr::CompoundIdentifier(_) => return None,
        SqlExpr::Nested(inner) => return postgres_name(inner),
        SqlExpr::Function(function) => function
            .name
            .0
            .last()
            .map(|part| part.to_string().trim_matches('"').to_lowercase())?,
        SqlExpr::Cast {
            expr, data_type, ..
        } => match expr.as_ref() {
            SqlExpr::Value(_) => cast_type_name(data_type),
            inner => return postgres_name(inner),
        },
        SqlExpr::Case { .. } => "case".into(),
        SqlExpr::Exists { .. } => "exists".into(),
        SqlExpr::Array(_) => "array".into(),
        SqlExpr::Extract { .. } => "extract".into(),
        SqlExpr::Substring { .. } => "substring".into(),
        SqlExpr::Position { .. } => "position".into(),
        SqlExpr::Ceil { .. } => "ceil".into(),
        SqlExpr::Floor { .. } => "floor".into(),
        SqlExpr::Subquery(query) => match query.body.as_ref() {
            SetExpr::Select(select) => match select.projection.as_slice() {
                [SelectItem::UnnamedExpr(inner)] => return postgres_name(inner),
                _ => return None,
            },
            _ => return None,
        },
        _ => "?column?".into(),
    };
    Some(name)
}

/// The name PostgreSQL gives a cast literal's column: its type's internal name.
fn cast_type_name(data_type: &SqlDataType) -> String {
    let written = data_type.to_string().to_lowercase();
    let name = match written.split('(').next().unwrap_or_default().trim() {
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "real" | "float4" => "float4",
        "double precision" | "float8" | "double" => "float8",
        "boolean" | "bool" => "bool",
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "decimal" | "numeric" => "numeric",
        other => return other.to_string(),
    };
    name.to_string()
}

/// `schema` with the columns renamed as `names` says (see [`postgres_column_names`]).
pub fn renamed(
    schema: &datafusion::arrow::datatypes::Schema,
    names: Option<&[Option<String>]>,
) -> datafusion::arrow::datatypes::Schema {
    let Some(names) = names.filter(|n| n.len() == schema.fields().len()) else {
        return schema.clone();
    };
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(names)
        .map(|(field, name)| match name {
            Some(name) => field.as_ref().clone().with_name(name),
            None => field.as_ref().clone(),
        })
        .collect();
    datafusion::arrow::datatypes::Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// The column name and value of `SHOW <setting>` for the settings drivers probe.
fn show_value(variable: &[Ident]) -> Option<(&'static str, &'static str)> {
    let name: Vec<String> = variable.iter().map(|v| v.value.to_lowercase()).collect();
    setting(&name.join(" "))
}

/// The column name and value of the setting `name` (lower case), as `SHOW` and
/// `current_setting` answer it.
fn setting(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "transaction isolation level" | "transaction_isolation" => {
            ("transaction_isolation", "read committed")
        }
        "default_transaction_isolation" => ("default_transaction_isolation", "read committed"),
        "standard_conforming_strings" => ("standard_conforming_strings", "on"),
        "server_version" => ("server_version", PG_VERSION),
        "server_encoding" => ("server_encoding", "UTF8"),
        "client_encoding" => ("client_encoding", "UTF8"),
        "integer_datetimes" => ("integer_datetimes", "on"),
        "transaction_read_only" => ("transaction_read_only", "off"),
        "default_transaction_read_only" => ("default_transaction_read_only", "off"),
        "max_identifier_length" => ("max_identifier_length", "63"),
        "is_superuser" => ("is_superuser", "off"),
        "default_table_access_method" => ("default_table_access_method", "heap"),
        _ => return None,
    })
}

fn show_as_select(name: &str, value: &str) -> Option<Statement> {
    let sql = format!("SELECT '{value}' AS \"{name}\"");
    Parser::parse_sql(&PostgreSqlDialect {}, &sql)
        .ok()?
        .into_iter()
        .next()
}

/// `SELECT NULL AS a, NULL, NULL`: PostgreSQL names both unnamed items `?column?`; DataFusion
/// requires unique names, so the second and later get `?column?_2`, … (JDBC's getProcedures).
fn alias_duplicates(query: &mut Query) {
    if let SetExpr::Select(select) = query.body.as_mut() {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for item in &select.projection {
            if let SelectItem::ExprWithAlias { alias, .. } = item {
                seen.insert(alias.value.to_lowercase(), 1);
            }
        }
        for item in &mut select.projection {
            if let SelectItem::UnnamedExpr(expr) = item {
                let name = expr.to_string().to_lowercase();
                let count = seen.entry(name).or_insert(0);
                *count += 1;
                if *count > 1 && is_literal(expr) {
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias: Ident::with_quote('"', format!("?column?_{count}")),
                    };
                }
            }
        }
    }
}

/// `information_schema` views PostgreSQL has and DataFusion's `information_schema` lacks, with
/// their columns: read as empty (nobody has been granted anything here; DBeaver's role
/// editor reads them).
const EMPTY_INFORMATION_SCHEMA_VIEWS: &[(&str, &[&str])] = &[
    (
        "table_privileges",
        &[
            "grantor",
            "grantee",
            "table_catalog",
            "table_schema",
            "table_name",
            "privilege_type",
            "is_grantable",
            "with_hierarchy",
        ],
    ),
    (
        "routine_privileges",
        &[
            "grantor",
            "grantee",
            "specific_catalog",
            "specific_schema",
            "specific_name",
            "routine_catalog",
            "routine_schema",
            "routine_name",
            "privilege_type",
            "is_grantable",
        ],
    ),
    (
        "column_privileges",
        &[
            "grantor",
            "grantee",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "privilege_type",
            "is_grantable",
        ],
    ),
];

/// `information_schema.table_privileges` (and the others of
/// [`EMPTY_INFORMATION_SCHEMA_VIEWS`]) → an empty derived table with their columns.
fn missing_information_schema_views_as_empty(statement: &mut Statement) {
    struct Empty;
    impl datafusion::sql::sqlparser::ast::VisitorMut for Empty {
        type Break = ();
        fn pre_visit_table_factor(&mut self, table: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } = table
            else {
                return ControlFlow::Continue(());
            };
            let parts: Vec<String> = name
                .0
                .iter()
                .map(|p| p.to_string().trim_matches('"').to_lowercase())
                .collect();
            let [.., schema, view] = parts.as_slice() else {
                return ControlFlow::Continue(());
            };
            let Some((view, columns)) = EMPTY_INFORMATION_SCHEMA_VIEWS
                .iter()
                .find(|(v, _)| schema == "information_schema" && v == view)
            else {
                return ControlFlow::Continue(());
            };
            let select: Vec<String> = columns
                .iter()
                .map(|c| format!("CAST(NULL AS TEXT) AS {c}"))
                .collect();
            let sql = format!("SELECT {} WHERE false", select.join(", "));
            let Ok(Some(Statement::Query(query))) =
                Parser::parse_sql(&PostgreSqlDialect {}, &sql).map(|mut s| s.pop())
            else {
                return ControlFlow::Continue(());
            };
            let alias =
                alias
                    .clone()
                    .unwrap_or_else(|| datafusion::sql::sqlparser::ast::TableAlias {
                        name: Ident::new(*view),
                        columns: Vec::new(),
                        explicit: false,
                        at: None,
                    });
            *table = TableFactor::Derived {
                lateral: false,
                subquery: query,
                alias: Some(alias),
                sample: None,
            };
            ControlFlow::Continue(())
        }
    }
    let _ = datafusion::sql::sqlparser::ast::VisitMut::visit(statement, &mut Empty);
}

/// `x::name` → `x::text`: PostgreSQL's type of identifiers (`'_RETURN'::name`, DBeaver's
/// rules) is text here, as the catalog's name columns are.
fn name_casts_as_text(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        if let SqlExpr::Cast { data_type, .. } = expr
            && let SqlDataType::Custom(name, modifiers) = data_type
            && modifiers.is_empty()
            && name.0.last().is_some_and(|part| {
                part.to_string()
                    .trim_matches('"')
                    .eq_ignore_ascii_case("name")
            })
            && name.0.len() <= 2
        {
            *data_type = SqlDataType::Text;
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `(f(x)).n` → `(f(x))['n']`: DataFusion reads a struct field by subscript only (JDBC's
/// `(information_schema._pg_expandarray(i.indkey)).n`).
fn field_access_as_subscript(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        if let SqlExpr::CompoundFieldAccess { root, access_chain } = expr
            && matches!(root.as_ref(), SqlExpr::Nested(_))
        {
            for access in access_chain.iter_mut() {
                if let AccessExpr::Dot(SqlExpr::Identifier(field)) = access {
                    *access = AccessExpr::Subscript(Subscript::Index {
                        index: SqlExpr::value(Value::SingleQuotedString(field.value.clone())),
                    });
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `x LIKE p ESCAPE '/'` → `x LIKE p'` with `p'` using backslash escapes, DataFusion's only
/// escape character (SQLAlchemy's get_schema_names: `NOT LIKE 'pg/_' || '%' ESCAPE '/'`).
/// A literal pattern is converted here; any other is wrapped in `regexp_replace(replace(…))`.
fn like_escape_as_backslash(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        if let SqlExpr::Like {
            pattern,
            escape_char,
            ..
        }
        | SqlExpr::ILike {
            pattern,
            escape_char,
            ..
        } = expr
            && let Some(escape) = escape_char
                .as_ref()
                .and_then(|e| e.value.clone().into_string())
            && escape != "\\"
        {
            let escape = escape.chars().next();
            let converted = match pattern.as_ref() {
                SqlExpr::Value(v) => match &v.value {
                    Value::SingleQuotedString(text) => {
                        Some(text_literal(&backslash_escaped(text, escape)))
                    }
                    _ => None,
                },
                _ => None,
            };
            let converted = converted.unwrap_or_else(|| {
                let doubled = call(
                    "replace",
                    vec![
                        pattern.as_ref().clone(),
                        text_literal("\\"),
                        text_literal("\\\\"),
                    ],
                );
                match escape {
                    None => doubled,
                    Some(escape) => call(
                        "regexp_replace",
                        vec![
                            doubled,
                            text_literal(&format!("(?s){}(.)", regex_escaped(escape))),
                            text_literal("\\${1}"),
                            text_literal("g"),
                        ],
                    ),
                }
            });
            **pattern = converted;
            *escape_char = None;
        }
        ControlFlow::<()>::Continue(())
    });
}

/// A LIKE pattern with escape character `escape` (None: `ESCAPE ''`, no escape character),
/// spelled with backslash escapes: `pg/_%` with `/` → `pg\_%`; a backslash becomes `\\`.
fn backslash_escaped(pattern: &str, escape: Option<char>) -> String {
    let mut out = String::with_capacity(pattern.len() + 2);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            out.push('\\');
            out.push(chars.next().unwrap_or(c));
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

fn regex_escaped(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else {
        format!("\\{c}")
    }
}

/// `generate_subscripts(a, 1)` → `unnest(range(1, cardinality(a) + 1))`: next to
/// `unnest(a)` in a select list the two unnest in step, as the pair does in PostgreSQL
/// (SQLAlchemy's get_pk_constraint / get_indexes over `pg_index.indkey`).
fn generate_subscripts_as_unnest(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        if let SqlExpr::Function(function) = expr
            && function
                .name
                .to_string()
                .eq_ignore_ascii_case("generate_subscripts")
            && let FunctionArguments::List(list) = &function.args
            && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(array))) = list.args.first()
        {
            let length = SqlExpr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(call("cardinality", vec![array.clone()])),
                data_type: SqlDataType::BigInt(None),
                array: false,
                format: None,
            };
            let one = || SqlExpr::value(Value::Number("1".into(), false));
            let past_last = SqlExpr::BinaryOp {
                left: Box::new(length),
                op: BinaryOperator::Plus,
                right: Box::new(one()),
            };
            // Our arrays have one dimension: any other has no subscripts. Keeping the
            // dimension also keeps its `$n` parameter, which the client binds.
            let dimension = list.args.get(1).and_then(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(d)) => Some(d.clone()),
                _ => None,
            });
            let end = match dimension {
                Some(dimension) => SqlExpr::Case {
                    case_token: AttachedToken::empty(),
                    end_token: AttachedToken::empty(),
                    operand: None,
                    conditions: vec![CaseWhen {
                        condition: SqlExpr::BinaryOp {
                            left: Box::new(dimension),
                            op: BinaryOperator::Eq,
                            right: Box::new(one()),
                        },
                        result: past_last,
                    }],
                    else_result: Some(Box::new(one())),
                },
                None => past_last,
            };
            let one = SqlExpr::value(Value::Number("1".into(), false));
            *expr = call("unnest", vec![call("range", vec![one, end])]);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `typinput = 'pg_catalog.array_in'::regproc` → `typinput = 'array_in'`: the emulation's
/// `pg_type` holds function names as text, and its `::regproc` only finds unqualified names
/// (pgjdbc's TypeInfoCache.getSQLType).
fn regproc_names_as_text(statement: &mut Statement) {
    const TEXT_REGPROC_COLUMNS: &[&str] = &[
        "typinput",
        "typoutput",
        "typreceive",
        "typsend",
        "typmodin",
        "typmodout",
        "typanalyze",
    ];
    let _ = visit_expressions_mut(statement, |expr| {
        if let SqlExpr::BinaryOp { left, op, right } = expr
            && matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq)
            && column_name(left).is_some_and(|c| TEXT_REGPROC_COLUMNS.contains(&c.as_str()))
            && let Some(name) = regproc_lookup_name(right)
        {
            let unqualified = name.rsplit('.').next().unwrap_or(&name).to_string();
            **right = text_literal(&unqualified);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The name in `'name'::regproc`, which datafusion-postgres' parser has already made
/// `(SELECT oid FROM pg_catalog.pg_proc WHERE proname = 'name')`.
fn regproc_lookup_name(expr: &SqlExpr) -> Option<String> {
    let SqlExpr::Subquery(query) = expr else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let [from] = select.from.as_slice() else {
        return None;
    };
    let TableFactor::Table { name, .. } = &from.relation else {
        return None;
    };
    if !name.to_string().to_lowercase().ends_with("pg_proc") {
        return None;
    }
    let Some(SqlExpr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    }) = &select.selection
    else {
        return None;
    };
    if column_name(left).as_deref() != Some("proname") {
        return None;
    }
    match right.as_ref() {
        SqlExpr::Value(v) => v.value.clone().into_string(),
        _ => None,
    }
}

/// The lower-cased column name of `c` / `t.c`.
fn column_name(expr: &SqlExpr) -> Option<String> {
    match expr {
        SqlExpr::Identifier(ident) => Some(ident.value.to_lowercase()),
        SqlExpr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.to_lowercase()),
        _ => None,
    }
}

/// Catalog tables that hold no rows in our catalog: intercom-sql columns have no defaults
/// (`pg_attrdef`) and no identity or serial sequences (`pg_sequence`).
const EMPTY_CATALOG_TABLES: &[&str] = &["pg_attrdef", "pg_sequence"];

/// `(SELECT x FROM pg_attrdef … WHERE …)` → `NULL`, and a `CASE` all of whose results are
/// then `NULL` → `NULL`: the value PostgreSQL would give, since the sub-select can find no row.
/// Two cases: a table of [`EMPTY_CATALOG_TABLES`] in its `FROM`, or a `WHERE` conjunct
/// `pg_collation.oid = ….attcollation` (every column of ours has collation 0, which names no
/// collation). DataFusion cannot decorrelate these where SQLAlchemy's get_columns puts them
/// (inside CASE, next to outer joins), so they would fail instead of being NULL.
fn catalog_subqueries_known_empty(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        let replace = match expr {
            SqlExpr::Subquery(query) => finds_no_catalog_row(query),
            SqlExpr::Case {
                conditions,
                else_result,
                ..
            } => {
                conditions.iter().all(|when| is_null(&when.result))
                    && else_result.as_deref().is_none_or(is_null)
            }
            _ => false,
        };
        if replace {
            *expr = SqlExpr::value(Value::Null);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Whether `query` is a sub-select over catalog tables that can find no row in our catalog.
fn finds_no_catalog_row(query: &Query) -> bool {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    let relations: Vec<&TableFactor> = select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .collect();
    if relations.is_empty() || !relations.iter().all(|t| is_catalog_table(t)) {
        return false;
    }
    // An empty table in the FROM (inner joins only: an outer join keeps the other side's rows).
    let inner_only = select.from.iter().all(|t| {
        t.joins.iter().all(|j| {
            matches!(
                j.join_operator,
                JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::CrossJoin(_)
            )
        })
    });
    let empty_table = inner_only
        && relations.iter().any(|t| {
            matches!(t, TableFactor::Table { name, .. }
            if name.0.last().is_some_and(|part| {
                EMPTY_CATALOG_TABLES.contains(&part.to_string().to_lowercase().as_str())
            }))
        });
    empty_table
        || select
            .selection
            .as_ref()
            .is_some_and(|w| conjuncts(w).into_iter().any(is_collation_of_attribute))
}

/// The top-level `AND`ed parts of `expr`.
fn conjuncts(expr: &SqlExpr) -> Vec<&SqlExpr> {
    match expr {
        SqlExpr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut parts = conjuncts(left);
            parts.extend(conjuncts(right));
            parts
        }
        SqlExpr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

/// `pg_collation.oid = ….attcollation` (either way round).
fn is_collation_of_attribute(expr: &SqlExpr) -> bool {
    let SqlExpr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = expr
    else {
        return false;
    };
    let is_collation_oid = |e: &SqlExpr| {
        matches!(e, SqlExpr::CompoundIdentifier(parts) if parts.len() >= 2
            && parts[parts.len() - 1].value.eq_ignore_ascii_case("oid")
            && parts[parts.len() - 2].value.eq_ignore_ascii_case("pg_collation"))
    };
    let is_attcollation = |e: &SqlExpr| column_name(e).as_deref() == Some("attcollation");
    (is_collation_oid(left) && is_attcollation(right))
        || (is_attcollation(left) && is_collation_oid(right))
}

fn is_null(expr: &SqlExpr) -> bool {
    matches!(expr, SqlExpr::Value(v) if v.value == Value::Null)
}

/// `CASE WHEN c THEN (SELECT x FROM pg_… WHERE w) ELSE NULL END` → `(SELECT x FROM pg_… WHERE
/// c AND w)`, the same value: DataFusion cannot run a correlated subquery inside CASE
/// (SQLAlchemy's get_columns: defaults, identity options, collation).
fn case_of_subquery_as_filter(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        if let SqlExpr::Case {
            operand: None,
            conditions,
            else_result,
            ..
        } = expr
            && let [when] = conditions.as_slice()
            && else_result
                .as_deref()
                .is_none_or(|e| matches!(e, SqlExpr::Value(v) if v.value == Value::Null))
            && let SqlExpr::Subquery(query) = &when.result
            && let SetExpr::Select(select) = query.body.as_ref()
            && select.from.iter().all(|t| is_catalog_table(&t.relation))
        {
            let mut query = query.clone();
            if let SetExpr::Select(select) = query.body.as_mut() {
                let condition = SqlExpr::Nested(Box::new(when.condition.clone()));
                select.selection = Some(match select.selection.take() {
                    Some(w) => SqlExpr::BinaryOp {
                        left: Box::new(condition),
                        op: BinaryOperator::And,
                        right: Box::new(SqlExpr::Nested(Box::new(w))),
                    },
                    None => condition,
                });
            }
            *expr = SqlExpr::Subquery(query);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `(SELECT x FROM pg_catalog.pg_type WHERE oid = a.atttypid)` → `(SELECT first_value(x) …)`:
/// DataFusion plans a correlated scalar subquery only when it is aggregated. Done for
/// subqueries over `pg_catalog` tables only, whose keys make one row the most there is
/// (SQLAlchemy's get_columns); a user's subquery keeps its more-than-one-row error.
fn catalog_subqueries_aggregated(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        // `LIMIT 1` is the pg_catalog emulation's own (its `'name'::regproc` lookups): with
        // it, a lookup of an unknown name failed on a NULL in a non-nullable column.
        let limit_one = |q: &Query| {
            q.limit_clause
                .as_ref()
                .is_none_or(|l| l.to_string().trim().eq_ignore_ascii_case("LIMIT 1"))
        };
        if let SqlExpr::Subquery(query) = expr
            && limit_one(query)
            && let SetExpr::Select(select) = query.body.as_mut()
            && select.projection.len() == 1
            && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
            && !select.from.is_empty()
            && select.from.iter().all(|t| {
                std::iter::once(&t.relation)
                    .chain(t.joins.iter().map(|j| &j.relation))
                    .all(|r| is_catalog_table(r) || is_table_free_subquery(r))
            })
        {
            match &mut select.projection[0] {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }
                    if !is_aggregate(e) =>
                {
                    *e = call("first_value", vec![e.clone()]);
                    query.limit_clause = None;
                }
                _ => {}
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `ARRAY(SELECT e FROM … ORDER BY o)` (psql's `\du`, `\dp`, `\dT+`) →
/// `(SELECT array_agg(e ORDER BY o) FROM …)`, which DataFusion plans (correlated too). A
/// sub-select over `unnest(column)` becomes NULL: the array columns psql unnests this way
/// (`reloptions`, `evttags`, the `…acl` privileges) are NULL in our catalog, and DataFusion
/// cannot unnest an outer column in a FROM. No row gives NULL where PostgreSQL gives `{}`.
fn array_subqueries_aggregated(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        let SqlExpr::Function(function) = expr else {
            return ControlFlow::<()>::Continue(());
        };
        if !function.name.to_string().eq_ignore_ascii_case("array") {
            return ControlFlow::Continue(());
        }
        let FunctionArguments::Subquery(query) = &function.args else {
            return ControlFlow::Continue(());
        };
        let mut query = query.clone();
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let unnests = select.from.iter().any(|t| {
            matches!(&t.relation, TableFactor::Table { name, args: Some(_), .. }
                if name.0.last().is_some_and(|p| p.to_string().eq_ignore_ascii_case("unnest")))
                || matches!(&t.relation, TableFactor::UNNEST { .. })
        });
        if unnests {
            *expr = SqlExpr::value(Value::Null);
            return ControlFlow::Continue(());
        }
        let plain = select.projection.len() == 1
            && matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
            && select.distinct.is_none()
            && query.limit_clause.is_none();
        if !plain {
            return ControlFlow::Continue(());
        }
        let order: Vec<_> = match query.order_by.take() {
            Some(order_by) => match order_by.kind {
                datafusion::sql::sqlparser::ast::OrderByKind::Expressions(list) => list,
                _ => return ControlFlow::Continue(()),
            },
            None => Vec::new(),
        };
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let item = match &select.projection[0] {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e.clone(),
            _ => return ControlFlow::Continue(()),
        };
        let mut aggregate = call("array_agg", vec![item]);
        if let SqlExpr::Function(f) = &mut aggregate
            && let FunctionArguments::List(list) = &mut f.args
            && !order.is_empty()
        {
            list.clauses
                .push(datafusion::sql::sqlparser::ast::FunctionArgumentClause::OrderBy(order));
        }
        select.projection = vec![SelectItem::UnnamedExpr(aggregate)];
        *expr = SqlExpr::Subquery(query);
        ControlFlow::Continue(())
    });
}

/// PostgreSQL's fixed OIDs of its system catalogs (`pg_class` is 1259 in every cluster):
/// `pg_description.classoid`, `obj_description(o, 'pg_class')`, `'pg_class'::regclass`.
const SYSTEM_CATALOGS: &[(&str, i32)] = &[
    ("pg_class", 1259),
    ("pg_attribute", 1249),
    ("pg_description", 2609),
    ("pg_index", 2610),
    ("pg_depend", 2608),
    ("pg_inherits", 2611),
    ("pg_attrdef", 2604),
    ("pg_authid", 1260),
    ("pg_tablespace", 1213),
    ("pg_shdescription", 2396),
    ("pg_proc", 1255),
    ("pg_type", 1247),
    ("pg_namespace", 2615),
    ("pg_constraint", 2606),
    ("pg_database", 1262),
    ("pg_am", 2601),
    ("pg_operator", 2617),
    ("pg_opclass", 2616),
    ("pg_opfamily", 2753),
    ("pg_collation", 3456),
    ("pg_conversion", 2607),
    ("pg_language", 2612),
    ("pg_trigger", 2620),
    ("pg_rewrite", 2618),
    ("pg_extension", 3079),
    ("pg_event_trigger", 3466),
    ("pg_cast", 2605),
    ("pg_ts_config", 3602),
    ("pg_ts_dict", 3600),
    ("pg_ts_parser", 3601),
    ("pg_ts_template", 3764),
    ("pg_foreign_data_wrapper", 2328),
    ("pg_foreign_server", 1417),
    ("pg_statistic_ext", 3381),
    ("pg_publication", 6104),
    ("pg_subscription", 6100),
    ("pg_policy", 3256),
];

/// `'pg_class'::regclass`, `CAST($1 AS regclass)` of `'pg_catalog.pg_class'`, … → PostgreSQL's
/// fixed OID of a system catalog. datafusion-postgres' parser makes the cast a lookup in
/// `pg_class` among `current_schema()`'s relations, where no system catalog is (PostgreSQL
/// searches `pg_catalog` first) and where they have session OIDs, so JDBC's and SQLAlchemy's
/// `d.classoid = 'pg_class'::regclass` matched no comment. The lookup also searches
/// `pg_catalog` and answers a system catalog's fixed OID ([`SYSTEM_CATALOGS`]).
fn system_catalogs_as_fixed_oids(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        if let SqlExpr::Subquery(query) = expr
            && let Some(fixed) = regclass_lookup_with_system_catalogs(&query.to_string())
        {
            **query = fixed;
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The lookup datafusion-postgres makes of `x::regclass`, searching `pg_catalog` too and
/// answering system catalogs' fixed OIDs; `None` for any other query.
fn regclass_lookup_with_system_catalogs(lookup: &str) -> Option<Query> {
    const PROJECTION: &str = "SELECT c.oid FROM pg_catalog.pg_class c";
    const UNQUALIFIED: &str = "n.nspname = current_schema() AND c.relname = parts[1]";
    if !lookup.starts_with(PROJECTION) || !lookup.contains("parse_ident(") {
        return None;
    }
    let fixed: String = SYSTEM_CATALOGS
        .iter()
        .map(|(name, oid)| format!(" WHEN '{name}' THEN {oid}"))
        .collect();
    let sql = lookup
        .replacen(
            PROJECTION,
            &format!(
                "SELECT CASE WHEN n.nspname = 'pg_catalog' THEN CASE c.relname{fixed} \
                 ELSE c.oid END ELSE c.oid END FROM pg_catalog.pg_class c"
            ),
            1,
        )
        .replacen(
            UNQUALIFIED,
            "n.nspname IN ('pg_catalog', current_schema()) AND c.relname = parts[1]",
            1,
        );
    match Parser::parse_sql(&PostgreSqlDialect {}, &sql).ok()?.pop()? {
        Statement::Query(query) => Some(*query),
        _ => None,
    }
}

/// `obj_description(o, 'pg_class')` / `col_description(o, n)` → the sub-select of
/// `pg_description` PostgreSQL's own definitions are (then aggregated, so DataFusion plans it
/// correlated): our tables', columns' and procedures' descriptions are there.
fn descriptions_looked_up(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        let SqlExpr::Function(function) = expr else {
            return ControlFlow::<()>::Continue(());
        };
        let name = function.name.to_string().to_lowercase();
        let name = name.rsplit('.').next().unwrap_or_default().to_string();
        let FunctionArguments::List(list) = &function.args else {
            return ControlFlow::Continue(());
        };
        let args: Vec<SqlExpr> = list
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect();
        let (object, class, sub) = match (name.as_str(), args.as_slice()) {
            ("obj_description", [object, class]) => {
                let class = match class {
                    SqlExpr::Value(v) => v.value.clone().into_string(),
                    _ => None,
                };
                let Some(oid) = class.and_then(|c| {
                    let c = c.rsplit('.').next().unwrap_or_default().to_lowercase();
                    SYSTEM_CATALOGS
                        .iter()
                        .find(|(n, _)| *n == c)
                        .map(|(_, o)| *o)
                }) else {
                    return ControlFlow::Continue(());
                };
                (
                    object.clone(),
                    Some(oid),
                    SqlExpr::value(Value::Number("0".into(), false)),
                )
            }
            ("obj_description", [object]) => (
                object.clone(),
                None,
                SqlExpr::value(Value::Number("0".into(), false)),
            ),
            ("col_description", [object, number]) => (object.clone(), Some(1259), number.clone()),
            _ => return ControlFlow::Continue(()),
        };
        // An alias no client uses, so that the object's own columns resolve outside.
        let class = class.map_or_else(String::new, |c| format!(" AND _described.classoid = {c}"));
        let sql = format!(
            "SELECT _described.description FROM pg_catalog.pg_description _described \
             WHERE _described.objoid = ({object}){class} AND _described.objsubid = ({sub})"
        );
        if let Ok(mut parsed) = Parser::parse_sql(&PostgreSqlDialect {}, &sql)
            && let Some(Statement::Query(query)) = parsed.pop()
        {
            *expr = SqlExpr::Subquery(query);
        }
        ControlFlow::Continue(())
    });
}

/// `x.tableoid` (a system column the emulation lacks; psql's `\dd` and `\dL` read it to join
/// `pg_description`, which holds nothing for those catalogs) → `0`.
fn tableoid_as_zero(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr| {
        let is_tableoid = match expr {
            SqlExpr::Identifier(ident) => ident.value.eq_ignore_ascii_case("tableoid"),
            SqlExpr::CompoundIdentifier(parts) => parts
                .last()
                .is_some_and(|p| p.value.eq_ignore_ascii_case("tableoid")),
            _ => false,
        };
        if is_tableoid {
            *expr = SqlExpr::value(Value::Number("0".into(), false));
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `udt_name` of `information_schema.columns` (Grafana's and Metabase's column types), which
/// DataFusion's view lacks: PostgreSQL's name of the type, from `data_type`. Only in a query
/// that reads `information_schema.columns`.
fn udt_names_of_columns(statement: &mut Statement) {
    let mut reads_columns = false;
    let _ = datafusion::sql::sqlparser::ast::visit_relations(&*statement, |name| {
        reads_columns |= name
            .to_string()
            .to_lowercase()
            .ends_with("information_schema.columns");
        ControlFlow::<()>::Continue(())
    });
    if !reads_columns {
        return;
    }
    let udt = |qualifier: Vec<Ident>| -> SqlExpr {
        let mut data_type = qualifier;
        data_type.push(Ident::new("data_type"));
        let data_type = match data_type.len() {
            1 => SqlExpr::Identifier(data_type.remove(0)),
            _ => SqlExpr::CompoundIdentifier(data_type),
        };
        let when = |pattern: &str, name: &str| CaseWhen {
            condition: SqlExpr::Like {
                negated: false,
                any: false,
                expr: Box::new(data_type.clone()),
                pattern: Box::new(text_literal(pattern)),
                escape_char: None,
            },
            result: text_literal(name),
        };
        SqlExpr::Case {
            case_token: AttachedToken::empty(),
            end_token: AttachedToken::empty(),
            operand: None,
            conditions: vec![
                when("Timestamp%", "timestamptz"),
                when("Int64", "int8"),
                when("Int32", "int4"),
                when("Int16", "int2"),
                when("Float64", "float8"),
                when("Float32", "float4"),
                when("Boolean", "bool"),
                when("Date32", "date"),
            ],
            else_result: Some(Box::new(text_literal("text"))),
        }
    };
    let _ = visit_expressions_mut(statement, |expr| {
        match expr {
            SqlExpr::Identifier(ident) if ident.value.eq_ignore_ascii_case("udt_name") => {
                *expr = udt(Vec::new());
            }
            SqlExpr::CompoundIdentifier(parts)
                if parts
                    .last()
                    .is_some_and(|p| p.value.eq_ignore_ascii_case("udt_name")) =>
            {
                let qualifier = parts[..parts.len() - 1].to_vec();
                *expr = udt(qualifier);
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `polroles <> '{0}'` (psql's `\dp`): PostgreSQL reads the text as an `oid[]` literal;
/// DataFusion compares a list with text, so the literal becomes `make_array(0)`. Only for the
/// catalog's oid-array columns compared with a literal of integers.
fn array_literals_of_oid_arrays(statement: &mut Statement) {
    const OID_ARRAYS: &[&str] = &["polroles"];
    let _ = visit_expressions_mut(statement, |expr| {
        if let SqlExpr::BinaryOp { left, op, right } = expr
            && matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq)
            && column_name(left).is_some_and(|c| OID_ARRAYS.contains(&c.as_str()))
            && let SqlExpr::Value(v) = right.as_ref()
            && let Value::SingleQuotedString(text) = &v.value
            && let Some(items) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'))
            && items
                .split(',')
                .all(|i| !i.trim().is_empty() && i.trim().bytes().all(|b| b.is_ascii_digit()))
        {
            let numbers = items
                .split(',')
                .map(|i| SqlExpr::value(Value::Number(i.trim().to_string(), false)))
                .collect();
            **right = call("make_array", numbers);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// A derived table that reads no table (`(SELECT parse_ident('x') AS parts)`, in the pg_catalog
/// emulation's `'name'::regclass` lookup).
fn is_table_free_subquery(table: &TableFactor) -> bool {
    matches!(table, TableFactor::Derived { subquery, .. }
        if matches!(subquery.body.as_ref(), SetExpr::Select(s) if s.from.is_empty()))
}

fn is_catalog_table(table: &TableFactor) -> bool {
    matches!(table, TableFactor::Table { name, args: None, .. }
        if name.0.last().is_some_and(|part| part.to_string().to_lowercase().starts_with("pg_")))
}

fn is_aggregate(expr: &SqlExpr) -> bool {
    const AGGREGATES: &[&str] = &[
        "count",
        "max",
        "min",
        "sum",
        "avg",
        "array_agg",
        "string_agg",
        "bool_and",
        "bool_or",
        "first_value",
        "last_value",
    ];
    matches!(expr, SqlExpr::Function(f)
        if AGGREGATES.contains(&f.name.to_string().to_lowercase().rsplit('.').next().unwrap_or("")))
}

fn text_literal(text: &str) -> SqlExpr {
    SqlExpr::value(Value::SingleQuotedString(text.to_string()))
}

/// `name(args…)` as a parsed expression.
fn call(name: &str, args: Vec<SqlExpr>) -> SqlExpr {
    SqlExpr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

fn is_literal(expr: &SqlExpr) -> bool {
    matches!(expr, SqlExpr::Value(v) if !matches!(v.value, Value::Placeholder(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn show_timezone_and_numeric_settings_answer_as_set() {
        assert_eq!(
            rewrite(parse("SHOW TimeZone")).to_string(),
            "SHOW TIME ZONE"
        );
        assert_eq!(
            rewrite(parse("SET extra_float_digits = 3")).to_string(),
            "SET extra_float_digits = '3'"
        );
    }

    #[test]
    fn names_are_text_and_missing_privilege_views_are_empty() {
        let statement = rewrite(parse(
            "SELECT * FROM pg_rewrite r WHERE r.rulename <> '_RETURN'::name",
        ));
        assert!(
            statement.to_string().ends_with("<> '_RETURN'::TEXT"),
            "{statement}"
        );
        let statement = rewrite(parse(
            "SELECT p.table_name FROM information_schema.table_privileges p WHERE p.grantee = 'x'",
        ));
        let text = statement.to_string();
        assert!(
            text.contains("FROM (SELECT CAST(NULL AS TEXT) AS grantor")
                && text.contains("WHERE false) p WHERE p.grantee = 'x'"),
            "{text}"
        );
    }

    #[test]
    fn columns_are_named_as_postgresql_names_them() {
        let names = |sql: &str, columns: usize| postgres_column_names(&parse(sql), columns);
        assert_eq!(
            names(
                "SELECT id, count(*), 1, 'a'::text, CASE WHEN x THEN 1 END, lower(e) AS l, \
                 pg_catalog.format_type(t, NULL), (SELECT max(v) FROM u), a + 1 FROM t",
                9
            ),
            Some(vec![
                None,
                Some("count".into()),
                Some("?column?".into()),
                Some("text".into()),
                Some("case".into()),
                None,
                Some("format_type".into()),
                Some("max".into()),
                Some("?column?".into()),
            ])
        );
        // A `*` stands for the columns DataFusion names; two of them cannot be placed.
        assert_eq!(
            names("SELECT *, 1 FROM t", 4),
            Some(vec![None, None, None, Some("?column?".into())])
        );
        assert_eq!(names("SELECT a.*, b.*, 1 FROM a, b", 5), None);
        assert_eq!(names("SELECT id FROM t", 1), None);
        assert_eq!(
            names("SELECT 1 UNION ALL SELECT 2", 1),
            Some(vec![Some("?column?".into())])
        );
    }

    #[test]
    fn show_of_a_driver_setting_becomes_a_select() {
        let statement = rewrite(parse("SHOW TRANSACTION ISOLATION LEVEL"));
        assert_eq!(
            statement.to_string(),
            "SELECT 'read committed' AS \"transaction_isolation\""
        );
        let unknown = rewrite(parse("SHOW intercom.pushdown"));
        assert!(matches!(unknown, Statement::ShowVariable { .. }));
    }

    #[test]
    fn duplicate_unnamed_literals_get_aliases() {
        let statement = rewrite(parse("SELECT NULL AS a, x, NULL, NULL, 1, 1 FROM t"));
        assert_eq!(
            statement.to_string(),
            "SELECT NULL AS a, x, NULL, NULL AS \"?column?_2\", 1, 1 AS \"?column?_2\" FROM t"
        );
    }

    #[test]
    fn version_looks_like_postgresql() {
        assert!(version_string().starts_with("PostgreSQL 16.6 (intercom-sql "));
    }

    #[test]
    fn sub_selects_over_empty_catalog_tables_become_null() {
        let statement = rewrite(parse(
            "SELECT a.attname, CASE WHEN a.atthasdef THEN (SELECT pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid) ELSE NULL END AS x, \
             CASE WHEN a.attcollation <> 0 AND (SELECT t.typcollation FROM pg_catalog.pg_type t \
             WHERE t.oid = a.atttypid) <> a.attcollation THEN (SELECT pg_catalog.pg_collation.collname \
             FROM pg_catalog.pg_collation WHERE pg_catalog.pg_collation.oid = a.attcollation) END AS c \
             FROM pg_catalog.pg_attribute a",
        ));
        assert_eq!(
            statement.to_string(),
            "SELECT a.attname, NULL AS x, NULL AS c FROM pg_catalog.pg_attribute a"
        );
    }

    #[test]
    fn sub_selects_that_may_find_rows_are_kept() {
        // An outer join keeps pg_class' rows; pg_type is not empty. Kept, not NULL; their
        // `LIMIT 1` becomes the aggregate DataFusion decorrelates (any one row either way).
        let sql = "SELECT (SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN \
                   pg_catalog.pg_attrdef d ON d.adrelid = c.oid LIMIT 1), \
                   (SELECT t.typname FROM pg_catalog.pg_type t LIMIT 1)";
        assert_eq!(
            rewrite(parse(sql)).to_string(),
            "SELECT (SELECT first_value(c.relname) FROM pg_catalog.pg_class c LEFT JOIN \
             pg_catalog.pg_attrdef d ON d.adrelid = c.oid), \
             (SELECT first_value(t.typname) FROM pg_catalog.pg_type t)"
        );
    }

    #[test]
    fn array_subqueries_aggregate_and_unnests_of_catalog_columns_are_null() {
        let sql = "SELECT ARRAY(SELECT b.rolname FROM pg_catalog.pg_roles b \
                   WHERE b.oid = r.oid ORDER BY 1) AS m, \
                   array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x) AS o, \
                   d.tableoid FROM pg_catalog.pg_roles r, pg_catalog.pg_description d";
        assert_eq!(
            rewrite(parse(sql)).to_string(),
            "SELECT (SELECT array_agg(b.rolname ORDER BY 1) FROM pg_catalog.pg_roles b \
             WHERE b.oid = r.oid) AS m, NULL AS o, 0 FROM pg_catalog.pg_roles r, \
             pg_catalog.pg_description d"
        );
    }

    #[test]
    fn current_setting_answers_like_show() {
        let name = ColumnarValue::Scalar(ScalarValue::Utf8(Some("Server_Version".into())));
        let ColumnarValue::Scalar(value) = current_setting(&[name]).unwrap() else {
            panic!("a scalar");
        };
        assert_eq!(value, ScalarValue::Utf8(Some(PG_VERSION.into())));
        let unknown = ColumnarValue::Scalar(ScalarValue::Utf8(Some("work_mem".into())));
        let ColumnarValue::Scalar(value) = current_setting(&[unknown]).unwrap() else {
            panic!("a scalar");
        };
        assert_eq!(value, ScalarValue::Utf8(None));
    }
}
