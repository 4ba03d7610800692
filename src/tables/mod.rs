//! Tables as data: one [`TableDef`] per Intercom object, each in its own file with no control
//! flow. The generic provider (`crate::provider`) interprets these definitions; nothing here does
//! I/O. `validate_all` checks the whole registry in one unit test.

pub mod action;
mod activity_logs;
mod admins;
mod attributes;
mod away_status_reasons;
mod calls;
mod companies;
mod contacts;
mod conversations;
pub mod custom;
pub mod custom_objects;
mod events;
mod exports;
mod fin_voice;
mod help_center;
mod jobs;
mod knowledge;
mod news;
mod notes;
pub mod path;
mod segments;
mod subscriptions;
mod tags;
mod teams;
mod ticket_states;
mod tickets;
pub mod typed_tickets;
pub mod value;
mod visitors;
mod workspace;
pub mod write;

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde_json::Value;

use action::Procedure;
use write::TableWrites;

/// The SQL type of a column, a procedure parameter or a procedure result column, and how its
/// JSON value is read and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// Text; JSON numbers are rendered as text (ids are text even where Intercom sends integers).
    Text,
    /// 64-bit integer; numeric strings are parsed.
    Int,
    /// 64-bit float.
    Float,
    /// Boolean.
    Bool,
    /// Unix seconds → `Timestamp(Microsecond, UTC)` (PostgreSQL's `timestamptz`); ISO-8601
    /// strings are parsed too.
    Timestamp,
    /// Any nested value, as its JSON text.
    Json,
}

impl ColumnType {
    /// The SQL spelling shown in signatures.
    pub fn sql_name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Int => "bigint",
            ColumnType::Float => "double precision",
            ColumnType::Bool => "boolean",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Json => "json",
        }
    }
    /// The column type that holds values of an Arrow type (text for anything else).
    pub fn of(data_type: &DataType) -> Self {
        match data_type {
            DataType::Boolean => ColumnType::Bool,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => ColumnType::Float,
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => ColumnType::Timestamp,
            t if t.is_integer() => ColumnType::Int,
            _ => ColumnType::Text,
        }
    }
    /// The Arrow type of the column.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Text | ColumnType::Json => DataType::Utf8,
            ColumnType::Int => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }
}

/// How Intercom's search endpoint compares a field (docs/intercom-notes.md, "Search: operators"
/// operator matrix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchType {
    /// String field: `= != IN NIN ~ !~ ^ $`.
    Str,
    /// Integer field: `= != IN NIN < >`.
    Int,
    /// Boolean field: `= !=`.
    Bool,
    /// Timestamp field: `= < >`, compared by calendar day on contacts (docs/intercom-notes.md,
    /// "Search: dates").
    Date,
}

/// The search endpoint of a table.
#[derive(Clone, Debug)]
pub struct SearchDef {
    /// `POST` path, e.g. `/contacts/search`.
    pub path: String,
    /// Where the items are in the response.
    pub items_key: String,
    /// The field a whole-table read is split on, to read disjoint windows concurrently.
    pub partition: Option<PartitionKey>,
}

/// A search field that splits a table into disjoint windows: an object's creation time never
/// changes, so every object falls in exactly one window however long the read takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionKey {
    /// The search field (`created_at`).
    pub field: String,
    /// How the search compares it (docs/intercom-notes.md, "Search: dates").
    pub compared: Compared,
}

/// How a search compares a timestamp field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compared {
    /// By calendar day in the workspace's time zone (contacts): `=` t is t's whole day, `>` t
    /// starts the day after, `<` t ends before t's day.
    ByDay,
    /// To the second, with `<` and `>` possibly inclusive (conversations, tickets).
    BySecond,
}

/// The JSON key under which a child row carries its parent's id (see [`Source::Children`]).
pub const PARENT_KEY: &str = "__parent_id";

/// One column: SQL name, type, and where its value sits in the Intercom object.
#[derive(Clone, Debug)]
pub struct ColumnDef {
    /// SQL name (snake_case; nested fields flattened with `_`).
    pub name: String,
    /// What the column holds.
    pub description: String,
    /// SQL type.
    pub kind: ColumnType,
    /// JSON path inside the object, e.g. `["location", "country"]`.
    pub path: Vec<String>,
    /// How the search endpoint can filter on it.
    pub search: Option<SearchType>,
    /// The search field's name when it is not the dotted path (tickets' `ticket_type_id`).
    pub search_field: Option<String>,
    /// When the search knows the values by other names than the responses show them (tickets'
    /// category `Customer` is searched as `request`): (shown, searched) pairs. Only `=` and
    /// `IN` of these values are pushed.
    pub search_values: Option<&'static [(&'static str, &'static str)]>,
    /// The listing's query parameters that bound this timestamp column: (after, before)
    /// (`created_at_after`, `created_at_before`). Comparisons on it narrow the listing.
    pub query_bounds: Option<(&'static str, &'static str)>,
    /// The listing's query parameter that keeps the rows whose column has a value, and the
    /// values it takes (`article_search.state` → `state=published`): `column = 'v'` with one
    /// of them sends it, in place of the listing's own value of it. Other values are not sent
    /// (Intercom would refuse them; no row has them).
    pub query_param: Option<(&'static str, &'static [&'static str])>,
}

impl ColumnDef {
    fn new(kind: ColumnType, name: &str, description: &str) -> Self {
        Self {
            name: name.to_string(),
            description: description.to_string(),
            kind,
            path: vec![name.to_string()],
            search: None,
            search_field: None,
            search_values: None,
            query_bounds: None,
            query_param: None,
        }
    }
    /// A text column read from the field of the same name.
    pub fn text(name: &str, description: &str) -> Self {
        Self::new(ColumnType::Text, name, description)
    }
    /// An integer column.
    pub fn int(name: &str, description: &str) -> Self {
        Self::new(ColumnType::Int, name, description)
    }
    /// A float column.
    pub fn float(name: &str, description: &str) -> Self {
        Self::new(ColumnType::Float, name, description)
    }
    /// A boolean column.
    pub fn bool(name: &str, description: &str) -> Self {
        Self::new(ColumnType::Bool, name, description)
    }
    /// A timestamp column (Unix seconds on the wire).
    pub fn timestamp(name: &str, description: &str) -> Self {
        Self::new(ColumnType::Timestamp, name, description)
    }
    /// A column holding a nested value as JSON text.
    pub fn json(name: &str, description: &str) -> Self {
        Self::new(ColumnType::Json, name, description)
    }
    /// Reads the value from a dotted JSON path instead of the column name (`location.country`).
    pub fn at(mut self, dotted_path: &str) -> Self {
        self.path = dotted_path.split('.').map(str::to_string).collect();
        self
    }
    /// Declares the column searchable (its Intercom field is the dotted path).
    pub fn search(mut self, kind: SearchType) -> Self {
        self.search = Some(kind);
        self
    }
    /// Declares the column searchable under another field name than its path.
    pub fn search_as(mut self, field: &str, kind: SearchType) -> Self {
        self.search = Some(kind);
        self.search_field = Some(field.to_string());
        self
    }
    /// Searched by other names than shown: see [`ColumnDef::search_values`].
    pub fn search_values(mut self, pairs: &'static [(&'static str, &'static str)]) -> Self {
        self.search_values = Some(pairs);
        self
    }
    /// Declares the listing's (after, before) query parameters for this timestamp column (see
    /// [`ColumnDef::query_bounds`]).
    pub fn query_bounds(mut self, after: &'static str, before: &'static str) -> Self {
        self.query_bounds = Some((after, before));
        self
    }
    /// Declares the listing's query parameter for `column = value` (see
    /// [`ColumnDef::query_param`]).
    pub fn query_param(mut self, name: &'static str, values: &'static [&'static str]) -> Self {
        self.query_param = Some((name, values));
        self
    }
    /// The Intercom search field of the column, if it is searchable.
    pub fn search_field_name(&self) -> Option<String> {
        self.search?;
        Some(
            self.search_field
                .clone()
                .unwrap_or_else(|| self.path.join(".")),
        )
    }
    /// The column filled with the parent object's id (child tables).
    pub fn parent_key(name: &str, description: &str) -> Self {
        Self::text(name, description).at(PARENT_KEY)
    }
}

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
    /// Style E: `GET`, then the URL in `pages.next` as Intercom gives it (`/events`: its
    /// `before=` cursor), on the configured host, until `pages.next` is absent.
    Url,
    /// Style F: everything in one response.
    Single,
    /// Whatever the answers show: a `scroll_param`, a `pages.next` URL or cursor, or page
    /// numbers (`intercom_api_items`, for endpoints this release does not know).
    Auto,
}

/// The items key of a listing whose answer is the row itself: one object, the table's one row
/// (`GET /me`), or a bare array of rows (`GET /fin_voice/conversation/{id}`).
pub const WHOLE_BODY: &str = "$";

/// How to list every row of a top-level table.
#[derive(Clone, Debug)]
pub struct Listing {
    /// Path, e.g. `/contacts`.
    pub path: String,
    /// Pagination style.
    pub style: PageStyle,
    /// Where the items are in the response (alternatives tried in order).
    pub items_keys: Vec<String>,
    /// Whether the endpoint takes `per_page`.
    pub sized: bool,
    /// Query parameters every request of the listing sends (`include_count=true`).
    pub query: Vec<(String, String)>,
    /// When the listing reaches only its first objects (`GET /companies`: 10,000), how many,
    /// and the listing that reaches every one (the company scroll).
    pub overflow: Option<Box<(u64, Listing)>>,
    /// Read with `POST` and an empty body, its parameters in the query (`POST /companies/list`).
    pub post: bool,
    /// The JSON body a `POST` listing sends, its strings `{id}` replaced by the parent's id
    /// (`POST /calls/search` with `{"conversation_ids": ["{id}"]}`).
    pub body: Option<Value>,
    /// What the answer is, when it is not a JSON page.
    pub format: BodyFormat,
}

/// What a listing answers. Answers that are not JSON are read whole, in one request, and
/// make rows as JSON objects would (see `crate::provider::document`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JSON page (every listing but the ones below).
    Json,
    /// Plain text (`GET /calls/{id}/transcript`): one row, the text in this field.
    Text(&'static str),
    /// A redirect (`302` to a signed URL, `GET /calls/{id}/recording`): one row, the
    /// `Location` in this field. The URL is not followed.
    Redirect(&'static str),
    /// A JSON object whose member `at` maps names to objects (an article's
    /// `translated_content`: locale → content): one row per object member, its name in the
    /// field `name`.
    Entries {
        /// The member holding the map.
        at: &'static str,
        /// The field each row's name goes to.
        name: &'static str,
    },
    /// A CSV file, gzipped or not (`GET /download/content/data/{job}`): one row per record,
    /// the record as a JSON object of the header's names in this field and its number (from
    /// 1) in `line`.
    Csv(&'static str),
}

/// Where a table's rows come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A list endpoint.
    List(Listing),
    /// A sub-resource fetched once per parent object: `path` has `{id}` for the parent id.
    /// Without a filter on `key_column`, every parent of `parent_table` is walked.
    Children {
        /// Table whose ids are the parents.
        parent_table: String,
        /// This table's column holding the parent id.
        key_column: String,
        /// Sub-resource listing, path with `{id}` (or a query value `{id}`).
        listing: Listing,
    },
    /// No list endpoint: rows are read only through the table's lookups (`visitors` by
    /// `user_id`). A read without a key is refused with [`TableDef::key_required`].
    Lookups,
    /// A listing of each value the query gives `key_column` (a search phrase, a folder, an
    /// export job), which is no object's id: every row carries the value it was listed for,
    /// and a read without one is refused with [`TableDef::key_required`].
    Keyed {
        /// The column holding the value (a [`ColumnDef::parent_key`] column).
        key_column: String,
        /// The listing, path or query with `{id}` for the value.
        listing: Listing,
    },
}

/// A get-by-key endpoint.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The key column.
    pub column: String,
    /// `GET` path with `{id}` standing for the key.
    pub path: String,
    /// For a child table: where the fetched object names its parent (`contact.id`), which
    /// fills the parent-key column; an object without one is not a row of the table.
    pub parent_at: Option<String>,
}

/// A complete table definition.
#[derive(Clone, Debug)]
pub struct TableDef {
    /// SQL name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Where rows come from.
    pub source: Source,
    /// `GET` endpoints returning one object by a key column (`id`, `external_id`), tried in
    /// order when the WHERE clause pins that column.
    pub lookups: Vec<Lookup>,
    /// A numeric field that must be positive for Intercom's lists to show an object (companies
    /// need a contact, docs/intercom-notes.md, "Companies without contacts"). Lookups by key
    /// find the others, so keys are looked up rather than found in a listing (up to
    /// [`crate::pushdown::JOIN_LOOKUP_LIMIT`] keys).
    pub listed_when_positive: Option<String>,
    /// The search endpoint, when the API has one.
    pub search: Option<SearchDef>,
    /// Columns in order.
    pub columns: Vec<ColumnDef>,
    /// What INSERT, UPDATE and DELETE send, when the table is writable.
    pub writes: Option<TableWrites>,
    /// The workspace's own attributes on this object, when it has them.
    pub custom_attributes: Option<CustomModel>,
    /// The Intercom actions on this object, as procedures (`CALL …`).
    pub actions: Vec<Procedure>,
    /// Child tables: columns whose `=`/`IN` filter is a filter of the parent's search, so
    /// that only the parents it finds are walked (`contact_tags.tag_id` → the contacts search's
    /// `tag_id`): (column, the parent's search field).
    pub parent_searches: Vec<(String, String)>,
    /// What a read that pins no key is told, when such a read is refused rather than sent:
    /// a table with no list endpoint, or a child table whose parents cannot all be walked
    /// (`events`: one request per contact of the workspace).
    pub key_required: Option<String>,
    /// JSON columns holding a list Intercom cuts short (a contact's first 10 tags, with
    /// `has_more`), each with the child table whose listing has the whole list: when the
    /// column is read, a cut list is filled from there (one request per object that has more).
    pub completions: Vec<(String, String)>,
    /// A (column, value) every row of the table has: the table is the part of another whose
    /// `column` is `value` (`bug_report_tickets`: tickets whose `ticket_type_id` is the bug
    /// report type's). Every search ANDs `column = value`, and the scan keeps only such rows.
    pub fixed: Option<(String, String)>,
    /// A listing that returns the table's rows sorted by a column, either way (`POST
    /// /companies/list?order=desc`, by `last_request_at`): `ORDER BY` that column with a
    /// LIMIT reads only the first pages of it (see `crate::provider::ordered`).
    pub ordered: Option<OrderedListing>,
    /// Listings of the rows with a given value of a column (`calls` of a conversation: `POST
    /// /calls/search`): `column = …` (or `IN`, or a join's keys) reads the listing once per
    /// value instead of the whole table; `{id}` in its path, query or body is the value.
    pub listed_by: Vec<(String, Listing)>,
}

/// A listing sorted by one column, in the direction its `order` parameter names (`asc` or
/// `desc`).
#[derive(Clone, Debug)]
pub struct OrderedListing {
    /// The column the listing is sorted by.
    pub column: String,
    /// The listing (page-numbered).
    pub listing: Listing,
    /// How many objects it reaches at most (`POST /companies/list`: 10,000).
    pub reach: u64,
}

/// Where a table's custom attributes are described and whether they can be searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomModel {
    /// The `model` that `GET /data_attributes` takes (`contact`, `company`, `conversation`).
    pub model: &'static str,
    /// Whether the search endpoint accepts `custom_attributes.<name>` (only contacts' does).
    pub searchable: bool,
}

impl TableDef {
    /// A table listed from `source`.
    pub fn new(name: &str, description: &str, source: Source) -> Self {
        Self {
            name: name.to_string(),
            description: description.to_string(),
            source,
            lookups: Vec::new(),
            listed_when_positive: None,
            search: None,
            columns: Vec::new(),
            writes: None,
            custom_attributes: None,
            actions: Vec::new(),
            parent_searches: Vec::new(),
            key_required: None,
            completions: Vec::new(),
            fixed: None,
            ordered: None,
            listed_by: Vec::new(),
        }
    }
    /// Declares a listing of the rows whose `column` has a given value (see
    /// [`TableDef::listed_by`]).
    pub fn listed_by(mut self, column: &str, listing: Listing) -> Self {
        self.listed_by.push((column.to_string(), listing));
        self
    }
    /// A child or keyed table's key column, the listing read per value of it, and the parent
    /// table (empty for a keyed table).
    pub fn listing_per_key(&self) -> Option<(&str, &Listing, &str)> {
        match &self.source {
            Source::Children {
                parent_table,
                key_column,
                listing,
            } => Some((key_column, listing, parent_table)),
            Source::Keyed {
                key_column,
                listing,
            } => Some((key_column, listing, "")),
            Source::List(_) | Source::Lookups => None,
        }
    }
    /// The listing of the rows with a given value of `column`, if the table has one.
    pub fn listing_by(&self, column: &str) -> Option<&Listing> {
        self.listed_by
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, l)| l)
    }
    /// Declares a listing sorted by `column` (see [`TableDef::ordered`]).
    pub fn ordered_by(mut self, column: &str, listing: Listing, reach: u64) -> Self {
        self.ordered = Some(OrderedListing {
            column: column.to_string(),
            listing,
            reach,
        });
        self
    }
    /// Declares that the JSON `column` holds a list cut short with `has_more`, which
    /// `child_table`'s listing has whole (see [`TableDef::completions`]).
    pub fn completed_from(mut self, column: &str, child_table: &str) -> Self {
        self.completions
            .push((column.to_string(), child_table.to_string()));
        self
    }
    /// Refuses a read that pins none of the table's keys, with `hint` saying what to add (see
    /// [`TableDef::key_required`]).
    pub fn key_required(mut self, hint: &str) -> Self {
        self.key_required = Some(hint.to_string());
        self
    }
    /// Declares what INSERT, UPDATE and DELETE send.
    pub fn writes(mut self, writes: TableWrites) -> Self {
        self.writes = Some(writes);
        self
    }
    /// Declares the object's custom attributes: `model` as `GET /data_attributes` names it.
    pub fn custom_attributes(mut self, model: &'static str, searchable: bool) -> Self {
        self.custom_attributes = Some(CustomModel { model, searchable });
        self
    }
    /// Declares the object's actions.
    pub fn actions(mut self, actions: impl IntoIterator<Item = Procedure>) -> Self {
        self.actions.extend(actions);
        self
    }
    /// Declares the get-by-id endpoint (path with `{id}`).
    pub fn get_by_id(self, path: &str) -> Self {
        self.lookup("id", path)
    }
    /// Declares a get-by-key endpoint for `column` (path with `{id}` for the key).
    pub fn lookup(mut self, column: &str, path: &str) -> Self {
        self.lookups.push(Lookup {
            column: column.to_string(),
            path: path.to_string(),
            parent_at: None,
        });
        self
    }
    /// Declares a child table's get-by-key endpoint: the object it returns names its parent at
    /// `parent_at` (dotted path).
    pub fn child_lookup(mut self, column: &str, path: &str, parent_at: &str) -> Self {
        self.lookups.push(Lookup {
            column: column.to_string(),
            path: path.to_string(),
            parent_at: Some(parent_at.to_string()),
        });
        self
    }
    /// Declares that `column = …` (or `IN`) on this child table finds its parents by the
    /// parent search's `field` (see [`TableDef::parent_searches`]).
    pub fn parent_search(mut self, column: &str, field: &str) -> Self {
        self.parent_searches
            .push((column.to_string(), field.to_string()));
        self
    }
    /// Declares that lists show only objects whose `field` is positive.
    pub fn listed_when_positive(mut self, field: &str) -> Self {
        self.listed_when_positive = Some(field.to_string());
        self
    }
    /// Declares the search endpoint.
    pub fn search(mut self, path: &str, items_key: &str) -> Self {
        self.search = Some(SearchDef {
            path: path.to_string(),
            items_key: items_key.to_string(),
            partition: None,
        });
        self
    }
    /// Declares the searchable timestamp column whole-table reads are split on (see
    /// [`PartitionKey`]); after [`TableDef::search`].
    pub fn partitioned_by(mut self, field: &str, compared: Compared) -> Self {
        if let Some(search) = &mut self.search {
            search.partition = Some(PartitionKey {
                field: field.to_string(),
                compared,
            });
        }
        self
    }
    /// Adds a column.
    pub fn column(mut self, column: ColumnDef) -> Self {
        self.columns.push(column);
        self
    }
    /// Adds several columns.
    pub fn columns(mut self, columns: impl IntoIterator<Item = ColumnDef>) -> Self {
        self.columns.extend(columns);
        self
    }
    /// The Arrow schema (every column nullable: Intercom omits fields freely).
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, c.kind.data_type(), true))
                .collect::<Vec<_>>(),
        ))
    }
    /// The columns whose equality filters a scan answers itself, in order of preference:
    /// lookup keys (`id`, `external_id`: one GET per value instead of a listing), or a child
    /// table's parent key (only those parents' sub-resources are fetched).
    pub fn key_columns(&self) -> Vec<&str> {
        match &self.source {
            Source::Children { key_column, .. } | Source::Keyed { key_column, .. } => {
                std::iter::once(key_column.as_str())
                    .chain(self.lookups.iter().map(|l| l.column.as_str()))
                    .collect()
            }
            Source::List(_) | Source::Lookups => self
                .lookups
                .iter()
                .map(|l| l.column.as_str())
                .chain(self.listed_by.iter().map(|(c, _)| c.as_str()))
                .collect(),
        }
    }
    /// The column with this name.
    pub fn column_named(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl Listing {
    /// A listing of `path` in `style` with items under `items_key`.
    pub fn new(path: &str, style: PageStyle, items_key: &str) -> Self {
        let sized = !matches!(style, PageStyle::Single | PageStyle::Scroll);
        Self {
            path: path.to_string(),
            style,
            items_keys: vec![items_key.to_string()],
            sized,
            query: Vec::new(),
            overflow: None,
            post: false,
            body: None,
            format: BodyFormat::Json,
        }
    }
    /// Read with `POST` and this JSON body, its strings `{id}` replaced by the parent's id.
    pub fn posting(mut self, body: Value) -> Self {
        self.post = true;
        self.body = Some(body);
        self
    }
    /// An answer that is not a JSON page (see [`BodyFormat`]).
    pub fn answering(mut self, format: BodyFormat) -> Self {
        self.format = format;
        self
    }
    /// Whether the listing names the parent or key it is for: `{id}` in its path, a query
    /// value or its body.
    pub fn names_key(&self) -> bool {
        self.path.contains("{id}")
            || self.query.iter().any(|(_, v)| v == "{id}")
            || self
                .body
                .as_ref()
                .is_some_and(|b| b.to_string().contains("\"{id}\""))
    }
    /// Read with `POST` (see [`Listing::post`]).
    pub fn posted(mut self) -> Self {
        self.post = true;
        self
    }
    /// Declares that the listing reaches only its first `reach` objects, and that `rest`
    /// reaches them all: a whole read of more than `reach` uses `rest` instead.
    pub fn beyond(mut self, reach: u64, rest: Listing) -> Self {
        self.overflow = Some(Box::new((reach, rest)));
        self
    }
    /// A query parameter every request of the listing sends.
    pub fn with_query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_string(), value.to_string()));
        self
    }
    /// Another place the items may be (spec/example conflicts, docs/intercom-notes.md, "Where the
    /// schema and the examples disagree").
    pub fn or_items_at(mut self, key: &str) -> Self {
        self.items_keys.push(key.to_string());
        self
    }
}

/// Every table, sorted by name: the one registry of objects (reads, writes, custom attributes,
/// actions).
pub fn all() -> &'static [TableDef] {
    &REGISTRY
}

static REGISTRY: LazyLock<Vec<TableDef>> = LazyLock::new(|| {
    let mut tables = vec![
        activity_logs::admin_activity_logs(),
        admins::admins(),
        admins::me(),
        away_status_reasons::away_status_reasons(),
        events::events(),
        events::event_summaries(),
        conversations::conversation_handling_events(),
        tickets::ticket_parts(),
        visitors::visitors(),
        companies::companies(),
        contacts::company_contacts(),
        contacts::contacts(),
        companies::contact_companies(),
        contacts::contact_tags(),
        conversations::conversations(),
        conversations::conversation_parts(),
        conversations::conversation_tags(),
        conversations::conversation_contacts(),
        conversations::conversation_teammates(),
        attributes::data_attributes(),
        notes::notes(),
        notes::company_notes(),
        tickets::ticket_types(),
        tickets::ticket_type_attributes(),
        companies::segment_companies(),
        companies::tag_companies(),
        segments::segments(),
        segments::contact_segments(),
        segments::company_segments(),
        subscriptions::contact_subscriptions(),
        subscriptions::subscription_types(),
        tags::tags(),
        teams::teams(),
        ticket_states::ticket_states(),
        jobs::jobs(),
        calls::calls(),
        calls::call_recordings(),
        calls::call_transcripts(),
        calls::conversation_calls(),
        exports::data_export_rows(),
        exports::reporting_data_export_rows(),
        help_center::article_search(),
        help_center::article_translations(),
        knowledge::internal_article_search(),
        exports::data_exports(),
        exports::reporting_datasets(),
        exports::workflow_exports(),
        fin_voice::fin_voice_calls(),
        help_center::help_centers(),
        help_center::collections(),
        help_center::articles(),
        help_center::article_statistics(),
        news::news_items(),
        knowledge::content_import_sources(),
        knowledge::external_pages(),
        knowledge::internal_articles(),
        news::newsfeeds(),
        news::newsfeed_items(),
        workspace::brands(),
        workspace::emails(),
        workspace::ip_allowlist(),
        tickets::tickets(),
        tickets::ticket_contacts(),
    ];
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    tables
});

/// The table named `name`.
pub fn find(name: &str) -> Option<&'static TableDef> {
    all().iter().find(|t| t.name == name)
}

/// The table whose name is nearest to `name`, if one is close enough to be a typo.
pub fn suggest(name: &str) -> Option<&'static TableDef> {
    crate::suggest::nearest(name, all(), |t| t.name.clone(), 3)
}

/// Checks the registry (reads, writes and actions together): unique table and column names, parents
/// that exist, `{id}` in child and get-by-id paths, a docs page per table that lists every column.
/// Returns every problem found.
pub fn validate_all(docs_dir: Option<&std::path::Path>) -> Vec<String> {
    let tables = all();
    let mut problems = write::validate(tables);
    for action in tables.iter().flat_map(|t| &t.actions) {
        problems.extend(action::validate(action));
    }
    let mut names = std::collections::HashSet::new();
    for t in tables {
        if !names.insert(t.name.clone()) {
            problems.push(format!("table {} is defined twice", t.name));
        }
        let mut columns = std::collections::HashSet::new();
        for c in &t.columns {
            if !columns.insert(c.name.clone()) {
                problems.push(format!("{}.{} is defined twice", t.name, c.name));
            }
            if c.description.is_empty() {
                problems.push(format!("{}.{} has no description", t.name, c.name));
            }
        }
        if let Some(key) = t.search.as_ref().and_then(|s| s.partition.as_ref()) {
            let searchable_date = t.columns.iter().any(|c| {
                c.search == Some(SearchType::Date)
                    && c.search_field_name().as_deref() == Some(key.field.as_str())
            });
            if !searchable_date {
                problems.push(format!(
                    "{}: partitioned by {}, which is not a searchable timestamp column",
                    t.name, key.field
                ));
            }
        }
        for (column, _) in &t.parent_searches {
            let parent_search = match &t.source {
                Source::Children { parent_table, .. } => {
                    find(parent_table).and_then(|p| p.search.as_ref())
                }
                Source::List(_) | Source::Lookups | Source::Keyed { .. } => None,
            };
            if parent_search.is_none() || t.column_named(column).is_none() {
                problems.push(format!(
                    "{}: parent search on {column} needs a column and a parent table with a search",
                    t.name
                ));
            }
        }
        for (column, child) in &t.completions {
            let parent_ok = find(child).is_some_and(|c| {
                matches!(&c.source, Source::Children { parent_table, .. } if parent_table == &t.name)
            });
            let column_ok = t
                .column_named(column)
                .is_some_and(|c| c.kind == ColumnType::Json);
            if !parent_ok || !column_ok {
                problems.push(format!(
                    "{}: {column} is completed from {child}, which must be a child table of it and {column} a JSON column",
                    t.name
                ));
            }
        }
        for (column, listing) in &t.listed_by {
            if t.column_named(column).is_none() || !listing.names_key() {
                problems.push(format!(
                    "{}: listed by {column}, which needs a column and {{id}} in the listing",
                    t.name
                ));
            }
        }
        for lookup in &t.lookups {
            if !lookup.path.contains("{id}") {
                problems.push(format!(
                    "{}: lookup path {} lacks {{id}}",
                    t.name, lookup.path
                ));
            }
            if t.column_named(&lookup.column).is_none() {
                problems.push(format!(
                    "{}: lookup column {} does not exist",
                    t.name, lookup.column
                ));
            }
        }
        if let Source::Keyed {
            key_column,
            listing,
        } = &t.source
        {
            if t.key_required.is_none() {
                problems.push(format!(
                    "{}: a keyed table needs a key_required hint",
                    t.name
                ));
            }
            if !matches!(t.column_named(key_column), Some(c) if c.path == [PARENT_KEY]) {
                problems.push(format!(
                    "{}: key column {key_column} must be a parent_key column",
                    t.name
                ));
            }
            if !listing.names_key() {
                problems.push(format!(
                    "{}: keyed path {} lacks {{id}}",
                    t.name, listing.path
                ));
            }
        }
        if matches!(t.source, Source::Lookups) && (t.lookups.is_empty() || t.key_required.is_none())
        {
            problems.push(format!(
                "{}: a table without a listing needs lookups and a key_required hint",
                t.name
            ));
        }
        if let Source::Children {
            parent_table,
            key_column,
            listing,
        } = &t.source
        {
            if !tables.iter().any(|p| &p.name == parent_table) {
                problems.push(format!(
                    "{}: parent table {parent_table} does not exist",
                    t.name
                ));
            }
            match t.column_named(key_column) {
                Some(c) if c.path == [PARENT_KEY] => {}
                _ => problems.push(format!(
                    "{}: key column {key_column} must be a parent_key column",
                    t.name
                )),
            }
            if !listing.names_key() {
                problems.push(format!(
                    "{}: child path {} lacks {{id}}",
                    t.name, listing.path
                ));
            }
        }
        if let Some(dir) = docs_dir {
            match std::fs::read_to_string(dir.join(format!("{}.md", t.name))) {
                Err(_) => problems.push(format!("{}: missing docs/tables/{}.md", t.name, t.name)),
                Ok(page) => {
                    for c in &t.columns {
                        if !page.contains(&format!("| `{}` |", c.name)) {
                            problems.push(format!(
                                "docs/tables/{}.md does not describe column {}",
                                t.name, c.name
                            ));
                        }
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #[test]
    fn registry_is_valid() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/tables");
        let problems = super::validate_all(Some(&docs));
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
