//! `admins`: teammates of the workspace (official spec: `listAdmins`, `GET /admins`).

use super::{ColumnDef as C, Listing, Source, TableDef};
use crate::client::PageStyle;

/// `admins`: every teammate.
pub(super) fn admins() -> TableDef {
    TableDef::new(
        "admins",
        "Teammates (admins) of the workspace.",
        Source::List(Listing::new("/admins", PageStyle::Single, "admins")),
    )
    .get_by_id("/admins/{id}")
    .columns([
        C::text("id", "Intercom id of the admin."),
        C::text("name", "Full name."),
        C::text("email", "Email address."),
        C::text("job_title", "Job title."),
        C::bool("away_mode_enabled", "Whether away mode is on."),
        C::bool(
            "away_mode_reassign",
            "Whether replies are reassigned while away.",
        ),
        C::text("away_status_reason_id", "Reason for being away."),
        C::bool("has_inbox_seat", "Whether the admin has an Inbox seat."),
        C::json("team_ids", "Ids of the admin's teams."),
        C::json("avatar", "Avatar."),
        C::json("team_priority_level", "Primary and secondary team ids."),
    ])
}
