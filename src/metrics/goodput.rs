//! Goodput in the summary: good requests per second over the measured window, and how often
//! each objective held, overall and per op, from the exact counts the recorder kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::recorder::Cell;
use super::slo::Objectives;
use crate::model::Op;

/// What the summary needs to report goodput: the objectives and the measured window.
#[derive(Clone, Debug)]
pub struct GoodputContext {
    pub objectives: Arc<Objectives>,
    /// The measured window (warmup excluded), in seconds.
    pub window_s: f64,
}

/// `summary.json` `goodput`: over every op.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goodput {
    /// Good requests per second of the measured window.
    pub rate: f64,
    pub good: u64,
    pub requests: u64,
    /// good / requests; null when nothing was sent.
    pub attainment: Option<f64>,
    pub window_s: f64,
    /// The objectives, e.g. `ttfs <= 2s`, `run_stream.ttfs <= 1s`; empty: a good request is
    /// one that succeeded.
    pub objectives: Vec<String>,
}

/// `summary.json` `ops.<op>.slo`: one op's goodput and attainment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpSlo {
    pub good: u64,
    /// good / requests; null when nothing was sent.
    pub attainment: Option<f64>,
    /// Good requests per second of the measured window.
    pub goodput_rate: f64,
    /// Per objective that applies to the op, by metric: its condition and how often it held.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub objectives: BTreeMap<String, ObjectiveResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveResult {
    /// e.g. `<= 2s`
    pub condition: String,
    /// Requests that succeeded and met it.
    pub met: u64,
    /// met / requests; null when nothing was sent.
    pub attainment: Option<f64>,
}

fn fraction(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round6(part as f64 / whole as f64))
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

fn per_second(count: u64, window_s: f64) -> f64 {
    if window_s > 0.0 {
        (count as f64 / window_s * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

impl GoodputContext {
    /// One op's goodput from its cell.
    pub fn op(&self, op: Op, cell: &Cell) -> OpSlo {
        OpSlo {
            good: cell.good,
            attainment: fraction(cell.good, cell.requests),
            goodput_rate: per_second(cell.good, self.window_s),
            objectives: self
                .objectives
                .for_op(op)
                .map(|objective| {
                    let met = cell.met[objective.metric.index()];
                    (
                        objective.metric.name().to_owned(),
                        ObjectiveResult {
                            condition: objective.condition(),
                            met,
                            attainment: fraction(met, cell.requests),
                        },
                    )
                })
                .collect(),
        }
    }

    /// The total over ops given as (requests, that op's goodput).
    pub fn total<'a>(&self, ops: impl Iterator<Item = (u64, &'a OpSlo)>) -> Goodput {
        let (requests, good) = ops.fold((0, 0), |(r, g), (requests, slo)| {
            (r + requests, g + slo.good)
        });
        Goodput {
            rate: per_second(good, self.window_s),
            good,
            requests,
            attainment: fraction(good, requests),
            window_s: (self.window_s * 1000.0).round() / 1000.0,
            objectives: self
                .objectives
                .list()
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

/// Goodput of shards added together (`agentload merge`): counts summed, then rates and
/// attainment recomputed over the merged window.
impl OpSlo {
    /// Adds another shard's counts of the same op.
    pub fn add(&mut self, other: &OpSlo) {
        self.good += other.good;
        for (metric, result) in &other.objectives {
            self.objectives
                .entry(metric.clone())
                .and_modify(|mine| mine.met += result.met)
                .or_insert_with(|| result.clone());
        }
    }

    /// Recomputes the fractions and the rate from the summed counts.
    pub fn settle(&mut self, requests: u64, window_s: f64) {
        self.attainment = fraction(self.good, requests);
        self.goodput_rate = per_second(self.good, window_s);
        for result in self.objectives.values_mut() {
            result.attainment = fraction(result.met, requests);
        }
    }
}

impl Goodput {
    /// The total of merged shards: `ops` are (requests, merged goodput) per op.
    pub fn merged<'a>(
        objectives: Vec<String>,
        window_s: f64,
        ops: impl Iterator<Item = (u64, &'a OpSlo)>,
    ) -> Goodput {
        let (requests, good) = ops.fold((0, 0), |(r, g), (requests, slo)| {
            (r + requests, g + slo.good)
        });
        Goodput {
            rate: per_second(good, window_s),
            good,
            requests,
            attainment: fraction(good, requests),
            window_s: (window_s * 1000.0).round() / 1000.0,
            objectives,
        }
    }
}
