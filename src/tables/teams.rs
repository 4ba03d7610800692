//! `teams` (official spec: `listTeams`, `GET /teams`).

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `teams`: every team.
pub(super) fn teams() -> TableDef {
    TableDef::new(
        "teams",
        "Teams of admins.",
        Source::List(Listing::new("/teams", PageStyle::Single, "teams")),
    )
    .get_by_id("/teams/{id}")
    .columns([
        C::text("id", "Intercom id of the team."),
        C::text("name", "Team name."),
        C::json("admin_ids", "Ids of the team's admins."),
        C::int(
            "assignment_limit",
            "Assignment limit (load-balanced teams).",
        ),
        C::text(
            "distribution_method",
            "How conversations are distributed, e.g. round_robin.",
        ),
        C::json("admin_priority_level", "Primary and secondary admin ids."),
    ])
}
