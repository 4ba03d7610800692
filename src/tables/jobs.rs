//! `jobs`: work Intercom does after answering, such as a ticket queued by
//! `EnqueueCreateTicket` (official spec: `jobsStatus`, `GET /jobs/status/{job_id}`). Intercom
//! cannot list jobs, so a read names them by id.

use super::{ColumnDef as C, Source, TableDef};

/// `jobs`: one job's status, read by id.
pub(super) fn jobs() -> TableDef {
    TableDef::new(
        "jobs",
        "Jobs Intercom runs after answering (a queued ticket), read by id.",
        Source::Lookups,
    )
    .lookup("id", "/jobs/status/{id}")
    .key_required(
        "Intercom cannot list jobs; add WHERE id = '…' (the job_id EnqueueCreateTicket returned)",
    )
    .columns([
        C::text("id", "Id of the job."),
        C::text("status", "pending, success or failed."),
        C::text("resource_type", "Kind of object the job makes (ticket)."),
        C::text(
            "resource_id",
            "Id of the object made, once the job succeeded.",
        ),
        C::text("resource_url", "API URL of the object made, once made."),
        C::text("url", "API URL of the job's status."),
    ])
}
