//! Argument binding, in two steps that both run before any request:
//!
//! 1. [`arrange`] (at planning): positional and `name => value` arguments to one slot per
//!    parameter; catches unknown procedures' parameters, too many arguments, duplicates and
//!    missing required parameters.
//! 2. [`bind_values`] (at execution, once the argument expressions are evaluated): each
//!    `ScalarValue` checked and converted to the parameter's type as JSON; catches NULLs in
//!    required parameters, wrong types and values outside an enum. Taking `ScalarValue`s means
//!    literals, `$1` parameters and columns (bulk calls) all bind the same way.

use datafusion::common::ScalarValue;
use serde_json::Value;

use crate::tables::action::{Args, value_text};
pub(crate) use crate::tables::value::parse_time;

use super::{ColumnType, Procedure, ProcedureError};

/// Puts arguments — `(Some(name), expr)` for `name => expr`, `(None, expr)` for positional —
/// into one slot per parameter, in parameter order. Unfilled optional slots are `None`.
pub fn arrange<E>(
    procedure: &Procedure,
    args: Vec<(Option<String>, E)>,
) -> Result<Vec<Option<E>>, ProcedureError> {
    let wrong = |message: String| ProcedureError::Arguments(message);
    let mut slots: Vec<Option<E>> = procedure.params.iter().map(|_| None).collect();
    let given = args.len();
    let mut positional = 0;
    let mut any_named = false;
    for (name, expr) in args {
        match name {
            None => {
                if any_named {
                    return Err(wrong(format!(
                        "{}: positional arguments must come before named ones (name => value)",
                        procedure.name
                    )));
                }
                if positional >= slots.len() {
                    return Err(wrong(arity_message(procedure, given)));
                }
                slots[positional] = Some(expr);
                positional += 1;
            }
            Some(name) => {
                any_named = true;
                let Some((index, param)) = procedure.param_named(&name) else {
                    return Err(wrong(unknown_param_message(procedure, &name)));
                };
                if slots[index].is_some() {
                    return Err(wrong(format!(
                        "{}: {} is given twice",
                        procedure.name, param.name
                    )));
                }
                slots[index] = Some(expr);
            }
        }
    }
    let missing: Vec<&super::Param> = procedure
        .params
        .iter()
        .zip(&slots)
        .filter(|(p, slot)| p.required && slot.is_none())
        .map(|(p, _)| p)
        .collect();
    if let Some(first) = missing.first() {
        let what = format!(
            "missing {} ({}): {}",
            first.name,
            first.ty.sql_name(),
            first.doc
        );
        let message = if any_named {
            format!(
                "{} needs {}; {what}",
                procedure.signature(),
                missing
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("{}; {what}", arity_message(procedure, given))
        };
        return Err(wrong(message));
    }
    Ok(slots)
}

/// `ArchiveContact(contact_id text) takes 1 argument, got 2`.
fn arity_message(procedure: &Procedure, given: usize) -> String {
    let (min, max) = (procedure.required_count(), procedure.params.len());
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let takes = if min == max {
        format!("{min} {}", plural(min))
    } else {
        format!("{min} to {max} arguments")
    };
    format!("{} takes {takes}, got {given}", procedure.signature())
}

fn unknown_param_message(procedure: &Procedure, name: &str) -> String {
    let names: Vec<&str> = procedure.params.iter().map(|p| p.name).collect();
    let nearest = names
        .iter()
        .map(|n| {
            (
                crate::suggest::edit_distance(&name.to_ascii_lowercase(), n),
                *n,
            )
        })
        .min()
        .filter(|(d, _)| *d <= 3);
    let hint = match nearest {
        Some((_, n)) => format!("; did you mean {n}?"),
        None => ".".to_string(),
    };
    let list = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    format!(
        "{} has no parameter named {name}{hint} Its parameters: {list}",
        procedure.name
    )
}

/// Checks and converts evaluated arguments (one per parameter, NULL for omitted ones) into
/// [`Args`], then runs the procedure's own cross-parameter check.
pub fn bind_values(procedure: &Procedure, values: &[ScalarValue]) -> Result<Args, ProcedureError> {
    if values.len() != procedure.params.len() {
        return Err(ProcedureError::Arguments(arity_message(
            procedure,
            values.len(),
        )));
    }
    let mut args = Args::default();
    for (param, value) in procedure.params.iter().zip(values) {
        let converted = if value.is_null() {
            None
        } else {
            Some(convert(param.ty, value).map_err(|got| {
                ProcedureError::Arguments(format!(
                    "{}: {} expects {}, got {got}",
                    procedure.name,
                    param.name,
                    expected(param.ty)
                ))
            })?)
        };
        let converted = match (converted, &param.default) {
            (Some(v), _) => Some(v),
            (None, Some(default)) if !default.is_null() => Some(default.clone()),
            (None, _) if param.required => {
                return Err(ProcedureError::Arguments(format!(
                    "{}: {} must not be NULL ({})",
                    procedure.name, param.name, param.doc
                )));
            }
            (None, _) => None,
        };
        let Some(mut converted) = converted else {
            continue;
        };
        if !param.allowed.is_empty() {
            let text = value_text(&converted);
            match param
                .allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(text.trim()))
            {
                Some(canonical) => converted = Value::String((*canonical).to_string()),
                None => {
                    return Err(ProcedureError::Arguments(format!(
                        "{}: {} must be one of {}; got '{text}'",
                        procedure.name,
                        param.name,
                        param.allowed.join(", ")
                    )));
                }
            }
        }
        args.insert(param.name, converted);
    }
    if let Some(check) = procedure.check {
        check(&args).map_err(|message| {
            ProcedureError::Arguments(format!("{}: {message}", procedure.name))
        })?;
    }
    Ok(args)
}

fn expected(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "text",
        ColumnType::Int => "an integer",
        ColumnType::Float => "a number",
        ColumnType::Bool => "a boolean",
        ColumnType::Timestamp => {
            "a timestamp (ISO-8601 text such as '2026-03-01T09:00:00Z', or Unix seconds)"
        }
        ColumnType::Json => "JSON text",
    }
}

/// Converts one non-null value; `Err` describes what was given.
fn convert(ty: ColumnType, value: &ScalarValue) -> Result<Value, String> {
    let text = scalar_text(value);
    let integer = scalar_int(value);
    let described = || describe(value);
    match ty {
        ColumnType::Text => match (text, integer) {
            (Some(s), _) => Ok(Value::String(s)),
            (None, Some(i)) => Ok(Value::String(i.to_string())),
            _ => Err(described()),
        },
        ColumnType::Int => match (integer, text) {
            (Some(i), _) => Ok(Value::from(i)),
            (None, Some(s)) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| described()),
            _ => Err(described()),
        },
        ColumnType::Float => match (value, integer, text) {
            (ScalarValue::Float64(Some(f)), _, _) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(described),
            (_, Some(i), _) => Ok(Value::from(i)),
            (_, None, Some(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(described),
            _ => Err(described()),
        },
        ColumnType::Bool => match (value, text, integer) {
            (ScalarValue::Boolean(Some(b)), _, _) => Ok(Value::Bool(*b)),
            (_, Some(s), _) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "on" | "1" => Ok(Value::Bool(true)),
                "false" | "f" | "no" | "off" | "0" => Ok(Value::Bool(false)),
                _ => Err(described()),
            },
            (_, None, Some(0)) => Ok(Value::Bool(false)),
            (_, None, Some(1)) => Ok(Value::Bool(true)),
            _ => Err(described()),
        },
        ColumnType::Timestamp => {
            if let Some(seconds) = timestamp_seconds(value) {
                return Ok(Value::from(seconds));
            }
            match (integer, text) {
                (Some(i), _) => Ok(Value::from(i)),
                (None, Some(s)) => parse_time(&s).map(Value::from).ok_or_else(described),
                _ => Err(described()),
            }
        }
        ColumnType::Json => match (text, value) {
            (Some(s), _) => serde_json::from_str::<Value>(&s)
                .map_err(|e| format!("text that is not JSON ({e}): {}", shorten(&s))),
            (None, ScalarValue::Boolean(Some(b))) => Ok(Value::Bool(*b)),
            (None, _) => match (integer, value) {
                (Some(i), _) => Ok(Value::from(i)),
                (None, ScalarValue::Float64(Some(f))) => serde_json::Number::from_f64(*f)
                    .map(Value::Number)
                    .ok_or_else(described),
                _ => Err(described()),
            },
        },
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("'{}…'", s.chars().take(60).collect::<String>())
    } else {
        format!("'{s}'")
    }
}

/// A short description of a value for error messages: `a boolean (true)`.
fn describe(value: &ScalarValue) -> String {
    let kind = match value {
        ScalarValue::Boolean(_) => "a boolean",
        ScalarValue::Utf8(_) | ScalarValue::LargeUtf8(_) | ScalarValue::Utf8View(_) => "text",
        ScalarValue::Float16(_) | ScalarValue::Float32(_) | ScalarValue::Float64(_) => "a number",
        ScalarValue::Decimal128(..) | ScalarValue::Decimal256(..) => "a number",
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::UInt8(_)
        | ScalarValue::UInt16(_)
        | ScalarValue::UInt32(_)
        | ScalarValue::UInt64(_) => "an integer",
        ScalarValue::TimestampSecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..) => "a timestamp",
        _ => "a value",
    };
    let shown = match scalar_text(value) {
        Some(s) => shorten(&s),
        None => value.to_string(),
    };
    format!("{kind} ({shown})")
}

fn scalar_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        ScalarValue::Dictionary(_, inner) => scalar_text(inner),
        _ => None,
    }
}

fn scalar_int(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int64(Some(v)) => Some(*v),
        ScalarValue::UInt8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt64(Some(v)) => i64::try_from(*v).ok(),
        ScalarValue::Decimal128(Some(v), _, 0) => i64::try_from(*v).ok(),
        ScalarValue::Float64(Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        ScalarValue::Dictionary(_, inner) => scalar_int(inner),
        _ => None,
    }
}

fn timestamp_seconds(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampMillisecond(Some(v), _) => Some(v.div_euclid(1_000)),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(v.div_euclid(1_000_000)),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000_000_000)),
        ScalarValue::Date32(Some(days)) => Some(i64::from(*days) * 86_400),
        _ => None,
    }
}

#[cfg(test)]
#[path = "bind_tests.rs"]
mod tests;
