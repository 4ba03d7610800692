//! Where queries run: a runtime of their own, apart from the one serving connections.
//!
//! A CPU-bound query (a large cross join, a big aggregate) can keep a DataFusion stream busy
//! inside one poll for seconds: operators fed from memory never yield. Run on the connection's
//! runtime, such a query kept the connection task from seeing its cancel request until the
//! query had finished. Here each query's plan runs on the `intercom-sql-query` runtime and
//! hands its batches over a small channel; the connection task only waits on that channel, so
//! a cancel (or a client going away) ends the query's stream at once, and dropping the stream
//! aborts the query's task. A panic inside the query becomes an error on the stream.

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

/// Batches in flight between a query and its connection.
const CHANNEL_DEPTH: usize = 2;

fn runtime() -> Result<&'static Runtime> {
    static QUERIES: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    QUERIES
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .thread_name("intercom-sql-query")
                // Deep plans recurse; as for the server's own workers.
                .thread_stack_size(32 * 1024 * 1024)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| DataFusionError::Execution(format!("cannot start the query runtime: {e}")))
}

/// Aborts the query's task when the stream reading it is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `plan` on the query runtime; its batches (and its error, or its panic as an error)
/// arrive on the returned stream.
pub fn execute(
    plan: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
) -> Result<SendableRecordBatchStream> {
    let schema: SchemaRef = plan.schema();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(CHANNEL_DEPTH);
    let task = runtime()?.spawn(async move {
        let work = async {
            let mut batches = execute_stream(plan, context)?;
            while let Some(batch) = batches.next().await {
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
            Err(payload) => {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_string());
                Some(DataFusionError::Internal(format!(
                    "the query panicked ({}); please report it",
                    what.split_whitespace().collect::<Vec<_>>().join(" ")
                )))
            }
        };
        if let Some(e) = error {
            let _ = sender.send(Err(e)).await;
        }
    });
    let batches = stream::unfold(
        (receiver, AbortOnDrop(task)),
        |(mut receiver, task)| async move {
            receiver.recv().await.map(|batch| (batch, (receiver, task)))
        },
    );
    Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
}
