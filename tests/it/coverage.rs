//! docs/coverage.md: every operation of Intercom's REST API 2.15 (from the spec extract in
//! tests/fixtures) with what reaches it here — a table's read, INSERT/UPDATE/DELETE, a
//! procedure — generated from the registry, so it cannot go stale. Regenerate with
//! `INTERCOM_SQL_WRITE_DOCS=1 cargo test --test it coverage`.

use std::collections::BTreeMap;

use intercom_sql::tables::{self, PageStyle, Source};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/intercom-openapi-2.15-extract.json"
);
const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/coverage.md");

/// `/contacts/{contact_id}/tags?x=1` → `/contacts/{}/tags`: placeholders and query dropped.
fn shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let mut out = String::new();
    let mut in_braces = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_braces = true;
                out.push_str("{}");
            }
            '}' => in_braces = false,
            _ if in_braces => {}
            _ => out.push(c),
        }
    }
    out
}

/// (METHOD, path shape) → what reaches it, from the table and procedure registries.
fn reached() -> BTreeMap<(String, String), Vec<String>> {
    let mut reached: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut add = |method: &str, path: &str, what: String| {
        let entry = reached
            .entry((method.to_uppercase(), shape(path)))
            .or_default();
        if !entry.contains(&what) {
            entry.push(what);
        }
    };
    for table in tables::all() {
        let name = &table.name;
        if let Source::List(listing)
        | Source::Children { listing, .. }
        | Source::Keyed { listing, .. } = &table.source
        {
            let overflow = listing.overflow.as_ref().map(|o| &o.1);
            for listing in std::iter::once(listing).chain(overflow) {
                let method = match listing.style {
                    PageStyle::Search { .. } => "POST",
                    _ if listing.post => "POST",
                    _ => "GET",
                };
                add(method, &listing.path, format!("`{name}` (read)"));
            }
        }
        if let Some(ordered) = &table.ordered {
            let method = if ordered.listing.post { "POST" } else { "GET" };
            add(
                method,
                &ordered.listing.path,
                format!("`{name}` (ORDER BY {} LIMIT)", ordered.column),
            );
        }
        if let Some(search) = &table.search {
            add("POST", &search.path, format!("`{name}` (WHERE)"));
        }
        for (column, listing) in &table.listed_by {
            let method = if listing.post { "POST" } else { "GET" };
            add(method, &listing.path, format!("`{name}` (WHERE {column})"));
        }
        for lookup in &table.lookups {
            add(
                "GET",
                &lookup.path,
                format!("`{name}` (WHERE {})", lookup.column),
            );
        }
        if let Some(writes) = &table.writes {
            for (kind, write) in [
                ("INSERT", &writes.insert),
                ("UPDATE", &writes.update),
                ("DELETE", &writes.delete),
            ] {
                if let Some(write) = write {
                    add(write.method, write.path, format!("{kind} `{name}`"));
                }
            }
        }
    }
    for procedure in intercom_sql::procedures::all() {
        if procedure.method == "*" || procedure.alias_of.is_some() {
            continue;
        }
        add(
            procedure.method,
            procedure.path,
            format!("`CALL {}`", procedure.name),
        );
    }
    reached
}

/// Every (METHOD, path template) of the spec, in path order.
fn operations() -> Vec<(String, String)> {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(SPEC).expect("the spec extract")).unwrap();
    let mut ops = Vec::new();
    for (path, methods) in spec["paths"].as_object().expect("paths") {
        for method in methods.as_object().expect("methods").keys() {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    ops
}

fn markdown() -> (String, usize, usize) {
    let reached = reached();
    let ops = operations();
    let mut rows = Vec::new();
    let mut covered = 0;
    for (method, path) in &ops {
        let by = reached.get(&(method.clone(), shape(path)));
        if by.is_some() {
            covered += 1;
        }
        let by = by.map_or_else(|| "only `intercom_api`".to_string(), |list| list.join(", "));
        rows.push(format!("| `{method}` | `{path}` | {by} |"));
    }
    let text = format!(
        "# Coverage of Intercom's REST API 2.15\n\n\
         Every operation of Intercom's OpenAPI description of version 2.15 (the extract in\n\
         `tests/fixtures/`), with the table read, the write statement or the procedure that\n\
         sends it. Generated from the table and procedure registries by `tests/it/coverage.rs`,\n\
         which fails when this page is out of date; regenerate with\n\
         `INTERCOM_SQL_WRITE_DOCS=1 cargo test --test it coverage`.\n\n\
         **{covered} of {} operations** are reached by a table, a write or a procedure.\n\
         `SELECT * FROM intercom_api('GET', '/path')` (docs/procedures.md) calls any endpoint,\n\
         including those newer than this release.\n\n\
         | method | path | reached by |\n|---|---|---|\n{}\n",
        ops.len(),
        rows.join("\n")
    );
    (text, covered, ops.len())
}

#[test]
fn coverage_page_lists_every_operation_and_is_up_to_date() {
    let (text, covered, total) = markdown();
    assert_eq!(total, 162, "the 2.15 extract has 162 operations");
    // Every operation is reached by a table, a write or a procedure.
    assert_eq!(covered, total, "operations reached only by intercom_api");
    if std::env::var_os("INTERCOM_SQL_WRITE_DOCS").is_some() {
        std::fs::write(DOC, &text).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(DOC).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/coverage.md is out of date; run INTERCOM_SQL_WRITE_DOCS=1 cargo test --test it coverage"
    );
}

/// Every request a table or procedure declares is an operation of the spec: a typo in a path
/// would reach nothing.
#[test]
fn every_declared_request_is_an_operation_of_the_spec() {
    let ops: std::collections::BTreeSet<(String, String)> = operations()
        .into_iter()
        .map(|(m, p)| (m, shape(&p)))
        .collect();
    let unknown: Vec<String> = reached()
        .into_iter()
        .filter(|(op, _)| !ops.contains(op))
        .map(|((m, p), by)| format!("{m} {p} ({})", by.join(", ")))
        .collect();
    assert!(unknown.is_empty(), "not in the 2.15 spec: {unknown:#?}");
}
