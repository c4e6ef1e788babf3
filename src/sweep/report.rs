//! What a sweep writes: `sweep.json` (everything a chart or a CI job needs: every step and the
//! capacity answer), `sweep.md` and the terminal table, all from one [`SweepReport`].

use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::search::Outcome;
use super::step::{StepResult, trim};
use crate::store::names::{SWEEP_HTML, SWEEP_JSON, SWEEP_MD};
use crate::store::{self, StoreError};

pub const SCHEMA: &str = "agentload/sweep/v1";

/// `sweep.json`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    pub schema: String,
    pub scenario: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// `rates` (each given rate once) or `search`.
    pub mode: String,
    pub step_duration_s: f64,
    pub warmup_s: f64,
    /// The objectives requests were judged by; empty: a good request is one that succeeded.
    pub objectives: Vec<String>,
    /// When a step passes, in words.
    pub criterion: String,
    pub goodput_target: f64,
    /// In the order they ran.
    pub steps: Vec<StepResult>,
    pub capacity: Capacity,
    /// Ctrl-C stopped the sweep: the steps are those that ran.
    pub interrupted: bool,
}

/// The answer: the highest rate that met the SLOs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The highest offered rate that passed; null when none did.
    pub rate: Option<f64>,
    /// The lowest offered rate above it that failed, when one ran.
    pub failed_rate: Option<f64>,
    /// The answer in words, as printed.
    pub answer: String,
}

impl Capacity {
    /// From the steps of a sweep over given rates: the highest that passed.
    pub fn from_steps(steps: &[StepResult]) -> Capacity {
        let rate = steps
            .iter()
            .filter(|s| s.passed)
            .map(|s| s.rate)
            .reduce(f64::max);
        let failed_rate = steps
            .iter()
            .filter(|s| !s.passed && rate.is_none_or(|r| s.rate > r))
            .map(|s| s.rate)
            .reduce(f64::min);
        let answer = match (rate, failed_rate) {
            (Some(rate), Some(failed)) => format!(
                "highest rate meeting the SLOs: {}/s ({}/s did not)",
                trim(rate),
                trim(failed)
            ),
            (Some(rate), None) => format!(
                "highest rate meeting the SLOs: {}/s (the highest tried; capacity may be higher)",
                trim(rate)
            ),
            (None, _) => "no rate tried met the SLOs".to_owned(),
        };
        Capacity {
            rate,
            failed_rate,
            answer,
        }
    }

    /// From a finished (or interrupted) search.
    pub fn from_search(outcome: Outcome) -> Capacity {
        match outcome {
            Outcome::BelowMin { min } => Capacity {
                rate: None,
                failed_rate: Some(min),
                answer: format!(
                    "no rate met the SLOs: even {}/s failed (lower --min)",
                    trim(min)
                ),
            },
            Outcome::AtLeastMax { max } => Capacity {
                rate: Some(max),
                failed_rate: None,
                answer: format!(
                    "highest rate meeting the SLOs: at least {}/s, the --max of the search",
                    trim(max)
                ),
            },
            Outcome::Capacity { rate, failed } => Capacity {
                rate: Some(rate),
                failed_rate: failed,
                answer: match failed {
                    Some(failed) => format!(
                        "highest rate meeting the SLOs: {}/s ({}/s did not)",
                        trim(rate),
                        trim(failed)
                    ),
                    None => format!("highest rate meeting the SLOs: {}/s", trim(rate)),
                },
            },
        }
    }
}

impl SweepReport {
    /// Writes `sweep.json`, `sweep.md` and `sweep.html` into `dir`, each whole (through the
    /// store, so a reader never sees half a file).
    pub fn write(&self, dir: &Path) -> Result<(), StoreError> {
        let json = serde_json::to_string_pretty(self).expect("the sweep report serializes");
        store::write(dir, SWEEP_JSON, format!("{json}\n").as_bytes())?;
        store::write(dir, SWEEP_MD, self.markdown().as_bytes())?;
        store::write(dir, SWEEP_HTML, super::html::render(self).as_bytes())?;
        Ok(())
    }

    /// The table of steps and the answer, for a terminal.
    pub fn terminal(&self) -> String {
        let mut out = String::new();
        let op = self.main_op_name();
        let _ = writeln!(
            out,
            "\nsweep of {} · {} steps of {}s (+{}s warmup) · {}",
            self.scenario,
            self.steps.len(),
            trim(self.step_duration_s),
            trim(self.warmup_s),
            if self.objectives.is_empty() {
                "no SLO: a good request is one that succeeded".to_owned()
            } else {
                format!("slo {}", self.objectives.join(", "))
            }
        );
        let _ = writeln!(
            out,
            "{:>9} {:>9} {:>9} {:>7} {:>7} {:>7}   {:<26} {:<26} ",
            "",
            "",
            "",
            "",
            "",
            "",
            format!("{op} latency (ms)"),
            format!("{op} ttfs (ms)")
        );
        let _ = writeln!(
            out,
            "{:>9} {:>9} {:>9} {:>7} {:>7} {:>7}   {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}  verdict",
            "offered/s",
            "achieved",
            "goodput",
            "attain",
            "errors",
            "dropped",
            "p50",
            "p95",
            "p99",
            "p50",
            "p95",
            "p99"
        );
        for step in self.sorted_steps() {
            let (latency, ttfs) = step
                .ops
                .get(&op)
                .map_or((None, None), |o| (o.latency, o.ttfs));
            let cells = |p: Option<super::step::Percentiles>| {
                p.map_or_else(
                    || ["-".to_owned(), "-".to_owned(), "-".to_owned()],
                    |p| {
                        [
                            format!("{:.1}", p.p50),
                            format!("{:.1}", p.p95),
                            format!("{:.1}", p.p99),
                        ]
                    },
                )
            };
            let [l50, l95, l99] = cells(latency);
            let [t50, t95, t99] = cells(ttfs);
            let verdict = if step.passed {
                "pass".to_owned()
            } else {
                format!("FAIL {}", step.failures.join("; "))
            };
            let _ = writeln!(
                out,
                "{:>9} {:>9} {:>9} {:>7} {:>7} {:>7}   {l50:>8} {l95:>8} {l99:>8} {t50:>8} {t95:>8} {t99:>8}  {verdict}",
                trim(step.rate),
                format!("{:.1}", step.achieved_rate),
                format!("{:.1}", step.goodput_rate),
                percent(step.attainment),
                step.errors,
                step.dropped_iterations,
            );
        }
        let _ = writeln!(out, "\ncriterion: {}", self.criterion);
        let _ = writeln!(out, "capacity: {}", self.capacity.answer);
        if self.interrupted {
            let _ = writeln!(out, "interrupted: the sweep holds the steps that ran");
        }
        out
    }

    /// `sweep.md`: the same table and answer as Markdown, for a CI job summary.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let op = self.main_op_name();
        let _ = writeln!(
            out,
            "# agentload sweep: {}\n",
            self.scenario.replace('|', "\\|")
        );
        let _ = writeln!(out, "**{}**\n", self.capacity.answer);
        let slos = if self.objectives.is_empty() {
            "no SLO: a good request is one that succeeded".to_owned()
        } else {
            self.objectives
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "{} steps{} of {} s each after {} s of warmup, started {} · {slos}\n\nA step passes with {}.\n",
            self.steps.len(),
            if self.mode == "search" {
                " (search)"
            } else {
                ""
            },
            trim(self.step_duration_s),
            trim(self.warmup_s),
            self.started_at,
            self.criterion
        );
        let _ = writeln!(
            out,
            "| offered | achieved | goodput | attainment | errors | dropped | `{op}` latency p50 / p95 / p99 | `{op}` ttfs p50 / p95 / p99 | verdict |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        );
        for step in self.sorted_steps() {
            let (latency, ttfs) = step
                .ops
                .get(&op)
                .map_or((None, None), |o| (o.latency, o.ttfs));
            let ms = |p: Option<super::step::Percentiles>| {
                p.map_or_else(
                    || "–".to_owned(),
                    |p| format!("{:.1} / {:.1} / {:.1} ms", p.p50, p.p95, p.p99),
                )
            };
            let verdict = if step.passed {
                "✅ pass".to_owned()
            } else {
                format!("❌ {}", step.failures.join("; "))
            };
            let _ = writeln!(
                out,
                "| {}/s | {:.1}/s | {:.1}/s | {} | {} | {} | {} | {} | {verdict} |",
                trim(step.rate),
                step.achieved_rate,
                step.goodput_rate,
                percent(step.attainment),
                step.errors,
                step.dropped_iterations,
                ms(latency),
                ms(ttfs),
            );
        }
        if self.interrupted {
            let _ = writeln!(out, "\n_Interrupted: the table holds the steps that ran._");
        }
        out
    }

    /// Steps by offered rate, as a table reads best.
    pub(super) fn sorted_steps(&self) -> Vec<&StepResult> {
        let mut steps: Vec<&StepResult> = self.steps.iter().collect();
        steps.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        steps
    }

    /// The op whose percentiles the table shows: the main op of the last step that sent any.
    pub(super) fn main_op_name(&self) -> String {
        self.steps
            .iter()
            .rev()
            .find_map(|s| s.main_op().map(|(name, _)| name.to_owned()))
            .unwrap_or_else(|| "run_stream".to_owned())
    }
}

pub(super) fn percent(fraction: Option<f64>) -> String {
    fraction.map_or_else(|| "-".to_owned(), |f| format!("{:.1}%", f * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_the_highest_passing_rate() {
        let step = |rate: f64, passed: bool| StepResult {
            rate,
            achieved_rate: rate,
            iterations: 0,
            dropped_iterations: 0,
            requests: 0,
            errors: 0,
            error_rate: 0.0,
            good: 0,
            goodput_rate: 0.0,
            attainment: None,
            ops: Default::default(),
            passed,
            failures: Vec::new(),
            report: String::new(),
            interrupted: false,
        };
        let capacity =
            Capacity::from_steps(&[step(5.0, true), step(10.0, true), step(20.0, false)]);
        assert_eq!(
            (capacity.rate, capacity.failed_rate),
            (Some(10.0), Some(20.0))
        );
        assert_eq!(
            capacity.answer,
            "highest rate meeting the SLOs: 10/s (20/s did not)"
        );
        let none = Capacity::from_steps(&[step(5.0, false)]);
        assert_eq!(none.rate, None);
        let open = Capacity::from_steps(&[step(5.0, true)]);
        assert!(open.answer.contains("may be higher"), "{}", open.answer);
        let below = Capacity::from_search(Outcome::BelowMin { min: 2.0 });
        assert!(below.answer.contains("even 2/s failed"), "{}", below.answer);
    }
}
