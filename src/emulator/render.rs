//! Wire format of every object, as borrowed `Serialize` views over the store, plus the search
//! schemas and [`Searchable`] accessors of contacts, conversations and tickets.
//!
//! Views borrow from the store and serialize straight to the response buffer, so a page of 150
//! contacts costs no intermediate `serde_json::Value`. Field names, nesting and `type`
//! discriminators follow the 2.15 OpenAPI schemas (`contact`, `company`, `conversation`, …).

use std::borrow::Cow;

use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::search::{FieldType, FieldValue, SearchSchema, Searchable, Strictness};
use super::store::*;

/// JSON `null` for fields the emulator never fills.
type Null = Option<()>;

#[derive(Serialize)]
struct Ref<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Cow<'a, str>,
    url: String,
}

#[derive(Serialize)]
struct Embedded<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    data: Vec<Ref<'a>>,
    url: String,
    total_count: usize,
    has_more: bool,
}

/// A capped reference list: at most 10 items plus `has_more` (docs/intercom-notes.md,
/// "Capped lists inside objects").
fn embedded<'a>(
    contact_id: &str,
    sub: &str,
    kind: &'static str,
    ids: impl ExactSizeIterator<Item = Cow<'a, str>>,
    url_base: &str,
) -> Embedded<'a> {
    let total = ids.len();
    Embedded {
        kind: "list",
        data: ids
            .take(10)
            .map(|id| Ref {
                url: format!("/{url_base}/{id}"),
                kind,
                id,
            })
            .collect(),
        url: format!("/contacts/{contact_id}/{sub}"),
        total_count: total,
        has_more: total > 10,
    }
}

#[derive(Serialize)]
struct Location<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    country: Option<&'a str>,
    region: Option<&'a str>,
    city: Option<&'a str>,
    country_code: Option<&'a str>,
    continent_code: Option<&'a str>,
}

/// Custom attribute values as a JSON object keyed by attribute name (docs/intercom-notes.md,
/// "Custom attributes").
struct CustomView<'a> {
    store: &'a Store,
    values: &'a [(u32, AttrValue)],
}

impl Serialize for CustomView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (attr, value) in self.values {
            if let Some(a) = self.store.data_attributes.get(*attr as usize) {
                map.serialize_entry(&a.name, value)?;
            }
        }
        map.end()
    }
}

/// [`CustomView`] as a `serde_json` object.
fn custom_map(store: &Store, values: &[(u32, AttrValue)]) -> Map<String, Value> {
    values
        .iter()
        .filter_map(|(attr, value)| {
            let a = store.data_attributes.get(*attr as usize)?;
            Some((a.name.clone(), serde_json::to_value(value).ok()?))
        })
        .collect()
}

/// `contact.avatar`: `{type: "avatar", image_url}` once set (null otherwise, as in the seed).
#[derive(Serialize)]
struct Avatar<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    image_url: &'a str,
}

#[derive(Serialize)]
struct SocialProfiles {
    #[serde(rename = "type")]
    kind: &'static str,
    data: [(); 0],
}

/// A contact as `GET /contacts/{id}` renders it.
#[derive(Serialize)]
pub struct ContactView<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    workspace_id: &'a str,
    external_id: Option<&'a str>,
    role: &'a str,
    // Not nullable in the spec (`contact.email`): omitted for leads without an email.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_domain: Option<&'a str>,
    phone: Option<&'a str>,
    name: Option<&'a str>,
    avatar: Option<Avatar<'a>>,
    owner_id: Option<u64>,
    social_profiles: SocialProfiles,
    has_hard_bounced: bool,
    marked_email_as_spam: bool,
    unsubscribed_from_emails: bool,
    created_at: i64,
    updated_at: i64,
    signed_up_at: Option<i64>,
    last_seen_at: Option<i64>,
    last_replied_at: Option<i64>,
    last_contacted_at: Option<i64>,
    last_email_opened_at: Option<i64>,
    last_email_clicked_at: Option<i64>,
    language_override: Option<&'a str>,
    browser: Option<&'a str>,
    browser_version: Option<&'a str>,
    browser_language: Option<&'a str>,
    os: Option<&'a str>,
    location: Location<'a>,
    android_app_name: Null,
    android_app_version: Null,
    android_device: Null,
    android_os_version: Null,
    android_sdk_version: Null,
    android_last_seen_at: Null,
    ios_app_name: Null,
    ios_app_version: Null,
    ios_device: Null,
    ios_os_version: Null,
    ios_sdk_version: Null,
    ios_last_seen_at: Null,
    custom_attributes: CustomView<'a>,
    tags: Embedded<'a>,
    notes: Embedded<'a>,
    companies: Embedded<'a>,
    opted_out_subscription_types: Embedded<'a>,
    opted_in_subscription_types: Embedded<'a>,
    utm_campaign: Null,
    utm_content: Null,
    utm_medium: Null,
    utm_source: Null,
    utm_term: Null,
    referrer: Null,
    enabled_push_messaging: Null,
}

/// Renders contact `index`.
pub fn contact(store: &Store, index: usize) -> ContactView<'_> {
    let c = &store.contacts[index];
    let place = c.location;
    ContactView {
        kind: "contact",
        id: &c.id,
        workspace_id: &store.workspace_id,
        external_id: c.external_id.as_deref(),
        role: c.role,
        email: c.email.as_deref(),
        email_domain: c.email_domain(),
        phone: c.phone.as_deref(),
        name: c.name.as_deref(),
        avatar: c.avatar.as_deref().map(|url| Avatar {
            kind: "avatar",
            image_url: url,
        }),
        owner_id: c.owner_id,
        social_profiles: SocialProfiles {
            kind: "list",
            data: [],
        },
        has_hard_bounced: c.has_hard_bounced,
        marked_email_as_spam: c.marked_email_as_spam,
        unsubscribed_from_emails: c.unsubscribed_from_emails,
        created_at: c.created_at,
        updated_at: c.updated_at,
        signed_up_at: c.signed_up_at,
        last_seen_at: c.last_seen_at,
        last_replied_at: c.last_replied_at,
        last_contacted_at: c.last_contacted_at,
        last_email_opened_at: c.last_email_opened_at,
        last_email_clicked_at: c.last_email_clicked_at,
        language_override: c.language_override,
        browser: c.browser,
        browser_version: c.browser_version,
        browser_language: c.browser_language,
        os: c.os,
        location: Location {
            kind: "location",
            country: place.map(|p| p.country),
            region: place.map(|p| p.region),
            city: place.map(|p| p.city),
            country_code: place.map(|p| p.country_code),
            continent_code: place.map(|p| p.continent_code),
        },
        android_app_name: None,
        android_app_version: None,
        android_device: None,
        android_os_version: None,
        android_sdk_version: None,
        android_last_seen_at: None,
        ios_app_name: None,
        ios_app_version: None,
        ios_device: None,
        ios_os_version: None,
        ios_sdk_version: None,
        ios_last_seen_at: None,
        custom_attributes: CustomView {
            store,
            values: &c.custom,
        },
        tags: embedded(
            &c.id,
            "tags",
            "tag",
            c.tags
                .iter()
                .map(|t| Cow::Owned(store.tags[t.tag as usize].id.to_string())),
            "tags",
        ),
        notes: embedded(
            &c.id,
            "notes",
            "note",
            c.notes
                .iter()
                .map(|n| Cow::Owned(store.notes[*n as usize].id.to_string())),
            "notes",
        ),
        companies: embedded(
            &c.id,
            "companies",
            "company",
            c.companies
                .iter()
                .map(|n| Cow::Borrowed(store.companies[*n as usize].id.as_str())),
            "companies",
        ),
        opted_out_subscription_types: embedded(
            &c.id,
            "subscriptions",
            "subscription",
            subscription_ids(store, c, "opt_out").into_iter(),
            "subscriptions",
        ),
        opted_in_subscription_types: embedded(
            &c.id,
            "subscriptions",
            "subscription",
            subscription_ids(store, c, "opt_in").into_iter(),
            "subscriptions",
        ),
        utm_campaign: None,
        utm_content: None,
        utm_medium: None,
        utm_source: None,
        utm_term: None,
        referrer: None,
        enabled_push_messaging: None,
    }
}

/// Ids of the subscription types a contact chose `consent` for.
fn subscription_ids<'a>(store: &Store, c: &Contact, consent: &str) -> Vec<Cow<'a, str>> {
    c.subscriptions
        .iter()
        .filter(|(_, choice)| *choice == consent)
        .filter_map(|(t, _)| store.subscription_types.get(*t as usize))
        .map(|t| Cow::Owned(t.id.to_string()))
        .collect()
}

/// A tag, optionally with `applied_at`/`applied_by` (when embedded or listed per contact).
pub fn tag(store: &Store, index: usize, tagging: Option<&Tagging>) -> Value {
    let t = &store.tags[index];
    let mut v = json!({"type": "tag", "id": t.id.to_string(), "name": t.name});
    if let (Some(tagging), Some(obj)) = (tagging, v.as_object_mut()) {
        obj.insert("applied_at".into(), json!(tagging.applied_at));
        obj.insert(
            "applied_by".into(),
            json!({"type": "admin", "id": store.admins[tagging.admin as usize].id.to_string()}),
        );
    }
    v
}

/// A subscription type (`type` is `subscription`, official spec: `GET /subscription_types`).
pub fn subscription_type(t: &SubscriptionType) -> Value {
    let translation = json!({"name": t.name, "description": t.description, "locale": "en"});
    json!({
        "type": "subscription", "id": t.id.to_string(), "state": t.state,
        "consent_type": t.consent_type, "default_translation": translation,
        "translations": [translation], "content_types": t.content_types,
    })
}

/// A visitor as `GET /visitors?user_id=` renders it (the example's `last_request_at`, not the
/// schema's misspelt `las_request_at`, docs/intercom-notes.md, "Where the schema and the examples
/// disagree").
pub fn visitor(store: &Store, index: usize) -> Value {
    let v = &store.visitors[index];
    json!({
        "type": "visitor", "id": v.id, "user_id": v.user_id, "anonymous": v.email.is_none(),
        "email": v.email.as_deref().unwrap_or(""), "phone": Value::Null, "name": v.name,
        "pseudonym": Value::Null, "avatar": {"type": "avatar", "image_url": Value::Null},
        "app_id": store.workspace_id,
        "companies": {"type": "company.list", "companies": []},
        "location_data": {}, "last_request_at": v.updated_at, "created_at": v.created_at,
        "remote_created_at": v.created_at, "signed_up_at": v.created_at,
        "updated_at": v.updated_at, "session_count": v.session_count,
        "social_profiles": {"type": "social_profile.list", "social_profiles": []},
        "owner_id": Value::Null, "unsubscribed_from_emails": false, "marked_email_as_spam": false,
        "has_hard_bounced": false, "tags": {"type": "tag.list", "tags": []},
        "segments": {"type": "segment.list", "segments": []},
        "custom_attributes": v.custom_attributes,
        "referrer": Value::Null, "utm_campaign": Value::Null, "utm_content": Value::Null,
        "utm_medium": Value::Null, "utm_source": Value::Null, "utm_term": Value::Null,
        "do_not_track": Value::Null,
    })
}

/// A data event (`data_event`).
pub fn data_event(store: &Store, e: &DataEvent) -> Value {
    let c = &store.contacts[e.contact as usize];
    json!({
        "type": "event", "id": format!("{:024x}", 0xe7e0_0000_0000u64 + e.seq),
        "event_name": e.event_name, "created_at": e.created_at,
        "user_id": c.external_id, "intercom_user_id": c.id, "email": c.email,
        "metadata": e.metadata,
    })
}

/// Unix seconds as ISO 8601 (`2026-01-01T00:00:00Z`), as a few fields are sent.
pub fn iso(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// An away status reason.
pub fn away_status_reason(r: &AwayStatusReason) -> Value {
    json!({
        "type": "away_status_reason", "id": r.id.to_string(), "label": r.label,
        "emoji": r.emoji, "order": r.order, "deleted": r.deleted,
        "created_at": r.created_at, "updated_at": r.updated_at,
    })
}

/// An activity log entry.
pub fn activity_log(store: &Store, log: &ActivityLog) -> Value {
    let a = &store.admins[log.admin as usize];
    json!({
        "id": log.id, "created_at": log.created_at, "activity_type": log.activity_type,
        "activity_description": log.description, "metadata": log.metadata,
        "performed_by": {"type": "admin", "id": a.id.to_string(), "email": a.email, "ip": "198.51.100.7"},
    })
}

/// A handling event: the teammate, `paused`/`resumed`, and its time as ISO 8601.
pub fn handling_event(store: &Store, e: &HandlingEvent) -> Value {
    let a = &store.admins[e.admin as usize];
    json!({
        "teammate": {"type": "admin", "id": a.id, "name": a.name, "email": a.email},
        "type": e.kind, "timestamp": iso(e.at), "reason": e.reason,
    })
}

/// A segment.
pub fn segment(store: &Store, index: usize, count: Option<usize>) -> Value {
    let s = &store.segments[index];
    let mut v = json!({
        "type": "segment", "id": s.id, "name": s.name, "created_at": s.created_at,
        "updated_at": s.updated_at, "person_type": s.person_type,
    });
    if let (Some(count), Some(obj)) = (count, v.as_object_mut()) {
        obj.insert("count".into(), json!(count));
    }
    v
}

/// A company as `GET /companies/{id}` renders it.
pub fn company(store: &Store, index: usize) -> Value {
    let c = &store.companies[index];
    let custom = custom_map(store, &c.custom);
    let plan = match &c.plan {
        Some((id, name)) => json!({"type": "plan", "id": id, "name": name}),
        None => json!({}),
    };
    json!({
        "type": "company",
        "company_id": c.company_id,
        "id": c.id,
        "app_id": store.workspace_id,
        "name": c.name,
        "remote_created_at": c.remote_created_at,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "last_request_at": c.last_request_at,
        "size": c.size,
        "website": c.website,
        "industry": c.industry,
        "monthly_spend": c.monthly_spend,
        "session_count": c.session_count,
        "user_count": c.contacts.iter().filter(|&&i| store.contacts[i as usize].is_live()).count(),
        "tags": {"type": "tag.list", "tags": c.tags.iter()
            .map(|t| tag(store, t.tag as usize, None)).collect::<Vec<_>>()},
        "segments": {"type": "segment.list", "segments": c.segments.iter()
            .map(|s| segment(store, *s as usize, None)).collect::<Vec<_>>()},
        "plan": plan,
        "custom_attributes": custom,
    })
}

/// An admin; `with_avatar` renders the `{type: avatar}` object (`/me`, `display_avatar`).
pub fn admin(store: &Store, index: usize, with_avatar: bool) -> Value {
    let a = &store.admins[index];
    let avatar = if with_avatar {
        json!({"type": "avatar", "image_url": format!("https://static.intercomassets.com/avatars/{}/square_128/avatar.png", a.id)})
    } else {
        Value::Null
    };
    json!({
        "type": "admin",
        "id": a.id.to_string(),
        "name": a.name,
        "email": a.email,
        "job_title": a.job_title,
        "away_mode_enabled": a.away_mode_enabled,
        "away_mode_reassign": a.away_mode_reassign,
        "away_status_reason_id": a.away_status_reason_id,
        "has_inbox_seat": a.has_inbox_seat,
        "team_ids": a.team_ids,
        "avatar": avatar,
        "team_priority_level": {"primary_team_ids": a.team_ids, "secondary_team_ids": Value::Null},
    })
}

/// `GET /me`: admin #1 plus `app`.
pub fn me(store: &Store) -> Value {
    let mut v = admin(store, 0, true);
    if let (Some(app), Some(obj)) = (&store.app, v.as_object_mut()) {
        obj.insert("email_verified".into(), json!(true));
        obj.insert(
            "app".into(),
            json!({
                "type": "app", "id_code": app.id_code, "name": app.name, "region": app.region,
                "timezone": app.timezone, "created_at": app.created_at, "secure": false,
                "identity_verification": false,
            }),
        );
    }
    v
}

/// A team.
pub fn team(store: &Store, index: usize) -> Value {
    let t = &store.teams[index];
    json!({
        "type": "team", "id": t.id.to_string(), "name": t.name, "admin_ids": t.admin_ids,
        "admin_priority_level": {"primary_admin_ids": t.admin_ids, "secondary_admin_ids": Value::Null},
        "assignment_limit": t.assignment_limit, "distribution_method": t.distribution_method,
    })
}

/// A note.
pub fn note(store: &Store, index: usize) -> Value {
    let n = &store.notes[index];
    let a = &store.admins[n.author as usize];
    let author = json!({
        "type": "admin", "id": a.id.to_string(), "name": a.name, "email": a.email,
        "away_mode_enabled": a.away_mode_enabled, "away_mode_reassign": a.away_mode_reassign,
    });
    let mut v = json!({"type": "note", "id": n.id.to_string(), "created_at": n.created_at});
    if let Some(obj) = v.as_object_mut() {
        if let Some(c) = n.contact {
            obj.insert(
                "contact".into(),
                json!({"type": "contact", "id": store.contacts[c as usize].id}),
            );
        }
        if let Some(c) = n.company {
            obj.insert(
                "company".into(),
                json!({"type": "company", "id": store.companies[c as usize].id}),
            );
        }
        obj.insert("author".into(), author);
        obj.insert("body".into(), json!(n.body));
    }
    v
}

/// A data attribute.
pub fn data_attribute(attr: &DataAttribute) -> Value {
    let mut v = json!({
        "type": "data_attribute", "name": attr.name, "full_name": attr.full_name,
        "label": attr.label, "description": attr.description, "data_type": attr.data_type,
        "api_writable": attr.api_writable, "ui_writable": attr.ui_writable,
        "messenger_writable": attr.messenger_writable, "custom": attr.custom,
        "archived": attr.archived, "model": attr.model,
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(id) = attr.id {
            obj.insert("id".into(), json!(id));
        }
        if let Some(options) = &attr.options {
            obj.insert("options".into(), json!(options));
        }
        if let Some(created) = attr.created_at {
            obj.insert("created_at".into(), json!(created));
        }
        if let Some(updated) = attr.updated_at {
            obj.insert("updated_at".into(), json!(updated));
        }
        if let Some(admin) = &attr.admin_id {
            obj.insert("admin_id".into(), json!(admin));
        }
    }
    v
}

fn author(store: &Store, author: Author) -> Value {
    match author {
        Author::Admin(a) => {
            let a = &store.admins[a as usize];
            json!({"type": "admin", "id": a.id.to_string(), "name": a.name, "email": a.email,
                   "from_ai_agent": false, "is_ai_answer": false})
        }
        Author::Contact(c) => {
            let c = &store.contacts[c as usize];
            json!({"type": c.role, "id": c.id, "name": c.name, "email": c.email.as_deref().unwrap_or(""),
                   "from_ai_agent": false, "is_ai_answer": false})
        }
        Author::Team(t) => {
            let t = &store.teams[t as usize];
            json!({"type": "team", "id": t.id.to_string(), "name": t.name, "email": "",
                   "from_ai_agent": false, "is_ai_answer": false})
        }
        Author::Bot => {
            json!({"type": "bot", "id": "278", "name": "Fin", "email": "operator@emulated-workspace.example",
                   "from_ai_agent": true, "is_ai_answer": false})
        }
    }
}

/// Drops the `null` members of an object except the `nullable` ones: Intercom omits unset
/// values of properties the spec does not mark nullable (the client reads missing as null).
fn without_nulls(mut v: Value, nullable: &[&str]) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.retain(|key, value| !value.is_null() || nullable.contains(&key.as_str()));
    }
    v
}

fn reference(store: &Store, who: Author) -> Value {
    match who {
        Author::Admin(a) => json!({"type": "admin", "id": store.admins[a as usize].id.to_string()}),
        Author::Contact(c) => json!({"type": "contact", "id": store.contacts[c as usize].id}),
        Author::Team(t) => json!({"type": "team", "id": store.teams[t as usize].id.to_string()}),
        Author::Bot => json!({"type": "bot", "id": "278"}),
    }
}

fn contact_ref(store: &Store, c: u32) -> Value {
    let c = &store.contacts[c as usize];
    json!({"type": "contact", "id": c.id, "external_id": c.external_id})
}

/// A conversation; `with_parts` adds `conversation_parts` (only `GET /conversations/{id}`).
pub fn conversation(store: &Store, index: usize, with_parts: bool) -> Value {
    let c = &store.conversations[index];
    let s = &c.statistics;
    let custom = custom_map(store, &c.custom);
    let first_contact_reply = s
        .first_contact_reply_at
        .map(|t| json!({"created_at": t, "type": c.source_type, "url": Value::Null}));
    let rating = c.rating.as_ref().map(|r| {
        json!({
            "rating": r.rating, "remark": r.remark, "created_at": r.created_at,
            "updated_at": r.created_at, "contact": contact_ref(store, r.contact),
            "teammate": {"type": "admin", "id": store.admins[r.teammate as usize].id.to_string()},
        })
    });
    // Only `adjusted_handling_time` is nullable in `conversation_statistics`; unset times
    // (never assigned, replied to or closed) are left out.
    let statistics = without_nulls(
        json!({
            "type": "conversation_statistics",
            "time_to_assignment": s.time_to_assignment,
            "time_to_admin_reply": s.time_to_admin_reply,
            "time_to_first_close": s.time_to_first_close,
            "time_to_last_close": s.time_to_last_close,
            "median_time_to_reply": s.median_time_to_reply,
            "first_contact_reply_at": s.first_contact_reply_at,
            "first_assignment_at": s.first_assignment_at,
            "first_admin_reply_at": s.first_admin_reply_at,
            "first_close_at": s.first_close_at,
            "last_assignment_at": s.last_assignment_at,
            "last_assignment_admin_reply_at": s.last_assignment_admin_reply_at,
            "last_contact_reply_at": s.last_contact_reply_at,
            "last_admin_reply_at": s.last_admin_reply_at,
            "last_close_at": s.last_close_at,
            "last_closed_by_id": s.last_closed_by_id,
            "count_reopens": s.count_reopens,
            "count_assignments": s.count_assignments,
            "count_conversation_parts": s.count_conversation_parts,
            "assigned_team_first_response_time": [],
            "assigned_team_first_response_time_in_office_hours": [],
            "handling_time": s.handling_time,
            "adjusted_handling_time": Value::Null,
        }),
        &["adjusted_handling_time"],
    );
    let ai_agent = if c.ai_agent_participated {
        json!({"source_type": "workflow", "source_title": "Fin support workflow",
                   "last_answer_type": "ai_answer", "resolution_state": "escalated",
                   "rating": Value::Null, "rating_remark": Value::Null,
                   "created_at": c.created_at, "updated_at": c.created_at})
    } else {
        Value::Null
    };
    let source = json!({
        "type": c.source_type, "id": c.source_id.to_string(), "delivered_as": c.delivered_as,
        "subject": c.subject, "body": c.body, "author": author(store, c.source_author),
        "attachments": [], "url": Value::Null, "redacted": c.source_redacted,
    });
    let linked: Vec<Value> = c
        .linked_ticket
        .iter()
        .map(|t| {
            let t = &store.tickets[*t as usize];
            json!({"type": "ticket", "id": t.id.to_string(),
                   "category": store.ticket_types[t.ticket_type as usize].category})
        })
        .collect();
    let mut v = json!({
        "type": "conversation",
        "id": c.id.to_string(),
        "title": c.title,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "waiting_since": c.waiting_since,
        "snoozed_until": c.snoozed_until,
        "source": source,
        "contacts": {"type": "contact.list", "contacts": c.contacts.iter()
            .map(|x| contact_ref(store, *x)).collect::<Vec<_>>()},
        "first_contact_reply": first_contact_reply,
        "admin_assignee_id": c.admin_assignee.map(|a| store.admins[a as usize].id),
        "team_assignee_id": c.team_assignee.map(|t| store.teams[t as usize].id),
        "open": c.state != "closed",
        "state": c.state,
        "read": c.read,
        "tags": {"type": "tag.list", "tags": c.tags.iter()
            .map(|t| tag(store, t.tag as usize, Some(t))).collect::<Vec<_>>()},
        "priority": c.priority,
        "sla_applied": Value::Null,
        "statistics": statistics,
        "conversation_rating": rating,
        "teammates": {"type": "admin.list", "teammates": c.teammates.iter()
            .map(|a| json!({"type": "admin", "id": store.admins[*a as usize].id.to_string()}))
            .collect::<Vec<_>>()},
        "custom_attributes": custom,
        "linked_objects": {"type": "list", "total_count": linked.len(), "data": linked, "has_more": false},
        "ai_agent": ai_agent,
        "ai_agent_participated": c.ai_agent_participated,
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(company_index) = c.company {
            obj.insert("company".into(), company(store, company_index as usize));
        }
        if with_parts {
            // docs/intercom-notes.md, "Capped lists inside objects": at most the 500 most recent
            // parts.
            let skip = c.parts.len().saturating_sub(500);
            let parts: Vec<Value> = c.parts[skip..]
                .iter()
                .map(|p| {
                    json!({
                        "type": "conversation_part", "id": p.id.to_string(), "part_type": p.part_type,
                        "body": p.body, "created_at": p.created_at, "updated_at": p.created_at,
                        "notified_at": p.created_at,
                        "assigned_to": p.assigned_to.map(|a| reference(store, a)),
                        "author": author(store, p.author), "attachments": [],
                        "external_id": Value::Null, "redacted": p.redacted,
                        "email_message_metadata": Value::Null,
                        "metadata": p.metadata.clone().unwrap_or_else(|| json!({})), "state": p.state,
                        "tags": [], "event_details": Value::Null, "app_package_code": Value::Null,
                    })
                })
                .collect();
            obj.insert(
                "conversation_parts".into(),
                json!({"type": "conversation_part.list", "conversation_parts": parts,
                       "total_count": c.parts.len()}),
            );
        }
    }
    v
}

fn ticket_state(s: &TicketState) -> Value {
    json!({"type": "ticket_state", "id": s.id.to_string(), "category": s.category,
           "internal_label": s.internal_label, "external_label": s.external_label})
}

/// A ticket type attribute.
pub fn ticket_type_attribute(store: &Store, t: &TicketType, a: &TicketTypeAttribute) -> Value {
    // `input_options` is an object, not nullable: left out when the attribute has none.
    without_nulls(
        json!({
            "type": "ticket_type_attribute", "id": a.id.to_string(),
            "workspace_id": store.workspace_id, "name": a.name, "description": a.description,
            "data_type": a.data_type, "input_options": a.input_options, "order": a.order,
            "required_to_create": a.required_to_create,
            "required_to_create_for_contacts": a.required_to_create_for_contacts,
            "visible_on_create": a.visible_on_create, "visible_to_contacts": a.visible_to_contacts,
            "default": a.default, "ticket_type_id": t.id, "archived": a.archived,
            "created_at": a.created_at, "updated_at": a.updated_at,
        }),
        &[],
    )
}

/// A ticket type with its attributes and states.
pub fn ticket_type(store: &Store, t: &TicketType) -> Value {
    let attrs: Vec<Value> = t
        .attributes
        .iter()
        .map(|a| ticket_type_attribute(store, t, a))
        .collect();
    json!({
        "type": "ticket_type", "id": t.id.to_string(), "category": t.category, "name": t.name,
        "description": t.description, "icon": t.icon, "workspace_id": store.workspace_id,
        "ticket_type_attributes": {"type": "list", "data": attrs},
        "ticket_states": {"type": "list", "data": store.ticket_states.iter().map(ticket_state).collect::<Vec<_>>()},
        "archived": t.archived, "is_internal": t.is_internal,
        "created_at": t.created_at, "updated_at": t.updated_at,
    })
}

/// A ticket part (`ticket_part`; also the body of `POST /tickets/{id}/reply`). Authors are
/// `admin|bot|team|user` here: leads write as `user` (`ticket_part_author.type`).
pub fn ticket_part(store: &Store, p: &TicketPart) -> Value {
    let mut who = author(store, p.author);
    if who["type"] == "lead"
        && let Some(obj) = who.as_object_mut()
    {
        obj.insert("type".into(), json!("user"));
    }
    json!({
        "type": "ticket_part", "id": p.id.to_string(), "part_type": p.part_type,
        "body": p.body, "previous_ticket_state": p.previous_state, "ticket_state": p.state,
        "created_at": p.created_at, "updated_at": p.created_at,
        "assigned_to": p.assigned_to.map(|a| reference(store, a)), "author": who,
        "attachments": [], "external_id": Value::Null, "redacted": false,
        "app_package_code": "emulator",
    })
}

/// Job `index` of `POST /tickets/enqueue` (official spec: `jobs`): `pending` as the enqueue
/// answers it, `success` with the ticket when its status is asked (`done`).
pub fn job(store: &Store, index: usize, done: bool) -> Value {
    let id = (index + 1).to_string();
    let ticket = store
        .jobs
        .get(index)
        .and_then(|&t| store.tickets.get(t as usize));
    let (status, resource_id, resource_url) = match ticket {
        Some(t) if done => (
            "success",
            json!(t.id.to_string()),
            json!(format!("https://api.intercom.io/tickets/{}", t.id)),
        ),
        _ => ("pending", Value::Null, Value::Null),
    };
    json!({
        "type": "job", "id": id, "status": status,
        "url": format!("https://api.intercom.io/jobs/status/{id}"),
        "resource_type": "ticket", "resource_id": resource_id, "resource_url": resource_url,
    })
}

/// A ticket (parts included, as on get and search).
pub fn ticket(store: &Store, index: usize) -> Value {
    let t = &store.tickets[index];
    let ty = &store.ticket_types[t.ticket_type as usize];
    let attributes: Map<String, Value> = t
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let parts: Vec<Value> = t.parts.iter().map(|p| ticket_part(store, p)).collect();
    let linked: Vec<Value> = t
        .linked_conversation
        .iter()
        .map(|c| json!({"type": "conversation", "id": store.conversations[*c as usize].id.to_string(), "category": Value::Null}))
        .collect();
    let mut v = json!({
        "type": "ticket",
        "id": t.id.to_string(),
        "ticket_id": t.ticket_id.to_string(),
        "category": ty.category,
        "ticket_attributes": attributes,
        "ticket_state": ticket_state(&store.ticket_states[t.state as usize]),
        "ticket_type": ticket_type(store, ty),
        "contacts": {"type": "contact.list", "contacts": t.contacts.iter()
            .map(|c| contact_ref(store, *c)).collect::<Vec<_>>()},
        "admin_assignee_id": t.admin_assignee
            .map_or_else(|| "0".to_string(), |a| store.admins[a as usize].id.to_string()),
        "team_assignee_id": t.team_assignee
            .map_or_else(|| "0".to_string(), |a| store.teams[a as usize].id.to_string()),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "open": t.open,
        "snoozed_until": t.snoozed_until,
        "linked_objects": {"type": "list", "total_count": linked.len(), "data": linked, "has_more": false},
        "ticket_parts": {"type": "ticket_part.list", "ticket_parts": parts, "total_count": t.parts.len()},
        "is_shared": t.is_shared,
    });
    // `ticket.snoozed_until` is not nullable in the spec: omitted unless snoozed.
    if t.snoozed_until.is_none()
        && let Some(obj) = v.as_object_mut()
    {
        obj.remove("snoozed_until");
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Search schemas and accessors

fn data_type_field(data_type: &str) -> Option<FieldType> {
    Some(match data_type {
        "string" | "list" => FieldType::String,
        "integer" => FieldType::Integer,
        "float" | "decimal" => FieldType::Float,
        "boolean" => FieldType::Boolean,
        "date" | "datetime" => FieldType::Date,
        _ => return None,
    })
}

/// Searchable contact fields (docs/intercom-notes.md, "Searchable fields") plus the workspace's
/// contact custom attributes.
pub fn contact_schema(store: &Store, tz: Tz) -> SearchSchema {
    use FieldType::*;
    let mut schema = SearchSchema::new(Strictness::Strict, tz);
    let fields: &[(&str, FieldType)] = &[
        ("id", String),
        ("role", String),
        ("name", String),
        ("avatar", String),
        ("owner_id", Integer),
        ("email", String),
        ("email_domain", String),
        ("phone", String),
        ("formatted_phone", String),
        ("external_id", String),
        ("created_at", Date),
        ("signed_up_at", Date),
        ("updated_at", Date),
        ("last_seen_at", Date),
        ("last_contacted_at", Date),
        ("last_replied_at", Date),
        ("last_email_opened_at", Date),
        ("last_email_clicked_at", Date),
        ("language_override", String),
        ("browser", String),
        ("browser_language", String),
        ("os", String),
        ("location.country", String),
        ("location.region", String),
        ("location.city", String),
        ("unsubscribed_from_emails", Boolean),
        ("marked_email_as_spam", Boolean),
        ("has_hard_bounced", Boolean),
        ("ios_last_seen_at", Date),
        ("android_last_seen_at", Date),
        ("ios_app_version", String),
        ("ios_device", String),
        ("ios_app_device", String),
        ("ios_os_version", String),
        ("ios_app_name", String),
        ("ios_sdk_version", String),
        ("android_app_version", String),
        ("android_device", String),
        ("android_app_name", String),
        ("android_sdk_version", String),
        ("andoid_sdk_version", String),
        ("segment_id", Reference),
        ("tag_id", Reference),
    ];
    for (name, ty) in fields {
        schema.add_field(name, *ty, name);
    }
    add_custom(&mut schema, store, "contact");
    schema
}

fn add_custom(schema: &mut SearchSchema, store: &Store, model: &str) {
    for attr in store
        .data_attributes
        .iter()
        .filter(|a| a.custom && a.model == model)
    {
        if let Some(ty) = data_type_field(attr.data_type) {
            schema.add_field(&attr.full_name, ty, &attr.full_name);
        }
    }
}

/// Searchable conversation fields (docs/intercom-notes.md, "Searchable fields"); custom attributes
/// accepted too.
pub fn conversation_schema(store: &Store, tz: Tz) -> SearchSchema {
    use FieldType::*;
    let mut schema = SearchSchema::new(Strictness::Lenient, tz);
    let mut fields: Vec<(&str, FieldType)> = vec![
        ("id", String),
        ("created_at", Date),
        ("updated_at", Date),
        ("waiting_since", Date),
        ("snoozed_until", Date),
        ("source.type", String),
        ("source.id", String),
        ("source.delivered_as", String),
        ("source.subject", String),
        ("source.body", Tokens),
        ("source.author.id", String),
        ("source.author.type", String),
        ("source.author.name", String),
        ("source.author.email", String),
        ("source.url", String),
        ("contact_ids", StringList),
        ("teammate_ids", StringList),
        ("tag_ids", StringList),
        ("admin_assignee_id", Integer),
        ("team_assignee_id", Integer),
        ("channel_initiated", String),
        ("state", String),
        ("priority", String),
        ("open", Boolean),
        ("read", Boolean),
        ("statistics.last_closed_by_id", String),
        ("conversation_rating.requested_at", Date),
        ("conversation_rating.replied_at", Date),
        ("conversation_rating.score", Integer),
        ("conversation_rating.remark", String),
        ("conversation_rating.contact_id", String),
        ("conversation_rating.admin_d", String),
        ("conversation_rating.admin_id", String),
        ("ai_agent_participated", Boolean),
        ("ai_agent.resolution_state", String),
        ("ai_agent.last_answer_type", String),
        ("ai_agent.source_type", String),
        ("ai_agent.source_title", String),
        ("ai_agent.rating_remark", String),
        ("ai_agent.rating", Integer),
    ];
    for s in STAT_INTS {
        fields.push((s, Integer));
    }
    for s in STAT_DATES {
        fields.push((s, Date));
    }
    for (name, ty) in fields {
        schema.add_field(name, ty, name);
    }
    add_custom(&mut schema, store, "conversation");
    schema
}

const STAT_INTS: &[&str] = &[
    "statistics.time_to_assignment",
    "statistics.time_to_admin_reply",
    "statistics.time_to_first_close",
    "statistics.time_to_last_close",
    "statistics.median_time_to_reply",
    "statistics.count_reopens",
    "statistics.count_assignments",
    "statistics.count_conversation_parts",
];
const STAT_DATES: &[&str] = &[
    "statistics.first_contact_reply_at",
    "statistics.first_assignment_at",
    "statistics.first_admin_reply_at",
    "statistics.first_close_at",
    "statistics.last_assignment_at",
    "statistics.last_assignment_admin_reply_at",
    "statistics.last_contact_reply_at",
    "statistics.last_admin_reply_at",
    "statistics.last_close_at",
];

/// Searchable ticket fields (docs/intercom-notes.md, "Searchable fields"), with
/// `ticket_attribute.<id>` for every type attribute.
pub fn ticket_schema(store: &Store, tz: Tz) -> SearchSchema {
    use FieldType::*;
    let mut schema = SearchSchema::new(Strictness::Lenient, tz);
    let fields: &[(&str, FieldType)] = &[
        ("id", String),
        ("title", String),
        ("description", String),
        ("category", String),
        ("ticket_type_id", String),
        ("contact_ids", StringList),
        ("teammate_ids", StringList),
        ("state", String),
        ("admin_assignee_id", String),
        ("team_assignee_id", String),
        ("created_at", Date),
        ("updated_at", Date),
        ("snoozed_until", Date),
        ("open", Boolean),
        ("source.body", Tokens),
    ];
    for (name, ty) in fields {
        schema.add_field(name, *ty, name);
    }
    for ty in &store.ticket_types {
        for attr in &ty.attributes {
            if let Some(field_type) = data_type_field(attr.data_type) {
                schema.add_field(
                    &format!("ticket_attribute.{}", attr.id),
                    field_type,
                    &format!("ticket_attributes.{}", attr.name),
                );
            }
        }
    }
    schema
}

fn opt_str(v: Option<&str>) -> FieldValue<'_> {
    v.map_or(FieldValue::Null, |s| FieldValue::Str(Cow::Borrowed(s)))
}

fn attr_field(v: &AttrValue) -> FieldValue<'_> {
    match v {
        AttrValue::Str(s) => FieldValue::Str(Cow::Borrowed(s)),
        AttrValue::Int(i) => FieldValue::Int(*i),
        AttrValue::Float(f) => FieldValue::Float(*f),
        AttrValue::Bool(b) => FieldValue::Bool(*b),
    }
}

fn opt_int(v: Option<i64>) -> FieldValue<'static> {
    v.map_or(FieldValue::Null, FieldValue::Int)
}

/// A contact seen through the search accessor.
pub struct ContactRecord<'a> {
    /// The store (for tag/segment ids).
    pub store: &'a Store,
    /// The contact.
    pub contact: &'a Contact,
}

impl Searchable for ContactRecord<'_> {
    fn field(&self, key: &str) -> FieldValue<'_> {
        let c = self.contact;
        match key {
            "id" => FieldValue::Str(Cow::Borrowed(&c.id)),
            "role" => FieldValue::Str(Cow::Borrowed(c.role)),
            "name" => opt_str(c.name.as_deref()),
            "avatar" => opt_str(c.avatar.as_deref()),
            "owner_id" => opt_int(c.owner_id.map(|o| o as i64)),
            "email" => opt_str(c.email.as_deref()),
            "email_domain" => opt_str(c.email_domain()),
            "phone" | "formatted_phone" => opt_str(c.phone.as_deref()),
            "external_id" => opt_str(c.external_id.as_deref()),
            "created_at" => FieldValue::Int(c.created_at),
            "updated_at" => FieldValue::Int(c.updated_at),
            "signed_up_at" => opt_int(c.signed_up_at),
            "last_seen_at" => opt_int(c.last_seen_at),
            "last_contacted_at" => opt_int(c.last_contacted_at),
            "last_replied_at" => opt_int(c.last_replied_at),
            "last_email_opened_at" => opt_int(c.last_email_opened_at),
            "last_email_clicked_at" => opt_int(c.last_email_clicked_at),
            "language_override" => opt_str(c.language_override),
            "browser" => opt_str(c.browser),
            "browser_language" => opt_str(c.browser_language),
            "os" => opt_str(c.os),
            "location.country" => opt_str(c.location.map(|p| p.country)),
            "location.region" => opt_str(c.location.map(|p| p.region)),
            "location.city" => opt_str(c.location.map(|p| p.city)),
            "unsubscribed_from_emails" => FieldValue::Bool(c.unsubscribed_from_emails),
            "marked_email_as_spam" => FieldValue::Bool(c.marked_email_as_spam),
            "has_hard_bounced" => FieldValue::Bool(c.has_hard_bounced),
            "tag_id" => FieldValue::List(
                c.tags
                    .iter()
                    .map(|t| Cow::Owned(self.store.tags[t.tag as usize].id.to_string()))
                    .collect(),
            ),
            "segment_id" => FieldValue::List(
                c.segments
                    .iter()
                    .map(|s| Cow::Borrowed(self.store.segments[*s as usize].id.as_str()))
                    .collect(),
            ),
            _ => match key.strip_prefix("custom_attributes.") {
                Some(name) => c
                    .custom
                    .iter()
                    .find(|(a, _)| {
                        self.store
                            .data_attributes
                            .get(*a as usize)
                            .is_some_and(|a| a.name == name)
                    })
                    .map_or(FieldValue::Null, |(_, v)| attr_field(v)),
                None => FieldValue::Null,
            },
        }
    }
}

/// A conversation seen through the search accessor (reads its rendered JSON).
pub struct JsonRecord<'a>(pub &'a Value);

impl Searchable for JsonRecord<'_> {
    fn field(&self, key: &str) -> FieldValue<'_> {
        let path = match key {
            "contact_ids" => "contacts.contacts",
            "teammate_ids" => "teammates.teammates",
            "tag_ids" => "tags.tags",
            _ => "",
        };
        if !path.is_empty() {
            return FieldValue::List(
                lookup(self.0, path)
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|i| i.get("id").and_then(Value::as_str))
                            .map(Cow::Borrowed)
                            .collect()
                    })
                    .unwrap_or_default(),
            );
        }
        let value = match key {
            "channel_initiated" => lookup(self.0, "source.delivered_as"),
            "conversation_rating.score" => lookup(self.0, "conversation_rating.rating"),
            "conversation_rating.requested_at" | "conversation_rating.replied_at" => {
                lookup(self.0, "conversation_rating.created_at")
            }
            "conversation_rating.contact_id" => lookup(self.0, "conversation_rating.contact.id"),
            "conversation_rating.admin_d" | "conversation_rating.admin_id" => {
                lookup(self.0, "conversation_rating.teammate.id")
            }
            _ => custom_lookup(self.0, key),
        };
        match value {
            None | Some(Value::Null) => FieldValue::Null,
            Some(Value::String(s)) => FieldValue::Str(Cow::Borrowed(s)),
            Some(Value::Bool(b)) => FieldValue::Bool(*b),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(FieldValue::Int)
                .or_else(|| n.as_f64().map(FieldValue::Float))
                .unwrap_or(FieldValue::Null),
            Some(_) => FieldValue::Null,
        }
    }
}

/// Follows a dotted path; keys under `custom_attributes.`/`ticket_attributes.` are taken whole.
fn custom_lookup<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    for prefix in ["custom_attributes.", "ticket_attributes."] {
        if let Some(name) = key.strip_prefix(prefix) {
            return v.get(&prefix[..prefix.len() - 1])?.get(name);
        }
    }
    lookup(v, key)
}

fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// The extra fields tickets are searched by, added to their rendered JSON: `title`,
/// `description`, internal `category`, `state`, `ticket_type_id`, `teammate_ids`.
pub fn ticket_search_json(store: &Store, index: usize) -> Value {
    let mut v = ticket(store, index);
    let t = &store.tickets[index];
    let ty = &store.ticket_types[t.ticket_type as usize];
    let internal = match ty.category {
        "Customer" => "request",
        "Back-office" => "task",
        _ => "tracker",
    };
    let title = t
        .attributes
        .iter()
        .find(|(k, _)| *k == "_default_title_")
        .map(|(_, v)| v.clone());
    let description = t
        .attributes
        .iter()
        .find(|(k, _)| *k == "_default_description_")
        .map(|(_, v)| v.clone());
    if let Some(obj) = v.as_object_mut() {
        obj.insert("title".into(), title.unwrap_or(Value::Null));
        obj.insert("description".into(), description.unwrap_or(Value::Null));
        obj.insert("category".into(), json!(internal));
        obj.insert(
            "state".into(),
            json!(store.ticket_states[t.state as usize].category),
        );
        obj.insert("ticket_type_id".into(), json!(ty.id.to_string()));
        let teammates: Vec<Value> = t
            .admin_assignee
            .iter()
            .map(|a| json!({"id": store.admins[*a as usize].id.to_string()}))
            .collect();
        obj.insert("teammates".into(), json!({"teammates": teammates}));
    }
    v
}

/// `article_statistics` for an article with `views` views.
pub fn article_statistics(views: i64) -> Value {
    let reactions = views / 4;
    let (happy, neutral) = if reactions > 0 {
        (60.0, 25.0)
    } else {
        (0.0, 0.0)
    };
    let sad = if reactions > 0 { 15.0 } else { 0.0 };
    json!({
        "type": "article_statistics", "views": views, "conversions": views / 20,
        "reactions": reactions, "happy_reaction_percentage": happy,
        "neutral_reaction_percentage": neutral, "sad_reaction_percentage": sad,
    })
}
