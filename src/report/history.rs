//! What `report.html` draws besides the summary: a compact history of every second (rates,
//! gauges, percentiles per op) and the whole-run distributions of latency, time to first step
//! and inter-step gaps. A live run builds it as a series writer; `agentload report` builds it by
//! replaying the stored seconds through the same code, so both draw the same report.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::metrics::recorder::new_histogram;
use crate::metrics::series::{Accumulate, Kept, SecondRecord, percentile};
use crate::model::Metric;
use crate::model::Op;
use crate::summary::Summary;

/// Metrics whose whole-run distribution the report draws.
pub const DISTRIBUTIONS: [Metric; 3] = [Metric::Latency, Metric::Ttfs, Metric::InterStep];

/// The quantiles drawn over time.
pub const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

/// One op during one second.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpPoint {
    pub requests: u64,
    pub errors: u64,
    /// p50, p90, p99 in ms, where anything was measured.
    pub latency: [Option<f64>; 3],
    pub ttfs: [Option<f64>; 3],
}

/// One second of the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecondPoint {
    pub second: u32,
    pub warmup: bool,
    pub requests: u64,
    pub errors: u64,
    pub in_flight: u64,
    pub dropped: u64,
    pub ops: BTreeMap<Op, OpPoint>,
}

/// Every second of a run, and its distributions over the measured (non-warmup) seconds.
#[derive(Clone, Debug, Default)]
pub struct History {
    warmup: Duration,
    pub seconds: Vec<SecondPoint>,
    pub distributions: BTreeMap<(Op, Metric), Histogram<u64>>,
}

impl History {
    /// Seconds that start before `warmup` are marked and left out of the distributions.
    pub fn new(warmup: Duration) -> History {
        History {
            warmup,
            ..History::default()
        }
    }

    pub fn add(&mut self, second: u32, record: &SecondRecord) {
        let warmup = Duration::from_secs(u64::from(second)) < self.warmup;
        let total = record.total();
        let quantiles = |op, metric| QUANTILES.map(|q| percentile(op, metric, q));
        let ops = record
            .ops
            .iter()
            .map(|(op, data)| {
                let point = OpPoint {
                    requests: data.requests,
                    errors: data.errors,
                    latency: quantiles(data, Metric::Latency),
                    ttfs: quantiles(data, Metric::Ttfs),
                };
                (*op, point)
            })
            .collect();
        self.seconds.push(SecondPoint {
            second,
            warmup,
            requests: total.requests,
            errors: total.errors,
            in_flight: total.in_flight,
            dropped: record.dropped,
            ops,
        });
        if warmup {
            return;
        }
        for (op, data) in &record.ops {
            for metric in DISTRIBUTIONS {
                if let Some(histogram) = data.histograms.get(metric) {
                    self.distributions
                        .entry((*op, metric))
                        .or_insert_with(new_histogram)
                        .add(histogram)
                        .expect("auto-resizing histograms accept any other histogram");
                }
            }
        }
    }
}

/// Everything `report.html` is rendered from.
pub struct RunData<'a> {
    pub summary: &'a Summary,
    pub history: &'a History,
}

/// A series writer that keeps the history of a live run.
pub type HistorySink = Kept<History>;

impl Accumulate for History {
    fn add_second(&mut self, second: u32, record: &SecondRecord) {
        self.add(second, record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::series::OpSecond;

    #[test]
    fn warmup_seconds_are_drawn_but_not_in_the_distributions() {
        let mut history = History::new(Duration::from_secs(1));
        let mut record = SecondRecord::default();
        let mut op = OpSecond {
            requests: 2,
            errors: 1,
            in_flight: 3,
            ..OpSecond::default()
        };
        op.histograms.record(Metric::Latency, 2_000);
        record.ops.insert(Op::Get, op);
        record.dropped = 5;
        history.add(0, &record);
        history.add(1, &record);
        assert_eq!(history.seconds.len(), 2);
        assert!(history.seconds[0].warmup && !history.seconds[1].warmup);
        let point = &history.seconds[1];
        assert_eq!(
            (point.requests, point.errors, point.in_flight, point.dropped),
            (2, 1, 3, 5)
        );
        let p50 = point.ops[&Op::Get].latency[0].unwrap();
        assert!((p50 - 2.0).abs() < 0.01, "{p50}");
        assert_eq!(history.distributions[&(Op::Get, Metric::Latency)].len(), 1);
    }
}
