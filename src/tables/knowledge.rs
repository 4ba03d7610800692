//! What Fin and teammates learn from, beyond the Help Center: `content_import_sources` and
//! their `external_pages` (official spec: `listContentImportSources`,
//! `createContentImportSource`, `getContentImportSource`, `updateContentImportSource`,
//! `deleteContentImportSource`, `listExternalPages`, `createExternalPage`, `getExternalPage`,
//! `updateExternalPage`, `deleteExternalPage`), and `internal_articles` (`listInternalArticles`,
//! `createInternalArticle`, `retrieveInternalArticle`, `updateInternalArticle`,
//! `deleteInternalArticle`). All three are written with INSERT, UPDATE and DELETE.

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef};

const SOURCES: &str = "/ai/content_import_sources";

/// What INSERT and UPDATE of a content import source may set.
const SOURCE_FIELDS: &[(&str, &str)] = &[
    ("url", "url"),
    ("sync_behavior", "sync_behavior"),
    ("status", "status"),
    ("audience_ids", "audience_ids"),
];

/// `content_import_sources`: the sites and feeds Intercom imports content from.
pub(super) fn content_import_sources() -> TableDef {
    TableDef::new(
        "content_import_sources",
        "Sources Fin's content is imported from (websites, or pages sent through the API).",
        Source::List(Listing::new(SOURCES, PageStyle::PageNumber, "data")),
    )
    .get_by_id("/ai/content_import_sources/{id}")
    .columns([
        C::text("id", "Id of the source."),
        C::text("url", "The source's URL."),
        C::text(
            "sync_behavior",
            "api (pages sent as external_pages), automatic or manual.",
        ),
        C::text("status", "active or deactivated."),
        C::json(
            "audience_ids",
            "Audiences its content is shown to, as a JSON array of ids.",
        ),
        C::timestamp("last_synced_at", "When it was last synced."),
        C::timestamp("created_at", "When the source was added."),
        C::timestamp("updated_at", "When it last changed."),
    ])
    .writes(TableWrites {
        table: "content_import_sources",
        // Intercom creates only sources fed through the API (`sync_behavior` api).
        insert: Some(
            Write::new("POST", SOURCES)
                .fields(SOURCE_FIELDS)
                .required(&["url", "sync_behavior"]),
        ),
        // Its update takes `url` and `sync_behavior` every time: the row's own are sent
        // unless the statement sets them.
        update: Some(
            Write::new("PUT", "/ai/content_import_sources/{id}")
                .fields(SOURCE_FIELDS)
                .keys(&[("url", "url"), ("sync_behavior", "sync_behavior")])
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/ai/content_import_sources/{id}").idempotent()),
        key: &["id"],
    })
}

const PAGES: &str = "/ai/external_pages";

/// `external_pages`: pages of content sent to Intercom through the API.
pub(super) fn external_pages() -> TableDef {
    TableDef::new(
        "external_pages",
        "Pages of content sent to Intercom through the API, for Fin and Copilot.",
        Source::List(Listing::new(PAGES, PageStyle::PageNumber, "data")),
    )
    .get_by_id("/ai/external_pages/{id}")
    .columns([
        C::text("id", "Id of the page."),
        C::text("title", "Title."),
        C::text("html", "Content (HTML)."),
        C::text("url", "URL readers are sent to, if any."),
        C::text("locale", "Locale (en)."),
        C::int(
            "source_id",
            "Its content import source (content_import_sources.id).",
        ),
        C::text(
            "external_id",
            "Your id for the page (unique within the source).",
        ),
        C::bool("ai_agent_availability", "Whether Fin (AI agent) uses it."),
        C::bool("ai_copilot_availability", "Whether Copilot uses it."),
        C::bool(
            "ai_sales_agent_availability",
            "Whether the AI sales agent uses it.",
        ),
        C::bool("fin_availability", "Whether Fin uses it."),
        C::timestamp("last_ingested_at", "When Intercom last read it."),
        C::timestamp("created_at", "When the page was created."),
        C::timestamp("updated_at", "When it last changed."),
    ])
    .writes(TableWrites {
        table: "external_pages",
        insert: Some(
            Write::new("POST", PAGES)
                .fields(&[
                    ("title", "title"),
                    ("html", "html"),
                    ("url", "url"),
                    ("locale", "locale"),
                    ("source_id", "source_id"),
                    ("external_id", "external_id"),
                    ("ai_agent_availability", "ai_agent_availability"),
                    ("ai_copilot_availability", "ai_copilot_availability"),
                ])
                .required(&["title", "html", "locale", "source_id", "external_id"]),
        ),
        // Its update takes title, html, url, locale and source_id every time: the row's own
        // are sent unless the statement sets them.
        update: Some(
            Write::new("PUT", "/ai/external_pages/{id}")
                .fields(&[
                    ("title", "title"),
                    ("html", "html"),
                    ("url", "url"),
                    ("locale", "locale"),
                    ("source_id", "source_id"),
                    ("external_id", "external_id"),
                    ("fin_availability", "fin_availability"),
                ])
                .keys(&[
                    ("title", "title"),
                    ("html", "html"),
                    ("url", "url"),
                    ("locale", "locale"),
                    ("source_id", "source_id"),
                ])
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/ai/external_pages/{id}").idempotent()),
        key: &["id"],
    })
}

const INTERNAL_ARTICLES: &str = "/internal_articles";

/// The columns of an internal article.
fn internal_article_columns() -> Vec<C> {
    vec![
        C::text("id", "Id of the internal article."),
        C::text("title", "Title."),
        C::text("body", "Body (HTML)."),
        C::int("owner_id", "Admin who owns it (admins.id)."),
        C::int("author_id", "Admin who wrote it (admins.id)."),
        C::text("locale", "Locale (en)."),
        C::timestamp("created_at", "When it was created."),
        C::timestamp("updated_at", "When it last changed."),
    ]
}

/// `internal_article_search`: the internal articles of a folder (`GET
/// /internal_articles/search?folder_id=`, searchInternalArticles).
pub(super) fn internal_article_search() -> TableDef {
    let mut columns = vec![C::parent_key(
        "folder_id",
        "The folder searched (the WHERE clause's).",
    )];
    columns.extend(internal_article_columns());
    TableDef::new(
        "internal_article_search",
        "Internal articles of a folder, as Intercom's search finds them (read by folder_id).",
        Source::Keyed {
            key_column: "folder_id".into(),
            listing: Listing::new(
                "/internal_articles/search",
                PageStyle::PageNumber,
                "data.internal_articles",
            )
            .with_query("folder_id", "{id}"),
        },
    )
    .key_required(
        "Intercom searches internal articles by folder; add WHERE folder_id = '…'; the internal_articles table lists them all",
    )
    .columns(columns)
}

/// `internal_articles`: articles for the team only (not published in a help center).
pub(super) fn internal_articles() -> TableDef {
    TableDef::new(
        "internal_articles",
        "Internal articles: knowledge for the team, not published.",
        Source::List(Listing::new(
            INTERNAL_ARTICLES,
            PageStyle::PageNumber,
            "data",
        )),
    )
    .get_by_id("/internal_articles/{id}")
    .columns(internal_article_columns())
    .writes(TableWrites {
        table: "internal_articles",
        insert: Some(
            Write::new("POST", INTERNAL_ARTICLES)
                .fields(&[
                    ("title", "title"),
                    ("body", "body"),
                    ("owner_id", "owner_id"),
                    ("author_id", "author_id"),
                ])
                .required(&["title", "owner_id", "author_id"]),
        ),
        update: Some(
            Write::new("PUT", "/internal_articles/{id}")
                .fields(&[
                    ("title", "title"),
                    ("body", "body"),
                    ("owner_id", "owner_id"),
                    ("author_id", "author_id"),
                ])
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/internal_articles/{id}").idempotent()),
        key: &["id"],
    })
}
