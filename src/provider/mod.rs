//! The bridge between table definitions and DataFusion: one generic `TableProvider`
//! ([`IntercomTable`]) and one generic `ExecutionPlan` ([`IntercomScanExec`]) for every table.

mod complete;
pub(crate) mod convert;
mod document;
mod ordered;
mod partition;
pub(crate) mod raw_items;
mod scan;
mod table;

pub use convert::{BatchDecoder, RawRows};
pub use ordered::OrderedUnderTopK;
pub use raw_items::RawItemsFunction;
pub use scan::{IntercomScanExec, SequentialUnderLimit};
pub use table::IntercomTable;
