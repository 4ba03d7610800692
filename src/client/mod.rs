//! The Intercom HTTP client: bearer auth, `Intercom-Version`, timeouts, retries and request
//! counters. It knows nothing of DataFusion; the provider layer turns its JSON into Arrow.

pub mod budget;
pub mod cache;
mod raw_path;
pub use raw_path::split_raw_path;
mod envelope;
mod error;
pub mod pagination;
pub mod retry;
mod structure;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub use crate::tables::path::{fill_path, path_segment};
pub(crate) use envelope::utf8_string;
pub use envelope::{Item, Member};
pub use error::{ApiError, ClientError};
pub use pagination::{ListRequest, Page, PageStyle};
use retry::{Decision, Outcome, Policy, RequestKind};
pub(crate) use structure::{SPACED, Structure, padded_chunks};

use crate::config::Config;

/// Request counters. The client keeps one set for everything it sends; a request can carry
/// another set (a scan's, for `EXPLAIN ANALYZE`) that is counted as well.
#[derive(Debug, Default)]
pub struct RequestCounters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limit_waits: AtomicU64,
    waited_ms: AtomicU64,
    throttled: AtomicU64,
    throttled_ms: AtomicU64,
    cache_hits: AtomicU64,
    /// How old a cached answer its reads may take (`intercom.cache_ttl`; `None`: none, and
    /// their answers are not stored either).
    cache_ttl: Option<Duration>,
}

impl RequestCounters {
    /// Counters for reads that may take cached answers up to `ttl` old (see
    /// [`cache::ResponseCache`]); `None` or zero: no cache.
    pub fn cached(ttl: Option<Duration>) -> Self {
        Self {
            cache_ttl: ttl.filter(|t| !t.is_zero()),
            ..Self::default()
        }
    }

    /// The counts so far.
    pub fn snapshot(&self) -> ClientStats {
        ClientStats {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limit_waits: self.rate_limit_waits.load(Ordering::Relaxed),
            waited: Duration::from_millis(self.waited_ms.load(Ordering::Relaxed)),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttled_for: Duration::from_millis(self.throttled_ms.load(Ordering::Relaxed)),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
        }
    }

    fn throttle(&self, wait: Duration) {
        if !wait.is_zero() {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            self.throttled_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
        }
    }

    fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn retry(&self, wait: Duration, rate_limited: bool) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        if rate_limited {
            self.rate_limit_waits.fetch_add(1, Ordering::Relaxed);
        }
        self.waited_ms
            .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
    }
}

/// A snapshot of the client's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests that were repeated after a 429, 5xx, transport error or cut-short body.
    pub retries: u64,
    /// Retries that waited for the rate-limit window.
    pub rate_limit_waits: u64,
    /// Total time spent waiting before retries.
    pub waited: Duration,
    /// Requests held back by the shared budget (a spent rate-limit window, or `--max-rps`)
    /// before they were sent.
    pub throttled: u64,
    /// Total time those requests were held.
    pub throttled_for: Duration,
    /// Reads answered from the cache, not sent (`intercom.cache_ttl`).
    pub cache_hits: u64,
}

/// What the pages read since the last [`ScanProgress::restart`] held: for the shell's progress
/// line on long scans. Counted by the pagination of every listing and search.
#[derive(Debug, Default)]
pub struct ScanProgress {
    pages: AtomicU64,
    items: AtomicU64,
    /// The first listing since the restart whose first page gave a `total_count`: its path and
    /// that total, and the items its pages have held so far.
    expected: std::sync::Mutex<Option<(String, u64)>>,
    expected_items: AtomicU64,
}

impl ScanProgress {
    /// Starts counting afresh (a new statement).
    pub fn restart(&self) {
        self.pages.store(0, Ordering::Relaxed);
        self.items.store(0, Ordering::Relaxed);
        self.expected_items.store(0, Ordering::Relaxed);
        if let Ok(mut expected) = self.expected.lock() {
            *expected = None;
        }
    }

    /// Pages read, items they held, and (path, items read, total) of the listing that
    /// announced a total first, if one did.
    pub fn read(&self) -> (u64, u64, Option<(String, u64, u64)>) {
        let expected = self.expected.lock().ok().and_then(|e| e.clone());
        (
            self.pages.load(Ordering::Relaxed),
            self.items.load(Ordering::Relaxed),
            expected
                .map(|(path, total)| (path, self.expected_items.load(Ordering::Relaxed), total)),
        )
    }

    /// One page of `items` items from the listing at `path`; `total` is the `total_count` of
    /// its first page.
    pub(crate) fn page(&self, path: &str, items: usize, total: Option<u64>) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(items as u64, Ordering::Relaxed);
        let Ok(mut expected) = self.expected.lock() else {
            return;
        };
        if expected.is_none()
            && let Some(total) = total.filter(|t| *t > 0)
        {
            *expected = Some((path.to_string(), total));
        }
        if expected.as_ref().is_some_and(|(p, _)| p == path) {
            self.expected_items
                .fetch_add(items as u64, Ordering::Relaxed);
        }
    }
}

/// One API call: method, path relative to the base URL, query and JSON body.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    /// HTTP method.
    pub method: Method,
    /// Path such as `/contacts/search`.
    pub path: String,
    /// Query-string pairs.
    pub query: Vec<(String, String)>,
    /// JSON body, for POST and PUT.
    pub body: Option<Value>,
    /// Reads are retried on 5xx; writes are not.
    pub kind: RequestKind,
    /// Extra counters this request is counted in (besides the client's own).
    pub counters: Option<Arc<RequestCounters>>,
    /// Whether a 2xx body is parsed once more to check that its JSON is whole (a body cut
    /// short is fetched again). Off when the caller's own parse is the check
    /// ([`IntercomClient::send_parsed`]): each page is then parsed once less.
    check_whole: bool,
    /// Headers sent besides the client's own (`intercom_api`'s `headers`: a different
    /// `Intercom-Version` for one call). Never the authorization: see [`ApiRequest::with_header`].
    pub headers: Vec<(String, String)>,
    /// Whether a redirect (`3xx`) is the answer rather than an error: its `Location` is
    /// returned as the body, and not followed (`GET /calls/{id}/recording`). The client never
    /// follows redirects: the token would go to another host.
    pub keep_redirect: bool,
}

/// Where progress lines go (see [`IntercomClient::report_progress_to`]).
pub type ProgressSink = Arc<dyn Fn(&str) + Send + Sync>;

/// The cache key of a read whose counters allow cached answers, and how old one may be.
/// Scroll pages are never cached: their `scroll_param` is a cursor Intercom keeps for a
/// minute, one per app at a time.
fn cache_key(request: &ApiRequest) -> Option<(String, Duration)> {
    let ttl = request.counters.as_ref()?.cache_ttl?;
    if request.is_write() || request.keep_redirect || request.path.contains("/scroll") {
        return None;
    }
    let query: Vec<String> = request
        .query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let body = request
        .body
        .as_ref()
        .map(Value::to_string)
        .unwrap_or_default();
    let headers: Vec<String> = request
        .headers
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect();
    Some((
        format!(
            "{} {}?{} {body} {}",
            request.method,
            request.path,
            query.join("&"),
            headers.join(",")
        ),
        ttl,
    ))
}

/// A JSON string, or a number written out; `None` for anything else.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Headers a request may not set itself: the token, and what the client or HTTP decides.
const RESERVED_HEADERS: [&str; 6] = [
    "authorization",
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
];

impl ApiRequest {
    /// This request with one more header; refuses the ones the client sets itself (the
    /// authorization above all) and names that are not valid headers. The error says which,
    /// never the value.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, String> {
        let lower = name.trim().to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(format!(
                "header {name} is set by intercom-sql and cannot be given"
            ));
        }
        reqwest::header::HeaderName::from_bytes(lower.as_bytes())
            .map_err(|_| format!("'{name}' is not a valid header name"))?;
        reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header {name} is not valid header text"))?;
        self.headers.push((lower, value.to_string()));
        Ok(self)
    }
    /// A GET (a read).
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            kind: RequestKind::Read,
            counters: None,
            check_whole: true,
            headers: Vec::new(),
            keep_redirect: false,
        }
    }
    /// A POST that only reads (searches): retried like a GET.
    pub fn search(path: impl Into<String>, body: Value) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            query: Vec::new(),
            body: Some(body),
            kind: RequestKind::Read,
            counters: None,
            check_whole: true,
            headers: Vec::new(),
            keep_redirect: false,
        }
    }
    /// A write (POST, PUT or DELETE) with an optional JSON body. Not repeated after a 5xx or a
    /// lost connection, since Intercom may have processed it; see [`ApiRequest::idempotent`].
    pub fn write(method: Method, path: impl Into<String>, body: Option<Value>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body,
            kind: RequestKind::Write,
            counters: None,
            check_whole: true,
            headers: Vec::new(),
            keep_redirect: false,
        }
    }
    /// Marks a write as safe to repeat (an update to fixed values, a delete, archive, tag):
    /// it is then retried after a 5xx or a lost connection like a read.
    pub fn idempotent(mut self) -> Self {
        if self.kind == RequestKind::Write {
            self.kind = RequestKind::IdempotentWrite;
        }
        self
    }
    /// Whether the request changes the workspace (anything but a read).
    pub fn is_write(&self) -> bool {
        self.kind != RequestKind::Read
    }
    /// Adds a query parameter.
    pub fn with_query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    /// `METHOD /path`, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The client. Cheap to share behind an `Arc`; every table of a session uses the same one, so
/// the counters and the connection pool are per workspace.
/// Searches whose shape a client keeps (see [`IntercomClient::keep_shape`]).
pub const KEPT_SHAPES: usize = 256;

/// How a whole read of one search was cut: windows `[lo, hi)` of its partition field (`None`
/// open) that cover it, and the objects a window was sized to hold.
#[derive(Clone, Debug)]
pub struct KeptShape {
    pub windows: Vec<(Option<i64>, Option<i64>)>,
    pub target: u64,
    pub at: std::time::Instant,
}

pub struct IntercomClient {
    http: reqwest::Client,
    config: Config,
    counters: Arc<RequestCounters>,
    budget: Arc<budget::Budget>,
    /// The `total_count` each whole collection reported when last listed (see
    /// [`IntercomClient::listed_total`]).
    listed: Arc<std::sync::Mutex<std::collections::HashMap<String, u64>>>,
    /// How whole reads of each search were last cut (see [`IntercomClient::kept_shape`]).
    shapes: Arc<std::sync::Mutex<std::collections::HashMap<String, KeptShape>>>,
    /// The token's `GET /me`, once asked (see [`IntercomClient::token_admin`]).
    me: Arc<tokio::sync::OnceCell<Value>>,
    /// Where progress of long waits goes (the REPL: stderr on a terminal), once set.
    progress: Arc<std::sync::OnceLock<ProgressSink>>,
    /// Pages and items read, for the shell's progress line.
    scan_progress: Arc<ScanProgress>,
    /// Answers to reads, for sessions with `intercom.cache_ttl`.
    cache: Arc<cache::ResponseCache>,
}

impl std::fmt::Debug for IntercomClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntercomClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl IntercomClient {
    /// Builds a client. Sends nothing.
    pub fn new(config: Config) -> Result<Self, ClientError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token.expose()))
            .map_err(|_| {
                ClientError::Config(
                    "the access token contains characters not allowed in an HTTP header".into(),
                )
            })?;
        auth.set_sensitive(true);
        let version = HeaderValue::from_str(&config.api_version).map_err(|_| {
            ClientError::Config(format!("invalid API version {:?}", config.api_version))
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert("Intercom-Version", version);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("intercom-sql/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build()
            .map_err(|e| ClientError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            budget: budget::Budget::shared(&config),
            config,
            counters: Arc::default(),
            listed: Arc::default(),
            shapes: Arc::default(),
            me: Arc::default(),
            progress: Arc::default(),
            scan_progress: Arc::default(),
            cache: Arc::default(),
        })
    }

    /// The token's `GET /me`, asked once per client: a bulk call leaving its admin out sends
    /// one `GET /me`, not one per row.
    async fn me(&self) -> Result<&Value, ClientError> {
        self.me
            .get_or_try_init(|| async { self.send(&ApiRequest::get("/me")).await })
            .await
    }

    /// The id of the admin the token acts as (`GET /me`, asked once per client). `None` when
    /// the answer names no admin.
    pub async fn token_admin(&self) -> Result<Option<String>, ClientError> {
        Ok(text_of(&self.me().await?["id"]))
    }

    /// The id code of the token's workspace (`app.id_code` of `GET /me`, asked once per
    /// client): what `app_id` parameters take. `None` when the answer names none.
    pub async fn token_app(&self) -> Result<Option<String>, ClientError> {
        Ok(text_of(&self.me().await?["app"]["id_code"]))
    }

    /// Sends progress of long waits (an export job's) to `sink`, from now on; a second sink
    /// is ignored. Nothing is reported before one is set.
    pub fn report_progress_to(&self, sink: ProgressSink) {
        let _ = self.progress.set(sink);
    }

    /// Reports one line of progress, when someone listens.
    pub fn progress(&self, line: &str) {
        if let Some(sink) = self.progress.get() {
            sink(line);
        }
    }

    /// The workspace's cached answers (see [`cache::ResponseCache`]).
    pub fn cache(&self) -> &cache::ResponseCache {
        &self.cache
    }

    /// Pages and items read by listings and searches (see [`ScanProgress`]).
    pub fn scan_progress(&self) -> &ScanProgress {
        &self.scan_progress
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The same client (connection pool, counters) refusing every write
    /// ([`IntercomClient::refuses`]): what a read-only server hands its sessions.
    pub fn read_only(&self) -> Self {
        let mut config = self.config.clone();
        config.read_only = true;
        Self {
            http: self.http.clone(),
            config,
            counters: self.counters.clone(),
            budget: self.budget.clone(),
            listed: self.listed.clone(),
            shapes: self.shapes.clone(),
            me: self.me.clone(),
            progress: self.progress.clone(),
            scan_progress: self.scan_progress.clone(),
            cache: self.cache.clone(),
        }
    }

    /// How many objects the collection at `path` (`/companies`) held when this client last
    /// listed it: the `total_count` of its latest listing without filters. What a plan uses to
    /// weigh a request per key against listing the whole collection; never a result.
    pub fn listed_total(&self, path: &str) -> Option<u64> {
        self.listed.lock().ok()?.get(path).copied()
    }

    /// Remembers the `total_count` a whole listing of the collection at `path` reported. Only
    /// top-level collections (one path segment, no query) are kept, so the map stays as small
    /// as the API.
    pub(crate) fn note_listed_total(&self, path: &str, total: u64) {
        let top_level = path.len() > 1 && !path[1..].contains(['/', '?']);
        if top_level && let Ok(mut listed) = self.listed.lock() {
            listed.insert(path.to_string(), total);
        }
    }

    /// How the last whole read of the search `key` (its path, partition field and query) was
    /// cut, if it ended less than `fresh_for` ago: where a new read starts instead of
    /// probing the search's size and spread again. A hint, never a result: the windows cover
    /// the whole field whatever changed since.
    pub fn kept_shape(&self, key: &str, fresh_for: Duration) -> Option<KeptShape> {
        let shapes = self.shapes.lock().ok()?;
        shapes
            .get(key)
            .filter(|kept| kept.at.elapsed() < fresh_for)
            .cloned()
    }

    /// Keeps how a whole read of the search `key` was cut; at most [`KEPT_SHAPES`] searches
    /// (the oldest is forgotten first).
    pub(crate) fn keep_shape(&self, key: String, shape: KeptShape) {
        if let Ok(mut shapes) = self.shapes.lock() {
            if shapes.len() >= KEPT_SHAPES
                && !shapes.contains_key(&key)
                && let Some(oldest) = shapes
                    .iter()
                    .min_by_key(|(_, kept)| kept.at)
                    .map(|(k, _)| k.clone())
            {
                shapes.remove(&oldest);
            }
            shapes.insert(key, shape);
        }
    }

    /// Forgets how a whole read of the search `key` was cut (it no longer says how to read it).
    pub(crate) fn forget_shape(&self, key: &str) {
        if let Ok(mut shapes) = self.shapes.lock() {
            shapes.remove(key);
        }
    }

    /// The request budget this client shares with every other client of the same app.
    pub fn budget(&self) -> &budget::Budget {
        &self.budget
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> ClientStats {
        self.counters.snapshot()
    }

    fn policy(&self) -> Policy {
        Policy {
            max_retries: self.config.max_retries,
            max_wait: self.config.max_retry_wait,
            base_backoff: Duration::from_millis(200),
        }
    }

    /// Sends a request, retrying per [`retry::decide`], and returns the JSON body
    /// (`Value::Null` for an empty body).
    pub async fn send(&self, request: &ApiRequest) -> Result<Value, ClientError> {
        let bytes = self.send_raw(request).await?;
        self.decode(request, &bytes)
    }

    /// Sends a request like [`IntercomClient::send`] (with the same retries), but returns the
    /// final HTTP status and body whatever the status: for the raw `intercom_api` escape hatch.
    /// An error body that is not JSON comes back as a JSON string.
    pub async fn send_for_status(&self, request: &ApiRequest) -> Result<(u16, Value), ClientError> {
        let (status, bytes) = self.exchange(request, true).await?;
        let value = match self.decode(request, &bytes) {
            Ok(value) => value,
            Err(_) if !(200..300).contains(&status) => {
                Value::String(String::from_utf8_lossy(&bytes).into_owned())
            }
            Err(e) => return Err(e),
        };
        Ok((status, value))
    }

    /// The one read-only rule: a read-only client sends no request that writes. Every write
    /// path (DML, procedures, `intercom_api`) asks this before it reads its rows, so a refused
    /// statement sends nothing at all; [`IntercomClient::send`] asks it again for every request.
    pub fn refuses(&self, request: &ApiRequest) -> bool {
        self.config.read_only && request.is_write()
    }

    /// Like [`IntercomClient::send`], but returns the body undecoded, for the scan's fast path.
    pub async fn send_raw(&self, request: &ApiRequest) -> Result<Bytes, ClientError> {
        Ok(self.exchange(request, false).await?.1)
    }

    /// Like [`IntercomClient::send_raw`], with the status: a kept redirect
    /// ([`ApiRequest::keep_redirect`]) is its status and `Location`.
    pub async fn send_with_status(
        &self,
        request: &ApiRequest,
    ) -> Result<(u16, Bytes), ClientError> {
        self.exchange(request, false).await
    }

    /// Sends with retries. With `keep_errors`, a final error status is returned as a response
    /// instead of an [`ApiError`].
    async fn exchange(
        &self,
        request: &ApiRequest,
        keep_errors: bool,
    ) -> Result<(u16, Bytes), ClientError> {
        if self.refuses(request) {
            return Err(ClientError::ReadOnly {
                request: request.describe(),
            });
        }
        if request.is_write() {
            // Whatever the answer: a write that failed may still have been applied.
            let answer = self.exchange_uncached(request, keep_errors).await;
            self.cache.wrote(&request.path);
            return answer;
        }
        let Some((key, ttl)) = cache_key(request) else {
            return self.exchange_uncached(request, keep_errors).await;
        };
        if let Some(body) = self.cache.get(&key, ttl) {
            if let Some(extra) = &request.counters {
                extra.cache_hits.fetch_add(1, Ordering::Relaxed);
            }
            return Ok((200, body));
        }
        let generation = self.cache.generation();
        let (status, body) = self.exchange_uncached(request, keep_errors).await?;
        if (200..300).contains(&status) {
            self.cache.put(key, &request.path, body.clone(), generation);
        }
        Ok((status, body))
    }

    /// [`IntercomClient::exchange`] without the cache.
    async fn exchange_uncached(
        &self,
        request: &ApiRequest,
        keep_errors: bool,
    ) -> Result<(u16, Bytes), ClientError> {
        let url = format!("{}{}", self.config.base_url, request.path);
        let policy = self.policy();
        let mut attempt = 0;
        loop {
            self.counters.request();
            if let Some(extra) = &request.counters {
                extra.request();
            }
            let admission = self.budget.admit().await;
            self.counters.throttle(admission.waited);
            if let Some(extra) = &request.counters {
                extra.throttle(admission.waited);
            }
            let mut builder = self.http.request(request.method.clone(), &url);
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            if let Some(body) = &request.body {
                builder = builder
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_string());
            }
            let (outcome, failure) = match builder.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    self.budget.observe(
                        header_u64(&headers, "x-ratelimit-limit"),
                        header_u64(&headers, "x-ratelimit-remaining"),
                        header_u64(&headers, "x-ratelimit-reset"),
                    );
                    if request.keep_redirect && status.is_redirection() {
                        let location = headers
                            .get(reqwest::header::LOCATION)
                            .map(|v| Bytes::copy_from_slice(v.as_bytes()))
                            .unwrap_or_default();
                        return Ok((status.as_u16(), location));
                    }
                    let bytes = whole_body(response).await;
                    match bytes {
                        Ok(bytes) if status.is_success() => {
                            // Only repeatable requests are checked: a write's answer is not
                            // worth a second parse, since it would not be sent again anyway.
                            let check = request.kind.is_repeatable() && request.check_whole;
                            match check.then(|| cut_off(&bytes)) {
                                Some(Some(e)) => (
                                    Outcome::Truncated,
                                    ClientError::Decode {
                                        request: request.describe(),
                                        json_path: "$".to_string(),
                                        reason: format!("the response was cut short ({e})"),
                                    },
                                ),
                                _ => return Ok((status.as_u16(), bytes)),
                            }
                        }
                        Ok(bytes) => {
                            let outcome = Outcome::Status {
                                status: status.as_u16(),
                                reset_epoch: header_u64(&headers, "x-ratelimit-reset"),
                                retry_after: header_u64(&headers, "retry-after"),
                            };
                            let mut error =
                                ApiError::from_body(status.as_u16(), request.describe(), &bytes);
                            error.unconfirmed_write = request.kind == RequestKind::Write
                                && (status.as_u16() == 408 || status.is_server_error());
                            if keep_errors
                                && retry::decide(&policy, outcome, attempt, request.kind, 0, 0.0)
                                    == Decision::Stop
                            {
                                return Ok((status.as_u16(), bytes));
                            }
                            (outcome, ClientError::Api(Box::new(error)))
                        }
                        Err(e) => (Outcome::Transport, self.transport_error(request, &e)),
                    }
                }
                Err(e) => (Outcome::Transport, self.transport_error(request, &e)),
            };
            // The slot is free again while the retry waits.
            drop(admission);
            if !self.wait_to_retry(request, outcome, attempt).await {
                return Err(failure);
            }
            attempt += 1;
        }
    }

    /// Sends a read and parses its body with `parse`, whose own parse is the check that the
    /// body is whole: a body it finds cut short (`Err((error, true))`) is fetched again, as
    /// [`IntercomClient::send`] would after checking it with a parse of its own.
    pub async fn send_parsed<T>(
        &self,
        request: &ApiRequest,
        parse: impl Fn(Bytes) -> Result<T, (ClientError, bool)>,
    ) -> Result<T, ClientError> {
        let mut request = request.clone();
        request.check_whole = false;
        let mut attempt = 0;
        loop {
            let body = self.send_raw(&request).await?;
            let error = match parse(body) {
                Ok(parsed) => return Ok(parsed),
                Err((error, false)) => return Err(error),
                Err((error, true)) => error,
            };
            if let Some((key, _)) = cache_key(&request) {
                self.cache.forget(&key);
            }
            if !self
                .wait_to_retry(&request, Outcome::Truncated, attempt)
                .await
            {
                return Err(error);
            }
            attempt += 1;
        }
    }

    /// After failed attempt `attempt` of `request` (0 = the first), whether to try again, per
    /// [`retry::decide`]; a retry is counted and waited for before this returns `true`.
    async fn wait_to_retry(&self, request: &ApiRequest, outcome: Outcome, attempt: u32) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let decision = retry::decide(
            &self.policy(),
            outcome,
            attempt,
            request.kind,
            now,
            fastrand::f64(),
        );
        match decision {
            Decision::Stop => false,
            Decision::Retry { wait, rate_limited } => {
                self.counters.retry(wait, rate_limited);
                if let Some(extra) = &request.counters {
                    extra.retry(wait, rate_limited);
                }
                tokio::time::sleep(wait).await;
                true
            }
        }
    }

    /// Sends a GET by id: a 404 is `Ok(None)` (the row does not exist), not an error.
    pub async fn get_optional(&self, request: &ApiRequest) -> Result<Option<Bytes>, ClientError> {
        match self.send_raw(request).await {
            Ok(v) => Ok(Some(v)),
            Err(ClientError::Api(e)) if e.status == StatusCode::NOT_FOUND.as_u16() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Decodes a JSON body; an empty body is `Value::Null`. A write that is not safe to repeat
    /// was applied whatever its answer looks like, and the error says so.
    pub fn decode(&self, request: &ApiRequest, bytes: &[u8]) -> Result<Value, ClientError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(bytes).map_err(|e| {
            if request.kind == RequestKind::Write {
                ClientError::UnreadableWriteAnswer {
                    request: request.describe(),
                    reason: e.to_string(),
                }
            } else {
                ClientError::Decode {
                    request: request.describe(),
                    json_path: format!("$ (line {}, column {})", e.line(), e.column()),
                    reason: e.to_string(),
                }
            }
        })
    }

    fn transport_error(&self, request: &ApiRequest, e: &reqwest::Error) -> ClientError {
        // A failure to connect sent nothing; any later failure may come after Intercom
        // received the request.
        let unconfirmed_write = request.kind == RequestKind::Write && !e.is_connect();
        let reason = if e.is_timeout() {
            format!("timed out after {:?}", self.config.timeout)
        } else if e.is_connect() {
            "connection failed".to_string()
        } else if e.is_body() || e.is_decode() {
            "the connection closed while reading the response".to_string()
        } else {
            "the connection closed without a response".to_string()
        };
        ClientError::Transport {
            base_url: self.config.base_url.clone(),
            request: request.describe(),
            reason,
            unconfirmed_write,
        }
    }
}

/// Room reserved up front for a body from its `Content-Length`, at most (a larger body grows
/// its buffer as it comes).
const BODY_RESERVE_MAX: u64 = 16 << 20;

/// The whole body of `response` in one buffer, its chunks copied into it once as they come
/// (reqwest's `bytes()` copies them into a buffer of its own, which the page's text then
/// copies again).
async fn whole_body(mut response: reqwest::Response) -> reqwest::Result<Bytes> {
    let reserve = response.content_length().unwrap_or(0).min(BODY_RESERVE_MAX);
    let mut body = Vec::with_capacity(reserve as usize);
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// The parse error of a body whose JSON ends early (`EOF while parsing …`): a complete HTTP
/// response cut short on the way (by a proxy, or a server dying mid-write). Other malformed
/// bodies are not cut short, and an empty body is a valid answer (see
/// [`IntercomClient::decode`]).
fn cut_off(bytes: &[u8]) -> Option<serde_json::Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Err(e) if e.classify() == serde_json::error::Category::Eof => Some(e),
        _ => None,
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Convenience for scans: the client behind an `Arc`.
pub type SharedClient = Arc<IntercomClient>;

impl From<crate::tables::write::WriteRequest> for ApiRequest {
    fn from(request: crate::tables::write::WriteRequest) -> Self {
        let write = ApiRequest::write(request.method, request.path, request.body);
        if request.idempotent {
            write.idempotent()
        } else {
            write
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AccessToken;

    #[test]
    fn only_whole_top_level_collections_have_their_size_kept() {
        let config = Config::new("http://127.0.0.1:9", AccessToken::new("t"));
        let client = IntercomClient::new(config).unwrap();
        client.note_listed_total("/companies", 900);
        client.note_listed_total("/contacts/1/tags", 3);
        client.note_listed_total("/companies?segment_id=s1", 17);
        client.note_listed_total("/", 1);
        assert_eq!(client.listed_total("/companies"), Some(900));
        assert_eq!(client.listed_total("/contacts/1/tags"), None);
        assert_eq!(client.listed_total("/companies?segment_id=s1"), None);
        assert_eq!(client.listed_total("/"), None);
        // The latest listing wins; a read-only copy shares what was seen.
        client.read_only().note_listed_total("/companies", 901);
        assert_eq!(client.listed_total("/companies"), Some(901));
    }
}
