//! The physical side of procedures. [`ProcedureExec`] makes one call; [`ProcedureApplyExec`]
//! makes one call per input row (bulk). Nothing is sent before `execute` is polled, and every
//! argument is bound and checked before the first request.
//!
//! A bulk call first reads all its input, refuses more rows than `intercom.max_write_rows`,
//! binds every row (one bad row fails the statement before anything is sent), then calls row
//! by row, in order, one at a time. A row whose request fails gets `ok = false` and the
//! reason in `error`; the others go on — unless the failure means every following request
//! would fail too (rate limit still exhausted, Intercom unreachable, token refused): the rest
//! are then reported as not attempted. Nothing is skipped silently.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, RecordBatch, RecordBatchOptions, StringBuilder,
};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, Partitioning, PlanProperties,
    execute_stream,
};
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use super::bind::bind_values;
use super::external;
use super::run::{Outcome, build_request, column_values, is_raw, run};
use super::{Args, ColumnType, Procedure, ProcedureError};
use crate::client::IntercomClient;
use crate::settings::{max_write_rows, over_write_limit};
use crate::tables::value::ColumnBuilder;

/// Whether the client refuses this call's request (see [`IntercomClient::refuses`]); a call
/// whose arguments make no request is left to fail on them.
fn refused(client: &IntercomClient, procedure: &Procedure, args: &Args) -> bool {
    build_request(procedure, args).is_ok_and(|request| client.refuses(&request))
}

/// Whether every call of `procedure` writes, whatever its arguments (all but `intercom_api`,
/// whose method is an argument).
fn always_writes(procedure: &Procedure) -> bool {
    !is_raw(procedure) && procedure.method != "GET"
}

fn read_only_error(procedure: &'static Procedure) -> DataFusionError {
    external(ProcedureError::ReadOnly {
        procedure: procedure.name,
    })
}

/// What one call produced, for one output row.
struct RowResult {
    values: Vec<Value>,
    ok: bool,
    error: Option<String>,
    response: Option<String>,
}

impl RowResult {
    fn success(procedure: &Procedure, args: &Args, outcome: &Outcome) -> Self {
        let failed = is_raw(procedure) && outcome.status >= 400;
        Self {
            values: column_values(procedure, args, Some(outcome)),
            ok: !failed,
            error: failed.then(|| raw_error(args, outcome)),
            response: (!outcome.response.is_null()).then(|| outcome.response.to_string()),
        }
    }

    fn failure(procedure: &Procedure, args: &Args, message: String) -> Self {
        Self {
            values: column_values(procedure, args, None),
            ok: false,
            error: Some(message),
            response: None,
        }
    }
}

/// `HTTP 404 not_found: User Not Found`, from an `error.list` body when there is one. After a
/// 5xx or 408 to a raw write (never repeated), it adds that the request may have been applied.
fn raw_error(args: &Args, outcome: &Outcome) -> String {
    let first = &outcome.response["errors"][0];
    let mut text = match (first["code"].as_str(), first["message"].as_str()) {
        (Some(code), Some(message)) => format!("HTTP {} {code}: {message}", outcome.status),
        (Some(code), None) => format!("HTTP {} {code}", outcome.status),
        _ => format!("HTTP {}", outcome.status),
    };
    let write = args.text("method").is_some_and(|m| m != "GET");
    if write && (outcome.status == 408 || outcome.status >= 500) {
        text.push_str(
            "; the request was sent and may have been applied: check with a SELECT before retrying it",
        );
    }
    text
}

/// Builds the result columns (procedure columns, then `ok`/`error` when `bulk`, then
/// `response`) for `rows`.
fn result_arrays(procedure: &Procedure, bulk: bool, rows: &[RowResult]) -> Vec<ArrayRef> {
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, column) in procedure.columns.iter().enumerate() {
        let values = rows.iter().map(|r| &r.values[i]);
        arrays.push(typed_array(column.ty, values));
    }
    if bulk {
        let mut ok = BooleanBuilder::new();
        let mut error = StringBuilder::new();
        for row in rows {
            ok.append_value(row.ok);
            error.append_option(row.error.as_deref());
        }
        arrays.push(Arc::new(ok.finish()));
        arrays.push(Arc::new(error.finish()));
    }
    let mut response = StringBuilder::new();
    for row in rows {
        response.append_option(row.response.as_deref());
    }
    arrays.push(Arc::new(response.finish()));
    arrays
}

/// JSON values as an Arrow array of the column's type, built like a scan's columns
/// ([`ColumnBuilder`]); values of another shape become NULL.
fn typed_array<'a>(ty: ColumnType, values: impl Iterator<Item = &'a Value>) -> ArrayRef {
    let values: Vec<&Value> = values.collect();
    let mut builder = ColumnBuilder::new(ty, values.len());
    for value in values {
        match value {
            Value::Null => builder.append_null(),
            other => builder.append_raw(&other.to_string()),
        }
    }
    builder.finish()
}

/// Evaluates argument expressions that need no input row.
fn constant_args(args: &[Arc<dyn PhysicalExpr>]) -> Result<Vec<ScalarValue>> {
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    args.iter()
        .map(|e| match e.evaluate(&one_row)? {
            ColumnarValue::Scalar(value) => Ok(value),
            ColumnarValue::Array(array) => ScalarValue::try_from_array(&array, 0),
        })
        .collect()
}

/// Evaluates argument expressions for every row of `batch`: `rows[row][param]`.
fn row_args(args: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<Vec<ScalarValue>>> {
    let columns = args
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect::<Result<Vec<_>>>()?;
    (0..batch.num_rows())
        .map(|row| {
            columns
                .iter()
                .map(|c| ScalarValue::try_from_array(c, row))
                .collect()
        })
        .collect()
}

fn properties(schema: &SchemaRef) -> Arc<PlanProperties> {
    Arc::new(PlanProperties::new(
        EquivalenceProperties::new(schema.clone()),
        Partitioning::UnknownPartitioning(1),
        EmissionType::Incremental,
        Boundedness::Bounded,
    ))
}

/// The one child of a one-child plan node (`with_new_children`).
pub(crate) fn only_child(
    mut children: Vec<Arc<dyn ExecutionPlan>>,
    node: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    children
        .pop()
        .filter(|_| children.is_empty())
        .ok_or_else(|| DataFusionError::Internal(format!("{node} has one child")))
}

fn visit_all(
    exprs: &[Arc<dyn PhysicalExpr>],
    f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
) -> Result<TreeNodeRecursion> {
    for expr in exprs {
        if f(expr)? == TreeNodeRecursion::Stop {
            return Ok(TreeNodeRecursion::Stop);
        }
    }
    Ok(TreeNodeRecursion::Continue)
}

/// One procedure call with constant arguments: one row.
#[derive(Debug)]
pub struct ProcedureExec {
    procedure: &'static Procedure,
    args: Vec<Arc<dyn PhysicalExpr>>,
    /// Full result schema (before projection).
    full_schema: SchemaRef,
    projection: Option<Vec<usize>>,
    schema: SchemaRef,
    client: Arc<IntercomClient>,
    properties: Arc<PlanProperties>,
}

impl ProcedureExec {
    /// A call of `procedure` whose result has `schema` (from `super::plan::result_fields`).
    pub fn new(
        procedure: &'static Procedure,
        args: Vec<Arc<dyn PhysicalExpr>>,
        schema: SchemaRef,
        client: Arc<IntercomClient>,
    ) -> Self {
        Self {
            procedure,
            args,
            full_schema: schema.clone(),
            projection: None,
            properties: properties(&schema),
            schema,
            client,
        }
    }

    /// Only these result columns.
    pub fn with_projection(mut self, columns: Vec<usize>) -> Result<Self> {
        let schema = Arc::new(self.full_schema.project(&columns)?);
        self.properties = properties(&schema);
        self.schema = schema;
        self.projection = Some(columns);
        Ok(self)
    }

    async fn call(
        procedure: &'static Procedure,
        values: Vec<ScalarValue>,
        client: Arc<IntercomClient>,
        schema: SchemaRef,
        projection: Option<Vec<usize>>,
    ) -> Result<RecordBatch> {
        let args = bind_values(procedure, &values).map_err(external)?;
        if refused(&client, procedure, &args) {
            return Err(read_only_error(procedure));
        }
        let (args, outcome) = run(procedure, args, &client).await.map_err(external)?;
        let bulk = schema.field_with_name(super::OK).is_ok();
        let row = RowResult::success(procedure, &args, &outcome);
        let batch = RecordBatch::try_new(schema, result_arrays(procedure, bulk, &[row]))?;
        match projection {
            Some(columns) => Ok(batch.project(&columns)?),
            None => Ok(batch),
        }
    }
}

impl DisplayAs for ProcedureExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ProcedureExec: {} [{}]",
            self.procedure.name,
            self.procedure.endpoint()
        )
    }
}

impl ExecutionPlan for ProcedureExec {
    fn name(&self) -> &str {
        "ProcedureExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        visit_all(&self.args, f)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal(
                "ProcedureExec has no children".into(),
            ))
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "ProcedureExec has one partition, asked for {partition}"
            )));
        }
        let values = constant_args(&self.args)?;
        let call = Self::call(
            self.procedure,
            values,
            self.client.clone(),
            self.full_schema.clone(),
            self.projection.clone(),
        );
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream::once(call),
        )))
    }
}

/// A bulk call: the procedure once per input row; see the module docs.
#[derive(Debug)]
pub struct ProcedureApplyExec {
    input: Arc<dyn ExecutionPlan>,
    procedure: &'static Procedure,
    args: Vec<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
    client: Arc<IntercomClient>,
    properties: Arc<PlanProperties>,
}

impl ProcedureApplyExec {
    /// Calls `procedure` for each row of `input`; `schema` is the input's plus the results.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        procedure: &'static Procedure,
        args: Vec<Arc<dyn PhysicalExpr>>,
        schema: SchemaRef,
        client: Arc<IntercomClient>,
    ) -> Self {
        Self {
            input,
            procedure,
            args,
            properties: properties(&schema),
            schema,
            client,
        }
    }
}

impl DisplayAs for ProcedureApplyExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ProcedureApplyExec: {} for each input row [{}]",
            self.procedure.name,
            self.procedure.endpoint()
        )
    }
}

/// State of a running bulk call.
struct Bulk {
    procedure: &'static Procedure,
    client: Arc<IntercomClient>,
    schema: SchemaRef,
    /// Input batches with each row's bound arguments, still to run.
    pending: std::vec::IntoIter<(RecordBatch, Vec<Args>)>,
    /// Set once a failure stops the remaining rows.
    stopped: Option<String>,
}

impl Bulk {
    async fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        let (batch, rows) = self.pending.next()?;
        let mut results = Vec::with_capacity(rows.len());
        for args in rows {
            if let Some(reason) = &self.stopped {
                results.push(RowResult::failure(
                    self.procedure,
                    &args,
                    format!("not attempted: stopped after an earlier row failed ({reason})"),
                ));
                continue;
            }
            match run(self.procedure, args.clone(), &self.client).await {
                Ok((args, outcome)) => {
                    results.push(RowResult::success(self.procedure, &args, &outcome))
                }
                Err(e) => {
                    let message = e.to_string();
                    if e.stops_bulk() {
                        self.stopped = Some(message.clone());
                    }
                    results.push(RowResult::failure(self.procedure, &args, message));
                }
            }
        }
        let mut columns = batch.columns().to_vec();
        columns.extend(result_arrays(self.procedure, true, &results));
        Some(RecordBatch::try_new(self.schema.clone(), columns).map_err(Into::into))
    }
}

impl ExecutionPlan for ProcedureApplyExec {
    fn name(&self) -> &str {
        "ProcedureApplyExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        visit_all(&self.args, f)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = only_child(children, "ProcedureApplyExec")?;
        Ok(Arc::new(Self::new(
            input,
            self.procedure,
            self.args.clone(),
            self.schema.clone(),
            self.client.clone(),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "ProcedureApplyExec has one partition, asked for {partition}"
            )));
        }
        let procedure = self.procedure;
        let client = self.client.clone();
        let schema = self.schema.clone();
        let args = self.args.clone();
        let limit = max_write_rows(&context);
        let input = execute_stream(self.input.clone(), context)?;
        let start = async move {
            if client.config().read_only && always_writes(procedure) {
                return Err(read_only_error(procedure));
            }
            // Stop reading as soon as the limit is passed: no point paging through a whole
            // workspace to refuse.
            let mut batches = Vec::new();
            let mut rows = 0usize;
            let mut input = input;
            while let Some(batch) = input.try_next().await? {
                rows += batch.num_rows();
                if over_write_limit(rows, limit) {
                    return Err(external(ProcedureError::TooManyRows {
                        procedure: procedure.name,
                        rows,
                        limit,
                    }));
                }
                batches.push(batch);
            }
            // Bind every row before the first request.
            let mut pending = Vec::with_capacity(batches.len());
            let mut row_number = 0;
            for batch in batches {
                let mut bound = Vec::with_capacity(batch.num_rows());
                for values in row_args(&args, &batch)? {
                    row_number += 1;
                    let bound_row = bind_values(procedure, &values).map_err(|e| {
                        external(ProcedureError::Arguments(format!(
                            "row {row_number}: {e}; nothing was sent"
                        )))
                    })?;
                    if refused(&client, procedure, &bound_row) {
                        return Err(read_only_error(procedure));
                    }
                    bound.push(bound_row);
                }
                pending.push((batch, bound));
            }
            let bulk = Bulk {
                procedure,
                client,
                schema,
                pending: pending.into_iter(),
                stopped: None,
            };
            Ok(stream::unfold(bulk, |mut bulk| async move {
                bulk.next_batch().await.map(|batch| (batch, bulk))
            }))
        };
        let batches = stream::once(start).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            batches.boxed(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_writes_failing_with_a_server_error_say_they_may_have_been_applied() {
        let outcome = Outcome {
            status: 500,
            response: json!({"type": "error.list", "errors": [{"code": "server_error", "message": "Server error"}]}),
        };
        let post = Args::from_pairs(&[("method", json!("POST"))]);
        assert_eq!(
            raw_error(&post, &outcome),
            "HTTP 500 server_error: Server error; the request was sent and may have been applied: check with a SELECT before retrying it"
        );
        let get = Args::from_pairs(&[("method", json!("GET"))]);
        assert_eq!(
            raw_error(&get, &outcome),
            "HTTP 500 server_error: Server error"
        );
        let refused = Outcome {
            status: 422,
            ..outcome
        };
        assert_eq!(
            raw_error(&post, &refused),
            "HTTP 422 server_error: Server error"
        );
    }
}
