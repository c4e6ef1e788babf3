//! One step of a sweep as the sweep reports it: what was offered and achieved, goodput and
//! attainment, errors, latency and ttfs percentiles, and whether it passed the criterion.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Op;
use crate::summary::Summary;

/// When a step passes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Criterion {
    /// SLO attainment (good / requests, over every op) at least this fraction.
    pub goodput_target: f64,
    /// Iterations started per second at least offered × (1 − this); Poisson arrivals get
    /// three standard deviations of their count if that is more.
    pub rate_tolerance: f64,
    /// Dropped iterations at most this fraction of the arrivals.
    pub max_dropped: f64,
}

impl Criterion {
    pub const DEFAULT_RATE_TOLERANCE: f64 = 0.05;
    pub const DEFAULT_MAX_DROPPED: f64 = 0.01;

    pub fn new(goodput_target: f64) -> Criterion {
        Criterion {
            goodput_target,
            rate_tolerance: Criterion::DEFAULT_RATE_TOLERANCE,
            max_dropped: Criterion::DEFAULT_MAX_DROPPED,
        }
    }

    /// The criterion in words, for the reports.
    pub fn describe(&self) -> String {
        format!(
            "SLO attainment >= {}%, achieved rate within {}% of offered (Poisson: or 3 standard deviations), dropped iterations <= {}%",
            trim(self.goodput_target * 100.0),
            trim(self.rate_tolerance * 100.0),
            trim(self.max_dropped * 100.0)
        )
    }

    /// Why a step at `offered` per second with this summary fails, if it does.
    pub fn failures(&self, offered: f64, poisson: bool, summary: &Summary) -> Vec<String> {
        let mut why = Vec::new();
        let attainment = summary.goodput.as_ref().and_then(|g| g.attainment);
        match attainment {
            None => why.push("nothing was measured".to_owned()),
            Some(a) if a < self.goodput_target => why.push(format!(
                "attainment {}% < {}%",
                trim(a * 100.0),
                trim(self.goodput_target * 100.0)
            )),
            Some(_) => {}
        }
        let load = &summary.load;
        let window = summary.goodput.as_ref().map_or(0.0, |g| g.window_s);
        let expected = offered * window;
        let mut tolerance = self.rate_tolerance;
        if poisson && expected > 0.0 {
            tolerance = tolerance.max(3.0 / expected.sqrt());
        }
        if load.achieved_rate < offered * (1.0 - tolerance) {
            why.push(format!(
                "achieved {}/s of {}/s offered",
                trim(load.achieved_rate),
                trim(offered)
            ));
        }
        let arrivals = load.iterations + load.dropped_iterations;
        if arrivals > 0 && load.dropped_iterations as f64 > arrivals as f64 * self.max_dropped {
            why.push(format!(
                "{} of {arrivals} iterations dropped",
                load.dropped_iterations
            ));
        }
        why
    }
}

/// p50, p95 and p99 of a metric, in ms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One op within a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepOp {
    pub requests: u64,
    pub errors: u64,
    pub good: u64,
    pub goodput_rate: f64,
    pub attainment: Option<f64>,
    /// Per bounded metric, the fraction of requests that met its objective.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub objectives: BTreeMap<String, Option<f64>>,
    pub latency: Option<Percentiles>,
    pub ttfs: Option<Percentiles>,
}

/// One step, as `sweep.json` records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Arrivals per second offered.
    pub rate: f64,
    /// Iterations started per second of the measured window.
    pub achieved_rate: f64,
    pub iterations: u64,
    pub dropped_iterations: u64,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub good: u64,
    /// Good requests per second of the measured window.
    pub goodput_rate: f64,
    /// good / requests; null when nothing was sent.
    pub attainment: Option<f64>,
    pub ops: BTreeMap<String, StepOp>,
    pub passed: bool,
    /// Why the step failed the criterion (empty when it passed).
    pub failures: Vec<String>,
    /// The step's report folder, relative to the sweep's.
    pub report: String,
    /// The step was cut short by an interrupt.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl StepResult {
    pub fn new(rate: f64, summary: &Summary, failures: Vec<String>, report: String) -> StepResult {
        let goodput = summary.goodput.as_ref();
        let requests = summary.total_requests();
        let errors = summary.total_errors();
        let percentiles = |op: &crate::summary::OpSummary, metric: &str| {
            op.metrics.get(metric).map(|s| Percentiles {
                p50: s.p50,
                p95: s.p95,
                p99: s.p99,
            })
        };
        StepResult {
            rate,
            achieved_rate: summary.load.achieved_rate,
            iterations: summary.load.iterations,
            dropped_iterations: summary.load.dropped_iterations,
            requests,
            errors,
            error_rate: if requests > 0 {
                errors as f64 / requests as f64
            } else {
                0.0
            },
            good: goodput.map_or(0, |g| g.good),
            goodput_rate: goodput.map_or(0.0, |g| g.rate),
            attainment: goodput.and_then(|g| g.attainment),
            ops: summary
                .ops
                .iter()
                .map(|(name, op)| {
                    let slo = op.slo.as_ref();
                    let step_op = StepOp {
                        requests: op.requests,
                        errors: op.errors,
                        good: slo.map_or(0, |s| s.good),
                        goodput_rate: slo.map_or(0.0, |s| s.goodput_rate),
                        attainment: slo.and_then(|s| s.attainment),
                        objectives: slo
                            .map(|s| {
                                s.objectives
                                    .iter()
                                    .map(|(metric, o)| (metric.clone(), o.attainment))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        latency: percentiles(op, "latency"),
                        ttfs: percentiles(op, "ttfs"),
                    };
                    (name.clone(), step_op)
                })
                .collect(),
            passed: failures.is_empty(),
            failures,
            report,
            interrupted: false,
        }
    }

    /// The op the table shows percentiles of: the one with the most requests (a later op in
    /// the API's order, such as `run_stream`, on a tie).
    pub fn main_op(&self) -> Option<(&str, &StepOp)> {
        Op::ALL
            .into_iter()
            .filter_map(|op| Some((op.name(), self.ops.get(op.name())?)))
            .max_by_key(|(_, op)| op.requests)
    }
}

/// A number with at most two decimals and no trailing zeros.
pub fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Recorder;
    use crate::metrics::goodput::Goodput;
    use crate::summary::RunInfo;
    use crate::summary::Summary;

    fn summary(achieved: f64, dropped: u64, good: u64, requests: u64) -> Summary {
        let mut info = RunInfo::for_tests();
        info.load.achieved_rate = achieved;
        info.load.iterations = requests;
        info.load.dropped_iterations = dropped;
        let mut summary = Summary::build(info, &Recorder::new(0), &[], &[]);
        summary.goodput = Some(Goodput {
            rate: good as f64 / 10.0,
            good,
            requests,
            attainment: (requests > 0).then(|| good as f64 / requests as f64),
            window_s: 10.0,
            objectives: Vec::new(),
        });
        summary
    }

    #[test]
    fn a_step_passes_on_attainment_rate_and_drops_together() {
        let criterion = Criterion::new(0.95);
        assert!(
            criterion
                .failures(10.0, false, &summary(10.0, 0, 96, 100))
                .is_empty()
        );
        let why = criterion.failures(10.0, false, &summary(10.0, 0, 90, 100));
        assert_eq!(why, ["attainment 90% < 95%"]);
        let why = criterion.failures(10.0, false, &summary(9.0, 0, 100, 100));
        assert_eq!(why, ["achieved 9/s of 10/s offered"]);
        // Poisson arrivals: 100 expected, so 3 standard deviations are 30%.
        assert!(
            criterion
                .failures(10.0, true, &summary(7.5, 0, 75, 75))
                .is_empty()
        );
        let why = criterion.failures(10.0, false, &summary(10.0, 2, 98, 98));
        assert_eq!(why, ["2 of 100 iterations dropped"]);
        let why = criterion.failures(10.0, false, &summary(0.0, 0, 0, 0));
        assert_eq!(why[0], "nothing was measured");
    }
}
