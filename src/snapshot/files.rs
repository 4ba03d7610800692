//! Parquet files of a snapshot: written to a partial file, flushed to disk, then renamed into
//! place; rows deduplicated and merged by their `id`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use datafusion::parquet::arrow::{AsyncArrowWriter, ProjectionMask};
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;

use super::tables::KEY;
use crate::error::Error;

/// Rows per Parquet row group: what the writer holds in memory before writing one.
const ROW_GROUP_ROWS: usize = 65_536;

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

fn arrow(e: datafusion::arrow::error::ArrowError) -> Error {
    datafusion::error::DataFusionError::from(e).into()
}

fn parquet_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Config(format!(
        "{} is not a readable Parquet file ({e}): remove it to read the table whole again",
        path.display()
    ))
}

/// A Parquet file being written.
pub struct ParquetOut {
    path: PathBuf,
    schema: SchemaRef,
    writer: AsyncArrowWriter<tokio::fs::File>,
    rows: u64,
}

impl ParquetOut {
    /// Creates (or truncates) `path` for rows of `schema`.
    pub async fn create(path: &Path, schema: SchemaRef) -> Result<Self, Error> {
        let file = tokio::fs::File::create(path)
            .await
            .map_err(io(format!("cannot write {}", path.display())))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("intercom-sql {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = AsyncArrowWriter::try_new(file, schema.clone(), Some(properties))
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))?;
        Ok(Self {
            path: path.to_path_buf(),
            schema,
            writer,
            rows: 0,
        })
    }

    /// Appends `batch` (its columns must be of the file's types; field metadata may differ).
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch =
            RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec()).map_err(arrow)?;
        self.writer
            .write(&batch)
            .await
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", self.path.display())))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Writes the footer and flushes the file to disk; returns the rows written.
    pub async fn finish(mut self) -> Result<u64, Error> {
        self.writer
            .finish()
            .await
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", self.path.display())))?;
        self.writer
            .into_inner()
            .sync_all()
            .await
            .map_err(io(format!("cannot write {}", self.path.display())))?;
        Ok(self.rows)
    }
}

/// Renames `partial` over `target` and flushes the directory entry.
pub fn put_in_place(partial: &Path, target: &Path) -> Result<(), Error> {
    std::fs::rename(partial, target).map_err(io(format!("cannot replace {}", target.display())))?;
    if let Some(dir) = target.parent() {
        super::state::sync_dir(dir);
    }
    Ok(())
}

/// The columns of the Parquet file at `path`, or `None` when there is no such file.
pub fn file_schema(path: &Path) -> Result<Option<SchemaRef>, Error> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io(format!("cannot read {}", path.display()))(source)),
    };
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(path, e))?;
    Ok(Some(builder.schema().clone()))
}

/// Reads the Parquet file at `path` batch by batch (only the `id` column with `key_only`),
/// handing each batch to `each`.
pub async fn for_each_batch(
    path: &Path,
    key_only: bool,
    mut each: impl AsyncFnMut(RecordBatch) -> Result<(), Error>,
) -> Result<(), Error> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(io(format!("cannot read {}", path.display())))?;
    let mut builder = ParquetRecordBatchStreamBuilder::new(file)
        .await
        .map_err(|e| parquet_error(path, e))?;
    if key_only {
        let index = builder
            .schema()
            .index_of(KEY)
            .map_err(|e| parquet_error(path, e))?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
        builder = builder.with_projection(mask);
    }
    let mut stream = builder.build().map_err(|e| parquet_error(path, e))?;
    while let Some(batch) = stream.next().await {
        each(batch.map_err(|e| parquet_error(path, e))?).await?;
    }
    Ok(())
}

/// The `id` column of `batch` as text.
pub fn keys(batch: &RecordBatch) -> Result<ArrayRef, Error> {
    let column = batch
        .column_by_name(KEY)
        .ok_or_else(|| Error::Config(format!("the rows have no {KEY} column")))?;
    Ok(match column.data_type() {
        DataType::Utf8 => column.clone(),
        _ => cast(column, &DataType::Utf8).map_err(arrow)?,
    })
}

/// Ids seen so far, for dropping rows already written.
#[derive(Default)]
pub struct Seen {
    /// Every non-null id seen.
    pub ids: HashSet<String>,
}

impl Seen {
    /// `batch` without the rows whose id was seen before (in this batch or an earlier one),
    /// recording the others' ids. Rows without an id are kept.
    pub fn first_of_each(&mut self, batch: &RecordBatch) -> Result<RecordBatch, Error> {
        let keys = keys(batch)?;
        let keys = keys.as_string::<i32>();
        let keep: BooleanArray = (0..keys.len())
            .map(|i| Some(keys.is_null(i) || self.ids.insert(keys.value(i).to_string())))
            .collect();
        if keep.true_count() == batch.num_rows() {
            return Ok(batch.clone());
        }
        filter_record_batch(batch, &keep).map_err(arrow)
    }
}

/// `batch` without the rows whose id is in `ids`, and how many rows that dropped.
pub fn without(batch: &RecordBatch, ids: &HashSet<String>) -> Result<(RecordBatch, u64), Error> {
    let keys = keys(batch)?;
    let keys = keys.as_string::<i32>();
    let keep: BooleanArray = (0..keys.len())
        .map(|i| Some(keys.is_null(i) || !ids.contains(keys.value(i))))
        .collect();
    let dropped = (batch.num_rows() - keep.true_count()) as u64;
    if dropped == 0 {
        return Ok((batch.clone(), 0));
    }
    Ok((filter_record_batch(batch, &keep).map_err(arrow)?, dropped))
}
