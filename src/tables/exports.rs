//! Exports: the message data export (official spec: `createDataExport`, `getDataExport`,
//! `cancelDataExport`), the reporting data export (`POST /export/reporting_data/enqueue`,
//! `GET /export/reporting_data/{job_identifier}`, `GET /export/reporting_data/get_datasets`)
//! and the workflow export (`exportWorkflow`). Jobs are started and canceled by procedures and
//! followed in `data_exports`; the datasets and exported workflows are tables. A finished
//! export's file (a gzipped CSV: `downloadDataExport`, and the reporting export's download) is
//! read as rows of `data_export_rows` and `reporting_data_export_rows`.

use super::PageStyle;
use super::{BodyFormat, ColumnDef as C, Listing, Source, TableDef};

/// The columns of an export job (`data_export`).
fn job_columns() -> Vec<C> {
    vec![
        C::text("job_identifier", "Id of the export job."),
        C::text(
            "status",
            "pending, in_progress, completed, no_data, failed or canceled.",
        ),
        C::text(
            "download_url",
            "Where the finished export is downloaded (a gzipped CSV), once completed.",
        ),
        C::text(
            "download_expires_at",
            "Until when it can be downloaded (Unix seconds, as text).",
        ),
    ]
}

/// `data_exports`: message data export jobs, read by job identifier.
pub(super) fn data_exports() -> TableDef {
    TableDef::new(
        "data_exports",
        "Message data export jobs (CreateDataExport), read by job_identifier.",
        Source::Lookups,
    )
    .lookup("job_identifier", "/export/content/data/{id}")
    .key_required(
        "Intercom cannot list export jobs; add WHERE job_identifier = '…' (the one CreateDataExport returned)",
    )
    .columns(job_columns())
    .actions(actions::procedures())
}

/// The table of a finished export's file: one row per CSV record, keyed by the job.
fn export_rows(name: &str, description: &str, listing: Listing, hint: &str) -> TableDef {
    TableDef::new(
        name,
        description,
        Source::Keyed {
            key_column: "job_identifier".into(),
            listing: listing.answering(BodyFormat::Csv("record")),
        },
    )
    .key_required(hint)
    .columns([
        C::parent_key("job_identifier", "The export job."),
        C::int("line", "Number of the record in the file, from 1."),
        C::json(
            "record",
            "The record, as a JSON object of the file's column names (record->>'conversation_id').",
        ),
    ])
}

/// `data_export_rows`: the file of a finished message data export.
pub(super) fn data_export_rows() -> TableDef {
    export_rows(
        "data_export_rows",
        "The records of a finished message data export's file (read by job_identifier).",
        Listing::new("/download/content/data/{id}", PageStyle::Single, "$"),
        "an export's file is read by its job; add WHERE job_identifier = '…' (a completed job of data_exports)",
    )
}

/// `reporting_data_export_rows`: the file of a finished reporting data export.
pub(super) fn reporting_data_export_rows() -> TableDef {
    export_rows(
        "reporting_data_export_rows",
        "The records of a finished reporting data export's file (read by job_identifier).",
        Listing::new("/download/reporting_data/{id}", PageStyle::Single, "$")
            .with_query("app_id", "{app_id}")
            .with_query("job_identifier", "{id}"),
        "an export's file is read by its job; add WHERE job_identifier = '…' (a completed job of EnqueueReportingDataExport)",
    )
}

/// `reporting_datasets`: what the reporting data export can export.
pub(super) fn reporting_datasets() -> TableDef {
    TableDef::new(
        "reporting_datasets",
        "Datasets the reporting data export can export, with their attributes.",
        Source::List(Listing::new(
            "/export/reporting_data/get_datasets",
            PageStyle::Single,
            "data",
        )),
    )
    .columns([
        C::text("id", "Id of the dataset (conversation, ticket, …)."),
        C::text("name", "Name."),
        C::text("description", "What a row of it is."),
        C::text(
            "default_time_attribute_id",
            "The attribute its time window applies to.",
        ),
        C::json(
            "attributes",
            "Its attributes, as a JSON array of {\"id\", \"name\"}.",
        ),
    ])
}

/// `workflow_exports`: a workflow's whole configuration, read by id.
pub(super) fn workflow_exports() -> TableDef {
    TableDef::new(
        "workflow_exports",
        "Workflow configurations exported by id (steps, targeting, attributes).",
        Source::Lookups,
    )
    .lookup("id", "/export/workflows/{id}")
    .key_required("Intercom exports one workflow at a time; add WHERE id = '…' (the workflow's id)")
    .columns([
        C::text("id", "Id of the workflow.").at("workflow.id"),
        C::text("title", "Title.").at("workflow.title"),
        C::text("description", "Description.").at("workflow.description"),
        C::text("trigger_type", "What starts it.").at("workflow.trigger_type"),
        C::text("state", "live, draft or paused.").at("workflow.state"),
        C::json("target_channels", "Channels it runs on.").at("workflow.target_channels"),
        C::json("preferred_devices", "Devices it prefers.").at("workflow.preferred_devices"),
        C::json("targeting", "Its audience rules.").at("workflow.targeting"),
        C::json("snapshot", "Its steps, as configured.").at("workflow.snapshot"),
        C::json("attributes", "Attributes it uses.").at("workflow.attributes"),
        C::json("embedded_rules", "Rules embedded in it.").at("workflow.embedded_rules"),
        C::timestamp("created_at", "When the workflow was created.").at("workflow.created_at"),
        C::timestamp("updated_at", "When it last changed.").at("workflow.updated_at"),
        C::text("export_version", "Version of the export format."),
        C::timestamp("exported_at", "When it was exported."),
        C::text("app_id", "Workspace (app) id."),
    ])
}

mod actions {
    use serde_json::Value;

    use crate::tables::action::{ColumnType, Param, Procedure, ResultColumn, WAIT_TIMEOUT, fields};

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![
            create(),
            cancel(),
            wait(),
            enqueue_reporting(),
            reporting_status(),
            wait_reporting(),
        ]
    }

    /// What ends an export job: Intercom's final states.
    const FINISHED: &[&str] = &["completed", "no_data", "failed", "canceled"];

    fn timeout() -> Param {
        Param::int(
            WAIT_TIMEOUT,
            "How long to wait at most, in seconds; then the error says where the job stands.",
        )
        .default_value(600)
    }

    fn wait() -> Procedure {
        Procedure::new(
            "WaitForDataExport",
            "Waits until a message data export job is finished (completed, no_data, failed or canceled) and returns it; shows progress meanwhile, and Ctrl-C stops waiting.",
            "GET",
            "/export/content/data/{job_identifier}",
        )
        .param(Param::text("job_identifier", "Id of the export job."))
        .param(timeout())
        .waits_until("status", FINISHED)
        .columns(job_columns())
        .example("CALL WaitForDataExport('orzzsbd7hk67xyu')")
    }

    /// `GET /export/reporting_data/{job_identifier}`, which names the workspace and the OAuth
    /// client besides the job: what reading and waiting for a reporting export share.
    fn reporting_job(name: &'static str, description: &'static str) -> Procedure {
        Procedure::new(
            name,
            description,
            "GET",
            "/export/reporting_data/{job_identifier}?app_id={app_id}&client_id={client_id}",
        )
        .param(Param::text("job_identifier", "Id of the export job."))
        .param(Param::text(
            "app_id",
            "The workspace's app id (me.app_id_code).",
        ))
        .param(Param::text("client_id", "Your OAuth app's client id."))
    }

    fn wait_reporting() -> Procedure {
        reporting_job(
            "WaitForReportingDataExport",
            "Waits until a reporting data export job is finished and returns it; shows progress meanwhile, and Ctrl-C stops waiting.",
        )
        .param(timeout())
        .waits_until("status", FINISHED)
        .columns(job_columns())
        .example("CALL WaitForReportingDataExport('job1', 'abc123', 'client-9', 300)")
    }

    fn job_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::text("job_identifier", "job_identifier"),
            ResultColumn::text("status", "status"),
            ResultColumn::text("download_url", "download_url"),
        ]
    }

    fn create() -> Procedure {
        Procedure::new(
            "CreateDataExport",
            "Starts an export of message delivery and engagement data for a time window; data_exports follows the job.",
            "POST",
            "/export/content/data",
        )
        .param(Param::timestamp("created_at_after", "Start of the window."))
        .param(Param::timestamp("created_at_before", "End of the window."))
        .body(|a| {
            Ok(Value::Object(fields(
                a,
                &[
                    ("created_at_after", "created_at_after"),
                    ("created_at_before", "created_at_before"),
                ],
            )))
        })
        .columns(job_columns())
        .example("CALL CreateDataExport('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')")
    }

    fn cancel() -> Procedure {
        Procedure::new(
            "CancelDataExport",
            "Cancels a message data export that has not finished.",
            "POST",
            "/export/cancel/{job_identifier}",
        )
        .param(Param::text("job_identifier", "Id of the export job."))
        .columns(job_columns())
        .example("CALL CancelDataExport('orzzsbd7hk67xyu')")
    }

    fn enqueue_reporting() -> Procedure {
        Procedure::new(
            "EnqueueReportingDataExport",
            "Starts an export of a reporting dataset's attributes for a time window (see reporting_datasets).",
            "POST",
            "/export/reporting_data/enqueue",
        )
        .param(Param::text("dataset_id", "The dataset (reporting_datasets.id)."))
        .param(Param::json(
            "attribute_ids",
            "JSON array of the dataset's attribute ids to export.",
        ))
        .param(Param::timestamp("start_time", "Start of the window."))
        .param(Param::timestamp("end_time", "End of the window."))
        .check(|a| match a.get("attribute_ids") {
            Some(Value::Array(ids)) if !ids.is_empty() && ids.iter().all(Value::is_string) => {
                Ok(())
            }
            _ => Err("attribute_ids must be a JSON array of attribute ids, e.g. '[\"conversation_id\"]'".into()),
        })
        .body(|a| {
            Ok(Value::Object(fields(
                a,
                &[
                    ("dataset_id", "dataset_id"),
                    ("attribute_ids", "attribute_ids"),
                    ("start_time", "start_time"),
                    ("end_time", "end_time"),
                ],
            )))
        })
        .columns(job_columns())
        .example(
            "CALL EnqueueReportingDataExport('conversation', '[\"conversation_id\", \"channel\"]', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')",
        )
    }

    fn reporting_status() -> Procedure {
        reporting_job(
            "GetReportingDataExport",
            "The status of a reporting data export job (Intercom asks for the app and OAuth client too).",
        )
        .columns(job_columns())
        .column(ResultColumn::typed(
            "download_expires_at",
            ColumnType::Text,
            "download_expires_at",
        ))
        .example("CALL GetReportingDataExport('job1', 'abc123', 'client-9')")
    }
}
