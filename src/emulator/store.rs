//! In-memory workspace records and their indexes; filled once by `seed`, read by the routes.
//!
//! Records reference each other by position (`u32` index into the owning `Vec`), which keeps a
//! 100k-contact store compact and makes lookups O(1). Every `Vec` is sorted by the object's id,
//! so id lookups are a binary search and cursors can resume in O(log n). Rendering to the wire
//! format lives in `render`; nothing here knows about HTTP.

use std::collections::HashMap;

/// Workspace (`app`) details returned by `GET /me`.
#[derive(Clone, Debug)]
pub struct App {
    pub id_code: String,
    pub name: String,
    pub region: &'static str,
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

/// A tag; attached to contacts, companies and conversations.
#[derive(Clone, Debug)]
pub struct Tag {
    pub id: u64,
    pub name: &'static str,
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

/// Custom attributes of a contact (see `seed::CONTACT_CUSTOM_ATTRIBUTES`); `None` = absent.
#[derive(Clone, Debug, Default)]
pub struct ContactCustom {
    pub plan_tier: Option<&'static str>,
    pub seats: Option<i64>,
    pub mrr: Option<f64>,
    pub beta_tester: Option<bool>,
    pub trial_ends_at: Option<i64>,
    pub account_manager: Option<&'static str>,
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
    pub custom: ContactCustom,
    pub tags: Vec<Tagging>,
    pub companies: Vec<u32>,
    pub segments: Vec<u32>,
    pub notes: Vec<u32>,
}

impl Contact {
    /// Domain part of the email, as Intercom derives `email_domain`.
    pub fn email_domain(&self) -> Option<&str> {
        self.email
            .as_deref()
            .and_then(|e| e.split_once('@').map(|(_, d)| d))
    }
}

/// Custom attributes of a company.
#[derive(Clone, Debug, Default)]
pub struct CompanyCustom {
    pub churn_risk: Option<&'static str>,
    pub founded_year: Option<i64>,
    pub enterprise: Option<bool>,
}

/// A company.
#[derive(Clone, Debug)]
pub struct Company {
    pub id: String,
    pub company_id: String,
    pub name: String,
    pub plan: Option<(String, &'static str)>,
    pub remote_created_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_request_at: i64,
    pub size: i64,
    pub website: String,
    pub industry: &'static str,
    pub monthly_spend: i64,
    pub session_count: i64,
    pub custom: CompanyCustom,
    pub tags: Vec<Tagging>,
    pub segments: Vec<u32>,
    /// Contact indexes, ascending.
    pub contacts: Vec<u32>,
    pub notes: Vec<u32>,
}

/// Who wrote a conversation part or source.
#[derive(Clone, Copy, Debug)]
pub enum Author {
    Admin(u32),
    Contact(u32),
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

/// Custom attributes of a conversation.
#[derive(Clone, Debug, Default)]
pub struct ConversationCustom {
    pub issue_type: Option<&'static str>,
    pub escalated: Option<bool>,
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
    pub contacts: Vec<u32>,
    pub teammates: Vec<u32>,
    pub tags: Vec<Tagging>,
    pub statistics: Statistics,
    pub rating: Option<Rating>,
    pub custom: ConversationCustom,
    pub ai_agent_participated: bool,
    pub company: Option<u32>,
    pub parts: Vec<Part>,
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
    pub name: &'static str,
    pub description: &'static str,
    pub data_type: &'static str,
    pub order: i64,
}

/// Ticket type.
#[derive(Clone, Debug)]
pub struct TicketType {
    pub id: u64,
    pub name: &'static str,
    pub description: &'static str,
    pub icon: &'static str,
    pub category: &'static str,
    pub created_at: i64,
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
    pub attributes: Vec<(&'static str, serde_json::Value)>,
    pub parts: Vec<TicketPart>,
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
    pub name: &'static str,
    pub full_name: String,
    pub label: &'static str,
    pub description: &'static str,
    pub data_type: &'static str,
    pub options: Option<Vec<&'static str>>,
    pub api_writable: bool,
    pub custom: bool,
    pub created_at: Option<i64>,
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
    /// external_id -> contact index.
    pub contact_by_external_id: HashMap<String, u32>,
    /// Indexes of companies with at least one contact, in id order (§4.6).
    pub visible_companies: Vec<u32>,
}

/// Position of a digit-string id in a `Vec` sorted by numeric id.
fn find_numeric<T>(items: &[T], id: &str, key: impl Fn(&T) -> u64) -> Option<usize> {
    let wanted: u64 = id.trim().parse().ok()?;
    items.binary_search_by_key(&wanted, key).ok()
}

impl Store {
    /// Contact by its 24-hex id.
    pub fn contact_index(&self, id: &str) -> Option<usize> {
        self.contacts
            .binary_search_by(|c| c.id.as_str().cmp(id))
            .ok()
    }

    /// Company by its Intercom id.
    pub fn company_index(&self, id: &str) -> Option<usize> {
        self.companies
            .binary_search_by(|c| c.id.as_str().cmp(id))
            .ok()
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
        find_numeric(&self.tags, id, |t| t.id)
    }

    /// Conversation by numeric id.
    pub fn conversation_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.conversations, id, |c| c.id)
    }

    /// Ticket by numeric id.
    pub fn ticket_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.tickets, id, |t| t.id)
    }

    /// Note by numeric id.
    pub fn note_index(&self, id: &str) -> Option<usize> {
        find_numeric(&self.notes, id, |n| n.id)
    }
}
