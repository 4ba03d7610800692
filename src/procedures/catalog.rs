//! Procedures described as data: the `procedures` and `procedure_parameters` tables, and the
//! reference part of `docs/procedures.md` (generated from the registry, checked by a test).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::error::Result;

use super::{Procedure, ResultSource, all};

/// Name of the table listing procedures.
pub const PROCEDURES_TABLE: &str = "procedures";
/// Name of the table listing their parameters.
pub const PARAMETERS_TABLE: &str = "procedure_parameters";

/// The description of the `procedures` or `procedure_parameters` table and of each of its
/// columns (the server's `pg_description`: psql's `\dt+`, SQLAlchemy's table comments).
pub fn described(table: &str) -> Option<(&'static str, &'static [&'static str])> {
    match table {
        PROCEDURES_TABLE => Some((
            "The procedures CALL runs: one row per procedure.",
            &[
                "Name to CALL.",
                "Name of its table-function form (SELECT * FROM name(…)).",
                "Parameters, with their types, as CALL takes them.",
                "What it does.",
                "HTTP method of its Intercom request.",
                "Path of its Intercom request.",
                "The procedure this name is an alias of.",
            ],
        )),
        PARAMETERS_TABLE => Some((
            "The procedures' parameters: one row per parameter.",
            &[
                "Procedure the parameter belongs to.",
                "Position in the argument list, from 1.",
                "Parameter name.",
                "Type the argument is given as.",
                "Whether the argument must be given.",
                "Value used when it is not given.",
                "Values it accepts, when they are a fixed list.",
                "What the parameter is.",
            ],
        )),
        _ => None,
    }
}

fn text(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

/// `procedures(name, function_name, signature, description, method, path, alias_of)`.
pub fn procedures_table() -> Result<MemTable> {
    let all = all();
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("function_name", DataType::Utf8, false),
        Field::new("signature", DataType::Utf8, false),
        Field::new("description", DataType::Utf8, false),
        Field::new("method", DataType::Utf8, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("alias_of", DataType::Utf8, true),
    ]));
    let column = |f: &dyn Fn(&Procedure) -> String| text(all.iter().map(f).collect());
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            column(&|p| p.name.to_string()),
            column(&|p| p.function_name.clone()),
            column(&|p| p.signature()),
            column(&|p| p.description.to_string()),
            column(&|p| p.method.to_string()),
            column(&|p| match p.lookup {
                Some(lookup) => format!("{} (after GET {})", p.path, lookup.path),
                None => p.path.to_string(),
            }),
            Arc::new(StringArray::from(
                all.iter().map(|p| p.alias_of).collect::<Vec<_>>(),
            )),
        ],
    )?;
    MemTable::try_new(schema, vec![vec![batch]])
}

/// `procedure_parameters(procedure, position, name, type, required, default, allowed_values,
/// description)`, one row per parameter.
pub fn parameters_table() -> Result<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("procedure", DataType::Utf8, false),
        Field::new("position", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("required", DataType::Boolean, false),
        Field::new("default", DataType::Utf8, true),
        Field::new("allowed_values", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, false),
    ]));
    let rows: Vec<(&Procedure, usize, &super::Param)> = all()
        .iter()
        .flat_map(|p| {
            p.params
                .iter()
                .enumerate()
                .map(move |(i, param)| (p, i, param))
        })
        .collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            text(rows.iter().map(|(p, _, _)| p.name.to_string()).collect()),
            Arc::new(Int64Array::from(
                rows.iter()
                    .map(|(_, i, _)| *i as i64 + 1)
                    .collect::<Vec<_>>(),
            )),
            text(rows.iter().map(|(_, _, x)| x.name.to_string()).collect()),
            text(
                rows.iter()
                    .map(|(_, _, x)| x.ty.sql_name().to_string())
                    .collect(),
            ),
            Arc::new(BooleanArray::from(
                rows.iter().map(|(_, _, x)| x.required).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter()
                    .map(|(_, _, x)| (!x.required).then(|| x.default_sql()))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter()
                    .map(|(_, _, x)| (!x.allowed.is_empty()).then(|| x.allowed.join(", ")))
                    .collect::<Vec<_>>(),
            )),
            text(rows.iter().map(|(_, _, x)| x.doc.to_string()).collect()),
        ],
    )?;
    MemTable::try_new(schema, vec![vec![batch]])
}

/// The line between the hand-written introduction of `docs/procedures.md` and the reference
/// generated by [`reference_markdown`].
pub const REFERENCE_MARKER: &str = "<!-- The reference below is generated from src/procedures; regenerate with: INTERCOM_SQL_WRITE_DOCS=1 cargo test --lib procedures::catalog -->";

fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The reference section: every procedure with its signature, endpoint, parameters, result
/// columns and an example.
pub fn reference_markdown() -> String {
    let mut out = String::new();
    let mut group = "";
    for p in all() {
        let this_group = group_of(p);
        if this_group != group {
            group = this_group;
            out.push_str(&format!("\n## {group}\n"));
        }
        out.push_str(&format!("\n### {}\n\n", p.name));
        out.push_str(&format!("`{}`\n\n", p.signature()));
        out.push_str(p.description);
        if let Some(target) = p.alias_of {
            out.push_str(&format!(" Same request as {target}."));
        }
        out.push_str("\n\n");
        out.push_str(&format!(
            "- Endpoint: `{}`{}\n",
            p.endpoint(),
            if p.idempotent {
                " (idempotent: retried after 5xx)"
            } else {
                " (not retried except after 429)"
            }
        ));
        out.push_str(&format!("- Table function: `{}(…)`\n", p.function_name));
        let columns: Vec<String> = p
            .columns
            .iter()
            .map(|c| {
                let from = match c.source {
                    ResultSource::Response(path) => format!("response `{path}`"),
                    ResultSource::Arg(arg) => format!("argument `{arg}`"),
                    ResultSource::Status => "HTTP status".to_string(),
                };
                format!("`{}` {} ({from})", c.name, c.ty.sql_name())
            })
            .chain(std::iter::once("`response` json".to_string()))
            .collect();
        out.push_str(&format!("- Returns: {}\n\n", columns.join(", ")));
        if !p.params.is_empty() {
            out.push_str(
                "| # | Parameter | Type | Required | Description |\n|---|---|---|---|---|\n",
            );
            for (i, param) in p.params.iter().enumerate() {
                let mut doc = param.doc.to_string();
                if !param.allowed.is_empty() {
                    doc.push_str(&format!(" One of: {}.", param.allowed.join(", ")));
                }
                let required = if param.required {
                    "yes".to_string()
                } else {
                    format!("no (default {})", param.default_sql())
                };
                out.push_str(&format!(
                    "| {} | `{}` | {} | {} | {} |\n",
                    i + 1,
                    param.name,
                    param.ty.sql_name(),
                    escape_cell(&required),
                    escape_cell(&doc)
                ));
            }
            out.push('\n');
        }
        out.push_str(&format!("```sql\n{};\n```\n", p.example));
    }
    out
}

/// The docs section a procedure is listed under.
fn group_of(p: &Procedure) -> &'static str {
    let path = p.path;
    if p.method == "*" {
        "Any request"
    } else if path.starts_with("/contacts") || path.starts_with("/visitors") || path == "/tags" {
        "Contacts and companies"
    } else if path.starts_with("/conversations") {
        "Conversations"
    } else if path.starts_with("/messages") || path.starts_with("/events") {
        "Messages and events"
    } else if path.starts_with("/ticket") {
        "Tickets"
    } else {
        "Admins and data attributes"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/procedures.md");

    #[test]
    fn docs_list_every_procedure_as_generated() {
        let text = std::fs::read_to_string(DOC).unwrap_or_default();
        let intro = text
            .split_once(REFERENCE_MARKER)
            .map(|(intro, _)| intro.to_string())
            .unwrap_or_default();
        let expected = format!("{intro}{REFERENCE_MARKER}\n{}", reference_markdown());
        if std::env::var_os("INTERCOM_SQL_WRITE_DOCS").is_some() && !intro.is_empty() {
            std::fs::write(DOC, &expected).unwrap();
            return;
        }
        assert!(
            !intro.is_empty(),
            "docs/procedures.md must contain the marker line {REFERENCE_MARKER}"
        );
        let missing: Vec<&str> = all()
            .iter()
            .filter(|p| !text.contains(&format!("### {}\n", p.name)))
            .map(|p| p.name)
            .collect();
        assert!(missing.is_empty(), "docs/procedures.md lacks {missing:?}");
        assert!(
            text == expected,
            "docs/procedures.md is out of date; run INTERCOM_SQL_WRITE_DOCS=1 cargo test --lib procedures::catalog"
        );
    }

    #[test]
    fn metadata_tables_have_a_row_per_procedure_and_parameter() {
        use datafusion::catalog::TableProvider;
        let procedures = procedures_table().unwrap();
        let parameters = parameters_table().unwrap();
        assert_eq!(procedures.schema().fields().len(), 7);
        assert_eq!(parameters.schema().fields().len(), 8);
    }
}
