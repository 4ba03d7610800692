//! In-memory workspace records and their indexes: filled by `seed`, read by the routes and
//! changed by the write routes (always under the write lock of `EmulatorState`).
//!
//! Records reference each other by position (`u32` index into the owning `Vec`), which keeps a
//! 100k-contact store compact and makes lookups O(1). Every `Vec` is sorted by the object's id,
//! so id lookups are a binary search and cursors can resume in O(log n); created objects get
//! ids above every existing one ([`next_hex_id`], [`next_numeric_id`]) and are appended, so the
//! order holds. Nothing is ever removed from a `Vec` (indexes must stay valid): deletes, merges
//! and archiving set a state, and the `*_index` lookups only find what the API still shows.
//! Rendering to the wire format lives in `render`; nothing here knows about HTTP.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;

/// Workspace (`app`) details returned by `GET /me`.
#[derive(Clone, Debug)]
pub struct App {
    pub id_code: String,
    pub name: String,
    pub region: String,
    pub timezone: String,
    pub created_at: i64,
}

/// A teammate.
#[derive(Clone, Debug)]
pub struct Admin {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub job_title: &'static str,
    pub away_mode_enabled: bool,
    pub away_mode_reassign: bool,
    pub away_status_reason_id: Option<i64>,
    pub has_inbox_seat: bool,
    pub team_ids: Vec<u64>,
}

/// A team of admins.
#[derive(Clone, Debug)]
pub struct Team {
    pub id: u64,
    pub name: &'static str,
    pub admin_ids: Vec<u64>,
    pub assignment_limit: Option<i64>,
    pub distribution_method: Option<&'static str>,
}

/// A tag; attached to contacts, companies, conversations and tickets.
#[derive(Clone, Debug)]
pub struct Tag {
    pub id: u64,
    pub name: String,
    pub deleted: bool,
}

/// A tag applied to an object: tag index, when, by which admin index.
#[derive(Clone, Copy, Debug)]
pub struct Tagging {
    pub tag: u32,
    pub applied_at: i64,
    pub admin: u32,
}

/// A segment (saved filter) of contacts or companies.
#[derive(Clone, Debug)]
pub struct Segment {
    pub id: String,
    pub name: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
    pub person_type: &'static str,
}

/// Location of a contact, from a fixed gazetteer.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub country: &'static str,
    pub region: &'static str,
    pub city: &'static str,
    pub country_code: &'static str,
    pub continent_code: &'static str,
}

/// One custom attribute value (docs/intercom-notes.md, "Custom attributes"); dates are Unix seconds
/// in `Int`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttrValue {
    Str(Cow<'static, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// Custom attribute values of one object: (index into `Store::data_attributes`, value), sorted
/// by index; absent attributes are simply not listed.
pub type Custom = Vec<(u32, AttrValue)>;

/// Sets (`Some`) or clears (`None`) one custom attribute, keeping the list sorted.
pub fn set_custom(custom: &mut Custom, attr: u32, value: Option<AttrValue>) {
    match (custom.binary_search_by_key(&attr, |(a, _)| *a), value) {
        (Ok(i), Some(v)) => custom[i].1 = v,
        (Ok(i), None) => {
            custom.remove(i);
        }
        (Err(i), Some(v)) => custom.insert(i, (attr, v)),
        (Err(_), None) => {}
    }
}

/// Lifecycle of a contact. Only `Active` contacts appear in lists, search and get-by-id;
/// `Archived` ones can still be unarchived or deleted; the others are gone for good
/// (docs/intercom-notes.md, "Writes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactState {
    Active,
    Archived,
    Deleted,
    /// Merged into the contact at this index (`POST /contacts/merge`).
    Merged(u32),
}

/// A user or lead.
#[derive(Clone, Debug)]
pub struct Contact {
    pub id: String,
    pub external_id: Option<String>,
    pub role: &'static str,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub owner_id: Option<u64>,
    pub has_hard_bounced: bool,
    pub marked_email_as_spam: bool,
    pub unsubscribed_from_emails: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub signed_up_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub last_replied_at: Option<i64>,
    pub last_contacted_at: Option<i64>,
    pub last_email_opened_at: Option<i64>,
    pub last_email_clicked_at: Option<i64>,
    pub language_override: Option<&'static str>,
    pub browser: Option<&'static str>,
    pub browser_version: Option<&'static str>,
    pub browser_language: Option<&'static str>,
    pub os: Option<&'static str>,
    pub location: Option<Place>,
    pub custom: Custom,
    pub tags: Vec<Tagging>,
    pub companies: Vec<u32>,
    pub segments: Vec<u32>,
    pub notes: Vec<u32>,
    /// Explicit subscription choices: (subscription type index, `opt_in` | `opt_out`).
    pub subscriptions: Vec<(u32, &'static str)>,
    pub state: ContactState,
    pub blocked: bool,
}

impl Contact {
    /// Domain part of the email, as Intercom derives `email_domain`.
    pub fn email_domain(&self) -> Option<&str> {
        self.email
            .as_deref()
            .and_then(|e| e.split_once('@').map(|(_, d)| d))
    }

    /// Shown by lists, search and get-by-id.
    pub fn is_live(&self) -> bool {
        self.state == ContactState::Active
    }
}

/// A company.
#[derive(Clone, Debug)]
pub struct Company {
    pub id: String,
    pub company_id: String,
    pub name: String,
    /// (plan id, plan name).
    pub plan: Option<(String, String)>,
    pub remote_created_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_request_at: i64,
    pub size: i64,
    pub website: String,
    pub industry: String,
    pub monthly_spend: i64,
    pub session_count: i64,
    pub custom: Custom,
    pub tags: Vec<Tagging>,
    pub segments: Vec<u32>,
    /// Contact indexes, ascending (archived contacts included; they are filtered when shown).
    pub contacts: Vec<u32>,
    pub notes: Vec<u32>,
    /// `DELETE /companies/{id}` (docs/intercom-notes.md, "Writes"): archived and detached; never
    /// found again.
    pub deleted: bool,
}

/// Who wrote a conversation part or source, or (`assigned_to`) who got it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Author {
    Admin(u32),
    Contact(u32),
    Team(u32),
    Bot,
}

/// One conversation part.
#[derive(Clone, Debug)]
pub struct Part {
    pub id: u64,
    pub part_type: &'static str,
    pub body: Option<String>,
    pub created_at: i64,
    pub author: Author,
    pub assigned_to: Option<Author>,
    pub state: &'static str,
    pub redacted: bool,
    /// `conversation_part_metadata` (quick reply options), when any.
    pub metadata: Option<serde_json::Value>,
}

/// Conversation statistics (`statistics` object).
#[derive(Clone, Debug, Default)]
pub struct Statistics {
    pub time_to_assignment: Option<i64>,
    pub time_to_admin_reply: Option<i64>,
    pub time_to_first_close: Option<i64>,
    pub time_to_last_close: Option<i64>,
    pub median_time_to_reply: Option<i64>,
    pub first_contact_reply_at: Option<i64>,
    pub first_assignment_at: Option<i64>,
    pub first_admin_reply_at: Option<i64>,
    pub first_close_at: Option<i64>,
    pub last_assignment_at: Option<i64>,
    pub last_assignment_admin_reply_at: Option<i64>,
    pub last_contact_reply_at: Option<i64>,
    pub last_admin_reply_at: Option<i64>,
    pub last_close_at: Option<i64>,
    pub last_closed_by_id: Option<String>,
    pub count_reopens: i64,
    pub count_assignments: i64,
    pub count_conversation_parts: i64,
    pub handling_time: i64,
}

/// A customer's rating of a conversation.
#[derive(Clone, Debug)]
pub struct Rating {
    pub rating: i64,
    pub remark: &'static str,
    pub created_at: i64,
    pub contact: u32,
    pub teammate: u32,
}

/// A conversation with its parts.
#[derive(Clone, Debug)]
pub struct Conversation {
    pub id: u64,
    pub title: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub waiting_since: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub state: &'static str,
    pub read: bool,
    pub priority: &'static str,
    pub admin_assignee: Option<u32>,
    pub team_assignee: Option<u32>,
    pub source_type: &'static str,
    pub source_id: u64,
    pub delivered_as: &'static str,
    pub subject: String,
    pub body: String,
    pub source_author: Author,
    pub source_redacted: bool,
    pub contacts: Vec<u32>,
    pub teammates: Vec<u32>,
    pub tags: Vec<Tagging>,
    pub statistics: Statistics,
    pub rating: Option<Rating>,
    pub custom: Custom,
    pub ai_agent_participated: bool,
    pub company: Option<u32>,
    pub parts: Vec<Part>,
    /// The ticket this conversation was converted to.
    pub linked_ticket: Option<u32>,
    /// `DELETE /conversations/{id}`.
    pub deleted: bool,
    /// Archived because its contact was blocked (docs/intercom-notes.md, "Writes").
    pub archived: bool,
}

impl Conversation {
    /// Shown by lists, search and get-by-id.
    pub fn is_live(&self) -> bool {
        !self.deleted && !self.archived
    }
}

/// Ticket state.
#[derive(Clone, Debug)]
pub struct TicketState {
    pub id: u64,
    pub category: &'static str,
    pub internal_label: &'static str,
    pub external_label: &'static str,
}

/// Ticket type attribute.
#[derive(Clone, Debug)]
pub struct TicketTypeAttribute {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub data_type: &'static str,
    pub input_options: Option<serde_json::Value>,
    pub order: i64,
    pub required_to_create: bool,
    pub required_to_create_for_contacts: bool,
    pub visible_on_create: bool,
    pub visible_to_contacts: bool,
    pub default: bool,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Ticket type.
#[derive(Clone, Debug)]
pub struct TicketType {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub category: &'static str,
    pub is_internal: bool,
    pub archived: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub attributes: Vec<TicketTypeAttribute>,
}

/// A ticket part.
#[derive(Clone, Debug)]
pub struct TicketPart {
    pub id: u64,
    pub part_type: &'static str,
    pub body: Option<String>,
    pub previous_state: &'static str,
    pub state: &'static str,
    pub created_at: i64,
    pub author: Author,
    pub assigned_to: Option<Author>,
}

/// A ticket.
#[derive(Clone, Debug)]
pub struct Ticket {
    pub id: u64,
    pub ticket_id: u64,
    pub ticket_type: u32,
    pub state: u32,
    pub contacts: Vec<u32>,
    pub admin_assignee: Option<u32>,
    pub team_assignee: Option<u32>,
    pub created_at: i64,
    pub updated_at: i64,
    pub open: bool,
    pub snoozed_until: Option<i64>,
    pub is_shared: bool,
    /// Attribute name -> value (`_default_title_`, `_default_description_`, custom ones).
    pub attributes: Vec<(String, serde_json::Value)>,
    pub parts: Vec<TicketPart>,
    /// Tags applied with `POST /tickets/{id}/tags` (the 2.15 ticket schema does not show them).
    pub tags: Vec<Tagging>,
    pub company: Option<u32>,
    /// The conversation this ticket was converted from.
    pub linked_conversation: Option<u32>,
    pub deleted: bool,
}

/// A note on a contact or a company.
#[derive(Clone, Debug)]
pub struct Note {
    pub id: u64,
    pub created_at: i64,
    pub contact: Option<u32>,
    pub company: Option<u32>,
    pub author: u32,
    pub body: String,
}

/// A data attribute description (`GET /data_attributes`).
#[derive(Clone, Debug)]
pub struct DataAttribute {
    pub id: Option<i64>,
    pub model: &'static str,
    pub name: String,
    pub full_name: String,
    pub label: String,
    pub description: String,
    pub data_type: &'static str,
    pub options: Option<Vec<String>>,
    pub api_writable: bool,
    pub ui_writable: bool,
    pub messenger_writable: bool,
    pub custom: bool,
    pub archived: bool,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub admin_id: Option<String>,
}

/// A subscription type (`GET /subscription_types`).
#[derive(Clone, Debug)]
pub struct SubscriptionType {
    pub id: u64,
    pub state: &'static str,
    pub consent_type: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub content_types: &'static [&'static str],
}

/// An anonymous website visitor (`GET /visitors?user_id=`).
#[derive(Clone, Debug)]
pub struct Visitor {
    pub id: String,
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub session_count: i64,
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// Set once `POST /visitors/convert` merged it into (or promoted it to) this contact.
    pub converted_to: Option<u32>,
}

/// A data event: seeded, or recorded by `POST /events`.
#[derive(Clone, Debug)]
pub struct DataEvent {
    /// Order of recording: ids and the `before=` cursor of `GET /events` come from it.
    pub seq: u64,
    pub contact: u32,
    pub event_name: String,
    pub created_at: i64,
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// A reason an admin gives for being away (`GET /away_status_reasons`; deleted ones are
/// listed too).
#[derive(Clone, Debug)]
pub struct AwayStatusReason {
    pub id: u64,
    pub label: &'static str,
    pub emoji: &'static str,
    pub order: i64,
    pub deleted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An entry of the admins' activity log (`GET /admins/activity_logs`).
#[derive(Clone, Debug)]
pub struct ActivityLog {
    pub id: String,
    pub created_at: i64,
    pub activity_type: &'static str,
    pub description: String,
    /// Index of the admin who did it.
    pub admin: u32,
    pub metadata: serde_json::Value,
}

/// A pause or resume of a teammate's handling of a conversation
/// (`GET /conversations/{id}/handling_events`).
#[derive(Clone, Debug)]
pub struct HandlingEvent {
    /// Index of the admin.
    pub admin: u32,
    /// `paused` or `resumed`.
    pub kind: &'static str,
    pub at: i64,
    pub reason: Option<&'static str>,
}

/// The whole workspace.
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub app: Option<App>,
    pub workspace_id: String,
    pub admins: Vec<Admin>,
    pub teams: Vec<Team>,
    pub tags: Vec<Tag>,
    pub segments: Vec<Segment>,
    pub contacts: Vec<Contact>,
    pub companies: Vec<Company>,
    pub conversations: Vec<Conversation>,
    pub ticket_states: Vec<TicketState>,
    pub ticket_types: Vec<TicketType>,
    pub tickets: Vec<Ticket>,
    pub notes: Vec<Note>,
    pub data_attributes: Vec<DataAttribute>,
    pub subscription_types: Vec<SubscriptionType>,
    pub visitors: Vec<Visitor>,
    pub events: Vec<DataEvent>,
    pub away_status_reasons: Vec<AwayStatusReason>,
    pub activity_logs: Vec<ActivityLog>,
    /// The Help Center, as the JSON of the spec's `help_center`, `collection` and `article`
    /// schemas (see `routes::help_center`).
    pub help_centers: Vec<serde_json::Value>,
    pub collections: Vec<serde_json::Value>,
    pub articles: Vec<serde_json::Value>,
    /// News (`news_item`, `newsfeed`), brands (`brand`), sender addresses (`email_setting`)
    /// and the IP allowlist (`ip_allowlist`), as the spec's schemas describe them.
    pub news_items: Vec<serde_json::Value>,
    pub newsfeeds: Vec<serde_json::Value>,
    pub brands: Vec<serde_json::Value>,
    pub emails: Vec<serde_json::Value>,
    pub ip_allowlist: serde_json::Value,
    /// Content import sources, their external pages and internal articles, as the spec's
    /// `content_import_source`, `external_page` and `internal_article` schemas describe them.
    pub content_import_sources: Vec<serde_json::Value>,
    pub external_pages: Vec<serde_json::Value>,
    pub internal_articles: Vec<serde_json::Value>,
    /// Conversations handed to Fin from outside (`POST /fin/start`): external id -> (user id,
    /// rated: `None` not yet, `Some(with a remark)`).
    pub fin_conversations: HashMap<String, (String, Option<bool>)>,
    /// Custom object instances, as the spec's `custom_object_instance` describes them.
    pub custom_objects: Vec<serde_json::Value>,
    /// Export jobs: (job identifier, `content` or `reporting`, status).
    pub exports: Vec<(String, String, String)>,
    /// How many times each pending export job's status was read.
    pub export_reads: HashMap<String, u32>,
    /// Workflows, as `workflow_export.workflow` describes them (exported by id).
    pub workflows: Vec<serde_json::Value>,
    /// Fin Voice calls, as the spec's `ai_call_response` describes them.
    pub fin_voice_calls: Vec<serde_json::Value>,
    /// Phone calls deflected to the Messenger so far.
    pub phone_switches: u64,
    /// Phone calls, as the spec's `call` schema describes them.
    pub calls: Vec<serde_json::Value>,
    /// Jobs of `POST /tickets/enqueue`: each the index of the ticket it created (job ids are
    /// their position + 1).
    pub jobs: Vec<u32>,
    /// Conversation id -> its handling events, oldest first.
    pub handling_events: HashMap<u64, Vec<HandlingEvent>>,
    /// external_id -> contact index (live and archived contacts).
    pub contact_by_external_id: HashMap<String, u32>,
    /// Indexes of companies with at least one live contact, in id order (docs/intercom-notes.md,
    /// "Companies without contacts").
    pub visible_companies: Vec<u32>,
    /// Number of live contacts (`total_count` of `GET /contacts`).
    pub live_contacts: usize,
    /// Next ids of objects numbered across parents (conversation parts, ticket parts, messages).
    pub next_part_id: u64,
    pub next_ticket_part_id: u64,
    pub next_message_id: u64,
    /// Bumped by every write; part of search cache keys.
    pub generation: u64,
}

/// Position of a digit-string id in a `Vec` sorted by numeric id.
fn find_numeric<T>(items: &[T], id: &str, key: impl Fn(&T) -> u64) -> Option<usize> {
    let wanted: u64 = id.trim().parse().ok()?;
    items.binary_search_by_key(&wanted, key).ok()
}

/// A fresh 24-hex id above `last` (ids are sorted): the ObjectId-like `<ts hex><salt>` of the
/// seed when that sorts last, otherwise `last + 1`.
pub fn next_hex_id(last: Option<&str>, now: i64, salt: u64) -> String {
    let candidate = format!("{:08x}{:016x}", now as u32, salt);
    match last {
        Some(last) if candidate.as_str() <= last => u128::from_str_radix(last, 16)
            .map(|n| format!("{:024x}", n.wrapping_add(1) & ((1u128 << 96) - 1)))
            .unwrap_or(candidate),
        _ => candidate,
    }
}

/// A fresh numeric id above every id of a sorted `Vec` (`first` when it is empty).
pub fn next_numeric_id<T>(items: &[T], key: impl Fn(&T) -> u64, first: u64) -> u64 {
    items.last().map_or(first, |x| key(x) + 1)
}

impl Store {
    /// Live contact by its 24-hex id.
    pub fn contact_index(&self, id: &str) -> Option<usize> {
        self.contact_index_any(id)
            .filter(|&i| self.contacts[i].is_live())
    }

    /// Live or archived contact by id (deleted and merged-away contacts are gone).
    pub fn contact_index_any(&self, id: &str) -> Option<usize> {
        self.contacts
            .binary_search_by(|c| c.id.as_str().cmp(id))
            .ok()
            .filter(|&i| {
                matches!(
                    self.contacts[i].state,
                    ContactState::Active | ContactState::Archived
                )
            })
    }

    /// Company by its Intercom id.
    pub fn company_index(&self, id: &str) -> Option<usize> {
        self.companies
            .binary_search_by(|c| c.id.as_str().cmp(id))
            .ok()
            .filter(|&i| !self.companies[i].deleted)
    }

    /// Segment by id.
    pub fn segment_index(&self, id: &str) -> Option<usize> {
        self.segments.iter().position(|s| s.id == id)
    }

    /// Admin by numeric id.
    pub fn admin_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.admins, id, |a| a.id)
    }

    /// Team by numeric id.
    pub fn team_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.teams, id, |t| t.id)
    }

    /// Tag by numeric id.
    pub fn tag_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.tags, id, |t| t.id).filter(|&i| !self.tags[i].deleted)
    }

    /// Live conversation by numeric id.
    pub fn conversation_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.conversations, id, |c| c.id).filter(|&i| self.conversations[i].is_live())
    }

    /// Ticket by numeric id.
    pub fn ticket_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.tickets, id, |t| t.id).filter(|&i| !self.tickets[i].deleted)
    }

    /// Note by numeric id.
    pub fn note_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.notes, id, |n| n.id)
    }

    /// Ticket type by numeric id.
    pub fn ticket_type_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.ticket_types, id, |t| t.id)
    }

    /// Subscription type by numeric id.
    pub fn subscription_type_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.subscription_types, id, |t| t.id)
    }

    /// Custom data attribute of a model by name (case-sensitive, docs/intercom-notes.md, "Custom
    /// attributes").
    pub fn custom_attribute(&self, model: &str, name: &str) -> Option<usize> {
        self.data_attributes
            .iter()
            .position(|a| a.custom && a.model == model && a.name == name)
    }

    /// Live contact whose email matches, case-insensitively.
    pub fn contact_by_email(&self, email: &str) -> Option<usize> {
        self.contacts.iter().position(|c| {
            c.is_live()
                && c.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
    }

    /// Recomputes the derived indexes after contacts or companies changed: the live-contact
    /// count and the companies that list endpoints show (docs/intercom-notes.md, "Companies without
    /// contacts").
    pub fn refresh_indexes(&mut self) {
        self.live_contacts = self.contacts.iter().filter(|c| c.is_live()).count();
        let contacts = &self.contacts;
        self.visible_companies = self
            .companies
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                !c.deleted
                    && c.contacts
                        .iter()
                        .any(|&i| contacts.get(i as usize).is_some_and(Contact::is_live))
            })
            .map(|(i, _)| i as u32)
            .collect();
    }
}
