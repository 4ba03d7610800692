//! One table per ticket type, as Skyvia has `<TicketTypeName>Tickets`: `bug_report_tickets`
//! holds the tickets of the "Bug report" type, with its attributes as typed columns read from
//! `ticket_attributes.<name>` and searched as `ticket_attribute.<id>` (official spec:
//! `searchTickets`). The types and their attributes come from `GET /ticket_types`
//! (listTicketTypes), asked once when the session starts, as custom attributes are. Each table
//! is `tickets` with its type fixed (`TableDef::fixed`): every search ANDs
//! `ticket_type_id = <id>`, and a ticket looked up by id is a row only when it is of the type.
//! They are written like `tickets`: INSERT creates a ticket of the type (its `ticket_type_id`
//! filled), and attribute columns are set as `ticket_attributes.<name>`.

use serde_json::Value;

use super::{ColumnDef, ColumnType, SearchType, TableDef};

/// One attribute of a ticket type, as `GET /ticket_types` describes it.
struct Attribute {
    id: String,
    name: String,
    data_type: String,
    description: String,
}

/// The tables of the ticket types of a `GET /ticket_types` answer (archived types left out),
/// each `tickets` with its type fixed and its attributes as columns; names already taken by
/// another table (or another type) get the type's id instead.
pub fn from_ticket_types(body: &Value) -> Vec<TableDef> {
    let Some(base) = super::find("tickets") else {
        return Vec::new();
    };
    let types = body
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("archived").and_then(Value::as_bool) != Some(true));
    let mut tables: Vec<TableDef> = Vec::new();
    for ticket_type in types {
        let Some(id) = text(ticket_type.get("id")) else {
            continue;
        };
        let type_name = text(ticket_type.get("name")).unwrap_or_default();
        let mut name = format!("{}_tickets", slug(&type_name));
        let taken = |n: &str| super::find(n).is_some() || tables.iter().any(|t| t.name == n);
        if slug(&type_name).is_empty() || taken(&name) {
            name = format!("ticket_type_{}_tickets", slug(&id));
        }
        let mut table = base.clone();
        table.name = name;
        table.description =
            format!("Tickets of type {type_name:?} (ticket type {id}), its attributes as columns.");
        table.fixed = Some(("ticket_type_id".into(), id.clone()));
        table.actions = Vec::new();
        let mut written = Vec::new();
        for attribute in attributes(ticket_type) {
            let column = attribute_column(&table, &attribute);
            written.push((column.name.clone(), column.path.clone()));
            table.columns.push(column);
        }
        // INSERT creates a ticket of the type, UPDATE and DELETE reach only its tickets (the
        // rows the scan finds); attribute columns go to `ticket_attributes.<name>`.
        if let Some(writes) = &mut table.writes {
            for write in [&mut writes.insert, &mut writes.update]
                .into_iter()
                .flatten()
            {
                write.attribute_fields = written.clone();
            }
        }
        tables.push(table);
    }
    tables
}

/// The type's own attributes (the default title and description are `title` and
/// `description` already).
fn attributes(ticket_type: &Value) -> Vec<Attribute> {
    let list = ticket_type
        .get("ticket_type_attributes")
        .and_then(|a| a.get("data").or(Some(a)))
        .and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter(|a| a.get("archived").and_then(Value::as_bool) != Some(true))
        .filter_map(|a| {
            let name = text(a.get("name"))?;
            (!name.starts_with("_default_")).then_some(Attribute {
                id: text(a.get("id"))?,
                data_type: text(a.get("data_type")).unwrap_or_else(|| "string".into()),
                description: text(a.get("description")).unwrap_or_default(),
                name,
            })
        })
        .collect()
}

/// The column of one attribute: named like it (`Affected users` → `affected_users`, or
/// `attribute_<id>` when that is taken), typed from its data type, searched by its id.
fn attribute_column(table: &TableDef, attribute: &Attribute) -> ColumnDef {
    let mut name = slug(&attribute.name);
    if name.is_empty() || table.column_named(&name).is_some() {
        name = format!("attribute_{}", slug(&attribute.id));
    }
    let (kind, search) = match attribute.data_type.as_str() {
        "integer" => (ColumnType::Int, Some(SearchType::Int)),
        "boolean" => (ColumnType::Bool, Some(SearchType::Bool)),
        "datetime" | "date" => (ColumnType::Timestamp, Some(SearchType::Date)),
        // Float comparisons are not documented well enough to widen safely: read only.
        "decimal" | "float" => (ColumnType::Float, None),
        "files" => (ColumnType::Json, None),
        // string, list (its option's text), and anything new.
        _ => (ColumnType::Text, Some(SearchType::Str)),
    };
    let description = match attribute.description.is_empty() {
        true => format!(
            "Ticket attribute {:?} ({}).",
            attribute.name, attribute.data_type
        ),
        false => format!(
            "Ticket attribute {:?} ({}): {}",
            attribute.name, attribute.data_type, attribute.description
        ),
    };
    let mut column = ColumnDef::new(kind, &name, &description);
    column.path = vec!["ticket_attributes".into(), attribute.name.clone()];
    if let Some(search) = search {
        column = column.search_as(&format!("ticket_attribute.{}", attribute.id), search);
    }
    column
}

/// A string or a number as text.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `Bug report` → `bug_report`: lower-case letters and digits, other runs as one `_`.
pub(super) fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_ticket_type_is_a_table_with_its_attributes_as_columns() {
        let body = json!({"type": "list", "data": [
            {"id": "95", "name": "Bug report", "ticket_type_attributes": {"data": [
                {"id": "210", "name": "_default_title_", "data_type": "string"},
                {"id": "212", "name": "Severity", "data_type": "list"},
                {"id": "213", "name": "Affected users", "data_type": "integer"},
                {"id": "214", "name": "Refund", "data_type": "decimal"},
                {"id": "215", "name": "title", "data_type": "string"},
                {"id": "216", "name": "Old", "data_type": "string", "archived": true},
            ]}},
            {"id": 96, "name": "Contacts", "ticket_type_attributes": {"data": []}},
            {"id": "97", "name": "Gone", "archived": true},
            {"id": "98", "name": "Bug  Report!", "ticket_type_attributes": {"data": []}},
        ]});
        let tables = from_ticket_types(&body);
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bug_report_tickets",
                "contacts_tickets",
                "ticket_type_98_tickets"
            ]
        );
        let bugs = &tables[0];
        assert_eq!(bugs.fixed, Some(("ticket_type_id".into(), "95".into())));
        assert!(bugs.actions.is_empty());
        let insert = bugs
            .writes
            .as_ref()
            .and_then(|w| w.insert.as_ref())
            .unwrap();
        assert!(insert.settable("affected_users") && insert.settable("title"));
        assert!(!insert.settable("refund_total"));
        let severity = bugs.column_named("severity").unwrap();
        assert_eq!(severity.path, ["ticket_attributes", "Severity"]);
        assert_eq!(
            severity.search_field_name().as_deref(),
            Some("ticket_attribute.212")
        );
        let users = bugs.column_named("affected_users").unwrap();
        assert_eq!(
            (users.kind, users.search),
            (ColumnType::Int, Some(SearchType::Int))
        );
        let refund = bugs.column_named("refund").unwrap();
        assert_eq!((refund.kind, refund.search), (ColumnType::Float, None));
        // `title` is the default title's column already: the attribute is named by its id.
        assert!(bugs.column_named("attribute_215").is_some());
        assert!(bugs.column_named("old").is_none());
    }
}
