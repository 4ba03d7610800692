//! Running one bound procedure call: build the request from the declaration, refuse it on a
//! read-only connection, send it (after the lookup, if any), and read the result columns out
//! of the response. No DataFusion here; `exec` turns the values into Arrow.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::{Args, Procedure, ProcedureError, ResultSource};
use crate::client::{ApiRequest, IntercomClient, fill_path, path_segment};
use crate::tables::action::{WAIT_TIMEOUT, Wait, value_text};

/// What Intercom answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// HTTP status.
    pub status: u16,
    /// The decoded body (`Null` for an empty one, e.g. `POST /events`' 202).
    pub response: Value,
}

/// Whether the procedure is the raw escape hatch (method and path are arguments).
pub fn is_raw(procedure: &Procedure) -> bool {
    procedure.method == "*"
}

/// The request `procedure` sends for `args`.
///
/// `ArchiveContact(contact_id => 'a b')` → `POST /contacts/a%20b/archive`.
pub fn build_request(procedure: &Procedure, args: &Args) -> Result<ApiRequest, ProcedureError> {
    if is_raw(procedure) {
        return raw_request(procedure, args);
    }
    let method = Method::from_bytes(procedure.method.as_bytes())
        .map_err(|_| internal(procedure, &format!("invalid method {}", procedure.method)))?;
    let path = fill(procedure, procedure.path, args)?;
    let body = match procedure.body {
        Some(build) => Some(
            build(args)
                .map_err(|m| ProcedureError::Arguments(format!("{}: {m}", procedure.name)))?,
        ),
        None => None,
    };
    let request = ApiRequest::write(method, path, body);
    Ok(if procedure.idempotent {
        request.idempotent()
    } else {
        request
    })
}

/// `intercom_api(method, path [, body])`: GET is a read (retried, allowed when read-only);
/// anything else is a write, never repeated except after a 429.
fn raw_request(procedure: &Procedure, args: &Args) -> Result<ApiRequest, ProcedureError> {
    let method_text = args.text("method").unwrap_or_default();
    let method = Method::from_bytes(method_text.as_bytes())
        .map_err(|_| internal(procedure, "unknown method"))?;
    let (path, query) = crate::client::split_raw_path(&args.text("path").unwrap_or_default())
        .map_err(|m| ProcedureError::Arguments(format!("{}: {m}", procedure.name)))?;
    let body = args.get("body").cloned();
    let mut request = if method == Method::GET {
        if body.is_some() {
            return Err(ProcedureError::Arguments(format!(
                "{}: a GET request takes no body",
                procedure.name
            )));
        }
        ApiRequest::get(path)
    } else {
        ApiRequest::write(method, path, body)
    };
    request.query = query;
    let bad = |m: String| ProcedureError::Arguments(format!("{}: {m}", procedure.name));
    match args.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(headers)) => {
            for (name, value) in headers {
                let Value::String(value) = value else {
                    return Err(bad(format!("the value of header {name} must be text")));
                };
                request = request.with_header(name, value).map_err(bad)?;
            }
        }
        Some(_) => {
            return Err(bad(
                "headers must be a JSON object, e.g. '{\"Intercom-Version\": \"2.14\"}'".into(),
            ));
        }
    }
    Ok(request)
}

/// Replaces `{param}` placeholders with URL-encoded argument values.
fn fill(procedure: &Procedure, template: &str, args: &Args) -> Result<String, ProcedureError> {
    fill_path(template, |name| {
        let value = args
            .get(name)
            .map(value_text)
            .ok_or_else(|| internal(procedure, &format!("no value for {{{name}}}")))?;
        if value.trim().is_empty() {
            return Err(ProcedureError::Arguments(format!(
                "{}: {name} must not be empty",
                procedure.name
            )));
        }
        path_segment(&value).ok_or_else(|| {
            ProcedureError::Arguments(format!(
                "{}: {name} '{value}' is not a valid Intercom id",
                procedure.name
            ))
        })
    })
}

fn internal(procedure: &Procedure, what: &str) -> ProcedureError {
    ProcedureError::Unsupported(format!(
        "internal error: {}: {what}; please report it",
        procedure.name
    ))
}

/// Runs one bound call: read-only check, lookup, request.
pub async fn run(
    procedure: &'static Procedure,
    mut args: Args,
    client: &IntercomClient,
) -> Result<(Args, Outcome), ProcedureError> {
    let request_error = |source| ProcedureError::Request {
        procedure: procedure.name,
        source,
    };
    let raw_read = is_raw(procedure) && args.text("method").as_deref() == Some("GET");
    if client.config().read_only && !raw_read {
        return Err(ProcedureError::ReadOnly {
            procedure: procedure.name,
        });
    }
    // An admin left out is the token's own (`GET /me`).
    for param in procedure.params.iter().filter(|p| p.token_admin) {
        if args.get(param.name).is_none_or(Value::is_null) {
            let id = client.token_admin().await.map_err(request_error)?;
            let id = id.ok_or_else(|| {
                ProcedureError::NotFound(format!(
                    "{}: GET /me named no admin; give {}",
                    procedure.name, param.name
                ))
            })?;
            args.insert(param.name, Value::String(id));
        }
    }
    if let Some(lookup) = procedure.lookup {
        let path = fill(procedure, lookup.path, &args)?;
        let found = client
            .send(&ApiRequest::get(path))
            .await
            .map_err(request_error)?;
        (lookup.resolve)(&mut args, &found)
            .map_err(|m| ProcedureError::NotFound(format!("{}: {m}", procedure.name)))?;
    }
    let request = build_request(procedure, &args)?;
    let outcome = if is_raw(procedure) {
        let (status, response) = client
            .send_for_status(&request)
            .await
            .map_err(request_error)?;
        Outcome { status, response }
    } else if let Some(wait) = procedure.wait {
        let response = wait_until_done(procedure, wait, &args, &request, client).await?;
        Outcome {
            status: 200,
            response,
        }
    } else {
        let response = client.send(&request).await.map_err(request_error)?;
        Outcome {
            status: 200,
            response,
        }
    };
    Ok((args, outcome))
}

/// Sends `request` until the answer's state is done (see [`Wait`]), reporting progress;
/// after `timeout_seconds` the error says where the job stands. Dropping the future (a
/// cancelled statement) ends the wait.
async fn wait_until_done(
    procedure: &'static Procedure,
    wait: Wait,
    args: &Args,
    request: &ApiRequest,
    client: &IntercomClient,
) -> Result<Value, ProcedureError> {
    let timeout = args
        .get(WAIT_TIMEOUT)
        .and_then(Value::as_u64)
        .map_or(Duration::from_secs(600), Duration::from_secs);
    let started = Instant::now();
    let mut pause = Duration::from_secs(1);
    loop {
        let response = client
            .send(request)
            .await
            .map_err(|source| ProcedureError::Request {
                procedure: procedure.name,
                source,
            })?;
        let state = value_text(&lookup_path(&response, wait.field));
        if wait.done.contains(&state.as_str()) {
            return Ok(response);
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(ProcedureError::TimedOut(format!(
                "{}: still {state} after {} s (timeout_seconds); call it again to wait longer",
                procedure.name,
                waited.as_secs()
            )));
        }
        client.progress(&format!(
            "{}: {state} after {} s; asking again in {} s (Ctrl-C stops waiting, not the job)",
            procedure.name,
            waited.as_secs(),
            pause.as_secs_f64().round()
        ));
        tokio::time::sleep(pause.min(timeout - waited)).await;
        pause = (pause * 3 / 2).min(Duration::from_secs(15));
    }
}

/// The result columns' values (JSON, `Null` when absent), in declaration order. Without an
/// outcome (the call failed) only the columns that repeat arguments are filled.
pub fn column_values(procedure: &Procedure, args: &Args, outcome: Option<&Outcome>) -> Vec<Value> {
    procedure
        .columns
        .iter()
        .map(|column| match (column.source, outcome) {
            (ResultSource::Arg(name), _) => args.get(name).cloned().unwrap_or(Value::Null),
            (ResultSource::Response(path), Some(o)) => lookup_path(&o.response, path),
            (ResultSource::Status, Some(o)) => Value::from(o.status),
            (_, None) => Value::Null,
        })
        .collect()
}

/// Follows a dotted path (`tag.name`, `customers.0.id`) into a JSON value.
pub fn lookup_path(value: &Value, path: &str) -> Value {
    let mut node = value;
    for key in path.split('.') {
        let next = match node {
            Value::Object(map) => map.get(key),
            // `-1` is the last item (the part a reply just added).
            Value::Array(items) if key == "-1" => items.last(),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => node = v,
            None => return Value::Null,
        }
    }
    node.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(name: &str) -> &'static Procedure {
        super::super::find(name).unwrap()
    }

    #[test]
    fn paths_are_filled_with_encoded_ids() {
        let p = find("ArchiveContact");
        let args = Args::from_pairs(&[("contact_id", json!("a/../b c"))]);
        let request = build_request(p, &args).unwrap();
        assert_eq!(request.describe(), "POST /contacts/a%2F..%2Fb%20c/archive");
        assert!(request.body.is_none());
    }

    #[test]
    fn raw_requests_split_the_query_and_refuse_absolute_urls() {
        let p = find("intercom_api");
        let args = Args::from_pairs(&[
            ("method", json!("GET")),
            ("path", json!("/contacts?per_page=5&x=a%20b")),
        ]);
        let request = build_request(p, &args).unwrap();
        assert_eq!(request.path, "/contacts");
        assert_eq!(
            request.query,
            vec![
                ("per_page".to_string(), "5".to_string()),
                ("x".to_string(), "a b".to_string())
            ]
        );
        let args = Args::from_pairs(&[
            ("method", json!("GET")),
            ("path", json!("https://evil.example/me")),
        ]);
        assert!(build_request(p, &args).is_err());
    }

    #[test]
    fn result_columns_follow_paths_and_arguments() {
        let value = json!({"customers": [{"id": "c1"}], "tag": {"name": "VIP"}});
        assert_eq!(lookup_path(&value, "customers.0.id"), json!("c1"));
        assert_eq!(lookup_path(&value, "tag.name"), json!("VIP"));
        assert_eq!(lookup_path(&value, "tag.nope"), Value::Null);
    }
}
