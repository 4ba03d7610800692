//! Intercom JSON objects → Arrow record batches, one builder per projected column.
//! Lenient where Intercom is inconsistent (ids sent as numbers, timestamps as ISO strings),
//! strict nowhere: a value of an unexpected shape becomes NULL rather than failing the query.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampSecondBuilder,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use serde_json::Value;

use crate::tables::{ColumnDef, ColumnType};

/// Builds one batch of `items` with the given columns (already projected) and schema.
pub fn to_batch(
    columns: &[ColumnDef],
    schema: SchemaRef,
    items: &[Value],
) -> Result<RecordBatch, ArrowError> {
    let arrays: Vec<ArrayRef> = columns.iter().map(|c| column_array(c, items)).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(items.len()));
    RecordBatch::try_new_with_options(schema, arrays, &options)
}

/// The value at a column's JSON path, or `None` when any step is missing or null.
pub fn lookup<'a>(item: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = item;
    for key in path {
        node = node.get(key.as_str())?;
    }
    (!node.is_null()).then_some(node)
}

fn column_array(column: &ColumnDef, items: &[Value]) -> ArrayRef {
    let values = items.iter().map(|item| lookup(item, &column.path));
    match column.kind {
        ColumnType::Text => {
            let mut b = StringBuilder::with_capacity(items.len(), items.len() * 16);
            for v in values {
                match v {
                    Some(Value::String(s)) => b.append_value(s),
                    Some(Value::Number(n)) => b.append_value(n.to_string()),
                    Some(Value::Bool(x)) => b.append_value(if *x { "true" } else { "false" }),
                    Some(other) => b.append_value(other.to_string()),
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ColumnType::Json => {
            let mut b = StringBuilder::with_capacity(items.len(), items.len() * 32);
            for v in values {
                match v {
                    Some(v) => b.append_value(v.to_string()),
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ColumnType::Int => {
            let mut b = Int64Builder::with_capacity(items.len());
            for v in values {
                b.append_option(v.and_then(as_i64));
            }
            Arc::new(b.finish())
        }
        ColumnType::Float => {
            let mut b = Float64Builder::with_capacity(items.len());
            for v in values {
                b.append_option(v.and_then(|v| match v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }));
            }
            Arc::new(b.finish())
        }
        ColumnType::Bool => {
            let mut b = BooleanBuilder::with_capacity(items.len());
            for v in values {
                b.append_option(v.and_then(|v| match v {
                    Value::Bool(x) => Some(*x),
                    Value::String(s) if s == "true" => Some(true),
                    Value::String(s) if s == "false" => Some(false),
                    _ => None,
                }));
            }
            Arc::new(b.finish())
        }
        ColumnType::Timestamp => {
            let mut b = TimestampSecondBuilder::with_capacity(items.len()).with_timezone("UTC");
            for v in values {
                b.append_option(v.and_then(as_epoch_seconds));
            }
            Arc::new(b.finish())
        }
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Unix seconds from an integer, a numeric string or an ISO-8601 string (conversation date
/// attributes and a few objects use ISO strings, intercom-api.md §1.4).
pub fn as_epoch_seconds(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok().or_else(|| {
            chrono::DateTime::parse_from_rfc3339(s.trim())
                .ok()
                .map(|d| d.timestamp())
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::ColumnDef as C;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Field, Int64Type, Schema, TimestampSecondType};
    use serde_json::json;

    #[test]
    fn converts_each_type_leniently() {
        let columns = vec![
            C::text("id", "d"),
            C::int("owner_id", "d"),
            C::timestamp("created_at", "d"),
            C::text("country", "d").at("location.country"),
            C::json("tags", "d"),
            C::bool("open", "d"),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| Field::new(&c.name, c.kind.data_type(), true))
                .collect::<Vec<_>>(),
        ));
        let items = vec![
            json!({"id": 12, "owner_id": "7", "created_at": 1700000000, "location": {"country": "France"}, "tags": {"data": []}, "open": true}),
            json!({"id": "abc", "owner_id": null, "created_at": "2024-01-02T03:04:05Z", "location": null, "open": "x"}),
        ];
        let batch = to_batch(&columns, schema, &items).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.column(0).as_string::<i32>().value(0), "12");
        assert_eq!(batch.column(1).as_primitive::<Int64Type>().value(0), 7);
        assert!(batch.column(1).is_null(1));
        let ts = batch.column(2).as_primitive::<TimestampSecondType>();
        assert_eq!(ts.value(0), 1_700_000_000);
        assert_eq!(ts.value(1), 1_704_164_645);
        assert_eq!(batch.column(3).as_string::<i32>().value(0), "France");
        assert!(batch.column(3).is_null(1));
        assert_eq!(
            batch.column(4).as_string::<i32>().value(0),
            r#"{"data":[]}"#
        );
        assert!(batch.column(4).is_null(1));
        assert!(batch.column(5).is_null(1));
    }

    #[test]
    fn empty_projection_keeps_the_row_count() {
        let batch = to_batch(&[], Arc::new(Schema::empty()), &[json!({}), json!({})]).unwrap();
        assert_eq!(batch.num_rows(), 2);
    }
}
