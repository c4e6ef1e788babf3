//! What `compare` needs of a run, and nothing more: per `<op>.<metric>` tag the run's whole
//! distribution (its seconds after the warmup added up, see [`Distributions`]), and per op the
//! requests and errors of its summary. A stored folder is read through the store's one reader
//! ([`StoredRun`]); a run just finished is given as it holds it in memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use super::CompareError;
use super::distributions::Distributions;
use crate::store::StoredRun;
use crate::summary::Summary;

/// One run's distributions and counts.
#[derive(Clone, Debug, Default)]
pub struct RunData {
    /// The folder it came from, as given.
    pub dir: PathBuf,
    /// Tag (`run_stream.ttfs`) to the run's distribution, values in µs (`steps`: counts).
    pub histograms: BTreeMap<String, Histogram<u64>>,
    /// Op name to (requests, errors).
    pub requests: BTreeMap<String, (u64, u64)>,
}

impl RunData {
    /// Reads a report folder written by `agentload run` (through the store's reader, which
    /// checks the three files against each other).
    pub fn load(dir: &Path) -> Result<RunData, CompareError> {
        if !dir.is_dir() {
            return Err(CompareError::NotAFolder(dir.to_path_buf()));
        }
        Ok(RunData::of_stored(&StoredRun::load(dir)?))
    }

    /// A stored run: its log's intervals after the warmup the series marks.
    pub fn of_stored(stored: &StoredRun) -> RunData {
        let mut distributions = Distributions::new(stored.warmup());
        for interval in stored.intervals() {
            distributions.add(
                interval.second,
                interval.op,
                interval.metric,
                &interval.histogram,
            );
        }
        RunData {
            dir: stored.dir.clone(),
            histograms: distributions.into_histograms(),
            requests: requests_of(&stored.summary),
        }
    }

    /// A run just finished, writing into `dir`: its distributions as the run kept them, its
    /// counts from `summary`.
    pub fn of_run(dir: &Path, distributions: Distributions, summary: &Summary) -> RunData {
        RunData {
            dir: dir.to_path_buf(),
            histograms: distributions.into_histograms(),
            requests: requests_of(summary),
        }
    }
}

fn requests_of(summary: &Summary) -> BTreeMap<String, (u64, u64)> {
    summary
        .ops
        .iter()
        .map(|(op, s)| (op.clone(), (s.requests, s.errors)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::recorder::Histograms;
    use crate::metrics::series::{OpSecond, SecondRecord, SeriesSink};
    use crate::model::Metric;
    use crate::model::Op;
    use crate::store::{HistogramLog, StoreError, TimeseriesCsv};
    use std::time::{Duration, SystemTime};

    fn second_with(values: &[u64]) -> SecondRecord {
        let mut histograms = Histograms::default();
        for v in values {
            histograms.record(Metric::Ttfs, *v);
        }
        let mut record = SecondRecord::default();
        record.ops.insert(
            Op::RunStream,
            OpSecond {
                requests: values.len() as u64,
                histograms,
                ..OpSecond::default()
            },
        );
        record
    }

    /// A valid summary.json whose only op is `op`.
    fn write_summary(dir: &Path, op: &str, requests: u64, errors: u64) {
        let summary = Summary::build(
            crate::summary::RunInfo::for_tests(),
            &crate::metrics::Recorder::new(0),
            &[],
            &[],
        );
        let mut value = serde_json::to_value(&summary).unwrap();
        value["ops"][op] = serde_json::json!({
            "requests": requests, "ok": requests - errors, "errors": errors,
            "error_classes": {}, "metrics": {}
        });
        std::fs::write(dir.join("summary.json"), value.to_string()).unwrap();
    }

    #[test]
    fn intervals_add_up_per_tag_without_the_warmup() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = HistogramLog::create(dir.path(), "test").unwrap();
        let mut series = TimeseriesCsv::create(dir.path(), Duration::from_secs(1)).unwrap();
        let mut live = crate::compare::DistributionsSink::new(crate::compare::Distributions::new(
            Duration::from_secs(1),
        ));
        let wall = SystemTime::now();
        log.begin(wall).unwrap();
        series.begin(wall).unwrap();
        for (second, values) in [
            (0, vec![9_000_000]),
            (1, vec![100_000, 200_000]),
            (2, vec![300_000]),
        ] {
            let record = second_with(&values);
            log.second(second, &record).unwrap();
            series.second(second, &record).unwrap();
            live.second(second, &record).unwrap();
        }
        log.finish().unwrap();
        series.finish().unwrap();
        write_summary(dir.path(), "run_stream", 4, 1);

        let run = RunData::load(dir.path()).unwrap();
        let ttfs = &run.histograms["run_stream.ttfs"];
        assert_eq!(ttfs.len(), 3, "the warmup second is left out");
        assert!(ttfs.max() < 400_000);
        assert_eq!(run.requests["run_stream"], (4, 1));

        // The run as it held them: the very same distributions.
        let stored = StoredRun::load(dir.path()).unwrap();
        let held = RunData::of_run(dir.path(), live.snapshot(), &stored.summary);
        assert_eq!(held.histograms, run.histograms);
        assert_eq!(held.requests, run.requests);
    }

    /// The store's error inside a failed load.
    fn store_error(err: CompareError) -> StoreError {
        match err {
            CompareError::Store(err) => err,
            other => panic!("not a store error: {other}"),
        }
    }

    #[test]
    fn a_missing_or_corrupt_folder_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = RunData::load(&dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
        let err = store_error(RunData::load(dir.path()).unwrap_err());
        assert!(err.path().ends_with("summary.json"), "{err}");
        std::fs::write(dir.path().join("summary.json"), "{").unwrap();
        let err = store_error(RunData::load(dir.path()).unwrap_err());
        assert!(err.path().ends_with("summary.json"), "{err}");
        write_summary(dir.path(), "get", 1, 0);
        std::fs::write(
            dir.path().join("timeseries.csv"),
            crate::store::timeseries::HEADER.join(",") + "\n",
        )
        .unwrap();
        let err = store_error(RunData::load(dir.path()).unwrap_err());
        assert!(err.path().ends_with("histograms.hlog"), "{err}");
        std::fs::write(
            dir.path().join("histograms.hlog"),
            "Tag=get.latency,0.000,1.000,1.000,notbase64!!\n",
        )
        .unwrap();
        let err = store_error(RunData::load(dir.path()).unwrap_err());
        assert!(
            err.path().ends_with("histograms.hlog") && err.problem().contains("line 1"),
            "{err}"
        );
    }
}
