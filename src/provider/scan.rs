//! `IntercomScanExec`: the one `ExecutionPlan` for every table. It streams Intercom pages as
//! Arrow batches while they arrive (background tasks fetch at most a few pages ahead), stops
//! requesting as soon as the consumer drops the stream or a LIMIT is reached, and shows in
//! `EXPLAIN` the request it will send.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Statistics, config::ConfigOptions};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterPushdownPhase, FilterPushdownPropagation, PushedDown,
};
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    replace_children_if_necessary,
};
use futures::FutureExt;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde_json::Value;

use super::convert::{BatchDecoder, RawRows, page_rows, raw_rows};
use super::document::document_rows;
use super::ordered::SortedStop;
use super::partition::{WindowCounts, partitioned};
use crate::client::pagination::{numbered_pages, pages};
use crate::client::{
    ApiRequest, ClientError, ClientStats, IntercomClient, ListRequest, Page, PageStyle,
    RequestCounters, path_segment,
};
use crate::pushdown::plan::list_request;
use crate::pushdown::{self, Parents, ScanPlan, join_keys};
use crate::settings::{IntercomOptions, Switch};
use crate::tables::{BodyFormat, ColumnDef, Listing, TableDef};

/// Executing a plan: the pages of rows its requests return.
impl ScanPlan {
    /// The stream of item batches this plan produces.
    fn items(
        self,
        client: Arc<IntercomClient>,
        counters: Arc<RequestCounters>,
        windows: Arc<WindowCounts>,
    ) -> BoxStream<'static, Result<Vec<RawRows>, ClientError>> {
        let concurrency = client.config().concurrency.max(1);
        match self {
            // Each parent found is one row: its id, and the value the search pinned.
            ScanPlan::Members {
                mut parents,
                path,
                value,
                ..
            } => {
                parents.counters = Some(counters);
                let mut object = serde_json::Map::new();
                crate::tables::write::set_path_parts(&mut object, &path, Value::String(value));
                let body = bytes::Bytes::from(Value::Object(object).to_string());
                let searched = parents.path.clone();
                pages(client, parents)
                    .map(move |page| {
                        let page = page?;
                        page.raw_items()
                            .filter_map(item_id)
                            .map(|id| {
                                let whole = std::iter::once(0..body.len()).collect();
                                raw_rows("POST", &searched, body.clone(), whole, Some(id.into()))
                            })
                            .collect()
                    })
                    .boxed()
            }
            ScanPlan::Partitioned {
                search,
                key,
                list_first,
            } => partitioned(
                client,
                search,
                key,
                list_first,
                concurrency,
                counters,
                windows,
            ),
            ScanPlan::Pages(mut request) => {
                request.counters = Some(counters);
                page_rows(numbered_pages(client, request, concurrency))
            }
            // A count read row by row (`Start::run` counts it with one request).
            ScanPlan::List(mut request) | ScanPlan::Count(mut request) => {
                request.counters = Some(counters);
                page_rows(pages(client, request))
            }
            ScanPlan::ByIds {
                path,
                ids,
                parent_at,
            } => stream::iter(ids)
                // `.` and `..` are no object's id: no row, and no request that could reach
                // another path.
                .filter(|id| futures::future::ready(path_segment(id).is_some()))
                .map(move |id| {
                    let client = client.clone();
                    let path = path.replace("{id}", &path_segment(&id).unwrap_or_default());
                    let mut request = ApiRequest::get(&path);
                    request.counters = Some(counters.clone());
                    let parent_at = parent_at.clone();
                    async move {
                        match client.get_optional(&request).await? {
                            Some(body) => {
                                // A child table's row carries its parent's id; an object
                                // without a parent is not one of its rows.
                                let parent = match parent_at.as_deref() {
                                    None => None,
                                    Some(at) => match parent_of(&body, at) {
                                        Some(parent) => Some(parent),
                                        None => return Ok(Vec::new()),
                                    },
                                };
                                let len = body.len();
                                let whole = std::iter::once(0..len).collect();
                                Ok(vec![raw_rows("GET", &path, body, whole, parent)?])
                            }
                            None => Ok(Vec::new()),
                        }
                    }
                })
                .buffered(concurrency)
                .boxed(),
            ScanPlan::SearchKeys {
                search, field, ids, ..
            } => {
                let mut seen = HashSet::new();
                stream::iter(pushdown::key_queries(&field, &ids))
                    .map(move |query| {
                        let mut request = search.clone();
                        request.style = PageStyle::Search {
                            query: query.to_json(),
                        };
                        request.counters = Some(counters.clone());
                        pages(client.clone(), request)
                    })
                    .flatten()
                    .map(move |page| {
                        let mut rows = RawRows::from_page(page?, None);
                        // Case variants of a key in two searches find the same object twice.
                        rows.retain(|raw| match item_id(raw) {
                            Some(id) => seen.insert(id),
                            None => true,
                        });
                        Ok(vec![rows])
                    })
                    .boxed()
            }
            // `Start::run` answers this plan with its own error before asking for items.
            ScanPlan::NeedsKey { hint } => {
                stream::once(async move { Err(ClientError::Config(hint)) }).boxed()
            }
            ScanPlan::Children {
                parents, listing, ..
            } => {
                let ids: BoxStream<'static, Result<String, ClientError>> = match parents {
                    Parents::Ids(ids) => stream::iter(ids.into_iter().map(Ok)).boxed(),
                    Parents::Walk(mut request) => {
                        request.counters = Some(counters.clone());
                        pages(client.clone(), request)
                            .map_ok(|page| {
                                stream::iter(
                                    page.raw_items()
                                        .filter_map(item_id)
                                        .map(Ok)
                                        .collect::<Vec<_>>(),
                                )
                            })
                            .try_flatten()
                            .boxed()
                    }
                };
                let page_size = client.config().page_size;
                ids.map_ok(move |id| {
                    children_of(
                        client.clone(),
                        listing.clone(),
                        id,
                        page_size,
                        counters.clone(),
                    )
                })
                .try_buffered(concurrency)
                .boxed()
            }
        }
    }
}

/// Applies the exact predicate to a decoded batch and keeps the output columns.
fn select(
    batch: RecordBatch,
    predicate: Option<&Arc<dyn PhysicalExpr>>,
    output: &[usize],
) -> Result<RecordBatch> {
    let batch = match predicate {
        Some(predicate) => {
            let mask = predicate.evaluate(&batch)?.into_array(batch.num_rows())?;
            let mask = mask
                .as_boolean_opt()
                .ok_or_else(|| DataFusionError::Internal("scan predicate is not boolean".into()))?;
            filter_record_batch(&batch, mask)?
        }
        None => batch,
    };
    Ok(batch.project(output)?)
}

/// The text at the dotted path `at` of a JSON object (a string, or a number written out).
fn parent_of(body: &[u8], at: &str) -> Option<Arc<str>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let found = at.split('.').try_fold(&value, |node, key| node.get(key))?;
    match found {
        Value::String(s) => Some(Arc::from(s.as_str())),
        Value::Number(n) => Some(Arc::from(n.to_string().as_str())),
        _ => None,
    }
}

/// The `id` of one item's JSON text (ids are strings, or numbers in a few places).
fn item_id(raw: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: Value,
    }
    match serde_json::from_str::<IdOnly>(raw).ok()?.id {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Every item of one parent's sub-resource, tagged with the parent id. A parent that vanished
/// meanwhile (404) has no children.
async fn children_of(
    client: Arc<IntercomClient>,
    listing: Listing,
    id: String,
    page_size: u32,
    counters: Arc<RequestCounters>,
) -> Result<Vec<RawRows>, ClientError> {
    if listing.format != BodyFormat::Json {
        let Some(request) = sub_request(&listing, &id, page_size) else {
            return Ok(Vec::new());
        };
        let rows = document_rows(&client, &request, &listing.format, &id, &counters).await?;
        return Ok(rows.into_iter().collect());
    }
    let Some(pages) = sub_resource(&client, &listing, &id, page_size, &counters).await? else {
        return Ok(Vec::new());
    };
    let parent: Arc<str> = Arc::from(id);
    Ok(pages
        .into_iter()
        .map(|page| RawRows::from_page(page, Some(parent.clone())))
        .collect())
}

/// Every page of the sub-resource `listing` of the parent `id`; `None`
/// when the parent is gone (404) or `id` can be no object's id (`.`, `..`).
pub(super) async fn sub_resource(
    client: &Arc<IntercomClient>,
    listing: &Listing,
    id: &str,
    page_size: u32,
    counters: &Arc<RequestCounters>,
) -> Result<Option<Vec<Page>>, ClientError> {
    let Some(mut request) = sub_request(listing, id, page_size) else {
        return Ok(None);
    };
    request.counters = Some(counters.clone());
    let mut all = Vec::new();
    let mut stream = pages(client.clone(), request);
    while let Some(page) = stream.next().await {
        match page {
            Ok(page) => all.push(page),
            Err(ClientError::Api(e)) if e.status == 404 => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(all))
}

/// The listing `listing` of the parent (or key) `id`: `{id}` in its path, query and body
/// replaced; `None` when `id` can be no object's id (`.`, `..`).
fn sub_request(listing: &Listing, id: &str, page_size: u32) -> Option<ListRequest> {
    let segment = path_segment(id)?;
    let path = listing.path.replace("{id}", &segment);
    let mut request = list_request(listing, path, page_size);
    // A parent named in the query (`/events?intercom_user_id={id}`) or the body
    // (`{"conversation_ids": ["{id}"]}`) is sent as it is.
    for (_, value) in &mut request.query {
        *value = value.replace("{id}", id);
    }
    if let Some(body) = &mut request.body {
        replace_in_strings(body, id);
    }
    Some(request)
}

/// Every string `{id}` inside `value` replaced by `id`.
fn replace_in_strings(value: &mut Value, id: &str) {
    match value {
        Value::String(s) if s.contains("{id}") => *s = s.replace("{id}", id),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_in_strings(v, id)),
        Value::Object(map) => map.values_mut().for_each(|v| replace_in_strings(v, id)),
        _ => {}
    }
}

/// What `EXPLAIN ANALYZE` shows for a scan: the requests it sent (retries included), its
/// retries and rate-limit waits, the pages and rows Intercom returned, and the rows passed on.
struct ScanMetrics {
    requests: Count,
    cache_hits: Count,
    retries: Count,
    rate_limit_waits: Count,
    throttled: Count,
    windows: Count,
    windows_kept: Count,
    pages: Count,
    rows_fetched: Count,
    output_rows: Count,
    seen: std::sync::Mutex<ClientStats>,
}

impl ScanMetrics {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let counter = |name: &'static str| MetricBuilder::new(set).counter(name, partition);
        Self {
            requests: counter("requests"),
            cache_hits: counter("cache_hits"),
            retries: counter("retries"),
            rate_limit_waits: counter("rate_limit_waits"),
            throttled: counter("throttled"),
            windows: counter("windows"),
            windows_kept: counter("windows_kept"),
            pages: counter("pages"),
            rows_fetched: counter("rows_fetched"),
            output_rows: MetricBuilder::new(set).output_rows(partition),
            seen: std::sync::Mutex::new(ClientStats::default()),
        }
    }

    /// Adds what the scan's request counters gained since the last call.
    fn sync(&self, counters: &RequestCounters, windows: &WindowCounts) {
        let now = counters.snapshot();
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        let read = windows.read.load(Ordering::Relaxed) as usize;
        self.windows.add(read.saturating_sub(self.windows.value()));
        let kept = windows.kept.load(Ordering::Relaxed) as usize;
        self.windows_kept
            .add(kept.saturating_sub(self.windows_kept.value()));
        self.throttled
            .add((now.throttled - seen.throttled) as usize);
        self.requests.add((now.requests - seen.requests) as usize);
        self.cache_hits
            .add((now.cache_hits - seen.cache_hits) as usize);
        self.retries.add((now.retries - seen.retries) as usize);
        self.rate_limit_waits
            .add((now.rate_limit_waits - seen.rate_limit_waits) as usize);
        *seen = now;
    }
}

/// The columns a scan decodes, the predicate it applies to them, and which of them it returns.
#[derive(Clone, Debug)]
pub struct ScanColumns {
    /// Table column indices decoded from Intercom's JSON (the output plus the filters' columns).
    pub decoded: Vec<usize>,
    /// Positions within `decoded` that the scan returns, in output order.
    pub output: Vec<usize>,
    /// The exact WHERE predicate over the decoded columns (the request may return a superset).
    pub predicate: Option<Arc<dyn PhysicalExpr>>,
    /// Whether decoded JSON columns that Intercom cut short are completed
    /// (`intercom.complete_lists`, see `super::complete`).
    pub complete_lists: bool,
}

/// Scans one Intercom table.
#[derive(Debug)]
pub struct IntercomScanExec {
    def: Arc<TableDef>,
    client: Arc<IntercomClient>,
    plan: ScanPlan,
    columns: Vec<ColumnDef>,
    decoded_schema: SchemaRef,
    output: Vec<usize>,
    predicate: Option<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
    limit: Option<usize>,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    /// Filters from joins above, read when the scan starts (see [`super::join_keys`]).
    join_filters: Vec<Arc<DynamicFilterPhysicalExpr>>,
    /// The requests the scan sent, once a join changed them, for `EXPLAIN ANALYZE`.
    ran: Arc<Mutex<Option<String>>>,
    /// See [`ScanColumns::complete_lists`].
    complete_lists: bool,
    /// Reading a sorted listing under a TopK: when to stop (see [`super::ordered`]).
    sorted: Option<SortedStop>,
}

impl IntercomScanExec {
    /// A scan of `def` returning the `projection` columns, at most `limit` rows.
    pub fn new(
        def: Arc<TableDef>,
        client: Arc<IntercomClient>,
        plan: ScanPlan,
        columns: ScanColumns,
        limit: Option<usize>,
    ) -> Result<Self> {
        let decoded_schema = Arc::new(def.schema().project(&columns.decoded)?);
        let schema = Arc::new(decoded_schema.project(&columns.output)?);
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Self {
            columns: columns
                .decoded
                .iter()
                .map(|&i| def.columns[i].clone())
                .collect(),
            def,
            client,
            plan,
            decoded_schema,
            output: columns.output,
            predicate: columns.predicate,
            schema,
            limit,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
            join_filters: Vec::new(),
            ran: Arc::new(Mutex::new(None)),
            complete_lists: columns.complete_lists,
            sorted: None,
        })
    }

    /// A copy sharing everything (metrics and the `ran` note included).
    fn shallow_copy(&self) -> Self {
        Self {
            def: self.def.clone(),
            client: self.client.clone(),
            plan: self.plan.clone(),
            columns: self.columns.clone(),
            decoded_schema: self.decoded_schema.clone(),
            output: self.output.clone(),
            predicate: self.predicate.clone(),
            schema: self.schema.clone(),
            limit: self.limit,
            properties: self.properties.clone(),
            metrics: self.metrics.clone(),
            join_filters: self.join_filters.clone(),
            ran: self.ran.clone(),
            complete_lists: self.complete_lists,
            sorted: self.sorted.clone(),
        }
    }

    /// The table this scan reads.
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// This scan reading `plan`, a sorted listing, passing rows until `stop` says (join keys
    /// are not used: they would read by key, unsorted).
    pub(super) fn reading_sorted(&self, plan: ScanPlan, stop: SortedStop) -> Self {
        let mut exec = self.shallow_copy();
        exec.plan = plan;
        exec.sorted = Some(stop);
        exec.join_filters = Vec::new();
        exec.metrics = ExecutionPlanMetricsSet::new();
        exec.ran = Arc::new(Mutex::new(None));
        exec
    }

    /// The key columns of this scan's output that a join's keys can pin.
    fn join_key_columns(&self) -> Vec<&str> {
        self.def
            .key_columns()
            .into_iter()
            .filter(|k| self.schema.index_of(k).is_ok())
            .collect()
    }

    /// The plan to run: the planned one, narrowed by the keys of any join whose hash table is
    /// complete. A hash join finishes its build side before it reads the probe side, so by the
    /// scan's first poll its filter is final; an incomplete filter (a TopK's, which changes
    /// as rows arrive) is never waited for, which could deadlock.
    fn plan_at_start(&self) -> ScanPlan {
        let mut plan = self.plan.clone();
        let listed_pages = super::table::listed_pages(&self.def, &self.client);
        for filter in &self.join_filters {
            if filter.wait_complete().now_or_never().is_none() {
                continue;
            }
            let Ok(current) = filter.current() else {
                continue;
            };
            for column in self.join_key_columns() {
                if let Some(values) = join_keys::implied_values(&current, column) {
                    let values = values.into_iter().collect();
                    plan = plan.with_join_keys(&self.def, column, values, listed_pages);
                    break;
                }
            }
        }
        plan
    }

    /// The requests this scan sends, as shown by EXPLAIN.
    pub fn plan(&self) -> &ScanPlan {
        &self.plan
    }

    /// This scan reading page after page (see [`ScanPlan::unspread`]).
    fn sequential(&self) -> Self {
        let mut exec = self.shallow_copy();
        exec.plan = self.plan.clone().unspread();
        exec.metrics = ExecutionPlanMetricsSet::new();
        exec
    }
}

/// Makes a scan under a LIMIT it was not given read page after page. A LIMIT above a filter
/// the scan cannot apply (`WHERE lower(email) LIKE … LIMIT 10`) stops reading as soon as it
/// has its rows; concurrent windows would have sent dozens of requests by then.
#[derive(Debug)]
pub struct SequentialUnderLimit;

impl PhysicalOptimizerRule for SequentialUnderLimit {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        under_limit(plan, false)
    }

    fn name(&self) -> &str {
        "intercom_sequential_under_limit"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Rewrites the scans under `plan`; `limited` when a LIMIT above reaches `plan`'s rows.
fn under_limit(plan: Arc<dyn ExecutionPlan>, limited: bool) -> Result<Arc<dyn ExecutionPlan>> {
    if let Some(scan) = plan.downcast_ref::<IntercomScanExec>() {
        return Ok(match (limited, scan.plan.is_concurrent()) {
            (true, true) => Arc::new(scan.sequential()),
            _ => plan,
        });
    }
    // Spreading batches over partitions for a filter to run in parallel reads ahead of the
    // LIMIT by many pages (the repartition keeps every partition fed): under a LIMIT the
    // filter reads the scan directly.
    if limited
        && plan.name() == "RepartitionExec"
        && matches!(
            plan.properties().output_partitioning(),
            Partitioning::RoundRobinBatch(_)
        )
        && let [input] = plan.children().as_slice()
        && input.properties().output_partitioning().partition_count() == 1
    {
        return under_limit(Arc::clone(input), true);
    }
    // Operators that pass rows on as they come keep a LIMIT above them (or their own fetch)
    // in force for their input; anything else (a sort, a join, an aggregate) needs all of it.
    let streams = matches!(
        plan.name(),
        "FilterExec"
            | "ProjectionExec"
            | "CoalesceBatchesExec"
            | "RepartitionExec"
            | "CoalescePartitionsExec"
            | "GlobalLimitExec"
            | "LocalLimitExec"
    );
    let below = streams && (limited || plan.fetch().is_some());
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    let mut changed = false;
    let mut rewritten = Vec::with_capacity(children.len());
    for child in children {
        let new = under_limit(child.clone(), below)?;
        changed |= !Arc::ptr_eq(&new, &child);
        rewritten.push(new);
    }
    if changed {
        replace_children_if_necessary(plan, rewritten)
    } else {
        Ok(plan)
    }
}

impl DisplayAs for IntercomScanExec {
    /// The node's line (table, limits, columns), then its request, what ran and its filter on
    /// lines of their own starting at column 0, which [`crate::explain::lay_out`] indents
    /// under the node.
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "IntercomScanExec: table={}", self.def.name)?;
        if self.ran.lock().ok().and_then(|r| r.clone()).is_none() && !self.join_filters.is_empty() {
            write!(f, ", join_keys=[{}]", self.join_key_columns().join(", "))?;
        }
        if self.plan.is_concurrent() {
            let budget = self.client.budget();
            write!(f, ", concurrency={}", budget.concurrency())?;
        }
        if let Some(rps) = self.client.budget().max_rps() {
            write!(f, ", max_rps={rps}")?;
        }
        if let Some(limit) = self.limit {
            write!(f, ", limit={limit}")?;
        }
        if let Some(sorted) = &self.sorted {
            write!(f, ", {}", sorted.describe())?;
        }
        let names: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|c| c.name().as_str())
            .collect();
        write!(f, ", projection=[{}]", names.join(", "))?;
        write!(f, "\nrequest: {}", self.plan.describe())?;
        if let Some(ran) = self.ran.lock().ok().and_then(|r| r.clone()) {
            write!(f, "\nran: {ran}")?;
        }
        if let Some(predicate) = &self.predicate {
            write!(f, "\nfilter: {predicate}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for IntercomScanExec {
    fn name(&self) -> &str {
        "IntercomScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        // The join looks for its filter here to decide whether to publish it at all.
        let joins = self
            .join_filters
            .iter()
            .map(|d| Arc::clone(d) as Arc<dyn PhysicalExpr>);
        for expr in self.predicate.iter().cloned().chain(joins) {
            if f(&expr)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn partition_statistics(&self, _partition: Option<usize>) -> Result<Arc<Statistics>> {
        let mut statistics = Statistics::new_unknown(&self.schema);
        statistics.num_rows = Precision::Inexact(self.plan.estimated_rows());
        Ok(Arc::new(statistics))
    }

    fn handle_child_pushdown_result(
        &self,
        _phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        // Only a join's key filter is taken, and only to choose requests: the scan does not
        // promise to apply it, so every filter is reported as not pushed. With
        // `SET intercom.pushdown = off` nothing is taken.
        let enabled = config
            .extensions
            .get::<IntercomOptions>()
            .is_none_or(|o| o.pushdown == Switch::On);
        let keys = if enabled {
            self.join_key_columns()
        } else {
            Vec::new()
        };
        let mut join_filters = self.join_filters.clone();
        let mut filters = Vec::new();
        for pushed in child_pushdown_result.parent_filters {
            filters.push(PushedDown::No);
            let on_keys = collect_columns(&pushed.filter)
                .iter()
                .any(|c| keys.contains(&c.name()));
            if let (true, Ok(dynamic)) = (
                on_keys,
                Arc::downcast::<DynamicFilterPhysicalExpr>(pushed.filter),
            ) {
                join_filters.push(dynamic);
            }
        }
        let mut result = FilterPushdownPropagation::with_parent_pushdown_result(filters);
        if join_filters.len() > self.join_filters.len() {
            let mut exec = self.shallow_copy();
            exec.metrics = ExecutionPlanMetricsSet::new();
            exec.ran = Arc::new(Mutex::new(None));
            exec.join_filters = join_filters;
            result = result.with_updated_node(Arc::new(exec) as Arc<dyn ExecutionPlan>);
        }
        Ok(result)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal(
                "IntercomScanExec has no children".into(),
            ))
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "IntercomScanExec has one partition, asked for {partition}"
            )));
        }
        // Nothing is sent until the stream is first polled: a join above reads its small side
        // first, and its keys may narrow the requests (see `plan_at_start`).
        let start = Start {
            exec: self.shallow_copy(),
            metrics: ScanMetrics::new(&self.metrics, partition),
            cache_ttl: crate::settings::cache_ttl(&context),
        };
        let batches = stream::once(async move { start.run() }).flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            batches,
        )))
    }
}

/// What a scan needs to start once polled.
struct Start {
    exec: IntercomScanExec,
    metrics: ScanMetrics,
    /// How old a cached answer the scan's reads may take (`intercom.cache_ttl`).
    cache_ttl: Option<std::time::Duration>,
}

impl Start {
    fn run(self) -> BoxStream<'static, Result<RecordBatch>> {
        let Start {
            exec,
            metrics,
            cache_ttl,
        } = self;
        let plan = exec.plan_at_start();
        if !exec.join_filters.is_empty()
            && let Ok(mut ran) = exec.ran.lock()
        {
            *ran = Some(plan.describe());
        }
        if let ScanPlan::Count(request) = plan {
            return counted(&exec, metrics, request, cache_ttl);
        }
        if let ScanPlan::NeedsKey { hint } = plan {
            return stream::once(async move { Err(DataFusionError::Plan(hint)) }).boxed();
        }
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let (page_tx, page_rx) = tokio::sync::mpsc::channel(2);
        let counters = Arc::new(RequestCounters::cached(cache_ttl));
        let windows = Arc::new(WindowCounts::default());
        let mut items = plan.items(exec.client.clone(), counters.clone(), windows.clone());
        let completions = match exec.complete_lists {
            true => super::complete::wanted(&exec.def, &exec.columns),
            false => Vec::new(),
        };
        if !completions.is_empty() {
            items = super::complete::completed(
                items,
                completions,
                exec.client.clone(),
                counters.clone(),
            );
        }
        let decoder = BatchDecoder::new(exec.columns.clone(), exec.decoded_schema.clone());
        let predicate = exec.predicate.clone();
        let output = exec.output.clone();
        let table = exec.def.name.clone();
        let mut remaining = exec.limit;
        let mut sorted = exec.sorted.clone();
        // Two stages, so that fetching page n+1 (network, and the server) overlaps decoding
        // page n. Each runs ahead of the next by at most its channel's capacity. Dropping the
        // output stream drops `task`, which drops `fetch`: both abort at once, and no request
        // is sent after cancellation.
        // With a LIMIT, a page is fetched only once the rows before it are known to fall
        // short of it: no request is spent on a page the limit will not reach.
        let demand = (exec.limit.is_some() || sorted.is_some())
            .then(|| Arc::new(tokio::sync::Semaphore::new(0)));
        let wanted = demand.clone();
        let fetch = SpawnedTask::spawn(async move {
            let mut first = true;
            loop {
                if let Some(wanted) = &wanted
                    && !std::mem::take(&mut first)
                {
                    match wanted.acquire().await {
                        Ok(permit) => permit.forget(),
                        Err(_) => break,
                    }
                }
                let Some(next) = items.next().await else {
                    break;
                };
                let failed = next.is_err();
                if page_tx.send(next).await.is_err() || failed {
                    break;
                }
            }
        });
        // Pages are decoded on the runtime's workers, up to `DECODE_AHEAD` at once, and passed
        // on in order: decoding (the scan's heaviest work at low latency) uses every core. The
        // pages already fetched when a decode starts (up to `PAGES_PER_BATCH`) make one batch:
        // a batch's builders cost the same for 150 rows as for 600, and a page that arrives
        // alone (at any latency) is not held back for others.
        let decoder = Arc::new(decoder);
        let pages = stream::unfold(page_rx, |mut rx| async move {
            rx.recv().await.map(|next| (next, rx))
        });
        let decoded = pages
            .ready_chunks(PAGES_PER_BATCH)
            .map(move |group| {
                let (decoder, predicate, output) =
                    (decoder.clone(), predicate.clone(), output.clone());
                SpawnedTask::spawn(async move {
                    decode_pages(group, &decoder, predicate.as_ref(), &output)
                })
                .join()
                .map(|joined| {
                    let decoded = joined.unwrap_or_else(|e| {
                        Vec::from([Err(DataFusionError::ExecutionJoin(Box::new(e)))])
                    });
                    stream::iter(decoded)
                })
            })
            .buffered(DECODE_AHEAD)
            .flatten();
        let task = SpawnedTask::spawn(async move {
            let _fetch = fetch;
            let mut decoded = std::pin::pin!(decoded);
            while let Some(next) = decoded.next().await {
                let mut items_read = 0;
                let batch = match next {
                    Err(e) => Err(e.context(format!("scanning {table}"))),
                    Ok((fetched, batch)) => {
                        items_read = fetched.items;
                        metrics.pages.add(fetched.pages);
                        metrics.rows_fetched.add(fetched.rows);
                        match (remaining.as_mut(), sorted.as_mut()) {
                            (Some(left), _) => {
                                let keep = batch.num_rows().min(*left);
                                *left -= keep;
                                Ok(batch.slice(0, keep))
                            }
                            (None, Some(stop)) => stop.take(batch).map(|(batch, done)| {
                                if done {
                                    remaining = Some(0);
                                }
                                batch
                            }),
                            (None, None) => Ok(batch),
                        }
                    }
                };
                if let Ok(batch) = &batch {
                    metrics.output_rows.add(batch.num_rows());
                }
                metrics.sync(&counters, &windows);
                let failed = batch.is_err();
                if tx.send(batch).await.is_err() || failed || remaining == Some(0) {
                    break;
                }
                if let Some(demand) = &demand {
                    // A page fetched for each one read (pages are fetched on demand only with
                    // a LIMIT or a sorted stop, where they come one at a time).
                    demand.add_permits(items_read.max(1));
                }
            }
            metrics.sync(&counters, &windows);
        });
        stream::unfold((rx, task), |(mut rx, task)| async move {
            rx.recv().await.map(|b| (b, (rx, task)))
        })
        .boxed()
    }
}

/// The rows of a [`ScanPlan::Count`]: as many rows of no column as `request` finds, in
/// batches of at most [`COUNTED_BATCH_ROWS`].
fn counted(
    exec: &IntercomScanExec,
    metrics: ScanMetrics,
    request: ListRequest,
    cache_ttl: Option<std::time::Duration>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let (client, schema) = (exec.client.clone(), exec.schema.clone());
    let table = exec.def.name.clone();
    let count = async move {
        let counters = Arc::new(RequestCounters::cached(cache_ttl));
        let rows = total_rows(client, request, counters.clone()).await;
        metrics.sync(&counters, &WindowCounts::default());
        let rows = rows.map_err(|e| {
            DataFusionError::External(Box::new(e)).context(format!("scanning {table}"))
        })?;
        metrics
            .output_rows
            .add(usize::try_from(rows).unwrap_or(usize::MAX));
        Ok::<_, DataFusionError>(rows)
    };
    stream::once(count)
        .map_ok(move |rows| {
            let schema = schema.clone();
            let sizes = (0..rows)
                .step_by(COUNTED_BATCH_ROWS)
                .map(move |start| (rows - start).min(COUNTED_BATCH_ROWS as u64) as usize);
            stream::iter(sizes.map(move |n| {
                let options = RecordBatchOptions::new().with_row_count(Some(n));
                Ok(RecordBatch::try_new_with_options(
                    schema.clone(),
                    Vec::new(),
                    &options,
                )?)
            }))
        })
        .try_flatten()
        .boxed()
}

/// Batches a scan decodes at once (each on a worker of the runtime).
const DECODE_AHEAD: usize = 2;

/// Pages decoded into one batch, at most: those already fetched when the decode starts.
const PAGES_PER_BATCH: usize = 4;

/// The batch of a group of pages (those up to the first that failed, then its failure), with
/// what was fetched for it.
type Decoded = Vec<Result<(Fetched, RecordBatch)>>;

/// What a batch was decoded from.
struct Fetched {
    /// Items of the page stream (a page, or the rows of a page that waited for their lists).
    items: usize,
    /// Chunks of rows: the pages counted by `EXPLAIN ANALYZE`.
    pages: usize,
    rows: usize,
}

/// Decodes `group` (pages in order, as fetched) into one batch, filtered by `predicate` and
/// projected to `output`; a failed page ends the group, after the batch of the pages before
/// it.
fn decode_pages(
    group: Vec<Result<Vec<RawRows>, ClientError>>,
    decoder: &BatchDecoder,
    predicate: Option<&Arc<dyn PhysicalExpr>>,
    output: &[usize],
) -> Decoded {
    let (mut chunks, mut items, mut failure) = (Vec::new(), 0, None);
    for page in group {
        match page {
            Ok(page) => {
                items += 1;
                chunks.extend(page);
            }
            Err(e) => {
                failure = Some(DataFusionError::External(Box::new(e)));
                break;
            }
        }
    }
    let mut decoded = Vec::new();
    if !chunks.is_empty() || failure.is_none() {
        let fetched = Fetched {
            items,
            pages: chunks.len(),
            rows: chunks.iter().map(RawRows::len).sum(),
        };
        let batch = decoder
            .decode(&chunks)
            .map_err(DataFusionError::from)
            .and_then(|batch| select(batch, predicate, output));
        decoded.push(batch.map(|batch| (fetched, batch)));
    }
    decoded.extend(failure.map(Err));
    decoded
}

/// Rows in each batch of a count's column-less rows.
const COUNTED_BATCH_ROWS: usize = 8192;

/// How many rows `request` finds: its first page's `total_count` (a page of one row), or, when
/// the answer has none, its rows counted page by page.
async fn total_rows(
    client: Arc<IntercomClient>,
    mut request: ListRequest,
    counters: Arc<RequestCounters>,
) -> Result<u64, ClientError> {
    request.counters = Some(counters);
    let mut first = request.clone();
    first.per_page = Some(1);
    first.max_pages = Some(1);
    if let Some(page) = pages(client.clone(), first).next().await.transpose()?
        && let Some(total) = page.total_count
    {
        return Ok(total);
    }
    let mut rows = 0;
    let mut all = pages(client, request);
    while let Some(page) = all.next().await {
        rows += page?.len() as u64;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_fetched_together_make_one_batch_and_a_failure_follows_the_pages_before_it() {
        use super::super::convert::tests::{decoder, rows, texts};
        use crate::tables::ColumnDef as C;
        let d = decoder(vec![C::text("id", "d")]);
        let page = |ids: &[&str]| {
            let items: Vec<String> = ids.iter().map(|id| format!(r#"{{"id":"{id}"}}"#)).collect();
            let items: Vec<&str> = items.iter().map(String::as_str).collect();
            Ok(Vec::from([rows(&items, None)]))
        };
        let failed = || {
            Err(ClientError::Decode {
                request: "GET /contacts".into(),
                json_path: "$".into(),
                reason: "cut short".into(),
            })
        };
        let decoded = decode_pages(Vec::from([page(&["a", "b"]), page(&["c"])]), &d, None, &[0]);
        let [Ok((fetched, batch))] = decoded.as_slice() else {
            panic!("one batch");
        };
        assert_eq!((fetched.items, fetched.pages, fetched.rows), (2, 2, 3));
        assert_eq!(texts(batch, 0), [Some("a"), Some("b"), Some("c")]);
        // A failed page: the pages before it, then the failure; none after it is read.
        let decoded = decode_pages(
            Vec::from([page(&["a"]), failed(), page(&["c"])]),
            &d,
            None,
            &[0],
        );
        let [Ok((fetched, batch)), Err(error)] = decoded.as_slice() else {
            panic!("a batch, then the failure");
        };
        assert_eq!((fetched.items, fetched.rows), (1, 1));
        assert_eq!(texts(batch, 0), [Some("a")]);
        assert!(error.to_string().contains("cut short"), "{error}");
        let decoded = decode_pages(Vec::from([failed(), page(&["c"])]), &d, None, &[0]);
        assert!(matches!(decoded.as_slice(), [Err(_)]));
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(path_segment("abc-1_2.3~").unwrap(), "abc-1_2.3~");
        assert_eq!(path_segment("a/b c?").unwrap(), "a%2Fb%20c%3F");
        assert_eq!(path_segment("..."), Some("...".to_string()));
        for unsafe_id in ["", ".", ".."] {
            assert_eq!(path_segment(unsafe_id), None);
        }
    }
}
