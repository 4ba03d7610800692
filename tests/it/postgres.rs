//! Answers equal PostgreSQL's. Every table the demo workspace can read whole is copied, over
//! the wire, into a real PostgreSQL 15 (`tests/clients/postgres.sh`: Debian's package, C
//! collation, UTC); then seeded queries over every table (filters from
//! [`crate::common::clauses`], counts, groupings, minima and maxima, ordered pages, day
//! buckets, rolling windows) run on both, with pushdown on and off, and the answers are
//! compared as multisets (as lists where the query orders them), and so are the columns' names.
//!
//! Accepted dialect differences are not generated (docs/clients.md, "Answers equal
//! PostgreSQL's", says why each is accepted): text functions that depend on the locale
//! (`lower`/`upper` of non-ASCII text under C collation), `numeric` results (`sum`/`avg` of
//! integers are cast to `bigint`/`float8`), and timestamp text formatting (values are
//! compared, not their text).
//!
//! Without `INTERCOM_SQL_POSTGRES` (a libpq connection string) the test is skipped with a
//! note, unless `INTERCOM_SQL_CLIENT_TESTS=1` (CI), where it fails.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Row};

use crate::common::clauses::{Kind, Samples, clause};

const QUERIES_PER_TABLE: usize = 20;

/// One value of an answer, in a form both servers' values compare in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    /// A float to 12 significant digits (sums and averages differ in the last bits).
    Float(String),
    Text(String),
    /// Microseconds since the epoch.
    Time(i64),
}

impl Cell {
    fn read(row: &Row, i: usize) -> Result<Cell, String> {
        let ty = row.columns()[i].type_().clone();
        let cell = match ty {
            Type::BOOL => row.try_get::<_, Option<bool>>(i).map(|v| v.map(Cell::Bool)),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)
                .map(|v| v.map(|v| Cell::Int(v.into()))),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)
                .map(|v| v.map(|v| Cell::Int(v.into()))),
            Type::INT8 => row.try_get::<_, Option<i64>>(i).map(|v| v.map(Cell::Int)),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)
                .map(|v| v.map(|v| float(v.into()))),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map(|v| v.map(float)),
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => row
                .try_get::<_, Option<String>>(i)
                .map(|v| v.map(Cell::Text)),
            Type::TIMESTAMPTZ | Type::TIMESTAMP => row
                .try_get::<_, Option<SystemTime>>(i)
                .map(|v| v.map(|t| Cell::Time(micros(t)))),
            other => return Err(format!("column {i} has type {other}, not compared")),
        };
        cell.map(|c| c.unwrap_or(Cell::Null))
            .map_err(|e| format!("column {i} ({ty}): {e}"))
    }

    /// As a parameter for PostgreSQL's INSERT.
    fn param(&self, ty: &Type) -> Box<dyn ToSql + Sync + Send> {
        match (self, ty) {
            (Cell::Null, &Type::BOOL) => Box::new(None::<bool>),
            (Cell::Null, &Type::INT8) => Box::new(None::<i64>),
            (Cell::Null, &Type::FLOAT8) => Box::new(None::<f64>),
            (Cell::Null, &Type::TIMESTAMPTZ) => Box::new(None::<SystemTime>),
            (Cell::Null, _) => Box::new(None::<String>),
            (Cell::Bool(b), _) => Box::new(*b),
            (Cell::Int(v), _) => Box::new(*v),
            (Cell::Float(v), _) => Box::new(v.parse::<f64>().unwrap()),
            (Cell::Text(v), _) => Box::new(v.clone()),
            (Cell::Time(t), _) => Box::new(time(*t)),
        }
    }
}

fn float(v: f64) -> Cell {
    Cell::Float(if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.11e}")
    })
}

fn micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

fn time(us: i64) -> SystemTime {
    if us >= 0 {
        UNIX_EPOCH + Duration::from_micros(us as u64)
    } else {
        UNIX_EPOCH - Duration::from_micros(us.unsigned_abs())
    }
}

/// The PostgreSQL type a column of ours is copied as.
fn column_type(ty: &Type) -> Option<&'static str> {
    Some(match *ty {
        Type::BOOL => "boolean",
        Type::INT8 => "bigint",
        Type::FLOAT8 => "double precision",
        Type::TEXT => "text",
        Type::TIMESTAMPTZ => "timestamptz",
        _ => return None,
    })
}

fn kind(ty: &Type) -> Option<Kind> {
    Some(match *ty {
        Type::BOOL => Kind::Bool,
        Type::INT8 => Kind::Int,
        Type::TEXT => Kind::Text,
        Type::TIMESTAMPTZ => Kind::Time,
        _ => return None,
    })
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    tokio::spawn(connection);
    client
}

async fn answer(client: &Client, sql: &str) -> Result<Vec<Vec<Cell>>, String> {
    Ok(named_answer(client, sql).await?.1)
}

/// The answer's column names (when it has a row) and rows.
async fn named_answer(client: &Client, sql: &str) -> Result<(Vec<String>, Vec<Vec<Cell>>), String> {
    let rows = client
        .query(sql, &[])
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => e.to_string(),
        })?;
    let names = rows.first().map_or_else(Vec::new, |row| {
        row.columns().iter().map(|c| c.name().to_string()).collect()
    });
    let cells = rows
        .iter()
        .map(|row| (0..row.len()).map(|i| Cell::read(row, i)).collect())
        .collect::<Result<_, _>>()?;
    Ok((names, cells))
}

/// A table copied into PostgreSQL: its columns (name, wire type) and rows.
struct Copied {
    name: String,
    columns: Vec<(String, Type)>,
    rows: Vec<Vec<Cell>>,
}

/// Copies `table` into PostgreSQL; `None` when we cannot read it whole (a table read by key).
async fn copy(ours: &Client, pg: &Client, table: &str) -> Option<Copied> {
    let select = format!("SELECT * FROM {}", ident(table));
    let statement = ours.prepare(&select).await.ok()?;
    let columns: Vec<(String, Type)> = statement
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().clone()))
        .collect();
    let rows = answer(ours, &select).await.ok()?;
    let declared: Vec<String> = columns
        .iter()
        .map(|(name, ty)| {
            let pg_type = column_type(ty)
                .unwrap_or_else(|| panic!("{table}.{name}: no PostgreSQL type for {ty}"));
            format!("{} {pg_type}", ident(name))
        })
        .collect();
    pg.batch_execute(&format!(
        "DROP TABLE IF EXISTS {0}; CREATE TABLE {0} ({1})",
        ident(table),
        declared.join(", ")
    ))
    .await
    .unwrap();
    let per_insert = (60_000 / columns.len().max(1)).max(1);
    for chunk in rows.chunks(per_insert) {
        let mut values = Vec::new();
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        for row in chunk {
            let first = params.len();
            let placeholders: Vec<String> = (0..row.len())
                .map(|i| format!("${}", first + i + 1))
                .collect();
            values.push(format!("({})", placeholders.join(", ")));
            params.extend(row.iter().zip(&columns).map(|(c, (_, ty))| c.param(ty)));
        }
        let sql = format!("INSERT INTO {} VALUES {}", ident(table), values.join(", "));
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        pg.execute(&sql, &refs)
            .await
            .unwrap_or_else(|e| panic!("loading {table}: {e:?}"));
    }
    Some(Copied {
        name: table.to_string(),
        columns,
        rows,
    })
}

/// The filterable columns' values, as the clause generator takes them.
fn samples(table: &Copied) -> Samples {
    let columns = table
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, (name, ty))| {
            let kind = kind(ty)?;
            let values = table
                .rows
                .iter()
                .map(|row| match &row[i] {
                    Cell::Null => None,
                    Cell::Bool(b) => Some(b.to_string()),
                    Cell::Int(v) => Some(v.to_string()),
                    Cell::Float(v) => Some(v.clone()),
                    Cell::Text(v) => Some(v.clone()),
                    Cell::Time(us) => Some(us.div_euclid(1_000_000).to_string()),
                })
                .collect();
            Some((ident(name), kind, values))
        })
        .collect();
    Samples { columns }
}

/// One seeded query over `table`, and whether its answer is ordered.
fn query(rng: &mut fastrand::Rng, table: &Copied, samples: &Samples) -> (String, bool) {
    let t = ident(&table.name);
    let filter = if samples.columns.is_empty() {
        "TRUE".to_string()
    } else {
        clause(rng, samples)
    };
    let pick = |rng: &mut fastrand::Rng, keep: fn(&Type) -> bool| -> Option<String> {
        let fit: Vec<&(String, Type)> = table.columns.iter().filter(|(_, t)| keep(t)).collect();
        (!fit.is_empty()).then(|| ident(&fit[rng.usize(0..fit.len())].0))
    };
    let any = |_: &Type| true;
    let ordered = |t: &Type| *t != Type::BOOL;
    let timed = |t: &Type| *t == Type::TIMESTAMPTZ;
    let numeric = |t: &Type| *t == Type::INT8 || *t == Type::FLOAT8;
    // Pages are ordered by a column, then by the id when ids are unique (ties stay in order).
    let unique_ids = table
        .columns
        .iter()
        .position(|(c, _)| c == "id")
        .is_some_and(|i| {
            let ids: std::collections::BTreeSet<&Cell> = table.rows.iter().map(|r| &r[i]).collect();
            ids.len() == table.rows.len()
        });
    let not_id = |t: &(String, Type)| t.0 != "id" && t.1 != Type::BOOL;
    match rng.u8(0..8) {
        0 | 1 => (format!("SELECT * FROM {t} WHERE {filter}"), false),
        2 => (format!("SELECT count(*) FROM {t} WHERE {filter}"), false),
        3 => {
            let c = pick(rng, any).unwrap();
            let sql = format!("SELECT {c}, count(*) FROM {t} WHERE {filter} GROUP BY {c}");
            (sql, false)
        }
        4 => match pick(rng, ordered) {
            Some(c) => (
                format!("SELECT min({c}), max({c}), count({c}) FROM {t} WHERE {filter}"),
                false,
            ),
            None => (format!("SELECT count(*) FROM {t} WHERE {filter}"), false),
        },
        5 if unique_ids && table.columns.iter().any(not_id) => {
            let fit: Vec<&(String, Type)> = table.columns.iter().filter(|c| not_id(c)).collect();
            let c = ident(&fit[rng.usize(0..fit.len())].0);
            let direction = if rng.bool() { "ASC" } else { "DESC" };
            let limit = rng.usize(1..20);
            let sql = format!(
                "SELECT id, {c} FROM {t} WHERE {filter} ORDER BY {c} {direction}, id LIMIT {limit}"
            );
            (sql, true)
        }
        6 => match pick(rng, timed) {
            Some(c) => {
                let sql = if rng.bool() {
                    format!(
                        "SELECT date_trunc('day', {c}) AS day, count(*) FROM {t} \
                         WHERE {filter} GROUP BY 1"
                    )
                } else {
                    let days = [1, 7, 30, 365, 3650][rng.usize(0..5)];
                    format!(
                        "SELECT count(*) FROM {t} WHERE {c} >= now() - INTERVAL '{days} days' \
                         AND {filter}"
                    )
                };
                (sql, false)
            }
            None => (format!("SELECT * FROM {t} WHERE NOT ({filter})"), false),
        },
        _ => match pick(rng, numeric) {
            Some(c) => (
                format!(
                    "SELECT CAST(sum({c}) AS double precision), CAST(avg({c}) AS double precision) \
                     FROM {t} WHERE {filter}"
                ),
                false,
            ),
            None => {
                let c = pick(rng, any).unwrap();
                let sql = format!("SELECT {c} FROM {t} WHERE {c} IS NOT NULL AND {filter}");
                (sql, false)
            }
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_equal_postgresqls() {
    let Ok(url) = std::env::var("INTERCOM_SQL_POSTGRES") else {
        if std::env::var("INTERCOM_SQL_CLIENT_TESTS").as_deref() == Ok("1") {
            panic!(
                "INTERCOM_SQL_POSTGRES is not set, and INTERCOM_SQL_CLIENT_TESTS=1 \
                 (run tests/clients/postgres.sh)"
            );
        }
        eprintln!("skipped: no PostgreSQL (eval \"$(bash tests/clients/postgres.sh)\")");
        return;
    };
    let pg = connect(&url).await;
    let (_env, server) = crate::common::start_server().await;
    let ours_url = format!(
        "host=127.0.0.1 port={} user=intercom dbname=intercom",
        server.local_addr().port()
    );
    let ours = connect(&ours_url).await;
    let unpushed = connect(&ours_url).await;
    unpushed
        .batch_execute("SET intercom.pushdown = off")
        .await
        .unwrap();

    let names: Vec<String> = ours
        .query(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut tables = Vec::new();
    let mut unread = Vec::new();
    for name in &names {
        match copy(&ours, &pg, name).await {
            Some(table) => tables.push(table),
            None => unread.push(name.clone()),
        }
    }
    let rows: usize = tables.iter().map(|t| t.rows.len()).sum();
    eprintln!(
        "copied {} tables ({rows} rows) into PostgreSQL; read by key only: {}",
        tables.len(),
        unread.join(", ")
    );
    assert!(tables.len() >= 40, "only {} tables copied", tables.len());
    for must in ["contacts", "conversations", "tickets", "companies"] {
        assert!(tables.iter().any(|t| t.name == must), "{must} not copied");
    }

    let (mut run, mut rows_compared, mut differences) = (0, 0, Vec::new());
    for (n, table) in tables.iter().enumerate() {
        let samples = samples(table);
        let mut rng = fastrand::Rng::with_seed(0x9e37_79b9 + n as u64);
        for _ in 0..QUERIES_PER_TABLE {
            let (sql, ordered) = query(&mut rng, table, &samples);
            let (want_names, want) = match named_answer(&pg, &sql).await {
                Ok(answer) => answer,
                Err(e) => panic!("PostgreSQL refused a generated query: {sql}\n{e}"),
            };
            for (client, pushdown) in [(&ours, "on"), (&unpushed, "off")] {
                run += 1;
                let (names, got) = match named_answer(client, &sql).await {
                    Ok(answer) => answer,
                    Err(e) => {
                        differences.push(format!("{sql} (pushdown {pushdown}): error {e}"));
                        continue;
                    }
                };
                // The columns' names too (`count`, `?column?`, `min`), when there are rows.
                if !names.is_empty() && !want_names.is_empty() && names != want_names {
                    differences.push(format!(
                        "{sql} (pushdown {pushdown}): columns {names:?}, PostgreSQL {want_names:?}"
                    ));
                    continue;
                }
                rows_compared += got.len();
                if !same(&got, &want, ordered) {
                    differences.push(format!(
                        "{sql} (pushdown {pushdown}): {} rows, PostgreSQL {}; first difference: {}",
                        got.len(),
                        want.len(),
                        first_difference(&got, &want)
                    ));
                }
            }
        }
    }
    eprintln!(
        "{run} queries over {} tables, {rows_compared} rows compared, {} differences",
        tables.len(),
        differences.len()
    );
    assert!(
        differences.is_empty(),
        "{} of {run} answers differ from PostgreSQL's:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

fn same(got: &[Vec<Cell>], want: &[Vec<Cell>], ordered: bool) -> bool {
    if ordered {
        return got == want;
    }
    multiset(got) == multiset(want)
}

fn multiset(rows: &[Vec<Cell>]) -> BTreeMap<&Vec<Cell>, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row).or_insert(0) += 1;
    }
    counts
}

fn first_difference(got: &[Vec<Cell>], want: &[Vec<Cell>]) -> String {
    let (g, w) = (multiset(got), multiset(want));
    if let Some((row, _)) = g.iter().find(|(row, n)| w.get(*row) != Some(n)) {
        return format!("ours has {row:?}");
    }
    if let Some((row, _)) = w.iter().find(|(row, n)| g.get(*row) != Some(n)) {
        return format!("PostgreSQL has {row:?}");
    }
    format!(
        "order: ours {:?}, PostgreSQL {:?}",
        got.first(),
        want.first()
    )
}
