//! The workspace's settings as tables: `brands`, `emails` (sender addresses) and the one-row
//! `ip_allowlist`, written with UPDATE (official spec: `listBrands`, `retrieveBrand`,
//! `listEmails`, `retrieveEmail`, `getIpAllowlist`, `updateIpAllowlist`).

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef, WHOLE_BODY};

/// `brands`: the workspace's brands.
pub(super) fn brands() -> TableDef {
    TableDef::new(
        "brands",
        "The workspace's brands.",
        Source::List(Listing::new("/brands", PageStyle::Single, "data")),
    )
    .get_by_id("/brands/{id}")
    .columns([
        C::text("id", "Id of the brand."),
        C::text("name", "Name."),
        C::bool("is_default", "Whether it is the workspace's default brand."),
        C::text("help_center_id", "Its help center (help_centers.id)."),
        C::text(
            "default_address_settings_id",
            "Its default sender address (emails.id).",
        ),
        C::timestamp("created_at", "When the brand was created."),
        C::timestamp("updated_at", "When it last changed."),
    ])
}

/// `emails`: the addresses the workspace sends email from.
pub(super) fn emails() -> TableDef {
    TableDef::new(
        "emails",
        "Sender email addresses of the workspace, with their brand.",
        Source::List(Listing::new("/emails", PageStyle::Single, "data")),
    )
    .get_by_id("/emails/{id}")
    .columns([
        C::text("id", "Id of the address setting."),
        C::text("email", "The address."),
        C::bool("verified", "Whether the address is verified."),
        C::text("domain", "Its domain."),
        C::text("brand_id", "Its brand (brands.id)."),
        C::bool(
            "forwarding_enabled",
            "Whether mail to it is forwarded into Intercom.",
        ),
        C::timestamp(
            "forwarded_email_last_received_at",
            "When forwarded mail last arrived.",
        ),
        C::timestamp("created_at", "When the address was added."),
        C::timestamp("updated_at", "When it last changed."),
    ])
}

/// `ip_allowlist`: one row, the workspace's IP allowlist.
pub(super) fn ip_allowlist() -> TableDef {
    TableDef::new(
        "ip_allowlist",
        "The workspace's IP allowlist (one row); UPDATE changes it.",
        Source::List(Listing::new("/ip_allowlist", PageStyle::Single, WHOLE_BODY)),
    )
    .columns([
        C::bool(
            "enabled",
            "Whether only the listed addresses may use the workspace.",
        ),
        C::json(
            "ip_allowlist",
            "Allowed IPv4/IPv6 addresses and CIDR ranges, as a JSON array.",
        ),
    ])
    .writes(TableWrites {
        table: "ip_allowlist",
        insert: None,
        update: Some(
            Write::new("PUT", "/ip_allowlist")
                .fields(&[("enabled", "enabled"), ("ip_allowlist", "ip_allowlist")])
                .idempotent(),
        ),
        delete: None,
        key: &[],
    })
}
