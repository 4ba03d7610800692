//! The Help Center: `help_centers`, `collections` (with their sections), `articles` and
//! `article_statistics` (official spec: `listHelpCenters`, `retrieveHelpCenter`,
//! `listAllCollections`, `retrieveCollection`, `createCollection`, `updateCollection`,
//! `deleteCollection`, `listArticles`, `retrieveArticle`, `createArticle`, `updateArticle`,
//! `deleteArticle`). Collections and articles are written with INSERT, UPDATE and DELETE.
//!
//! An article's title, description, body, author, state and url are its default locale's;
//! every locale's are in the JSON `translated_content` (`translated_content->'fr'->>'title'`).

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{BodyFormat, ColumnDef as C, Listing, Source, TableDef, WHOLE_BODY};

/// `help_centers`: the workspace's help centers.
pub(super) fn help_centers() -> TableDef {
    TableDef::new(
        "help_centers",
        "The workspace's help centers.",
        Source::List(Listing::new(
            "/help_center/help_centers",
            PageStyle::Single,
            "data",
        )),
    )
    .get_by_id("/help_center/help_centers/{id}")
    .columns([
        C::text("id", "Id of the help center."),
        C::text("workspace_id", "Workspace (app) id."),
        C::text(
            "identifier",
            "The help center's identifier (its URL's last part).",
        ),
        C::text("display_name", "Name shown to readers."),
        C::bool(
            "website_turned_on",
            "Whether the help center's website is live.",
        ),
        C::text("url", "URL of the help center."),
        C::text("custom_domain", "Custom domain, if one is set."),
        C::timestamp("created_at", "When the help center was created."),
        C::timestamp("updated_at", "When it last changed."),
    ])
}

const COLLECTIONS: &str = "/help_center/collections";

/// `collections`: collections and their sections (a section has a `parent_id`).
pub(super) fn collections() -> TableDef {
    TableDef::new(
        "collections",
        "Help Center collections and sections (a section has a parent_id).",
        Source::List(Listing::new(COLLECTIONS, PageStyle::PageNumber, "data")),
    )
    .get_by_id("/help_center/collections/{id}")
    .columns([
        C::text("id", "Id of the collection."),
        C::text("workspace_id", "Workspace (app) id."),
        C::text("name", "Name, in the default locale."),
        C::text("description", "Description, in the default locale."),
        C::text(
            "parent_id",
            "The collection a section belongs to; NULL for a top-level collection.",
        ),
        C::int(
            "help_center_id",
            "Help center of a top-level collection (help_centers.id).",
        ),
        C::int("sort_order", "Position among its siblings.").at("order"),
        C::text("icon", "Icon name."),
        C::text("url", "URL of the collection's page."),
        C::text("default_locale", "The default locale (en, fr, …)."),
        C::json(
            "translated_content",
            "Name and description per locale: {\"fr\": {\"name\": …, \"description\": …}, …}.",
        ),
        C::timestamp("created_at", "When the collection was created."),
        C::timestamp("updated_at", "When it last changed."),
    ])
    .writes(collections_writes())
}

fn collections_writes() -> TableWrites {
    const FIELDS: &[(&str, &str)] = &[
        ("name", "name"),
        ("description", "description"),
        ("parent_id", "parent_id"),
        ("translated_content", "translated_content"),
        // Creation only: a collection does not move between help centers.
        ("help_center_id", "help_center_id"),
    ];
    TableWrites {
        table: "collections",
        insert: Some(
            Write::new("POST", COLLECTIONS)
                .fields(FIELDS)
                .required(&["name"]),
        ),
        update: Some(
            Write::new("PUT", "/help_center/collections/{id}")
                .fields(&FIELDS[..FIELDS.len() - 1])
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/help_center/collections/{id}").idempotent()),
        key: &["id"],
    }
}

const ARTICLES: &str = "/articles";

/// The columns an article shows in lists and by id.
fn article_columns() -> Vec<C> {
    vec![
        C::text("id", "Id of the article."),
        C::text("workspace_id", "Workspace (app) id."),
        C::text("title", "Title, in the default locale."),
        C::text("description", "Description, in the default locale."),
        C::text("body", "Body (HTML), in the default locale."),
        C::int("author_id", "Admin who wrote it (admins.id)."),
        C::text("state", "published or draft (default locale)."),
        C::int(
            "parent_id",
            "The collection or section it is in (collections.id), if any.",
        ),
        C::text("parent_type", "collection or section."),
        C::json("parent_ids", "Ids of every collection it is in."),
        C::text("url", "URL of the article's page (default locale)."),
        C::text("default_locale", "The default locale (en, fr, …)."),
        C::json(
            "translated_content",
            "Content per locale: {\"fr\": {\"title\", \"description\", \"body\", \"author_id\", \"state\", \"url\", …}, …}.",
        ),
        C::json("tags", "Tags on the article.").at("tags.tags"),
        C::timestamp("created_at", "When the article was created."),
        C::timestamp("updated_at", "When it last changed."),
    ]
}

/// `articles`: Help Center articles.
pub(super) fn articles() -> TableDef {
    TableDef::new(
        "articles",
        "Help Center articles (default-locale content; every locale's in translated_content).",
        Source::List(Listing::new(ARTICLES, PageStyle::PageNumber, "data")),
    )
    .get_by_id("/articles/{id}")
    .columns(article_columns())
    .writes(articles_writes())
}

fn articles_writes() -> TableWrites {
    const FIELDS: &[(&str, &str)] = &[
        ("title", "title"),
        ("description", "description"),
        ("body", "body"),
        ("author_id", "author_id"),
        ("state", "state"),
        ("parent_id", "parent_id"),
        ("parent_type", "parent_type"),
        ("translated_content", "translated_content"),
    ];
    TableWrites {
        table: "articles",
        insert: Some(
            Write::new("POST", ARTICLES)
                .fields(FIELDS)
                .required(&["title", "author_id"]),
        ),
        update: Some(
            Write::new("PUT", "/articles/{id}")
                .fields(FIELDS)
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/articles/{id}").idempotent()),
        key: &["id"],
    }
}

/// `article_search`: the articles Intercom's full-text search finds for a phrase, drafts
/// included (`GET /articles/search`, searchArticles, without highlights).
pub(super) fn article_search() -> TableDef {
    let mut columns = vec![C::parent_key(
        "phrase",
        "The phrase searched for (the WHERE clause's).",
    )];
    // `state = 'published'` (or 'draft') is the search's own `state`.
    columns.extend(
        article_columns()
            .into_iter()
            .map(|c| match c.name.as_str() {
                "state" => c.query_param("state", &["published", "draft"]),
                _ => c,
            }),
    );
    TableDef::new(
        "article_search",
        "Articles found by Intercom's full-text search for a phrase (read by phrase).",
        Source::Keyed {
            key_column: "phrase".into(),
            listing: Listing::new("/articles/search", PageStyle::PageNumber, "data.articles")
                .with_query("phrase", "{id}")
                .with_query("state", "all")
                .with_query("highlight", "false"),
        },
    )
    .key_required(
        "Intercom searches articles for a phrase; add WHERE phrase = '…' (or IN); the articles table lists them all",
    )
    .columns(columns)
}

/// `article_translations`: an article's content in each of its locales (its
/// `translated_content`, one row per locale), from `GET /articles/{id}` per article.
pub(super) fn article_translations() -> TableDef {
    TableDef::new(
        "article_translations",
        "Each article's content per locale (one row per article and locale; one request per article).",
        Source::Children {
            parent_table: "articles".into(),
            key_column: "article_id".into(),
            listing: Listing::new("/articles/{id}", PageStyle::Single, WHOLE_BODY).answering(
                BodyFormat::Entries {
                    at: "translated_content",
                    name: "locale",
                },
            ),
        },
    )
    .columns([
        C::parent_key("article_id", "Id of the article (articles.id)."),
        C::text("locale", "The locale (en, fr, pt-BR, …)."),
        C::text("title", "Title in this locale."),
        C::text("description", "Description in this locale."),
        C::text("body", "Body (HTML) in this locale."),
        C::int("author_id", "Admin who wrote this locale's version (admins.id)."),
        C::text("state", "published or draft, in this locale."),
        C::text("url", "URL of this locale's page."),
        C::timestamp("created_at", "When this locale's version was created."),
        C::timestamp("updated_at", "When it last changed."),
    ])
}

/// `article_statistics`: views, conversions and reactions of each article, which Intercom
/// gives only for one article at a time (`GET /articles/{id}`, retrieveArticle).
pub(super) fn article_statistics() -> TableDef {
    TableDef::new(
        "article_statistics",
        "Views, conversions and reactions of each article (one request per article).",
        Source::Children {
            parent_table: "articles".into(),
            key_column: "article_id".into(),
            listing: Listing::new("/articles/{id}", PageStyle::Single, WHOLE_BODY),
        },
    )
    .columns([
        C::parent_key("article_id", "Id of the article (articles.id)."),
        C::int("views", "Times the article was viewed.").at("statistics.views"),
        C::int("conversions", "Conversations started from the article.")
            .at("statistics.conversions"),
        C::int("reactions", "Reactions readers left.").at("statistics.reactions"),
        C::float("happy_reaction_percentage", "Share of happy reactions (%).")
            .at("statistics.happy_reaction_percentage"),
        C::float(
            "neutral_reaction_percentage",
            "Share of neutral reactions (%).",
        )
        .at("statistics.neutral_reaction_percentage"),
        C::float("sad_reaction_percentage", "Share of sad reactions (%).")
            .at("statistics.sad_reaction_percentage"),
    ])
}
