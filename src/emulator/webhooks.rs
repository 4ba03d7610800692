//! Webhooks: when a write changes the workspace, the emulator sends the notification Intercom
//! would to a configured URL — a `notification_event` signed with `X-Hub-Signature` (the
//! HMAC-SHA1 of the body keyed with the app's client secret), retried when the endpoint does
//! not answer 2xx (Intercom retries a failed delivery once, a minute later; the delay is a
//! setting here so tests need not wait).
//!
//! Topics sent (Intercom's names): `contact.user.created` / `contact.lead.created`,
//! `contact.user.updated` / `contact.lead.updated`, `contact.deleted`, `contact.archived`,
//! `contact.unarchived`, `contact.user.tag.created` / `….tag.deleted` (and `lead`),
//! `company.contact.attached` / `company.contact.detached`, `company.created`,
//! `company.updated`, `company.deleted`, `conversation.user.created`,
//! `conversation.admin.single.created`, `conversation.user.replied`,
//! `conversation.admin.replied`, `conversation.admin.noted`, `conversation.admin.closed`,
//! `conversation.admin.opened`, `conversation.admin.snoozed`, `conversation.admin.assigned`,
//! `conversation.deleted`, `ticket.created`, `ticket.state.updated`, `ticket.attribute.updated`,
//! `ticket.deleted`.

use std::sync::Mutex;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha1::Sha1;

use super::{EmulatorState, lock, now_secs};

/// Where and how to send notifications.
#[derive(Clone)]
pub struct WebhookTarget {
    /// The endpoint (`http://127.0.0.1:PORT/…`).
    pub url: String,
    /// The app's client secret, the signature's key.
    pub secret: String,
    /// How long to wait before retrying a failed delivery (Intercom: a minute).
    pub retry_delay: Duration,
    /// Deliveries tried at most (Intercom: 2, the first and one retry).
    pub attempts: u32,
}

impl WebhookTarget {
    /// Intercom's behaviour: one retry, a minute after a failure.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            retry_delay: Duration::from_secs(60),
            attempts: 2,
        }
    }
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("retry_delay", &self.retry_delay)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// One delivery attempt, for tests to inspect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The notification's id.
    pub id: String,
    pub topic: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The endpoint's status; 0 when it could not be reached.
    pub status: u16,
}

/// The emulator's webhook settings and what it sent.
#[derive(Default)]
pub(crate) struct Webhooks {
    target: Mutex<Option<WebhookTarget>>,
    sent: Mutex<Vec<DeliveryRecord>>,
}

impl Webhooks {
    pub(crate) fn set_target(&self, target: Option<WebhookTarget>) {
        *lock(&self.target) = target;
    }
}

/// Delivery attempts kept for [`EmulatorState::webhook_deliveries`].
const MAX_RECORDS: usize = 10_000;

/// How long an endpoint has to answer (Intercom expects an answer within seconds).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

impl EmulatorState {
    /// Sends a notification to `target` for every change from now on (`None`: stop).
    pub fn send_webhooks_to(&self, target: Option<WebhookTarget>) {
        self.inner.webhooks.set_target(target);
    }

    pub(crate) fn sends_webhooks(&self) -> bool {
        lock(&self.inner.webhooks.target).is_some()
    }

    /// Every delivery attempt so far, in order.
    pub fn webhook_deliveries(&self) -> Vec<DeliveryRecord> {
        lock(&self.inner.webhooks.sent).clone()
    }

    /// A write was answered 2xx with `body`: sends the notification it makes, if any.
    pub(crate) fn after_write(
        &self,
        method: &str,
        path: &str,
        request: Option<&Value>,
        body: &[u8],
    ) {
        let Some(target) = lock(&self.inner.webhooks.target).clone() else {
            return;
        };
        let Ok(item) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let (app_id, contact_role) = {
            let store = self.store();
            let contact = path
                .trim_matches('/')
                .strip_prefix("contacts/")
                .and_then(|rest| rest.split('/').next())
                .and_then(|id| store.contact_index_any(id));
            (
                store
                    .app
                    .as_ref()
                    .map(|a| a.id_code.clone())
                    .unwrap_or_default(),
                contact.map(|i| store.contacts[i].role),
            )
        };
        let Some((topic, item)) = topic_of(method, path, request, contact_role, item) else {
            return;
        };
        let state = self.clone();
        tokio::spawn(async move {
            state.deliver(target, topic, app_id, item).await;
        });
    }

    async fn deliver(&self, target: WebhookTarget, topic: String, app_id: String, item: Value) {
        let now = now_secs();
        let id = format!(
            "notif_{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            fastrand::u32(..),
            fastrand::u16(..),
            fastrand::u16(..),
            fastrand::u16(..),
            fastrand::u64(..1 << 48)
        );
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .build()
            .unwrap_or_default();
        for attempt in 1..=target.attempts.max(1) {
            if attempt > 1 {
                tokio::time::sleep(target.retry_delay).await;
            }
            let body = json!({
                "type": "notification_event",
                "app_id": app_id,
                "data": {"type": "notification_event_data", "item": item},
                "links": {},
                "id": id,
                "topic": topic,
                "delivery_status": "pending",
                "delivery_attempts": attempt,
                "delivered_at": 0,
                "first_sent_at": now,
                "created_at": now,
                "self": null,
            })
            .to_string();
            let status = http
                .post(&target.url)
                .header("content-type", "application/json")
                .header("user-agent", "Intercom-Webhooks-Emulator")
                .header("x-hub-signature", sign(&target.secret, body.as_bytes()))
                .body(body)
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            let mut sent = lock(&self.inner.webhooks.sent);
            // The latest attempts only: a demo server runs for days.
            if sent.len() >= MAX_RECORDS {
                sent.drain(..MAX_RECORDS / 2);
            }
            sent.push(DeliveryRecord {
                id: id.clone(),
                topic: topic.clone(),
                attempt,
                status,
            });
            drop(sent);
            if (200..300).contains(&status) {
                return;
            }
        }
    }
}

/// `X-Hub-Signature` of `body`.
fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha1={hex}")
}

/// The topic of a successful write and the item its notification carries.
fn topic_of(
    method: &str,
    path: &str,
    request: Option<&Value>,
    contact_role: Option<&str>,
    answer: Value,
) -> Option<(String, Value)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let role = || {
        answer
            .get("role")
            .and_then(Value::as_str)
            .filter(|r| *r == "lead")
            .unwrap_or("user")
            .to_string()
    };
    let part_type = || {
        answer
            .pointer("/conversation_parts/conversation_parts")
            .and_then(Value::as_array)
            .and_then(|parts| parts.last())
            .and_then(|p| p.get("part_type"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let requested = |key: &str| request.and_then(|r| r.get(key)).and_then(Value::as_str);
    let topic = match (method, segments.as_slice()) {
        ("POST", ["contacts"]) => format!("contact.{}.created", role()),
        ("PUT", ["contacts", _]) => format!("contact.{}.updated", role()),
        ("DELETE", ["contacts", _]) => "contact.deleted".into(),
        ("POST", ["contacts", _, "archive"]) => "contact.archived".into(),
        ("POST", ["contacts", _, "unarchive"]) => "contact.unarchived".into(),
        ("POST", ["contacts", contact, "tags"]) | ("DELETE", ["contacts", contact, "tags", _]) => {
            let change = if method == "POST" {
                "created"
            } else {
                "deleted"
            };
            let item = json!({
                "type": "contact_tag",
                "created_at": now_secs(),
                "tag": answer,
                "contact": {"type": "contact", "id": contact},
            });
            let role = contact_role.filter(|r| *r == "lead").unwrap_or("user");
            return Some((format!("contact.{role}.tag.{change}"), item));
        }
        ("POST", ["contacts", contact, "companies"])
        | ("DELETE", ["contacts", contact, "companies", _]) => {
            let change = if method == "POST" {
                "attached"
            } else {
                "detached"
            };
            let item = json!({
                "type": "company_contact",
                "company": answer,
                "contact": {"type": "contact", "id": contact},
            });
            return Some((format!("company.contact.{change}"), item));
        }
        ("POST", ["companies"]) => {
            // Create or update: Intercom's answer does not say which; a company created just
            // now has no earlier update.
            let created = answer.get("created_at") == answer.get("updated_at");
            if created {
                "company.created"
            } else {
                "company.updated"
            }
            .into()
        }
        ("PUT", ["companies", _]) => "company.updated".into(),
        ("DELETE", ["companies", _]) => "company.deleted".into(),
        ("POST", ["conversations"]) => match requested("message_type") {
            Some(_) => "conversation.admin.single.created".into(),
            None => "conversation.user.created".into(),
        },
        ("POST", ["conversations", _, "reply"]) => match requested("type") {
            Some("admin") => match requested("message_type") {
                Some("note") => "conversation.admin.noted".into(),
                _ => "conversation.admin.replied".into(),
            },
            _ => "conversation.user.replied".into(),
        },
        ("POST", ["conversations", _, "parts"]) => match part_type()?.as_str() {
            "close" => "conversation.admin.closed".into(),
            "open" => "conversation.admin.opened".into(),
            "snoozed" => "conversation.admin.snoozed".into(),
            "assignment" | "default_assignment" => "conversation.admin.assigned".into(),
            _ => return None,
        },
        ("DELETE", ["conversations", _]) => "conversation.deleted".into(),
        ("POST", ["tickets"]) => "ticket.created".into(),
        ("PUT", ["tickets", _]) => {
            let state_changed = request
                .is_some_and(|r| r.get("ticket_state_id").is_some() || r.get("state").is_some());
            if state_changed {
                "ticket.state.updated"
            } else {
                "ticket.attribute.updated"
            }
            .into()
        }
        ("DELETE", ["tickets", _]) => "ticket.deleted".into(),
        _ => return None,
    };
    Some((topic, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_make_intercoms_topics() {
        let lead = json!({"type": "contact", "id": "c1", "role": "lead"});
        let topic = |m: &str, p: &str, r: Option<Value>, a: Value| {
            topic_of(m, p, r.as_ref(), None, a).map(|(t, _)| t)
        };
        assert_eq!(
            topic("POST", "/contacts", None, lead.clone()).as_deref(),
            Some("contact.lead.created")
        );
        assert_eq!(
            topic("PUT", "/contacts/c1", None, json!({"role": "user"})).as_deref(),
            Some("contact.user.updated")
        );
        assert_eq!(
            topic("DELETE", "/contacts/c1", None, json!({})).as_deref(),
            Some("contact.deleted")
        );
        assert_eq!(
            topic(
                "POST",
                "/conversations/5/reply",
                Some(json!({"type": "admin", "message_type": "note"})),
                json!({})
            )
            .as_deref(),
            Some("conversation.admin.noted")
        );
        assert_eq!(
            topic("POST", "/contacts/search", None, json!({})),
            None,
            "a read"
        );
        assert_eq!(
            topic("POST", "/companies/list", None, json!({})),
            None,
            "a read"
        );
        let (t, item) = topic_of(
            "POST",
            "/contacts/c1/tags",
            None,
            None,
            json!({"type": "tag", "id": "7"}),
        )
        .unwrap();
        assert_eq!(t, "contact.user.tag.created");
        let (t, _) = topic_of(
            "DELETE",
            "/contacts/c1/tags/7",
            None,
            Some("lead"),
            json!({}),
        )
        .unwrap();
        assert_eq!(t, "contact.lead.tag.deleted");
        assert_eq!(item["contact"]["id"], "c1");
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }
}
