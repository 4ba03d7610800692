//! [`ScanPlan`]: the requests a scan sends, decided from the table's declaration, the keys and
//! search the WHERE clause gave, a join's keys and a LIMIT. Pure data; `crate::provider`
//! executes it, and EXPLAIN prints [`ScanPlan::describe`].

use serde_json::Value;

use super::SearchNode;
use crate::client::{ListRequest, PageStyle};
use crate::settings::ScanMode;
use crate::tables::{self, Listing, PartitionKey, SearchDef, Source, TableDef};

/// Which requests a scan sends.
#[derive(Clone, Debug)]
pub enum ScanPlan {
    /// Page through a list endpoint.
    List(ListRequest),
    /// One `GET` per key (404 = no row).
    ByIds {
        /// Path with `{id}` for the key.
        path: String,
        /// The keys.
        ids: Vec<String>,
        /// A child table's lookup: where the object names its parent (see `Lookup::parent_at`).
        parent_at: Option<String>,
    },
    /// Too many keys for a `GET` each: searches for them, many keys a search (see
    /// [`super::key_queries`]). An object found twice (case variants of a key in two
    /// searches) is returned once.
    SearchKeys {
        /// The search endpoint, page size and items key; its query is set per search.
        search: ListRequest,
        /// The key column.
        column: String,
        /// Intercom's search field for the key.
        field: String,
        /// The keys.
        ids: Vec<String>,
    },
    /// A search (the WHERE clause's, or every object) split into windows of the table's
    /// creation time, read concurrently; windows are sized from the search's `total_count`
    /// (see `crate::provider::partition`).
    Partitioned {
        /// The search endpoint, page size and items key; its query (`null` for every object)
        /// is kept in every window.
        search: ListRequest,
        /// The field the windows split.
        key: PartitionKey,
        /// Start on this listing instead, and switch to the windows only when its first page
        /// shows more than [`super::partition::SPLIT_PAGES`] pages (`intercom.scan = auto`).
        list_first: Option<ListRequest>,
    },
    /// A page-numbered listing: the first page tells how many there are, and the rest are
    /// fetched concurrently, in order.
    Pages(ListRequest),
    /// The rows of this request counted, not read: its first page's `total_count` (one
    /// request, `per_page=1`). Only for a read whose every row is returned and whose
    /// search is exact (see [`super::counts_exactly`]), when no column is wanted
    /// (`SELECT count(*)`).
    Count(ListRequest),
    /// A child table's rows known from the parents a search finds alone (`SELECT contact_id
    /// FROM contact_tags WHERE tag_id = 'x'`: every contact the search for `tag_id = x` finds
    /// has that one row), when no other column is wanted: one search, no request per parent.
    Members {
        /// The parents' search.
        parents: ListRequest,
        /// The child column the search pinned.
        column: String,
        /// Its path in the child object.
        path: Vec<String>,
        /// Its value, the same in every row.
        value: String,
        /// Name of the parent table, for EXPLAIN.
        parent_table: String,
    },
    /// Nothing sent: the table is read only by key (see `TableDef::key_required`) and the
    /// query gave none; running it is this error. A join's keys can still make it a plan.
    NeedsKey {
        /// What to add, for the user.
        hint: String,
    },
    /// A sub-resource per parent id.
    Children {
        /// Where the parent ids come from.
        parents: Parents,
        /// The sub-resource listing (path with `{id}`).
        listing: Listing,
        /// Name of the parent table, for EXPLAIN.
        parent_table: String,
    },
}

/// The most keys (from a join, or a WHERE clause) that a top-level table fetches one `GET`
/// each. Above it, keys a search can find are searched for, many a request; otherwise the
/// table is listed (150 rows a request) and the keys filtered locally.
pub const JOIN_LOOKUP_LIMIT: usize = 20;

/// Parent ids of a child-table scan.
#[derive(Clone, Debug)]
pub enum Parents {
    /// Given by the query (`WHERE contact_id IN (…)`).
    Ids(Vec<String>),
    /// Every row of the parent table, listed with this request.
    Walk(ListRequest),
}

/// The request listing `listing` at `path` (a child listing's path has its parent's id).
pub fn list_request(listing: &Listing, path: String, page_size: u32) -> ListRequest {
    let mut request = ListRequest::new(path, listing.style.clone(), &listing.items_keys[0]);
    request.items_keys = listing.items_keys.clone();
    request.per_page = listing.sized.then_some(page_size);
    request.query = listing.query.clone();
    request.post = listing.post;
    request.body = listing.body.clone();
    request.overflow = listing
        .overflow
        .as_ref()
        .map(|o| Box::new((o.0, list_request(&o.1, o.1.path.clone(), page_size))));
    request
}

/// The search of `endpoint` for `query`, in pages of `page_size`.
fn search_request(endpoint: &SearchDef, query: &SearchNode, page_size: u32) -> ListRequest {
    let style = PageStyle::Search {
        query: query.to_json(),
    };
    let mut request = ListRequest::new(endpoint.path.clone(), style, &endpoint.items_key);
    request.per_page = Some(page_size);
    request
}

/// How many pages a listing of the whole of `def` takes, when its size is known: `listed_total`
/// gives the `total_count` its collection last reported (`IntercomClient::listed_total`).
pub fn listing_pages(
    def: &TableDef,
    page_size: u32,
    listed_total: impl FnOnce(&str) -> Option<u64>,
) -> Option<u64> {
    let Source::List(listing) = &def.source else {
        return None;
    };
    // Everything in one answer: one request, whatever the size.
    if listing.style == PageStyle::Single {
        return Some(1);
    }
    let per_page = u64::from(list_request(listing, listing.path.clone(), page_size).per_page?);
    Some(
        listed_total(&listing.path)?
            .div_ceil(per_page.max(1))
            .max(1),
    )
}

/// The requests a search for `keys` keys takes at least: one per search, and one per page of
/// the rows found (a key finds at most one object).
fn search_requests(keys: usize, per_page: Option<u32>) -> u64 {
    let searches = keys.div_ceil(super::MAX_KEYS_PER_SEARCH) as u64;
    let pages = (keys as u64).div_ceil(u64::from(per_page.unwrap_or(50).max(1)));
    searches.max(pages)
}

impl ScanPlan {
    /// `listing` read once per value of `values`, which are no parent's ids (a keyed table's
    /// phrases, the conversations `calls` are listed by).
    fn per_value(listing: &Listing, values: Vec<String>) -> Self {
        ScanPlan::Children {
            parents: Parents::Ids(values),
            listing: listing.clone(),
            parent_table: String::new(),
        }
    }

    /// The plan for `def`, with the key values the query pinned (`id` for top-level tables,
    /// the parent key for child tables), if any.
    pub fn for_table(
        def: &TableDef,
        keys: Option<(String, Vec<String>)>,
        search: Option<SearchNode>,
        page_size: u32,
    ) -> Self {
        let lookup = keys
            .as_ref()
            .and_then(|(column, _)| def.lookups.iter().find(|l| &l.column == column));
        // Too many keys for a GET each: a search for them when the search can filter on the
        // key, else the listing (or the other filters' search), filtered locally.
        if let (Source::List(_) | Source::Lookups, Some((column, ids)), Some(_)) =
            (&def.source, &keys, lookup)
            && ids.len() > JOIN_LOOKUP_LIMIT
            && let Some(plan) = Self::search_keys(def, column, ids, page_size)
        {
            return plan;
        }
        match (&def.source, keys, lookup) {
            // A table read only by key takes any number of keys (there is nothing else to read).
            (Source::List(_) | Source::Lookups, Some((_, ids)), Some(lookup))
                if ids.len() <= JOIN_LOOKUP_LIMIT || matches!(def.source, Source::Lookups) =>
            {
                ScanPlan::ByIds {
                    path: lookup.path.clone(),
                    ids,
                    parent_at: None,
                }
            }
            // A child table looked up by its own key (not the parent's): one GET per key.
            (Source::Children { .. }, Some((_, ids)), Some(lookup))
                if lookup.parent_at.is_some() && ids.len() <= JOIN_LOOKUP_LIMIT =>
            {
                ScanPlan::ByIds {
                    path: lookup.path.clone(),
                    ids,
                    parent_at: lookup.parent_at.clone(),
                }
            }
            // The rows of given values of a column, from their own listing.
            (Source::List(_), Some((column, ids)), None)
                if let Some(by) = def.listing_by(&column) =>
            {
                ScanPlan::per_value(by, ids)
            }
            (Source::List(listing), _, _) => match (search, &def.search) {
                (Some(query), Some(endpoint)) => {
                    ScanPlan::List(search_request(endpoint, &query, page_size))
                }
                _ => ScanPlan::List(list_request(listing, listing.path.clone(), page_size)),
            },
            (Source::Lookups, _, _) => Self::needs_key(def),
            // A listing per value the query gives (a phrase, a folder): nothing without one.
            (Source::Keyed { listing, .. }, Some((_, ids)), _) => ScanPlan::per_value(listing, ids),
            (Source::Keyed { .. }, None, _) => Self::needs_key(def),
            // A child table that cannot walk every parent, given no parent and no parent
            // search.
            (Source::Children { .. }, None, _)
                if def.key_required.is_some() && search.is_none() =>
            {
                Self::needs_key(def)
            }
            (
                Source::Children {
                    parent_table,
                    listing,
                    ..
                },
                keys,
                _,
            ) => {
                let parent_def = tables::find(parent_table);
                let parents = match keys {
                    Some((_, ids)) => Parents::Ids(ids),
                    None => match parent_def.map(|p| (&p.source, &p.search)) {
                        // Filters of the parent's search (`contact_tags.tag_id`): only the
                        // parents it finds.
                        Some((_, Some(endpoint))) if let Some(query) = search => {
                            Parents::Walk(search_request(endpoint, &query, page_size))
                        }
                        Some((Source::List(parent), _)) => {
                            Parents::Walk(list_request(parent, parent.path.clone(), page_size))
                        }
                        // validate_all() guarantees parents are listable top-level tables.
                        _ => Parents::Ids(Vec::new()),
                    },
                };
                ScanPlan::Children {
                    parents,
                    listing: listing.clone(),
                    parent_table: parent_table.clone(),
                }
            }
        }
    }

    /// The plan for reading without a LIMIT (`limited` false), as `SET intercom.scan` says: a
    /// search or a whole-table read becomes windows of the table's creation time read
    /// concurrently (`partitioned`; `auto` reads a whole table from its list endpoint unless
    /// the first page shows it is large), and a page-numbered listing fetches its pages
    /// concurrently. With a LIMIT, pages are fetched one after another so that none is sent
    /// past the limit.
    pub fn spread(self, def: &TableDef, scan: ScanMode, limited: bool) -> Self {
        let ScanPlan::List(request) = self else {
            return self;
        };
        if limited {
            return ScanPlan::List(request);
        }
        let key = def
            .search
            .as_ref()
            .filter(|_| scan != ScanMode::List)
            .and_then(|s| Some((s, s.partition.clone()?)));
        match (&request.style, key) {
            (PageStyle::PageNumber, _) => ScanPlan::Pages(request),
            (PageStyle::Search { query }, Some((_, key)))
                if super::partition::can_split(query, &key) =>
            {
                ScanPlan::Partitioned {
                    search: request,
                    key,
                    list_first: None,
                }
            }
            (PageStyle::Cursor, Some((endpoint, key))) => {
                let style = PageStyle::Search { query: Value::Null };
                let mut search =
                    ListRequest::new(endpoint.path.clone(), style, &endpoint.items_key);
                search.per_page = request.per_page;
                let list_first = (scan == ScanMode::Auto).then_some(request);
                ScanPlan::Partitioned {
                    search,
                    key,
                    list_first,
                }
            }
            _ => ScanPlan::List(request),
        }
    }

    /// The plan that sends fewer requests: a request per key, or a search for the keys, is
    /// replaced by a listing of the whole table (the keys then filtered locally) when the
    /// table is known to fit in fewer pages (`listed_pages`, see [`listing_pages`]).
    pub fn cheapest(
        self,
        def: &TableDef,
        listed_pages: Option<u64>,
        page_size: u32,
        scan: ScanMode,
        limited: bool,
    ) -> Self {
        let requests = match &self {
            // A listing that leaves some objects out (companies without contacts) would not
            // find them: their keys are looked up, unless there are too many to look up.
            ScanPlan::ByIds { ids, .. }
                if def.listed_when_positive.is_some() && ids.len() <= JOIN_LOOKUP_LIMIT =>
            {
                return self;
            }
            ScanPlan::ByIds {
                ids,
                parent_at: None,
                ..
            } => ids.len() as u64,
            ScanPlan::SearchKeys { search, ids, .. } => search_requests(ids.len(), search.per_page),
            _ => return self,
        };
        match listed_pages {
            Some(pages) if pages < requests => {
                Self::for_table(def, None, None, page_size).spread(def, scan, limited)
            }
            _ => self,
        }
    }

    /// This plan's rows counted instead of read (see [`ScanPlan::Count`]), when it reads a
    /// search or a listing whose answers carry `total_count`; otherwise the plan unchanged.
    /// The caller vouches that every row the requests return is a row of the result.
    pub fn counted(self) -> Self {
        match self.clone().unspread() {
            ScanPlan::List(request)
                if request.max_pages.is_none()
                    && matches!(request.style, PageStyle::Search { .. } | PageStyle::Cursor) =>
            {
                ScanPlan::Count(request)
            }
            _ => self,
        }
    }

    /// The same rows read page after page: what a scan under a LIMIT it was not given (one
    /// above a filter it cannot apply itself) sends, so that the LIMIT stops the requests as
    /// soon as it has its rows.
    pub fn unspread(self) -> Self {
        match self {
            ScanPlan::Partitioned {
                list_first: Some(list),
                ..
            } => ScanPlan::List(list),
            ScanPlan::Partitioned {
                mut search, key, ..
            } => {
                if let PageStyle::Search { query } = &mut search.style
                    && query.is_null()
                {
                    *query = super::partition::window_query(
                        &Value::Null,
                        &key,
                        super::partition::Window::ALL,
                    )
                    .unwrap_or(Value::Null);
                }
                ScanPlan::List(search)
            }
            ScanPlan::Pages(request) => ScanPlan::List(request),
            other => other,
        }
    }

    /// The refusal of a read without a key (see [`ScanPlan::NeedsKey`]).
    fn needs_key(def: &TableDef) -> Self {
        let hint = def
            .key_required
            .as_deref()
            .unwrap_or("add a WHERE clause on its key");
        ScanPlan::NeedsKey {
            hint: format!("{} cannot be read whole: {hint}", def.name),
        }
    }

    /// Searches for `ids` of the key `column`, when the table's search can filter on it.
    fn search_keys(def: &TableDef, column: &str, ids: &[String], page_size: u32) -> Option<Self> {
        let endpoint = def.search.as_ref()?;
        let field = super::key_search_field(def, column)?;
        let style = PageStyle::Search { query: Value::Null };
        let mut search = ListRequest::new(endpoint.path.clone(), style, &endpoint.items_key);
        search.per_page = Some(page_size);
        Some(ScanPlan::SearchKeys {
            search,
            column: column.to_string(),
            field,
            ids: ids.to_vec(),
        })
    }

    /// The plan once a join has pinned `column` to `values` at run time (see
    /// [`super::join_keys`]): a child table fetches only those parents; a top-level table whose
    /// `column` has a lookup fetches those objects instead of listing everything, when there
    /// are at most [`JOIN_LOOKUP_LIMIT`] of them. Otherwise the plan is unchanged (the join
    /// still drops the rows it does not need).
    /// A whole-table read stays one when it takes fewer requests (`listed_pages`, see
    /// [`listing_pages`]) than the keys would.
    pub fn with_join_keys(
        self,
        def: &TableDef,
        column: &str,
        values: Vec<String>,
        listed_pages: Option<u64>,
    ) -> Self {
        let intersect = |known: Vec<String>| -> Vec<String> {
            known.into_iter().filter(|k| values.contains(k)).collect()
        };
        match self {
            ScanPlan::Children {
                parents,
                listing,
                parent_table,
            } if matches!(&def.source, Source::Children { key_column, .. } | Source::Keyed { key_column, .. } if key_column == column) =>
            {
                let ids = match parents {
                    Parents::Ids(known) => intersect(known),
                    Parents::Walk(_) => values.clone(),
                };
                ScanPlan::Children {
                    parents: Parents::Ids(ids),
                    listing,
                    parent_table,
                }
            }
            // A table read only by key: the joined keys' objects, however many.
            ScanPlan::NeedsKey { .. }
                if matches!(def.source, Source::Lookups)
                    && let Some(lookup) = def.lookups.iter().find(|l| l.column == column) =>
            {
                ScanPlan::ByIds {
                    path: lookup.path.clone(),
                    ids: values,
                    parent_at: None,
                }
            }
            // A keyed table's refused read, a child table's refused walk: the joined values'
            // (parents') listings.
            ScanPlan::NeedsKey { .. }
                if let Some((key_column, listing, parent_table)) = def.listing_per_key()
                    && key_column == column =>
            {
                ScanPlan::Children {
                    parents: Parents::Ids(values),
                    listing: listing.clone(),
                    parent_table: parent_table.to_string(),
                }
            }
            ScanPlan::ByIds {
                path,
                ids,
                parent_at,
            } if def
                .lookups
                .iter()
                .any(|l| l.column == column && l.path == path) =>
            {
                ScanPlan::ByIds {
                    path,
                    ids: intersect(ids),
                    parent_at,
                }
            }
            ScanPlan::SearchKeys {
                search,
                column: key,
                field,
                ids,
            } if key == column => {
                let ids = intersect(ids);
                match def.lookups.iter().find(|l| l.column == column) {
                    Some(lookup) if ids.len() <= JOIN_LOOKUP_LIMIT => ScanPlan::ByIds {
                        path: lookup.path.clone(),
                        ids,
                        parent_at: lookup.parent_at.clone(),
                    },
                    _ => ScanPlan::SearchKeys {
                        search,
                        column: key,
                        field,
                        ids,
                    },
                }
            }
            // A whole-table read: the keys' objects instead, when there are few.
            whole
                if values.len() <= JOIN_LOOKUP_LIMIT
                    && whole.reads_whole_table()
                    && listed_pages.is_none_or(|pages| pages >= values.len() as u64) =>
            {
                match def.lookups.iter().find(|l| l.column == column) {
                    Some(lookup) => ScanPlan::ByIds {
                        path: lookup.path.clone(),
                        ids: values.clone(),
                        parent_at: lookup.parent_at.clone(),
                    },
                    None => match def.listing_by(column) {
                        Some(by) => ScanPlan::per_value(by, values.clone()),
                        None => whole,
                    },
                }
            }
            other => other,
        }
    }

    /// The rows of a child table's parent search made from the parents alone (see
    /// [`ScanPlan::Members`]): `column` = `value` in every row. `None` unless this plan walks
    /// the parents a search finds.
    pub fn members(&self, def: &TableDef, column: &str, value: &str) -> Option<Self> {
        let ScanPlan::Children {
            parents: Parents::Walk(request),
            parent_table,
            ..
        } = self
        else {
            return None;
        };
        if !matches!(request.style, PageStyle::Search { .. }) {
            return None;
        }
        Some(ScanPlan::Members {
            parents: request.clone(),
            column: column.to_string(),
            path: def.column_named(column)?.path.clone(),
            value: value.to_string(),
            parent_table: parent_table.clone(),
        })
    }

    /// Whether the plan sends several requests at once (up to the client's concurrency).
    pub fn is_concurrent(&self) -> bool {
        match self {
            ScanPlan::List(_)
            | ScanPlan::SearchKeys { .. }
            | ScanPlan::Count(_)
            | ScanPlan::NeedsKey { .. }
            | ScanPlan::Members { .. } => false,
            ScanPlan::ByIds { ids, .. }
            | ScanPlan::Children {
                parents: Parents::Ids(ids),
                ..
            } => ids.len() > 1,
            ScanPlan::Pages(_)
            | ScanPlan::Partitioned { .. }
            | ScanPlan::Children {
                parents: Parents::Walk(_),
                ..
            } => true,
        }
    }

    /// Whether the plan reads every row of a top-level table (no search narrows it).
    fn reads_whole_table(&self) -> bool {
        match self {
            ScanPlan::List(r) | ScanPlan::Pages(r) => !matches!(r.style, PageStyle::Search { .. }),
            ScanPlan::Partitioned { search, .. } => {
                matches!(&search.style, PageStyle::Search { query } if query.is_null())
            }
            // Refused unless keys come: as large as it gets for the join planner, so that it
            // is the side given the other's keys.
            ScanPlan::NeedsKey { .. } => true,
            _ => false,
        }
    }

    /// A rough row count for the join planner, which builds its hash table from the smaller
    /// side: a few rows per looked-up key, more for a search, most for a full listing, and
    /// most of all for walking every parent's sub-resource. Never exact: `count(*)` must not
    /// be answered from it.
    pub fn estimated_rows(&self) -> usize {
        match self {
            ScanPlan::ByIds { ids, .. } | ScanPlan::SearchKeys { ids, .. } => ids.len(),
            ScanPlan::Children {
                parents: Parents::Ids(ids),
                ..
            } => ids.len() * 10,
            whole if whole.reads_whole_table() => 1_000_000,
            ScanPlan::List(_)
            | ScanPlan::Pages(_)
            | ScanPlan::Partitioned { .. }
            | ScanPlan::Count(_)
            | ScanPlan::NeedsKey { .. }
            | ScanPlan::Members { .. } => 10_000,
            ScanPlan::Children {
                parents: Parents::Walk(_),
                ..
            } => 10_000_000,
        }
    }

    /// Narrows a listing to the range the WHERE clause gives a column it takes bounds of
    /// (`created_at_after`/`created_at_before`), replacing the listing's own defaults.
    pub fn with_bounds(mut self, def: &TableDef, bounds: Option<(String, super::Bounds)>) -> Self {
        let (ScanPlan::List(request), Some((column, bounds))) = (&mut self, bounds) else {
            return self;
        };
        let Some(names) = def.column_named(&column).and_then(|c| c.query_bounds) else {
            return self;
        };
        for (name, value) in bounds.params(names) {
            request.query.retain(|(k, _)| k != &name);
            request.query.push((name, value));
        }
        self
    }

    /// Sends `param=value` for each `column = 'value'` among `filters` whose column declares a
    /// query parameter ([`ColumnDef::query_param`](crate::tables::ColumnDef::query_param)), in
    /// the listing's request (in place of its own value). The filter itself stays: the rows
    /// are checked as ever.
    pub fn with_query_params(
        mut self,
        def: &TableDef,
        filters: &[datafusion::prelude::Expr],
    ) -> Self {
        let query = match &mut self {
            ScanPlan::List(request) | ScanPlan::Pages(request) => &mut request.query,
            ScanPlan::Children { listing, .. } => &mut listing.query,
            _ => return self,
        };
        for (name, value) in filters.iter().filter_map(|f| super::query_param(def, f)) {
            query.retain(|(k, _)| k != name);
            query.push((name.to_string(), value));
        }
        self
    }

    /// Applies a row limit to a listing: ask for no bigger pages and no more pages than needed.
    pub fn with_limit(mut self, limit: Option<usize>, every_row_returned: bool) -> Self {
        if let (ScanPlan::List(request), Some(limit)) = (&mut self, limit) {
            let limit = limit.max(1) as u64;
            if let Some(per_page) = request.per_page {
                let per_page = u64::from(per_page).min(limit);
                request.per_page = Some(per_page as u32);
                if every_row_returned {
                    request.max_pages = Some(limit.div_ceil(per_page));
                }
            }
        }
        self
    }

    pub fn describe(&self) -> String {
        /// A child listing's path with its own query (`/events?type=user&intercom_user_id={id}`).
        fn child_line(listing: &Listing) -> String {
            let query: Vec<String> = listing
                .query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let method = if listing.post { "POST" } else { "GET" };
            let mut text = match query.is_empty() {
                true => format!("{method} {}", listing.path),
                false => format!("{method} {}?{}", listing.path, query.join("&")),
            };
            if let Some(body) = &listing.body {
                text.push_str(&format!(" {body}"));
            }
            text
        }
        /// `METHOD /path` and a search's query (none for a whole-table search's windows).
        fn line(r: &ListRequest) -> String {
            match &r.style {
                PageStyle::Search { query } if !query.is_null() => {
                    format!("POST {} {}", r.path, serde_json::json!({ "query": query }))
                }
                PageStyle::Search { .. } => format!("POST {}", r.path),
                _ => {
                    let method = if r.post { "POST" } else { "GET" };
                    let query: Vec<String> =
                        r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    match query.is_empty() {
                        true => format!("{method} {}", r.path),
                        false => format!("{method} {}?{}", r.path, query.join("&")),
                    }
                }
            }
        }
        /// The request line, page size and paging, with `more` said about the pages.
        fn list(r: &ListRequest, more: &str) -> String {
            let style = match &r.style {
                PageStyle::Search { .. } => "search",
                PageStyle::Cursor => "cursor",
                PageStyle::PageNumber => "page-number",
                PageStyle::Scroll => "scroll",
                PageStyle::Url => "next-URL",
                PageStyle::Single => "single",
                PageStyle::Auto => "followed",
            };
            let mut text = line(r);
            if let Some(n) = r.per_page {
                text.push_str(&format!(" per_page={n}"));
            }
            text.push_str(&format!(" ({style} pages"));
            if let Some(max) = r.max_pages {
                text.push_str(&format!(", at most {max}"));
            }
            if let Some(overflow) = &r.overflow {
                text.push_str(&format!(
                    "; past {} objects: {} page after page",
                    overflow.0,
                    line(&overflow.1)
                ));
            }
            text.push_str(more);
            text.push(')');
            text
        }
        match self {
            ScanPlan::List(r) => list(r, ""),
            ScanPlan::Count(r) => format!(
                "{} per_page=1 (total_count of the first page: rows counted, not read)",
                line(r)
            ),
            ScanPlan::Pages(r) => {
                format!(
                    "{}, pages after the first fetched concurrently",
                    list(r, "")
                )
            }
            ScanPlan::Partitioned {
                search,
                key,
                list_first,
            } => {
                let (split, field) = (super::partition::SPLIT_PAGES, &key.field);
                match list_first {
                    Some(first) => list(
                        first,
                        &format!(
                            "; over {split} pages: {} in {field} windows read concurrently",
                            line(search)
                        ),
                    ),
                    // A whole table with no listing: the first windows go with the first
                    // page (`crate::provider::partition`).
                    None if matches!(&search.style, PageStyle::Search { query } if super::partition::is_whole(query, key)) => {
                        list(
                            search,
                            &format!(
                                "; sent with the first {field} windows: over one page, {field} windows read concurrently"
                            ),
                        )
                    }
                    None => list(
                        search,
                        &format!("; over {split} pages: {field} windows read concurrently"),
                    ),
                }
            }
            ScanPlan::Children {
                parents: Parents::Walk(r),
                listing,
                parent_table,
            } => {
                format!(
                    "{} for every row of {parent_table} (listed by {})",
                    child_line(listing),
                    list(r, "")
                )
            }
            ScanPlan::Members {
                parents,
                column,
                value,
                parent_table,
                ..
            } => format!(
                "{} (each of the {parent_table} found is one row with {column} = {value:?}; no request per row)",
                list(parents, ""),
            ),
            ScanPlan::ByIds { path, ids, .. } => format!("GET {path} for ids {ids:?}"),
            ScanPlan::NeedsKey { hint } => format!("no request (refused when run: {hint})"),
            ScanPlan::SearchKeys {
                search, field, ids, ..
            } => {
                let searches = ids.len().div_ceil(super::MAX_KEYS_PER_SEARCH);
                let mut text = format!(
                    "POST {} {{\"query\":{{\"field\":\"{field}\",\"operator\":\"IN\",\"value\":[…]}}}}",
                    search.path
                );
                if let Some(n) = search.per_page {
                    text.push_str(&format!(" per_page={n}"));
                }
                text.push_str(&format!(
                    " (search pages) for {} ids: {searches} {}, IN lists of at most {} ids, up to {} ORed a search",
                    ids.len(),
                    if searches == 1 { "search" } else { "searches" },
                    super::MAX_IN_VALUES,
                    super::MAX_GROUP_ITEMS,
                ));
                text
            }
            // A keyed table's values are no ids (a phrase, a folder, a job).
            ScanPlan::Children {
                parents: Parents::Ids(ids),
                listing,
                parent_table,
            } if parent_table.is_empty() => {
                format!("{} for {{id}} in {ids:?}", child_line(listing))
            }
            ScanPlan::Children {
                parents: Parents::Ids(ids),
                listing,
                ..
            } => format!("{} for ids {ids:?}", child_line(listing)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_keys_are_searched_for_or_listed_never_fetched_one_by_one() {
        let ids: Vec<String> = (0..2_000).map(|i| format!("{i:024x}")).collect();
        let keys = |n: usize| Some(("id".to_string(), ids[..n].to_vec()));
        let contacts = tables::find("contacts").unwrap();
        assert!(matches!(
            ScanPlan::for_table(contacts, keys(JOIN_LOOKUP_LIMIT), None, 150),
            ScanPlan::ByIds { .. }
        ));
        let plan = ScanPlan::for_table(contacts, keys(2_000), None, 150);
        match &plan {
            ScanPlan::SearchKeys {
                search, field, ids, ..
            } => {
                assert_eq!(
                    (search.path.as_str(), field.as_str()),
                    ("/contacts/search", "id")
                );
                assert_eq!(ids.len(), 2_000);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            plan.describe(),
            "POST /contacts/search {\"query\":{\"field\":\"id\",\"operator\":\"IN\",\"value\":[…]}} \
             per_page=150 (search pages) for 2000 ids: 2 searches, IN lists of at most 100 ids, \
             up to 15 ORed a search"
        );
        // A join narrowing the keys to a few fetches those one by one.
        let narrowed = plan.with_join_keys(contacts, "id", ids[..3].to_vec(), None);
        assert!(
            matches!(&narrowed, ScanPlan::ByIds { ids, .. } if ids.len() == 3),
            "{narrowed:?}"
        );

        let companies = tables::find("companies").unwrap();
        match ScanPlan::for_table(companies, keys(2_000), None, 50) {
            ScanPlan::List(request) => assert_eq!(request.path, "/companies"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_are_fetched_one_by_one_only_when_that_takes_fewer_requests_than_a_listing() {
        let companies = tables::find("companies").unwrap();
        let keys = |n: usize| Some(("id".to_string(), (0..n).map(|i| i.to_string()).collect()));
        let plan = |def: &TableDef, n: usize, listed: Option<u64>| {
            ScanPlan::for_table(def, keys(n), None, 150).cheapest(
                def,
                listed,
                150,
                ScanMode::Auto,
                false,
            )
        };
        // Companies without contacts are in no listing: up to JOIN_LOOKUP_LIMIT keys are
        // looked up however short the listing; past that, the listing.
        assert!(matches!(plan(companies, 4, None), ScanPlan::ByIds { .. }));
        assert!(matches!(
            plan(companies, 4, Some(1)),
            ScanPlan::ByIds { .. }
        ));
        assert!(!matches!(
            plan(companies, JOIN_LOOKUP_LIMIT + 1, Some(3)),
            ScanPlan::ByIds { .. }
        ));
        // A table whose listing shows every object: the cheaper of the two.
        let conversations = tables::find("conversations").unwrap();
        assert!(matches!(
            plan(conversations, 4, None),
            ScanPlan::ByIds { .. }
        ));
        assert!(matches!(
            plan(conversations, 4, Some(4)),
            ScanPlan::ByIds { .. }
        ));
        let listed = plan(conversations, 4, Some(3));
        assert!(!matches!(listed, ScanPlan::ByIds { .. }), "{listed:?}");
        let pages = listing_pages(companies, 150, |path| {
            assert_eq!(path, "/companies");
            Some(900)
        });
        assert_eq!(pages, Some(6));
        // A join's keys: the same choice.
        let whole = ScanPlan::for_table(companies, None, None, 150).spread(
            companies,
            ScanMode::Auto,
            false,
        );
        let ids: Vec<String> = (0..7).map(|i| i.to_string()).collect();
        let joined = whole
            .clone()
            .with_join_keys(companies, "id", ids.clone(), Some(6));
        assert!(matches!(joined, ScanPlan::Pages(_)), "{joined:?}");
        let joined = whole.with_join_keys(companies, "id", ids, Some(7));
        assert!(matches!(joined, ScanPlan::ByIds { .. }), "{joined:?}");
    }

    #[test]
    fn limits_shrink_pages_and_stop_paging() {
        let contacts = tables::find("contacts").unwrap();
        let plan = ScanPlan::for_table(contacts, None, None, 150).with_limit(Some(10), true);
        match plan {
            ScanPlan::List(r) => {
                assert_eq!(r.per_page, Some(10));
                assert_eq!(r.max_pages, Some(1));
            }
            other => panic!("{other:?}"),
        }
        let plan = ScanPlan::for_table(contacts, None, None, 150).with_limit(Some(400), true);
        match plan {
            ScanPlan::List(r) => assert_eq!((r.per_page, r.max_pages), (Some(150), Some(3))),
            other => panic!("{other:?}"),
        }
    }
}
