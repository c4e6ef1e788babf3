//! `agentload sweep`: the scenario run as an open model at successive rates (given, or searched
//! for the highest that meets the SLOs), each step warmed up and measured on its own, with its
//! own report folder, and one table and capacity answer over all of them.

pub mod html;
pub mod report;
pub mod search;
pub mod step;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::app::session::{self, Session};
use crate::app::signals::Interrupts;
use crate::summary::verdict::ReasonKind;

use crate::app::{Exit, invalid, print_stdout};
use crate::engine;
use crate::model::units::Rate;
use crate::scenario::{self, Arrival, Overrides, Pacing, Plan, Stop};
use crate::summary::Summary;
use report::{Capacity, SCHEMA, SweepReport};
use search::Search;
use step::{Criterion, StepResult, trim};

/// The warmup of each step when neither `--warmup` nor the scenario sets one.
pub const DEFAULT_WARMUP: Duration = Duration::from_secs(5);
/// The search's lowest rate, unless `--min` says otherwise.
pub const DEFAULT_MIN: f64 = 1.0;
/// The search's highest rate, unless `--max` says otherwise.
pub const DEFAULT_MAX: f64 = 1000.0;
/// The search's precision, unless `--precision` says otherwise.
pub const DEFAULT_PRECISION: f64 = 0.1;

/// Which rates the sweep runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Rates {
    /// These, lowest first, each once.
    Given(Vec<f64>),
    /// Doubling from `min`, then bisecting, until the bracket is within `precision`.
    Search { min: f64, max: f64, precision: f64 },
}

/// A checked sweep: what `agentload sweep`'s flags say.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    pub scenario: PathBuf,
    pub rates: Rates,
    /// The measured part of each step.
    pub step: Duration,
    /// Before each step's measured part; `None`: the scenario's warmup, or [`DEFAULT_WARMUP`].
    pub warmup: Option<Duration>,
    /// Idle time between steps.
    pub pause: Duration,
    /// SLO attainment a step needs to pass (a fraction).
    pub goodput_target: f64,
    pub out: Option<PathBuf>,
    /// Target and `--slo` values over the scenario's.
    pub overrides: Overrides,
    pub threads: Option<usize>,
    pub quiet: bool,
}

/// The plan of one step: the scenario's, as an open model at `rate` for `warmup + step`.
pub fn step_plan(base: &Plan, rate: f64, warmup: Duration, step: Duration) -> Plan {
    let mut plan = base.clone();
    plan.load.pacing = base.load.pacing.open_at(Rate::per_second(rate));
    plan.load.stop = Stop {
        duration: Some(warmup + step),
        iterations: None,
    };
    plan.load.warmup = warmup;
    plan
}

/// `agentload sweep`
pub fn run(config: &SweepConfig) -> Exit {
    let plan = scenario::load(&config.scenario).and_then(|mut plan| {
        plan.apply(&config.overrides)?;
        Ok(plan)
    });
    let plan = match plan {
        Ok(plan) => plan,
        Err(diagnostic) => return invalid(diagnostic),
    };
    let warmup = config.warmup.unwrap_or(if plan.load.warmup.is_zero() {
        DEFAULT_WARMUP
    } else {
        plan.load.warmup
    });
    let name = format!("{}-sweep", plan.name);
    let dir = match crate::store::prepare(config.out.as_deref(), &name, SystemTime::now()) {
        Ok(dir) => dir,
        Err(err) => return invalid(format!("--out: {err}")),
    };
    let criterion = Criterion::new(config.goodput_target);
    let poisson = matches!(
        plan.load.pacing,
        Pacing::Open {
            arrival: Arrival::Poisson,
            ..
        }
    );
    let mut sweep = SweepReport {
        schema: SCHEMA.to_owned(),
        scenario: plan.name.clone(),
        started_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        mode: match config.rates {
            Rates::Given(_) => "rates",
            Rates::Search { .. } => "search",
        }
        .to_owned(),
        step_duration_s: config.step.as_secs_f64(),
        warmup_s: warmup.as_secs_f64(),
        objectives: plan
            .objectives
            .list()
            .iter()
            .map(ToString::to_string)
            .collect(),
        criterion: criterion.describe(),
        goodput_target: config.goodput_target,
        steps: Vec::new(),
        capacity: Capacity::from_steps(&[]),
        interrupted: false,
    };
    let mut search = match config.rates {
        Rates::Search {
            min,
            max,
            precision,
        } => Some(Search::new(min, max, precision)),
        Rates::Given(_) => None,
    };
    let mut given = match &config.rates {
        Rates::Given(rates) => rates.clone().into_iter(),
        Rates::Search { .. } => Vec::new().into_iter(),
    };

    let runtime = crate::app::runtime();
    let interrupts = runtime.block_on(async {
        Interrupts::watch("\ninterrupted: stopping the sweep; the step in flight is cut short")
    });
    let mut exit = None;
    loop {
        let next = match &search {
            Some(search) => search.next(),
            None => given.next(),
        };
        let Some(rate) = next else { break };
        if interrupts.stopped() {
            break;
        }
        if !sweep.steps.is_empty() && !config.pause.is_zero() {
            runtime.block_on(async {
                tokio::select! {
                    () = tokio::time::sleep(config.pause) => {}
                    () = interrupts.stop().cancelled() => {}
                }
            });
            if interrupts.stopped() {
                break;
            }
        }
        if !config.quiet {
            eprintln!(
                "agentload sweep: step {} at {}/s ({}s warmup + {}s)",
                sweep.steps.len() + 1,
                trim(rate),
                trim(warmup.as_secs_f64()),
                trim(config.step.as_secs_f64())
            );
        }
        let plan = step_plan(&plan, rate, warmup, config.step);
        let folder = crate::store::names::sweep_step(&trim(rate));
        let summary = match run_step(&runtime, &plan, &dir.join(&folder), config, &interrupts) {
            Ok(summary) => summary,
            Err(code) => {
                exit = Some(code);
                break;
            }
        };
        let cut_short = interrupts.stopped();
        let mut failures = criterion.failures(rate, poisson, &summary);
        if cut_short {
            failures.insert(0, "interrupted".to_owned());
        }
        let mut result = StepResult::new(rate, &summary, failures, folder);
        result.interrupted = cut_short;
        if !config.quiet {
            eprintln!(
                "agentload sweep: {}/s → achieved {:.1}/s, goodput {:.1}/s, attainment {}: {}",
                trim(rate),
                result.achieved_rate,
                result.goodput_rate,
                result
                    .attainment
                    .map_or_else(|| "-".to_owned(), |a| format!("{:.1}%", a * 100.0)),
                if result.passed {
                    "pass".to_owned()
                } else {
                    format!("FAIL ({})", result.failures.join("; "))
                }
            );
        }
        if let Some(search) = &mut search
            && !cut_short
        {
            search.record(rate, result.passed);
        }
        sweep.steps.push(result);
        sweep.capacity = match &search {
            Some(search) => Capacity::from_search(search.outcome()),
            None => Capacity::from_steps(&sweep.steps),
        };
        if let Err(err) = sweep.write(&dir) {
            eprintln!(
                "error: cannot write the sweep report into {}: {err}",
                dir.display()
            );
        }
    }
    runtime.shutdown_background();
    sweep.interrupted = interrupts.stopped();
    if sweep.interrupted && search.is_some() && !sweep.steps.is_empty() {
        sweep.capacity.answer += " (so far: the search was interrupted)";
    }
    let written = sweep.write(&dir);
    print_stdout(&sweep.terminal());
    match &written {
        Ok(()) => eprintln!("report: {}", dir.display()),
        Err(err) => eprintln!(
            "error: cannot write the sweep report into {}: {err}",
            dir.display()
        ),
    }
    if let Some(exit) = exit {
        return exit;
    }
    if sweep.interrupted {
        return Exit::Interrupted;
    }
    if written.is_err() {
        return Exit::Invalid;
    }
    if sweep.capacity.rate.is_some() {
        Exit::Passed
    } else {
        Exit::Failed
    }
}

/// Runs one step and writes its report folder; `Err` ends the sweep with that exit.
fn run_step(
    runtime: &tokio::runtime::Runtime,
    plan: &Plan,
    dir: &Path,
    config: &SweepConfig,
    interrupts: &Interrupts,
) -> Result<Summary, Exit> {
    crate::store::create(dir).map_err(|err| invalid(format!("--out: {err}")))?;
    let run_id = engine::target::random_hex(4);
    let session = Session {
        plan,
        dir,
        run_id: &run_id,
        engine: engine::Options {
            quiet: config.quiet,
            threads: config.threads,
            goodput: true,
            shard: engine::shard::Shard::default(),
            start_at: None,
        },
        log_requests: false,
        metrics_addr: None,
        abort_on_fail: false,
        baseline: None,
        shard_part: None,
    };
    let finished = session::run(runtime, session, interrupts).map_err(invalid)?;
    if let Err(err) = &finished.written {
        return Err(invalid(format!("--out: {err}")));
    }
    for (id, why) in &finished.teardown.left {
        eprintln!("warning: agent {id} the step created could not be deleted: {why}");
    }
    if !finished.teardown.left.is_empty() {
        eprintln!("  their names start with agentload-{run_id}-; delete them by hand");
    }
    for problem in &finished.problems {
        eprintln!(
            "error: the step is incomplete: {problem} (this is a bug in agentload; please report it)"
        );
    }
    let summary = finished.summary;
    if let Some(setup) = summary.verdict.reason(ReasonKind::SetupFailed) {
        eprintln!("error: {}", setup.message);
        return Err(Exit::Invalid);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Ramp;

    #[test]
    fn a_step_is_the_scenario_open_at_one_rate() {
        let plan = crate::scenario::parse(
            "s.toml",
            b"[load]\nvus = 3\nduration = \"1m\"\niterations = 9\n[[mix]]\nop = \"list\"\n",
            "s",
        )
        .unwrap();
        let step = step_plan(&plan, 12.5, Duration::from_secs(2), Duration::from_secs(8));
        let Pacing::Open { rate, arrival, .. } = &step.load.pacing else {
            panic!("open")
        };
        assert_eq!(rate, &Ramp::fixed(Rate::per_second(12.5)));
        assert_eq!(*arrival, Arrival::Constant);
        assert_eq!(step.load.stop.duration, Some(Duration::from_secs(10)));
        assert_eq!(step.load.stop.iterations, None);
        assert_eq!(step.load.warmup, Duration::from_secs(2));
    }
}
