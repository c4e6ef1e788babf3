//! Reading a report folder back: `summary.json`, `timeseries.csv` and `histograms.hlog` into
//! typed values, checked as they are read, so `agentload report` (and any later command that
//! compares or merges runs) works from the stored data alone. A missing or corrupt file is an
//! error naming the file, the line and what is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

use super::{hlog, timeseries};
use crate::metrics::series::SecondRecord;
use crate::model::Metric;
use crate::model::Op;
use crate::summary::SCHEMA;
use crate::summary::Summary;

pub const SUMMARY_FILE: &str = "summary.json";

/// A file of the folder that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    pub problem: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for LoadError {}

/// One row of `timeseries.csv`: one op (or `all`) during one second.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesRow {
    pub second: u32,
    pub unix_time: f64,
    pub warmup: bool,
    /// An op name, or `all` for the row of every op together.
    pub op: String,
    pub requests: u64,
    pub errors: u64,
    pub in_flight: u64,
    /// Only on `all` rows.
    pub dropped: Option<u64>,
    /// p50, p90, p99 in ms; `None` where nothing was measured.
    pub latency_ms: [Option<f64>; 3],
    pub ttfs_ms: [Option<f64>; 3],
}

/// One histogram of the log: one op's metric during one second.
#[derive(Clone, Debug)]
pub struct Interval {
    pub second: u32,
    pub op: Op,
    pub metric: Metric,
    pub histogram: Histogram<u64>,
}

/// A report folder, read back.
#[derive(Debug)]
pub struct StoredRun {
    pub dir: PathBuf,
    pub summary: Summary,
    /// `timeseries.csv`, in file order (by second; the `all` row first in each).
    pub rows: Vec<SeriesRow>,
    /// The log's `StartTime` (the start of the load phase); `None` if the load never started.
    pub log_start: Option<SystemTime>,
    /// Every interval of the log merged per op and metric (warmup seconds included).
    pub totals: BTreeMap<(Op, Metric), Histogram<u64>>,
    /// The log's text, decoded again on demand by [`StoredRun::intervals`] (checked on load).
    log: Vec<u8>,
}

impl StoredRun {
    /// Reads and checks the three stored files of `dir`.
    pub fn load(dir: &Path) -> Result<StoredRun, LoadError> {
        let summary = read_summary(&dir.join(SUMMARY_FILE))?;
        let rows = read_rows(&dir.join(timeseries::FILE_NAME))?;
        let log_path = dir.join(hlog::FILE_NAME);
        let log = std::fs::read(&log_path).map_err(|err| cannot_read(&log_path, &err))?;
        let mut run = StoredRun {
            dir: dir.to_path_buf(),
            summary,
            rows,
            log_start: None,
            totals: BTreeMap::new(),
            log,
        };
        run.check_log(&log_path)?;
        Ok(run)
    }

    /// Decodes every entry once: the start time, the totals, and that each interval belongs to
    /// a second and op the series has.
    fn check_log(&mut self, path: &Path) -> Result<(), LoadError> {
        let known: BTreeSet<(u32, &str)> = self
            .rows
            .iter()
            .map(|row| (row.second, row.op.as_str()))
            .collect();
        let mut totals: BTreeMap<(Op, Metric), Histogram<u64>> = BTreeMap::new();
        let mut start = None;
        for entry in LogEntries::new(&self.log) {
            let (line, entry) = entry.map_err(|problem| LoadError {
                path: path.to_path_buf(),
                problem,
            })?;
            let interval = match entry {
                Entry::Start(at) => {
                    start = Some(at);
                    continue;
                }
                Entry::Interval(interval) => interval,
            };
            if !known.contains(&(interval.second, interval.op.name())) {
                return Err(LoadError {
                    path: path.to_path_buf(),
                    problem: format!(
                        "line {line}: an interval of {}.{} at second {} that {} has no row for; \
                         the files come from different runs",
                        interval.op,
                        interval.metric,
                        interval.second,
                        timeseries::FILE_NAME
                    ),
                });
            }
            totals
                .entry((interval.op, interval.metric))
                .or_insert_with(crate::metrics::recorder::new_histogram)
                .add(&interval.histogram)
                .expect("auto-resizing histograms accept any other histogram");
        }
        if start.is_none() && !self.rows.is_empty() {
            return Err(LoadError {
                path: path.to_path_buf(),
                problem: "no #[StartTime: ...] line, but the series has seconds; \
                          the log is truncated or not agentload's"
                    .to_owned(),
            });
        }
        self.log_start = start;
        self.totals = totals;
        Ok(())
    }

    /// Every interval of the log, in file order (by second).
    pub fn intervals(&self) -> impl Iterator<Item = Interval> + '_ {
        LogEntries::new(&self.log).filter_map(|entry| match entry {
            Ok((_, Entry::Interval(interval))) => Some(interval),
            // Checked on load.
            _ => None,
        })
    }

    /// The wall time of second 0 as `timeseries.csv` has it (ms precision).
    pub fn series_start(&self) -> Option<SystemTime> {
        let first = self.rows.first()?;
        let at = first.unix_time - f64::from(first.second);
        let millis = (at.max(0.0) * 1000.0).round() as u64;
        Some(UNIX_EPOCH + Duration::from_millis(millis))
    }

    /// The warmup, in whole seconds: the seconds the series marks as warmup.
    pub fn warmup(&self) -> Duration {
        let seconds = self
            .rows
            .iter()
            .filter(|row| row.warmup)
            .map(|row| row.second + 1)
            .max()
            .unwrap_or(0);
        Duration::from_secs(u64::from(seconds))
    }

    /// Every second of the run as the run's writers saw it: counts and gauges from the series,
    /// histograms from the log. Seconds come in order, none skipped.
    pub fn seconds(&self) -> impl Iterator<Item = (u32, SecondRecord)> + '_ {
        let mut intervals = self.intervals().peekable();
        let mut rows = self.rows.iter().peekable();
        std::iter::from_fn(move || {
            let first = rows.next()?;
            let second = first.second;
            let mut record = SecondRecord::default();
            let take = |row: &SeriesRow, record: &mut SecondRecord| match Op::from_name(&row.op) {
                Some(op) => {
                    let op = record.ops.entry(op).or_default();
                    op.requests = row.requests;
                    op.errors = row.errors;
                    op.in_flight = row.in_flight;
                }
                None => record.dropped = row.dropped.unwrap_or(0),
            };
            take(first, &mut record);
            while let Some(row) = rows.next_if(|row| row.second == second) {
                take(row, &mut record);
            }
            while let Some(interval) = intervals.next_if(|i| i.second <= second) {
                if let Some(op) = record.ops.get_mut(&interval.op) {
                    op.histograms
                        .merge_one(interval.metric, &interval.histogram);
                }
            }
            Some((second, record))
        })
    }
}

fn cannot_read(path: &Path, err: &std::io::Error) -> LoadError {
    let hint = if err.kind() == std::io::ErrorKind::NotFound {
        "; is this a report folder written by agentload run?"
    } else {
        ""
    };
    LoadError {
        path: path.to_path_buf(),
        problem: format!("cannot read: {err}{hint}"),
    }
}

fn read_summary(path: &Path) -> Result<Summary, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|err| cannot_read(path, &err))?;
    let fail = |problem: String| LoadError {
        path: path.to_path_buf(),
        problem,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|err| fail(format!("not valid JSON: {err}")))?;
    let schema = value.get("schema").and_then(serde_json::Value::as_str);
    if schema != Some(SCHEMA) {
        return Err(fail(format!(
            "\"schema\" is {}, expected \"{SCHEMA}\"; only summaries of this version can be read",
            schema.map_or_else(|| "missing".to_owned(), |s| format!("\"{s}\""))
        )));
    }
    serde_json::from_value(value).map_err(|err| fail(format!("not an agentload summary: {err}")))
}

fn read_rows(path: &Path) -> Result<Vec<SeriesRow>, LoadError> {
    let file = std::fs::File::open(path).map_err(|err| cannot_read(path, &err))?;
    let fail = |problem: String| LoadError {
        path: path.to_path_buf(),
        problem,
    };
    let mut reader = csv::Reader::from_reader(std::io::BufReader::new(file));
    let header = reader
        .headers()
        .map_err(|err| fail(format!("cannot read the header: {err}")))?;
    if header.iter().ne(timeseries::HEADER) {
        return Err(fail(format!(
            "line 1: the header is not {}",
            timeseries::HEADER.join(",")
        )));
    }
    let mut rows: Vec<SeriesRow> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| fail(format!("{err}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let row = parse_row(&record).map_err(|problem| fail(format!("line {line}: {problem}")))?;
        let expected = rows.last().map_or(0, |last| {
            if row.op == "all" {
                last.second + 1
            } else {
                last.second
            }
        });
        if row.second != expected || (rows.is_empty() && row.op != "all") {
            return Err(fail(format!(
                "line {line}: second {} of op {} is out of order (expected second {expected}, \
                 each starting with its `all` row)",
                row.second, row.op
            )));
        }
        rows.push(row);
    }
    Ok(rows)
}

fn parse_row(record: &csv::StringRecord) -> Result<SeriesRow, String> {
    let field = |index: usize| record.get(index).unwrap_or("");
    fn number<T: std::str::FromStr>(record: &csv::StringRecord, index: usize) -> Result<T, String> {
        let text = record.get(index).unwrap_or("");
        text.parse().map_err(|_| {
            format!(
                "column {} is {text:?}, not a number",
                timeseries::HEADER[index]
            )
        })
    }
    let optional = |index: usize| -> Result<Option<f64>, String> {
        if field(index).is_empty() {
            Ok(None)
        } else {
            number(record, index).map(Some)
        }
    };
    if record.len() != timeseries::HEADER.len() {
        return Err(format!(
            "{} fields, expected {}",
            record.len(),
            timeseries::HEADER.len()
        ));
    }
    let op = field(3).to_owned();
    if op != "all" && Op::from_name(&op).is_none() {
        return Err(format!("column op is {op:?}, not an op name nor `all`"));
    }
    let warmup = match field(2) {
        "0" => false,
        "1" => true,
        other => return Err(format!("column warmup is {other:?}, expected 0 or 1")),
    };
    let dropped = if field(7).is_empty() {
        None
    } else {
        Some(number(record, 7)?)
    };
    Ok(SeriesRow {
        second: number(record, 0)?,
        unix_time: number(record, 1)?,
        warmup,
        op,
        requests: number(record, 4)?,
        errors: number(record, 5)?,
        in_flight: number(record, 6)?,
        dropped,
        latency_ms: [optional(8)?, optional(9)?, optional(10)?],
        ttfs_ms: [optional(11)?, optional(12)?, optional(13)?],
    })
}

/// What the log holds, besides comments.
enum Entry {
    Start(SystemTime),
    Interval(Interval),
}

/// The log's entries with their line numbers, each interval decoded.
struct LogEntries<'a> {
    text: &'a [u8],
    inner: IntervalLogIterator<'a>,
    deserializer: Deserializer,
    failed: bool,
}

impl<'a> LogEntries<'a> {
    fn new(text: &'a [u8]) -> Self {
        LogEntries {
            text,
            inner: IntervalLogIterator::new(text),
            deserializer: Deserializer::new(),
            failed: false,
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        1 + self.text[..offset].iter().filter(|b| **b == b'\n').count()
    }

    /// The line an interval came from: its encoded text is a slice of the log.
    fn line_of_str(&self, part: &str) -> usize {
        let offset = (part.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        self.line_of(offset)
    }

    fn decode(
        &mut self,
        interval: &hdrhistogram::serialization::interval_log::IntervalLogHistogram<'_>,
        line: usize,
    ) -> Result<Interval, String> {
        let tag = interval
            .tag()
            .ok_or_else(|| format!("line {line}: an interval without a tag (Tag=<op>.<metric>)"))?;
        let (op, metric) = tag
            .as_str()
            .split_once('.')
            .and_then(|(op, metric)| Some((Op::from_name(op)?, Metric::from_name(metric)?)))
            .ok_or_else(|| {
                format!(
                    "line {line}: tag {:?} is not <op>.<metric> (e.g. run_stream.ttfs)",
                    tag.as_str()
                )
            })?;
        let start = interval.start_timestamp();
        if start.subsec_nanos() != 0 {
            return Err(format!(
                "line {line}: interval start {:.3} s is not a whole second",
                start.as_secs_f64()
            ));
        }
        let second = u32::try_from(start.as_secs()).map_err(|_| {
            format!(
                "line {line}: interval start {} s is too large",
                start.as_secs()
            )
        })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|err| format!("line {line}: the histogram is not base64: {err}"))?;
        let histogram: Histogram<u64> = self
            .deserializer
            .deserialize(&mut bytes.as_slice())
            .map_err(|err| format!("line {line}: the histogram does not decode: {err:?}"))?;
        Ok(Interval {
            second,
            op,
            metric,
            histogram,
        })
    }
}

impl Iterator for LogEntries<'_> {
    type Item = Result<(usize, Entry), String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            let entry = match self.inner.next()? {
                Ok(entry) => entry,
                Err(hdrhistogram::serialization::interval_log::LogIteratorError::ParseError {
                    offset,
                }) => {
                    self.failed = true;
                    let line = self.line_of(offset);
                    return Some(Err(format!(
                        "line {line}: not an HdrHistogram interval log line"
                    )));
                }
            };
            let result = match entry {
                LogEntry::StartTime(at) => Ok((0, Entry::Start(UNIX_EPOCH + at))),
                LogEntry::BaseTime(_) => continue,
                LogEntry::Interval(interval) => {
                    let line = self.line_of_str(interval.encoded_histogram());
                    self.decode(&interval, line)
                        .map(|decoded| (line, Entry::Interval(decoded)))
                }
            };
            if result.is_err() {
                self.failed = true;
            }
            return Some(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn a_missing_summary_names_the_file() {
        let dir = folder();
        let err = StoredRun::load(dir.path()).unwrap_err();
        assert_eq!(err.path, dir.path().join("summary.json"));
        assert!(err.problem.contains("is this a report folder"), "{err}");
    }

    #[test]
    fn a_summary_of_another_schema_is_refused() {
        let dir = folder();
        std::fs::write(dir.path().join("summary.json"), r#"{"schema": "x/v9"}"#).unwrap();
        let err = StoredRun::load(dir.path()).unwrap_err();
        assert!(err.problem.contains("\"schema\" is \"x/v9\""), "{err}");
    }

    /// A folder holding the fixture's summary.json and a timeseries.csv of the given rows
    /// (after the header).
    fn folder_with_series(rows: &str) -> tempfile::TempDir {
        let dir = folder();
        let summary = crate::report::fixture::summary();
        std::fs::write(
            dir.path().join("summary.json"),
            serde_json::to_vec(&summary).unwrap(),
        )
        .unwrap();
        let header = timeseries::HEADER.join(",");
        std::fs::write(
            dir.path().join("timeseries.csv"),
            format!("{header}\n{rows}"),
        )
        .unwrap();
        dir
    }

    #[test]
    fn a_bad_series_cell_names_its_line_and_column() {
        let dir = folder_with_series("0,1.000,0,all,3,x,0,0,,,,,,\n");
        let err = StoredRun::load(dir.path()).unwrap_err();
        assert!(err.path.ends_with("timeseries.csv"), "{err}");
        assert_eq!(
            err.problem, "line 2: column errors is \"x\", not a number",
            "{err}"
        );
    }

    #[test]
    fn a_corrupt_log_line_is_named() {
        let dir = folder_with_series("0,1.000,0,all,1,0,0,0,,,,,,\n0,1.000,0,get,1,0,0,,,,,,,\n");
        std::fs::write(
            dir.path().join("histograms.hlog"),
            "#[StartTime: 1.000 (seconds since epoch)]\nTag=get.latency,0.000,1.000,1.000,!!notbase64\n",
        )
        .unwrap();
        let err = StoredRun::load(dir.path()).unwrap_err();
        assert!(err.path.ends_with("histograms.hlog"), "{err}");
        assert!(err.problem.starts_with("line 2: "), "{err}");
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use crate::metrics::series::{OpSecond, SeriesSink, percentile};

    fn op_second(requests: u64, errors: u64, in_flight: u64, values: &[(Metric, u64)]) -> OpSecond {
        let mut op = OpSecond {
            requests,
            errors,
            in_flight,
            ..OpSecond::default()
        };
        for (metric, value) in values {
            op.histograms.record(*metric, *value);
        }
        op
    }

    #[test]
    fn the_stored_seconds_are_the_seconds_written() {
        let dir = tempfile::tempdir().unwrap();
        let summary = crate::report::fixture::summary();
        std::fs::write(
            dir.path().join("summary.json"),
            serde_json::to_vec(&summary).unwrap(),
        )
        .unwrap();
        let mut first = SecondRecord::default();
        first.ops.insert(
            Op::RunStream,
            op_second(
                2,
                1,
                3,
                &[
                    (Metric::Latency, 150_000),
                    (Metric::Ttfs, 40_000),
                    (Metric::InterStep, 900),
                ],
            ),
        );
        first
            .ops
            .insert(Op::Get, op_second(5, 0, 0, &[(Metric::Latency, 3_000)]));
        let second = SecondRecord {
            dropped: 4,
            ..SecondRecord::default()
        };
        let mut third = SecondRecord::default();
        third
            .ops
            .insert(Op::Get, op_second(1, 0, 1, &[(Metric::Latency, 2_500)]));
        let written = [first, second, third];

        let wall = UNIX_EPOCH + Duration::from_millis(1_795_000_000_123);
        let mut sinks: Vec<Box<dyn SeriesSink>> = vec![
            Box::new(
                timeseries::TimeseriesCsv::create(dir.path(), Duration::from_secs(1)).unwrap(),
            ),
            Box::new(hlog::HistogramLog::create(dir.path(), "test").unwrap()),
        ];
        for sink in &mut sinks {
            sink.begin(wall).unwrap();
            for (second, record) in written.iter().enumerate() {
                sink.second(second as u32, record).unwrap();
            }
            sink.finish().unwrap();
        }

        let run = StoredRun::load(dir.path()).unwrap();
        assert_eq!(run.summary, summary);
        assert_eq!(run.log_start, Some(wall));
        assert_eq!(run.series_start(), Some(wall));
        assert_eq!(run.warmup(), Duration::from_secs(1));
        assert_eq!(run.rows.len(), 3 + 1 + 2);
        assert_eq!(run.totals[&(Op::Get, Metric::Latency)].len(), 2);
        let read: Vec<(u32, SecondRecord)> = run.seconds().collect();
        assert_eq!(read.len(), 3);
        for ((second, got), (index, want)) in read.iter().zip(written.iter().enumerate()) {
            assert_eq!(*second as usize, index);
            assert_eq!(got.dropped, want.dropped);
            assert_eq!(
                got.ops.keys().collect::<Vec<_>>(),
                want.ops.keys().collect::<Vec<_>>()
            );
            for (op, want) in &want.ops {
                let got = &got.ops[op];
                assert_eq!(
                    (got.requests, got.errors, got.in_flight),
                    (want.requests, want.errors, want.in_flight)
                );
                for metric in Metric::ALL {
                    assert_eq!(
                        got.histograms.get(metric).map(Histogram::len),
                        want.histograms.get(metric).map(Histogram::len),
                        "{op} {metric}"
                    );
                    assert_eq!(
                        percentile(got, metric, 0.99),
                        percentile(want, metric, 0.99)
                    );
                }
            }
        }
    }
}
