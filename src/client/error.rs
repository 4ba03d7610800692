//! Errors from talking to Intercom: `ApiError` mirrors Intercom's `error.list` body; `ClientError`
//! adds transport, decoding and pagination failures. Messages tell the user what to do next and
//! never contain the access token.

use std::fmt;

/// One error answered by Intercom, decoded from its `error.list` body (intercom-api.md §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `errors[0].code`, e.g. `unauthorized`, `not_found`, `parameter_invalid`.
    pub code: String,
    /// `errors[0].message`.
    pub message: String,
    /// `errors[0].field`, when Intercom names one.
    pub field: Option<String>,
    /// `request_id`, to quote to Intercom support.
    pub request_id: Option<String>,
    /// The request that failed, as `METHOD /path` (no query string, no token).
    pub request: String,
}

impl ApiError {
    /// Decodes an error response body. Bodies that are not an `error.list` (a proxy's HTML page,
    /// an empty body) still give a usable error built from the status alone.
    pub fn from_body(status: u16, request: String, body: &[u8]) -> Self {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let first = parsed
            .as_ref()
            .and_then(|v| v.get("errors"))
            .and_then(|e| e.get(0))
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let text = |v: &serde_json::Value, key: &str| {
            v.get(key).and_then(|x| x.as_str()).map(str::to_string)
        };
        let default_code = match status {
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            429 => "rate_limit_exceeded",
            500..=599 => "server_error",
            _ => "error",
        };
        ApiError {
            status,
            code: text(&first, "code").unwrap_or_else(|| default_code.to_string()),
            message: text(&first, "message").unwrap_or_else(|| {
                let snippet = String::from_utf8_lossy(body);
                let snippet = snippet.trim();
                if snippet.is_empty() || snippet.len() > 200 {
                    "no error details in the response".to_string()
                } else {
                    snippet.to_string()
                }
            }),
            field: text(&first, "field"),
            request_id: parsed.as_ref().and_then(|v| text(v, "request_id")),
            request,
        }
    }

    /// What the user should do about this error, if there is something specific.
    fn advice(&self) -> Option<&'static str> {
        match self.status {
            401 => Some(
                "Check the access token (INTERCOM_ACCESS_TOKEN or --token) and that --region matches the workspace.",
            ),
            403 => Some("The token lacks a permission or the workspace's plan excludes this API."),
            429 => Some(
                "Rate limit still exceeded after retrying; wait a minute or lower the query's scope.",
            ),
            500..=599 => Some("Intercom had a server error; retry later."),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Intercom API {} {}: {}",
            self.status, self.code, self.message
        )?;
        if let Some(field) = &self.field {
            write!(f, " (field {field})")?;
        }
        write!(f, " [{}", self.request)?;
        if let Some(id) = &self.request_id {
            write!(f, ", request_id {id}")?;
        }
        write!(f, "]")?;
        if let Some(advice) = self.advice() {
            write!(f, ". {advice}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Intercom answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request never got an answer (connection refused or dropped, timeout, TLS).
    #[error(
        "cannot reach Intercom at {base_url} ({request}): {reason}. Check the network, --region or --base-url."
    )]
    Transport {
        /// API root that was used.
        base_url: String,
        /// `METHOD /path`.
        request: String,
        /// Short cause, e.g. `timed out`.
        reason: String,
    },
    /// The response was not the JSON we expected.
    #[error("unexpected response from Intercom ({request}): {reason} at {json_path}")]
    Decode {
        /// `METHOD /path`.
        request: String,
        /// JSON path of the value that failed, e.g. `$.pages.next`.
        json_path: String,
        /// What was wrong.
        reason: String,
    },
    /// A paginated endpoint handed back a cursor it had already given: following it would loop.
    #[error(
        "Intercom returned the same page cursor twice for {request}; stopped paging to avoid an endless loop"
    )]
    CursorLoop {
        /// `METHOD /path`.
        request: String,
    },
    /// A write was attempted on a read-only connection (`--read-only`).
    #[error("intercom-sql is read-only (--read-only); {request} was not sent")]
    ReadOnly {
        /// `METHOD /path`.
        request: String,
    },
    /// The client could not be built from its configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl ClientError {
    /// Whether every following write would fail the same way, so a bulk action should stop:
    /// the token was refused or lacks the scope (401, 403), the rate limit is still exhausted
    /// after waiting (429), Intercom is unreachable, or the session is read-only.
    pub fn dooms_following_requests(&self) -> bool {
        match self {
            ClientError::Api(e) => matches!(e.status, 401 | 403 | 429),
            ClientError::Transport { .. } | ClientError::ReadOnly { .. } => true,
            _ => false,
        }
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api(e) => Some(e.status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_error_list_and_advises_on_401() {
        let body = br#"{"type":"error.list","request_id":"req-1","errors":[{"code":"unauthorized","message":"Access Token Invalid"}]}"#;
        let e = ApiError::from_body(401, "GET /contacts".into(), body);
        assert_eq!(e.code, "unauthorized");
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
        let text = e.to_string();
        assert!(
            text.starts_with("Intercom API 401 unauthorized: Access Token Invalid"),
            "{text}"
        );
        assert!(text.contains("request_id req-1"));
        assert!(text.contains("INTERCOM_ACCESS_TOKEN"));
    }

    #[test]
    fn non_json_error_bodies_still_give_a_message() {
        let e = ApiError::from_body(502, "GET /admins".into(), b"");
        assert_eq!(e.code, "server_error");
        assert_eq!(e.message, "no error details in the response");
        assert!(!e.to_string().contains('\n'));
    }
}
