//! Built-in Intercom emulator: an axum app that speaks Intercom REST API 2.15 over a seeded,
//! in-memory workspace. The same [`router`] serves tests, demo mode and
//! `intercom-sql emulator --listen …`.
//!
//! It shares no Rust types with the client on purpose: responses are built from the OpenAPI
//! description's field names, so a serde mistake cannot hide on both sides. Every API request
//! goes through one middleware (auth, rate limit, latency, faults, request log); admin routes
//! under `/__emulator/` skip it.
//!
//! The workspace is writable (docs/intercom-notes.md, "Writes"): the store sits behind one
//! `RwLock`. Reads take the shared lock for the duration of one handler; writes go through
//! [`EmulatorState::write`], which validates and mutates under the exclusive lock, then bumps
//! the store generation, rebuilds the search schemas (custom attributes may have changed) and
//! drops the search cache.

mod error;
mod faults;
mod range_index;
mod render;
mod routes;
pub mod search;
mod seed;
mod store;
mod webhooks;

use std::collections::VecDeque;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use serde_json::Value;
use serde_json::value::RawValue;

pub use error::ApiError;
use faults::{ConnHandle, KillableListener};
use range_index::RangeIndex;
use search::Searchable;
pub use webhooks::{DeliveryRecord, WebhookTarget};

/// Settings of one emulated workspace.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Same seed -> identical workspace (ids, names, timestamps).
    pub seed: u64,
    /// Number of contacts (default 200).
    pub contacts: usize,
    /// Number of companies (default 30).
    pub companies: usize,
    /// Number of conversations (default 100).
    pub conversations: usize,
    /// Number of tickets (default 20).
    pub tickets: usize,
    /// The accepted bearer token (default `demo-token`).
    pub token: String,
    /// Time from a request's arrival to its answer, the emulator's own work included, for every
    /// API request (default 0).
    pub latency: Duration,
    /// Up to this much more latency, drawn uniformly for each response (default 0).
    pub jitter: Duration,
    /// Requests per window before 429; `None` = unlimited (headers still sent).
    pub rate_limit_per_window: Option<u32>,
    /// Length of a rate-limit window in seconds (Intercom's is 10; default 10).
    pub rate_window_secs: u64,
    /// The workspace's data-hosting region as `GET /me` names it (`US`, `Europe`,
    /// `Australia`; default `US`).
    pub region: String,
    /// Workspace time zone (IANA name, default `UTC`): `/me` and contact-search day truncation.
    pub timezone: String,
    /// On which status read an export job is finished (default 1: the first; tests of
    /// waiting for a job raise it).
    pub export_status_reads: u32,
    /// Send a signed webhook notification here for each change (default none; see
    /// [`EmulatorState::send_webhooks_to`]).
    pub webhooks: Option<WebhookTarget>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            contacts: 200,
            companies: 30,
            conversations: 100,
            tickets: 20,
            token: "demo-token".to_string(),
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            rate_limit_per_window: None,
            rate_window_secs: WINDOW_SECS,
            timezone: "UTC".to_string(),
            export_status_reads: 1,
            webhooks: None,
            region: "US".to_string(),
        }
    }
}

/// One API request as served (admin paths excluded).
#[derive(Clone, Debug, serde::Serialize)]
pub struct RequestRecord {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without query string.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// JSON body (a JSON string holding the raw text when the body was not JSON).
    pub body: Option<Value>,
    /// Status answered; 0 when the connection was dropped by a `Fault::Drop`.
    pub status: u16,
    /// When the request arrived, in milliseconds since the Unix epoch (for timelines of a
    /// read: which requests were in flight together).
    pub received_ms: u64,
    /// The `Intercom-Version` header it was sent with, if any.
    pub version: Option<String>,
}

/// An opt-in fault applied to the next `count` matching requests.
#[derive(Clone, Debug)]
pub struct FaultRule {
    /// Only requests whose path starts with this (any path when `None`).
    pub path_prefix: Option<String>,
    /// Only requests with this method (any when `None`), case-insensitive.
    pub method: Option<String>,
    /// What to do.
    pub fault: Fault,
    /// How many matching requests it applies to.
    pub count: u32,
}

/// What a fault does to a request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and a realistic error.list body.
    Status(u16),
    /// 429 `rate_limit_exceeded`, `X-RateLimit-Remaining: 0`, `Reset` = now + this.
    RateLimited {
        /// Seconds until `X-RateLimit-Reset`.
        reset_after_secs: u64,
    },
    /// Close the connection without any HTTP response (needs [`spawn`] or [`serve`]).
    Drop,
    /// Delay this response (by this much more than the latency).
    Slow(Duration),
    /// On a paginated response, return the request's own cursor as the next cursor.
    CursorLoop,
    /// Serve the request (a write is applied), then send only the first half of the body in a
    /// complete response: the JSON ends early, as when a proxy cuts a response short.
    Truncate,
}

/// Searches whose match lists are kept (see [`EmulatorState::cached_matches`]).
const SEARCH_CACHE_ENTRIES: usize = 512;
/// Default `X-RateLimit-Limit` when no budget is configured.
const UNLIMITED_WINDOW: u32 = 10_000;
/// Rate-limit window (docs/intercom-notes.md, "Errors and rate limits").
const WINDOW_SECS: u64 = 10;

struct RateWindow {
    window: u64,
    used: u32,
}

pub(crate) struct Scroll {
    pub(crate) param: String,
    pub(crate) next: usize,
    pub(crate) last_used: std::time::Instant,
}

/// The store plus what is derived from it for search; guarded together.
pub(crate) struct Db {
    pub(crate) store: store::Store,
    pub(crate) contact_schema: search::SearchSchema,
    pub(crate) conversation_schema: search::SearchSchema,
    pub(crate) ticket_schema: search::SearchSchema,
    /// Each contact's JSON, rendered when first served: a page of contacts is then a copy.
    /// A write rebuilds the `Db`, so no entry outlives the contact it shows.
    contact_json: Vec<OnceLock<Box<RawValue>>>,
    /// Each conversation (without parts) as lists and searches show it, and each ticket as its
    /// search reads it: rendered once, for search to test.
    conversation_value: Vec<OnceLock<Value>>,
    ticket_search_value: Vec<OnceLock<Value>>,
    /// Each conversation, ticket and company as lists and searches show it, as JSON text: a
    /// page is a copy.
    conversation_json: Vec<OnceLock<Box<RawValue>>>,
    ticket_json: Vec<OnceLock<Box<RawValue>>>,
    company_json: Vec<OnceLock<Box<RawValue>>>,
    /// Each note as JSON text: a contact's or company's notes page is a copy.
    note_json: Vec<OnceLock<Box<RawValue>>>,
    /// Each searched model's records by creation time, built when first searched.
    contacts_by_created: OnceLock<RangeIndex>,
    conversations_by_created: OnceLock<RangeIndex>,
    tickets_by_created: OnceLock<RangeIndex>,
}

/// The field partitioned reads bound their windows by.
pub(crate) const CREATED_AT: &str = "created_at";

/// A whole-number field's value, for a [`RangeIndex`].
fn whole(value: search::FieldValue<'_>) -> Option<i64> {
    match value {
        search::FieldValue::Int(v) => Some(v),
        _ => None,
    }
}

/// `count` empty cells.
fn cells<T>(count: usize) -> Vec<OnceLock<T>> {
    (0..count).map(|_| OnceLock::new()).collect()
}

/// The JSON text in `cells[index]`, written from `make` the first time (`null` out of range).
fn cached_json(
    cells: &[OnceLock<Box<RawValue>>],
    index: usize,
    make: impl FnOnce() -> Box<RawValue>,
) -> &RawValue {
    static NULL: std::sync::LazyLock<Box<RawValue>> = std::sync::LazyLock::new(Box::default);
    cells
        .get(index)
        .map_or(&NULL, |cell| cell.get_or_init(make))
}

/// `value` as JSON text.
fn json_text(value: &impl serde::Serialize) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_default()
}

/// The value in `cells[index]`, made by `make` the first time (`Value::Null` out of range).
fn cached(cells: &[OnceLock<Value>], index: usize, make: impl FnOnce() -> Value) -> &Value {
    static NULL: Value = Value::Null;
    cells
        .get(index)
        .map_or(&NULL, |cell| cell.get_or_init(make))
}

impl Db {
    fn new(store: store::Store, tz: Tz) -> Self {
        Self {
            contact_json: cells(store.contacts.len()),
            conversation_value: cells(store.conversations.len()),
            ticket_search_value: cells(store.tickets.len()),
            conversation_json: cells(store.conversations.len()),
            ticket_json: cells(store.tickets.len()),
            company_json: cells(store.companies.len()),
            note_json: cells(store.notes.len()),
            contacts_by_created: OnceLock::new(),
            conversations_by_created: OnceLock::new(),
            tickets_by_created: OnceLock::new(),
            contact_schema: render::contact_schema(&store, tz),
            conversation_schema: render::conversation_schema(&store, tz),
            ticket_schema: render::ticket_schema(&store, tz),
            store,
        }
    }
}

impl Db {
    /// Contact `index` as `GET /contacts/{id}` shows it, rendered once.
    pub(crate) fn contact_json(&self, index: usize) -> &RawValue {
        cached_json(&self.contact_json, index, || {
            json_text(&render::contact(&self.store, index))
        })
    }

    /// Company `index` as `GET /companies/{id}` and the lists show it, rendered once.
    pub(crate) fn company_json(&self, index: usize) -> &RawValue {
        cached_json(&self.company_json, index, || {
            json_text(&render::company(&self.store, index))
        })
    }

    /// Note `index` as `GET /notes/{id}` and the notes lists show it, rendered once.
    pub(crate) fn note_json(&self, index: usize) -> &RawValue {
        cached_json(&self.note_json, index, || {
            json_text(&render::note(&self.store, index))
        })
    }
}

impl Db {
    /// Conversation `index` as lists and searches show it (no parts), rendered once.
    pub(crate) fn conversation_value(&self, index: usize) -> &Value {
        cached(&self.conversation_value, index, || {
            render::conversation(&self.store, index, false)
        })
    }

    /// [`Db::conversation_value`] as JSON text, written once.
    pub(crate) fn conversation_json(&self, index: usize) -> &RawValue {
        cached_json(&self.conversation_json, index, || {
            json_text(self.conversation_value(index))
        })
    }

    /// Ticket `index` as its search reads it, rendered once.
    pub(crate) fn ticket_search_value(&self, index: usize) -> &Value {
        cached(&self.ticket_search_value, index, || {
            render::ticket_search_json(&self.store, index)
        })
    }

    /// Ticket `index` as lists and searches show it, as JSON text written once.
    pub(crate) fn ticket_json(&self, index: usize) -> &RawValue {
        cached_json(&self.ticket_json, index, || {
            json_text(&render::ticket(&self.store, index))
        })
    }

    /// Contacts by `created_at` as their search reads it.
    pub(crate) fn contacts_by_created(&self) -> &RangeIndex {
        self.contacts_by_created.get_or_init(|| {
            RangeIndex::build(self.store.contacts.len(), |i| {
                let record = render::ContactRecord {
                    store: &self.store,
                    contact: &self.store.contacts[i],
                };
                whole(record.field(CREATED_AT))
            })
        })
    }

    /// Conversations by `created_at` as their search reads it.
    pub(crate) fn conversations_by_created(&self) -> &RangeIndex {
        self.conversations_by_created.get_or_init(|| {
            RangeIndex::build(self.store.conversations.len(), |i| {
                whole(render::JsonRecord(self.conversation_value(i)).field(CREATED_AT))
            })
        })
    }

    /// Tickets by `created_at` as their search reads it.
    pub(crate) fn tickets_by_created(&self) -> &RangeIndex {
        self.tickets_by_created.get_or_init(|| {
            RangeIndex::build(self.store.tickets.len(), |i| {
                whole(render::JsonRecord(self.ticket_search_value(i)).field(CREATED_AT))
            })
        })
    }
}

impl Deref for Db {
    type Target = store::Store;

    fn deref(&self) -> &store::Store {
        &self.store
    }
}

struct Inner {
    config: EmulatorConfig,
    tz: Tz,
    db: RwLock<Db>,
    log: Mutex<Vec<RequestRecord>>,
    faults: Mutex<Vec<FaultRule>>,
    rate: Mutex<RateWindow>,
    scroll: Mutex<Option<Scroll>>,
    search_cache: Mutex<VecDeque<(String, Arc<Vec<u32>>)>>,
    webhooks: webhooks::Webhooks,
}

/// The emulator's shared state: store, request log, faults and config behind one handle.
#[derive(Clone)]
pub struct EmulatorState {
    inner: Arc<Inner>,
}

/// Locks a mutex, recovering the data if a previous holder panicked (the data stays usable:
/// every critical section leaves it consistent).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl EmulatorState {
    /// Seeds a workspace from the config. An unknown time zone falls back to UTC.
    pub fn new(mut config: EmulatorConfig) -> Self {
        let tz: Tz = config.timezone.parse().unwrap_or(Tz::UTC);
        config.timezone = tz.name().to_string();
        let store = seed::seed(&config);
        let hooks = webhooks::Webhooks::default();
        hooks.set_target(config.webhooks.clone());
        Self {
            inner: Arc::new(Inner {
                db: RwLock::new(Db::new(store, tz)),
                tz,
                config,
                log: Mutex::new(Vec::new()),
                faults: Mutex::new(Vec::new()),
                rate: Mutex::new(RateWindow { window: 0, used: 0 }),
                scroll: Mutex::new(None),
                search_cache: Mutex::new(VecDeque::new()),
                webhooks: hooks,
            }),
        }
    }

    /// Every API request served so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.inner.log).clone()
    }

    /// Number of API requests served so far.
    pub fn request_count(&self) -> usize {
        lock(&self.inner.log).len()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        lock(&self.inner.log).clear();
    }

    /// Adds a fault rule (rules are tried in insertion order).
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.inner.faults).push(rule);
    }

    /// Removes all fault rules.
    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// Every object of a kind, rendered as GET-by-id renders it, sorted by id.
    ///
    /// Kinds: `contacts`, `companies`, `conversations` (with parts), `tickets`, `tags`,
    /// `segments`, `admins`, `teams`, `notes`, `data_attributes`, `ticket_types`,
    /// `subscription_types`, `visitors`, `events`, `away_status_reasons`, `activity_logs`,
    /// `handling_events` (with `conversation_id`); anything else
    /// is empty. Objects the API no longer shows (deleted, archived, merged, converted) are
    /// left out.
    pub fn snapshot(&self, kind: &str) -> Vec<Value> {
        let guard = self.store();
        let s: &store::Store = &guard;
        let mut out: Vec<Value> = match kind {
            "contacts" => (0..s.contacts.len())
                .filter(|&i| s.contacts[i].is_live())
                .filter_map(|i| serde_json::to_value(render::contact(s, i)).ok())
                .collect(),
            "companies" => (0..s.companies.len())
                .filter(|&i| !s.companies[i].deleted)
                .map(|i| render::company(s, i))
                .collect(),
            "conversations" => (0..s.conversations.len())
                .filter(|&i| s.conversations[i].is_live())
                .map(|i| render::conversation(s, i, true))
                .collect(),
            "tickets" => (0..s.tickets.len())
                .filter(|&i| !s.tickets[i].deleted)
                .map(|i| render::ticket(s, i))
                .collect(),
            "tags" => (0..s.tags.len())
                .filter(|&i| !s.tags[i].deleted)
                .map(|i| render::tag(s, i, None))
                .collect(),
            "segments" => (0..s.segments.len())
                .map(|i| render::segment(s, i, None))
                .collect(),
            "admins" => (0..s.admins.len())
                .map(|i| render::admin(s, i, false))
                .collect(),
            "teams" => (0..s.teams.len()).map(|i| render::team(s, i)).collect(),
            "notes" => (0..s.notes.len()).map(|i| render::note(s, i)).collect(),
            "data_attributes" => s
                .data_attributes
                .iter()
                .map(render::data_attribute)
                .collect(),
            "ticket_types" => s
                .ticket_types
                .iter()
                .map(|t| render::ticket_type(s, t))
                .collect(),
            "subscription_types" => s
                .subscription_types
                .iter()
                .map(render::subscription_type)
                .collect(),
            "events" => s.events.iter().map(|e| render::data_event(s, e)).collect(),
            "away_status_reasons" => s
                .away_status_reasons
                .iter()
                .map(render::away_status_reason)
                .collect(),
            "activity_logs" => s
                .activity_logs
                .iter()
                .map(|l| render::activity_log(s, l))
                .collect(),
            // Each with its conversation's id, which the API's answer leaves to the path.
            "handling_events" => s
                .conversations
                .iter()
                .filter(|c| c.is_live())
                .flat_map(|c| {
                    s.handling_events.get(&c.id).into_iter().flatten().map(|e| {
                        let mut v = render::handling_event(s, e);
                        v["conversation_id"] = Value::String(c.id.to_string());
                        v
                    })
                })
                .collect(),
            "help_centers" => s.help_centers.clone(),
            "collections" => s.collections.clone(),
            "articles" => s.articles.clone(),
            "news_items" => s.news_items.clone(),
            "calls" => s.calls.clone(),
            "fin_voice_calls" => s.fin_voice_calls.clone(),
            "content_import_sources" => s.content_import_sources.clone(),
            "external_pages" => s.external_pages.clone(),
            "internal_articles" => s.internal_articles.clone(),
            "newsfeeds" => s.newsfeeds.clone(),
            "brands" => s.brands.clone(),
            "emails" => s.emails.clone(),
            "ip_allowlist" => vec![s.ip_allowlist.clone()],
            "custom_objects" => s.custom_objects.clone(),
            "visitors" => (0..s.visitors.len())
                .filter(|&i| s.visitors[i].converted_to.is_none())
                .map(|i| render::visitor(s, i))
                .collect(),
            _ => Vec::new(),
        };
        out.sort_by_cached_key(id_order);
        out
    }

    /// The store (and search schemas) under the shared lock; hold it for one handler only.
    pub(crate) fn store(&self) -> RwLockReadGuard<'_, Db> {
        self.inner
            .db
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one write under the exclusive lock. `change` must validate before it mutates, so
    /// an `Err` leaves the store untouched; on `Ok` the generation is bumped, the search
    /// schemas rebuilt (custom attributes may have been added) and the search cache dropped.
    /// The settings the emulator was started with.
    pub(crate) fn config(&self) -> &EmulatorConfig {
        &self.inner.config
    }

    pub(crate) fn write<R>(
        &self,
        change: impl FnOnce(&mut store::Store) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut db = self
            .inner
            .db
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let out = change(&mut db.store)?;
        db.store.generation += 1;
        let rebuilt = Db::new(std::mem::take(&mut db.store), self.inner.tz);
        *db = rebuilt;
        lock(&self.inner.search_cache).clear();
        Ok(out)
    }

    pub(crate) fn scroll(&self) -> MutexGuard<'_, Option<Scroll>> {
        lock(&self.inner.scroll)
    }

    /// Cached match list of a search, computed by `compute` on a miss; keys carry the store
    /// generation and writes clear the cache, so a hit is never stale. Keeps page N of a large
    /// search O(page).
    pub(crate) fn cached_matches(
        &self,
        key: String,
        compute: impl FnOnce() -> Vec<u32>,
    ) -> Arc<Vec<u32>> {
        if let Some((_, hit)) = lock(&self.inner.search_cache)
            .iter()
            .find(|(k, _)| *k == key)
        {
            return hit.clone();
        }
        let matches = Arc::new(compute());
        let mut cache = lock(&self.inner.search_cache);
        // Room for the windows of a partitioned read (each its own search) over a few tables.
        if cache.len() >= SEARCH_CACHE_ENTRIES {
            cache.pop_front();
        }
        cache.push_back((key, matches.clone()));
        matches
    }

    /// The records a search of `query` matches (cached as [`EmulatorState::cached_matches`]
    /// under `key`): those of `index` that are `live` and that the query `matches`, in record
    /// order. Only the records inside the query's `created_at` bounds are tested, and none is
    /// when those bounds are exactly what the query asks (a partitioned read's windows).
    pub(crate) fn search_matches(
        &self,
        key: String,
        index: &RangeIndex,
        query: &search::Query,
        live: impl Fn(usize) -> bool,
        matches: impl Fn(usize) -> bool,
    ) -> Arc<Vec<u32>> {
        self.cached_matches(key, || match query.exact_int_range(CREATED_AT) {
            Some(range) => index
                .within(range)
                .into_iter()
                .filter(|&i| live(i as usize))
                .collect(),
            None => index
                .candidates(query.int_range(CREATED_AT))
                .into_iter()
                .filter(|&i| live(i as usize) && matches(i as usize))
                .collect(),
        })
    }

    /// Counts one request in the current 10-second window: (limit, remaining, reset, over).
    fn rate_tick(&self) -> (u32, u32, u64, bool) {
        let now = now_secs();
        let length = self.inner.config.rate_window_secs.max(1);
        let window = now / length;
        let mut rate = lock(&self.inner.rate);
        if rate.window != window {
            rate.window = window;
            rate.used = 0;
        }
        rate.used = rate.used.saturating_add(1);
        let limit = self
            .inner
            .config
            .rate_limit_per_window
            .unwrap_or(UNLIMITED_WINDOW);
        let over = self
            .inner
            .config
            .rate_limit_per_window
            .is_some_and(|l| rate.used > l);
        let remaining = limit.saturating_sub(rate.used);
        (limit, remaining, (window + 1) * length, over)
    }
}

/// Sort key of a rendered object's id: numeric ids by value, others lexically.
fn id_order(v: &Value) -> (u8, u64, String) {
    let id = match v.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => v
            .get("full_name")
            .and_then(Value::as_str)
            .map(|s| {
                format!(
                    "~{}:{s}",
                    v.get("model").and_then(Value::as_str).unwrap_or("")
                )
            })
            .unwrap_or_default(),
    };
    match id.parse::<u64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, id),
    }
}

/// Every (METHOD, path template) served under Intercom's namespace.
pub const ROUTES: &[(&str, &str)] = routes::ROUTES;

/// The custom object types the emulated workspace declares.
pub const CUSTOM_OBJECT_TYPES: [&str; 2] = routes::CUSTOM_OBJECT_TYPES;

/// The emulator's router: API routes behind the middleware, plus `/__emulator/*`.
pub fn router(state: EmulatorState) -> Router {
    let api = routes::api_routes()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api_middleware,
        ))
        .with_state(state.clone());
    let admin = Router::new()
        .route(
            "/__emulator/requests",
            axum::routing::get(admin_requests).delete(admin_clear),
        )
        .route("/__emulator/stats", axum::routing::get(admin_stats))
        .with_state(state);
    api.merge(admin)
}

async fn admin_requests(State(state): State<EmulatorState>) -> Response {
    axum::Json(state.requests()).into_response()
}

async fn admin_clear(State(state): State<EmulatorState>) -> Response {
    state.clear_requests();
    StatusCode::NO_CONTENT.into_response()
}

async fn admin_stats(State(state): State<EmulatorState>) -> Response {
    let rate_limited = lock(&state.inner.log)
        .iter()
        .filter(|r| r.status == 429)
        .count();
    axum::Json(serde_json::json!({
        "requests": state.request_count(),
        "rate_limited": rate_limited,
    }))
    .into_response()
}

/// The cursor a request carries (query `starting_after`, or body `pagination.starting_after`).
fn request_cursor(query: Option<&str>, body: Option<&Value>) -> Option<String> {
    if let Some(cursor) = body
        .and_then(|b| b.pointer("/pagination/starting_after"))
        .and_then(Value::as_str)
    {
        return Some(cursor.to_string());
    }
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "starting_after")
        .map(|(_, v)| routes::percent_decode(v))
}

fn is_authorized(req: &axum::http::request::Parts, token: &str) -> bool {
    req.headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
        })
        .is_some_and(|t| t == token)
}

/// Auth, rate limit, latency, faults and the request log, around every API request.
async fn api_middleware(State(state): State<EmulatorState>, req: Request, next: Next) -> Response {
    let arrived = tokio::time::Instant::now();
    let received_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 32 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body_json = if bytes.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice::<Value>(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        )
    };
    let method = parts.method.as_str().to_string();
    let version = parts
        .headers
        .get("intercom-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let cursor = request_cursor(query.as_deref(), body_json.as_ref());
    let fault = faults::take_matching(
        &mut lock(&state.inner.faults),
        &method,
        &path,
        cursor.is_some(),
    );
    let jitter = state.inner.config.jitter;
    let latency = state.inner.config.latency
        + jitter.mul_f64(if jitter.is_zero() {
            0.0
        } else {
            fastrand::f64()
        });
    // A slow answer is that much later than the latency would make it.
    let slow = match &fault {
        Some(Fault::Slow(delay)) => *delay,
        _ => Duration::ZERO,
    };
    if !slow.is_zero() {
        tokio::time::sleep(slow).await;
    }
    let (limit, mut remaining, mut reset, over) = state.rate_tick();
    let mut response = if !is_authorized(&parts, &state.inner.config.token) {
        ApiError::new(401, "unauthorized", "Access Token Invalid").into_response()
    } else if over {
        remaining = 0;
        ApiError::new(429, "rate_limit_exceeded", "Rate limit exceeded").into_response()
    } else {
        match &fault {
            Some(Fault::Status(code)) => {
                let (status, code, message) = faults::status_error(*code);
                ApiError::new(status, code, message).into_response()
            }
            Some(Fault::RateLimited { reset_after_secs }) => {
                remaining = 0;
                reset = now_secs() + reset_after_secs;
                ApiError::new(429, "rate_limit_exceeded", "Rate limit exceeded").into_response()
            }
            Some(Fault::Drop) => match parts.extensions.get::<ConnectInfo<ConnHandle>>() {
                Some(ConnectInfo(handle)) => {
                    // Dropped when the answer would have come.
                    tokio::time::sleep_until(arrived + latency + slow).await;
                    handle.kill();
                    lock(&state.inner.log).push(RequestRecord {
                        method,
                        path,
                        query,
                        body: body_json,
                        status: 0,
                        received_ms,
                        version,
                    });
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
                // Served without `spawn`/`serve`: the socket is out of reach; answer 500.
                None => ApiError::new(500, "server_error", "Server error").into_response(),
            },
            _ => {
                let req = Request::from_parts(parts, Body::from(bytes));
                let mut response = next.run(req).await;
                if matches!(method.as_str(), "POST" | "PUT" | "DELETE")
                    && response.status().is_success()
                    && state.sends_webhooks()
                {
                    let (head, body) = response.into_parts();
                    let answer = axum::body::to_bytes(body, usize::MAX)
                        .await
                        .unwrap_or_default();
                    state.after_write(&method, &path, body_json.as_ref(), &answer);
                    response = Response::from_parts(head, Body::from(answer));
                }
                match (&fault, cursor) {
                    (Some(Fault::CursorLoop), Some(cursor)) => {
                        repeat_cursor(response, &cursor).await
                    }
                    (Some(Fault::Truncate), _) => truncate_body(response).await,
                    _ => response,
                }
            }
        }
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", limit as u64),
        ("x-ratelimit-remaining", remaining as u64),
        ("x-ratelimit-reset", reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    lock(&state.inner.log).push(RequestRecord {
        method,
        path,
        query,
        body: body_json,
        status: response.status().as_u16(),
        received_ms,
        version,
    });
    // The answer goes out `latency` after the request came, the emulator's own work included,
    // as a latency measured against Intercom includes Intercom's.
    let due = arrived + latency + slow;
    if due > tokio::time::Instant::now() {
        tokio::time::sleep_until(due).await;
    }
    response
}

/// Rewrites `pages.next.starting_after` of a JSON response to `cursor` (Fault::CursorLoop).
async fn repeat_cursor(response: Response, cursor: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Some(next) = json
        .pointer_mut("/pages/next")
        .and_then(Value::as_object_mut)
    {
        next.insert("starting_after".into(), Value::String(cursor.to_string()));
    }
    let body = serde_json::to_vec(&json).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// Keeps the first half of a response's body, with a `Content-Length` to match, so the
/// response is complete but its JSON ends early (Fault::Truncate).
async fn truncate_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(half))
}

/// A running emulator; shuts down when dropped.
pub struct RunningEmulator {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The served state (request log, faults, snapshots).
    pub state: EmulatorState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let handle = std::mem::replace(&mut self.handle, tokio::spawn(async {}));
        let _ = handle.await;
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn bind(
    config: EmulatorConfig,
    addr: &str,
) -> std::io::Result<(KillableListener, std::net::SocketAddr, EmulatorState)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let state = tokio::task::spawn_blocking(move || EmulatorState::new(config))
        .await
        .map_err(std::io::Error::other)?;
    Ok((KillableListener(listener), local, state))
}

/// Binds `addr` (e.g. `127.0.0.1:0`) before returning, then serves in a tokio task.
pub async fn spawn(config: EmulatorConfig, addr: &str) -> std::io::Result<RunningEmulator> {
    let (listener, local, state) = bind(config, addr).await?;
    let app = router(state.clone()).into_make_service_with_connect_info::<ConnHandle>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningEmulator {
        base_url: format!("http://{local}"),
        state,
        shutdown: Some(tx),
        handle,
    })
}

/// Serves in the foreground until the process ends (`intercom-sql emulator --listen …`).
/// Every contact, conversation and ticket is rendered before the first request, so serving
/// is a copy.
pub async fn serve(config: EmulatorConfig, addr: &str) -> std::io::Result<()> {
    let (listener, _local, state) = bind(config, addr).await?;
    let warm = state.clone();
    tokio::task::spawn_blocking(move || {
        let db = warm.store();
        for i in 0..db.contacts.len() {
            db.contact_json(i);
        }
        for i in 0..db.conversations.len() {
            db.conversation_json(i);
        }
        for i in 0..db.tickets.len() {
            db.ticket_json(i);
            db.ticket_search_value(i);
        }
        for i in 0..db.companies.len() {
            db.company_json(i);
        }
        for i in 0..db.notes.len() {
            db.note_json(i);
        }
    })
    .await
    .map_err(std::io::Error::other)?;
    let app = router(state).into_make_service_with_connect_info::<ConnHandle>();
    axum::serve(listener, app).await
}

#[cfg(test)]
#[path = "emulator_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "write_tests.rs"]
mod write_tests;
