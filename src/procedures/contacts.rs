//! Procedures on contacts and companies (intercom-api.md §5.1–5.3, §5.10 visitors): archive,
//! block, merge, tags, companies, notes, subscriptions, company tags, visitor conversion.
//! Declarations only.

use serde_json::{Value, json};

use super::{Args, Param, ParamType, Procedure, ResultColumn, fields};

pub(super) fn procedures() -> Vec<Procedure> {
    vec![
        contact_flag(
            "ArchiveContact",
            "Archives a contact: it disappears from lists and searches until unarchived.",
            "archive",
            "archived",
        )
        .example("CALL ArchiveContact('6650d1c2e4b0a1f2c3d4e5f6')"),
        contact_flag(
            "UnarchiveContact",
            "Restores an archived contact.",
            "unarchive",
            "archived",
        )
        .example("CALL UnarchiveContact('6650d1c2e4b0a1f2c3d4e5f6')"),
        contact_flag(
            "BlockContact",
            "Blocks a contact (and archives their conversations). Intercom has no unblock.",
            "block",
            "blocked",
        )
        .example("CALL BlockContact('6650d1c2e4b0a1f2c3d4e5f6')"),
        merge(),
        attach_company(),
        detach_company(),
        tag_contact(),
        untag_contact(),
        create_note(),
        subscribe(),
        unsubscribe(),
        tag_company(),
        untag_company(),
        convert_visitor(),
    ]
}

fn contact_id() -> Param {
    Param::text("contact_id", "Intercom id of the contact.")
}

/// The archive/unarchive/block family: `POST /contacts/{id}/<action>`, no body, answered with
/// `{type, id, external_id, <flag>}`. Repeating one leaves the same state.
fn contact_flag(
    name: &'static str,
    description: &'static str,
    action: &'static str,
    flag: &'static str,
) -> Procedure {
    let path = match action {
        "archive" => "/contacts/{contact_id}/archive",
        "unarchive" => "/contacts/{contact_id}/unarchive",
        _ => "/contacts/{contact_id}/block",
    };
    Procedure::new(name, description, "POST", path)
        .param(contact_id())
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::text("external_id", "external_id"))
        .column(ResultColumn::typed(flag, ParamType::Bool, flag))
        .idempotent()
}

/// The tag the tag endpoints answer with, after the tagged object's id.
fn tag_columns(object: &'static str) -> Vec<ResultColumn> {
    vec![
        ResultColumn::arg(object, ParamType::Text, object),
        ResultColumn::text("tag_id", "id"),
        ResultColumn::text("tag_name", "name"),
    ]
}

/// The company the contact-company endpoints answer with.
fn company_columns() -> Vec<ResultColumn> {
    vec![
        ResultColumn::arg("contact_id", ParamType::Text, "contact_id"),
        ResultColumn::text("id", "id"),
        ResultColumn::text("company_id", "company_id"),
        ResultColumn::text("name", "name"),
    ]
}

/// The subscription type the subscription endpoints answer with.
fn subscription_columns() -> Vec<ResultColumn> {
    vec![
        ResultColumn::arg("contact_id", ParamType::Text, "contact_id"),
        ResultColumn::text("id", "id"),
        ResultColumn::text("consent_type", "consent_type"),
        ResultColumn::text("name", "default_translation.name"),
    ]
}

/// `{"id": <argument>}`, the body of the attach endpoints.
fn id_of(args: &Args, param: &str) -> Value {
    Value::Object(fields(args, &[("id", param)]))
}

fn merge() -> Procedure {
    Procedure::new(
        "MergeContacts",
        "Merges a lead into a user; the lead then no longer exists. Returns the user.",
        "POST",
        "/contacts/merge",
    )
    .param(Param::text(
        "lead_id",
        "Intercom id of the lead to merge (it disappears).",
    ))
    .param(Param::text(
        "user_id",
        "Intercom id of the user that remains.",
    ))
    .body(|a| {
        let keys = [("from", "lead_id"), ("into", "user_id")];
        Ok(Value::Object(fields(a, &keys)))
    })
    .column(ResultColumn::text("id", "id"))
    .column(ResultColumn::text("role", "role"))
    .column(ResultColumn::text("email", "email"))
    .column(ResultColumn::text("external_id", "external_id"))
    .example(concat!(
        "CALL MergeContacts(lead_id => '6650d1c2e4b0a1f2c3d4e5f6', ",
        "user_id => '6650d1c2e4b0a1f2c3d4e5f7')"
    ))
}

fn attach_company() -> Procedure {
    Procedure::new(
        "AttachContactToCompany",
        "Attaches a contact to a company.",
        "POST",
        "/contacts/{contact_id}/companies",
    )
    .param(contact_id())
    .param(Param::text(
        "company_id",
        "Intercom id of the company (not your company_id).",
    ))
    .body(|a| Ok(id_of(a, "company_id")))
    .idempotent()
    .columns(company_columns())
    .example(concat!(
        "CALL AttachContactToCompany('6650d1c2e4b0a1f2c3d4e5f6', ",
        "'5f0c0a1b2c3d4e5f60718293')"
    ))
}

fn detach_company() -> Procedure {
    Procedure::new(
        "DetachContactFromCompany",
        "Detaches a contact from a company.",
        "DELETE",
        "/contacts/{contact_id}/companies/{company_id}",
    )
    .param(contact_id())
    .param(Param::text("company_id", "Intercom id of the company."))
    .idempotent()
    .columns(company_columns())
    .example(concat!(
        "CALL DetachContactFromCompany('6650d1c2e4b0a1f2c3d4e5f6', ",
        "'5f0c0a1b2c3d4e5f60718293')"
    ))
}

fn tag_contact() -> Procedure {
    Procedure::new(
        "TagContact",
        "Applies a tag to a contact.",
        "POST",
        "/contacts/{contact_id}/tags",
    )
    .param(contact_id())
    .param(Param::text("tag_id", "Id of the tag (see the tags table)."))
    .body(|a| Ok(id_of(a, "tag_id")))
    .idempotent()
    .columns(tag_columns("contact_id"))
    .example("CALL TagContact('6650d1c2e4b0a1f2c3d4e5f6', '81')")
}

fn untag_contact() -> Procedure {
    Procedure::new(
        "UntagContact",
        "Removes a tag from a contact.",
        "DELETE",
        "/contacts/{contact_id}/tags/{tag_id}",
    )
    .param(contact_id())
    .param(Param::text("tag_id", "Id of the tag."))
    .idempotent()
    .columns(tag_columns("contact_id"))
    .example("CALL UntagContact('6650d1c2e4b0a1f2c3d4e5f6', '81')")
}

fn create_note() -> Procedure {
    Procedure::new(
        "CreateContactNote",
        "Adds a note to a contact (Intercom wraps the body in <p>…</p>).",
        "POST",
        "/contacts/{contact_id}/notes",
    )
    .param(contact_id())
    .param(Param::text("body", "Text of the note (HTML allowed)."))
    .param(
        Param::text(
            "admin_id",
            "Author of the note; Intercom uses the token's admin when NULL.",
        )
        .optional(),
    )
    .body(|a| {
        let keys = [("body", "body"), ("admin_id", "admin_id")];
        Ok(Value::Object(fields(a, &keys)))
    })
    .column(ResultColumn::text("id", "id"))
    .column(ResultColumn::arg(
        "contact_id",
        ParamType::Text,
        "contact_id",
    ))
    .column(ResultColumn::text("body", "body"))
    .column(ResultColumn::typed(
        "created_at",
        ParamType::Timestamp,
        "created_at",
    ))
    .example(concat!(
        "CALL CreateContactNote('6650d1c2e4b0a1f2c3d4e5f6', 'Called about renewal', ",
        "'991267460')"
    ))
}

fn subscribe() -> Procedure {
    Procedure::new(
        "SubscribeContact",
        "Records a contact's consent for a subscription type (opt in, or opt out).",
        "POST",
        "/contacts/{contact_id}/subscriptions",
    )
    .param(contact_id())
    .param(Param::text(
        "subscription_type_id",
        "Id of the subscription type.",
    ))
    .param(
        Param::text(
            "consent_type",
            "opt_in to subscribe, opt_out to record an opt-out.",
        )
        .default_value("opt_in")
        .one_of(&["opt_in", "opt_out"]),
    )
    .body(|a| {
        let keys = [
            ("id", "subscription_type_id"),
            ("consent_type", "consent_type"),
        ];
        Ok(Value::Object(fields(a, &keys)))
    })
    .idempotent()
    .columns(subscription_columns())
    .example("CALL SubscribeContact('6650d1c2e4b0a1f2c3d4e5f6', '37846')")
}

fn unsubscribe() -> Procedure {
    Procedure::new(
        "UnsubscribeContact",
        "Removes a contact's subscription to a subscription type.",
        "DELETE",
        "/contacts/{contact_id}/subscriptions/{subscription_type_id}",
    )
    .param(contact_id())
    .param(Param::text(
        "subscription_type_id",
        "Id of the subscription type.",
    ))
    .idempotent()
    .columns(subscription_columns())
    .example("CALL UnsubscribeContact('6650d1c2e4b0a1f2c3d4e5f6', '37846')")
}

/// `POST /tags` with `companies` (intercom-api.md §5.3): tags by name, creating the tag if
/// needed; `untag: true` removes it.
fn company_tag(name: &'static str, description: &'static str, untag: bool) -> Procedure {
    let procedure = Procedure::new(name, description, "POST", "/tags")
        .param(Param::text("company_id", "Intercom id of the company."))
        .param(Param::text("tag_name", "Name of the tag."))
        .idempotent()
        .columns(tag_columns("company_id"));
    if untag {
        procedure.body(|a| {
            Ok(json!({
                "name": a.get("tag_name"),
                "companies": [{"id": a.get("company_id"), "untag": true}]
            }))
        })
    } else {
        procedure.body(|a| {
            Ok(json!({"name": a.get("tag_name"), "companies": [{"id": a.get("company_id")}]}))
        })
    }
}

fn tag_company() -> Procedure {
    company_tag(
        "TagCompany",
        "Applies a tag, by name, to a company; Intercom creates the tag if it does not exist.",
        false,
    )
    .example("CALL TagCompany('5f0c0a1b2c3d4e5f60718293', 'VIP')")
}

fn untag_company() -> Procedure {
    company_tag(
        "UntagCompany",
        "Removes a tag, by name, from a company.",
        true,
    )
    .example("CALL UntagCompany('5f0c0a1b2c3d4e5f60718293', 'VIP')")
}

fn convert_visitor() -> Procedure {
    Procedure::new(
        "ConvertVisitor",
        "Converts a Messenger visitor into a contact (a lead or a user), or merges it into the \
         existing contact with that id, user_id or email.",
        "POST",
        "/visitors/convert",
    )
    .param(Param::text("visitor_id", "Intercom id of the visitor."))
    .param(
        Param::text("type", "Role of the resulting contact: lead or user.")
            .default_value("lead")
            .one_of(&["lead", "user"]),
    )
    .param(
        Param::text(
            "contact_id",
            "Intercom id of an existing contact to merge the visitor into.",
        )
        .optional(),
    )
    .param(
        Param::text(
            "user_id",
            "Your external id of the contact (an existing one is merged into).",
        )
        .optional(),
    )
    .param(
        Param::text(
            "email",
            "Email of the contact (an existing one is merged into).",
        )
        .optional(),
    )
    .check(|a| {
        if !a.has("contact_id") && !a.has("user_id") && !a.has("email") {
            return Err("say who the visitor becomes: give contact_id, user_id or email".into());
        }
        Ok(())
    })
    .body(|a| {
        let keys = [
            ("id", "contact_id"),
            ("user_id", "user_id"),
            ("email", "email"),
        ];
        let user = Value::Object(fields(a, &keys));
        Ok(json!({"type": a.get("type"), "visitor": {"id": a.get("visitor_id")}, "user": user}))
    })
    .column(ResultColumn::text("id", "id"))
    .column(ResultColumn::text("role", "role"))
    .column(ResultColumn::text("email", "email"))
    .example("CALL ConvertVisitor('6650d1c2e4b0a1f2c3d4e5aa', 'lead', email => 'ann@example.com')")
}
