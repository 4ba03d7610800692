//! Intercom's pagination styles as one lazy stream of pages (intercom-api.md §2): a page is
//! requested only when the consumer asks for the next one, so a LIMIT or a cancelled query
//! stops the requests. A cursor that repeats is an error, never an endless loop.

use std::collections::HashSet;
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use serde_json::{Value, json};

use super::{ApiRequest, ClientError, IntercomClient};

/// How an endpoint pages.
#[derive(Clone, Debug, PartialEq)]
pub enum PageStyle {
    /// Style A: `GET ?per_page=&starting_after=`, next cursor in `pages.next.starting_after`.
    Cursor,
    /// Style B: `POST` search with `{"query": …, "pagination": {"per_page", "starting_after"}}`.
    Search {
        /// The search query (`{"field","operator","value"}` or a group).
        query: Value,
    },
    /// Style C: `?page=&per_page=`, continue while `page < pages.total_pages`.
    PageNumber,
    /// Style D: `GET /companies/scroll`, then `?scroll_param=` until a page is empty.
    Scroll,
    /// Style F: everything in one response.
    Single,
}

/// A paginated read: where, how it pages, and where the items are in each response.
#[derive(Clone, Debug)]
pub struct ListRequest {
    /// Path, e.g. `/contacts`.
    pub path: String,
    /// The pagination style.
    pub style: PageStyle,
    /// Where the items are, tried in order (`data`, `conversations`, `conversation_parts.conversation_parts`);
    /// dotted keys walk nested objects. Several alternatives cover spec/example conflicts (§8.2).
    pub items_keys: Vec<String>,
    /// Extra query parameters.
    pub query: Vec<(String, String)>,
    /// Page size to ask for (`None`: the endpoint's default).
    pub per_page: Option<u32>,
    /// Stop after this many pages (`None`: all).
    pub max_pages: Option<u64>,
}

impl ListRequest {
    /// A request for `path` in `style`, with items under `items_key`.
    pub fn new(path: impl Into<String>, style: PageStyle, items_key: &str) -> Self {
        Self {
            path: path.into(),
            style,
            items_keys: vec![items_key.to_string()],
            query: Vec::new(),
            per_page: None,
            max_pages: None,
        }
    }
}

/// One page of items.
#[derive(Debug)]
pub struct Page {
    /// The items, as Intercom sent them.
    pub items: Vec<Value>,
    /// `total_count` of the whole result, when sent.
    pub total_count: Option<u64>,
    /// 1-based page number within this stream.
    pub number: u64,
}

#[derive(Debug)]
enum Next {
    First,
    Cursor(String),
    PageNumber(u64),
    Scroll(String),
    Done,
}

struct State {
    client: Arc<IntercomClient>,
    list: ListRequest,
    next: Next,
    seen: HashSet<String>,
    pages: u64,
}

/// Streams the pages of `list`, lazily.
pub fn pages(
    client: Arc<IntercomClient>,
    list: ListRequest,
) -> BoxStream<'static, Result<Page, ClientError>> {
    let state = State {
        client,
        list,
        next: Next::First,
        seen: HashSet::new(),
        pages: 0,
    };
    stream::try_unfold(state, |mut state| async move {
        if matches!(state.next, Next::Done)
            || state.list.max_pages.is_some_and(|max| state.pages >= max)
        {
            return Ok(None);
        }
        let request = state.request();
        let mut body = state.client.send(&request).await?;
        state.pages += 1;
        let items = take_items(&mut body, &state.list.items_keys, &request)?;
        state.next = state.advance(&body, items.is_empty(), &request)?;
        let page = Page {
            items,
            total_count: body.get("total_count").and_then(Value::as_u64),
            number: state.pages,
        };
        Ok(Some((page, state)))
    })
    .boxed()
}

impl State {
    fn request(&self) -> ApiRequest {
        let list = &self.list;
        let mut request = match &list.style {
            PageStyle::Search { query } => {
                let mut pagination = serde_json::Map::new();
                if let Some(n) = list.per_page {
                    pagination.insert("per_page".into(), json!(n));
                }
                if let Next::Cursor(c) = &self.next {
                    pagination.insert("starting_after".into(), json!(c));
                }
                let mut body = json!({ "query": query });
                if !pagination.is_empty() {
                    body["pagination"] = Value::Object(pagination);
                }
                ApiRequest::search(&list.path, body)
            }
            _ => ApiRequest::get(&list.path),
        };
        request.query.extend(list.query.iter().cloned());
        match (&list.style, &self.next) {
            (PageStyle::Cursor, next) => {
                if let Some(n) = list.per_page {
                    request = request.with_query("per_page", n);
                }
                if let Next::Cursor(c) = next {
                    request = request.with_query("starting_after", c);
                }
            }
            (PageStyle::PageNumber, next) => {
                let page = match next {
                    Next::PageNumber(p) => *p,
                    _ => 1,
                };
                request = request.with_query("page", page);
                if let Some(n) = list.per_page {
                    request = request.with_query("per_page", n);
                }
            }
            (PageStyle::Scroll, Next::Scroll(param)) => {
                request = request.with_query("scroll_param", param)
            }
            _ => {}
        }
        request
    }

    /// Works out the next page from a response, refusing to revisit a cursor.
    fn advance(
        &mut self,
        body: &Value,
        empty: bool,
        request: &ApiRequest,
    ) -> Result<Next, ClientError> {
        let next = match &self.list.style {
            PageStyle::Single => Next::Done,
            PageStyle::Cursor | PageStyle::Search { .. } => match next_cursor(body) {
                Some(cursor) if !empty => Next::Cursor(cursor),
                _ => Next::Done,
            },
            PageStyle::PageNumber => {
                let pages = body.get("pages");
                let page = pages
                    .and_then(|p| p.get("page"))
                    .and_then(Value::as_u64)
                    .unwrap_or(self.pages);
                let total = pages
                    .and_then(|p| p.get("total_pages"))
                    .and_then(Value::as_u64);
                let has_next = pages
                    .and_then(|p| p.get("next"))
                    .is_some_and(|n| !n.is_null());
                let more = match total {
                    Some(total) => page < total,
                    None => has_next,
                };
                if more && !empty {
                    Next::PageNumber(page.max(self.pages) + 1)
                } else {
                    Next::Done
                }
            }
            PageStyle::Scroll => match body.get("scroll_param").and_then(Value::as_str) {
                Some(param) if !empty => Next::Scroll(param.to_string()),
                _ => Next::Done,
            },
        };
        if let Next::Cursor(c) = &next
            && !self.seen.insert(c.clone())
        {
            return Err(ClientError::CursorLoop {
                request: request.describe(),
            });
        }
        Ok(next)
    }
}

/// `pages.next.starting_after`, or the `starting_after` parameter of a `pages.next` URL.
fn next_cursor(body: &Value) -> Option<String> {
    let next = body.get("pages")?.get("next")?;
    match next {
        Value::Object(o) => o
            .get("starting_after")
            .and_then(Value::as_str)
            .map(str::to_string),
        Value::String(url) => url
            .split_once('?')
            .map(|(_, q)| q)
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|kv| kv.strip_prefix("starting_after="))
            .map(str::to_string),
        _ => None,
    }
}

/// Moves the items out of a response (the rest of the body, `pages` included, stays).
fn take_items(
    body: &mut Value,
    keys: &[String],
    request: &ApiRequest,
) -> Result<Vec<Value>, ClientError> {
    for key in keys {
        let pointer = format!("/{}", key.replace('.', "/"));
        match body.pointer_mut(&pointer) {
            Some(Value::Array(items)) => return Ok(std::mem::take(items)),
            Some(Value::Null) => return Ok(Vec::new()),
            _ => {}
        }
    }
    Err(ClientError::Decode {
        request: request.describe(),
        json_path: format!("$.{}", keys.join(" or $.")),
        reason: "expected a list of items".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cursor_from_object_or_url() {
        assert_eq!(
            next_cursor(&json!({"pages": {"next": {"page": 2, "starting_after": "abc"}}})),
            Some("abc".into())
        );
        assert_eq!(
            next_cursor(
                &json!({"pages": {"next": "https://api.intercom.io/x?per_page=5&starting_after=zz"}})
            ),
            Some("zz".into())
        );
        assert_eq!(next_cursor(&json!({"pages": {"next": null}})), None);
        assert_eq!(next_cursor(&json!({"pages": {}})), None);
    }

    #[test]
    fn items_are_found_under_alternative_keys() {
        let req = ApiRequest::get("/x");
        let keys = vec!["companies".to_string(), "data".to_string()];
        let items = take_items(&mut json!({"data": [1, 2]}), &keys, &req).unwrap();
        assert_eq!(items.len(), 2);
        let nested = vec!["conversation_parts.conversation_parts".to_string()];
        let items = take_items(
            &mut json!({"conversation_parts": {"conversation_parts": [{}]}}),
            &nested,
            &req,
        )
        .unwrap();
        assert_eq!(items.len(), 1);
        let err = take_items(&mut json!({"nope": 1}), &keys, &req).unwrap_err();
        assert!(err.to_string().contains("$.companies or $.data"), "{err}");
    }
}
