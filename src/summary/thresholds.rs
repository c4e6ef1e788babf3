//! Thresholds judged against a finished summary: each one's actual value, and whether it held.

use crate::metrics::threshold::{Quantity, Threshold, ThresholdResult};
use crate::model::Op;

use super::{OpSummary, Summary};

impl Threshold {
    /// Evaluates against a finished summary.
    pub fn evaluate(&self, summary: &Summary) -> ThresholdResult {
        let actual = self.actual(summary);
        ThresholdResult {
            expr: self.expr.clone(),
            actual,
            ok: actual.is_some_and(|value| self.cmp.holds(value, self.limit)),
        }
    }

    fn actual(&self, summary: &Summary) -> Option<f64> {
        let ops = match &self.variant {
            Some(variant) => summary.variants.get(variant)?,
            None => &summary.ops,
        };
        let op_summary = |op: Op| ops.get(op.name());
        let all = || ops.values();
        match &self.quantity {
            Quantity::ErrorRate(op) => {
                let (errors, requests) = match op {
                    Some(op) => op_summary(*op).map_or((0, 0), |s| (s.errors, s.requests)),
                    None => all().fold((0, 0), |(e, r), s| (e + s.errors, r + s.requests)),
                };
                (requests > 0).then(|| errors as f64 / requests as f64)
            }
            Quantity::ErrorCount { op, class } => {
                let count = |s: &OpSummary| match class {
                    Some(class) => s.error_classes.get(&class.name()).copied().unwrap_or(0),
                    None => s.errors,
                };
                Some(match op {
                    Some(op) => op_summary(*op).map_or(0, count),
                    None => all().map(count).sum(),
                } as f64)
            }
            Quantity::Requests(op) => Some(op_summary(*op).map_or(0, |s| s.requests) as f64),
            Quantity::Stat { op, metric, stat } => {
                op_summary(*op)?.metrics.get(metric.name())?.get(stat)
            }
            Quantity::AchievedRate => Some(summary.load.achieved_rate),
            Quantity::DroppedIterations => Some(summary.load.dropped_iterations as f64),
            Quantity::Iterations => Some(summary.load.iterations as f64),
            Quantity::GoodputRate(op) => match op {
                Some(op) => Some(op_summary(*op)?.slo.as_ref()?.goodput_rate),
                None => all()
                    .map(|s| Some(s.slo.as_ref()?.goodput_rate))
                    .sum::<Option<f64>>()
                    .filter(|_| summary.goodput.is_some()),
            },
        }
    }
}
