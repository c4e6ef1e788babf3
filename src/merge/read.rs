//! Reading a finished report folder back: `summary.json`, `timeseries.csv` and the histograms of
//! an HdrHistogram interval log (`histograms.hlog`, `shard.hlog`). A small reader of its own, kept
//! to this one file, until a shared loader of stored runs exists.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

use crate::summary::Summary;

/// One interval of a log: when it started (seconds since the Unix epoch), how long it lasted,
/// its tag and its histogram.
#[derive(Debug)]
pub struct Interval {
    pub start: f64,
    pub length: Duration,
    pub tag: Option<String>,
    pub histogram: Histogram<u64>,
}

/// Every interval of an interval log, with absolute start times (the log's BaseTime plus each
/// interval's offset; a log without one holds absolute times).
pub fn hlog(path: &Path) -> Result<Vec<Interval>, String> {
    let bytes =
        std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let mut base = 0.0;
    let mut intervals = Vec::new();
    let mut deserializer = Deserializer::new();
    for (number, entry) in IntervalLogIterator::new(&bytes).enumerate() {
        let entry = entry.map_err(|err| {
            format!(
                "{}: entry {} is not a valid interval log line ({err:?}); was the file cut short or edited?",
                path.display(),
                number + 1
            )
        })?;
        match entry {
            LogEntry::BaseTime(at) => base = at.as_secs_f64(),
            LogEntry::StartTime(_) => {}
            LogEntry::Interval(interval) => {
                let compressed = base64::engine::general_purpose::STANDARD
                    .decode(interval.encoded_histogram())
                    .map_err(|err| {
                        format!("{}: a histogram is not base64: {err}", path.display())
                    })?;
                let histogram: Histogram<u64> = deserializer
                    .deserialize(&mut compressed.as_slice())
                    .map_err(|err| {
                        format!("{}: a histogram cannot be decoded: {err:?}", path.display())
                    })?;
                intervals.push(Interval {
                    start: base + interval.start_timestamp().as_secs_f64(),
                    length: interval.duration(),
                    tag: interval.tag().map(|tag| tag.as_str().to_owned()),
                    histogram,
                });
            }
        }
    }
    Ok(intervals)
}

/// A folder's `summary.json`.
pub fn summary(dir: &Path) -> Result<Summary, String> {
    json(&dir.join("summary.json"))
}

/// A JSON file as `T`.
pub fn json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => format!(
            "{} is missing: is this the report folder of a finished run?",
            path.display()
        ),
        _ => format!("cannot read {}: {err}", path.display()),
    })?;
    serde_json::from_str(&text).map_err(|err| format!("{} is not valid: {err}", path.display()))
}

/// One row of `timeseries.csv`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct SeriesRow {
    pub second: u32,
    pub unix_time: f64,
    pub warmup: u8,
    pub op: String,
    pub requests: u64,
    pub errors: u64,
    pub in_flight: u64,
    pub dropped: Option<u64>,
}

/// Every row of a folder's `timeseries.csv` (the percentile columns are left: they are
/// recomputed from the histograms).
pub fn timeseries(dir: &Path) -> Result<Vec<SeriesRow>, String> {
    let path = dir.join(crate::report::timeseries::FILE_NAME);
    let mut reader = csv::Reader::from_path(&path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(row, record)| {
            record.map_err(|err| format!("{} row {}: {err}", path.display(), row + 2))
        })
        .collect()
}
