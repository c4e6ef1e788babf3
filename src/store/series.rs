//! The files a run writes as it goes, together: the writers of the per-second series
//! (`timeseries.csv`, `histograms.hlog`), created before the run so a folder that cannot take
//! them fails before any load is sent.

use std::path::Path;

use super::StoreError;
use super::hlog::{HistogramLog, log_comment};
use super::timeseries::TimeseriesCsv;
use crate::metrics::series::SeriesSink;
use crate::scenario::Plan;

/// The series writers of a run of `plan` into `dir`.
pub fn series_writers(
    dir: &Path,
    plan: &Plan,
    run_id: &str,
) -> Result<Vec<Box<dyn SeriesSink>>, StoreError> {
    let about = log_comment(run_id, &plan.name);
    Ok(vec![
        Box::new(TimeseriesCsv::create(dir, plan.load.warmup)?),
        Box::new(HistogramLog::create(dir, &about)?),
    ])
}
