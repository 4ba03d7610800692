//! Custom attributes as typed columns (docs/intercom-notes.md, "Custom attributes").
//!
//! A workspace defines its own attributes on contacts, companies and conversations;
//! `GET /data_attributes?model=…` names them and gives their types. Each becomes a column named
//! like its search field, `custom_attributes.<name>`, typed from its data type and read from
//! `obj.custom_attributes[<name>]` (absent = NULL). On contacts they are searchable too
//! (docs/intercom-notes.md, "Custom attributes"), so `WHERE custom_attributes.plan_tier = 'gold'`
//! is pushed down like any other filter. In SQL the column reads as `custom_attributes.plan_tier`
//! (see `session`) or quoted, `"custom_attributes.plan_tier"`; names with spaces or capitals need
//! quotes: `custom_attributes."Plan Tier"`.

use serde_json::Value;

use super::{ColumnDef, ColumnType, SearchType, TableDef};

/// The JSON key holding custom attributes, and the prefix of their column names.
pub const PREFIX: &str = "custom_attributes";

/// One custom attribute as `GET /data_attributes` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomAttribute {
    /// Name exactly as created (may hold spaces and capitals).
    pub name: String,
    /// Intercom's data type: `string`, `integer`, `float`, `boolean`, `date`, `datetime`, …
    pub data_type: String,
    /// Intercom's description, if any.
    pub description: String,
}

/// The live custom attributes of a `GET /data_attributes` response (standard and archived
/// ones left out), in the order given.
pub fn parse(body: &Value) -> Vec<CustomAttribute> {
    let Some(items) = body.get("data").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter(|a| a.get("custom").and_then(Value::as_bool) == Some(true))
        .filter(|a| a.get("archived").and_then(Value::as_bool) != Some(true))
        .filter_map(|a| {
            Some(CustomAttribute {
                name: a.get("name")?.as_str()?.to_string(),
                data_type: a
                    .get("data_type")
                    .and_then(Value::as_str)
                    .unwrap_or("string")
                    .to_string(),
                description: a
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
        })
        .collect()
}

/// SQL type and search type of an Intercom data type. Floats are not searched: Intercom's
/// float comparisons are not documented well enough to widen them safely.
fn types(data_type: &str) -> (ColumnType, Option<SearchType>) {
    match data_type {
        "integer" => (ColumnType::Int, Some(SearchType::Int)),
        "float" => (ColumnType::Float, None),
        "boolean" => (ColumnType::Bool, Some(SearchType::Bool)),
        "date" | "datetime" => (ColumnType::Timestamp, Some(SearchType::Date)),
        // string, options (reported as string), and anything new: text.
        _ => (ColumnType::Text, Some(SearchType::Str)),
    }
}

impl TableDef {
    /// The table with a typed column per custom attribute (searchable when `searchable`).
    /// An attribute whose column name is already taken is left to the JSON column.
    pub fn with_custom_attributes(
        mut self,
        attributes: &[CustomAttribute],
        searchable: bool,
    ) -> Self {
        for attribute in attributes {
            let name = format!("{PREFIX}.{}", attribute.name);
            if self.column_named(&name).is_some() {
                continue;
            }
            let (kind, search) = types(&attribute.data_type);
            let description = if attribute.description.is_empty() {
                format!("Custom attribute ({}).", attribute.data_type)
            } else {
                format!(
                    "Custom attribute ({}): {}",
                    attribute.data_type, attribute.description
                )
            };
            let mut column = ColumnDef::new(kind, &name, &description);
            column.path = vec![PREFIX.to_string(), attribute.name.clone()];
            if let (true, Some(search)) = (searchable, search) {
                column = column.search_as(&name, search);
            }
            self.columns.push(column);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_live_custom_attributes_become_typed_columns() {
        let body = json!({"type": "list", "data": [
            {"name": "email", "custom": false, "data_type": "string"},
            {"name": "plan_tier", "custom": true, "data_type": "string", "description": "Tier"},
            {"name": "seats", "custom": true, "data_type": "integer"},
            {"name": "Renewal Date", "custom": true, "data_type": "date"},
            {"name": "score", "custom": true, "data_type": "float"},
            {"name": "old", "custom": true, "archived": true, "data_type": "string"},
        ]});
        let attributes = parse(&body);
        let names: Vec<&str> = attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["plan_tier", "seats", "Renewal Date", "score"]);

        let contacts = super::super::find("contacts")
            .unwrap()
            .clone()
            .with_custom_attributes(&attributes, true);
        let tier = contacts
            .column_named("custom_attributes.plan_tier")
            .unwrap();
        assert_eq!(tier.kind, ColumnType::Text);
        assert_eq!(tier.path, ["custom_attributes", "plan_tier"]);
        assert_eq!(
            tier.search_field_name().as_deref(),
            Some("custom_attributes.plan_tier")
        );
        let renewal = contacts
            .column_named("custom_attributes.Renewal Date")
            .unwrap();
        assert_eq!(renewal.kind, ColumnType::Timestamp);
        assert_eq!(renewal.search, Some(SearchType::Date));
        let score = contacts.column_named("custom_attributes.score").unwrap();
        assert_eq!((score.kind, score.search), (ColumnType::Float, None));

        // Companies cannot be searched by custom attribute; adding twice adds nothing.
        let companies = super::super::find("companies")
            .unwrap()
            .clone()
            .with_custom_attributes(&attributes, false)
            .with_custom_attributes(&attributes, false);
        let seats = companies.column_named("custom_attributes.seats").unwrap();
        assert_eq!((seats.kind, seats.search), (ColumnType::Int, None));
        assert_eq!(
            companies
                .columns
                .iter()
                .filter(|c| c.name.starts_with("custom_attributes."))
                .count(),
            4
        );
    }
}
