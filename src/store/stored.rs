//! Reading a report folder back: `summary.json`, `timeseries.csv` and `histograms.hlog` into
//! typed values, checked as they are read and against each other, so `agentload report`,
//! `compare` and `merge` work from the stored data alone. A missing or corrupt file is an error
//! naming the file, the line and what is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use super::StoreError;
use super::error::{LogProblem, Problem};
use super::hlog::Interval;
use super::interval_log::{Entries, Entry};
use super::names::{HISTOGRAMS_HLOG, SUMMARY_JSON, TIMESERIES_CSV};
use super::timeseries::SeriesRow;
use crate::metrics::series::SecondRecord;
use crate::model::{Metric, Op};
use crate::summary::Summary;

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
    pub fn load(dir: &Path) -> Result<StoredRun, StoreError> {
        let summary = super::summary_json::read(&SUMMARY_JSON.path_in(dir))?;
        let rows = super::timeseries::read(&TIMESERIES_CSV.path_in(dir))?;
        let log_path = HISTOGRAMS_HLOG.path_in(dir);
        let log = std::fs::read(&log_path).map_err(|err| StoreError::read(&log_path, err))?;
        let mut run = StoredRun {
            dir: dir.to_path_buf(),
            summary,
            rows,
            log_start: None,
            totals: BTreeMap::new(),
            log,
        };
        run.check_log()
            .map_err(|problem| StoreError::invalid(&log_path, problem))?;
        Ok(run)
    }

    /// Decodes every entry once: the start time, the totals, and that each interval belongs to
    /// a second and op the series has.
    fn check_log(&mut self) -> Result<(), Problem> {
        let known: BTreeSet<(u32, &str)> = self
            .rows
            .iter()
            .map(|row| (row.second, row.op.as_str()))
            .collect();
        let mut totals: BTreeMap<(Op, Metric), Histogram<u64>> = BTreeMap::new();
        let mut start = None;
        for entry in Entries::new(&self.log) {
            let logged = match entry? {
                Entry::Start(at) => {
                    start = Some(at);
                    continue;
                }
                Entry::Base(_) => continue,
                Entry::Interval(logged) => logged,
            };
            let line = logged.line;
            let interval = Interval::from_logged(logged)?;
            if !known.contains(&(interval.second, interval.op.name())) {
                return Err(Problem::Log {
                    line,
                    what: LogProblem::NoRow {
                        op: interval.op,
                        metric: interval.metric,
                        second: interval.second,
                    },
                });
            }
            totals
                .entry((interval.op, interval.metric))
                .or_insert_with(crate::metrics::recorder::new_histogram)
                .add(&interval.histogram)
                .expect("auto-resizing histograms accept any other histogram");
        }
        if start.is_none() && !self.rows.is_empty() {
            return Err(Problem::NoStartTime);
        }
        self.log_start = start;
        self.totals = totals;
        Ok(())
    }

    /// Every interval of the log, in file order (by second).
    pub fn intervals(&self) -> impl Iterator<Item = Interval> + '_ {
        Entries::new(&self.log).filter_map(|entry| match entry {
            Ok(Entry::Interval(logged)) => Interval::from_logged(logged).ok(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::timeseries::HEADER;

    fn folder() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn a_missing_summary_names_the_file() {
        let dir = folder();
        let err = StoredRun::load(dir.path()).unwrap_err();
        assert_eq!(err.path(), dir.path().join("summary.json"));
        assert!(err.problem().contains("is this a report folder"), "{err}");
    }

    #[test]
    fn a_summary_of_another_schema_is_refused() {
        let dir = folder();
        std::fs::write(dir.path().join("summary.json"), r#"{"schema": "x/v9"}"#).unwrap();
        let err = StoredRun::load(dir.path()).unwrap_err();
        assert!(err.problem().contains("\"schema\" is \"x/v9\""), "{err}");
    }

    /// A folder holding a valid summary.json and a timeseries.csv of the given rows (after the
    /// header).
    fn folder_with_series(rows: &str) -> tempfile::TempDir {
        let dir = folder();
        std::fs::write(
            dir.path().join("summary.json"),
            serde_json::to_vec(&summary()).unwrap(),
        )
        .unwrap();
        let header = HEADER.join(",");
        std::fs::write(
            dir.path().join("timeseries.csv"),
            format!("{header}\n{rows}"),
        )
        .unwrap();
        dir
    }

    fn summary() -> Summary {
        Summary::build(
            crate::summary::RunInfo::for_tests(),
            &crate::metrics::Recorder::new(0),
            &[],
            &[],
        )
    }

    #[test]
    fn a_bad_series_cell_names_its_line_and_column() {
        let dir = folder_with_series("0,1.000,0,all,3,x,0,0,,,,,,\n");
        let err = StoredRun::load(dir.path()).unwrap_err();
        assert!(err.path().ends_with("timeseries.csv"), "{err}");
        assert_eq!(
            err.problem(),
            "line 2: column errors is \"x\", not a number",
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
        assert!(err.path().ends_with("histograms.hlog"), "{err}");
        assert!(err.problem().starts_with("line 2: "), "{err}");
    }
}
