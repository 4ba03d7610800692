//! Request bodies of the write routes: a JSON object read field by field, answering bad input
//! the way Intercom does (docs/intercom-notes.md, "Writes" and "Errors and rate limits") and never
//! panicking.
//!
//! * not JSON, or not an object: `400 parameter_invalid`;
//! * a key the operation does not document: `400 bad_request` "bad '<key>' parameter"
//!   (docs/intercom-notes.md, "Writes");
//! * a required field missing (or `null`): `400 parameter_not_found` "'<key>' is a required
//!   parameter";
//! * a field of the wrong JSON type or outside its enum: `400 parameter_invalid`.
//!
//! `null` counts as absent for optional fields; [`Body::nullable_str`] tells the two apart where
//! `null` means "clear" (docs/intercom-notes.md, "Writes").

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::emulator::ApiError;

/// A parsed request body (or a nested object of one, whose keys are reported as `outer.key`).
pub(super) struct Body<'a> {
    map: std::borrow::Cow<'a, Map<String, Value>>,
    prefix: String,
}

/// `400 parameter_not_found` for a missing required field.
pub(super) fn missing(key: &str) -> ApiError {
    ApiError::new(
        400,
        "parameter_not_found",
        format!("'{key}' is a required parameter"),
    )
}

impl Body<'static> {
    /// Parses a request body; an empty body is `{}`.
    pub(super) fn parse(bytes: &Bytes) -> Result<Body<'static>, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body {
                map: std::borrow::Cow::Owned(Map::new()),
                prefix: String::new(),
            });
        }
        let json: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::invalid(format!("request body is not valid JSON: {e}")))?;
        match json {
            Value::Object(map) => Ok(Body {
                map: std::borrow::Cow::Owned(map),
                prefix: String::new(),
            }),
            _ => Err(ApiError::invalid("request body must be a JSON object")),
        }
    }
}

impl<'a> Body<'a> {
    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn wrong(&self, key: &str, what: &str) -> ApiError {
        ApiError::invalid(format!("'{}' must be {what}", self.name(key)))
    }

    /// Rejects keys outside `allowed` with `400 bad_request` (docs/intercom-notes.md, "Writes":
    /// "bad '<key>' parameter").
    pub(super) fn allow(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(key) => Err(ApiError::new(
                400,
                "bad_request",
                format!("bad '{}' parameter", self.name(key)),
            )),
            None => Ok(()),
        }
    }

    /// The value of `key`, `None` when absent or `null`.
    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// True when `key` is present (even as `null`).
    pub(super) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Keys present, in the body's order.
    pub(super) fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// An optional string.
    pub(super) fn str(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    /// A required string.
    pub(super) fn req_str(&self, key: &str) -> Result<String, ApiError> {
        self.str(key)?.ok_or_else(|| missing(&self.name(key)))
    }

    /// A required, non-blank string.
    pub(super) fn req_text(&self, key: &str) -> Result<String, ApiError> {
        let s = self.req_str(key)?;
        if s.trim().is_empty() {
            return Err(missing(&self.name(key)));
        }
        Ok(s)
    }

    /// `Some(None)` for an explicit `null`, `Some(Some(s))` for a string, `None` when absent.
    pub(super) fn nullable_str(&self, key: &str) -> Result<Option<Option<String>>, ApiError> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(self.wrong(key, "a string or null")),
        }
    }

    /// An optional string restricted to `allowed` values (returned as the static spelling).
    pub(super) fn enumerated(
        &self,
        key: &str,
        allowed: &[&'static str],
    ) -> Result<Option<&'static str>, ApiError> {
        match self.str(key)? {
            None => Ok(None),
            Some(s) => allowed
                .iter()
                .find(|a| **a == s)
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid(format!(
                        "'{}' must be one of {}; got '{s}'",
                        self.name(key),
                        allowed.join(", ")
                    ))
                }),
        }
    }

    /// A required enumerated string.
    pub(super) fn req_enumerated(
        &self,
        key: &str,
        allowed: &[&'static str],
    ) -> Result<&'static str, ApiError> {
        self.enumerated(key, allowed)?
            .ok_or_else(|| missing(&self.name(key)))
    }

    /// An optional identifier: a string, or an integer written as a number (docs/intercom-notes.md,
    /// "Ids and timestamps": path and body ids are sometimes typed `integer`; both are accepted).
    pub(super) fn id(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
            Some(_) => Err(self.wrong(key, "a string id")),
        }
    }

    /// A required identifier.
    pub(super) fn req_id(&self, key: &str) -> Result<String, ApiError> {
        self.id(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing(&self.name(key)))
    }

    /// An optional integer (a whole JSON number, or a string holding one).
    pub(super) fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => as_int(v)
                .map(Some)
                .ok_or_else(|| self.wrong(key, "an integer")),
        }
    }

    /// An optional number, truncated to an integer (`monthly_spend`, docs/intercom-notes.md,
    /// "Writes").
    pub(super) fn truncated(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a number")),
            Some(_) => Err(self.wrong(key, "a number")),
        }
    }

    /// A required integer.
    pub(super) fn req_int(&self, key: &str) -> Result<i64, ApiError> {
        self.int(key)?.ok_or_else(|| missing(&self.name(key)))
    }

    /// An optional boolean.
    pub(super) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong(key, "a boolean")),
        }
    }

    /// A required boolean.
    pub(super) fn req_bool(&self, key: &str) -> Result<bool, ApiError> {
        self.bool(key)?.ok_or_else(|| missing(&self.name(key)))
    }

    /// An optional array.
    pub(super) fn array(&self, key: &str) -> Result<Option<&Vec<Value>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(self.wrong(key, "an array")),
        }
    }

    /// An optional array of at most `max` items (`attachment_urls` and friends, ≤10).
    pub(super) fn bounded_array(
        &self,
        key: &str,
        max: usize,
    ) -> Result<Option<&Vec<Value>>, ApiError> {
        let items = self.array(key)?;
        if items.is_some_and(|a| a.len() > max) {
            return Err(ApiError::invalid(format!(
                "'{}' accepts at most {max} items",
                self.name(key)
            )));
        }
        Ok(items)
    }

    /// An optional JSON object.
    pub(super) fn object(&self, key: &str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.wrong(key, "an object")),
        }
    }

    /// A nested object as a [`Body`] (its keys are reported as `key.inner`).
    pub(super) fn nested(&self, key: &str) -> Result<Option<Body<'_>>, ApiError> {
        Ok(self.object(key)?.map(|map| Body {
            map: std::borrow::Cow::Borrowed(map),
            prefix: format!("{}.", self.name(key)),
        }))
    }

    /// A required nested object.
    pub(super) fn req_nested(&self, key: &str) -> Result<Body<'_>, ApiError> {
        self.nested(key)?.ok_or_else(|| missing(&self.name(key)))
    }

    /// One array item as a [`Body`]; not an object is `400 parameter_invalid`.
    pub(super) fn item<'v>(&self, key: &str, value: &'v Value) -> Result<Body<'v>, ApiError> {
        match value {
            Value::Object(map) => Ok(Body {
                map: std::borrow::Cow::Borrowed(map),
                prefix: format!("{}[].", self.name(key)),
            }),
            _ => Err(ApiError::invalid(format!(
                "items of '{}' must be objects",
                self.name(key)
            ))),
        }
    }
}

/// A whole number from a JSON number or a numeric string.
pub(super) fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
