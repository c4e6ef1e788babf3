//! `agentload report DIR`: every file of the report folder rendered again from the stored data
//! alone (`summary.json`, `timeseries.csv`, `histograms.hlog`), through the same writers a run
//! uses, so the numbers are the run's own.

use std::path::{Path, PathBuf};

use super::formats;
use super::history::{History, RunData};
use crate::metrics::series::SeriesSink;
use crate::store::names::{FileName, HISTOGRAMS_HLOG, SUMMARY_JSON, TIMESERIES_CSV};
use crate::store::{HistogramLog, StoreError, StoredRun, TimeseriesCsv, log_comment};

/// Renders `run` into `out`. When `out` is the run's own folder, the three stored files are
/// left as they are and only the derived ones (`summary.md`, `report.html`) are written.
pub fn rerender(run: &StoredRun, out: &Path) -> Result<Vec<PathBuf>, StoreError> {
    crate::store::create(out)?;
    let in_place = same_folder(&run.dir, out);
    let mut written = Vec::new();
    for format in formats() {
        if in_place && format.file_name() == SUMMARY_JSON {
            continue;
        }
        written.push(crate::store::write(
            out,
            format.file_name(),
            &format.render(&run.summary),
        )?);
    }

    let warmup = run.warmup();
    let mut history = History::new(warmup);
    let mut sinks: Vec<(FileName, Box<dyn SeriesSink>)> = Vec::new();
    if !in_place {
        let mut series = TimeseriesCsv::create(out, warmup)?;
        if let Some(start) = run.series_start() {
            series
                .begin(start)
                .map_err(|err| StoreError::write(&TIMESERIES_CSV.path_in(out), err))?;
        }
        let about = log_comment(&run.summary.run_id, &run.summary.scenario);
        let mut log = HistogramLog::create(out, &about)?;
        if let Some(start) = run.log_start {
            log.begin(start)
                .map_err(|err| StoreError::write(&HISTOGRAMS_HLOG.path_in(out), err))?;
        }
        sinks.push((TIMESERIES_CSV, Box::new(series)));
        sinks.push((HISTOGRAMS_HLOG, Box::new(log)));
    }
    let failed = |name: FileName| move |err| StoreError::write(&name.path_in(out), err);
    for (second, record) in run.seconds() {
        history.add(second, &record);
        for (name, sink) in &mut sinks {
            sink.second(second, &record).map_err(failed(*name))?;
        }
    }
    for (name, sink) in &mut sinks {
        sink.finish().map_err(failed(*name))?;
        written.push(name.path_in(out));
    }
    let data = RunData {
        summary: &run.summary,
        history: &history,
    };
    written.push(super::html::write(out, &data)?);
    Ok(written)
}

/// Writes `report.html` of a stored run into its own folder, leaving every other file as it
/// is: what `agentload merge` uses once the merged folder's stored files are written.
pub fn html_only(run: &StoredRun) -> Result<PathBuf, StoreError> {
    let mut history = History::new(run.warmup());
    for (second, record) in run.seconds() {
        history.add(second, &record);
    }
    let data = RunData {
        summary: &run.summary,
        history: &history,
    };
    super::html::write(&run.dir, &data)
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod round_trip {
    //! The store reads back what its writers wrote: every format's fixture summary, and every
    //! second of the series and the log.

    use std::time::{Duration, UNIX_EPOCH};

    use hdrhistogram::Histogram;

    use crate::metrics::series::{OpSecond, SecondRecord, SeriesSink, percentile};
    use crate::model::{Metric, Op};
    use crate::store::{HistogramLog, StoredRun, TimeseriesCsv};

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
            Box::new(TimeseriesCsv::create(dir.path(), Duration::from_secs(1)).unwrap()),
            Box::new(HistogramLog::create(dir.path(), "test").unwrap()),
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
