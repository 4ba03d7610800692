//! `admins`: teammates of the workspace (official spec: `listAdmins`, `GET /admins`), and `me`,
//! the admin the token acts as (`identifyAdmin`, `GET /me`).

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef, WHOLE_BODY};

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
    .actions(actions::procedures())
}

/// `me`: the admin the access token acts as, and its workspace (official spec:
/// `identifyAdmin`, `GET /me`). One row.
pub(super) fn me() -> TableDef {
    TableDef::new(
        "me",
        "The admin the access token acts as, and its workspace (one row).",
        Source::List(Listing::new("/me", PageStyle::Single, WHOLE_BODY)),
    )
    .columns([
        C::text("id", "Intercom id of the admin."),
        C::text("name", "Full name."),
        C::text("email", "Email address."),
        C::bool("email_verified", "Whether the email address is verified."),
        C::text("job_title", "Job title."),
        C::bool("away_mode_enabled", "Whether away mode is on."),
        C::bool("has_inbox_seat", "Whether the admin has an Inbox seat."),
        C::json("team_ids", "Ids of the admin's teams."),
        C::text("avatar_image_url", "Avatar image URL.").at("avatar.image_url"),
        C::text("app_id_code", "The workspace's id (app id code).").at("app.id_code"),
        C::text("app_name", "The workspace's name.").at("app.name"),
        C::text(
            "app_region",
            "Where the workspace is hosted (US, Europe, Australia).",
        )
        .at("app.region"),
        C::text("app_timezone", "The workspace's time zone.").at("app.timezone"),
        C::timestamp("app_created_at", "When the workspace was created.").at("app.created_at"),
        C::bool(
            "app_identity_verification",
            "Whether identity verification is on.",
        )
        .at("app.identity_verification"),
    ])
}

/// Actions on admins, as procedures.
mod actions {
    use serde_json::Value;

    use crate::tables::action::{ColumnType, Param, Procedure, ResultColumn, fields};

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![set_admin_away()]
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
}
