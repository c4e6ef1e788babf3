//! The comparison of a run with a baseline as summary.json keeps it (`comparison`): one row per
//! op and metric judged, each with its test's p-value and verdict. Computed by `compare`.

use serde::{Deserialize, Serialize};

/// The whole comparison, as `summary.json` (`comparison`) and every rendering have it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline's report folder.
    pub baseline: String,
    pub tolerance_pct: f64,
    pub error_tolerance_pp: f64,
    pub min_change_ms: f64,
    pub alpha: f64,
    pub rows: Vec<Row>,
    /// Whether any row is a regression.
    pub regressed: bool,
}

/// One op and metric compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub op: String,
    /// A metric name, or `errors` for the error rate.
    pub metric: String,
    /// The percentile judged (`p95`), or `rate`.
    pub stat: String,
    pub baseline: Option<Side>,
    pub current: Option<Side>,
    /// Current against baseline at `stat`: % of the baseline for percentiles, percentage points
    /// for the error rate.
    pub change: Option<f64>,
    /// `%` or `pp`.
    pub change_unit: String,
    /// Bootstrap interval of the change in % at confidence 1 - alpha (percentiles only).
    pub change_ci: Option<[f64; 2]>,
    /// Two-sided p-value: Mann-Whitney U for percentiles, two-proportion z for the error rate.
    pub p_value: Option<f64>,
    /// Mann-Whitney's chance that a current value exceeds a baseline one (0.5: alike).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_current_higher: Option<f64>,
    pub significant: bool,
    pub verdict: RowVerdict,
}

/// One run's side of a row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// Values (successful requests) for a metric; requests for the error rate.
    pub count: u64,
    /// The value at the row's `stat`: ms (count for `steps`), or the error rate in %.
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowVerdict {
    /// Significantly worse, by more than the tolerance.
    Regression,
    /// Significantly better, by more than the tolerance.
    Improvement,
    /// A significant change within the tolerance.
    WithinTolerance,
    /// Nothing the tests can tell from noise.
    NoChange,
    /// Measured in one run only.
    Missing,
}

impl RowVerdict {
    pub fn name(self) -> &'static str {
        match self {
            RowVerdict::Regression => "regression",
            RowVerdict::Improvement => "improvement",
            RowVerdict::WithinTolerance => "within tolerance",
            RowVerdict::NoChange => "no significant change",
            RowVerdict::Missing => "only in one run",
        }
    }
}
