//! News: `news_items` (written with INSERT, UPDATE and DELETE), `newsfeeds` and
//! `newsfeed_items`, the live items of each newsfeed (official spec: `listNewsItems`,
//! `retrieveNewsItem`, `createNewsItem`, `updateNewsItem`, `deleteNewsItem`, `listNewsfeeds`,
//! `retrieveNewsfeed`, `listLiveNewsfeedItems`).

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef};

const NEWS_ITEMS: &str = "/news/news_items";

/// The columns of a news item; its id is `id_name`.
fn news_item_columns(id_name: &str) -> Vec<C> {
    vec![
        C::text(id_name, "Id of the news item.").at("id"),
        C::text("workspace_id", "Workspace (app) id."),
        C::text("title", "Title."),
        C::text("body", "Body (HTML)."),
        C::int("sender_id", "Admin shown as its sender (admins.id)."),
        C::text("state", "draft or live."),
        C::json("labels", "Label names, as a JSON array."),
        C::json(
            "reactions",
            "Emoji reactions offered, in order, as a JSON array (empty: none).",
        ),
        C::text("cover_image_url", "Cover image URL, if any."),
        C::bool(
            "deliver_silently",
            "Whether it is delivered without a notification.",
        ),
        C::json(
            "newsfeed_assignments",
            "Newsfeeds it is in: [{\"newsfeed_id\", \"published_at\"}, …].",
        ),
        C::timestamp("created_at", "When the news item was created."),
        C::timestamp("updated_at", "When it last changed."),
    ]
}

/// `news_items`: every news item, draft or live.
pub(super) fn news_items() -> TableDef {
    TableDef::new(
        "news_items",
        "News items (announcements in the Messenger and Help Center), draft or live.",
        Source::List(Listing::new(NEWS_ITEMS, PageStyle::PageNumber, "data")),
    )
    .get_by_id("/news/news_items/{id}")
    .columns(news_item_columns("id"))
    .writes(news_items_writes())
}

fn news_items_writes() -> TableWrites {
    const FIELDS: &[(&str, &str)] = &[
        ("title", "title"),
        ("body", "body"),
        ("sender_id", "sender_id"),
        ("state", "state"),
        ("deliver_silently", "deliver_silently"),
        ("labels", "labels"),
        ("reactions", "reactions"),
        ("newsfeed_assignments", "newsfeed_assignments"),
    ];
    TableWrites {
        table: "news_items",
        insert: Some(
            Write::new("POST", NEWS_ITEMS)
                .fields(FIELDS)
                .required(&["title", "sender_id"]),
        ),
        // Intercom's update takes the whole request again (`title` and `sender_id` are
        // required there too): the row's own are sent unless the statement sets them.
        update: Some(
            Write::new("PUT", "/news/news_items/{id}")
                .fields(FIELDS)
                .keys(&[("title", "title"), ("sender_id", "sender_id")])
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/news/news_items/{id}").idempotent()),
        key: &["id"],
    }
}

/// `newsfeeds`: where news items are shown.
pub(super) fn newsfeeds() -> TableDef {
    TableDef::new(
        "newsfeeds",
        "Newsfeeds: where news items are shown.",
        Source::List(Listing::new(
            "/news/newsfeeds",
            PageStyle::PageNumber,
            "data",
        )),
    )
    .get_by_id("/news/newsfeeds/{id}")
    .columns([
        C::text("id", "Id of the newsfeed."),
        C::text("name", "Name."),
        C::timestamp("created_at", "When the newsfeed was created."),
        C::timestamp("updated_at", "When it last changed."),
    ])
}

/// `newsfeed_items`: the live news items of each newsfeed (`GET /news/newsfeeds/{id}/items`).
pub(super) fn newsfeed_items() -> TableDef {
    let mut columns = vec![C::parent_key(
        "newsfeed_id",
        "Id of the newsfeed (newsfeeds.id).",
    )];
    columns.extend(news_item_columns("news_item_id"));
    TableDef::new(
        "newsfeed_items",
        "The live news items of each newsfeed (one row per newsfeed and item).",
        Source::Children {
            parent_table: "newsfeeds".into(),
            key_column: "newsfeed_id".into(),
            listing: Listing::new("/news/newsfeeds/{id}/items", PageStyle::PageNumber, "data"),
        },
    )
    .columns(columns)
}
