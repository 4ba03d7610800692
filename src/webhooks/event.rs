//! One webhook notification as Intercom sends it (a `notification_event`):
//!
//! ```json
//! {"type": "notification_event", "id": "notif_…", "topic": "contact.user.created",
//!  "app_id": "…", "created_at": 1700000000, "delivery_attempts": 1, "first_sent_at": …,
//!  "data": {"type": "notification_event_data", "item": {"type": "contact", "id": "…", …}}}
//! ```

use serde_json::Value;

/// The fields of a notification kept as columns; the body itself is kept as sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// Intercom's notification id: deliveries of one notification share it.
    pub id: String,
    /// What happened (`contact.user.created`, `conversation.admin.replied`, …).
    pub topic: String,
    /// The workspace it happened in.
    pub app_id: Option<String>,
    /// When Intercom created the notification (Unix seconds).
    pub created_at: Option<i64>,
    /// Which attempt at delivering it this is (1 = the first).
    pub delivery_attempts: Option<i64>,
    /// When Intercom first tried to deliver it (Unix seconds).
    pub first_sent_at: Option<i64>,
    /// The type of the object it is about (`data.item.type`).
    pub item_type: Option<String>,
    /// That object's id (`data.item.id`).
    pub item_id: Option<String>,
    /// The body as received (JSON text).
    pub payload: String,
}

impl Notification {
    /// Reads a delivery's body; the error names what is wrong with it.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("the body is not JSON: {e}"))?;
        let object = value.as_object().ok_or("the body is not a JSON object")?;
        match object.get("type").and_then(Value::as_str) {
            Some("notification_event") => {}
            Some(other) => {
                return Err(format!(
                    "type is \"{other}\", expected \"notification_event\""
                ));
            }
            None => return Err("no \"type\": \"notification_event\"".into()),
        }
        let text_of = |key: &str| -> Result<String, String> {
            match object.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(format!("no \"{key}\" string")),
            }
        };
        let id = text_of("id")?;
        let topic = text_of("topic")?;
        let number = |key: &str| object.get(key).and_then(Value::as_i64);
        let item = value.pointer("/data/item");
        let id_text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Ok(Self {
            id,
            topic,
            app_id: object.get("app_id").and_then(id_text),
            created_at: number("created_at"),
            delivery_attempts: number("delivery_attempts"),
            first_sent_at: number("first_sent_at").filter(|t| *t > 0),
            item_type: item
                .and_then(|i| i.get("type"))
                .and_then(Value::as_str)
                .map(str::to_string),
            item_id: item.and_then(|i| i.get("id")).and_then(id_text),
            payload: text.to_string(),
        })
    }

    /// The API paths whose cached answers this notification makes stale: the collection of
    /// the topic's object and of the item's type (`contact.user.tag.created` → `/contacts`
    /// and `/tags`).
    pub fn stale_paths(&self) -> Vec<String> {
        let mut kinds: Vec<&str> = self.topic.split('.').take(1).collect();
        kinds.extend(self.item_type.as_deref());
        if self.topic.contains(".tag.") {
            kinds.push("tag");
        }
        let mut paths: Vec<String> = kinds.into_iter().filter_map(collection_of).collect();
        paths.sort();
        paths.dedup();
        paths
    }
}

/// The API collection of an object type, for the types whose changes webhooks report.
fn collection_of(kind: &str) -> Option<String> {
    let path = match kind {
        "contact" | "user" | "lead" | "contact_tag" => "/contacts",
        "company" => "/companies",
        "conversation" | "conversation_part" => "/conversations",
        "ticket" => "/tickets",
        "tag" => "/tags",
        "visitor" => "/visitors",
        "admin" => "/admins",
        "event" => "/events",
        "subscription" => "/subscription_types",
        "content_stat" | "ping" => return None,
        other if other.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
            return Some(format!("/{other}s"));
        }
        _ => return None,
    };
    Some(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_is_read_from_intercoms_format() {
        let body = br#"{"type":"notification_event","app_id":"abc123","id":"notif_1",
            "topic":"contact.user.tag.created","created_at":1700000000,"delivery_attempts":2,
            "first_sent_at":1700000001,"delivered_at":0,
            "data":{"type":"notification_event_data","item":{"type":"contact","id":"6500aa"}}}"#;
        let n = Notification::parse(body).unwrap();
        assert_eq!(n.id, "notif_1");
        assert_eq!(n.topic, "contact.user.tag.created");
        assert_eq!(n.app_id.as_deref(), Some("abc123"));
        assert_eq!(n.created_at, Some(1_700_000_000));
        assert_eq!(n.delivery_attempts, Some(2));
        assert_eq!(n.first_sent_at, Some(1_700_000_001));
        assert_eq!(n.item_type.as_deref(), Some("contact"));
        assert_eq!(n.item_id.as_deref(), Some("6500aa"));
        assert_eq!(n.stale_paths(), vec!["/contacts", "/tags"]);
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        for (body, expected) in [
            (&b"not json"[..], "not JSON"),
            (b"[1]", "not a JSON object"),
            (b"{\"type\":\"contact\"}", "expected \"notification_event\""),
            (
                b"{\"type\":\"notification_event\",\"topic\":\"x\"}",
                "no \"id\"",
            ),
            (
                b"{\"type\":\"notification_event\",\"id\":\"n\"}",
                "no \"topic\"",
            ),
            (b"\xff\xfe", "not UTF-8"),
        ] {
            let error = Notification::parse(body).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }
}
