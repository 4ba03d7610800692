//! Running a write statement: read every row it acts on (refusing more than
//! `intercom.max_write_rows`), build every request (one bad row fails the statement before
//! anything is sent), then send them one at a time, in order.
//!
//! The answer is DataFusion's DML answer, one `count` row, when every row was written. When
//! some were not, the statement fails with a message that says, row by row, what was written
//! and what was not and why; rows after a failure that dooms the rest (rate limit still
//! exhausted, Intercom unreachable, token refused) are reported as not attempted.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, execute_stream,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use super::DmlError;
use super::error::external;
use super::plan::{WriteNode, statement_name};
use super::{Kind, TableWrites, Write, row_value};
use crate::client::{ApiRequest, ClientError, IntercomClient};
use crate::provider::convert::{BatchDecoder, RawRows};
use crate::settings::{max_write_rows, over_write_limit};
use crate::tables::value::to_json;
use crate::tables::write::set_path_parts;
use crate::tables::{ColumnDef, ColumnType, PARENT_KEY};

/// Executes a write statement; see the module docs.
#[derive(Debug)]
pub struct WriteExec {
    input: Arc<dyn ExecutionPlan>,
    table: String,
    kind: Kind,
    given: Vec<String>,
    json_columns: Vec<String>,
    writes: Arc<TableWrites>,
    fixed: Option<(String, String)>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    client: Arc<IntercomClient>,
    /// With RETURNING: the table's columns, which the written rows are answered with.
    returning: Option<Vec<ColumnDef>>,
}

impl WriteExec {
    /// The executable form of `node`, reading its rows from `input`.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        node: &WriteNode,
        client: Arc<IntercomClient>,
    ) -> Result<Self> {
        let schema: SchemaRef = Arc::new(node.schema.as_arrow().clone());
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Ok(Self {
            input,
            table: node.table.clone(),
            kind: node.kind,
            given: node.given.clone(),
            json_columns: node.json_columns.clone(),
            writes: node.writes.clone(),
            fixed: node.fixed.clone(),
            schema,
            properties,
            client,
            returning: node.returning.clone(),
        })
    }

    fn write(&self) -> Result<&Write> {
        self.writes.write(self.kind).ok_or_else(|| {
            DataFusionError::Internal(format!("{} has no {:?}", self.table, self.kind))
        })
    }
}

impl DisplayAs for WriteExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let endpoint = self.write().map(Write::endpoint).unwrap_or_default();
        write!(
            f,
            "IntercomWriteExec: {} [{endpoint} per row]",
            statement_name(self.kind, &self.table)
        )
    }
}

impl ExecutionPlan for WriteExec {
    fn name(&self) -> &str {
        "IntercomWriteExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("IntercomWriteExec has one child".into()))?;
        Ok(Arc::new(Self {
            input,
            table: self.table.clone(),
            kind: self.kind,
            given: self.given.clone(),
            json_columns: self.json_columns.clone(),
            writes: self.writes.clone(),
            fixed: self.fixed.clone(),
            schema: self.schema.clone(),
            properties: self.properties.clone(),
            client: self.client.clone(),
            returning: self.returning.clone(),
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "IntercomWriteExec has one partition, asked for {partition}"
            )));
        }
        let limit = max_write_rows(&context);
        let statement = WriteStatement {
            name: statement_name(self.kind, &self.table),
            table: self.table.clone(),
            kind: self.kind,
            write: self.write()?.clone(),
            fixed: self.fixed.clone(),
            key: self.writes.key,
            given: self.given.clone(),
            json_columns: self.json_columns.clone(),
            limit,
        };
        let client = self.client.clone();
        let schema = self.schema.clone();
        let input = self.input.clone();
        let returning = self.returning.clone();
        let start = async move {
            // Every INSERT/UPDATE/DELETE request is a write, which a read-only client refuses
            // (`IntercomClient::refuses`): refuse the statement before reading its rows.
            if client.config().read_only {
                return Err(external(DmlError::ReadOnly {
                    statement: statement.name,
                }));
            }
            let input = execute_stream(input, context)?;
            let rows = statement.read_rows(input).await?;
            let requests = statement.requests(&rows)?;
            let answers = statement
                .send(&client, requests, returning.is_some())
                .await?;
            match returning {
                Some(columns) => statement.returned(columns, schema, &rows, answers),
                None => {
                    let count = UInt64Array::from(vec![answers.len() as u64]);
                    RecordBatch::try_new(schema, vec![Arc::new(count)]).map_err(Into::into)
                }
            }
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream::once(start).boxed(),
        )))
    }
}

/// One row: (column, JSON value) for every column the input has.
type Row = Vec<(String, Value)>;

/// `row` as the object its table reads it from: each of `columns` at its JSON path.
fn object_of(row: &Row, columns: &[ColumnDef]) -> Value {
    let mut object = serde_json::Map::new();
    for column in columns.iter().filter(|c| c.path != [PARENT_KEY]) {
        let value = row_value(row, &column.name);
        if !value.is_null() {
            set_path_parts(&mut object, &column.path, value.clone());
        }
    }
    Value::Object(object)
}

/// Everything a running statement needs.
struct WriteStatement {
    name: String,
    /// The SQL table written to, for advice.
    table: String,
    kind: Kind,
    write: Write,
    /// INSERT into a table of one kind of object: the column that says which, and its value.
    fixed: Option<(String, String)>,
    key: &'static [&'static str],
    given: Vec<String>,
    json_columns: Vec<String>,
    limit: u64,
}

impl WriteStatement {
    /// Reads the rows to write, stopping as soon as there are more than the limit. UPDATE and
    /// DELETE act once per key (a join may repeat a row).
    async fn read_rows(&self, mut input: SendableRecordBatchStream) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        while let Some(batch) = input.try_next().await? {
            for row in self.batch_rows(&batch)? {
                if self.kind != Kind::Insert {
                    let key: Vec<String> = self
                        .key
                        .iter()
                        .map(|k| row_value(&row, k).to_string())
                        .collect();
                    if !seen.insert(key) {
                        continue;
                    }
                }
                rows.push(row);
                if over_write_limit(rows.len(), self.limit) {
                    return Err(external(DmlError::TooManyRows {
                        statement: self.name.clone(),
                        rows: rows.len(),
                        limit: self.limit,
                    }));
                }
            }
        }
        Ok(rows)
    }

    fn batch_rows(&self, batch: &RecordBatch) -> Result<Vec<Row>> {
        let schema = batch.schema();
        let mut rows: Vec<Row> = vec![Vec::with_capacity(schema.fields().len()); batch.num_rows()];
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let json = self.json_columns.contains(field.name());
            for (i, row) in rows.iter_mut().enumerate() {
                row.push((field.name().clone(), json_value(column.as_ref(), i, json)?));
            }
        }
        Ok(rows)
    }

    /// Every row's request, or the first row that cannot be written (nothing is sent then).
    fn requests(&self, rows: &[Row]) -> Result<Vec<(String, ApiRequest)>> {
        rows.iter()
            .enumerate()
            .map(|(i, row)| {
                let label = self.label(i, row);
                self.with_fixed(row)
                    .and_then(|row| self.write.request(self.kind, &row, &self.given))
                    .map(|request| (label.clone(), ApiRequest::from(request)))
                    .map_err(|m| {
                        external(DmlError::Row(format!(
                            "{}: {label}: {m}; nothing was sent",
                            self.name
                        )))
                    })
            })
            .collect()
    }

    /// `row` with the table's fixed column filled (`ticket_type_id` of `bug_report_tickets`);
    /// another value there is refused.
    fn with_fixed<'r>(&self, row: &'r Row) -> Result<Cow<'r, Row>, String> {
        let Some((column, fixed)) = &self.fixed else {
            return Ok(Cow::Borrowed(row));
        };
        match row_value(row, column) {
            Value::Null => {
                let mut row = row.clone();
                row.retain(|(c, _)| c != column);
                row.push((column.clone(), Value::String(fixed.clone())));
                Ok(Cow::Owned(row))
            }
            Value::String(s) if s == fixed => Ok(Cow::Borrowed(row)),
            Value::Number(n) if n.to_string() == *fixed => Ok(Cow::Borrowed(row)),
            other => Err(format!(
                "{column} is {fixed} in {} (got {other}); leave {column} out",
                self.table
            )),
        }
    }

    /// `row 2` for INSERT, `id 6650…` (or `contact_id …, tag_id …`) otherwise.
    fn label(&self, index: usize, row: &Row) -> String {
        if self.kind == Kind::Insert {
            return format!("row {}", index + 1);
        }
        self.key
            .iter()
            .map(|k| match row_value(row, k) {
                Value::String(s) => format!("{k} {s}"),
                other => format!("{k} {other}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The rows written, in `columns` (the table's), for RETURNING: Intercom's answer for
    /// INSERT and UPDATE (with the parent key of a child table's row), the row as read for
    /// DELETE. See [`super::returning`].
    fn returned(
        &self,
        columns: Vec<ColumnDef>,
        schema: SchemaRef,
        rows: &[Row],
        answers: Vec<Value>,
    ) -> Result<RecordBatch> {
        let parent = columns
            .iter()
            .find(|c| c.path == [PARENT_KEY])
            .map(|c| c.name.clone());
        let chunks = rows
            .iter()
            .zip(answers)
            .map(|(row, answer)| {
                let object = match (self.kind, answer) {
                    (Kind::Insert | Kind::Update, answer @ Value::Object(_)) => answer,
                    _ => object_of(row, &columns),
                };
                let parent = parent.as_deref().and_then(|p| match row_value(row, p) {
                    Value::Null => None,
                    Value::String(s) => Some(Arc::<str>::from(s.as_str())),
                    other => Some(Arc::<str>::from(other.to_string())),
                });
                let body = serde_json::to_vec(&object)
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                let len = body.len();
                RawRows::new(body.into(), std::iter::once(0..len).collect(), parent)
                    .map_err(DataFusionError::from)
            })
            .collect::<Result<Vec<_>>>()?;
        let decoded = BatchDecoder::new(columns, schema.clone()).decode(&chunks)?;
        // The plan's schema names the same columns; take its field names and nullability.
        RecordBatch::try_new(schema, decoded.columns().to_vec()).map_err(Into::into)
    }

    /// Sends the requests in order; Intercom's answer to each, or an error listing every row.
    /// With `returning`, a write answered by something else than its object reads the object
    /// back (see `Write::read_back`).
    async fn send(
        &self,
        client: &IntercomClient,
        requests: Vec<(String, ApiRequest)>,
        returning: bool,
    ) -> Result<Vec<Value>> {
        let total = requests.len();
        let mut answers = Vec::with_capacity(total);
        let mut report = Report::default();
        for (label, request) in requests {
            if report.stopped_after.is_some() {
                report.skipped.push(label);
                continue;
            }
            match client.send(&request).await {
                Ok(response) => {
                    let id = self.write.written_id(&response);
                    report.done.push(match (self.kind, &id) {
                        (Kind::Insert, Some(id)) => format!("{label} (id {id})"),
                        _ => label,
                    });
                    let response = match (self.write.read_back, id, returning) {
                        (Some(path), Some(id), true) => {
                            read_back(client, path, &response, id).await
                        }
                        _ => response,
                    };
                    answers.push(response);
                }
                Err(e) => {
                    if e.dooms_following_requests() {
                        report.stopped_after = Some(label.clone());
                    }
                    report.failed.push((label, e));
                }
            }
        }
        if report.failed.is_empty() {
            return Ok(answers);
        }
        let message = report.message(&self.name, &self.table, self.kind, total);
        Err(external(DmlError::Partial(message)))
    }
}

/// The object a write created, read from `path` (placeholders filled from Intercom's
/// `answer`). The write is done whatever happens here: if the read fails, the row returned
/// has the object's `id` alone.
async fn read_back(client: &IntercomClient, path: &str, answer: &Value, id: String) -> Value {
    let filled = crate::tables::path::fill_path(path, |field| {
        let text = match answer.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        crate::tables::path::path_segment(&text).ok_or(())
    });
    let read = match filled {
        Ok(path) => client.send(&ApiRequest::get(path)).await.ok(),
        Err(()) => None,
    };
    read.filter(Value::is_object)
        .unwrap_or_else(|| serde_json::json!({ "id": id }))
}

/// What happened to the rows of a statement that did not write them all.
#[derive(Debug, Default)]
struct Report {
    /// Rows written (`row 1 (id …)`, `id …`).
    done: Vec<String>,
    /// Rows whose request failed, with the error.
    failed: Vec<(String, ClientError)>,
    /// Rows not sent because an earlier failure doomed them.
    skipped: Vec<String>,
    /// The row whose failure stopped the statement.
    stopped_after: Option<String>,
}

impl Report {
    /// One line: counts, every failed row with its error, the rows written, the rows not
    /// attempted, then each piece of advice once. Rows whose request was sent but not
    /// confirmed may have been written: the message says so and how to check, since
    /// running the statement again could write them twice.
    fn message(&self, name: &str, table: &str, kind: Kind, total: usize) -> String {
        let past = kind.past();
        let mut message = format!(
            "{name}: {} of {total} rows {past}, {} failed",
            self.done.len(),
            self.failed.len()
        );
        if !self.skipped.is_empty() {
            message.push_str(&format!(", {} not attempted", self.skipped.len()));
        }
        let failed: Vec<String> = self
            .failed
            .iter()
            .map(|(label, e)| format!("{label}: {}", e.summary()))
            .collect();
        message.push_str(&format!(". Failed: {}", listing(&failed)));
        if !self.done.is_empty() {
            message.push_str(&format!(". {}: {}", capitalised(past), listing(&self.done)));
        }
        if let Some(label) = &self.stopped_after
            && !self.skipped.is_empty()
        {
            message.push_str(&format!(
                ". Not attempted (stopped after the failure of {label}): {}",
                listing(&self.skipped)
            ));
        }
        message.push('.');
        let unconfirmed: Vec<String> = self
            .failed
            .iter()
            .filter(|(_, e)| e.may_have_been_applied())
            .map(|(label, _)| label.clone())
            .collect();
        if !unconfirmed.is_empty() {
            let (requests, were, they) = if unconfirmed.len() == 1 {
                ("request", "was", "it")
            } else {
                ("requests", "were", "they")
            };
            message.push_str(&format!(
                " The {requests} for {} {were} sent and may have been applied: check with SELECT … FROM {table} before retrying, or {they} may be {past} twice.",
                listing(&unconfirmed)
            ));
        }
        let mut advice: Vec<&str> = Vec::new();
        for (_, e) in &self.failed {
            if let Some(text) = e.advice()
                && !e.may_have_been_applied()
                && !advice.contains(&text)
            {
                advice.push(text);
            }
        }
        for text in advice {
            message.push(' ');
            message.push_str(text);
        }
        message
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// At most 20 entries, then how many more.
fn listing(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > SHOWN {
        text.push_str(&format!("; and {} more", items.len() - SHOWN));
    }
    text
}

/// The JSON value of row `i` of `column`, by the one SQL → JSON conversion
/// ([`crate::tables::value::to_json`], timestamps as Unix seconds). A JSON column's text is
/// parsed, and kept as text when it is not JSON (a ticket's `contacts` may be one plain id).
fn json_value(column: &dyn Array, i: usize, json_text: bool) -> Result<Value> {
    if column.is_null(i) {
        return Ok(Value::Null);
    }
    let scalar = datafusion::common::ScalarValue::try_from_array(column, i)?;
    let ty = match ColumnType::of(column.data_type()) {
        ColumnType::Text | ColumnType::Json => ColumnType::Text,
        other => other,
    };
    let value = to_json(ty, &scalar).unwrap_or_else(|_| Value::String(scalar.to_string()));
    Ok(match value {
        Value::String(text) if json_text => {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ApiError;

    fn lost(unconfirmed_write: bool) -> ClientError {
        ClientError::Transport {
            base_url: "http://127.0.0.1:1".into(),
            request: "POST /contacts".into(),
            reason: "the connection closed without a response".into(),
            unconfirmed_write,
        }
    }

    fn server_error(request: &str, unconfirmed_write: bool) -> ClientError {
        let mut api = ApiError::from_body(500, request.into(), b"");
        api.unconfirmed_write = unconfirmed_write;
        ClientError::Api(Box::new(api))
    }

    #[test]
    fn an_insert_lost_after_sending_says_once_that_it_may_have_been_applied() {
        let report = Report {
            failed: vec![("row 1".into(), lost(true))],
            stopped_after: Some("row 1".into()),
            ..Report::default()
        };
        assert_eq!(
            report.message("INSERT INTO contacts", "contacts", Kind::Insert, 1),
            "INSERT INTO contacts: 0 of 1 rows inserted, 1 failed. Failed: row 1: no answer from \
             Intercom at http://127.0.0.1:1 (POST /contacts): the connection closed without a \
             response. The request for row 1 was sent and may have been applied: check with \
             SELECT … FROM contacts before retrying, or it may be inserted twice."
        );
    }

    #[test]
    fn every_row_is_accounted_for_and_each_advice_given_once() {
        let report = Report {
            done: vec!["row 1 (id c1)".into()],
            failed: vec![
                ("row 2".into(), server_error("POST /contacts", true)),
                ("row 3".into(), lost(true)),
            ],
            skipped: vec!["row 4".into()],
            stopped_after: Some("row 3".into()),
        };
        let text = report.message("INSERT INTO contacts", "contacts", Kind::Insert, 4);
        assert_eq!(
            text,
            "INSERT INTO contacts: 1 of 4 rows inserted, 2 failed, 1 not attempted. Failed: row 2: \
             Intercom API 500 server_error: no error details in the response [POST /contacts]; \
             row 3: no answer from Intercom at http://127.0.0.1:1 (POST /contacts): the \
             connection closed without a response. Inserted: row 1 (id c1). Not attempted \
             (stopped after the failure of row 3): row 4. The requests for row 2; row 3 were \
             sent and may have been applied: check with SELECT … FROM contacts before retrying, \
             or they may be inserted twice."
        );
        assert!(!text.contains(".."), "{text}");
        assert!(!text.contains("retry later"), "{text}");
    }

    #[test]
    fn repeatable_writes_keep_their_advice() {
        let report = Report {
            failed: vec![
                ("id a".into(), server_error("PUT /contacts/a", false)),
                ("id b".into(), server_error("PUT /contacts/b", false)),
            ],
            ..Report::default()
        };
        let text = report.message("UPDATE contacts", "contacts", Kind::Update, 2);
        assert!(
            text.ends_with("[PUT /contacts/b]. Intercom had a server error; retry later."),
            "{text}"
        );
        assert_eq!(text.matches("retry later").count(), 1, "{text}");
        assert!(!text.contains("may have been applied"), "{text}");

        let report = Report {
            failed: vec![("id a".into(), lost(false))],
            stopped_after: Some("id a".into()),
            ..Report::default()
        };
        let text = report.message("DELETE FROM contacts", "contacts", Kind::Delete, 1);
        assert!(
            text.ends_with("response. Check the network, --region or --base-url."),
            "{text}"
        );
        assert!(!text.contains("Not attempted"), "{text}");
    }
}

/// Plans [`WriteNode`]s, each through the client of the table it writes.
#[derive(Debug)]
pub struct WritePlanner;

#[async_trait]
impl ExtensionPlanner for WritePlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(write) = node.as_any().downcast_ref::<WriteNode>() else {
            return Ok(None);
        };
        let input = physical_inputs
            .first()
            .cloned()
            .ok_or_else(|| DataFusionError::Internal("IntercomWrite without input".into()))?;
        Ok(Some(Arc::new(WriteExec::new(
            input,
            write,
            write.client.0.clone(),
        )?)))
    }
}
