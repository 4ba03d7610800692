//! `admin_activity_logs`: what the workspace's teammates did — sign-ins, permission and
//! setting changes, away mode (official spec: `listActivityLogs`,
//! `GET /admins/activity_logs`). Read-only. Intercom requires `created_at_after`; a
//! `created_at` range in the WHERE clause becomes `created_at_after`/`created_at_before`,
//! and without one the whole log is read (`created_at_after=0`).

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `admin_activity_logs`: every entry of the admins' activity log, newest first.
pub(super) fn admin_activity_logs() -> TableDef {
    TableDef::new(
        "admin_activity_logs",
        "The teammates' activity log: sign-ins, permission, setting and away-mode changes.",
        Source::List(
            Listing::new("/admins/activity_logs", PageStyle::Cursor, "activity_logs")
                .with_query("created_at_after", "0"),
        ),
    )
    .columns([
        C::text("id", "Id of the entry."),
        C::timestamp("created_at", "When it happened.")
            .query_bounds("created_at_after", "created_at_before"),
        C::text(
            "activity_type",
            "What happened: admin_login_success, app_name_change, admin_away_mode_change, …",
        ),
        C::text("activity_description", "What happened, in words."),
        C::text("performed_by_id", "Id of the teammate who did it.").at("performed_by.id"),
        C::text("performed_by_type", "admin.").at("performed_by.type"),
        C::text("performed_by_email", "Email of the teammate.").at("performed_by.email"),
        C::text("performed_by_ip", "IP address it came from.").at("performed_by.ip"),
        C::json(
            "metadata",
            "Details, shaped by the activity type (before/after values, away mode, sign-in method, …).",
        ),
    ])
}
