//! `intercom_api(method, path [, body [, headers]])`: any Intercom request, for what no
//! procedure or table covers (an endpoint newer than this release, another `Intercom-Version`
//! for one call). It returns the status and the JSON body, error statuses included.

use super::{ColumnType, Param, Procedure, ResultColumn, ResultSource};

pub(super) fn procedures() -> Vec<Procedure> {
    vec![
        Procedure::new(
            "intercom_api",
            "Sends any request to the Intercom API and returns the HTTP status and the JSON \
             body (error statuses are returned, not raised). GET is allowed in --read-only mode.",
            "*",
            "{path}",
        )
        .function_name("intercom_api")
        .param(
            Param::text("method", "GET, POST, PUT, PATCH or DELETE.")
                .one_of(&["GET", "POST", "PUT", "PATCH", "DELETE"]),
        )
        .param(Param::text(
            "path",
            "Path from the API root, with any query string, e.g. '/contacts?per_page=5'.",
        ))
        .param(Param::json("body", "JSON body for POST, PUT, PATCH or DELETE.").optional())
        .param(
            Param::json(
                "headers",
                "JSON object of more headers, e.g. '{\"Intercom-Version\": \"Unstable\"}' (not Authorization).",
            )
            .optional(),
        )
        .column(ResultColumn {
            name: "status",
            ty: ColumnType::Int,
            source: ResultSource::Status,
        })
        .example("SELECT status, response FROM intercom_api('GET', '/me')"),
    ]
}
