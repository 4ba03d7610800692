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
use crate::tables::value::{expected, to_json};

use super::{Procedure, ProcedureError};

/// Puts arguments — `(Some(name), expr)` for `name => expr`, `(None, expr)` for positional —
/// into one slot per parameter, in parameter order. Unfilled optional slots are `None`.
pub fn arrange<E>(
    procedure: &Procedure,
    args: Vec<(Option<String>, E)>,
) -> Result<Vec<Option<E>>, ProcedureError> {
    let wrong = |message: String| ProcedureError::Arguments(message);
    let mut slots: Vec<Option<E>> = procedure.params.iter().map(|_| None).collect();
    let given = args.len();
    // The shorter positional form fills its own parameters.
    let order: Vec<usize> = match procedure.short_form {
        Some(short) if short.len() == given && args.iter().all(|(name, _)| name.is_none()) => short
            .iter()
            .filter_map(|name| procedure.param_named(name).map(|(i, _)| i))
            .collect(),
        _ => (0..slots.len()).collect(),
    };
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
                let Some(&slot) = order.get(positional) else {
                    return Err(wrong(arity_message(procedure, given)));
                };
                slots[slot] = Some(expr);
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
            Some(to_json(param.ty, value).map_err(|got| {
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

#[cfg(test)]
#[path = "bind_tests.rs"]
mod tests;
