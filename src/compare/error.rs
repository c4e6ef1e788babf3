//! Why a comparison cannot be made: a `--metric`, `--tolerance` or `--min-change` that does not
//! parse ([`SpecError`]), or a run folder that cannot be read and a named metric neither run
//! has ([`CompareError`]).

use std::path::PathBuf;

use crate::store::StoreError;

/// A flag of the comparison that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// A `--metric` of the wrong shape.
    #[error(
        "`{0}` is not [OP.]METRIC[.STAT]; e.g. run_stream.ttfs.p95, ttfs, latency.p99 or errors"
    )]
    NotASpec(String),
    /// A `--metric` naming neither an op nor a metric.
    #[error(
        "`{name}` in `{text}` is not an op or a metric; ops: {}; metrics: {}, errors",
        crate::model::Op::ALL.map(|op| op.name()).join(", "),
        crate::model::Metric::ALL.map(|m| m.name()).join(", ")
    )]
    UnknownName { name: String, text: String },
    /// A `--metric` whose statistic is not one of the percentiles compared.
    #[error(
        "`{stat}` in `{text}` is not a percentile; use one of {}",
        super::Stat::ALL.join(", ")
    )]
    NotAPercentile { stat: String, text: String },
    /// `--min-change` that is not a number of milliseconds.
    #[error("{0:?} is not a number of milliseconds; write e.g. 5 or 5ms")]
    NotMilliseconds(String),
    /// `--tolerance` (or `--error-tolerance`) that is not a percentage.
    #[error("{0:?} is not a percentage; write e.g. 10 or 10%")]
    NotAPercentage(String),
}

/// What stops a comparison of two runs.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A run folder given that is not a folder.
    #[error(
        "{}: not a folder; give the report folder of a run (it holds summary.json and histograms.hlog)",
        .0.display()
    )]
    NotAFolder(PathBuf),
    /// A run folder whose stored files cannot be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A named metric that neither run measured.
    #[error(
        "--metric {0}: neither run has it (check the op and metric names against the runs' summary.json)"
    )]
    NotInRuns(String),
}
