//! The workspace's data model: `data_attributes` (§4.24) and `ticket_types` with their
//! `ticket_type_attributes` (§4.25).

use serde_json::{Map, Value};

use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef};
use crate::client::PageStyle;

/// `data_attributes`: standard and custom attributes of contacts, companies and conversations.
pub(super) fn data_attributes() -> TableDef {
    TableDef::new(
        "data_attributes",
        "Standard and custom data attributes of contacts, companies and conversations (archived ones are not listed).",
        Source::List(Listing::new("/data_attributes", PageStyle::Single, "data")),
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
}

/// What INSERT, UPDATE and DELETE on `data_attributes` send.
fn data_attributes_writes() -> TableWrites {
    TableWrites {
        table: "data_attributes",
        insert: Some(
            Write::new("POST", "/data_attributes")
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
