//! The merged per-second series: the shards' seconds lined up by wall-clock second (from the
//! `unix_time` of `timeseries.csv` and the timestamps of `histograms.hlog`), counters summed and
//! each second's histograms added exactly, then written by the run's own writers.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Shard;
use crate::metrics::series::{SecondRecord, SeriesSink};
use crate::model::Op;
use crate::store::names::{FileName, HISTOGRAMS_HLOG, TIMESERIES_CSV};
use crate::store::timeseries::ALL;
use crate::store::{HistogramLog, StoreError, TimeseriesCsv};

/// The whole run's seconds: when second 0 began, and each second from there.
pub struct Series {
    pub start: SystemTime,
    pub seconds: Vec<SecondRecord>,
}

/// Lines up and adds the shards' seconds. Second 0 is the earliest shard's start.
pub fn merge(shards: &[Shard]) -> Series {
    let base = shards
        .iter()
        .filter_map(|s| s.started)
        .fold(f64::INFINITY, f64::min);
    let base = if base.is_finite() { base } else { 0.0 };
    let second_of = |unix: f64| -> Option<u32> {
        let offset = (unix - base).round();
        (offset >= 0.0 && offset < f64::from(u32::MAX)).then_some(offset as u32)
    };
    let mut seconds: BTreeMap<u32, SecondRecord> = BTreeMap::new();
    for shard in shards {
        for row in &shard.run.rows {
            let Some(second) = second_of(row.unix_time) else {
                continue;
            };
            let record = seconds.entry(second).or_default();
            if row.op == ALL {
                record.dropped += row.dropped.unwrap_or(0);
            } else if let Some(op) = Op::from_name(&row.op) {
                let op = record.ops.entry(op).or_default();
                op.requests += row.requests;
                op.errors += row.errors;
                op.in_flight += row.in_flight;
            }
        }
        // The log's intervals start at whole seconds from its start time.
        let log_start = shard.run.log_start.map_or(0.0, |at| {
            at.duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64()
        });
        for interval in shard.run.intervals() {
            let Some(second) = second_of(log_start + f64::from(interval.second)) else {
                continue;
            };
            seconds
                .entry(second)
                .or_default()
                .ops
                .entry(interval.op)
                .or_default()
                .histograms
                .merge_one(interval.metric, &interval.histogram);
        }
    }
    let last = seconds.keys().next_back().map_or(0, |last| last + 1);
    let seconds = (0..last)
        .map(|second| seconds.remove(&second).unwrap_or_default())
        .collect();
    Series {
        start: UNIX_EPOCH + Duration::from_secs_f64(base),
        seconds,
    }
}

/// Writes `timeseries.csv` and `histograms.hlog` of the merged series into `dir`.
pub fn write(dir: &Path, series: &Series, warmup: Duration, about: &str) -> Result<(), StoreError> {
    let sinks: Vec<(FileName, Box<dyn SeriesSink>)> = vec![
        (
            TIMESERIES_CSV,
            Box::new(TimeseriesCsv::create(dir, warmup)?),
        ),
        (HISTOGRAMS_HLOG, Box::new(HistogramLog::create(dir, about)?)),
    ];
    for (name, mut sink) in sinks {
        let written = (|| {
            sink.begin(series.start)?;
            for (second, record) in series.seconds.iter().enumerate() {
                sink.second(second as u32, record)?;
            }
            sink.finish()
        })();
        written.map_err(|err| StoreError::write(&name.path_in(dir), err))?;
    }
    Ok(())
}
