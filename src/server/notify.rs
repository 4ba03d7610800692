//! `LISTEN` / `UNLISTEN` and the notifications they deliver: each webhook notification the
//! server stores is sent as a PostgreSQL `NotificationResponse` to every connection
//! listening on `intercom_events` (all of them), on its topic (`"contact.user.created"`) or
//! on a prefix of the topic ending before a dot (`contact`, `"contact.user"`).
//!
//! A connection receives notifications while it waits for its next message (as PostgreSQL
//! delivers them between transactions); those arriving during a statement follow its answer.
//! The payload is a small JSON object (`id`, `topic`, `item_type`, `item_id`, `created_at`);
//! the notification itself is in `webhook_events`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::webhooks::Notification;

/// The channel every notification is sent on.
pub const ALL_EVENTS: &str = "intercom_events";

/// Notifications queued for one connection before the oldest are dropped (the connection is
/// then warned how many it missed).
pub const QUEUE: usize = 4096;

/// Channels one connection may listen on at once (each is a few bytes; the cap keeps a client
/// from growing the set without bound).
pub const MAX_CHANNELS: usize = 1024;

/// The longest channel name (PostgreSQL's identifiers: 63 bytes).
pub const MAX_CHANNEL_BYTES: usize = 63;

/// What connections are told of a notification: its identity, not its body (which can be
/// megabytes, and is in `webhook_events`), so the queue every connection reads from stays
/// small however far a connection falls behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub id: String,
    pub topic: String,
    pub item_type: Option<String>,
    pub item_id: Option<String>,
    pub created_at: Option<i64>,
}

impl From<&Notification> for Announcement {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id.clone(),
            topic: n.topic.clone(),
            item_type: n.item_type.clone(),
            item_id: n.item_id.clone(),
            created_at: n.created_at,
        }
    }
}

/// The server's notifications, for every connection to subscribe to.
pub type Events = broadcast::Sender<Arc<Announcement>>;

/// The channels one connection listens on.
#[derive(Debug, Default)]
pub struct Listening {
    channels: Mutex<BTreeSet<String>>,
}

impl Listening {
    /// Listens on `channel`; refused past [`MAX_CHANNELS`] or [`MAX_CHANNEL_BYTES`] (the
    /// error says which).
    pub fn listen(&self, channel: &str) -> Result<(), String> {
        if channel.len() > MAX_CHANNEL_BYTES {
            return Err(format!(
                "channel name too long: at most {MAX_CHANNEL_BYTES} bytes (the topics and intercom_events are shorter)"
            ));
        }
        let Ok(mut channels) = self.channels.lock() else {
            return Err("internal error: the channel list is unusable".into());
        };
        if channels.len() >= MAX_CHANNELS && !channels.contains(channel) {
            return Err(format!(
                "too many channels: a connection listens on at most {MAX_CHANNELS} (LISTEN intercom_events receives every notification)"
            ));
        }
        channels.insert(channel.to_string());
        Ok(())
    }

    /// Stops listening on `channel`, or on every channel.
    pub fn unlisten(&self, channel: Option<&str>) {
        if let Ok(mut channels) = self.channels.lock() {
            match channel {
                Some(c) => {
                    channels.remove(c);
                }
                None => channels.clear(),
            }
        }
    }

    /// The channels `n` is sent on for this connection (none when it listens to none of them).
    pub fn channels_for(&self, n: &Announcement) -> Vec<String> {
        let Ok(channels) = self.channels.lock() else {
            return Vec::new();
        };
        channels
            .iter()
            .filter(|c| {
                c.as_str() == ALL_EVENTS
                    || n.topic == **c
                    || n.topic
                        .strip_prefix(c.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
            .cloned()
            .collect()
    }

    pub fn is_listening(&self) -> bool {
        self.channels.lock().is_ok_and(|c| !c.is_empty())
    }
}

/// The payload of a notification's `NotificationResponse` (PostgreSQL's limit is 8000 bytes:
/// ids and topics are short).
pub fn payload(n: &Announcement) -> String {
    serde_json::json!({
        "id": n.id,
        "topic": n.topic,
        "item_type": n.item_type,
        "item_id": n.item_id,
        "created_at": n.created_at,
    })
    .to_string()
}

/// What one connection's loop needs to deliver notifications.
pub struct Subscription {
    pub events: broadcast::Receiver<Arc<Announcement>>,
    pub listening: Arc<Listening>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_match_all_events_a_topic_or_its_prefixes() {
        let n = Announcement::from(
            &Notification::parse(
                br#"{"type":"notification_event","id":"n1","topic":"contact.user.created"}"#,
            )
            .unwrap(),
        );
        let listening = Listening::default();
        assert!(listening.channels_for(&n).is_empty());
        for c in [
            "contact",
            "contact.user",
            "contact.user.created",
            "intercom_events",
            "cont",
            "contact.lead",
            "company",
        ] {
            listening.listen(c).unwrap();
        }
        assert_eq!(
            listening.channels_for(&n),
            [
                "contact",
                "contact.user",
                "contact.user.created",
                "intercom_events"
            ]
        );
        listening.unlisten(Some("contact"));
        assert_eq!(listening.channels_for(&n).len(), 3);
        listening.unlisten(None);
        assert!(!listening.is_listening());
    }

    #[test]
    fn channels_are_bounded_in_number_and_length() {
        let listening = Listening::default();
        assert!(
            listening
                .listen(&"x".repeat(64))
                .unwrap_err()
                .contains("too long")
        );
        for i in 0..MAX_CHANNELS {
            listening.listen(&format!("c{i}")).unwrap();
        }
        listening.listen("c0").unwrap();
        assert!(
            listening
                .listen("one.more")
                .unwrap_err()
                .contains("too many channels")
        );
    }
}
