//! Connection settings: token, base URL (region), API version, timeouts. `Debug` never shows the
//! token.

use std::fmt;
use std::time::Duration;

/// The Intercom access token. Its `Debug` and `Display` print `<redacted>`, so it cannot leak
/// into logs or error messages by accident; call [`AccessToken::expose`] to send it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
    /// The token itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Intercom's data-hosting regions, each with its own API host (docs/intercom-notes.md, "Regions").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, clap::ValueEnum)]
pub enum Region {
    /// United States (the default).
    #[default]
    Us,
    /// Europe.
    Eu,
    /// Australia.
    Au,
}

impl Region {
    /// The region's API base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.intercom.io",
            Region::Eu => "https://api.eu.intercom.io",
            Region::Au => "https://api.au.intercom.io",
        }
    }
}

/// The API version this crate is written against (the OpenAPI description in shared/).
pub const DEFAULT_API_VERSION: &str = "2.15";

/// Default of [`Config::concurrency`]: enough requests in flight for a scan to reach
/// Intercom's rate limit (~166 a second for a private app) at 200–300 ms a request, and for a
/// table of up to this many pages to be read in one round once its size is known. A large
/// table's read holds fewer windows open at once (`pushdown::partition::SCAN_WINDOWS`), each
/// with a page in memory.
pub const DEFAULT_CONCURRENCY: usize = 128;

/// Everything needed to talk to one Intercom workspace.
#[derive(Clone, Debug)]
pub struct Config {
    /// API root without a trailing slash, e.g. `https://api.intercom.io`.
    pub base_url: String,
    /// Bearer token.
    pub token: AccessToken,
    /// Sent as the `Intercom-Version` header.
    pub api_version: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// How many times a read is retried after a 429, a 5xx or a transport error.
    pub max_retries: u32,
    /// Longest single wait between retries (rate-limit waits included).
    pub max_retry_wait: Duration,
    /// Page size asked of list and search endpoints (Intercom's maximum is 150).
    pub page_size: u32,
    /// Most requests in flight at once for this app (API root and token), across every scan
    /// and session of the process (`--max-concurrency`; see `client::budget`).
    pub concurrency: usize,
    /// Most requests a second for this app, when set (`--max-rps`); otherwise Intercom's
    /// `X-RateLimit-*` headers alone pace the requests.
    pub max_rps: Option<f64>,
    /// Refuse every procedure and write (`--read-only`): only reads are sent.
    pub read_only: bool,
    /// What statements and queries may use (statement size and depth, memory).
    pub limits: crate::limits::Limits,
    /// The workspace's custom object types (`Order`): one table each (`order_objects`).
    /// Intercom cannot list them, so they are named here (`--custom-object-types`).
    pub custom_object_types: Vec<String>,
    /// Every session's `intercom.cache_ttl` until it `SET`s its own (`--cache-ttl`; zero:
    /// no cache).
    pub cache_ttl: Duration,
}

impl Config {
    /// A configuration for `base_url` with defaults for everything else.
    pub fn new(base_url: impl Into<String>, token: AccessToken) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            token,
            api_version: DEFAULT_API_VERSION.to_string(),
            timeout: Duration::from_secs(60),
            max_retries: 5,
            max_retry_wait: Duration::from_secs(60),
            page_size: 150,
            concurrency: DEFAULT_CONCURRENCY,
            max_rps: None,
            read_only: false,
            limits: crate::limits::Limits::for_this_machine(),
            custom_object_types: Vec::new(),
            cache_ttl: Duration::ZERO,
        }
    }

    /// A configuration for one of Intercom's regions.
    pub fn for_region(region: Region, token: AccessToken) -> Self {
        Self::new(region.base_url(), token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_token() {
        let config = Config::new("http://127.0.0.1:1", AccessToken::new("sekrit-token-123"));
        let shown = format!("{config:?} {}", config.token);
        assert!(!shown.contains("sekrit"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
