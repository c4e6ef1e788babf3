//! What `compare` needs from a report folder, and nothing more: per `<op>.<metric>` tag the
//! run's whole distribution (every interval of `histograms.hlog` added up, warmup seconds left
//! out as `timeseries.csv` marks them), and per op the requests and errors of `summary.json`.
//! A stored folder is read through the shared loader ([`StoredRun`]); a run just finished
//! (whose summary is not written yet) has its log read here.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

use crate::report::stored::StoredRun;
use crate::report::{hlog, timeseries};
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

/// A folder that cannot be read, naming the file and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
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

fn error(path: &Path, problem: impl Into<String>) -> LoadError {
    LoadError {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

impl RunData {
    /// Reads a report folder written by `agentload run` (through the shared loader, which
    /// checks the three files against each other).
    pub fn load(dir: &Path) -> Result<RunData, LoadError> {
        if !dir.is_dir() {
            return Err(error(
                dir,
                "not a folder; give the report folder of a run (it holds summary.json and histograms.hlog)",
            ));
        }
        let stored = StoredRun::load(dir).map_err(|err| error(&err.path, err.problem))?;
        let warmup = stored.warmup().as_secs();
        let mut histograms: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
        for interval in stored.intervals().filter(|i| u64::from(i.second) >= warmup) {
            let tag = format!("{}.{}", interval.op.name(), interval.metric.name());
            match histograms.get_mut(&tag) {
                Some(total) => total.add(&interval.histogram).map_err(|err| {
                    error(
                        &dir.join(hlog::FILE_NAME),
                        format!("`{tag}` cannot be added up: {err:?}"),
                    )
                })?,
                None => {
                    let mut total = interval.histogram;
                    total.auto(true);
                    histograms.insert(tag, total);
                }
            }
        }
        Ok(RunData {
            dir: dir.to_path_buf(),
            histograms,
            requests: requests_of(&stored.summary),
        })
    }

    /// A run just finished: its histograms from `dir`, its counts from `summary`.
    pub fn of_finished_run(dir: &Path, summary: &Summary) -> Result<RunData, LoadError> {
        Ok(RunData {
            dir: dir.to_path_buf(),
            histograms: histograms_of(dir)?,
            requests: requests_of(summary),
        })
    }
}

fn requests_of(summary: &Summary) -> BTreeMap<String, (u64, u64)> {
    summary
        .ops
        .iter()
        .map(|(op, s)| (op.clone(), (s.requests, s.errors)))
        .collect()
}

/// Every tag's intervals added up, warmup seconds left out.
fn histograms_of(dir: &Path) -> Result<BTreeMap<String, Histogram<u64>>, LoadError> {
    let warmup = warmup_seconds(dir)?;
    let path = dir.join(hlog::FILE_NAME);
    let bytes = std::fs::read(&path).map_err(|err| error(&path, err.to_string()))?;
    let mut deserializer = Deserializer::new();
    let mut totals: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    for (index, entry) in IntervalLogIterator::new(&bytes).enumerate() {
        let entry = entry.map_err(|err| {
            error(
                &path,
                format!("entry {} is not an interval log line: {err:?}", index + 1),
            )
        })?;
        let LogEntry::Interval(interval) = entry else {
            continue;
        };
        let Some(tag) = interval.tag() else {
            continue;
        };
        let second = interval.start_timestamp().as_secs();
        if second < warmup {
            continue;
        }
        let bad = |what: String| {
            error(
                &path,
                format!("interval of `{}` at {second} s: {what}", tag.as_str()),
            )
        };
        let encoded = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            interval.encoded_histogram(),
        )
        .map_err(|err| bad(format!("not base64: {err}")))?;
        let histogram: Histogram<u64> = deserializer
            .deserialize(&mut encoded.as_slice())
            .map_err(|err| bad(format!("not a V2 histogram: {err:?}")))?;
        match totals.get_mut(tag.as_str()) {
            Some(total) => total
                .add(&histogram)
                .map_err(|err| bad(format!("cannot be added up: {err:?}")))?,
            None => {
                let mut total = histogram;
                total.auto(true);
                totals.insert(tag.as_str().to_owned(), total);
            }
        }
    }
    Ok(totals)
}

/// The seconds at the start that `timeseries.csv` marks as warmup (0 without the file).
fn warmup_seconds(dir: &Path) -> Result<u64, LoadError> {
    let path = dir.join(timeseries::FILE_NAME);
    if !path.exists() {
        return Ok(0);
    }
    let mut reader = csv::Reader::from_path(&path).map_err(|err| error(&path, err.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|err| error(&path, err.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| error(&path, format!("no `{name}` column")))
    };
    let (second_at, warmup_at) = (column("second")?, column("warmup")?);
    let mut seconds = 0;
    for (line, row) in reader.records().enumerate() {
        let row = row.map_err(|err| error(&path, err.to_string()))?;
        if row.get(warmup_at) == Some("1") {
            let second: u64 = row
                .get(second_at)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    error(
                        &path,
                        format!("line {}: `second` is not a number", line + 2),
                    )
                })?;
            seconds = seconds.max(second + 1);
        }
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::recorder::Histograms;
    use crate::metrics::series::{OpSecond, SecondRecord, SeriesSink};
    use crate::model::Metric;
    use crate::model::Op;
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
        let mut log = hlog::HistogramLog::create(dir.path(), "test").unwrap();
        let mut series =
            timeseries::TimeseriesCsv::create(dir.path(), Duration::from_secs(1)).unwrap();
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
        }
        log.finish().unwrap();
        series.finish().unwrap();
        write_summary(dir.path(), "run_stream", 4, 1);

        let run = RunData::load(dir.path()).unwrap();
        let ttfs = &run.histograms["run_stream.ttfs"];
        assert_eq!(ttfs.len(), 3, "the warmup second is left out");
        assert!(ttfs.max() < 400_000);
        assert_eq!(run.requests["run_stream"], (4, 1));
    }

    #[test]
    fn a_missing_or_corrupt_folder_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = RunData::load(&dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
        let err = RunData::load(dir.path()).unwrap_err();
        assert!(err.path.ends_with("summary.json"), "{err}");
        std::fs::write(dir.path().join("summary.json"), "{").unwrap();
        let err = RunData::load(dir.path()).unwrap_err();
        assert!(err.path.ends_with("summary.json"), "{err}");
        write_summary(dir.path(), "get", 1, 0);
        std::fs::write(
            dir.path().join("timeseries.csv"),
            timeseries::HEADER.join(",") + "\n",
        )
        .unwrap();
        let err = RunData::load(dir.path()).unwrap_err();
        assert!(err.path.ends_with("histograms.hlog"), "{err}");
        std::fs::write(
            dir.path().join("histograms.hlog"),
            "Tag=get.latency,0.000,1.000,1.000,notbase64!!\n",
        )
        .unwrap();
        let err = RunData::load(dir.path()).unwrap_err();
        assert!(
            err.path.ends_with("histograms.hlog") && err.problem.contains("line 1"),
            "{err}"
        );
    }
}
