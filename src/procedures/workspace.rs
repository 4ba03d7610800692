//! Workspace-level procedures (intercom-api.md §5.8, §5.10): admin away mode and data
//! attributes. Declarations only.

use serde_json::{Value, json};

use super::{Args, ColumnType, Param, Procedure, ResultColumn, fields};

pub(super) fn procedures() -> Vec<Procedure> {
    vec![
        set_admin_away(),
        create_data_attribute(),
        update_data_attribute(),
    ]
}

fn attribute_columns() -> Vec<ResultColumn> {
    vec![
        ResultColumn::typed("id", ColumnType::Int, "id"),
        ResultColumn::text("name", "name"),
        ResultColumn::text("full_name", "full_name"),
        ResultColumn::text("model", "model"),
        ResultColumn::text("data_type", "data_type"),
        ResultColumn::typed("archived", ColumnType::Bool, "archived"),
    ]
}

/// `options` as Intercom wants them, `[{"value": …}, …]`, from a JSON array of strings or of
/// such objects; at least two.
fn options(args: &Args) -> Result<Option<Value>, String> {
    let Some(given) = args.get("options") else {
        return Ok(None);
    };
    let items = given
        .as_array()
        .ok_or(r#"options must be a JSON array, e.g. '["small", "large"]'"#)?;
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::String(s) => out.push(json!({"value": s})),
            Value::Object(o) if o.get("value").is_some_and(Value::is_string) => {
                out.push(item.clone())
            }
            _ => return Err(r#"options must be strings or {"value": …} objects"#.into()),
        }
    }
    if out.len() < 2 {
        return Err("options needs at least two values".into());
    }
    Ok(Some(Value::Array(out)))
}

fn messenger_writable() -> Param {
    Param::bool("messenger_writable", "Whether the Messenger may update it.").optional()
}

fn set_admin_away() -> Procedure {
    Procedure::new(
        "SetAdminAway",
        "Turns an admin's away mode on or off.",
        "PUT",
        "/admins/{admin_id}/away",
    )
    .param(Param::text("admin_id", "Id of the admin."))
    .param(Param::bool(
        "away_mode_enabled",
        "true sets the admin away, false back.",
    ))
    .param(
        Param::bool(
            "away_mode_reassign",
            "Reassign new replies to the default inbox while away.",
        )
        .default_value(false),
    )
    .param(
        Param::int(
            "away_status_reason_id",
            "Away reason (some workspaces require one).",
        )
        .optional(),
    )
    .body(|a| {
        let keys = [
            ("away_mode_enabled", "away_mode_enabled"),
            ("away_mode_reassign", "away_mode_reassign"),
            ("away_status_reason_id", "away_status_reason_id"),
        ];
        Ok(Value::Object(fields(a, &keys)))
    })
    .idempotent()
    .column(ResultColumn::text("id", "id"))
    .column(ResultColumn::typed(
        "away_mode_enabled",
        ColumnType::Bool,
        "away_mode_enabled",
    ))
    .column(ResultColumn::typed(
        "away_mode_reassign",
        ColumnType::Bool,
        "away_mode_reassign",
    ))
    .example("CALL SetAdminAway('991267460', true)")
}

fn create_data_attribute() -> Procedure {
    Procedure::new(
        "CreateDataAttribute",
        "Creates a custom data attribute for contacts or companies.",
        "POST",
        "/data_attributes",
    )
    .param(Param::text("name", "Name of the attribute."))
    .param(Param::text("model", "contact or company.").one_of(&["contact", "company"]))
    .param(
        Param::text(
            "data_type",
            "string, integer, float, boolean, datetime, date, or options (a list).",
        )
        .one_of(&[
            "string", "integer", "float", "boolean", "datetime", "date", "options",
        ]),
    )
    .param(Param::text("description", "Description shown in Intercom.").optional())
    .param(
        Param::json(
            "options",
            "JSON array of at least two values, for data_type options.",
        )
        .optional(),
    )
    .param(messenger_writable())
    .check(|a| {
        let list = a.text("data_type").as_deref() == Some("options");
        match (list, options(a)?) {
            (true, None) => {
                Err(r#"data_type options needs options, e.g. '["small", "large"]'"#.into())
            }
            (false, Some(_)) => Err("options only go with data_type options".into()),
            _ => Ok(()),
        }
    })
    .body(|a| {
        let keys = [
            ("name", "name"),
            ("model", "model"),
            ("data_type", "data_type"),
            ("description", "description"),
            ("messenger_writable", "messenger_writable"),
        ];
        let mut body = fields(a, &keys);
        if let Some(list) = options(a)? {
            body.insert("options".into(), list);
        }
        Ok(Value::Object(body))
    })
    .columns(attribute_columns())
    .example(concat!(
        "CALL CreateDataAttribute('contract_tier', 'company', 'options', ",
        r#"'Tier of the contract', '["gold", "silver"]')"#
    ))
}

fn update_data_attribute() -> Procedure {
    Procedure::new(
        "UpdateDataAttribute",
        "Changes or archives a data attribute (its type cannot change).",
        "PUT",
        "/data_attributes/{data_attribute_id}",
    )
    .param(Param::text(
        "data_attribute_id",
        "Id of the data attribute (see data_attributes).",
    ))
    .param(Param::text("description", "New description.").optional())
    .param(Param::bool("archived", "true archives the attribute.").optional())
    .param(messenger_writable())
    .param(
        Param::json(
            "options",
            "JSON array of at least two values (options attributes).",
        )
        .optional(),
    )
    .check(|a| {
        options(a)?;
        let changes = ["description", "archived", "messenger_writable", "options"];
        if changes.iter().any(|c| a.has(c)) {
            Ok(())
        } else {
            Err(format!(
                "nothing to change; give at least one of {}",
                changes.join(", ")
            ))
        }
    })
    .body(|a| {
        let keys = [
            ("description", "description"),
            ("archived", "archived"),
            ("messenger_writable", "messenger_writable"),
        ];
        let mut body = fields(a, &keys);
        if let Some(list) = options(a)? {
            body.insert("options".into(), list);
        }
        Ok(Value::Object(body))
    })
    .idempotent()
    .columns(attribute_columns())
    .example("CALL UpdateDataAttribute('18', archived => true)")
}
