//! Running a plan: resolve the target, set up fixtures, run the load phase on worker threads,
//! then tear down every agent the run created, also when the run is interrupted. The engine
//! hands back what it measured and what happened; the summary, the verdict and the report
//! folder are the caller's (`app::session`).

pub mod abort;
pub mod callbacks;
mod closed;
pub mod collector;
pub mod control;
mod error;
pub mod fixtures;
pub mod measured;
mod open;
pub mod ops;
pub mod pacer;
mod phase;
pub mod program;
pub mod progress;
pub mod request_log;
pub mod schedule;
pub mod shard;
pub mod target;
mod teardown;
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use collector::Collector;
pub use control::Control;
pub use error::EngineError;
use fixtures::{Registry, SetupError, Teardown};
pub use measured::Measured;
use program::Program;
use target::Target;

use crate::api::{ApiClient, ClientOptions};
use crate::metrics::Recorder;
use crate::metrics::series::{Recent, SeriesSink};
use crate::model::redact;
use crate::scenario::{Diagnostic, Plan};

/// How a run ended.
pub struct RunOutput {
    /// What was measured, credentials scrubbed.
    pub measured: Measured,
    /// Setup failed; the load never started.
    pub setup_error: Option<SetupError>,
    pub teardown: Teardown,
    pub interrupted: bool,
    /// Whether requests went to the embedded simulator.
    pub embedded: bool,
    /// Faults inside the harness (never the target's): the run is incomplete.
    pub problems: Vec<String>,
    /// When the plan started on the wall clock; `None` if the load never started.
    pub load_started: Option<SystemTime>,
    /// The measured window: from the end of the warmup to the planned end (or to when
    /// iterations stopped starting).
    pub measured_window: Duration,
}

/// How to run, beyond what the plan says.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// No progress line and no chatter.
    pub quiet: bool,
    /// Worker threads; `None` picks by where the target is (see [`worker::default_threads`]).
    pub threads: Option<usize>,
    /// Report goodput even when the plan has no objectives and no goodput threshold (a sweep's
    /// steps): every request that succeeded is then good.
    pub goodput: bool,
    /// The part of the plan this process runs (`--shard I/N`); the plan given to [`run`] has
    /// its counts split already ([`shard::Shard::apply`]).
    pub shard: shard::Shard,
    /// Start the plan at this instant, after setup (`--start-at`).
    pub start_at: Option<SystemTime>,
}

/// Where the run writes as it goes.
#[derive(Default)]
pub struct Outputs {
    /// Writers of the per-second series.
    pub series: Vec<Box<dyn SeriesSink>>,
    /// The writer of `requests.csv`, with `--log-requests`.
    pub request_log: Option<request_log::RequestLog>,
}

/// What the load phase ended with.
struct Load {
    recorder: Recorder,
    window: measured::Window,
    setup_error: Option<SetupError>,
    problems: Vec<String>,
    started: Option<SystemTime>,
}

/// Runs a plan to the end (or to an interrupt): setup, load, teardown. `second_interrupt`
/// cancels teardown when the user insists on leaving at once.
pub async fn run(
    plan: &Plan,
    run_id: &str,
    control: Arc<Control>,
    second_interrupt: CancellationToken,
    run_options: Options,
    outputs: Outputs,
) -> Result<RunOutput, EngineError> {
    let quiet = run_options.quiet;
    let target = target::resolve(plan).await?;
    let options = ClientOptions {
        base_url: target.base_url.clone(),
        team_id: plan.target.team_id(),
        credentials: target.credentials.clone(),
        timeouts: plan.target.timeouts,
        max_idle_connections: 16,
        max_event_bytes: plan.target.max_event_bytes,
    };
    let client =
        ApiClient::new(options.clone()).map_err(|err| EngineError::Client(err.to_string()))?;
    let prefix = run_options.shard.name_prefix(run_id);
    let registry = Arc::new(Registry::default());
    let started_at = SystemTime::now();
    let threads = run_options
        .threads
        .unwrap_or_else(|| worker::default_threads(target.is_local()));
    if !quiet {
        announce(plan, run_id, &target, threads);
    }
    // Bound before setup, so a port already taken fails the run before it creates anything.
    let receiver = start_receiver(plan, run_id, quiet).await?;
    let recent = Recent::default();
    let mut series_sinks = outputs.series;
    if !quiet {
        series_sinks.push(recent.sink());
    }
    let collector = Collector::start(series_sinks).map_err(EngineError::Collector)?;
    let request_log = outputs.request_log;

    let setup = tokio::select! {
        result = fixtures::setup(&client, plan, &prefix, target.make_connection_id, &registry) => Some(result),
        _ = control.stop.cancelled() => None,
    };
    let load = match setup {
        Some(Ok(agents)) => {
            let shared = worker::Shared {
                program: Arc::new(Program::new(
                    plan,
                    agents,
                    prefix.clone(),
                    target.make_connection_id,
                )),
                control: control.clone(),
                registry: registry.clone(),
                created_names: Arc::new(AtomicU64::new(0)),
                client: options.clone(),
                seed: plan.seed,
                variants: plan.fixtures.len(),
                warmup: plan.load.warmup,
                callbacks: receiver.as_ref().map(|r| r.callbacks.clone()),
                series: Some(collector.sender()),
                request_rows: request_log.as_ref().map(request_log::RequestLog::sender),
                objectives: Arc::new(plan.objectives.clone()),
            };
            let alignment = phase::Alignment {
                shard: run_options.shard,
                start_at: run_options.start_at,
            };
            let phase = phase::run(plan, shared, threads, quiet, recent, alignment).await;
            Load {
                recorder: phase.recorder,
                window: measured::Window {
                    duration: phase.duration,
                    end: phase.window_end,
                },
                setup_error: None,
                problems: phase.problems,
                started: Some(phase.started),
            }
        }
        not_started => Load {
            recorder: Recorder::new(plan.fixtures.len()),
            window: measured::Window {
                duration: Duration::ZERO,
                end: Duration::ZERO,
            },
            setup_error: not_started.and_then(Result::err),
            problems: Vec::new(),
            started: None,
        },
    };

    // Every worker is gone, so the last seconds are in: write them before anything else.
    let mut problems = load.problems;
    problems.extend(collector.finish());
    problems.extend(request_log.and_then(request_log::RequestLog::finish));

    let sweep = plan.creates_agents();
    if !quiet && (!registry.is_empty() || sweep) {
        let hint = if control.was_interrupted() {
            " (Ctrl-C again to skip)"
        } else {
            ""
        };
        eprintln!(
            "agentload: deleting {} agent(s) the run created{hint}",
            registry.len()
        );
    }
    let teardown = teardown::run(teardown::Cleanup {
        options: &options,
        registry: &registry,
        prefix: &prefix,
        sweep,
        skip: &second_interrupt,
    })
    .await;

    let measured_window = load.window.end.saturating_sub(plan.load.warmup);
    let mut recorder = load.recorder;
    recorder.redact(&target.secret);
    let measured = Measured::new(
        plan,
        run_id,
        started_at,
        &target.base_url,
        run_options.shard,
        run_options.goodput,
        recorder,
        load.window,
    );
    let embedded = target.is_embedded();
    let secret = target.secret.clone();
    if let Some(server) = target.simulator {
        server.shutdown().await;
    }
    Ok(RunOutput {
        measured,
        setup_error: load.setup_error.map(|err| scrub_setup(err, &secret)),
        teardown: scrub_teardown(teardown, &secret),
        interrupted: control.was_interrupted(),
        embedded,
        problems,
        load_started: load.started,
        measured_window,
    })
}

/// One line on stderr: which run, of what, against where, on how many threads.
fn announce(plan: &Plan, run_id: &str, target: &Target, threads: usize) {
    let where_to = if target.is_embedded() {
        format!("{} (embedded simulator)", target.base_url)
    } else {
        target.base_url.clone()
    };
    let plural = if threads == 1 { "" } else { "s" };
    eprintln!(
        "agentload: run {run_id} of {} against {where_to}, {threads} worker thread{plural}",
        plan.name
    );
}

/// The receiver of run results, when some mix entry sends `callbackUrl`.
async fn start_receiver(
    plan: &Plan,
    run_id: &str,
    quiet: bool,
) -> Result<Option<callbacks::Receiver>, EngineError> {
    if !plan.mix.iter().any(|entry| entry.callback) {
        return Ok(None);
    }
    let receiver = callbacks::Receiver::start(&plan.callback, run_id)
        .await
        .map_err(|err| {
            EngineError::CallbackListen(Box::new(Diagnostic::in_file(
                &plan.origin,
                Some("callback.listen"),
                format!(
                    "cannot listen for run results on {}: {err}",
                    plan.callback.listen
                ),
                "pick a free address and port, e.g. listen = \"127.0.0.1:0\"",
            )))
        })?;
    if !quiet {
        eprintln!(
            "agentload: receiving run results on {} (callbackUrl {}...)",
            receiver.addr,
            receiver.callbacks.url_prefix()
        );
    }
    Ok(Some(receiver))
}

/// Anything the target said may echo the token: scrub it from every message kept.
fn scrub_setup(mut err: SetupError, secret: &str) -> SetupError {
    err.failure.message = redact(&err.failure.message, secret);
    err
}

fn scrub_teardown(mut teardown: Teardown, secret: &str) -> Teardown {
    for (_, why) in &mut teardown.left {
        *why = redact(why, secret);
    }
    if let Some(why) = &mut teardown.sweep_failed {
        *why = redact(why, secret);
    }
    teardown
}
