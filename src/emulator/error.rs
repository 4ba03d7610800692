//! The emulator's error response: Intercom's `error.list` envelope (docs/intercom-notes.md, "Errors
//! and rate limits").
//!
//! This is the one place that turns an emulator error into HTTP; handlers return
//! `Result<_, ApiError>` and never build error bodies themselves.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An Intercom API error: status plus one `{code, message}` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Intercom error code, e.g. `not_found`.
    pub code: String,
    /// Human-readable message, e.g. `User Not Found`.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// `400 parameter_invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "parameter_invalid", message)
    }

    /// `404` with a resource-specific code and message.
    pub fn not_found(code: &str, message: &str) -> Self {
        Self::new(404, code, message)
    }
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A UUID-shaped request id (unique per process, not cryptographic).
pub fn request_id() -> String {
    let n = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        (mixed >> 32) as u32,
        (mixed >> 16) as u16,
        (mixed & 0xfff) as u16,
        (n & 0xfff) as u16,
        n & 0xffff_ffff_ffff
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({
            "type": "error.list",
            "request_id": request_id(),
            "errors": [{"code": self.code, "message": self.message}],
        });
        (status, Json(body)).into_response()
    }
}
