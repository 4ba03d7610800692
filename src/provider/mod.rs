//! The bridge between table definitions and DataFusion: one generic `TableProvider`
//! ([`IntercomTable`]) and one generic `ExecutionPlan` ([`IntercomScanExec`]) for every table.

mod convert;
mod scan;
mod table;

pub use convert::{as_epoch_seconds, lookup, to_batch};
pub use scan::{IntercomScanExec, ScanPlan};
pub use table::IntercomTable;
