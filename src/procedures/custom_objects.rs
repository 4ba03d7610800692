//! Custom object instances (official spec: `getCustomObjectInstancesById`,
//! `getCustomObjectInstancesByExternalId`, `createCustomObjectInstances`, and the deletes by
//! id and by external id). Intercom has no list of instances and no list of the workspace's
//! types, so an instance is reached by its type (`Order`) and its id or external id: these
//! are procedures (usable as table functions: `SELECT * FROM get_custom_object_instance('Order',
//! '22')`). Declarations only.

use serde_json::Value;

use super::{ColumnType, Param, Procedure, ResultColumn, fields};

pub(super) fn procedures() -> Vec<Procedure> {
    vec![get(), find(), upsert(), delete(), delete_by_external_id()]
}

const BY_TYPE: &str = "/custom_object_instances/{type}";
const BY_ID: &str = "/custom_object_instances/{type}/{id}";

fn object_type() -> Param {
    Param::text("type", "The custom object type's identifier (Order).")
}

fn instance_columns() -> Vec<ResultColumn> {
    vec![
        ResultColumn::text("id", "id"),
        ResultColumn::text("external_id", "external_id"),
        ResultColumn::typed("custom_attributes", ColumnType::Json, "custom_attributes"),
        ResultColumn::typed(
            "external_created_at",
            ColumnType::Timestamp,
            "external_created_at",
        ),
        ResultColumn::typed(
            "external_updated_at",
            ColumnType::Timestamp,
            "external_updated_at",
        ),
        ResultColumn::typed("created_at", ColumnType::Timestamp, "created_at"),
        ResultColumn::typed("updated_at", ColumnType::Timestamp, "updated_at"),
    ]
}

fn deleted_columns() -> Vec<ResultColumn> {
    vec![
        ResultColumn::text("id", "id"),
        ResultColumn::typed("deleted", ColumnType::Bool, "deleted"),
    ]
}

fn get() -> Procedure {
    Procedure::new(
        "GetCustomObjectInstance",
        "One custom object instance, by its type and Intercom id.",
        "GET",
        BY_ID,
    )
    .param(object_type())
    .param(Param::text("id", "Intercom id of the instance."))
    .columns(instance_columns())
    .example("CALL GetCustomObjectInstance('Order', '22')")
}

fn find() -> Procedure {
    Procedure::new(
        "FindCustomObjectInstance",
        "One custom object instance, by its type and your external id.",
        "GET",
        "/custom_object_instances/{type}?external_id={external_id}",
    )
    .param(object_type())
    .param(Param::text("external_id", "Your id for the instance."))
    .columns(instance_columns())
    .example("CALL FindCustomObjectInstance('Order', 'ORD-1000')")
}

fn upsert() -> Procedure {
    Procedure::new(
        "UpsertCustomObjectInstance",
        "Creates a custom object instance, or updates the one with the same external id.",
        "POST",
        BY_TYPE,
    )
    .param(object_type())
    .param(Param::text("external_id", "Your id for the instance."))
    .param(
        Param::json(
            "custom_attributes",
            "JSON object of its attributes, by name (merged into the existing ones).",
        )
        .optional(),
    )
    .param(
        Param::timestamp(
            "external_created_at",
            "When it was created in your system.",
        )
        .optional(),
    )
    .param(
        Param::timestamp(
            "external_updated_at",
            "When it last changed in your system.",
        )
        .optional(),
    )
    .check(|a| match a.get("custom_attributes") {
        None | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err("custom_attributes must be a JSON object".into()),
    })
    .body(|a| {
        Ok(Value::Object(fields(
            a,
            &[
                ("external_id", "external_id"),
                ("custom_attributes", "custom_attributes"),
                ("external_created_at", "external_created_at"),
                ("external_updated_at", "external_updated_at"),
            ],
        )))
    })
    .idempotent()
    .columns(instance_columns())
    .example(
        "CALL UpsertCustomObjectInstance('Order', 'ORD-2000', '{\"order_number\": \"ORDER-2000\", \"total_amount\": 99.99}')",
    )
}

fn delete() -> Procedure {
    Procedure::new(
        "DeleteCustomObjectInstance",
        "Deletes a custom object instance, by its type and Intercom id.",
        "DELETE",
        BY_ID,
    )
    .param(object_type())
    .param(Param::text("id", "Intercom id of the instance."))
    .idempotent()
    .columns(deleted_columns())
    .example("CALL DeleteCustomObjectInstance('Order', '22')")
}

fn delete_by_external_id() -> Procedure {
    Procedure::new(
        "DeleteCustomObjectInstanceByExternalId",
        "Deletes a custom object instance, by its type and your external id.",
        "DELETE",
        "/custom_object_instances/{type}?external_id={external_id}",
    )
    .param(object_type())
    .param(Param::text("external_id", "Your id for the instance."))
    .idempotent()
    .columns(deleted_columns())
    .example("CALL DeleteCustomObjectInstanceByExternalId('Order', 'ORD-1000')")
}
