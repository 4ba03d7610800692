//! Lists Intercom cuts short inside objects, filled in: a contact embeds its first 10 tags,
//! companies and notes with `has_more: true` (docs/intercom-notes.md, "Capped lists inside
//! objects"). When such a column is read, each object whose list has more gets it whole from
//! the sub-resource that lists it (`GET /contacts/{id}/tags`), one request per such object;
//! the others cost nothing. Declared by `TableDef::completed_from`.

use std::sync::{Arc, LazyLock};
use std::task::Poll;

use bytes::Bytes;
use futures::future::{self, FutureExt};
use futures::stream::{self, BoxStream, FuturesUnordered, StreamExt};
use memchr::memmem;
use serde_json::Value;

use super::convert::{RawRows, Row, raw_rows};
use crate::client::{ClientError, IntercomClient, RequestCounters};
use crate::tables::{ColumnDef, Listing, Source, TableDef};

/// One column to complete: where its list object sits, and the listing that has it whole.
#[derive(Clone, Debug)]
pub(super) struct Completion {
    path: Vec<String>,
    listing: Listing,
}

/// The completions of `def` whose column is among those decoded.
pub(super) fn wanted(def: &TableDef, decoded: &[ColumnDef]) -> Vec<Completion> {
    def.completions
        .iter()
        .filter_map(|(column, child)| {
            let column = decoded.iter().find(|c| &c.name == column)?;
            let Source::Children { listing, .. } = &crate::tables::find(child)?.source else {
                return None;
            };
            Some(Completion {
                path: column.path.clone(),
                listing: listing.clone(),
            })
        })
        .collect()
}

/// `items` with every cut list of `completions` filled.
pub(super) fn completed(
    items: BoxStream<'static, Result<Vec<RawRows>, ClientError>>,
    completions: Vec<Completion>,
    client: Arc<IntercomClient>,
    counters: Arc<RequestCounters>,
) -> BoxStream<'static, Result<Vec<RawRows>, ClientError>> {
    // Where each cut list sits in an object: under its column's first key.
    let keys: Vec<String> = completions
        .iter()
        .filter_map(|c| c.path.first().cloned())
        .collect();
    let completions = Arc::new(completions);
    // Each page is passed on at once without its objects that have a cut list; those follow
    // once completed, while later pages go on. Nothing is read ahead: only the cut objects
    // wait, at most this many pages' worth at a time.
    const COMPLETING: usize = 64;
    let mut pages = items;
    let mut pending = FuturesUnordered::new();
    let mut pages_done = false;
    stream::poll_fn(move |cx| {
        loop {
            if let Poll::Ready(Some(completed)) = pending.poll_next_unpin(cx) {
                return Poll::Ready(Some(completed));
            }
            if pages_done {
                return match pending.is_empty() {
                    true => Poll::Ready(None),
                    false => Poll::Pending,
                };
            }
            if pending.len() >= COMPLETING {
                return Poll::Pending;
            }
            let chunks = match pages.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunks))) => chunks,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    pages_done = true;
                    continue;
                }
                Poll::Pending => return Poll::Pending,
            };
            let (whole, cut): (Vec<RawRows>, Vec<Option<RawRows>>) = chunks
                .into_iter()
                .map(|rows| {
                    let mut near = Vec::new();
                    rows.split(|row| is_cut(&row, &keys, &mut near))
                })
                .unzip();
            let cut: Vec<RawRows> = cut.into_iter().flatten().collect();
            if !cut.is_empty() {
                let (completions, client, counters) =
                    (completions.clone(), client.clone(), counters.clone());
                pending.push(
                    async move {
                        let completing = cut
                            .into_iter()
                            .map(|rows| complete_rows(rows, &completions, &client, &counters));
                        future::try_join_all(completing).await
                    }
                    .boxed(),
                );
            }
            return Poll::Ready(Some(Ok(whole)));
        }
    })
    .boxed()
}

/// `rows`, each an object that says it has a cut list (see [`says_more`]), with those lists
/// filled.
async fn complete_rows(
    rows: RawRows,
    completions: &[Completion],
    client: &Arc<IntercomClient>,
    counters: &Arc<RequestCounters>,
) -> Result<RawRows, ClientError> {
    let filled = future::try_join_all(
        rows.items()
            .map(|text| fill(text, completions, client, counters)),
    )
    .await?;
    let mut body = String::new();
    let mut ranges = Vec::with_capacity(rows.len());
    for (text, filled) in rows.items().zip(filled) {
        let start = body.len();
        body.push_str(filled.as_deref().unwrap_or(text));
        ranges.push(start..body.len());
        body.push('\n');
    }
    raw_rows(
        "GET",
        "(completed lists)",
        Bytes::from(body),
        ranges,
        rows.parent(),
    )
}

/// Whether `row` may have a cut list: the value of one of `keys` (the first key of each
/// completed column's path; the first member so named, the one the decoder reads) says it has
/// more, or, when the row's members were not noted, its text does anywhere. `near` holds
/// where each key was found in the row before. Only the rows this picks are parsed (see
/// [`fill`]).
fn is_cut(row: &Row, keys: &[String], near: &mut Vec<usize>) -> bool {
    if !row.noted() {
        return says_more(row.text);
    }
    near.resize(keys.len(), 0);
    keys.iter().zip(near.iter_mut()).any(|(key, near)| {
        let Some(at) = row.find(key, *near) else {
            return false;
        };
        *near = at;
        row.member(at).is_some_and(|(_, value)| says_more(value))
    })
}

/// Whether the JSON text `text` has a `"has_more": true` member (with or without spaces after
/// the colon), found without parsing: every item of a page read with such a column is
/// searched, so this is one SIMD substring search through the item. A list that ends with
/// `"has_more":false` (as Intercom writes every list that is whole) is not searched: its last
/// member is the one [`fill`]'s parse keeps, so it is not completed either way.
fn says_more(text: &str) -> bool {
    if text.ends_with(r#""has_more":false}"#) {
        return false;
    }
    static KEY: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(br#""has_more":"#));
    let bytes = text.as_bytes();
    KEY.find_iter(bytes).any(|at| {
        let value = &bytes[at + KEY.needle().len()..];
        let start = value
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(value.len());
        value[start..].starts_with(b"true")
    })
}

/// The object `text` with its cut lists filled, or `None` when none is cut.
async fn fill(
    text: &str,
    completions: &[Completion],
    client: &Arc<IntercomClient>,
    counters: &Arc<RequestCounters>,
) -> Result<Option<String>, ClientError> {
    let Ok(mut object) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let id = match object.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => return Ok(None),
    };
    let cut: Vec<(String, &Completion)> = completions
        .iter()
        .map(|c| (format!("/{}", c.path.join("/")), c))
        .filter(|(pointer, _)| {
            object
                .pointer(pointer)
                .and_then(|list| list.get("has_more"))
                .is_some_and(|more| more == &Value::Bool(true))
        })
        .collect();
    let wholes = future::try_join_all(
        cut.iter()
            .map(|(_, c)| list_whole(&c.listing, &id, client, counters)),
    )
    .await?;
    let mut changed = false;
    for ((pointer, _), whole) in cut.iter().zip(wholes) {
        if let (Some(whole), Some(Value::Object(list))) = (whole, object.pointer_mut(pointer)) {
            list.insert("data".into(), Value::Array(whole));
            list.insert("has_more".into(), Value::Bool(false));
            changed = true;
        }
    }
    Ok(changed.then(|| object.to_string()))
}

/// Every item of `listing` for the object `id`; `None` when the object is gone (404).
async fn list_whole(
    listing: &Listing,
    id: &str,
    client: &Arc<IntercomClient>,
    counters: &Arc<RequestCounters>,
) -> Result<Option<Vec<Value>>, ClientError> {
    let page_size = client.config().page_size;
    let found = super::scan::sub_resource(client, listing, id, page_size, counters).await?;
    Ok(found.map(|pages| pages.iter().flat_map(|page| page.values()).collect()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cut_list_is_seen_without_parsing() {
        for (text, more) in [
            (r#"{"tags":{"data":[],"has_more":true}}"#, true),
            (r#"{"tags":{"has_more": true,"data":[]}}"#, true),
            (
                r#"{"tags":{"has_more":false},"notes":{"has_more":true}}"#,
                true,
            ),
            (r#"{"tags":{"has_more":false}}"#, false),
            (r#"{"name":"has_more","x":"true"}"#, false),
            (r#"{"tags":{"has_more""#, false),
            (r#"{"tags":{"has_more":"#, false),
            (r#"{"tags":{"has_more":  true}}"#, true),
            (r#"{"tags":{"has_more":false,"more":true}}"#, false),
            // A list's own value: whole when it ends saying so.
            (r#"{"data":[],"has_more":false}"#, false),
            (r#"{"data":[],"has_more":true}"#, true),
            (r#"{"has_more":true,"data":[],"has_more":false}"#, false),
            (r#"{"data":[{"has_more":false}],"has_more":true}"#, true),
        ] {
            assert_eq!(super::says_more(text), more, "{text}");
        }
    }

    #[test]
    fn only_the_completed_columns_members_are_searched_when_noted() {
        use super::{RawRows, is_cut};
        use crate::client::Page;
        let items = [
            // Cut in a completed column: picked.
            r#"{"id":"1","tags":{"has_more":true},"notes":{"has_more":false}}"#,
            // Cut in a list no column completes: not picked (nothing to fill).
            r#"{"id":"2","tags":{"has_more":false},"social_profiles":{"has_more":true}}"#,
            // A key named twice: its first value is the one read.
            r#"{"id":"3","notes":{"has_more":true},"notes":{"has_more":false}}"#,
            // Keys in another order than the row before's.
            r#"{"id":"5","notes":{"has_more":true},"id":"5"}"#,
            r#"{"id":"4","name":"\"has_more\":true"}"#,
        ];
        let body = format!(r#"{{"data":[{}]}}"#, items.join(","));
        let keys = ["tags".to_string(), "notes".to_string()];
        let noted = RawRows::from_page(Page::parse(&body, "data"), None);
        let mut near = Vec::new();
        let (rest, cut) = noted.split(|row| {
            assert!(row.noted(), "{}", row.text);
            is_cut(&row, &keys, &mut near)
        });
        let ids = |rows: &RawRows| {
            rows.items()
                .map(|t| t[7..8].to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&cut.expect("rows are cut")), ["1", "3", "5"]);
        assert_eq!(ids(&rest), ["2", "4"]);
        // Rows whose members were not noted: their whole text is searched.
        let text = format!("[{}]", items[1]);
        let item = 1..text.len() - 1;
        let unnoted = RawRows::new(text.clone().into(), Vec::from([item]), None).unwrap();
        let (rest, cut) = unnoted.split(|row| {
            assert!(!row.noted());
            is_cut(&row, &keys, &mut near)
        });
        assert!(rest.is_empty());
        assert_eq!(cut.map(|rows| rows.len()), Some(1));
    }
}
