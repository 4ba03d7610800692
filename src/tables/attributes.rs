//! The workspace's data model: `data_attributes` (§4.24) and `ticket_types` with their
//! `ticket_type_attributes` (§4.25).

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
}

/// `ticket_types`: the kinds of ticket the workspace has.
pub(super) fn ticket_types() -> TableDef {
    TableDef::new(
        "ticket_types",
        "Ticket types (Customer, Back-office, Tracker) and their settings.",
        Source::List(Listing::new("/ticket_types", PageStyle::Single, "data")),
    )
    .get_by_id("/ticket_types/{id}")
    .columns([
        C::text("id", "Intercom id of the ticket type."),
        C::text("name", "Name."),
        C::text("description", "Description."),
        C::text("category", "Customer, Back-office or Tracker."),
        C::text("icon", "Emoji icon."),
        C::bool("archived", "Whether it is archived."),
        C::bool("is_internal", "Whether tickets of this type are internal."),
        C::json(
            "ticket_states",
            "States tickets of this type move through, as JSON.",
        )
        .at("ticket_states.data"),
        C::timestamp("created_at", "When it was created."),
        C::timestamp("updated_at", "When it was last changed."),
    ])
}

/// `ticket_type_attributes`: the fields of each ticket type, read from the ticket type.
pub(super) fn ticket_type_attributes() -> TableDef {
    TableDef::new(
        "ticket_type_attributes",
        "Fields of each ticket type (one row per ticket type and attribute).",
        Source::Children {
            parent_table: "ticket_types".into(),
            key_column: "ticket_type_id".into(),
            listing: Listing::new(
                "/ticket_types/{id}",
                PageStyle::Single,
                "ticket_type_attributes.data",
            ),
        },
    )
    .columns([
        C::parent_key("ticket_type_id", "Id of the ticket type."),
        C::text("id", "Intercom id of the attribute."),
        C::text("name", "Attribute name."),
        C::text("description", "Description."),
        C::text(
            "data_type",
            "string, list, integer, decimal, boolean, datetime or files.",
        ),
        C::json(
            "input_options",
            "Options (list items, multiline, …), as JSON.",
        ),
        C::int("display_order", "Position in the ticket form.").at("order"),
        C::bool(
            "required_to_create",
            "Required when an admin creates a ticket.",
        ),
        C::bool(
            "required_to_create_for_contacts",
            "Required when a contact creates a ticket.",
        ),
        C::bool("visible_on_create", "Shown on the creation form."),
        C::bool("visible_to_contacts", "Shown to contacts."),
        C::bool(
            "is_default",
            "One of Intercom's default attributes (title, description).",
        )
        .at("default"),
        C::bool("archived", "Whether it is archived."),
        C::timestamp("created_at", "When it was created."),
        C::timestamp("updated_at", "When it was last changed."),
    ])
}
