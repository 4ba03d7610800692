//! `intercom_api_items(method, path [, body [, items]])`: the escape hatch's paged form. It
//! reads an endpoint this release may not know page after page, following whatever paging the
//! answers show (a scroll, a cursor, a next-page URL, page numbers), and returns one row per
//! item, as JSON. Only reads: `GET`, or `POST` to a search or list endpoint (`…/search`,
//! `…/list`); `intercom_api` sends anything else, one request at a time.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use serde_json::Value;

use super::IntercomTable;
use crate::client::IntercomClient;
use crate::client::split_raw_path;
use crate::tables::{BodyFormat, ColumnDef, Listing, PageStyle, Source, TableDef, WHOLE_BODY};

/// The function's SQL name.
pub const NAME: &str = "intercom_api_items";

/// Where items are looked for when the call names no `items` key, in order: Intercom's list
/// keys (`data`, then the object lists some endpoints use) and the search answers' nested ones.
const ITEM_KEYS: &[&str] = &[
    "data",
    "conversations",
    "tickets",
    "contacts",
    "companies",
    "activity_logs",
    "events",
    "admins",
    "teams",
    "segments",
    "data.articles",
    "data.internal_articles",
    "conversation_parts.conversation_parts",
    "ticket_parts.ticket_parts",
];

/// The table function; each call becomes a table of one column, `item`.
#[derive(Debug)]
pub struct RawItemsFunction {
    /// The session's client.
    pub client: Arc<IntercomClient>,
}

impl TableFunctionImpl for RawItemsFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let text = |i: usize, name: &str| -> Result<Option<String>> {
            match exprs.get(i) {
                None | Some(Expr::Literal(ScalarValue::Null, _)) => Ok(None),
                Some(Expr::Literal(
                    ScalarValue::Utf8(s) | ScalarValue::Utf8View(s) | ScalarValue::LargeUtf8(s),
                    _,
                )) => Ok(s.clone()),
                Some(other) => plan_err!(
                    "{NAME}: {name} must be a text literal, got {other}; usage: {NAME}('GET', '/path?query' [, body [, items]])"
                ),
            }
        };
        if exprs.len() < 2 || exprs.len() > 4 {
            return plan_err!(
                "{NAME} takes 2 to 4 arguments (method, path [, body [, items]]), got {}",
                exprs.len()
            );
        }
        let method = text(0, "method")?.unwrap_or_default().to_ascii_uppercase();
        let Some(path_text) = text(1, "path")? else {
            return plan_err!("{NAME}: path must not be NULL");
        };
        let (path, query) = match split_raw_path(&path_text) {
            Ok(split) => split,
            Err(m) => return plan_err!("{NAME}: {m}"),
        };
        let body = match text(2, "body")? {
            None => None,
            Some(b) => match serde_json::from_str::<Value>(&b) {
                Ok(v) if v.is_object() => Some(v),
                _ => {
                    return plan_err!(
                        "{NAME}: body must be a JSON object, e.g. '{{\"query\": …}}'"
                    );
                }
            },
        };
        let post = match method.as_str() {
            "GET" if body.is_none() => false,
            "GET" => return plan_err!("{NAME}: a GET request takes no body"),
            "POST" if path.ends_with("/search") || path.ends_with("/list") => true,
            "POST" => {
                return plan_err!(
                    "{NAME} only reads: POST goes to a search or list endpoint (…/search, …/list); send other requests with intercom_api"
                );
            }
            other => {
                return plan_err!(
                    "{NAME} only reads (GET, or POST to a search); {other:?} requests go through intercom_api"
                );
            }
        };
        let items_keys = match text(3, "items")? {
            Some(key) => vec![key],
            None => ITEM_KEYS.iter().map(|k| k.to_string()).collect(),
        };
        let listing = Listing {
            path,
            style: PageStyle::Auto,
            items_keys,
            sized: false,
            query,
            overflow: None,
            post,
            body: post.then(|| body.unwrap_or_else(|| Value::Object(Default::default()))),
            format: BodyFormat::Json,
        };
        let def = TableDef::new(
            NAME,
            "Items of any list endpoint, page after page.",
            Source::List(listing),
        )
        .column(ColumnDef::json("item", "One item of the answer, as JSON.").at(WHOLE_BODY));
        Ok(Arc::new(IntercomTable::new(def, self.client.clone())))
    }
}
