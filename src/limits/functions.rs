//! A cap on what one call of a scalar function may allocate.
//!
//! Most functions return about as much as they are given, which the query already holds. A
//! few multiply it by a number the query chooses: `repeat('x', 3000000000)` asks for 3 GB in
//! one call, `range(1, 10000000000)` for 80 GB, and no memory pool sees it, since a function
//! call reserves nothing. Those functions are wrapped here: before the call, the wrapper
//! works out from the arguments how many bytes the result can take, and past the limit
//! ([`super::Limits::max_function_bytes`], the per-query memory budget) the call fails with
//! SQLSTATE 53200 instead of allocating. The estimates are upper bounds, so a call that passes
//! never allocates more.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::kernels::length::length;
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type, IntervalUnit, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};
use datafusion::prelude::SessionContext;

use super::human_bytes;

/// How a function's result size follows from its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Growth {
    /// `repeat(text, n)`: `len(text) × n`.
    Repeat,
    /// `lpad/rpad(text, n [, fill])`: `n` characters of up to 4 bytes.
    Pad,
    /// `replace(text, from, to)`: every `from` may become `to`.
    Replace,
    /// `regexp_replace(text, pattern, replacement [, flags])`: with `g`, every position may.
    RegexpReplace,
    /// `array_repeat(element, n)`: `n` elements.
    ArrayRepeat,
    /// `array_resize(array, n [, value])`: `n` elements.
    ArrayResize,
    /// `range/generate_series([start,] stop [, step])`: `(stop - start) / step` elements.
    Range,
}

/// The wrapped functions, by the name DataFusion registers them under.
const CAPPED: &[(&str, Growth)] = &[
    ("repeat", Growth::Repeat),
    ("lpad", Growth::Pad),
    ("rpad", Growth::Pad),
    ("replace", Growth::Replace),
    ("regexp_replace", Growth::RegexpReplace),
    ("array_repeat", Growth::ArrayRepeat),
    ("array_resize", Growth::ArrayResize),
    ("range", Growth::Range),
    ("generate_series", Growth::Range),
];

/// Bytes counted per element of a list result (an offset and a value, at least).
const ELEMENT_BYTES: u128 = 16;

/// Replaces the session's amplifying functions with capped ones.
pub fn register(ctx: &SessionContext, max_bytes: usize) {
    let state = ctx.state();
    for (name, growth) in CAPPED {
        if let Some(inner) = state.scalar_functions().get(*name) {
            let capped = Capped {
                inner: inner.clone(),
                growth: *growth,
                max_bytes,
            };
            ctx.register_udf(ScalarUDF::new_from_impl(capped));
        }
    }
}

/// A function whose calls are refused past `max_bytes`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Capped {
    inner: Arc<ScalarUDF>,
    growth: Growth,
    max_bytes: usize,
}

impl ScalarUDFImpl for Capped {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.growth == Growth::Pad && has_negative(args.args.get(1), args.number_rows) {
            // DataFusion 55's lpad/rpad panic ("capacity overflow") on a negative length.
            return Err(DataFusionError::Execution(format!(
                "{}: the length must not be negative",
                self.inner.name()
            )));
        }
        let bytes = estimate(self.growth, &args.args, args.number_rows);
        if bytes > self.max_bytes as u128 {
            let asked =
                usize::try_from(bytes).map_or_else(|_| format!("{bytes} bytes"), human_bytes);
            return Err(DataFusionError::ResourcesExhausted(format!(
                "out of memory: {}(…) would return up to {asked}, more than the {} one function call may allocate (--max-query-memory)",
                self.inner.name(),
                human_bytes(self.max_bytes),
            )));
        }
        self.inner.invoke_with_args(args)
    }
}

/// An upper bound of the bytes a call returns (`u128` never overflows here).
fn estimate(growth: Growth, args: &[ColumnarValue], rows: usize) -> u128 {
    let arg = |i: usize| args.get(i);
    let rows = if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        1
    } else {
        rows
    };
    let mut total: u128 = 0;
    match growth {
        Growth::Repeat => {
            let (text, times) = (lengths(arg(0)), integers(arg(1)));
            for row in 0..rows {
                total += text.at(row) * times.at(row);
            }
        }
        Growth::Pad => {
            let width = integers(arg(1));
            for row in 0..rows {
                total += 4 * width.at(row);
            }
        }
        Growth::Replace => {
            let (text, from, to) = (lengths(arg(0)), lengths(arg(1)), lengths(arg(2)));
            for row in 0..rows {
                let (text, from, to) = (text.at(row), from.at(row).max(1), to.at(row));
                total += text + (text / from + 1) * to;
            }
        }
        Growth::RegexpReplace => {
            let (text, with) = (lengths(arg(0)), lengths(arg(2)));
            let global = arg(3).is_some();
            for row in 0..rows {
                let times = if global { text.at(row) + 1 } else { 1 };
                total += text.at(row) + times * with.at(row);
            }
        }
        Growth::ArrayRepeat => {
            let (element, times) = (lengths(arg(0)), integers(arg(1)));
            for row in 0..rows {
                total += (ELEMENT_BYTES + element.at(row)) * times.at(row);
            }
        }
        Growth::ArrayResize => {
            let size = integers(arg(1));
            for row in 0..rows {
                total += ELEMENT_BYTES * size.at(row);
            }
        }
        Growth::Range => {
            let in_nanos = args
                .first()
                .is_some_and(|a| matches!(a.data_type(), DataType::Timestamp(..)));
            let (start, stop, step) = match args.len() {
                1 => (Column::Zero, steps(arg(0), in_nanos), Column::One),
                2 => (
                    steps(arg(0), in_nanos),
                    steps(arg(1), in_nanos),
                    Column::One,
                ),
                _ => (
                    steps(arg(0), in_nanos),
                    steps(arg(1), in_nanos),
                    steps(arg(2), in_nanos),
                ),
            };
            for row in 0..rows {
                let span = stop.signed(row).abs_diff(start.signed(row));
                let step = step.signed(row).unsigned_abs().max(1);
                total += ELEMENT_BYTES * (u128::from(span) / u128::from(step) + 1);
            }
        }
    }
    total
}

/// Whether an integer argument is negative in any row.
fn has_negative(value: Option<&ColumnarValue>, rows: usize) -> bool {
    let column = integers(value);
    (0..rows.max(1)).any(|row| column.signed(row) < 0)
}

/// One argument's per-row numbers.
enum Column {
    /// A constant.
    Value(i64),
    /// Per row (NULL rows count 0).
    Rows(Vec<Option<i64>>),
    /// Not known: counted as zero (used where the inner function then refuses the call).
    Zero,
    /// One (a default step).
    One,
}

impl Column {
    /// The row's value, negatives as 0.
    fn at(&self, row: usize) -> u128 {
        u128::try_from(self.signed(row).max(0)).unwrap_or(0)
    }

    fn signed(&self, row: usize) -> i64 {
        match self {
            Column::Value(v) => *v,
            Column::Rows(values) => values.get(row).copied().flatten().unwrap_or(0),
            Column::Zero => 0,
            Column::One => 1,
        }
    }
}

/// An integer argument as numbers.
fn integers(value: Option<&ColumnarValue>) -> Column {
    match value {
        Some(ColumnarValue::Scalar(scalar)) => match scalar.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(v))) => Column::Value(v),
            _ => Column::Zero,
        },
        Some(ColumnarValue::Array(array)) => int_rows(array).unwrap_or(Column::Zero),
        None => Column::Zero,
    }
}

fn int_rows(array: &ArrayRef) -> Option<Column> {
    let ints = cast(array, &DataType::Int64).ok()?;
    let ints = ints.as_primitive::<Int64Type>();
    Some(Column::Rows(ints.iter().collect()))
}

/// A text, binary or list argument as its byte length per row.
fn lengths(value: Option<&ColumnarValue>) -> Column {
    match value {
        Some(ColumnarValue::Scalar(scalar)) => {
            Column::Value(i64::try_from(scalar_bytes(scalar)).unwrap_or(i64::MAX))
        }
        Some(ColumnarValue::Array(array)) => match length(array.as_ref()) {
            Ok(lengths) => int_rows(&lengths).unwrap_or(Column::Zero),
            // Not text: every row counted as big as the largest one could be, the whole array.
            Err(_) => {
                Column::Value(i64::try_from(array.get_array_memory_size()).unwrap_or(i64::MAX))
            }
        },
        None => Column::Zero,
    }
}

fn scalar_bytes(scalar: &ScalarValue) -> usize {
    match scalar {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.len(),
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b)) => b.len(),
        other => other.size(),
    }
}

/// A `range` bound or step, in one unit: integers as they are, dates in days, timestamps in
/// nanoseconds, intervals in the unit of the bounds (nanoseconds when `in_nanos`, else days).
fn steps(value: Option<&ColumnarValue>, in_nanos: bool) -> Column {
    let Some(value) = value else {
        return Column::Zero;
    };
    let data_type = value.data_type();
    match data_type {
        DataType::Interval(_) => match value {
            ColumnarValue::Scalar(scalar) => Column::Value(interval_steps(scalar, in_nanos)),
            ColumnarValue::Array(_) => Column::One,
        },
        DataType::Date32 | DataType::Date64 => {
            let days = match value {
                ColumnarValue::Scalar(s) => {
                    s.cast_to(&DataType::Date32).ok().and_then(|d| match d {
                        ScalarValue::Date32(Some(d)) => Some(Column::Value(i64::from(d))),
                        _ => None,
                    })
                }
                ColumnarValue::Array(a) => {
                    cast(a, &DataType::Date32).ok().and_then(|d| int_rows(&d))
                }
            };
            days.unwrap_or(Column::Zero)
        }
        DataType::Timestamp(..) => {
            let nanos = DataType::Timestamp(TimeUnit::Nanosecond, None);
            let column = match value {
                ColumnarValue::Scalar(s) => s.cast_to(&nanos).ok().and_then(|t| match t {
                    ScalarValue::TimestampNanosecond(Some(t), _) => Some(Column::Value(t)),
                    _ => None,
                }),
                ColumnarValue::Array(a) => cast(a, &nanos).ok().and_then(|t| int_rows(&t)),
            };
            column.unwrap_or(Column::Zero)
        }
        _ => integers(Some(value)),
    }
}

/// An interval step in nanoseconds, or in whole days (at least 1) for date bounds; months
/// count as 28 days, so the element count is never underestimated.
fn interval_steps(scalar: &ScalarValue, in_nanos: bool) -> i64 {
    const DAY_NANOS: i64 = 86_400_000_000_000;
    let (months, days, nanos) =
        match scalar.cast_to(&DataType::Interval(IntervalUnit::MonthDayNano)) {
            Ok(ScalarValue::IntervalMonthDayNano(Some(v))) => (v.months, v.days, v.nanoseconds),
            _ => return 1,
        };
    let days = i64::from(months) * 28 + i64::from(days);
    if in_nanos {
        days.saturating_mul(DAY_NANOS).saturating_add(nanos)
    } else {
        days.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};

    fn text(s: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s.into())))
    }

    fn int(n: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(n)))
    }

    #[test]
    fn estimates_bound_what_the_call_returns() {
        assert_eq!(estimate(Growth::Repeat, &[text("ab"), int(10)], 8192), 20);
        assert_eq!(estimate(Growth::Repeat, &[text("ab"), int(-5)], 1), 0);
        let texts = ColumnarValue::Array(Arc::new(StringArray::from(vec!["a", "bcd", "ef"])));
        let times = ColumnarValue::Array(Arc::new(Int64Array::from(vec![Some(2), None, Some(3)])));
        assert_eq!(estimate(Growth::Repeat, &[texts, times], 3), 2 + 6);
        assert_eq!(estimate(Growth::Pad, &[text("x"), int(100)], 1), 400);
        assert_eq!(estimate(Growth::Range, &[int(1), int(101)], 1), 16 * 101);
        assert_eq!(estimate(Growth::Range, &[int(100)], 1), 16 * 101);
        assert_eq!(
            estimate(Growth::Range, &[int(0), int(100), int(10)], 1),
            16 * 11
        );
        assert_eq!(
            estimate(Growth::Range, &[int(0), int(100), int(-10)], 1),
            16 * 11
        );
        assert_eq!(
            estimate(Growth::Replace, &[text("aaaa"), text("a"), text("xyz")], 1),
            4 + 5 * 3
        );
        let big = estimate(Growth::Repeat, &[text("x"), int(3_000_000_000)], 1);
        assert!(big > 2 << 30);
    }

    #[test]
    fn day_steps_over_dates_and_timestamps_use_the_bounds_unit() {
        let day = ColumnarValue::Scalar(ScalarValue::new_interval_mdn(0, 1, 0));
        let dates = [
            ColumnarValue::Scalar(ScalarValue::Date32(Some(0))),
            ColumnarValue::Scalar(ScalarValue::Date32(Some(365))),
            day.clone(),
        ];
        assert_eq!(estimate(Growth::Range, &dates, 1), 16 * 366);
        let nanos = 86_400_000_000_000i64;
        let stamps = [
            ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(Some(0), None)),
            ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(Some(365 * nanos), None)),
            day,
        ];
        assert_eq!(estimate(Growth::Range, &stamps, 1), 16 * 366);
    }
}
