//! Helpers shared by the write routes: the clock, lookups of the objects a body refers to,
//! custom attribute values (docs/intercom-notes.md, "Custom attributes"), tagging, and creating
//! contacts (which several writes do as a side effect, e.g. an unknown email in `POST /tickets`).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::body::as_int;
use crate::emulator::ApiError;
use crate::emulator::store::{
    AttrValue, Contact, ContactState, Custom, Store, Tagging, next_hex_id, set_custom,
};

/// Now, in Unix seconds: `created_at`/`updated_at` of what writes create or change.
pub(super) fn now() -> i64 {
    crate::emulator::now_secs() as i64
}

/// Plain text as Intercom stores it: wrapped in `<p>…</p>` unless it already is HTML
/// (docs/intercom-notes.md, "Writes").
pub(super) fn html(body: &str) -> String {
    if body.trim_start().starts_with('<') {
        body.to_string()
    } else {
        format!("<p>{body}</p>")
    }
}

/// The admin a body names (`admin_id`, string or number).
pub(super) fn admin(store: &Store, id: &str) -> Option<u32> {
    store.admin_index(id).map(|i| i as u32)
}

/// `404 admin_not_found` "Admin not found".
pub(super) fn admin_not_found() -> ApiError {
    ApiError::not_found("admin_not_found", "Admin not found")
}

/// `404 not_found` "User Not Found" (docs/intercom-notes.md, "Writes").
pub(super) fn user_not_found() -> ApiError {
    ApiError::not_found("not_found", "User Not Found")
}

/// `404 not_found` "Resource Not Found".
pub(super) fn resource_not_found() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}

/// A live contact by one of the identifiers replies and participants use:
/// `intercom_user_id` (Intercom id), `user_id` (external id) or `email`.
pub(super) fn contact_by(store: &Store, key: &str, value: &str) -> Option<u32> {
    let i = match key {
        "intercom_user_id" | "id" => store.contact_index(value),
        "user_id" | "external_id" => store
            .contact_by_external_id
            .get(value)
            .map(|i| *i as usize)
            .filter(|&i| store.contacts[i].is_live()),
        "email" => store.contact_by_email(value),
        _ => None,
    };
    i.map(|i| i as u32)
}

/// Coerces a written custom attribute value to the attribute's `data_type`; `null` clears.
/// Numbers and booleans may arrive as strings (the company request schema types every value
/// as a string), dates as Unix seconds or RFC 3339 text.
pub(super) fn attr_value(
    name: &str,
    data_type: &str,
    value: &Value,
) -> Result<Option<AttrValue>, ApiError> {
    let bad = || {
        ApiError::invalid(format!(
            "Custom attribute '{name}' must be of type {data_type}"
        ))
    };
    if value.is_null() {
        return Ok(None);
    }
    let v = match data_type {
        "integer" => AttrValue::Int(as_int(value).ok_or_else(bad)?),
        "float" => AttrValue::Float(match value {
            Value::Number(n) => n.as_f64().ok_or_else(bad)?,
            Value::String(s) => s.trim().parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        }),
        "boolean" => AttrValue::Bool(match value {
            Value::Bool(body_fields) => *body_fields,
            Value::String(s) if s == "true" => true,
            Value::String(s) if s == "false" => false,
            _ => return Err(bad()),
        }),
        "date" | "datetime" => AttrValue::Int(match as_int(value) {
            Some(t) => t,
            None => value
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.timestamp())
                .ok_or_else(bad)?,
        }),
        _ => match value {
            Value::String(s) => AttrValue::Str(Cow::Owned(s.clone())),
            _ => return Err(bad()),
        },
    };
    Ok(Some(v))
}

/// Validates a `custom_attributes` object against a model's (non-archived) custom attributes:
/// `(attribute index, new value or None to clear)` per key. Nothing is changed here.
pub(super) fn custom_changes(
    s: &Store,
    model: &str,
    values: &Map<String, Value>,
    unknown: impl Fn(&str) -> ApiError,
) -> Result<Vec<(u32, Option<AttrValue>)>, ApiError> {
    values
        .iter()
        .map(|(name, value)| {
            let i = s
                .custom_attribute(model, name)
                .filter(|&i| !s.data_attributes[i].archived)
                .ok_or_else(|| unknown(name))?;
            let a = &s.data_attributes[i];
            // List attributes only take one of their options.
            if let (Some(options), Some(text)) = (&a.options, value.as_str())
                && !options.iter().any(|o| o == text)
            {
                return Err(ApiError::invalid(format!(
                    "'{text}' is not an option of custom attribute '{name}'"
                )));
            }
            Ok((i as u32, attr_value(name, a.data_type, value)?))
        })
        .collect()
}

/// Applies validated [`custom_changes`].
pub(super) fn apply_custom(custom: &mut Custom, changes: Vec<(u32, Option<AttrValue>)>) {
    for (attr, value) in changes {
        set_custom(custom, attr, value);
    }
}

/// Unknown contact/company custom attribute (docs/intercom-notes.md, "Custom attributes": 400,
/// exact code unconfirmed).
pub(super) fn unknown_attribute(name: &str) -> ApiError {
    ApiError::invalid(format!("Custom attribute '{name}' does not exist"))
}

/// Applies a tag (kept sorted by tag; an existing tagging is returned unchanged).
pub(super) fn add_tag(tags: &mut Vec<Tagging>, tag: u32, admin: u32, at: i64) -> Tagging {
    match tags.binary_search_by_key(&tag, |t| t.tag) {
        Ok(i) => tags[i],
        Err(i) => {
            let t = Tagging {
                tag,
                applied_at: at,
                admin,
            };
            tags.insert(i, t);
            t
        }
    }
}

/// Removes a tag; the removed tagging, if it was applied.
pub(super) fn remove_tag(tags: &mut Vec<Tagging>, tag: u32) -> Option<Tagging> {
    let i = tags.iter().position(|t| t.tag == tag)?;
    Some(tags.remove(i))
}

/// Inserts into a sorted index list (no duplicates).
pub(super) fn insert_sorted(list: &mut Vec<u32>, value: u32) {
    if let Err(i) = list.binary_search(&value) {
        list.insert(i, value);
    }
}

/// Removes from an index list; true when it was there.
pub(super) fn remove_value(list: &mut Vec<u32>, value: u32) -> bool {
    let before = list.len();
    list.retain(|&v| v != value);
    list.len() != before
}

/// What a new contact starts with.
pub(super) struct NewContact {
    pub(super) role: &'static str,
    pub(super) email: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) name: Option<String>,
}

/// Appends a contact with a fresh id (sorted after every existing one) and updates the
/// indexes; its index.
pub(super) fn create_contact(store: &mut Store, new: NewContact, at: i64) -> u32 {
    let id = next_hex_id(
        store.contacts.last().map(|c| c.id.as_str()),
        at,
        store.generation.wrapping_mul(0x9E37_79B9) ^ store.contacts.len() as u64,
    );
    let index = store.contacts.len() as u32;
    if let Some(ext) = &new.external_id {
        store.contact_by_external_id.insert(ext.clone(), index);
    }
    store.contacts.push(Contact {
        id,
        external_id: new.external_id,
        role: new.role,
        email: new.email,
        phone: None,
        name: new.name,
        avatar: None,
        owner_id: None,
        has_hard_bounced: false,
        marked_email_as_spam: false,
        unsubscribed_from_emails: false,
        created_at: at,
        updated_at: at,
        signed_up_at: None,
        last_seen_at: None,
        last_replied_at: None,
        last_contacted_at: None,
        last_email_opened_at: None,
        last_email_clicked_at: None,
        language_override: None,
        browser: None,
        browser_version: None,
        browser_language: None,
        os: None,
        location: None,
        custom: Vec::new(),
        tags: Vec::new(),
        companies: Vec::new(),
        segments: Vec::new(),
        notes: Vec::new(),
        subscriptions: Vec::new(),
        state: ContactState::Active,
        blocked: false,
    });
    store.live_contacts += 1;
    index
}
