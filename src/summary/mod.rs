//! `summary.json`, the versioned contract other tools and CI parse (`agentload/summary/v1`), and
//! how a merged recorder becomes one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::ci::Intervals;
use crate::metrics::goodput::{Goodput, GoodputContext, OpSlo};
use crate::metrics::ranking::{self, Ranking};
use crate::metrics::recorder::{Cell, Recorder};
use crate::metrics::stats::Stats;
use crate::metrics::threshold::{AbortedBy, Threshold, ThresholdResult};
use crate::model::Metric;
use crate::model::Op;
use crate::model::sample::StepRole;
use verdict::{RunEnd, Verdict};

pub mod comparison;
mod thresholds;
pub mod verdict;

pub const SCHEMA: &str = "agentload/summary/v1";

/// The whole result of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema: String,
    pub scenario: String,
    pub run_id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Wall time of the load phase (setup and teardown excluded).
    pub duration_s: f64,
    /// The base URL requests went to, without credentials.
    pub target: String,
    pub load: LoadSummary,
    pub ops: BTreeMap<String, OpSummary>,
    /// Per fixture agent name, per op.
    pub variants: BTreeMap<String, BTreeMap<String, OpSummary>>,
    /// Failed requests per error class, over all ops.
    pub errors: BTreeMap<String, u64>,
    pub thresholds: Vec<ThresholdResult>,
    /// `verdict.outcome == "passed"`, kept for the tools that read only this.
    pub passed: bool,
    /// The outcome and every reason for it (see [`Verdict`]); what every output states.
    #[serde(default)]
    pub verdict: Verdict,
    /// Per op sent to two or more variants: the variants ranked, with intervals and which
    /// differences are significant (see `metrics::ranking`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ranking: BTreeMap<String, Ranking>,
    /// Good requests per second and SLO attainment over every op; present when the run has
    /// objectives (`[slo]`, `--slo`), a goodput threshold, or is a step of a sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<Goodput>,
    /// The `abort_on_fail` threshold that stopped the run early; absent when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_by: Option<AbortedBy>,
    /// The comparison with a baseline run (`run --baseline`); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<comparison::Comparison>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    /// `closed` or `open`.
    pub model: String,
    /// Iterations per second asked for (open model); null in the closed model.
    pub target_rate: Option<f64>,
    /// Iterations started per second of the load phase.
    pub achieved_rate: f64,
    pub iterations: u64,
    pub dropped_iterations: u64,
    pub max_in_flight: Option<u64>,
    pub vus: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpSummary {
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub error_classes: BTreeMap<String, u64>,
    /// The first few distinct messages per error class (credentials redacted).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_messages: BTreeMap<String, Vec<String>>,
    /// Statistics of successful requests, per metric.
    pub metrics: BTreeMap<String, Stats>,
    /// Steps of successful streams by role (`system`, `user`, `assistant`, `tool`, `other`);
    /// stream ops only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps_by_role: Option<BTreeMap<String, u64>>,
    /// Events of successful streams that were not `step` events; stream ops only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_events: Option<u64>,
    /// 429s waited out and sent again (`retry_after = "honour"`); absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u64,
    /// Run ops with `turns` > 1: the same figures for each turn of the conversations, from "1".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub turns: BTreeMap<String, OpSummary>,
    /// Under `variants` only: 95% intervals of the error rate and of p50 and p95.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<Intervals>,
    /// Goodput and SLO attainment of this op; present when the summary has `goodput`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<OpSlo>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl OpSummary {
    pub fn from_cell(cell: &Cell) -> OpSummary {
        OpSummary {
            requests: cell.requests,
            ok: cell.ok,
            errors: cell.error_count(),
            error_classes: cell
                .errors
                .iter()
                .map(|(class, n)| (class.name(), *n))
                .collect(),
            error_messages: cell
                .messages
                .iter()
                .map(|(class, messages)| (class.name(), messages.clone()))
                .collect(),
            metrics: Metric::ALL
                .into_iter()
                .filter_map(|metric| {
                    let histogram = cell.histogram(metric)?;
                    Some((
                        metric.name().to_owned(),
                        Stats::from_histogram(histogram, metric),
                    ))
                })
                .collect(),
            steps_by_role: cell.streams.map(|streams| {
                StepRole::ALL
                    .into_iter()
                    .zip(streams.by_role)
                    .map(|(role, n)| (role.name().to_owned(), n))
                    .collect()
            }),
            other_events: cell.streams.map(|streams| streams.other_events),
            retries: cell.retries,
            turns: BTreeMap::new(),
            ci: None,
            slo: None,
        }
    }

    /// Adds the op's goodput, when the summary reports it.
    fn with_slo(mut self, goodput: Option<&GoodputContext>, op: Op, cell: &Cell) -> OpSummary {
        self.slo = goodput.map(|context| context.op(op, cell));
        self
    }
}

/// What the engine knows about a run besides its samples.
#[derive(Clone, Debug)]
pub struct RunInfo {
    pub scenario: String,
    pub run_id: String,
    pub started_at: String,
    pub duration_s: f64,
    pub target: String,
    pub load: LoadSummary,
    /// Report goodput over this window by these objectives; `None`: no goodput in the summary.
    pub goodput: Option<GoodputContext>,
}

impl Summary {
    /// Builds the summary of a run and evaluates its thresholds.
    pub fn build(
        info: RunInfo,
        recorder: &Recorder,
        variant_names: &[String],
        thresholds: &[Threshold],
    ) -> Summary {
        let mut ops = BTreeMap::new();
        let mut errors: BTreeMap<String, u64> = BTreeMap::new();
        for op in Op::ALL {
            if let Some(total) = recorder.op_total(op) {
                for (class, n) in &total.errors {
                    *errors.entry(class.name()).or_default() += n;
                }
                let mut summary =
                    OpSummary::from_cell(&total).with_slo(info.goodput.as_ref(), op, &total);
                summary.turns = recorder
                    .turns(op)
                    .map(|(turn, cell)| (turn.to_string(), OpSummary::from_cell(cell)))
                    .collect();
                ops.insert(op.name().to_owned(), summary);
            }
        }
        let mut variants = BTreeMap::new();
        for (index, name) in variant_names.iter().enumerate() {
            let per_op: BTreeMap<String, OpSummary> = Op::ALL
                .into_iter()
                .filter_map(|op| {
                    let cell = recorder.cell(op, Some(index as u16))?;
                    let mut summary =
                        OpSummary::from_cell(cell).with_slo(info.goodput.as_ref(), op, cell);
                    summary.ci = Some(Intervals::of_cell(cell));
                    Some((op.name().to_owned(), summary))
                })
                .collect();
            if !per_op.is_empty() {
                variants.insert(name.clone(), per_op);
            }
        }
        let goodput = info.goodput.as_ref().map(|context| {
            context.total(
                ops.values()
                    .filter_map(|op: &OpSummary| Some((op.requests, op.slo.as_ref()?))),
            )
        });
        let mut summary = Summary {
            schema: SCHEMA.to_owned(),
            scenario: info.scenario,
            run_id: info.run_id,
            started_at: info.started_at,
            duration_s: info.duration_s,
            target: info.target,
            load: info.load,
            ops,
            variants,
            errors,
            thresholds: Vec::new(),
            passed: true,
            verdict: Verdict::default(),
            ranking: ranking::rank_all(recorder, variant_names, None),
            goodput,
            aborted_by: None,
            comparison: None,
        };
        summary.thresholds = thresholds.iter().map(|t| t.evaluate(&summary)).collect();
        summary.judge(&RunEnd::default());
        summary
    }

    /// Decides the verdict from what the summary holds and how the run ended; the one place
    /// `passed` is set.
    pub fn judge(&mut self, end: &RunEnd<'_>) {
        self.verdict = Verdict::decide(self, end);
        self.passed = self.verdict.passed();
    }

    /// Ranks the variants again by `rank_by` (where an op has it) instead of the default.
    pub fn rank_variants_by(
        &mut self,
        recorder: &Recorder,
        variant_names: &[String],
        rank_by: Option<Metric>,
    ) {
        self.ranking = ranking::rank_all(recorder, variant_names, rank_by);
    }

    /// Records the threshold that stopped the run early; the next [`Summary::judge`] fails
    /// the run for it.
    pub fn set_aborted(&mut self, aborted: AbortedBy) {
        self.aborted_by = Some(aborted);
    }

    /// Records the comparison with a baseline; the next [`Summary::judge`] fails the run on a
    /// regression.
    pub fn set_comparison(&mut self, comparison: comparison::Comparison) {
        self.comparison = Some(comparison);
    }

    /// Requests over all ops.
    pub fn total_requests(&self) -> u64 {
        self.ops.values().map(|op| op.requests).sum()
    }

    /// Failed requests over all ops.
    pub fn total_errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[cfg(test)]
impl RunInfo {
    /// A plausible closed-model run of 4 iterations in 2 s, for tests of what is built on it.
    pub fn for_tests() -> RunInfo {
        RunInfo {
            scenario: "t".into(),
            run_id: "r1".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_s: 2.0,
            target: "http://127.0.0.1:1/api/v2".into(),
            load: LoadSummary {
                model: "closed".into(),
                target_rate: None,
                achieved_rate: 2.0,
                iterations: 4,
                dropped_iterations: 0,
                max_in_flight: None,
                vus: Some(1),
            },
            goodput: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::model::{ErrorClass, Failure};
    use crate::model::{Sample, Timeline};

    #[test]
    fn builds_ops_variants_errors_and_thresholds() {
        let mut recorder = Recorder::new(2);
        let now = Instant::now();
        let mut timeline = Timeline::starting(now, now);
        timeline.end = now + Duration::from_millis(40);
        recorder.record(&Sample::new(Op::Run, Some(0), timeline, Ok(())));
        recorder.record(&Sample::new(Op::Run, Some(1), timeline, Ok(())));
        recorder.record(&Sample::new(
            Op::Run,
            Some(1),
            timeline,
            Err(Failure::new(ErrorClass::Http(429), "slow down")),
        ));
        recorder.record(&Sample::new(Op::List, None, timeline, Ok(())));
        let thresholds = [
            Threshold::parse("errors.rate", "< 10%").unwrap(),
            Threshold::parse("run.latency.p95", "< 100ms").unwrap(),
            Threshold::parse("b:run.errors.rate", "< 1%").unwrap(),
        ];
        let names = ["a".to_owned(), "b".to_owned()];
        let summary = Summary::build(RunInfo::for_tests(), &recorder, &names, &thresholds);

        assert_eq!(summary.ops["run"].requests, 3);
        assert_eq!(summary.ops["run"].errors, 1);
        assert_eq!(summary.ops["run"].error_classes["http_429"], 1);
        assert_eq!(
            summary.ops["run"].error_messages["http_429"],
            vec!["slow down".to_owned()]
        );
        assert_eq!(summary.ops["list"].requests, 1);
        assert_eq!(summary.variants["a"]["run"].requests, 1);
        assert_eq!(summary.variants["b"]["run"].errors, 1);
        assert!(!summary.variants["a"].contains_key("list"));
        assert_eq!(summary.errors["http_429"], 1);
        assert_eq!(summary.total_requests(), 4);

        assert_eq!(summary.thresholds[0].actual, Some(0.25));
        assert!(!summary.thresholds[0].ok);
        assert!(summary.thresholds[1].ok);
        assert_eq!(summary.thresholds[2].actual, Some(0.5));
        assert!(!summary.passed);

        let latency = &summary.ops["run"].metrics["latency"];
        assert_eq!(latency.count, 2);
        assert!((latency.p50 - 40.0).abs() < 0.1);
    }
}
