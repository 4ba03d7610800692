//! Answers that are not JSON pages ([`BodyFormat`]): a call's transcript (text), its recording
//! (a redirect to a signed URL), an export's file (CSV, gzipped or not). Each is read whole in
//! one request and made into the JSON rows a page would hold, so the rest of the scan decodes
//! them like any other.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::convert::{RawRows, raw_rows};
use crate::client::{ApiRequest, ClientError, IntercomClient, ListRequest, RequestCounters};
use crate::tables::BodyFormat;

/// The most bytes an export file may take once unzipped (it is held in memory while its rows
/// are read). A larger file is refused with this in the message.
pub const MAX_DOCUMENT_BYTES: u64 = 256 << 20;

/// A query value standing for the token's workspace id (`app.id_code` of `GET /me`).
pub const APP_ID: &str = "{app_id}";

/// The rows of the document `list` names, for the parent (or key) `parent`; `None` when there
/// is none (404: a call without a recording or transcript, an unknown job).
pub(super) async fn document_rows(
    client: &IntercomClient,
    list: &ListRequest,
    format: &BodyFormat,
    parent: &str,
    counters: &Arc<RequestCounters>,
) -> Result<Option<RawRows>, ClientError> {
    let mut request = match &list.body {
        Some(body) => ApiRequest::search(&list.path, body.clone()),
        None => ApiRequest::get(&list.path),
    };
    request.query = list.query.clone();
    // The token's workspace, where Intercom asks for it (`/download/reporting_data`).
    if request.query.iter().any(|(_, v)| v == APP_ID) {
        let app = client.token_app().await?.ok_or_else(|| {
            ClientError::Config(format!(
                "{} needs the workspace's id, and GET /me named none (app.id_code)",
                request.describe()
            ))
        })?;
        for (_, value) in &mut request.query {
            if value == APP_ID {
                value.clone_from(&app);
            }
        }
    }
    request.counters = Some(counters.clone());
    match format {
        BodyFormat::Redirect(_) => request.keep_redirect = true,
        BodyFormat::Csv(_) => request
            .headers
            .push(("Accept".into(), "application/octet-stream".into())),
        BodyFormat::Text(_) | BodyFormat::Entries { .. } | BodyFormat::Json => {}
    }
    let describe = request.describe();
    let (status, body) = match client.send_with_status(&request).await {
        Ok(answer) => answer,
        // A call without a recording or transcript has none; an export's file that is not
        // there is an error: the job is unknown or not finished, which the user must hear.
        Err(ClientError::Api(e)) if e.status == 404 && !matches!(format, BodyFormat::Csv(_)) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let decode = |reason: String| ClientError::Decode {
        request: describe.clone(),
        json_path: "$".into(),
        reason,
    };
    let rows: Vec<Value> = match format {
        BodyFormat::Json => return Err(decode("not a document listing".into())),
        BodyFormat::Text(field) => {
            vec![json!({ *field: String::from_utf8_lossy(&body) })]
        }
        BodyFormat::Redirect(field) => {
            if !(300..400).contains(&status) || body.is_empty() {
                return Err(decode(format!(
                    "expected a redirect to the file, got HTTP {status}"
                )));
            }
            vec![json!({ *field: String::from_utf8_lossy(&body) })]
        }
        BodyFormat::Csv(field) => csv_rows(&body, field).map_err(decode)?,
        BodyFormat::Entries { at, name } => entries(&body, at, name).map_err(decode)?,
    };
    let mut text = String::from("[");
    let mut ranges = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let start = text.len();
        text.push_str(&row.to_string());
        ranges.push(start..text.len());
    }
    text.push(']');
    let (method, path) = describe.split_once(' ').unwrap_or(("GET", &describe));
    raw_rows(
        method,
        path,
        Bytes::from(text),
        ranges,
        Some(Arc::from(parent)),
    )
    .map(Some)
}

/// The members of the object at `at` of a JSON `body` that are objects themselves, each as a
/// row with its member name in `name` (`{"type": …, "fr": {…}}` → the `fr` row).
fn entries(body: &[u8], at: &str, name: &str) -> Result<Vec<Value>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let Some(map) = value.get(at).and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    Ok(map
        .iter()
        .filter_map(|(key, entry)| {
            let mut row = entry.as_object()?.clone();
            row.insert(name.to_string(), Value::String(key.clone()));
            Some(Value::Object(row))
        })
        .collect())
}

/// The records of a CSV file (gzipped when it starts with gzip's magic bytes) as rows
/// `{"line": n, field: {header: value, …}}`, `n` counted from 1.
fn csv_rows(body: &[u8], field: &str) -> Result<Vec<Value>, String> {
    let too_large = || {
        format!(
            "the file is larger than {} MiB unzipped, more than a query holds in memory",
            MAX_DOCUMENT_BYTES >> 20
        )
    };
    let text: Vec<u8> = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(body)
            .take(MAX_DOCUMENT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("the gzipped file cannot be read: {e}"))?;
        out
    } else {
        body.to_vec()
    };
    if text.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(too_large());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_slice());
    let headers = reader
        .headers()
        .map_err(|e| format!("the CSV header cannot be read: {e}"))?
        .clone();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("CSV record {} cannot be read: {e}", i + 1))?;
        let mut object = Map::new();
        for (n, value) in record.iter().enumerate() {
            let name = headers
                .get(n)
                .map_or_else(|| format!("column_{}", n + 1), str::to_string);
            object.insert(name, Value::String(value.to_string()));
        }
        rows.push(json!({ "line": i + 1, field: object }));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::csv_rows;
    use std::io::Write;

    #[test]
    fn csv_files_become_one_object_per_record_gzipped_or_not() {
        let csv = "conversation_id,channel\n1,email\n2,\"chat, web\"\n";
        let plain = csv_rows(csv.as_bytes(), "record").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(csv.as_bytes()).unwrap();
        let zipped = csv_rows(&gz.finish().unwrap(), "record").unwrap();
        assert_eq!(plain, zipped);
        assert_eq!(plain.len(), 2);
        assert_eq!(plain[1]["line"], 2);
        assert_eq!(plain[1]["record"]["channel"], "chat, web");
        assert!(csv_rows(b"\x1f\x8bnot gzip", "record").is_err());
    }
}
