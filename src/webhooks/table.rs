//! `webhook_events`: the notifications received, read from the store. `topic = '…'` and
//! bounds on `created_at` are read through the store's indexes; everything else is filtered
//! by the engine.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};

use super::store::{Filter, Row, Store};

/// The table's name.
pub const TABLE_NAME: &str = "webhook_events";

/// Rows per batch read from the store.
const BATCH_ROWS: usize = 1024;

/// The table's columns and what each holds (shown by `\d webhook_events` and the docs).
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "id",
        "Intercom's notification id (deliveries of one notification share it)",
    ),
    (
        "topic",
        "What happened: contact.user.created, conversation.admin.replied, …",
    ),
    ("app_id", "The workspace the notification comes from"),
    ("created_at", "When Intercom created the notification"),
    ("received_at", "When this server first received it"),
    ("first_sent_at", "When Intercom first tried to deliver it"),
    (
        "delivery_attempts",
        "Intercom's count of attempts at delivering it, as last received",
    ),
    (
        "deliveries",
        "How many deliveries of it this server received (retries and duplicates)",
    ),
    (
        "item_type",
        "The type of the object it is about (data.item.type)",
    ),
    ("item_id", "That object's id (data.item.id)"),
    (
        "payload",
        "The notification as received (JSON text; read it with json_get_str and friends)",
    ),
];

/// The table over one store.
pub struct WebhookEvents {
    store: Arc<Store>,
    schema: SchemaRef,
}

impl std::fmt::Debug for WebhookEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEvents")
            .field("store", &self.store.path())
            .finish()
    }
}

impl WebhookEvents {
    pub fn new(store: Arc<Store>) -> Self {
        let time = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = Arc::new(Schema::new(
            COLUMNS
                .iter()
                .map(|(name, _)| {
                    let (data_type, nullable) = match *name {
                        "id" | "topic" | "payload" => (DataType::Utf8, false),
                        "received_at" => (time(), false),
                        "deliveries" => (DataType::Int64, false),
                        "created_at" | "first_sent_at" => (time(), true),
                        "delivery_attempts" => (DataType::Int64, true),
                        _ => (DataType::Utf8, true),
                    };
                    Field::new(*name, data_type, nullable)
                })
                .collect::<Vec<_>>(),
        ));
        Self { store, schema }
    }
}

#[async_trait]
impl TableProvider for WebhookEvents {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                let mut probe = Filter::default();
                match read_filter(f, &mut probe) {
                    Some(true) => TableProviderFilterPushDown::Exact,
                    Some(false) => TableProviderFilterPushDown::Inexact,
                    None => TableProviderFilterPushDown::Unsupported,
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut filter = Filter::default();
        let mut exact = true;
        for f in filters {
            match read_filter(f, &mut filter) {
                Some(e) => exact &= e,
                None => exact = false,
            }
        }
        // The limit reaches the store only when the store applies every filter exactly.
        filter.limit = limit.filter(|_| exact);
        let partition: Arc<dyn PartitionStream> = Arc::new(Partition {
            store: self.store.clone(),
            schema: self.schema.clone(),
            filter,
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            self.schema.clone(),
            vec![partition],
            projection,
            None,
            false,
            limit,
        )?))
    }
}

/// Adds what `expr` says to `filter`: `Some(true)` when the store applies it exactly,
/// `Some(false)` when it narrows the read but the engine must check it, `None` when unused.
fn read_filter(expr: &Expr, filter: &mut Filter) -> Option<bool> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = expr else {
        return None;
    };
    let (column, op, value) = match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), Expr::Literal(v, _)) => (c.name.as_str(), *op, v),
        (Expr::Literal(v, _), Expr::Column(c)) => (c.name.as_str(), op.swap()?, v),
        _ => return None,
    };
    match (column, op, value) {
        ("topic", Operator::Eq, ScalarValue::Utf8(Some(t)) | ScalarValue::Utf8View(Some(t))) => {
            filter.topic = Some(t.clone());
            Some(true)
        }
        ("created_at", op, ScalarValue::TimestampMicrosecond(Some(us), _)) => {
            // Whole seconds in the store: widen to the seconds around the bound.
            let floor = us.div_euclid(1_000_000);
            let ceil = floor + i64::from(us.rem_euclid(1_000_000) != 0);
            match op {
                Operator::Gt | Operator::GtEq => {
                    filter.created_from = Some(filter.created_from.map_or(floor, |f| f.max(floor)));
                }
                Operator::Lt | Operator::LtEq => {
                    filter.created_to = Some(filter.created_to.map_or(ceil, |t| t.min(ceil)));
                }
                Operator::Eq => {
                    filter.created_from = Some(floor);
                    filter.created_to = Some(ceil);
                }
                _ => return None,
            }
            Some(false)
        }
        _ => None,
    }
}

/// One read of the store.
struct Partition {
    store: Arc<Store>,
    schema: SchemaRef,
    filter: Filter,
}

impl std::fmt::Debug for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("webhook_events")
            .field("filter", &self.filter)
            .finish()
    }
}

impl PartitionStream for Partition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
        let store = self.store.clone();
        let schema = self.schema.clone();
        let filter = self.filter.clone();
        tokio::task::spawn_blocking(move || {
            let sent = store.read(&filter, BATCH_ROWS, |rows| {
                let batch = to_batch(&schema, rows);
                tx.blocking_send(batch).is_ok()
            });
            if let Err(e) = sent {
                let _ = tx.blocking_send(Err(DataFusionError::External(Box::new(e))));
            }
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

fn to_batch(schema: &SchemaRef, rows: Vec<Row>) -> Result<RecordBatch> {
    let n = rows.len();
    let text = |f: &dyn Fn(&Row) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::with_capacity(n, n * 16);
        for row in &rows {
            b.append_option(f(row));
        }
        Arc::new(b.finish())
    };
    let int = |f: &dyn Fn(&Row) -> Option<i64>| -> ArrayRef {
        let mut b = Int64Builder::with_capacity(n);
        for row in &rows {
            b.append_option(f(row));
        }
        Arc::new(b.finish())
    };
    let time = |f: &dyn Fn(&Row) -> Option<i64>| -> ArrayRef {
        let mut b = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
        for row in &rows {
            b.append_option(f(row));
        }
        Arc::new(b.finish())
    };
    let seconds = |s: Option<i64>| s.and_then(|s| s.checked_mul(1_000_000));
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| match field.name().as_str() {
            "id" => text(&|r| Some(r.notification.id.as_str())),
            "topic" => text(&|r| Some(r.notification.topic.as_str())),
            "app_id" => text(&|r| r.notification.app_id.as_deref()),
            "created_at" => time(&|r| seconds(r.notification.created_at)),
            "received_at" => time(&|r| Some(r.received_at)),
            "first_sent_at" => time(&|r| seconds(r.notification.first_sent_at)),
            "delivery_attempts" => int(&|r| r.notification.delivery_attempts),
            "deliveries" => int(&|r| Some(r.deliveries)),
            "item_type" => text(&|r| r.notification.item_type.as_deref()),
            "item_id" => text(&|r| r.notification.item_id.as_deref()),
            _ => text(&|r| Some(r.notification.payload.as_str())),
        })
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
