//! Patches to datafusion-postgres' `pg_catalog` emulation, per session: `pg_proc` also lists
//! our procedures; `pg_index` / `pg_constraint` key columns are arrays (PostgreSQL's
//! `int2vector` / `int2[]`), so `unnest`, subscripts and `_pg_expandarray` over them plan;
//! columns the emulation lacks (`reloptions`, the `…acl` privileges) are NULL. It only
//! reshapes the emulation's rows, never invents any.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, Int32Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    new_null_array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{CatalogProviderList, MemTable, SchemaProvider};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{Expr, SessionContext};
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::{
    PgCatalogSchemaProvider, PgCatalogStaticTables,
};

use crate::procedures;

/// OID of the `public` namespace when the pg_catalog emulation has not listed it. It hands
/// out OIDs from 16384 on first sight, so the real one is read from `pg_namespace` per scan.
const PUBLIC_NAMESPACE_OID: i32 = 16384;
/// First `pg_proc` OID given to our procedures (above the built-in and table OIDs).
pub(super) const PROCEDURE_OID_BASE: i32 = 90_000;
/// `pg_type` OID of `record` (procedures with result columns return one).
const RECORD_TYPE_OID: i32 = 2249;

/// Columns that are arrays in PostgreSQL and text in the emulation (`"1 2"`, `"[1, 2]"`,
/// `"['a', 'b']"`), by table, with the element type they get. (`indclass` / `indcollation`
/// are `oidvector`; built-in opclass and collation OIDs fit Int16.) `proallargtypes` is
/// `oid[]`, which pgjdbc reads as `Long[]`: Int64 elements give it that.
const ARRAY_COLUMNS: &[(&str, &[(&str, ElementType)])] = &[
    // Access privileges (`aclitem[]`), text in the emulation.
    ("pg_namespace", &[("nspacl", ElementType::Text)]),
    ("pg_database", &[("datacl", ElementType::Text)]),
    ("pg_default_acl", &[("defaclacl", ElementType::Text)]),
    ("pg_db_role_setting", &[("setconfig", ElementType::Text)]),
    (
        "pg_index",
        &[
            ("indkey", ElementType::Int16),
            ("indoption", ElementType::Int16),
            ("indclass", ElementType::Int16),
            ("indcollation", ElementType::Int16),
        ],
    ),
    (
        "pg_constraint",
        &[
            ("conkey", ElementType::Int16),
            ("confkey", ElementType::Int16),
        ],
    ),
    (
        "pg_proc",
        &[
            ("proargnames", ElementType::Text),
            ("proargmodes", ElementType::Text),
            ("proallargtypes", ElementType::Int64),
            ("proacl", ElementType::Text),
        ],
    ),
    ("pg_class", &[("relacl", ElementType::Text)]),
    (
        "pg_extension",
        &[
            ("extconfig", ElementType::Int64),
            ("extcondition", ElementType::Text),
        ],
    ),
    ("pg_tablespace", &[("spcacl", ElementType::Text)]),
    (
        "pg_foreign_server",
        &[
            ("srvacl", ElementType::Text),
            ("srvoptions", ElementType::Text),
        ],
    ),
    (
        "pg_foreign_data_wrapper",
        &[
            ("fdwacl", ElementType::Text),
            ("fdwoptions", ElementType::Text),
        ],
    ),
    ("pg_largeobject_metadata", &[("lomacl", ElementType::Text)]),
    ("pg_publication", &[("pubacl", ElementType::Text)]),
    ("pg_policy", &[("polroles", ElementType::Int64)]),
    (
        "pg_statistic_ext",
        &[
            ("stxkeys", ElementType::Int16),
            ("stxkind", ElementType::Text),
        ],
    ),
    ("pg_type", &[("typacl", ElementType::Text)]),
    ("pg_attribute", &[("attacl", ElementType::Text)]),
    ("pg_language", &[("lanacl", ElementType::Text)]),
];

/// Columns PostgreSQL has and the emulation lacks, by table, added as NULLs: access privileges
/// (`relacl`, `attacl`, …: nobody has been granted anything), options, and the
/// `pg_settings` columns psql's `\dconfig` reads. (`None`: text; `Some`: an array.)
const NULL_COLUMNS: &[(&str, &[NullColumn])] = &[
    (
        "pg_class",
        &[
            ("reloptions", Some(ElementType::Text)),
            ("relacl", Some(ElementType::Text)),
        ],
    ),
    (
        "pg_attribute",
        &[
            ("attacl", Some(ElementType::Text)),
            ("attoptions", Some(ElementType::Text)),
            ("attfdwoptions", Some(ElementType::Text)),
        ],
    ),
    ("pg_namespace", &[("nspacl", Some(ElementType::Text))]),
    (
        "pg_collation",
        &[
            ("colliculocale", None),
            ("collicurules", None),
            ("colllocale", None),
        ],
    ),
    ("pg_proc", &[("proacl", Some(ElementType::Text))]),
    ("pg_database", &[("datacl", Some(ElementType::Text))]),
    ("pg_type", &[("typacl", Some(ElementType::Text))]),
    ("pg_language", &[("lanacl", Some(ElementType::Text))]),
    (
        "pg_settings",
        &[
            ("boot_val", None),
            ("reset_val", None),
            ("sourcefile", None),
            ("pending_restart", None),
        ],
    ),
];

/// `regproc` columns the emulation holds as function names (`'pg_catalog.avg'`), which
/// PostgreSQL compares and casts as OIDs: here an OID when the text is one, else NULL (they
/// name built-in functions of `pg_catalog` only; no object of ours has one). `pg_type`'s are
/// left as names, which pgjdbc matches as text (see `compat::regproc_names_as_text`).
const REGPROC_COLUMNS: &[(&str, &[&str])] = &[
    (
        "pg_aggregate",
        &[
            "aggfnoid",
            "aggtransfn",
            "aggfinalfn",
            "aggcombinefn",
            "aggserialfn",
            "aggdeserialfn",
            "aggmtransfn",
            "aggminvtransfn",
            "aggmfinalfn",
        ],
    ),
    ("pg_amproc", &["amproc"]),
    ("pg_operator", &["oprcode", "oprrest", "oprjoin"]),
    (
        "pg_ts_parser",
        &[
            "prsstart",
            "prstoken",
            "prsend",
            "prsheadline",
            "prslextype",
        ],
    ),
    ("pg_ts_template", &["tmplinit", "tmpllexize"]),
];

/// Catalogs the emulation lacks, as PostgreSQL 16 has them: kinds of objects we do not have
/// (text search mappings, extensions available, row-security policies, sequences, user
/// mappings, parameter privileges), so they are empty. (column, type; `Some` element: array.)
const EMPTY_TABLES: &[(&str, &[(&str, Column)])] = &[
    (
        "pg_ts_config_map",
        &[
            ("mapcfg", Column::Oid),
            ("maptokentype", Column::Oid),
            ("mapseqno", Column::Oid),
            ("mapdict", Column::Oid),
        ],
    ),
    (
        "pg_available_extensions",
        &[
            ("name", Column::Text),
            ("default_version", Column::Text),
            ("installed_version", Column::Text),
            ("comment", Column::Text),
        ],
    ),
    (
        "pg_available_extension_versions",
        &[
            ("name", Column::Text),
            ("version", Column::Text),
            ("installed", Column::Bool),
            ("superuser", Column::Bool),
            ("trusted", Column::Bool),
            ("relocatable", Column::Bool),
            ("schema", Column::Text),
            ("requires", Column::TextArray),
            ("comment", Column::Text),
        ],
    ),
    (
        "pg_policies",
        &[
            ("schemaname", Column::Text),
            ("tablename", Column::Text),
            ("policyname", Column::Text),
            ("permissive", Column::Text),
            ("roles", Column::TextArray),
            ("cmd", Column::Text),
            ("qual", Column::Text),
            ("with_check", Column::Text),
        ],
    ),
    (
        "pg_sequences",
        &[
            ("schemaname", Column::Text),
            ("sequencename", Column::Text),
            ("sequenceowner", Column::Text),
            ("data_type", Column::Text),
            ("start_value", Column::Int8),
            ("min_value", Column::Int8),
            ("max_value", Column::Int8),
            ("increment_by", Column::Int8),
            ("cycle", Column::Bool),
            ("cache_size", Column::Int8),
            ("last_value", Column::Int8),
        ],
    ),
    (
        "pg_user_mappings",
        &[
            ("umid", Column::Oid),
            ("srvid", Column::Oid),
            ("srvname", Column::Text),
            ("umuser", Column::Oid),
            ("usename", Column::Text),
            ("umoptions", Column::TextArray),
        ],
    ),
    (
        "pg_parameter_acl",
        &[
            ("oid", Column::Oid),
            ("parname", Column::Text),
            ("paracl", Column::TextArray),
        ],
    ),
];

/// A column type of [`EMPTY_TABLES`].
#[derive(Clone, Copy, Debug)]
enum Column {
    Oid,
    Int8,
    Bool,
    Text,
    TextArray,
}

impl Column {
    fn data_type(self) -> DataType {
        match self {
            Column::Oid => DataType::Int32,
            Column::Int8 => DataType::Int64,
            Column::Bool => DataType::Boolean,
            Column::Text => DataType::Utf8,
            Column::TextArray => ElementType::Text.list(),
        }
    }
}

/// The empty table `name` of [`EMPTY_TABLES`], if it is one.
fn empty_table(name: &str) -> Option<Result<Arc<dyn TableProvider>>> {
    let (_, columns) = EMPTY_TABLES.iter().find(|(t, _)| *t == name)?;
    let fields: Vec<Field> = columns
        .iter()
        .map(|(column, kind)| Field::new(*column, kind.data_type(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    Some(MemTable::try_new(schema, vec![vec![]]).map(|t| Arc::new(t) as Arc<dyn TableProvider>))
}

/// A column of [`NULL_COLUMNS`]: its name, and its element type when it is an array.
type NullColumn = (&'static str, Option<ElementType>);

#[derive(Clone, Copy, Debug)]
enum ElementType {
    Int16,
    Int64,
    Text,
}

impl ElementType {
    fn list(self) -> DataType {
        let element = match self {
            ElementType::Int16 => DataType::Int16,
            ElementType::Int64 => DataType::Int64,
            ElementType::Text => DataType::Utf8,
        };
        DataType::List(Arc::new(Field::new_list_field(element, true)))
    }
}

/// Replaces the session's `pg_catalog` schema (after `setup_pg_catalog`) with the patched one,
/// built over a *weak* reference to the session's catalog list and over static tables shared
/// by every session of the process.
///
/// `setup_pg_catalog` gives the schema a strong reference to the catalog list that holds the
/// schema: a cycle, so a closed connection's whole session (its tables, the ~1.2 MB of decoded
/// static catalog tables) was never freed, ~5 MB per connection. While the session lives, its
/// state holds the list, so the weak reference always resolves when a query reads it.
pub(super) fn patch(ctx: &SessionContext, catalog_name: &str) -> Result<()> {
    let Some(catalog) = ctx.catalog(catalog_name) else {
        return Ok(());
    };
    let catalogs = catalogs_of(ctx);
    let inner = Arc::new(PgCatalogSchemaProvider::try_new(
        catalogs,
        static_tables()?,
        EmptyContextProvider,
    )?);
    let patched = PatchedPgCatalog {
        inner,
        catalogs: catalogs_of(ctx),
        catalog: catalog_name.to_string(),
    };
    catalog.register_schema("pg_catalog", Arc::new(patched))?;
    Ok(())
}

/// The pg_catalog emulation's static tables (pg_type, pg_proc, …), decoded once per process.
fn static_tables() -> Result<Arc<PgCatalogStaticTables>> {
    static PG_STATIC_TABLES: OnceLock<std::result::Result<Arc<PgCatalogStaticTables>, String>> =
        OnceLock::new();
    PG_STATIC_TABLES
        .get_or_init(|| {
            PgCatalogStaticTables::try_new()
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(DataFusionError::Internal)
}

fn catalogs_of(ctx: &SessionContext) -> WeakCatalogs {
    WeakCatalogs(Arc::downgrade(ctx.state_ref().read().catalog_list()))
}

/// The session's catalog list, without keeping it alive (see [`patch`]).
#[derive(Clone, Debug)]
struct WeakCatalogs(Weak<dyn CatalogProviderList>);

impl WeakCatalogs {
    fn get(&self) -> Option<Arc<dyn CatalogProviderList>> {
        self.0.upgrade()
    }
}

#[async_trait]
impl CatalogInfo for WeakCatalogs {
    async fn catalog_names(&self) -> Result<Vec<String>> {
        match self.get() {
            Some(list) => CatalogInfo::catalog_names(&list).await,
            None => Ok(Vec::new()),
        }
    }

    async fn schema_names(&self, catalog: &str) -> Result<Option<Vec<String>>> {
        match self.get() {
            Some(list) => CatalogInfo::schema_names(&list, catalog).await,
            None => Ok(None),
        }
    }

    async fn table_names(&self, catalog: &str, schema: &str) -> Result<Option<Vec<String>>> {
        match self.get() {
            Some(list) => CatalogInfo::table_names(&list, catalog, schema).await,
            None => Ok(None),
        }
    }

    async fn table_schema(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<SchemaRef>> {
        match self.get() {
            Some(list) => CatalogInfo::table_schema(&list, catalog, schema, table).await,
            None => Ok(None),
        }
    }

    async fn table_type(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> Result<Option<TableType>> {
        match self.get() {
            Some(list) => CatalogInfo::table_type(&list, catalog, schema, table).await,
            None => Ok(None),
        }
    }
}

#[derive(Debug)]
struct PatchedPgCatalog {
    inner: Arc<dyn SchemaProvider>,
    /// The session's tables, for the descriptions of those made per workspace (typed tickets,
    /// custom objects).
    catalogs: WeakCatalogs,
    /// The catalog holding them.
    catalog: String,
}

#[async_trait]
impl SchemaProvider for PatchedPgCatalog {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        for (name, _) in EMPTY_TABLES {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let Some(table) = self.inner.table(name).await? else {
            return empty_table(&name.to_ascii_lowercase()).transpose();
        };
        let name = name.to_ascii_lowercase();
        let extra = match name.as_str() {
            "pg_proc" => Extra::Procedures {
                namespaces: self.inner.table("pg_namespace").await?,
            },
            "pg_description" => Extra::Descriptions {
                classes: self.inner.table("pg_class").await?,
                namespaces: self.inner.table("pg_namespace").await?,
                tables: (self.catalogs.clone(), self.catalog.clone()),
            },
            _ => Extra::None,
        };
        let arrays = ARRAY_COLUMNS
            .iter()
            .find(|(t, _)| *t == name)
            .map_or(&[][..], |(_, columns)| *columns);
        let nulls = NULL_COLUMNS
            .iter()
            .find(|(t, _)| *t == name)
            .map_or(&[][..], |(_, columns)| *columns);
        let regprocs = REGPROC_COLUMNS
            .iter()
            .find(|(t, _)| *t == name)
            .map_or(&[][..], |(_, columns)| *columns);
        if arrays.is_empty()
            && nulls.is_empty()
            && regprocs.is_empty()
            && matches!(extra, Extra::None)
        {
            return Ok(Some(table));
        }
        let columns = PatchedColumns {
            arrays,
            nulls,
            regprocs,
        };
        Ok(Some(Arc::new(PatchedTable::new(table, columns, extra))))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
            || EMPTY_TABLES
                .iter()
                .any(|(t, _)| t.eq_ignore_ascii_case(name))
    }
}

/// What a patched table adds to the emulation's rows.
#[derive(Debug)]
enum Extra {
    None,
    /// Our procedures (`prokind = 'p'`, in `public`): JDBC's getProcedures, psql's `\df`.
    Procedures {
        /// `pg_namespace`, to find the OID `public` has in this session.
        namespaces: Option<Arc<dyn TableProvider>>,
    },
    /// The descriptions of our tables, their columns and our procedures (their docs'), as
    /// comments: psql's `\dt+` / `\d+`, DBeaver's and SQLAlchemy's table and column comments.
    Descriptions {
        /// `pg_class`, for our tables' OIDs in this session.
        classes: Option<Arc<dyn TableProvider>>,
        /// `pg_namespace`, to know which `pg_class` rows are in `public`.
        namespaces: Option<Arc<dyn TableProvider>>,
        /// The session's catalogs and the name of ours: the tables themselves.
        tables: (WeakCatalogs, String),
    },
}

/// How a patched table's columns change (see [`ARRAY_COLUMNS`], [`NULL_COLUMNS`],
/// [`REGPROC_COLUMNS`]).
struct PatchedColumns {
    arrays: &'static [(&'static str, ElementType)],
    nulls: &'static [NullColumn],
    regprocs: &'static [&'static str],
}

/// An emulated catalog table, patched: the emulation's rows are a small in-memory table, so
/// each scan reads them all, adds the [`Extra`] rows or column, turns text into arrays and
/// scans the result.
#[derive(Debug)]
struct PatchedTable {
    inner: Arc<dyn TableProvider>,
    arrays: &'static [(&'static str, ElementType)],
    extra: Extra,
    schema: SchemaRef,
}

impl PatchedTable {
    fn new(inner: Arc<dyn TableProvider>, columns: PatchedColumns, extra: Extra) -> Self {
        let PatchedColumns {
            arrays,
            nulls,
            regprocs,
        } = columns;
        let base = inner.schema();
        let mut fields: Vec<_> = base
            .fields()
            .iter()
            .map(|f| match arrays.iter().find(|(name, _)| name == f.name()) {
                Some((_, element)) => Arc::new(Field::new(f.name(), element.list(), true)),
                None if regprocs.contains(&f.name().as_str()) => {
                    Arc::new(Field::new(f.name(), DataType::Int32, true))
                }
                None => f.clone(),
            })
            .collect();
        for (name, element) in nulls {
            if base.field_with_name(name).is_err() {
                let data_type = element.map_or(DataType::Utf8, ElementType::list);
                fields.push(Arc::new(Field::new(*name, data_type, true)));
            }
        }
        let schema = Arc::new(Schema::new_with_metadata(fields, base.metadata().clone()));
        Self {
            inner,
            arrays,
            extra,
            schema,
        }
    }

    fn patch_batch(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let mut columns = Vec::with_capacity(self.schema.fields().len());
        for field in self.schema.fields() {
            let column = match batch.column_by_name(field.name()) {
                Some(column) if column.data_type() == field.data_type() => column.clone(),
                Some(column) => match self.arrays.iter().find(|(name, _)| name == field.name()) {
                    Some((_, element)) => array_column(column, *element)?,
                    // A name that is no OID (a regproc column's) becomes NULL.
                    None => datafusion::arrow::compute::cast_with_options(
                        column,
                        field.data_type(),
                        &datafusion::arrow::compute::CastOptions::default(),
                    )?,
                },
                None => new_null_array(field.data_type(), batch.num_rows()),
            };
            columns.push(column);
        }
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

#[async_trait]
impl TableProvider for PatchedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let all = self.inner.scan(state, None, &[], None).await?;
        let mut batches = collect(all, state.task_ctx()).await?;
        if let Extra::Procedures { namespaces } = &self.extra {
            let namespace = public_namespace_oid(namespaces.as_ref(), state).await?;
            batches.push(procedure_rows(&self.inner.schema(), namespace)?);
        }
        if let Extra::Descriptions {
            classes,
            namespaces,
            tables,
        } = &self.extra
        {
            let namespace = public_namespace_oid(namespaces.as_ref(), state).await?;
            let mut described = Vec::new();
            for (oid, name) in public_tables(classes.as_ref(), namespace, state).await? {
                if let Some(description) = description_of(tables, &name).await? {
                    described.push((oid, description));
                }
            }
            batches.push(description_rows(&self.inner.schema(), &described)?);
        }
        let batches = batches
            .iter()
            .map(|b| self.patch_batch(b))
            .collect::<Result<Vec<_>>>()?;
        MemTable::try_new(self.schema.clone(), vec![batches])?
            .scan(state, projection, filters, limit)
            .await
    }
}

/// Array text → arrays: `"1 2"` (int2vector), `"[1, 2]"`, `"{1,2}"`, `"['a', 'b']"`; NULL
/// stays NULL, an item that does not parse becomes a NULL element.
fn array_column(column: &ArrayRef, element: ElementType) -> Result<ArrayRef> {
    let text = datafusion::arrow::compute::cast(column, &DataType::Utf8)?;
    let text = datafusion::common::cast::as_string_array(&text)?;
    let items = |value: &str| -> Vec<String> {
        let separators: &[char] = match element {
            ElementType::Text => &[','],
            _ => &[',', ' ', '\t'],
        };
        value
            .trim()
            .trim_start_matches(['[', '{'])
            .trim_end_matches([']', '}'])
            .split(separators)
            .map(|s| s.trim().trim_matches(['\'', '"']).to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut out = ListBuilder::new(StringBuilder::new());
    for value in text.iter() {
        if let Some(value) = value {
            for item in items(value) {
                out.values().append_value(item);
            }
        }
        out.append(value.is_some());
    }
    let strings: ArrayRef = Arc::new(out.finish());
    let element_type = match element {
        ElementType::Int16 => DataType::Int16,
        ElementType::Int64 => DataType::Int64,
        ElementType::Text => return Ok(strings),
    };
    // A safe cast: an item that is not a number becomes NULL.
    let list = DataType::List(Arc::new(Field::new("item", element_type, true)));
    Ok(datafusion::arrow::compute::cast(&strings, &list)?)
}

/// The OID `pg_namespace` gives `public` now: the emulation numbers namespaces and tables in
/// the order it first lists them (`\dt` before `\df` moves `public`).
async fn public_namespace_oid(
    namespaces: Option<&Arc<dyn TableProvider>>,
    state: &dyn Session,
) -> Result<i32> {
    let Some(namespaces) = namespaces else {
        return Ok(PUBLIC_NAMESPACE_OID);
    };
    let plan = namespaces.scan(state, None, &[], None).await?;
    for batch in collect(plan, state.task_ctx()).await? {
        let (Some(oids), Some(names)) = (int32s(&batch, "oid")?, texts(&batch, "nspname")?) else {
            continue;
        };
        for row in 0..batch.num_rows() {
            if names.is_valid(row) && names.value(row) == "public" && oids.is_valid(row) {
                return Ok(oids.value(row));
            }
        }
    }
    Ok(PUBLIC_NAMESPACE_OID)
}

/// The column `name` of a catalog batch as Int32 (OIDs), if it has one.
fn int32s(batch: &RecordBatch, name: &str) -> Result<Option<Int32Array>> {
    let Some(column) = batch.column_by_name(name) else {
        return Ok(None);
    };
    let column = datafusion::arrow::compute::cast(column, &DataType::Int32)?;
    Ok(Some(
        datafusion::common::cast::as_int32_array(&column)?.clone(),
    ))
}

/// The column `name` of a catalog batch as text, if it has one.
fn texts(batch: &RecordBatch, name: &str) -> Result<Option<StringArray>> {
    let Some(column) = batch.column_by_name(name) else {
        return Ok(None);
    };
    let column = datafusion::arrow::compute::cast(column, &DataType::Utf8)?;
    Ok(Some(
        datafusion::common::cast::as_string_array(&column)?.clone(),
    ))
}

/// `pg_class` OID of each relation in the namespace `namespace`, by name.
async fn public_tables(
    classes: Option<&Arc<dyn TableProvider>>,
    namespace: i32,
    state: &dyn Session,
) -> Result<Vec<(i32, String)>> {
    let Some(classes) = classes else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let plan = classes.scan(state, None, &[], None).await?;
    for batch in collect(plan, state.task_ctx()).await? {
        let (Some(oids), Some(names), Some(spaces)) = (
            int32s(&batch, "oid")?,
            texts(&batch, "relname")?,
            int32s(&batch, "relnamespace")?,
        ) else {
            continue;
        };
        for row in 0..batch.num_rows() {
            if oids.is_valid(row) && names.is_valid(row) && spaces.value(row) == namespace {
                out.push((oids.value(row), names.value(row).to_string()));
            }
        }
    }
    Ok(out)
}

/// A table's description and its columns', in order: our docs' (the table's declaration, or
/// the procedures catalog's).
type Description = (String, Vec<String>);

/// The description of the table `name` of the session, if it is one of ours.
async fn description_of(
    (catalogs, catalog): &(WeakCatalogs, String),
    name: &str,
) -> Result<Option<Description>> {
    let of_def = |def: &crate::tables::TableDef| {
        let columns = def.columns.iter().map(|c| c.description.clone()).collect();
        (def.description.clone(), columns)
    };
    // The session's own table first: a ticket type's or a custom object type's table, and
    // the custom attributes discovered in this workspace.
    let schema = catalogs
        .get()
        .and_then(|list| list.catalog(catalog))
        .and_then(|c| c.schema("public"));
    if let Some(schema) = schema
        && let Some(provider) = schema.table(name).await?
    {
        let provider: &dyn std::any::Any = provider.as_ref();
        if let Some(table) = provider.downcast_ref::<crate::provider::IntercomTable>() {
            return Ok(Some(of_def(table.def())));
        }
    }
    if let Some((table, columns)) = procedures::catalog::described(name) {
        let columns = columns.iter().map(|c| c.to_string()).collect();
        return Ok(Some((table.to_string(), columns)));
    }
    Ok(None)
}

/// `pg_description` rows (objoid, classoid, objsubid, description) of our tables (`pg_class`,
/// 1259; a column's `objsubid` is its number, from 1) and procedures (`pg_proc`, 1255).
fn description_rows(schema: &SchemaRef, tables: &[(i32, Description)]) -> Result<RecordBatch> {
    const PG_CLASS: i32 = 1259;
    const PG_PROC: i32 = 1255;
    let mut rows: Vec<(i32, i32, i32, String)> = Vec::new();
    for (oid, (table, columns)) in tables {
        rows.push((*oid, PG_CLASS, 0, table.clone()));
        for (i, column) in columns.iter().enumerate() {
            let number = i32::try_from(i + 1).unwrap_or(i32::MAX);
            rows.push((*oid, PG_CLASS, number, column.clone()));
        }
    }
    for (i, procedure) in procedures::all().iter().enumerate() {
        let oid = PROCEDURE_OID_BASE + i32::try_from(i).unwrap_or(0);
        rows.push((oid, PG_PROC, 0, procedure.description.to_string()));
    }
    let mut known: HashMap<&str, ArrayRef> = HashMap::new();
    let ints = |f: fn(&(i32, i32, i32, String)) -> i32| -> ArrayRef {
        Arc::new(Int32Array::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    known.insert("objoid", ints(|r| r.0));
    known.insert("classoid", ints(|r| r.1));
    known.insert("objsubid", ints(|r| r.2));
    known.insert(
        "description",
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>(),
        )),
    );
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let column = known
                .remove(f.name().as_str())
                .unwrap_or_else(|| new_null_array(&DataType::Utf8, rows.len()));
            Ok(datafusion::arrow::compute::cast(&column, f.data_type())?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// One `pg_proc` row per procedure; columns we have nothing for get their type's default
/// (or NULL where allowed).
fn procedure_rows(schema: &SchemaRef, namespace: i32) -> Result<RecordBatch> {
    let all = procedures::all();
    let n = all.len();
    let int = |values: Vec<i32>| -> ArrayRef { Arc::new(Int32Array::from(values)) };
    let text = |values: Vec<String>| -> ArrayRef { Arc::new(StringArray::from(values)) };
    let mut known: HashMap<&str, ArrayRef> = HashMap::new();
    known.insert(
        "oid",
        int((0..n)
            .map(|i| PROCEDURE_OID_BASE + i32::try_from(i).unwrap_or(0))
            .collect()),
    );
    known.insert(
        "proname",
        text(all.iter().map(|p| p.name.to_ascii_lowercase()).collect()),
    );
    known.insert("pronamespace", int(vec![namespace; n]));
    known.insert("prokind", text(vec!["p".into(); n]));
    known.insert(
        "proargtypes",
        text(
            all.iter()
                .map(|p| {
                    p.params
                        .iter()
                        .map(|a| type_oid(a.ty).to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect(),
        ),
    );
    known.insert(
        "pronargs",
        Arc::new(datafusion::arrow::array::Int16Array::from(
            all.iter()
                .map(|p| i16::try_from(p.params.len()).unwrap_or(i16::MAX))
                .collect::<Vec<_>>(),
        )),
    );
    known.insert("prorettype", int(vec![RECORD_TYPE_OID; n]));
    known.insert("provolatile", text(vec!["v".into(); n]));
    known.insert("proparallel", text(vec!["u".into(); n]));
    known.insert(
        "prosrc",
        text(all.iter().map(|p| p.name.to_string()).collect()),
    );
    known.insert(
        "proargnames",
        text(
            all.iter()
                .map(|p| {
                    format!(
                        "{{{}}}",
                        p.params
                            .iter()
                            .map(|a| a.name)
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                })
                .collect(),
        ),
    );
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = match known.remove(field.name().as_str()) {
            Some(column) if column.data_type() == field.data_type() => column,
            _ if field.is_nullable() => new_null_array(field.data_type(), n),
            _ => ScalarValue::new_default(field.data_type())?.to_array_of_size(n)?,
        };
        columns.push(column);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// The `pg_type` OID of a parameter type (`proargtypes`).
fn type_oid(ty: procedures::ColumnType) -> i32 {
    match ty {
        procedures::ColumnType::Text => 25,
        procedures::ColumnType::Int => 20,
        procedures::ColumnType::Float => 701,
        procedures::ColumnType::Bool => 16,
        procedures::ColumnType::Timestamp => 1114,
        procedures::ColumnType::Json => 114,
    }
}
