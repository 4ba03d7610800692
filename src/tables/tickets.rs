//! `tickets` (official spec: `POST /tickets/search`). Intercom has no ticket list endpoint: the
//! table is read through `POST /tickets/search`, with a catch-all query when the WHERE clause gives
//! none.

use serde_json::{Map, Value, json};

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Compared, Listing, SearchType as S, Source, TableDef};

/// `tickets`: every ticket.
pub(super) fn tickets() -> TableDef {
    // Every ticket has a creation time after the epoch (official spec: `POST /tickets/search`'s
    // usual catch-all).
    let everything = json!({"field": "created_at", "operator": ">", "value": 0});
    TableDef::new(
        "tickets",
        "Tickets (customer, back-office and tracker), read through ticket search.",
        Source::List(Listing::new(
            "/tickets/search",
            PageStyle::Search { query: everything },
            "tickets",
        )),
    )
    .get_by_id("/tickets/{id}")
    .search("/tickets/search", "tickets")
    .partitioned_by("created_at", Compared::BySecond)
    .columns([
        C::text("id", "Intercom id of the ticket (used in API paths)."),
        C::text(
            "ticket_id",
            "The ticket number shown in the Inbox and Messenger.",
        ),
        C::text("title", "Title.")
            .at("ticket_attributes._default_title_")
            .search_as("title", S::Str),
        C::text("description", "Description.")
            .at("ticket_attributes._default_description_")
            .search_as("description", S::Str),
        C::text("category", "Customer, Back-office or Tracker.")
            .search(S::Str)
            .search_values(CATEGORIES),
        C::timestamp("created_at", "When the ticket was created.").search(S::Date),
        C::timestamp("updated_at", "When the ticket was last updated.").search(S::Date),
        C::timestamp("snoozed_until", "When a snooze ends.").search(S::Date),
        C::bool("open", "Whether the ticket is open.").search(S::Bool),
        C::text("admin_assignee_id", "Assigned admin ('0' when unassigned).").search(S::Str),
        C::text("team_assignee_id", "Assigned team ('0' when unassigned).").search(S::Str),
        C::bool(
            "is_shared",
            "Whether the ticket is shared with the customer.",
        ),
        C::text("ticket_type_id", "Ticket type id.")
            .at("ticket_type.id")
            .search_as("ticket_type_id", S::Str),
        C::text("ticket_type_name", "Ticket type name.").at("ticket_type.name"),
        C::text("ticket_state_id", "Ticket state id.").at("ticket_state.id"),
        C::text(
            "ticket_state_category",
            "submitted, in_progress, waiting_on_customer or resolved.",
        )
        .at("ticket_state.category")
        .search_as("state", S::Str),
        C::text("ticket_state_internal_label", "State label teammates see.")
            .at("ticket_state.internal_label"),
        C::text("ticket_state_external_label", "State label customers see.")
            .at("ticket_state.external_label"),
        C::json("contacts", "Contacts on the ticket."),
        C::json(
            "ticket_attributes",
            "Ticket attributes by name, as a JSON object.",
        ),
        C::json("linked_objects", "Linked conversations and tickets."),
        C::json("ticket_parts", "Parts of the ticket (newest 500)."),
    ])
    .writes(tickets_writes())
    .actions(actions::procedures())
}

/// `ticket_contacts`: the contacts on each ticket (`GET /tickets/{id}`, getTicket); `WHERE
/// contact_id = …` is a tickets search on `contact_ids`.
pub(super) fn ticket_contacts() -> TableDef {
    TableDef::new(
        "ticket_contacts",
        "Contacts on each ticket (one row per ticket and contact).",
        Source::Children {
            parent_table: "tickets".into(),
            key_column: "ticket_id".into(),
            listing: Listing::new("/tickets/{id}", PageStyle::Single, "contacts.contacts"),
        },
    )
    .columns([
        C::parent_key("ticket_id", "Intercom id of the ticket (tickets.id)."),
        C::text("contact_id", "Id of the contact.").at("id"),
        C::text("external_id", "The contact's external id, if it has one."),
    ])
    .parent_search("contact_id", "contact_ids")
}

/// `ticket_parts`: replies, notes, assignments and state changes of each ticket
/// (`GET /tickets/{id}`, getTicket: its `ticket_parts`).
pub(super) fn ticket_parts() -> TableDef {
    TableDef::new(
        "ticket_parts",
        "Parts of each ticket: replies, notes, assignments, state changes.",
        Source::Children {
            parent_table: "tickets".into(),
            key_column: "ticket_id".into(),
            listing: Listing::new(
                "/tickets/{id}",
                PageStyle::Single,
                "ticket_parts.ticket_parts",
            ),
        },
    )
    .columns([
        C::parent_key("ticket_id", "Intercom id of the ticket (tickets.id)."),
        C::text("id", "Id of the part."),
        C::text(
            "part_type",
            "comment, note, assignment, ticket_state_updated_by_admin, …",
        ),
        C::text("body", "Body (HTML)."),
        C::text(
            "previous_ticket_state",
            "Ticket state category before this part, for state changes.",
        ),
        C::text(
            "ticket_state",
            "Ticket state category after this part: submitted, in_progress, waiting_on_customer, resolved.",
        ),
        C::timestamp("created_at", "When the part was created."),
        C::timestamp("updated_at", "When the part was last updated."),
        C::text("assigned_to_type", "Assignee type, for assignments.").at("assigned_to.type"),
        C::text("assigned_to_id", "Assignee id, for assignments.").at("assigned_to.id"),
        C::text("author_type", "admin, bot, team or user.").at("author.type"),
        C::text("author_id", "Author id.").at("author.id"),
        C::text("author_name", "Author name.").at("author.name"),
        C::text("author_email", "Author email.").at("author.email"),
        C::text("external_id", "External id, if set."),
        C::bool("redacted", "Whether the part was redacted."),
        C::text("app_package_code", "App that created the part, if any."),
        C::json("attachments", "Attachments."),
        C::json(
            "updated_attribute_data",
            "For attribute changes: the attribute and its new value.",
        ),
    ])
}

/// A ticket type's category as responses show it, and as the tickets search takes it.
const CATEGORIES: &[(&str, &str)] = &[
    ("Customer", "request"),
    ("Back-office", "task"),
    ("Tracker", "tracker"),
];

/// Creates a ticket; shared by INSERT into `tickets` and `CreateTicket`.
const TICKETS: &str = "/tickets";

/// What INSERT, UPDATE and DELETE on `tickets` send.
fn tickets_writes() -> TableWrites {
    TableWrites {
        table: "tickets",
        insert: Some(
            Write::new("POST", TICKETS)
                .fields(&[
                    ("ticket_type_id", "ticket_type_id"),
                    ("contacts", "contacts"),
                    ("title", "ticket_attributes._default_title_"),
                    ("description", "ticket_attributes._default_description_"),
                    ("ticket_attributes", "ticket_attributes"),
                    ("created_at", "created_at"),
                ])
                .required(&["ticket_type_id", "contacts"])
                .finish(contacts_body),
        ),
        update: Some(
            Write::new("PUT", "/tickets/{id}")
                .fields(TICKET_FIELDS)
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/tickets/{id}").idempotent()),
        key: &["id"],
    }
}

/// A ticket's `contacts`: one id (`'6650…'`), a JSON array of ids or of `{id|external_id|email}`
/// objects, or the `{contacts: [...]}` object the table shows.
fn contacts_body(body: &mut Map<String, Value>) -> Result<(), String> {
    let Some(value) = body.remove("contacts") else {
        return Ok(());
    };
    let list = match value {
        Value::String(id) => vec![Value::String(id)],
        // An all-digit id read as JSON.
        Value::Number(id) => vec![Value::String(id.to_string())],
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("contacts") {
            Some(Value::Array(items)) => items,
            _ => return Err(CONTACTS_SHAPE.into()),
        },
        _ => return Err(CONTACTS_SHAPE.into()),
    };
    let mut contacts = Vec::with_capacity(list.len());
    for item in list {
        contacts.push(match item {
            Value::String(id) => serde_json::json!({ "id": id }),
            Value::Number(id) => serde_json::json!({ "id": id.to_string() }),
            Value::Object(map) => {
                let wanted = ["id", "external_id", "email"];
                let picked: Map<String, Value> = map
                    .into_iter()
                    .filter(|(k, _)| wanted.contains(&k.as_str()))
                    .take(1)
                    .collect();
                if picked.is_empty() {
                    return Err(CONTACTS_SHAPE.into());
                }
                Value::Object(picked)
            }
            _ => return Err(CONTACTS_SHAPE.into()),
        });
    }
    if contacts.is_empty() {
        return Err(CONTACTS_SHAPE.into());
    }
    body.insert("contacts".into(), Value::Array(contacts));
    Ok(())
}

const CONTACTS_SHAPE: &str = "contacts must be a contact id, or a JSON array of ids or of {\"id\"|\"external_id\"|\"email\": …} objects";

const TICKET_FIELDS: &[(&str, &str)] = &[
    ("title", "ticket_attributes._default_title_"),
    ("description", "ticket_attributes._default_description_"),
    ("ticket_state_id", "ticket_state_id"),
    ("open", "open"),
    ("is_shared", "is_shared"),
    ("snoozed_until", "snoozed_until"),
    ("admin_assignee_id", "assignee_id"),
    ("team_assignee_id", "assignee_id"),
];

/// `ticket_types`: the kinds of ticket the workspace has.
pub(super) fn ticket_types() -> TableDef {
    TableDef::new(
        "ticket_types",
        "Ticket types (Customer, Back-office, Tracker) and their settings.",
        Source::List(Listing::new("/ticket_types", PageStyle::Single, "data")),
    )
    .get_by_id("/ticket_types/{id}")
    .writes(ticket_types_writes())
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
    .actions(actions::type_procedures())
}

/// Creates a ticket type; shared by INSERT into `ticket_types` and `CreateTicketType`.
const TICKET_TYPES: &str = "/ticket_types";
/// What INSERT and UPDATE on `ticket_types` send (Intercom cannot delete a ticket type;
/// `archived = true` retires it).
fn ticket_types_writes() -> TableWrites {
    // `archived` (last) is for updates only.
    const FIELDS: &[(&str, &str)] = &[
        ("name", "name"),
        ("description", "description"),
        ("category", "category"),
        ("icon", "icon"),
        ("is_internal", "is_internal"),
        ("archived", "archived"),
    ];
    TableWrites {
        table: "ticket_types",
        insert: Some(
            Write::new("POST", TICKET_TYPES)
                .fields(&FIELDS[..FIELDS.len() - 1])
                .required(&["name"]),
        ),
        update: Some(
            Write::new("PUT", "/ticket_types/{id}")
                .fields(FIELDS)
                .idempotent(),
        ),
        delete: None,
        key: &["id"],
    }
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

/// Actions on tickets, ticket types and ticket type attributes, as procedures.
mod actions {
    use serde_json::{Map, Value, json};

    use super::TICKETS;
    use crate::tables::action::{
        Args, ColumnType, Param, Procedure, ResultColumn, fields, tag_columns,
    };

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![
            create(),
            enqueue(),
            update(),
            reply(),
            delete(),
            tag(),
            untag(),
        ]
    }

    pub(super) fn type_procedures() -> Vec<Procedure> {
        vec![
            create_type(),
            update_type(),
            create_attribute(),
            update_attribute(),
        ]
    }

    fn ticket_id() -> Param {
        Param::text(
            "ticket_id",
            "Intercom id of the ticket (the id column, not ticket_id).",
        )
    }

    fn ticket_type_id() -> Param {
        Param::text(
            "ticket_type_id",
            "Id of the ticket type (see ticket_types).",
        )
    }

    fn ticket_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::text("id", "id"),
            ResultColumn::text("ticket_id", "ticket_id"),
            ResultColumn::text("category", "category"),
            ResultColumn::typed("open", ColumnType::Bool, "open"),
            ResultColumn::text("state", "ticket_state.category"),
        ]
    }

    fn type_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::text("id", "id"),
            ResultColumn::text("name", "name"),
            ResultColumn::text("category", "category"),
            ResultColumn::typed("archived", ColumnType::Bool, "archived"),
        ]
    }

    fn attribute_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::text("id", "id"),
            ResultColumn::text("name", "name"),
            ResultColumn::text("data_type", "data_type"),
            ResultColumn::arg("ticket_type_id", ColumnType::Text, "ticket_type_id"),
            ResultColumn::typed("archived", ColumnType::Bool, "archived"),
        ]
    }

    fn check_object(args: &Args, name: &str) -> Result<(), String> {
        match args.get(name) {
            None | Some(Value::Object(_)) => Ok(()),
            Some(_) => Err(format!("{name} must be a JSON object")),
        }
    }

    /// At least one of `changes` must be set.
    fn check_changes(args: &Args, changes: &[&str]) -> Result<(), String> {
        if changes.iter().any(|c| args.has(c)) {
            Ok(())
        } else {
            Err(format!(
                "nothing to change; give at least one of {}",
                changes.join(", ")
            ))
        }
    }

    /// An object of the arguments named `keys`, under the same names.
    fn same_names(args: &Args, keys: &[&str]) -> Value {
        let pairs: Vec<(&str, &str)> = keys.iter().map(|k| (*k, *k)).collect();
        Value::Object(fields(args, &pairs))
    }

    fn create() -> Procedure {
        ticket_creation(Procedure::new(
            "CreateTicket",
            "Creates a ticket for a contact.",
            "POST",
            TICKETS,
        ))
        .columns(ticket_columns())
        .example(concat!(
            "CALL CreateTicket('62', '6650d1c2e4b0a1f2c3d4e5f6', 'Refund request', ",
            "'Charged twice in March')"
        ))
    }

    /// `POST /tickets/enqueue` (enqueueCreateTicket): Intercom checks the ticket, answers with
    /// a job and creates the ticket later; `jobs WHERE id = …` shows when it is done.
    fn enqueue() -> Procedure {
        ticket_creation(Procedure::new(
            "EnqueueCreateTicket",
            "Queues a ticket's creation (Intercom makes it later); returns the job, which the jobs table follows.",
            "POST",
            "/tickets/enqueue",
        ))
        .param(
            Param::bool(
                "skip_notifications",
                "true: nobody is notified of the new ticket.",
            )
            .optional(),
        )
        .columns(vec![
            ResultColumn::text("job_id", "id"),
            ResultColumn::text("status", "status"),
            ResultColumn::text("resource_type", "resource_type"),
            ResultColumn::text("url", "url"),
        ])
        .example(concat!(
            "CALL EnqueueCreateTicket('62', '6650d1c2e4b0a1f2c3d4e5f6', 'Refund request', ",
            "'Charged twice in March')"
        ))
    }

    /// The parameters and body of a new ticket, shared by `CreateTicket` and
    /// `EnqueueCreateTicket`.
    fn ticket_creation(procedure: Procedure) -> Procedure {
        procedure
            .param(ticket_type_id())
            .param(Param::text(
                "contact_id",
                "Intercom id of the contact the ticket is for.",
            ))
            .param(Param::text("title", "Title (the _default_title_ attribute).").optional())
            .param(
                Param::text(
                    "description",
                    "Description (the _default_description_ attribute).",
                )
                .optional(),
            )
            .param(
                Param::json(
                    "ticket_attributes",
                    "JSON object of more attributes by name.",
                )
                .optional(),
            )
            .param(Param::text("company_id", "Intercom id of a company of the contact.").optional())
            .check(|a| check_object(a, "ticket_attributes"))
            .body(|a| {
                let mut attributes = match a.get("ticket_attributes") {
                    Some(Value::Object(map)) => map.clone(),
                    _ => Map::new(),
                };
                let defaults = [
                    ("_default_title_", "title"),
                    ("_default_description_", "description"),
                ];
                attributes.extend(fields(a, &defaults));
                let keys = [
                    ("ticket_type_id", "ticket_type_id"),
                    ("company_id", "company_id"),
                    ("skip_notifications", "skip_notifications"),
                ];
                let mut body = fields(a, &keys);
                body.insert("contacts".into(), json!([{"id": a.get("contact_id")}]));
                if !attributes.is_empty() {
                    body.insert("ticket_attributes".into(), Value::Object(attributes));
                }
                Ok(Value::Object(body))
            })
    }

    const TICKET_CHANGES: [&str; 7] = [
        "ticket_attributes",
        "ticket_state_id",
        "open",
        "is_shared",
        "snoozed_until",
        "assignee_id",
        "company_id",
    ];

    fn update() -> Procedure {
        Procedure::new(
            "UpdateTicket",
            "Changes a ticket: attributes, state, open/closed, sharing, snooze, assignee, company.",
            "PUT",
            "/tickets/{ticket_id}",
        )
        .param(ticket_id())
        .param(
            Param::json(
                "ticket_attributes",
                "JSON object of attributes to set, by name.",
            )
            .optional(),
        )
        .param(
            Param::text(
                "ticket_state_id",
                "New state (must belong to the ticket's type).",
            )
            .optional(),
        )
        .param(Param::bool("open", "false closes the ticket.").optional())
        .param(Param::bool("is_shared", "Whether the contact can see the ticket.").optional())
        .param(Param::timestamp("snoozed_until", "Snooze until this time.").optional())
        // An integer in `update_ticket_request`, unlike the conversation requests' strings.
        .param(Param::int("admin_id", "Admin performing the update.").optional())
        .param(Param::text("assignee_id", "Admin or team to assign to; '0' unassigns.").optional())
        .param(Param::text("company_id", "Intercom id of the company to link.").optional())
        .check(|a| {
            check_object(a, "ticket_attributes")?;
            check_changes(a, &TICKET_CHANGES)
        })
        .body(|a| {
            let mut body = same_names(a, &TICKET_CHANGES);
            if let (Value::Object(map), Some(admin)) = (&mut body, a.get("admin_id")) {
                map.insert("admin_id".into(), admin.clone());
            }
            Ok(body)
        })
        .idempotent()
        .columns(ticket_columns())
        .example("CALL UpdateTicket('8537', open => false, admin_id => 991267460)")
    }

    fn reply() -> Procedure {
        Procedure::new(
            "ReplyToTicket",
            "Replies to a ticket as an admin (comment or note), or as a contact (give \
             intercom_user_id instead of admin_id).",
            "POST",
            "/tickets/{ticket_id}/reply",
        )
        .param(ticket_id())
        .param(
            Param::text(
                "message_type",
                "comment (seen by the contact) or note (internal; admins only).",
            )
            .one_of(&["comment", "note"]),
        )
        .param(
            Param::text(
                "admin_id",
                "Admin who replies (NULL when a contact replies).",
            )
            .optional(),
        )
        .param(Param::text("body", "Text of the reply."))
        .param(
            Param::text(
                "intercom_user_id",
                "Intercom id of the contact who replies, instead of an admin.",
            )
            .optional(),
        )
        .check(|a| match (a.has("admin_id"), a.has("intercom_user_id")) {
            (true, false) => Ok(()),
            (false, true) if a.text("message_type").as_deref() == Some("comment") => Ok(()),
            (false, true) => Err("contacts can only reply with message_type comment".into()),
            _ => Err(concat!(
                "give exactly one of admin_id (an admin replies) and ",
                "intercom_user_id (a contact replies)"
            )
            .into()),
        })
        .body(|a| {
            let mut body = same_names(a, &["message_type", "body", "admin_id", "intercom_user_id"]);
            let author = if a.has("admin_id") { "admin" } else { "user" };
            if let Value::Object(map) = &mut body {
                map.insert("type".into(), json!(author));
            }
            Ok(body)
        })
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::arg(
            "ticket_id",
            ColumnType::Text,
            "ticket_id",
        ))
        .column(ResultColumn::text("part_type", "part_type"))
        .column(ResultColumn::typed(
            "created_at",
            ColumnType::Timestamp,
            "created_at",
        ))
        .example("CALL ReplyToTicket('8537', 'note', '991267460', 'Escalated to billing')")
    }

    fn delete() -> Procedure {
        Procedure::new(
            "DeleteTicket",
            "Deletes a ticket (irreversible).",
            "DELETE",
            "/tickets/{ticket_id}",
        )
        .param(ticket_id())
        .idempotent()
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::typed("deleted", ColumnType::Bool, "deleted"))
        .example("CALL DeleteTicket('8537')")
    }

    fn tag() -> Procedure {
        Procedure::new(
            "TagTicket",
            "Applies a tag to a ticket.",
            "POST",
            "/tickets/{ticket_id}/tags",
        )
        .param(ticket_id())
        .param(Param::text("tag_id", "Id of the tag."))
        .param(Param::text("admin_id", "Admin applying the tag."))
        .body(|a| {
            let keys = [("id", "tag_id"), ("admin_id", "admin_id")];
            Ok(Value::Object(fields(a, &keys)))
        })
        .idempotent()
        .columns(tag_columns("ticket_id"))
        .example("CALL TagTicket('8537', '81', '991267460')")
    }

    fn untag() -> Procedure {
        Procedure::new(
            "UntagTicket",
            "Removes a tag from a ticket.",
            "DELETE",
            "/tickets/{ticket_id}/tags/{tag_id}",
        )
        .param(ticket_id())
        .param(Param::text("tag_id", "Id of the tag."))
        .param(Param::text("admin_id", "Admin removing the tag."))
        // DELETE with a JSON body (docs/intercom-notes.md, "Writes").
        .body(|a| Ok(same_names(a, &["admin_id"])))
        .idempotent()
        .columns(tag_columns("ticket_id"))
        .example("CALL UntagTicket('8537', '81', '991267460')")
    }

    const CATEGORIES: &[&str] = &["Customer", "Back-office", "Tracker"];
    const TYPE_FIELDS: [&str; 6] = [
        "name",
        "description",
        "category",
        "icon",
        "archived",
        "is_internal",
    ];

    fn create_type() -> Procedure {
        Procedure::new(
            "CreateTicketType",
            "Creates a ticket type (with the default title and description attributes).",
            "POST",
            super::TICKET_TYPES,
        )
        .param(Param::text("name", "Name of the ticket type."))
        .param(Param::text("description", "Description.").optional())
        .param(
            Param::text("category", "Customer, Back-office or Tracker.")
                .default_value("Customer")
                .one_of(CATEGORIES),
        )
        .param(Param::text("icon", "An emoji.").optional())
        .param(Param::bool("is_internal", "Internal-only ticket type.").optional())
        .body(|a| Ok(same_names(a, &TYPE_FIELDS)))
        .columns(type_columns())
        .example("CALL CreateTicketType('Refund', 'Money back requests', 'Customer', '💰')")
    }

    fn update_type() -> Procedure {
        Procedure::new(
            "UpdateTicketType",
            "Changes or archives a ticket type.",
            "PUT",
            "/ticket_types/{ticket_type_id}",
        )
        .param(ticket_type_id())
        .param(Param::text("name", "New name.").optional())
        .param(Param::text("description", "New description.").optional())
        .param(
            Param::text("category", "Customer, Back-office or Tracker.")
                .optional()
                .one_of(CATEGORIES),
        )
        .param(Param::text("icon", "An emoji.").optional())
        .param(Param::bool("archived", "true archives the ticket type.").optional())
        .param(Param::bool("is_internal", "Internal-only ticket type.").optional())
        .check(|a| check_changes(a, &TYPE_FIELDS))
        .body(|a| Ok(same_names(a, &TYPE_FIELDS)))
        .idempotent()
        .columns(type_columns())
        .example("CALL UpdateTicketType('62', description => 'Refunds and chargebacks')")
    }

    /// The boolean flags shared by create and update of ticket type attributes, in Skyvia's order.
    const ATTRIBUTE_FLAGS: [(&str, &str); 6] = [
        (
            "required_to_create",
            "Required when teammates create the ticket in the Inbox.",
        ),
        (
            "required_to_create_for_contacts",
            "Required when contacts create the ticket in the Messenger.",
        ),
        (
            "visible_on_create",
            "Visible to teammates when creating the ticket.",
        ),
        (
            "visible_to_contacts",
            "Visible to contacts when creating the ticket.",
        ),
        ("multiline", "Multi-line text (string attributes)."),
        ("allow_multiple_values", "Several files (files attributes)."),
    ];

    fn with_flags(mut procedure: Procedure) -> Procedure {
        for (name, doc) in ATTRIBUTE_FLAGS {
            procedure = procedure.param(Param::bool(name, doc).optional());
        }
        procedure
    }

    /// The body of create/update attribute. `multiline` (string attributes) and
    /// `allow_multiple_values` (files attributes) set to false on another data type are left out:
    /// false is their default, and Intercom rejects them on other types. Skyvia's positional
    /// signatures pass all flags whatever the type. `data_type` is the argument on create and what
    /// the lookup found on update.
    fn attribute_body(args: &Args, keys: &[&str], data_type: Option<String>) -> Value {
        let pairs: Vec<(&str, &str)> = keys
            .iter()
            .copied()
            .chain(ATTRIBUTE_FLAGS.iter().map(|(name, _)| *name))
            .map(|k| (k, k))
            .collect();
        let mut body = fields(args, &pairs);
        for (flag, applies_to) in [("multiline", "string"), ("allow_multiple_values", "files")] {
            let off = body.get(flag) == Some(&Value::Bool(false));
            if off && data_type.as_deref().is_some_and(|t| t != applies_to) {
                body.remove(flag);
            }
        }
        Value::Object(body)
    }

    fn list_items() -> Param {
        Param::text("list_items", "Comma-separated options (list attributes).").optional()
    }

    fn create_attribute() -> Procedure {
        with_flags(
            Procedure::new(
                "CreateTicketTypeAttribute",
                "Adds an attribute to a ticket type.",
                "POST",
                "/ticket_types/{ticket_type_id}/attributes",
            )
            .param(ticket_type_id())
            .param(Param::text("name", "Name of the attribute."))
            .param(Param::text(
                "description",
                "Description shown to teammates or contacts.",
            ))
            .param(
                Param::text(
                    "data_type",
                    "string, list, integer, decimal, boolean, datetime or files.",
                )
                .one_of(&[
                    "string", "list", "integer", "decimal", "boolean", "datetime", "files",
                ]),
            ),
        )
        .param(list_items())
        .check(|a| {
            if a.text("data_type").as_deref() == Some("list") && !a.has("list_items") {
                return Err("a list attribute needs list_items, e.g. 'Low,Medium,High'".into());
            }
            Ok(())
        })
        .body(|a| {
            let keys = ["name", "description", "data_type", "list_items"];
            Ok(attribute_body(a, &keys, a.text("data_type")))
        })
        .columns(attribute_columns())
        .example(concat!(
            "CALL CreateTicketTypeAttribute('62', 'Order number', 'The order to refund', ",
            "'string', true, false, true, true, false, false)"
        ))
    }

    fn update_attribute() -> Procedure {
        with_flags(
            Procedure::new(
                "UpdateTicketTypeAttribute",
                "Changes or archives a ticket type attribute, found by its name within the ticket \
                 type.",
                "PUT",
                "/ticket_types/{ticket_type_id}/attributes/{attribute_id}",
            )
            .lookup("/ticket_types/{ticket_type_id}", resolve_attribute)
            .param(ticket_type_id())
            .param(Param::text(
                "name",
                "Name of the attribute to change (it is not renamed).",
            ))
            .param(Param::text("description", "New description.").optional()),
        )
        .param(Param::bool("archived", "true archives the attribute.").optional())
        .param(list_items())
        .body(|a| {
            let keys = ["description", "archived", "list_items"];
            Ok(attribute_body(a, &keys, a.text("attribute_data_type")))
        })
        .idempotent()
        .columns(attribute_columns())
        .example(concat!(
            "CALL UpdateTicketTypeAttribute('62', 'Order number', 'The order, e.g. #1234', ",
            "true, false, true, true, false, false, false)"
        ))
    }

    /// Finds the attribute called `name` in a ticket type (`GET /ticket_types/{id}`), exact name
    /// first, then ignoring case. The 2.15 schema lists attributes under
    /// `ticket_type_attributes.ticket_type_attributes`, its example under
    /// `ticket_type_attributes.data` (docs/intercom-notes.md, "Where the schema and the examples
    /// disagree"); both are read.
    fn resolve_attribute(args: &mut Args, ticket_type: &Value) -> Result<(), String> {
        let wanted = args.text("name").unwrap_or_default();
        let list = &ticket_type["ticket_type_attributes"];
        let items = list["ticket_type_attributes"]
            .as_array()
            .or_else(|| list["data"].as_array())
            .cloned()
            .unwrap_or_default();
        let named = |exact: bool| {
            items.iter().find(|a| match a["name"].as_str() {
                Some(name) if exact => name == wanted,
                Some(name) => name.eq_ignore_ascii_case(&wanted),
                None => false,
            })
        };
        let Some(attribute) = named(true).or_else(|| named(false)) else {
            let names: Vec<&str> = items.iter().filter_map(|a| a["name"].as_str()).collect();
            return Err(format!(
                "ticket type {} has no attribute named '{wanted}'; its attributes: {}",
                args.text("ticket_type_id").unwrap_or_default(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        };
        let id = match &attribute["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let data_type = attribute["data_type"].as_str().map(str::to_string);
        args.insert("attribute_id", Value::String(id));
        if let Some(data_type) = data_type {
            args.insert("attribute_data_type", Value::String(data_type));
        }
        Ok(())
    }
}
