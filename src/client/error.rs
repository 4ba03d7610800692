//! Errors from talking to Intercom: `ApiError` mirrors Intercom's `error.list` body; `ClientError`
//! adds transport, decoding and pagination failures. Messages tell the user what to do next and
//! never contain the access token.

use std::fmt;

/// One error answered by Intercom, decoded from its `error.list` body (docs/intercom-notes.md,
/// "Errors and rate limits").
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
    /// The request was a write that is not safe to repeat and the answer was a 5xx or 408:
    /// Intercom may have applied it anyway (see [`ClientError::may_have_been_applied`]).
    pub unconfirmed_write: bool,
}

/// Advice after a write that is not safe to repeat was sent but not confirmed: following the
/// usual "retry" advice blindly could apply it twice.
const UNCONFIRMED_WRITE_ADVICE: &str = "The request was sent and may have been applied: check with a SELECT before retrying it, or it may be applied twice.";

impl ApiError {
    /// Decodes an error response body. Bodies that are not an `error.list` (a proxy's HTML page,
    /// an empty body) still give a usable error built from the status alone. Two other shapes
    /// some operations answer are read too: `{"error_key", "message"}` (`createPhoneSwitch`)
    /// and `{"errors": {"<field>": "<message>"}}` (`submitFinCsat`).
    pub fn from_body(status: u16, request: String, body: &[u8]) -> Self {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let errors = parsed.as_ref().and_then(|v| v.get("errors"));
        let first = match (errors, parsed.as_ref()) {
            (Some(serde_json::Value::Array(list)), _) => list.first().cloned(),
            (Some(serde_json::Value::Object(by_field)), _) => {
                by_field.iter().next().map(|(field, message)| {
                    let field = (field != "base").then_some(field.as_str());
                    serde_json::json!({"message": message, "field": field})
                })
            }
            (_, Some(v)) if v.get("error_key").is_some() => Some(serde_json::json!({
                "code": v.get("error_key"),
                "message": v.get("message").or(v.get("error_key")),
            })),
            _ => None,
        }
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
            unconfirmed_write: false,
        }
    }

    /// The error without the advice: status, code, message, field, request and `request_id`.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "Intercom API {} {}: {}",
            self.status, self.code, self.message
        );
        if let Some(field) = &self.field {
            text.push_str(&format!(" (field {field})"));
        }
        text.push_str(&format!(" [{}", self.request));
        if let Some(id) = &self.request_id {
            text.push_str(&format!(", request_id {id}"));
        }
        text.push(']');
        text
    }

    /// What the user should do about this error, if there is something specific.
    pub fn advice(&self) -> Option<&'static str> {
        match self.status {
            408 | 500..=599 if self.unconfirmed_write => Some(UNCONFIRMED_WRITE_ADVICE),
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
        f.write_str(&self.summary())?;
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
    #[error("{}. {}", transport_summary(.base_url, .request, .reason, .unconfirmed_write), transport_advice(.unconfirmed_write))]
    Transport {
        /// API root that was used.
        base_url: String,
        /// `METHOD /path`.
        request: String,
        /// Short cause, e.g. `timed out`.
        reason: String,
        /// The request was a write that is not safe to repeat, and it may have reached Intercom
        /// before the connection failed (anything but a failure to connect): it may have been
        /// applied (see [`ClientError::may_have_been_applied`]).
        unconfirmed_write: bool,
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
    /// A write that is not safe to repeat succeeded (2xx), but its answer could not be read
    /// (cut short, or not JSON). It was not repeated.
    #[error(
        "{}. {}",
        unreadable_answer_summary(.request, .reason),
        UNCONFIRMED_WRITE_ADVICE
    )]
    UnreadableWriteAnswer {
        /// `METHOD /path`.
        request: String,
        /// What was wrong with the body.
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
    /// Another read holds the workspace's one company scroll (Intercom allows one per app).
    #[error(
        "{request}: another read of every company is using this workspace's company scroll (Intercom allows one at a time per app, and a scroll ends a minute after its last page); try again in a minute"
    )]
    ScrollBusy {
        /// `METHOD /path`.
        request: String,
    },
    /// The scroll being read expired or was ended (it idled for a minute) before its last page.
    #[error(
        "{request}: the company scroll expired before its last page (Intercom ends a scroll that idles for a minute, and it cannot be resumed); run the query again"
    )]
    ScrollExpired {
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

    /// Whether the failed request may have been applied anyway: a write that is not safe to
    /// repeat was sent, and the answer was a 5xx, a 408 or lost. It was not retried, and
    /// repeating it without checking could apply it twice.
    pub fn may_have_been_applied(&self) -> bool {
        match self {
            ClientError::Api(e) => e.unconfirmed_write,
            ClientError::Transport {
                unconfirmed_write, ..
            } => *unconfirmed_write,
            ClientError::UnreadableWriteAnswer { .. } => true,
            _ => false,
        }
    }

    /// The error without its advice (the message up to the advice sentence), for reports that
    /// list several errors and give the advice once.
    pub fn summary(&self) -> String {
        match self {
            ClientError::Api(e) => e.summary(),
            ClientError::Transport {
                base_url,
                request,
                reason,
                unconfirmed_write,
            } => transport_summary(base_url, request, reason, unconfirmed_write),
            ClientError::UnreadableWriteAnswer { request, reason } => {
                unreadable_answer_summary(request, reason)
            }
            other => other.to_string(),
        }
    }

    /// What the user should do about this error, if there is something specific: the sentence
    /// [`ClientError::summary`] leaves out.
    pub fn advice(&self) -> Option<&'static str> {
        match self {
            ClientError::Api(e) => e.advice(),
            ClientError::Transport {
                unconfirmed_write, ..
            } => Some(transport_advice(unconfirmed_write)),
            ClientError::UnreadableWriteAnswer { .. } => Some(UNCONFIRMED_WRITE_ADVICE),
            _ => None,
        }
    }
}

fn transport_summary(base_url: &str, request: &str, reason: &str, unconfirmed: &bool) -> String {
    if *unconfirmed {
        format!("no answer from Intercom at {base_url} ({request}): {reason}")
    } else {
        format!("cannot reach Intercom at {base_url} ({request}): {reason}")
    }
}

fn unreadable_answer_summary(request: &str, reason: &str) -> String {
    format!("Intercom accepted {request}, but its answer could not be read ({reason})")
}

fn transport_advice(unconfirmed: &bool) -> &'static str {
    if *unconfirmed {
        UNCONFIRMED_WRITE_ADVICE
    } else {
        "Check the network, --region or --base-url."
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
    fn decodes_the_other_error_shapes_some_operations_answer() {
        let body = br#"{"error_key":"invalid_phone_number","message":"Invalid phone number"}"#;
        let e = ApiError::from_body(400, "POST /phone_call_redirects".into(), body);
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid_phone_number", "Invalid phone number")
        );
        let body = br#"{"errors":{"rating":"Rating isn't an option"}}"#;
        let e = ApiError::from_body(422, "POST /fin/csat".into(), body);
        assert_eq!(
            (e.message.as_str(), e.field.as_deref()),
            ("Rating isn't an option", Some("rating"))
        );
        let body = br#"{"errors":{"base":"No rating survey found for this conversation"}}"#;
        let e = ApiError::from_body(422, "POST /fin/csat".into(), body);
        assert_eq!(e.field, None);
        assert_eq!(e.message, "No rating survey found for this conversation");
    }

    #[test]
    fn writes_sent_but_unconfirmed_say_they_may_have_been_applied() {
        let mut api = ApiError::from_body(500, "POST /contacts".into(), b"");
        assert_eq!(
            api.to_string(),
            "Intercom API 500 server_error: no error details in the response [POST /contacts]. Intercom had a server error; retry later."
        );
        api.unconfirmed_write = true;
        let error = ClientError::Api(Box::new(api));
        assert!(error.may_have_been_applied());
        assert_eq!(
            error.to_string(),
            "Intercom API 500 server_error: no error details in the response [POST /contacts]. The request was sent and may have been applied: check with a SELECT before retrying it, or it may be applied twice."
        );
        assert_eq!(
            format!(
                "{}. {}",
                error.summary(),
                error.advice().unwrap_or_default()
            ),
            error.to_string()
        );

        let transport = |unconfirmed_write| ClientError::Transport {
            base_url: "https://api.intercom.io".into(),
            request: "POST /conversations/1/reply".into(),
            reason: "timed out after 30s".into(),
            unconfirmed_write,
        };
        assert!(!transport(false).may_have_been_applied());
        assert_eq!(
            transport(false).to_string(),
            "cannot reach Intercom at https://api.intercom.io (POST /conversations/1/reply): timed out after 30s. Check the network, --region or --base-url."
        );
        assert!(transport(true).may_have_been_applied());
        assert_eq!(
            transport(true).to_string(),
            "no answer from Intercom at https://api.intercom.io (POST /conversations/1/reply): timed out after 30s. The request was sent and may have been applied: check with a SELECT before retrying it, or it may be applied twice."
        );
        let unreadable = ClientError::UnreadableWriteAnswer {
            request: "POST /contacts".into(),
            reason: "EOF while parsing an object at line 1 column 40".into(),
        };
        assert!(unreadable.may_have_been_applied());
        assert_eq!(
            unreadable.to_string(),
            "Intercom accepted POST /contacts, but its answer could not be read (EOF while parsing an object at line 1 column 40). The request was sent and may have been applied: check with a SELECT before retrying it, or it may be applied twice."
        );
        for error in [transport(false), transport(true), unreadable] {
            let text = error.to_string();
            assert!(!text.contains(".."), "{text}");
            assert_eq!(
                format!(
                    "{}. {}",
                    error.summary(),
                    error.advice().unwrap_or_default()
                ),
                text
            );
        }
    }

    #[test]
    fn non_json_error_bodies_still_give_a_message() {
        let e = ApiError::from_body(502, "GET /admins".into(), b"");
        assert_eq!(e.code, "server_error");
        assert_eq!(e.message, "no error details in the response");
        assert!(!e.to_string().contains('\n'));
    }
}
