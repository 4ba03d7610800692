//! The catalog corpus (`tests/fixtures/catalog_corpus/`): the metadata queries psql,
//! pgjdbc, SQLAlchemy, DBeaver, Grafana and Metabase send when a user browses a database,
//! recorded from the clients themselves. Each is replayed against the server over the simple
//! and the extended protocol: it is accepted by both, or listed in [`REFUSED`] with the reason
//! (docs/clients.md shows the list). At least 97% are accepted, and the server still answers
//! after them all.

use tokio_postgres::NoTls;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/catalog_corpus");

/// Queries the server refuses, as `file:line`, with why (grouped in docs/clients.md).
const REFUSED: &[(&str, &str)] = &[
    (
        "dbeaver.jsonl:61",
        "reads a sequence of the database it was recorded on; there are no sequences here",
    ),
    (
        "dbeaver.jsonl:68",
        "aclexplode() over default privileges; none are granted here",
    ),
    (
        "pgjdbc.jsonl:36",
        "getUDTs: a correlated scalar subquery DataFusion cannot plan; there are no user-defined types",
    ),
    (
        "pgjdbc.jsonl:37",
        "getUDTs: a correlated scalar subquery DataFusion cannot plan; there are no user-defined types",
    ),
    (
        "psql.jsonl:13",
        "\\d's trigger footer: WITH ORDINALITY, which DataFusion lacks; psql sends it only for a table with triggers",
    ),
    (
        "psql.jsonl:41",
        "\\d of an index: a correlated EXISTS DataFusion cannot plan; our tables have no indexes",
    ),
    (
        "psql.jsonl:45",
        "\\d+ of an index: a correlated EXISTS DataFusion cannot plan; our tables have no indexes",
    ),
    (
        "psql.jsonl:146",
        "\\df with argument types: a subscript of proargtypes (oidvector), which the catalog holds as text",
    ),
    (
        "psql.jsonl:208",
        "\\dp: a correlated scalar subquery over pg_attribute DataFusion cannot plan",
    ),
    (
        "psql.jsonl:209",
        "\\dp with a pattern: a correlated scalar subquery over pg_attribute DataFusion cannot plan",
    ),
    (
        "psql.jsonl:219",
        "\\dRp+: generate_series up to array_upper() of a column; there are no publications",
    ),
    (
        "psql.jsonl:243",
        "\\sf with argument types ('f(text)'::regprocedure); \\sf by name works",
    ),
];

/// Every query of the corpus: (`file:line`, SQL).
fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(CORPUS)
        .expect("the corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let query: serde_json::Value = serde_json::from_str(line).unwrap();
            let sql = query["sql"].as_str().expect("sql").to_string();
            out.push((format!("{name}:{}", i + 1), sql));
        }
    }
    out
}

#[tokio::test]
async fn clients_catalog_queries_are_answered() {
    let (_env, server) = crate::common::start_server().await;
    let addr = server.local_addr();
    let url = format!(
        "host={} port={} user=tester dbname=intercom",
        addr.ip(),
        addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let queries = corpus();
    assert!(queries.len() >= 400, "{} queries", queries.len());
    let mut refused = Vec::new();
    for (key, sql) in &queries {
        let simple = client.simple_query(sql).await.err();
        // The extended protocol: parse, bind and execute (no parameters: the corpus has
        // literals where the clients had them).
        let extended = match client.prepare(sql).await {
            Ok(statement) => client.query(&statement, &[]).await.err(),
            Err(e) => Some(e),
        };
        if let Some(e) = simple.or(extended) {
            let message = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string());
            refused.push((key.clone(), message));
        }
    }
    let listed: Vec<&str> = REFUSED.iter().map(|(k, _)| *k).collect();
    let unexpected: Vec<String> = refused
        .iter()
        .filter(|(k, _)| !listed.contains(&k.as_str()))
        .map(|(k, m)| format!("{k}: {}", m.chars().take(160).collect::<String>()))
        .collect();
    let now_accepted: Vec<&&str> = listed
        .iter()
        .filter(|k| !refused.iter().any(|(r, _)| r == **k))
        .collect();
    assert!(
        unexpected.is_empty(),
        "refused and not listed:\n{}",
        unexpected.join("\n")
    );
    assert!(
        now_accepted.is_empty(),
        "listed as refused but accepted (take them off REFUSED): {now_accepted:?}"
    );
    let accepted = queries.len() - refused.len();
    assert!(
        accepted * 100 >= queries.len() * 97,
        "{accepted} of {} accepted",
        queries.len()
    );
    // No query took the server down: it still answers.
    let rows = client.simple_query("SELECT 1").await.expect("still up");
    assert!(!rows.is_empty());
}
