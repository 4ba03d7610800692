//! The workspace's data model: `data_attributes` (official spec: `GET /ticket_types`) and
//! `ticket_types` with their `ticket_type_attributes` (official spec: `GET /ticket_types/{id}`).

use serde_json::{Map, Value};

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `data_attributes`: standard and custom attributes of contacts, companies and conversations.
pub(super) fn data_attributes() -> TableDef {
    TableDef::new(
        "data_attributes",
        "Standard and custom data attributes of contacts, companies and conversations, archived ones included (`WHERE NOT archived` leaves them out).",
        Source::List(
            Listing::new("/data_attributes", PageStyle::Single, "data")
                .with_query("include_archived", "true"),
        ),
    )
    .columns([
        C::text("id", "Intercom id (custom attributes only)."),
        C::text("model", "contact, company or conversation."),
        C::text("name", "Attribute name."),
        C::text("full_name", "Dotted name as used in search (custom_attributes.<name>)."),
        C::text("label", "Name shown in Intercom."),
        C::text("description", "Description."),
        C::text("data_type", "string, integer, float, boolean, date or datetime."),
        C::json("options", "Allowed values of a list attribute, as JSON."),
        C::bool("custom", "Whether the workspace defined it."),
        C::bool("archived", "Whether it is archived."),
        C::bool("api_writable", "Whether the API can write it."),
        C::bool("ui_writable", "Whether admins can write it in Intercom."),
        C::bool("messenger_writable", "Whether the Messenger can write it."),
        C::text("admin_id", "Id of the admin who created it."),
        C::timestamp("created_at", "When it was created."),
        C::timestamp("updated_at", "When it was last changed."),
    ])
    .writes(data_attributes_writes())
    .actions(actions::procedures())
}

/// Creates a data attribute; shared by INSERT into `data_attributes` and
/// `CreateDataAttribute`.
const DATA_ATTRIBUTES: &str = "/data_attributes";

/// What INSERT, UPDATE and DELETE on `data_attributes` send.
fn data_attributes_writes() -> TableWrites {
    TableWrites {
        table: "data_attributes",
        insert: Some(
            Write::new("POST", DATA_ATTRIBUTES)
                .fields(&[
                    ("name", "name"),
                    ("model", "model"),
                    ("data_type", "data_type"),
                    ("description", "description"),
                    ("options", "options"),
                    ("messenger_writable", "messenger_writable"),
                ])
                .required(&["name", "model", "data_type"])
                .finish(option_objects),
        ),
        update: Some(
            Write::new("PUT", "/data_attributes/{id}")
                .fields(&[
                    ("description", "description"),
                    ("options", "options"),
                    ("archived", "archived"),
                    ("messenger_writable", "messenger_writable"),
                ])
                .finish(option_objects)
                .idempotent(),
        ),
        delete: None,
        key: &["id"],
    }
}

/// `options` of a list attribute: Intercom wants `[{"value": …}]`; plain strings are wrapped.
fn option_objects(body: &mut Map<String, Value>) -> Result<(), String> {
    let Some(options) = body.get_mut("options") else {
        return Ok(());
    };
    let Value::Array(items) = options else {
        return Err("options must be a JSON array, e.g. '[\"Gold\", \"Silver\"]'".into());
    };
    for item in items.iter_mut() {
        if let Value::String(s) = item {
            *item = serde_json::json!({ "value": s });
        }
    }
    Ok(())
}

/// Actions on data attributes, as procedures.
mod actions {
    use serde_json::{Value, json};

    use super::DATA_ATTRIBUTES;
    use crate::tables::action::{Args, ColumnType, Param, Procedure, ResultColumn, fields};

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![create_data_attribute(), update_data_attribute()]
    }

    fn create_data_attribute() -> Procedure {
        Procedure::new(
            "CreateDataAttribute",
            "Creates a custom data attribute for contacts or companies.",
            "POST",
            DATA_ATTRIBUTES,
        )
        .param(Param::text("name", "Name of the attribute."))
        .param(Param::text("model", "contact or company.").one_of(&["contact", "company"]))
        .param(
            Param::text(
                "data_type",
                "string, integer, float, boolean, datetime, date, or options (a list).",
            )
            .one_of(&[
                "string", "integer", "float", "boolean", "datetime", "date", "options",
            ]),
        )
        .param(Param::text("description", "Description shown in Intercom.").optional())
        .param(
            Param::json(
                "options",
                "JSON array of at least two values, for data_type options.",
            )
            .optional(),
        )
        .param(messenger_writable())
        .check(|a| {
            let list = a.text("data_type").as_deref() == Some("options");
            match (list, options(a)?) {
                (true, None) => {
                    Err(r#"data_type options needs options, e.g. '["small", "large"]'"#.into())
                }
                (false, Some(_)) => Err("options only go with data_type options".into()),
                _ => Ok(()),
            }
        })
        .body(|a| {
            let keys = [
                ("name", "name"),
                ("model", "model"),
                ("data_type", "data_type"),
                ("description", "description"),
                ("messenger_writable", "messenger_writable"),
            ];
            let mut body = fields(a, &keys);
            if let Some(list) = options(a)? {
                body.insert("options".into(), list);
            }
            Ok(Value::Object(body))
        })
        .columns(attribute_columns())
        .example(concat!(
            "CALL CreateDataAttribute('contract_tier', 'company', 'options', ",
            r#"'Tier of the contract', '["gold", "silver"]')"#
        ))
    }

    fn update_data_attribute() -> Procedure {
        Procedure::new(
            "UpdateDataAttribute",
            "Changes or archives a data attribute (its type cannot change).",
            "PUT",
            "/data_attributes/{data_attribute_id}",
        )
        .param(Param::text(
            "data_attribute_id",
            "Id of the data attribute (see data_attributes).",
        ))
        .param(Param::text("description", "New description.").optional())
        .param(Param::bool("archived", "true archives the attribute.").optional())
        .param(messenger_writable())
        .param(
            Param::json(
                "options",
                "JSON array of at least two values (options attributes).",
            )
            .optional(),
        )
        .check(|a| {
            options(a)?;
            let changes = ["description", "archived", "messenger_writable", "options"];
            if changes.iter().any(|c| a.has(c)) {
                Ok(())
            } else {
                Err(format!(
                    "nothing to change; give at least one of {}",
                    changes.join(", ")
                ))
            }
        })
        .body(|a| {
            let keys = [
                ("description", "description"),
                ("archived", "archived"),
                ("messenger_writable", "messenger_writable"),
            ];
            let mut body = fields(a, &keys);
            if let Some(list) = options(a)? {
                body.insert("options".into(), list);
            }
            Ok(Value::Object(body))
        })
        .idempotent()
        .columns(attribute_columns())
        .example("CALL UpdateDataAttribute('18', archived => true)")
    }

    fn attribute_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::typed("id", ColumnType::Int, "id"),
            ResultColumn::text("name", "name"),
            ResultColumn::text("full_name", "full_name"),
            ResultColumn::text("model", "model"),
            ResultColumn::text("data_type", "data_type"),
            ResultColumn::typed("archived", ColumnType::Bool, "archived"),
        ]
    }

    /// `options` as Intercom wants them, `[{"value": …}, …]`, from a JSON array of strings or of
    /// such objects; at least two.
    fn options(args: &Args) -> Result<Option<Value>, String> {
        let Some(given) = args.get("options") else {
            return Ok(None);
        };
        let items = given
            .as_array()
            .ok_or(r#"options must be a JSON array, e.g. '["small", "large"]'"#)?;
        let mut out = Vec::new();
        for item in items {
            match item {
                Value::String(s) => out.push(json!({"value": s})),
                Value::Object(o) if o.get("value").is_some_and(Value::is_string) => {
                    out.push(item.clone())
                }
                _ => return Err(r#"options must be strings or {"value": …} objects"#.into()),
            }
        }
        if out.len() < 2 {
            return Err("options needs at least two values".into());
        }
        Ok(Some(Value::Array(out)))
    }

    fn messenger_writable() -> Param {
        Param::bool("messenger_writable", "Whether the Messenger may update it.").optional()
    }
}
