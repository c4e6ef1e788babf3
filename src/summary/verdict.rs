//! The verdict of a run: its outcome and every reason for it, decided once from the summary
//! and how the run ended. Every output (terminal, summary.md, report.html, junit.xml,
//! summary.json) renders this one value instead of judging the run again.

use serde::{Deserialize, Serialize};

use super::Summary;
use crate::model::units::trim_number;
use crate::summary::comparison::RowVerdict;

/// How a run ended, as the exit code says it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every threshold held, no regression, nothing stopped the run.
    #[default]
    Passed,
    /// A threshold failed, a regression against the baseline, or the run is incomplete.
    Failed,
    /// Stopped by Ctrl-C or SIGTERM; the report holds what ran until then.
    Interrupted,
    /// The run could not be judged: setup failed, or the baseline could not be compared with.
    Invalid,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
            Outcome::Invalid => "invalid",
        }
    }
}

/// What a reason is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// Thresholds that did not hold at the end.
    Thresholds,
    /// An `abort_on_fail` threshold stopped the run early.
    Aborted,
    /// Significant regressions against the baseline (`--baseline`).
    Regressions,
    /// The user stopped the run.
    Interrupted,
    /// Setup failed; the load never started.
    SetupFailed,
    /// The baseline could not be compared with.
    BaselineUnusable,
    /// A fault inside the harness: some of what ran may be missing.
    Incomplete,
}

/// One reason for the outcome, phrased once for every output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub kind: ReasonKind,
    /// One line: `1 of 5 threshold(s) did not hold`.
    pub message: String,
    /// What the line is made of, one entry each: the failed thresholds with their actual
    /// values, the regressed rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

/// The outcome of a run and every reason for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// Empty when the run passed.
    pub reasons: Vec<Reason>,
}

/// How a run ended, beyond what its summary holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunEnd<'a> {
    /// Ctrl-C or SIGTERM stopped it.
    pub interrupted: bool,
    /// Why setup failed, credentials redacted.
    pub setup_error: Option<&'a str>,
    /// Why the baseline could not be compared with.
    pub baseline_error: Option<&'a str>,
    /// Faults inside the harness.
    pub problems: &'a [String],
}

impl Verdict {
    /// Judges a run from its summary (thresholds, `aborted_by`, `comparison`) and its end.
    pub fn decide(summary: &Summary, end: &RunEnd<'_>) -> Verdict {
        let mut reasons = Vec::new();
        if let Some(setup) = end.setup_error {
            // The load never ran: thresholds without data and comparisons say nothing more.
            return Verdict {
                outcome: Outcome::Invalid,
                reasons: vec![Reason::new(ReasonKind::SetupFailed, setup.to_owned())],
            };
        }
        if end.interrupted {
            reasons.push(Reason::new(
                ReasonKind::Interrupted,
                "interrupted: the report holds what ran until then".to_owned(),
            ));
        }
        if let Some(err) = end.baseline_error {
            reasons.push(Reason::new(
                ReasonKind::BaselineUnusable,
                format!("--baseline: cannot compare: {err}"),
            ));
        }
        if let Some(aborted) = &summary.aborted_by {
            reasons.push(Reason::new(
                ReasonKind::Aborted,
                format!(
                    "threshold `{}` stopped the run early (abort_on_fail) after {} s, actual {}",
                    aborted.expr,
                    trim_number(aborted.at_s),
                    trim_number(aborted.actual)
                ),
            ));
        }
        let failed: Vec<String> = summary
            .thresholds
            .iter()
            .filter(|t| !t.ok)
            .map(|t| match t.actual {
                Some(actual) => format!("{} (actual {})", t.expr, trim_number(actual)),
                None => format!("{} (no data)", t.expr),
            })
            .collect();
        if !failed.is_empty() {
            reasons.push(Reason {
                kind: ReasonKind::Thresholds,
                message: format!(
                    "{} of {} threshold(s) did not hold",
                    failed.len(),
                    summary.thresholds.len()
                ),
                items: failed,
            });
        }
        if let Some(comparison) = &summary.comparison {
            let regressed: Vec<String> = comparison
                .rows
                .iter()
                .filter(|row| row.verdict == RowVerdict::Regression)
                .map(|row| {
                    let change = row.change.map_or_else(String::new, |change| {
                        format!(" {change:+.1}{}", row.change_unit)
                    });
                    let p = row
                        .p_value
                        .map_or_else(String::new, |p| format!(" (p {})", p_text(p)));
                    format!("{} {} {}{change}{p}", row.op, row.metric, row.stat)
                })
                .collect();
            if !regressed.is_empty() {
                reasons.push(Reason {
                    kind: ReasonKind::Regressions,
                    message: format!("{} regression(s) against the baseline", regressed.len()),
                    items: regressed,
                });
            }
        }
        for problem in end.problems {
            reasons.push(Reason::new(
                ReasonKind::Incomplete,
                format!("the run is incomplete: {problem}"),
            ));
        }
        let outcome = if end.interrupted {
            Outcome::Interrupted
        } else if end.baseline_error.is_some() {
            Outcome::Invalid
        } else if reasons.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        Verdict { outcome, reasons }
    }

    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }

    /// The verdict in one line: `passed: 5 threshold(s) held`, `failed: 1 of 5 threshold(s)
    /// did not hold; 2 regression(s) against the baseline`.
    pub fn headline(&self, thresholds: usize) -> String {
        if self.passed() {
            return format!("passed: {thresholds} threshold(s) held");
        }
        let reasons: Vec<&str> = self
            .reasons
            .iter()
            .filter(|reason| reason.kind != ReasonKind::Interrupted)
            .map(|reason| reason.message.as_str())
            .collect();
        match (self.outcome, reasons.is_empty()) {
            (Outcome::Interrupted, true) => {
                "interrupted: the report holds what ran until then".to_owned()
            }
            (outcome, _) => format!("{}: {}", outcome.name(), reasons.join("; ")),
        }
    }

    /// The reasons of one kind.
    pub fn reason(&self, kind: ReasonKind) -> Option<&Reason> {
        self.reasons.iter().find(|reason| reason.kind == kind)
    }
}

impl Reason {
    fn new(kind: ReasonKind, message: String) -> Reason {
        Reason {
            kind,
            message,
            items: Vec::new(),
        }
    }
}

/// A p-value in a reason: small ones in scientific notation.
fn p_text(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::threshold::{AbortedBy, ThresholdResult};
    use crate::summary::comparison::{Comparison, Row, Side};

    fn summary() -> Summary {
        let mut summary = Summary::build(
            crate::summary::RunInfo::for_tests(),
            &crate::metrics::Recorder::new(0),
            &[],
            &[],
        );
        summary.thresholds = vec![
            ThresholdResult {
                expr: "errors.rate < 0.01".to_owned(),
                actual: Some(0.0),
                ok: true,
            },
            ThresholdResult {
                expr: "run.latency.p95 < 100".to_owned(),
                actual: Some(180.5),
                ok: false,
            },
        ];
        summary
    }

    fn regression() -> Comparison {
        let side = |value| Side {
            count: 100,
            value,
            p50: None,
            p95: None,
            p99: None,
        };
        Comparison {
            baseline: "reports/base".to_owned(),
            tolerance_pct: 10.0,
            error_tolerance_pp: 1.0,
            min_change_ms: 0.0,
            alpha: 0.05,
            rows: vec![Row {
                op: "run_stream".to_owned(),
                metric: "ttfs".to_owned(),
                stat: "p95".to_owned(),
                baseline: Some(side(100.0)),
                current: Some(side(160.0)),
                change: Some(60.0),
                change_unit: "%".to_owned(),
                change_ci: Some([50.0, 70.0]),
                p_value: Some(0.00002),
                p_current_higher: Some(0.9),
                significant: true,
                verdict: RowVerdict::Regression,
            }],
            regressed: true,
        }
    }

    #[test]
    fn every_reason_is_named_and_the_outcome_follows_the_exit_code_order() {
        let mut summary = summary();
        summary.aborted_by = Some(AbortedBy {
            expr: "run.latency.p95 < 100".to_owned(),
            actual: 180.5,
            at_s: 3.0,
        });
        summary.comparison = Some(regression());
        let verdict = Verdict::decide(&summary, &RunEnd::default());
        assert_eq!(verdict.outcome, Outcome::Failed);
        let kinds: Vec<ReasonKind> = verdict.reasons.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                ReasonKind::Aborted,
                ReasonKind::Thresholds,
                ReasonKind::Regressions
            ]
        );
        let thresholds = verdict.reason(ReasonKind::Thresholds).unwrap();
        assert_eq!(thresholds.message, "1 of 2 threshold(s) did not hold");
        assert_eq!(thresholds.items, ["run.latency.p95 < 100 (actual 180.5)"]);
        let regressions = verdict.reason(ReasonKind::Regressions).unwrap();
        assert_eq!(regressions.message, "1 regression(s) against the baseline");
        assert_eq!(regressions.items, ["run_stream ttfs p95 +60.0% (p 2.0e-5)"]);
        assert_eq!(
            verdict.headline(2),
            "failed: threshold `run.latency.p95 < 100` stopped the run early (abort_on_fail) after 3 s, actual 180.5; 1 of 2 threshold(s) did not hold; 1 regression(s) against the baseline"
        );

        let interrupted = Verdict::decide(
            &summary,
            &RunEnd {
                interrupted: true,
                ..RunEnd::default()
            },
        );
        assert_eq!(interrupted.outcome, Outcome::Interrupted);
        let setup = Verdict::decide(
            &summary,
            &RunEnd {
                interrupted: true,
                setup_error: Some("401 from the target"),
                ..RunEnd::default()
            },
        );
        assert_eq!(setup.outcome, Outcome::Invalid);
        assert_eq!(
            setup.reasons.len(),
            1,
            "only the cause: {:?}",
            setup.reasons
        );
        assert_eq!(setup.reasons[0].message, "401 from the target");
    }

    #[test]
    fn a_run_failed_only_by_a_regression_says_so() {
        let mut summary = summary();
        summary.thresholds.retain(|t| t.ok);
        summary.comparison = Some(regression());
        let verdict = Verdict::decide(&summary, &RunEnd::default());
        assert_eq!(verdict.outcome, Outcome::Failed);
        assert_eq!(
            verdict.headline(1),
            "failed: 1 regression(s) against the baseline"
        );
        summary.comparison = None;
        let verdict = Verdict::decide(&summary, &RunEnd::default());
        assert!(verdict.passed());
        assert!(verdict.reasons.is_empty());
        assert_eq!(verdict.headline(1), "passed: 1 threshold(s) held");
    }

    #[test]
    fn harness_faults_fail_the_run_and_interruption_alone_says_interrupted() {
        let mut summary = summary();
        summary.thresholds.clear();
        let problems = ["the series writer stopped".to_owned()];
        let verdict = Verdict::decide(
            &summary,
            &RunEnd {
                problems: &problems,
                ..RunEnd::default()
            },
        );
        assert_eq!(verdict.outcome, Outcome::Failed);
        assert_eq!(
            verdict.headline(0),
            "failed: the run is incomplete: the series writer stopped"
        );
        let verdict = Verdict::decide(
            &summary,
            &RunEnd {
                interrupted: true,
                ..RunEnd::default()
            },
        );
        assert_eq!(
            verdict.headline(0),
            "interrupted: the report holds what ran until then"
        );
    }
}
