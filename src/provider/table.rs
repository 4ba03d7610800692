//! `IntercomTable`: a `TableProvider` driven by a [`TableDef`]. It decides which filters the
//! scan can answer itself (id lookups, a child table's parent key) and plans the scan.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::DFSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use super::scan::{IntercomScanExec, ScanColumns};
use crate::client::IntercomClient;
use crate::pushdown;
use crate::settings::{IntercomOptions, ScanMode, Switch};
use crate::tables::TableDef;

/// A table of one Intercom object type.
#[derive(Debug)]
pub struct IntercomTable {
    def: Arc<TableDef>,
    client: Arc<IntercomClient>,
    schema: SchemaRef,
}

impl IntercomTable {
    /// A provider for `def`, reading through `client`.
    pub fn new(def: TableDef, client: Arc<IntercomClient>) -> Self {
        let schema = def.schema();
        Self {
            def: Arc::new(def),
            client,
            schema,
        }
    }

    /// The table's definition.
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// The client (workspace) the table reads and writes through.
    pub fn client(&self) -> &Arc<IntercomClient> {
        &self.client
    }
}

/// How many pages listing the whole of `def` takes, as far as `client` has seen its collection
/// (see [`pushdown::plan::listing_pages`]).
pub(super) fn listed_pages(def: &TableDef, client: &IntercomClient) -> Option<u64> {
    pushdown::plan::listing_pages(def, client.config().page_size, |path| {
        client.listed_total(path)
    })
}

#[async_trait]
impl TableProvider for IntercomTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // The request returns a superset of the rows (see `crate::pushdown`) and the scan
        // applies the exact predicate to what comes back, so a filter the requests use is
        // Exact: DataFusion can hand the scan a LIMIT.
        Ok(filters
            .iter()
            .map(|f| pushdown::support(&self.def, f))
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let options = state.config_options().extensions.get::<IntercomOptions>();
        let enabled = options.is_none_or(|o| o.pushdown == Switch::On);
        let scan = options.map_or(ScanMode::Auto, |o| o.scan);
        // The filters shape the requests only with pushdown on; the scan re-checks all of them
        // either way, which is what makes them Exact.
        let plan = pushdown::plan(
            &self.def,
            filters,
            enabled,
            limit,
            self.client.config().page_size,
            scan,
            listed_pages(&self.def, &self.client),
        );

        let projection = projection
            .cloned()
            .unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        // No column wanted (`SELECT count(*)`) from a search that finds exactly the rows the
        // filters keep: its `total_count` is the answer, one request.
        let plan = if enabled
            && limit.is_none()
            && projection.is_empty()
            && pushdown::counts_exactly(&self.def, filters)
        {
            plan.counted()
        } else {
            plan
        };
        // Decode the projected columns plus those the exact predicate reads.
        // A table that is part of another keeps only its part's rows, whatever found them.
        let mut checked = filters.to_vec();
        checked.extend(pushdown::fixed_predicate(&self.def));
        let residual = pushdown::residual(&checked)?;
        let mut decoded: BTreeSet<usize> = projection.iter().copied().collect();
        for column in &residual.columns {
            if let Ok(i) = self.schema.index_of(column) {
                decoded.insert(i);
            }
        }
        let decoded: Vec<usize> = decoded.into_iter().collect();
        // A child table's membership (`contact_id … WHERE tag_id = 'x'`) is the parents the
        // search finds, when it is all the query wants.
        let wanted: Vec<&str> = decoded
            .iter()
            .map(|&i| self.schema.field(i).name().as_str())
            .collect();
        let plan = match pushdown::member_filter(&self.def, filters, &wanted) {
            Some((column, value)) if enabled => {
                plan.members(&self.def, &column, &value).unwrap_or(plan)
            }
            _ => plan,
        };
        let decoded_schema = DFSchema::try_from(self.schema.project(&decoded)?)?;
        let predicate = residual
            .predicate
            .map(|e| state.create_physical_expr(e, &decoded_schema))
            .transpose()?;
        let output = projection
            .iter()
            .map(|p| decoded.iter().position(|d| d == p))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                DataFusionError::Internal("projection outside the decoded columns".into())
            })?;
        Ok(Arc::new(IntercomScanExec::new(
            self.def.clone(),
            self.client.clone(),
            plan,
            ScanColumns {
                decoded,
                output,
                predicate,
                complete_lists: options.is_none_or(|o| o.complete_lists == Switch::On),
            },
            limit,
        )?))
    }
}
