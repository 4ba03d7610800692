//! One table per custom object type the user names (`--custom-object-types Order,Subscription`):
//! `order_objects` holds the instances of `Order` (official spec:
//! `getCustomObjectInstancesById`, `getCustomObjectInstancesByExternalId`,
//! `createCustomObjectInstances`, `deleteCustomObjectInstancesById`). Intercom 2.15 lists
//! neither a workspace's types nor a type's instances, nor describes a type's attributes: the
//! types are named by the user, the instances are read by id or external id, and the
//! attributes are the JSON column `custom_attributes`. INSERT creates an instance or updates the
//! one with the same external id; DELETE removes instances by id.

use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Source, TableDef};

const BY_TYPE: &str = "/custom_object_instances/{type}";

/// The table of each of `types` (type identifiers as Intercom names them: `Order`), named
/// `<type>_objects`; a name already taken (or a type that makes no name) gets
/// `custom_object_<n>_objects`, `n` its place in the list.
pub fn for_types(types: &[String]) -> Vec<TableDef> {
    let mut tables: Vec<TableDef> = Vec::new();
    for (n, kind) in types
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        let slug = super::typed_tickets::slug(kind);
        let mut name = format!("{slug}_objects");
        let taken = |n: &str| super::find(n).is_some() || tables.iter().any(|t| t.name == n);
        if slug.is_empty() || taken(&name) {
            name = format!("custom_object_{}_objects", n + 1);
        }
        // A type that cannot be a path segment (`.`, `..`) names no endpoint.
        if let Some(segment) = super::path::path_segment(kind) {
            tables.push(table(&name, kind, &segment));
        }
    }
    tables
}

fn table(name: &str, kind: &str, path: &str) -> TableDef {
    let mut def = TableDef::new(
        name,
        &format!("Instances of the custom object type {kind:?}, read by id or external_id."),
        Source::Lookups,
    )
    .lookup("id", &format!("/custom_object_instances/{path}/{{id}}"))
    .lookup(
        "external_id",
        &format!("/custom_object_instances/{path}?external_id={{id}}"),
    )
    .key_required(
        "Intercom cannot list custom object instances; add WHERE id = '…' or external_id = '…' (or IN, or a join), e.g. from the ids a contact's relationship attribute holds",
    )
    .columns([
        C::text("id", "Intercom's id of the instance."),
        C::text("external_id", "Your id of the instance."),
        C::text("type", "The custom object type (its identifier)."),
        C::json(
            "custom_attributes",
            "The instance's attributes, as defined on its type (custom_attributes->>'name').",
        ),
        C::timestamp("external_created_at", "When it was created in your system."),
        C::timestamp("external_updated_at", "When it last changed in your system."),
        C::timestamp("created_at", "When Intercom created it."),
        C::timestamp("updated_at", "When it last changed in Intercom."),
    ])
    .writes(TableWrites {
        table: "custom_objects",
        insert: Some(
            Write::new("POST", BY_TYPE)
                .fields(&[
                    ("external_id", "external_id"),
                    ("external_created_at", "external_created_at"),
                    ("external_updated_at", "external_updated_at"),
                    ("custom_attributes", "custom_attributes"),
                ])
                .required(&["external_id"])
                .idempotent(),
        ),
        update: None,
        delete: Some(Write::new("DELETE", "/custom_object_instances/{type}/{id}").idempotent()),
        key: &["id"],
    });
    def.fixed = Some(("type".into(), kind.to_string()));
    def
}

#[cfg(test)]
mod tests {
    use super::for_types;

    #[test]
    fn each_named_type_is_a_table_keyed_by_id_and_external_id() {
        let types = ["Order", "Sales Order", "order", " ", ".."].map(String::from);
        let tables = for_types(&types);
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "order_objects",
                "sales_order_objects",
                "custom_object_3_objects"
            ]
        );
        let sales = &tables[1];
        assert_eq!(sales.fixed, Some(("type".into(), "Sales Order".into())));
        let paths: Vec<&str> = sales.lookups.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/custom_object_instances/Sales%20Order/{id}",
                "/custom_object_instances/Sales%20Order?external_id={id}"
            ]
        );
        assert!(sales.key_required.is_some());
    }
}
