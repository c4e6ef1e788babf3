//! The merged per-second series: the shards' seconds lined up by wall-clock second (from the
//! `unix_time` of `timeseries.csv` and the timestamps of `histograms.hlog`), counters summed and
//! each second's histograms added exactly, then written by the run's own writers.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Shard;
use super::part::{self, Scope};
use crate::metrics::series::{SecondRecord, SeriesSink};
use crate::model::Op;
use crate::report::{hlog, timeseries};

/// The whole run's seconds: when second 0 began, and each second from there.
pub struct Series {
    pub start: SystemTime,
    pub seconds: Vec<SecondRecord>,
}

/// Lines up and adds the shards' seconds. Second 0 is the earliest shard's start.
pub fn merge(shards: &[Shard]) -> Result<Series, String> {
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
        for row in &shard.rows {
            let Some(second) = second_of(row.unix_time) else {
                continue;
            };
            let record = seconds.entry(second).or_default();
            if row.op == "all" {
                record.dropped += row.dropped.unwrap_or(0);
            } else if let Some(op) = Op::from_name(&row.op) {
                let op = record.ops.entry(op).or_default();
                op.requests += row.requests;
                op.errors += row.errors;
                op.in_flight += row.in_flight;
            }
        }
        for interval in &shard.intervals {
            let key = interval.tag.as_deref().and_then(part::parse_tag);
            let (Some((Scope::Op, op, metric)), Some(second)) = (key, second_of(interval.start))
            else {
                continue;
            };
            seconds
                .entry(second)
                .or_default()
                .ops
                .entry(op)
                .or_default()
                .histograms
                .merge_one(metric, &interval.histogram);
        }
    }
    let last = seconds.keys().next_back().map_or(0, |last| last + 1);
    let seconds = (0..last)
        .map(|second| seconds.remove(&second).unwrap_or_default())
        .collect();
    Ok(Series {
        start: UNIX_EPOCH + Duration::from_secs_f64(base),
        seconds,
    })
}

/// Writes `timeseries.csv` and `histograms.hlog` of the merged series into `dir`.
pub fn write(dir: &Path, series: &Series, warmup: Duration, about: &str) -> std::io::Result<()> {
    let mut sinks: Vec<Box<dyn SeriesSink>> = vec![
        Box::new(timeseries::TimeseriesCsv::create(dir, warmup)?),
        Box::new(hlog::HistogramLog::create(dir, about)?),
    ];
    for sink in &mut sinks {
        sink.begin(series.start)?;
        for (second, record) in series.seconds.iter().enumerate() {
            sink.second(second as u32, record)?;
        }
        sink.finish()?;
    }
    Ok(())
}
