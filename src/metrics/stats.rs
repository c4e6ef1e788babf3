//! The numbers a histogram is summarised by in every report: count, extremes, mean, spread and
//! the percentiles users ask for.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::model::Metric;

/// Summary statistics of one metric. Times in milliseconds, `steps` as a count.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub count: u64,
    pub min: f64,
    pub mean: f64,
    pub stdev: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// The statistics a threshold may name.
pub const STAT_NAMES: [&str; 10] = [
    "count", "min", "mean", "stdev", "p50", "p90", "p95", "p99", "p999", "max",
];

impl Stats {
    /// Summarises a histogram of `metric` (recorded in µs for times).
    pub fn from_histogram(histogram: &Histogram<u64>, metric: Metric) -> Stats {
        let scale = if metric.is_time() { 1000.0 } else { 1.0 };
        let at = |quantile: f64| histogram.value_at_quantile(quantile) as f64 / scale;
        Stats {
            count: histogram.len(),
            min: histogram.min() as f64 / scale,
            mean: round3(histogram.mean() / scale),
            stdev: round3(histogram.stdev() / scale),
            p50: at(0.50),
            p90: at(0.90),
            p95: at(0.95),
            p99: at(0.99),
            p999: at(0.999),
            max: histogram.max() as f64 / scale,
        }
    }

    /// A statistic by name (`p95`, `mean`, ...).
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "count" => self.count as f64,
            "min" => self.min,
            "mean" => self.mean,
            "stdev" => self.stdev,
            "p50" => self.p50,
            "p90" => self.p90,
            "p95" => self.p95,
            "p99" => self.p99,
            "p999" => self.p999,
            "max" => self.max,
            _ => return None,
        })
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_reported_in_milliseconds_and_counts_as_is() {
        let mut histogram = Histogram::<u64>::new(3).unwrap();
        for micros in [1_000, 2_000, 3_000, 4_000] {
            histogram.record(micros).unwrap();
        }
        let stats = Stats::from_histogram(&histogram, Metric::Latency);
        assert_eq!(stats.count, 4);
        // Values come back as HdrHistogram's equivalents: within 0.1% (3 significant digits).
        let close = |actual: f64, expected: f64| (actual - expected).abs() <= expected * 0.001;
        assert!(close(stats.min, 1.0), "{stats:?}");
        assert!(close(stats.max, 4.0), "{stats:?}");
        assert!(close(stats.mean, 2.5), "{stats:?}");
        assert!(close(stats.p50, 2.0), "{stats:?}");
        assert!(close(stats.get("p99").unwrap(), 4.0), "{stats:?}");
        assert_eq!(stats.get("p42"), None);

        let mut steps = Histogram::<u64>::new(3).unwrap();
        steps.record(5).unwrap();
        assert_eq!(Stats::from_histogram(&steps, Metric::Steps).max, 5.0);
    }
}
