//! Exports (official spec: `createDataExport`, `getDataExport`, `cancelDataExport`, the
//! reporting-data export's enqueue, status and datasets, and `exportWorkflow`). A job is
//! `pending` when created, `in_progress` while read, and `completed` with a download URL from
//! its `EmulatorConfig::export_status_reads`-th status read on (the first, by default); a job
//! not finished can be canceled.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::paging::params;
use super::shared::now;
use crate::emulator::{ApiError, EmulatorState};

/// One export job as the spec's `data_export` shows it.
fn job(id: &str, status: &str, download: &str) -> Value {
    let ready = status == "completed";
    json!({
        "job_identifier": id, "status": status,
        "download_url": if ready { format!("https://api.intercom.io/download/{download}/{id}") } else { String::new() },
        "download_expires_at": if ready { (now() + 2 * 86_400).to_string() } else { String::new() },
    })
}

/// A new job id: 16 lowercase letters and digits, like Intercom's.
fn job_id(n: usize) -> String {
    format!("job{:013x}", 0x5eed_0000_u64 + n as u64)
}

fn job_not_found() -> ApiError {
    ApiError::not_found("not_found", "Job not found")
}

/// `POST /export/content/data`: a window of creation times, `created_at_after` before
/// `created_at_before`.
pub(super) async fn create_content(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&["created_at_after", "created_at_before"])?;
    let after = b.req_int("created_at_after")?;
    let before = b.req_int("created_at_before")?;
    if after >= before {
        return Err(ApiError::invalid(
            "created_at_after must be before created_at_before",
        ));
    }
    emulator.write(|store| {
        if store
            .exports
            .iter()
            .any(|(_, kind, status)| kind == "content" && status == "pending")
        {
            return Err(ApiError::new(
                429,
                "rate_limit_exceeded",
                "Exceeded rate limit of 1 pending message data export jobs",
            ));
        }
        let id = job_id(store.exports.len());
        store
            .exports
            .push((id.clone(), "content".into(), "pending".into()));
        Ok(Json(job(&id, "pending", "content/data")).into_response())
    })
}

/// The status of a job of `kind`; a job not finished is done from its
/// `export_status_reads`-th status read on, in progress until then.
fn status_of(emulator: &EmulatorState, kind: &str, id: &str, download: &str) -> ApiResult {
    let needed = emulator.config().export_status_reads.max(1);
    emulator.write(|store| {
        let reads = store.export_reads.entry(id.to_string()).or_default();
        *reads += 1;
        let reads = *reads;
        let entry = store
            .exports
            .iter_mut()
            .find(|(j, k, _)| j == id && k == kind)
            .ok_or_else(job_not_found)?;
        if entry.2 == "pending" || entry.2 == "in_progress" {
            entry.2 = if reads >= needed {
                "completed"
            } else {
                "in_progress"
            }
            .into();
        }
        Ok(Json(job(id, &entry.2, download)).into_response())
    })
}

pub(super) async fn content_status(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    status_of(&emulator, "content", id.trim(), "content/data")
}

/// `POST /export/cancel/{job_identifier}`: a job not yet done is canceled.
pub(super) async fn cancel(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let entry = store
            .exports
            .iter_mut()
            .find(|(j, k, _)| *j == id.trim() && k == "content")
            .ok_or_else(job_not_found)?;
        if entry.2 == "pending" || entry.2 == "in_progress" {
            entry.2 = "canceled".into();
        }
        Ok(Json(job(&entry.0, &entry.2, "content/data")).into_response())
    })
}

/// The reporting datasets and their attributes.
fn datasets() -> Value {
    json!([
        {"id": "conversation", "name": "Conversation",
         "description": "Conversation-level details: status, channel, assignee.",
         "default_time_attribute_id": "conversation_started_at",
         "attributes": [
             {"id": "conversation_id", "name": "Conversation ID"},
             {"id": "conversation_started_at", "name": "Started at"},
             {"id": "channel", "name": "Channel"},
             {"id": "team_assignee_id", "name": "Team assigned"}]},
        {"id": "ticket", "name": "Ticket",
         "description": "Ticket-level details: type, state, time to resolution.",
         "default_time_attribute_id": "ticket_created_at",
         "attributes": [
             {"id": "ticket_id", "name": "Ticket ID"},
             {"id": "ticket_created_at", "name": "Created at"},
             {"id": "ticket_state", "name": "State"}]},
    ])
}

pub(super) async fn list_datasets() -> Json<Value> {
    Json(json!({"type": "list", "data": datasets()}))
}

/// `POST /export/reporting_data/enqueue`: a dataset, some of its attributes, a time window.
pub(super) async fn enqueue_reporting(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&["dataset_id", "attribute_ids", "start_time", "end_time"])?;
    let bad = |m: String| ApiError::new(400, "bad_request", m);
    let dataset = b.req_str("dataset_id")?;
    let all = datasets();
    let Some(found) = all
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["id"] == dataset.as_str())
    else {
        return Err(bad(format!("{dataset} is not a valid dataset_id")));
    };
    let attributes = b
        .array("attribute_ids")?
        .ok_or_else(|| bad("'attribute_ids' is a required parameter".into()))?;
    if attributes.is_empty() {
        return Err(bad(
            "attribute_ids must contain at least one attribute".into()
        ));
    }
    for a in attributes {
        let known = found["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|k| &k["id"] == a);
        if !known {
            return Err(bad(format!("{a} is not an attribute of {dataset}")));
        }
    }
    let (start, end) = (b.req_int("start_time")?, b.req_int("end_time")?);
    if start >= end {
        return Err(bad("start_time must be before end_time".into()));
    }
    emulator.write(|store| {
        let id = job_id(store.exports.len());
        store
            .exports
            .push((id.clone(), "reporting".into(), "pending".into()));
        Ok(Json(job(&id, "pending", "reporting_data")).into_response())
    })
}

/// `GET /export/reporting_data/{job_identifier}?app_id=&client_id=`.
pub(super) async fn reporting_status(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    for key in ["app_id", "client_id"] {
        if p.get(key).is_none_or(|v| v.trim().is_empty()) {
            return Err(super::body::missing(key));
        }
    }
    status_of(&emulator, "reporting", id.trim(), "reporting_data")
}

/// `GET /export/workflows/{id}`: the workflow's configuration, as `workflow_export`.
pub(super) async fn export_workflow(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let workflow = guard
        .workflows
        .iter()
        .find(|w| w["id"] == id.trim())
        .ok_or_else(|| ApiError::not_found("not_found", "Workflow not found"))?;
    let app_id: i64 = 12_345;
    Ok(Json(json!({
        "export_version": "1.0", "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "app_id": app_id, "workflow": workflow,
    }))
    .into_response())
}

/// The file of a finished job of `kind`: a gzipped CSV of the workspace's conversations (the
/// emulator keeps no job's window or attributes). `Accept: application/octet-stream` is
/// required, as Intercom says; an unknown or unfinished job is not found.
fn download(
    emulator: &EmulatorState,
    headers: &axum::http::HeaderMap,
    kind: &str,
    id: &str,
) -> ApiResult {
    let accepts = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/octet-stream"));
    if !accepts {
        return Err(ApiError::new(
            406,
            "not_acceptable",
            "Downloads need the header Accept: application/octet-stream",
        ));
    }
    let guard = emulator.store();
    let finished = guard
        .exports
        .iter()
        .any(|(j, k, status)| j == id.trim() && k == kind && status == "completed");
    if !finished {
        return Err(ApiError::not_found(
            "not_found",
            &format!("Export job not found for identifier: {}", id.trim()),
        ));
    }
    let mut csv = String::from("conversation_id,conversation_started_at,channel,state\n");
    for c in &guard.conversations {
        csv.push_str(&format!(
            "{},{},{},{}\n",
            c.id, c.created_at, c.source_type, c.state
        ));
    }
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(csv.as_bytes())
        .and_then(|()| gz.finish())
        .map(|file| {
            (
                [
                    (axum::http::header::CONTENT_TYPE, "application/octet-stream"),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        "attachment; filename=export.csv.gz",
                    ),
                ],
                file,
            )
                .into_response()
        })
        .map_err(|e| ApiError::new(500, "server_error", format!("cannot compress: {e}")))
}

/// `GET /download/content/data/{job_identifier}`.
pub(super) async fn download_content(
    State(emulator): State<EmulatorState>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    download(&emulator, &headers, "content", &id)
}

/// `GET /download/reporting_data/{job_identifier}?app_id=&job_identifier=`: both query
/// parameters are required, as for the job's status.
pub(super) async fn download_reporting(
    State(emulator): State<EmulatorState>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    for key in ["app_id", "job_identifier"] {
        if p.get(key).is_none_or(|v| v.trim().is_empty()) {
            return Err(super::body::missing(key));
        }
    }
    download(&emulator, &headers, "reporting", &id)
}
