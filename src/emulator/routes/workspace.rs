//! The workspace's brands, sender addresses and IP allowlist (official spec: `listBrands`,
//! `retrieveBrand`, `listEmails`, `retrieveEmail`, `getIpAllowlist`, `updateIpAllowlist`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::documents::find;
use crate::emulator::{ApiError, EmulatorState};

pub(super) async fn list_brands(State(emulator): State<EmulatorState>) -> Json<Value> {
    Json(json!({"type": "list", "data": emulator.store().brands.clone()}))
}

pub(super) async fn get_brand(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.brands, &id)
        .map_err(|_| ApiError::not_found("not_found", "Brand not found"))?;
    Ok(Json(guard.brands[i].clone()).into_response())
}

pub(super) async fn list_emails(State(emulator): State<EmulatorState>) -> Json<Value> {
    Json(json!({"type": "list", "data": emulator.store().emails.clone()}))
}

pub(super) async fn get_email(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.emails, &id)
        .map_err(|_| ApiError::not_found("not_found", "Email setting not found"))?;
    Ok(Json(guard.emails[i].clone()).into_response())
}

pub(super) async fn get_ip_allowlist(State(emulator): State<EmulatorState>) -> Json<Value> {
    Json(emulator.store().ip_allowlist.clone())
}

/// `PUT /ip_allowlist`: `enabled` and/or the whole `ip_allowlist` (each entry an IPv4/IPv6
/// address or CIDR range).
pub(super) async fn update_ip_allowlist(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&["type", "enabled", "ip_allowlist"])?;
    let enabled = b.bool("enabled")?;
    let list = b.array("ip_allowlist")?.cloned();
    for entry in list.iter().flatten() {
        let ok = entry.as_str().is_some_and(|e| {
            let (ip, bits) = e.split_once('/').unwrap_or((e, "0"));
            ip.parse::<std::net::IpAddr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 128)
        });
        if !ok {
            return Err(ApiError::invalid(format!(
                "ip_allowlist entries must be IP addresses or CIDR ranges, got {entry}"
            )));
        }
    }
    emulator.write(|store| {
        if let Some(enabled) = enabled {
            store.ip_allowlist["enabled"] = json!(enabled);
        }
        if let Some(list) = list {
            store.ip_allowlist["ip_allowlist"] = Value::Array(list);
        }
        Ok(Json(store.ip_allowlist.clone()).into_response())
    })
}
