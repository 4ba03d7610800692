//! `subscription_types` (the kinds of email and SMS a contact can opt in to or out of) and
//! `contact_subscriptions` (each contact's explicit choices), with INSERT and DELETE on the
//! latter and the `SubscribeContact` / `UnsubscribeContact` actions, which send the same
//! requests (official spec: `listSubscriptionTypes` `GET /subscription_types`,
//! `getContactSubscriptions`-style `GET /contacts/{contact_id}/subscriptions`,
//! `attachSubscriptionTypeToContact` `POST /contacts/{contact_id}/subscriptions`,
//! `detachSubscriptionTypeToContact` `DELETE /contacts/{contact_id}/subscriptions/{id}`).

use serde_json::{Map, Value};

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef};

/// Subscribes a contact (body `{id, consent_type}`); shared by INSERT and `SubscribeContact`.
const ATTACH: &str = "/contacts/{contact_id}/subscriptions";
/// Removes a contact's subscription; shared by DELETE and `UnsubscribeContact`.
const DETACH: &str = "/contacts/{contact_id}/subscriptions/{subscription_type_id}";

/// The columns of a subscription type, after `id_name` (its id).
fn type_columns(id_name: &str) -> Vec<C> {
    vec![
        C::text(id_name, "Id of the subscription type.").at("id"),
        C::text(
            "name",
            "Name of the subscription type (default translation).",
        )
        .at("default_translation.name"),
        C::text(
            "description",
            "What the subscription is about (default translation).",
        )
        .at("default_translation.description"),
        C::text("locale", "Locale of the default translation.").at("default_translation.locale"),
        C::text("state", "live, draft or archived."),
        C::text(
            "consent_type",
            "opt_in (contacts must opt in) or opt_out (subscribed unless they opt out).",
        ),
        C::json("content_types", "What it covers: email, sms_message."),
    ]
}

/// `subscription_types`: every subscription type of the workspace.
pub(super) fn subscription_types() -> TableDef {
    let mut columns = type_columns("id");
    columns.push(C::json(
        "translations",
        "Every translation (locale, name, description).",
    ));
    TableDef::new(
        "subscription_types",
        "Kinds of email and SMS contacts can opt in to or out of.",
        Source::List(Listing::new(
            "/subscription_types",
            PageStyle::Single,
            "data",
        )),
    )
    .columns(columns)
}

/// `contact_subscriptions`: the subscription types each contact made an explicit choice on.
pub(super) fn contact_subscriptions() -> TableDef {
    let mut columns = vec![C::parent_key("contact_id", "Id of the contact.")];
    columns.extend(type_columns("subscription_type_id"));
    TableDef::new(
        "contact_subscriptions",
        "Subscription types each contact opted in to or out of (one row per contact and type).",
        Source::Children {
            parent_table: "contacts".into(),
            key_column: "contact_id".into(),
            listing: Listing::new("/contacts/{id}/subscriptions", PageStyle::Single, "data"),
        },
    )
    .columns(columns)
    .writes(contact_subscriptions_writes())
    .actions(actions::procedures())
}

/// INSERT subscribes (opt in unless `consent_type` says otherwise); DELETE unsubscribes.
fn contact_subscriptions_writes() -> TableWrites {
    TableWrites {
        table: "contact_subscriptions",
        insert: Some(
            Write::new("POST", ATTACH)
                .keys(&[("subscription_type_id", "id")])
                .fields(&[("consent_type", "consent_type")])
                .required(&["contact_id", "subscription_type_id"])
                .finish(opt_in_by_default)
                .idempotent(),
        ),
        update: None,
        delete: Some(Write::new("DELETE", DETACH).idempotent()),
        key: &["contact_id", "subscription_type_id"],
    }
}

/// Intercom requires `consent_type`; an INSERT that does not give it opts in.
fn opt_in_by_default(body: &mut Map<String, Value>) -> Result<(), String> {
    match body.get("consent_type") {
        None | Some(Value::Null) => {
            body.insert("consent_type".into(), Value::String("opt_in".into()));
            Ok(())
        }
        Some(Value::String(s)) if s == "opt_in" || s == "opt_out" => Ok(()),
        Some(other) => Err(format!(
            "consent_type must be opt_in or opt_out, not {other}"
        )),
    }
}

/// Actions on subscriptions, as procedures.
mod actions {
    use serde_json::Value;

    use super::{ATTACH, DETACH};
    use crate::tables::action::{ColumnType, Param, Procedure, ResultColumn, fields};

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![subscribe(), unsubscribe()]
    }

    /// The subscription type the subscription endpoints answer with.
    fn subscription_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::arg("contact_id", ColumnType::Text, "contact_id"),
            ResultColumn::text("id", "id"),
            ResultColumn::text("consent_type", "consent_type"),
            ResultColumn::text("name", "default_translation.name"),
        ]
    }

    fn subscribe() -> Procedure {
        Procedure::new(
            "SubscribeContact",
            "Records a contact's consent for a subscription type (opt in, or opt out).",
            "POST",
            ATTACH,
        )
        .param(Param::contact_id())
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
            DETACH,
        )
        .param(Param::contact_id())
        .param(Param::text(
            "subscription_type_id",
            "Id of the subscription type.",
        ))
        .idempotent()
        .columns(subscription_columns())
        .example("CALL UnsubscribeContact('6650d1c2e4b0a1f2c3d4e5f6', '37846')")
    }
}
