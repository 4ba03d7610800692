//! What a workspace adds to the fixed tables: its custom attributes, discovered with
//! `GET /data_attributes` and registered as typed columns (see [`crate::tables::custom`]),
//! and the SQL spelling `custom_attributes.<name>` for them.

use std::sync::Arc;

use datafusion::arrow::datatypes::Field;
use datafusion::common::{Column, Result as DfResult, TableReference};
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::prelude::SessionContext;

use crate::client::{ApiRequest, IntercomClient};
use crate::error::Error;
use crate::provider::IntercomTable;
use crate::tables::{self, TableDef, custom};

/// Fetches the custom attributes of the tables `wanted` picks among those that have them
/// (contacts, companies, conversations) and re-registers those tables in `ctx` with a typed
/// column per attribute. Returns the new definitions.
///
/// One request per model. A failure leaves every table as it was and is returned, so the
/// caller can decide whether the JSON `custom_attributes` column is enough.
pub async fn discover_custom_attributes(
    ctx: &SessionContext,
    client: &Arc<IntercomClient>,
    wanted: impl Fn(&TableDef) -> bool,
) -> Result<Vec<TableDef>, Error> {
    let requests = tables::all()
        .iter()
        .filter(|def| wanted(def))
        .filter_map(|def| Some((def, def.custom_attributes?)))
        .map(|(def, model)| async move {
            let request = ApiRequest::get("/data_attributes").with_query("model", model.model);
            let body = client.send(&request).await?;
            let attributes = custom::parse(&body);
            Ok::<_, Error>(Some(
                def.clone()
                    .with_custom_attributes(&attributes, model.searchable),
            ))
        });
    let defs: Vec<TableDef> = futures::future::try_join_all(requests)
        .await?
        .into_iter()
        .flatten()
        .collect();
    for def in &defs {
        let name = def.name.clone();
        ctx.deregister_table(name.as_str())?;
        ctx.register_table(
            name.as_str(),
            Arc::new(IntercomTable::new(def.clone(), client.clone())),
        )?;
    }
    Ok(defs)
}

/// Plans `custom_attributes.plan_tier` (and `c.custom_attributes.plan_tier`) as the column
/// `"custom_attributes.plan_tier"`, the way Intercom names the field. It must come before
/// DataFusion's own planner, which would read the dot as a struct field access.
#[derive(Debug)]
pub struct CustomAttributePlanner;

impl ExprPlanner for CustomAttributePlanner {
    fn plan_compound_identifier(
        &self,
        field: &Field,
        qualifier: Option<&TableReference>,
        nested_names: &[String],
    ) -> DfResult<PlannerResult<Vec<Expr>>> {
        match nested_names {
            [name] if field.name() == custom::PREFIX => {
                let column = format!("{}.{name}", custom::PREFIX);
                Ok(PlannerResult::Planned(Expr::Column(Column::new(
                    qualifier.cloned(),
                    column,
                ))))
            }
            _ => Ok(PlannerResult::Original(Vec::new())),
        }
    }
}
