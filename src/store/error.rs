//! The one error of the store: which file (or folder) of a report folder cannot be used, and
//! what is wrong with it, down to the line and column of a stored file.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::{Metric, Op};

use super::names::TIMESERIES_CSV;
use super::timeseries::HEADER;

/// A report folder, or one of its files, that cannot be prepared, written or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The folder cannot be created.
    #[error("cannot create the report folder {}: {source}", dir.display())]
    CreateFolder { dir: PathBuf, source: io::Error },
    /// The folder holds files, none of them a report's: a run would mix its files with others.
    #[error(
        "{} is not empty and holds no agentload report; a run would mix its files with what is there\n  help: name a new or empty folder, or one an earlier run wrote",
        dir.display()
    )]
    Foreign { dir: PathBuf },
    /// The folder exists but a file cannot be created in it.
    #[error("cannot write into the report folder {}: {source}", dir.display())]
    NotWritable { dir: PathBuf, source: io::Error },
    /// A file of the folder cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// A stored file cannot be read (missing, most often).
    #[error("{}: cannot read: {source}{}", path.display(), read_hint(source))]
    Read { path: PathBuf, source: io::Error },
    /// A stored file is there but is not what the store writes.
    #[error("{}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: Problem },
}

impl StoreError {
    /// The file (or folder) the error is about.
    pub fn path(&self) -> &Path {
        match self {
            StoreError::CreateFolder { dir, .. }
            | StoreError::NotWritable { dir, .. }
            | StoreError::Foreign { dir } => dir,
            StoreError::Write { path, .. }
            | StoreError::Read { path, .. }
            | StoreError::Invalid { path, .. } => path,
        }
    }

    /// What is wrong, without the path: the message after `PATH: ` for a stored file.
    pub fn problem(&self) -> String {
        match self {
            StoreError::Read { source, .. } => {
                format!("cannot read: {source}{}", read_hint(source))
            }
            StoreError::Invalid { problem, .. } => problem.to_string(),
            other => other.to_string(),
        }
    }

    /// `path` cannot be read.
    pub(crate) fn read(path: &Path, source: io::Error) -> StoreError {
        StoreError::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    /// `path` cannot be written.
    pub(crate) fn write(path: &Path, source: io::Error) -> StoreError {
        StoreError::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    /// `path` holds something the store does not write.
    pub(crate) fn invalid(path: &Path, problem: Problem) -> StoreError {
        StoreError::Invalid {
            path: path.to_path_buf(),
            problem,
        }
    }
}

/// A missing file is most often a folder that is not a report folder at all.
fn read_hint(err: &io::Error) -> &'static str {
    if err.kind() == io::ErrorKind::NotFound {
        "; is this a report folder written by agentload run?"
    } else {
        ""
    }
}

/// What is wrong with a stored file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// `summary.json` (or `shard.json`) is not JSON at all.
    #[error("not valid JSON: {0}")]
    NotJson(serde_json::Error),
    /// `summary.json` of another version of the contract (or of none).
    #[error(
        "\"schema\" is {}, expected \"{expected}\"; only summaries of this version can be read",
        found.as_ref().map_or_else(|| "missing".to_owned(), |s| format!("\"{s}\""))
    )]
    Schema {
        found: Option<String>,
        expected: &'static str,
    },
    /// JSON, but not the shape of an agentload summary.
    #[error("not an agentload summary: {0}")]
    NotASummary(serde_json::Error),
    /// JSON, but not the shape of `shard.json`.
    #[error("not valid: {0}")]
    NotShardMeta(serde_json::Error),
    /// The header of `timeseries.csv` cannot be read.
    #[error("cannot read the header: {0}")]
    CsvHeader(csv::Error),
    /// `timeseries.csv` has other columns than the store writes.
    #[error("line 1: the header is not {}", HEADER.join(","))]
    WrongHeader,
    /// A record of `timeseries.csv` cannot be read as CSV.
    #[error("{0}")]
    Csv(csv::Error),
    /// A row of `timeseries.csv` with a bad cell.
    #[error("line {line}: {what}")]
    Row { line: u64, what: RowProblem },
    /// Rows of `timeseries.csv` not in the order the store writes them.
    #[error(
        "line {line}: second {second} of op {op} is out of order (expected second {expected}, \
         each starting with its `all` row)"
    )]
    OutOfOrder {
        line: u64,
        second: u32,
        op: String,
        expected: u32,
    },
    /// A line of an interval log that cannot be used.
    #[error("line {line}: {what}")]
    Log { line: usize, what: LogProblem },
    /// `histograms.hlog` without its start time while the series has seconds.
    #[error(
        "no #[StartTime: ...] line, but the series has seconds; the log is truncated or not agentload's"
    )]
    NoStartTime,
    /// A histogram of `shard.hlog` whose tag is none that agentload writes.
    #[error("a histogram tagged {tag:?} is not one agentload writes")]
    UnknownShardTag { tag: Option<String> },
}

/// What is wrong with one row of `timeseries.csv`.
#[derive(Debug, thiserror::Error)]
pub enum RowProblem {
    #[error("column {column} is {text:?}, not a number")]
    NotANumber { column: &'static str, text: String },
    #[error("{found} fields, expected {expected}")]
    FieldCount { found: usize, expected: usize },
    #[error("column op is {0:?}, not an op name nor `all`")]
    Op(String),
    #[error("column warmup is {0:?}, expected 0 or 1")]
    Warmup(String),
}

/// What is wrong with one line of an interval log.
#[derive(Debug, thiserror::Error)]
pub enum LogProblem {
    #[error("not an HdrHistogram interval log line")]
    NotALogLine,
    #[error("an interval without a tag (Tag=<op>.<metric>)")]
    NoTag,
    #[error("tag {0:?} is not <op>.<metric> (e.g. run_stream.ttfs)")]
    NotOpMetric(String),
    #[error("interval start {:.3} s is not a whole second", .0.as_secs_f64())]
    NotWholeSecond(Duration),
    #[error("interval start {} s is too large", .0.as_secs())]
    TooLate(Duration),
    #[error("the histogram is not base64: {0}")]
    Base64(base64::DecodeError),
    #[error("the histogram does not decode: {0:?}")]
    Decode(hdrhistogram::serialization::DeserializeError),
    /// An interval of `histograms.hlog` at a second `timeseries.csv` does not have.
    #[error(
        "an interval of {op}.{metric} at second {second} that {TIMESERIES_CSV} has no row for; \
         the files come from different runs"
    )]
    NoRow { op: Op, metric: Metric, second: u32 },
}
