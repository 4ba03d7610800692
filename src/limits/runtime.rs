//! Where queries plan and run: a runtime of their own, apart from the caller's threads.
//!
//! Planning and running recurse as deep as the statement nests; on this runtime every thread
//! has [`QUERY_STACK_BYTES`] of stack, whatever thread the caller (the shell's main thread,
//! an embedder's runtime, a server connection) has, and the statement depth limit is measured
//! against that size (`examples/stack_depth.rs`).
//!
//! A CPU-bound query (a large cross join, a big aggregate) can keep a DataFusion stream busy
//! inside one poll for seconds: operators fed from memory never yield. Run on the connection's
//! runtime, such a query kept the connection task from seeing its cancel request until the
//! query had finished. Here each query's plan runs on the `intercom-sql-query` runtime and
//! hands its batches over a small channel; the connection task only waits on that channel, so
//! a cancel (or a client going away) ends the query's stream at once, and dropping the stream
//! aborts the query's task. A panic inside the query becomes an error on the stream.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use futures::{FutureExt, StreamExt, stream};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// Stack of every query thread. Only the pages a query touches are ever allocated.
pub const QUERY_STACK_BYTES: usize = 64 << 20;

/// Workers of the query runtime: twice the cores, at least 4. A cancelled CPU-bound operator
/// (a large cross join) keeps its worker until its current poll returns, which can take
/// seconds; with spare workers, the statements after it plan and run meanwhile.
fn worker_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cores).max(4)
}

/// Batches in flight between a query and its reader.
const CHANNEL_DEPTH: usize = 2;

fn runtime() -> Result<&'static Runtime> {
    static QUERIES: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    QUERIES
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("intercom-sql-query")
                .worker_threads(worker_threads())
                .thread_stack_size(QUERY_STACK_BYTES)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| DataFusionError::Execution(format!("cannot start the query runtime: {e}")))
}

/// Aborts the query's task when the stream reading it is dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A query that panicked (reported as XX000 internal_error), with the panic's message.
#[derive(Debug)]
struct QueryPanicked(String);

impl std::fmt::Display for QueryPanicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryPanicked {}

/// Runs `work` at once on a thread with a query thread's stack, blocking the caller until it
/// is done: for the synchronous steps that recurse over a borrowed statement or plan (cloning
/// one, binding parameters into one) where the caller's stack may be small. A thread costs
/// some tens of microseconds. A panic in `work` becomes an error.
pub fn on_query_stack<T: Send>(work: impl FnOnce() -> T + Send) -> Result<T> {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("intercom-sql-plan".into())
            .stack_size(QUERY_STACK_BYTES)
            .spawn_scoped(scope, work)
            .map_err(|e| {
                DataFusionError::Execution(format!("cannot start a planning thread: {e}"))
            })?;
        handle.join().map_err(|payload| {
            DataFusionError::External(Box::new(QueryPanicked(panic_message(payload.as_ref()))))
        })
    })
}

/// Runs `work` (planning) on the query runtime and waits for it; a panic becomes an error.
pub async fn run<T, F>(work: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let task = runtime()?.spawn(AssertUnwindSafe(work).catch_unwind());
    // Dropping this future (a cancel) aborts the work.
    let mut task = AbortOnDrop(task);
    match (&mut task.0).await {
        Ok(Ok(result)) => result,
        Ok(Err(payload)) => Err(DataFusionError::External(Box::new(QueryPanicked(
            panic_message(payload.as_ref()),
        )))),
        Err(e) => Err(DataFusionError::ExecutionJoin(Box::new(e))),
    }
}

/// Runs `plan` on the query runtime once the returned stream is first polled (statements of
/// one simple query run one after another, never at the same time); its batches (and its
/// error, or its panic as an error) arrive on the stream.
pub fn execute(
    plan: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
) -> Result<SendableRecordBatchStream> {
    let schema: SchemaRef = plan.schema();
    let runtime = runtime()?;
    // EXPLAIN's text, laid out for 100 columns.
    let explains = {
        let any: &dyn std::any::Any = plan.as_ref();
        any.is::<datafusion::physical_plan::explain::ExplainExec>()
            || any.is::<datafusion::physical_plan::analyze::AnalyzeExec>()
    };
    let explain_width = crate::settings::explain_width(&context);
    let context = fresh_reads_for_writes(&plan, context);
    let start = move || {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(CHANNEL_DEPTH);
        let task = runtime.spawn(async move {
            let work = async {
                let mut batches = execute_stream(plan, context)?;
                while let Some(mut batch) = batches.next().await {
                    if explains {
                        batch = batch.and_then(|b| crate::explain::lay_out_batch(b, explain_width));
                    }
                    if sender.send(batch).await.is_err() {
                        // Nobody reads any more (cancelled, or the client left).
                        return Ok(());
                    }
                }
                Ok(())
            };
            let error = match AssertUnwindSafe(work).catch_unwind().await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(payload) => Some(DataFusionError::External(Box::new(QueryPanicked(
                    panic_message(payload.as_ref()),
                )))),
            };
            if let Some(e) = error {
                let _ = sender.send(Err(e)).await;
            }
        });
        (receiver, AbortOnDrop(task))
    };
    let batches = stream::once(async move { start() }).flat_map(|(receiver, task)| {
        stream::unfold((receiver, task), |(mut receiver, task)| async move {
            receiver.recv().await.map(|batch| (batch, (receiver, task)))
        })
    });
    Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
}

/// `context`, with the cache off when `plan` writes (INSERT/UPDATE/DELETE, a procedure):
/// the rows a write acts on are read fresh, never from answers up to `cache_ttl` old.
fn fresh_reads_for_writes(
    plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    context: std::sync::Arc<datafusion::execution::TaskContext>,
) -> std::sync::Arc<datafusion::execution::TaskContext> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    const WRITES: &[&str] = &["IntercomWriteExec", "ProcedureExec", "ProcedureApplyExec"];
    if crate::settings::cache_ttl(&context).is_none() {
        return context;
    }
    let mut writes = false;
    let _ = plan.apply(|node| {
        writes |= WRITES.contains(&node.name());
        Ok(match writes {
            true => TreeNodeRecursion::Stop,
            false => TreeNodeRecursion::Continue,
        })
    });
    if !writes {
        return context;
    }
    let mut config = context.session_config().clone();
    if let Some(options) = config
        .options_mut()
        .extensions
        .get_mut::<crate::settings::IntercomOptions>()
    {
        options.cache_ttl = std::time::Duration::ZERO;
    }
    std::sync::Arc::new(datafusion::execution::TaskContext::new(
        context.task_id(),
        context.session_id(),
        config,
        context.scalar_functions().clone(),
        context.higher_order_functions().clone(),
        context.aggregate_functions().clone(),
        context.window_functions().clone(),
        context.runtime_env(),
    ))
}

/// What a panic's payload says, on one line, as the message of the query's error.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("internal error: the query panicked ({what}); please report it")
}
