//! The confidence intervals a run reports (`ci` in summary.json, and the ± on the figures
//! variants are compared by), in the reports' units: order-statistic intervals of percentiles
//! and Wilson intervals of error rates. The maths is [`crate::stats::intervals`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::recorder::Cell;
use crate::model::Metric;
use crate::stats::{Bounds, Buckets, quantile_interval, wilson};

/// The confidence of every interval reported.
pub const CONFIDENCE: f64 = 0.95;

/// A closed interval `[lo, hi]`, serialized as a two-element array.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval(pub f64, pub f64);

impl Interval {
    pub fn lo(self) -> f64 {
        self.0
    }

    pub fn hi(self) -> f64 {
        self.1
    }

    /// Both ends multiplied by `by` (µs to ms), to the µs: no float noise in the reports.
    pub fn scaled(self, by: f64) -> Interval {
        let round = |v: f64| (v * by * 1000.0).round() / 1000.0;
        Interval(round(self.0), round(self.1))
    }
}

impl From<Bounds> for Interval {
    fn from(bounds: Bounds) -> Interval {
        Interval(bounds.lo, bounds.hi)
    }
}

/// The [`CONFIDENCE`] interval of the `quantile` of `buckets` by order statistics, multiplied
/// by `scale` as reported (µs to ms: [`Interval::scaled`]); `None` when too few samples reach
/// the confidence.
pub fn percentile_interval(buckets: &Buckets, quantile: f64, scale: f64) -> Option<Interval> {
    quantile_interval(buckets, quantile, CONFIDENCE)
        .map(|bounds| Interval::from(bounds).scaled(scale))
}

/// The [`CONFIDENCE`] Wilson interval of the error rate `errors / requests`, as a fraction;
/// `None` without requests.
pub fn error_rate_interval(errors: u64, requests: u64) -> Option<Interval> {
    wilson(errors, requests, CONFIDENCE).map(Interval::from)
}

/// The metrics whose percentiles get intervals in each variant's figures.
pub const CI_METRICS: [Metric; 5] = [
    Metric::Latency,
    Metric::Ttfs,
    Metric::InterStep,
    Metric::Steps,
    Metric::ServerTime,
];

/// The 95% intervals of one variant's figures for one op (`ci` in summary.json).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// Wilson interval of errors / requests, as a fraction.
    pub error_rate: Option<Interval>,
    /// Order-statistic intervals of p50 and p95, per metric, in the metric's unit (ms; steps
    /// as a count); `null` where too few samples reach 95%.
    pub metrics: BTreeMap<String, PercentileIntervals>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PercentileIntervals {
    pub p50: Option<Interval>,
    pub p95: Option<Interval>,
}

impl Intervals {
    pub fn of_cell(cell: &Cell) -> Intervals {
        let metrics = CI_METRICS
            .into_iter()
            .filter_map(|metric| {
                let buckets = Buckets::from_histogram(cell.histogram(metric)?);
                let scale = if metric.is_time() { 1e-3 } else { 1.0 };
                let at = |q| percentile_interval(&buckets, q, scale);
                Some((
                    metric.name().to_owned(),
                    PercentileIntervals {
                        p50: at(0.5),
                        p95: at(0.95),
                    },
                ))
            })
            .collect();
        Intervals {
            error_rate: error_rate_interval(cell.error_count(), cell.requests),
            metrics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_intervals_are_the_stats_ones_in_the_reports_unit() {
        // 1..=100 ms in µs: the median's interval x(40)..x(61), in ms.
        let pairs: Vec<(u64, u64)> = (1..=100).map(|ms| (ms * 1000, 1)).collect();
        let buckets = Buckets::from_counts(&pairs);
        assert_eq!(
            percentile_interval(&buckets, 0.5, 1e-3),
            Some(Interval(40.0, 61.0))
        );
        assert_eq!(percentile_interval(&Buckets::default(), 0.5, 1e-3), None);
        let zero = error_rate_interval(0, 50).unwrap();
        assert_eq!(zero.lo(), 0.0);
        assert!((zero.hi() - 0.0713).abs() < 0.0001, "{zero:?}");
        assert_eq!(error_rate_interval(0, 0), None);
    }
}
