//! Running a plan: resolve the target, set up fixtures, run the load phase on worker threads,
//! then tear down every agent the run created, also when the run is interrupted, and build the
//! summary.

pub mod abort;
pub mod callbacks;
mod closed;
pub mod collector;
pub mod control;
pub mod fixtures;
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
pub mod worker;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use collector::Collector;
pub use control::Control;
use fixtures::{Registry, SetupError, Teardown};
use program::Program;

use crate::api::{ApiClient, ClientOptions};
use crate::metrics::Recorder;
use crate::metrics::goodput::GoodputContext;
use crate::metrics::series::{Recent, SeriesSink};
use crate::model::redact;
use crate::scenario::{Diagnostic, Plan};
use crate::summary::{RunInfo, Summary};

/// The longest one teardown request may take.
const TEARDOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// How a run ended.
pub struct RunOutput {
    pub summary: Summary,
    /// Setup failed; the load never started.
    pub setup_error: Option<SetupError>,
    pub teardown: Teardown,
    pub interrupted: bool,
    /// Whether requests went to the embedded simulator.
    pub embedded: bool,
    /// Faults inside the harness (never the target's): the run is incomplete.
    pub problems: Vec<String>,
    /// Everything measured, merged: what a sharded run's merge needs besides the summary.
    pub recorder: Recorder,
    /// When the plan started on the wall clock; `None` if the load never started.
    pub load_started: Option<SystemTime>,
    /// The measured window: from the end of the warmup to the planned end (or to when
    /// iterations stopped starting).
    pub measured: Duration,
}

/// Runs a plan to the end (or to an interrupt) and returns its summary. `second_interrupt`
/// cancels teardown when the user insists on leaving at once.
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

pub async fn run(
    plan: &Plan,
    run_id: &str,
    control: Arc<Control>,
    second_interrupt: CancellationToken,
    run_options: Options,
    outputs: Outputs,
) -> Result<RunOutput, Diagnostic> {
    let Outputs {
        series: series_sinks,
        request_log,
    } = outputs;
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
    let client = ApiClient::new(options.clone()).map_err(|err| {
        Diagnostic::flag("client", err.to_string(), "this is a bug; please report it")
    })?;
    let options_for_teardown = options.clone();
    let prefix = run_options.shard.name_prefix(run_id);
    let registry = Arc::new(Registry::default());
    let started_at = SystemTime::now();

    let threads = run_options
        .threads
        .unwrap_or_else(|| worker::default_threads(target.is_local()));
    if !quiet {
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

    // Bound before setup, so a port already taken fails the run before it creates anything.
    let receiver = if plan.mix.iter().any(|entry| entry.callback) {
        let receiver = callbacks::Receiver::start(&plan.callback, run_id)
            .await
            .map_err(|err| {
                Diagnostic::in_file(
                    &plan.origin,
                    Some("callback.listen"),
                    format!(
                        "cannot listen for run results on {}: {err}",
                        plan.callback.listen
                    ),
                    "pick a free address and port, e.g. listen = \"127.0.0.1:0\"",
                )
            })?;
        if !quiet {
            eprintln!(
                "agentload: receiving run results on {} (callbackUrl {}...)",
                receiver.addr,
                receiver.callbacks.url_prefix()
            );
        }
        Some(receiver)
    } else {
        None
    };

    let recent = Recent::default();
    let mut series_sinks = series_sinks;
    if !quiet {
        series_sinks.push(recent.sink());
    }
    let collector = Collector::start(series_sinks).map_err(|err| {
        Diagnostic::flag(
            "series",
            format!("cannot start the series writer thread: {err}"),
            "check the machine's thread limits",
        )
    })?;

    let setup = tokio::select! {
        result = fixtures::setup(&client, plan, &prefix, target.make_connection_id, &registry) => Some(result),
        _ = control.stop.cancelled() => None,
    };
    let mut load_started = None;
    let (recorder, duration, window_end, setup_error, problems) = match setup {
        Some(Ok(agents)) => {
            let program = Arc::new(Program::new(
                plan,
                agents,
                prefix.clone(),
                target.make_connection_id,
            ));
            let shared = worker::Shared {
                program,
                control: control.clone(),
                registry: registry.clone(),
                created_names: Arc::new(AtomicU64::new(0)),
                client: options,
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
            load_started = Some(phase.started);
            (
                phase.recorder,
                phase.duration,
                phase.window_end,
                None,
                phase.problems,
            )
        }
        Some(Err(err)) => (
            Recorder::new(plan.fixtures.len()),
            Duration::ZERO,
            Duration::ZERO,
            Some(err),
            Vec::new(),
        ),
        None => (
            Recorder::new(plan.fixtures.len()),
            Duration::ZERO,
            Duration::ZERO,
            None,
            Vec::new(),
        ),
    };

    // Every worker is gone, so the last seconds are in: write them before anything else.
    let mut problems = problems;
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
    // Teardown must not hang on a stalled server: short timeouts, whatever the plan's.
    let mut teardown_options = options_for_teardown.clone();
    teardown_options.timeouts.total = teardown_options.timeouts.total.min(TEARDOWN_TIMEOUT);
    let teardown_client = ApiClient::new(teardown_options).unwrap_or_else(|_| client.clone());
    let teardown = tokio::select! {
        report = fixtures::teardown(&teardown_client, &registry, &prefix, sweep) => report,
        _ = second_interrupt.cancelled() => Teardown {
            left: registry
                .pending()
                .into_iter()
                .map(|id| (id, "teardown skipped by a second interrupt".to_owned()))
                .collect(),
            ..Teardown::default()
        },
    };

    let info = RunInfo {
        scenario: plan.name.clone(),
        run_id: run_id.to_owned(),
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        duration_s: (duration.as_secs_f64() * 1000.0).round() / 1000.0,
        target: target.base_url.clone(),
        load: phase::load_summary(plan, run_options.shard, &recorder, window_end),
        goodput: reports_goodput(plan, run_options.goodput).then(|| GoodputContext {
            objectives: Arc::new(plan.objectives.clone()),
            window_s: window_end.saturating_sub(plan.load.warmup).as_secs_f64(),
        }),
    };
    let mut summary = Summary::build(info, &recorder, &plan.variant_names(), &plan.thresholds);
    if plan.variants.rank_by.is_some() {
        summary.rank_variants_by(&recorder, &plan.variant_names(), plan.variants.rank_by);
    }
    summary.redact(&target.secret);
    let embedded = target.is_embedded();
    if let Some(server) = target.simulator {
        server.shutdown().await;
    }
    // Anything the target said may echo the token: scrub it from every message we keep.
    let mut setup_error = setup_error;
    if let Some(err) = &mut setup_error {
        err.failure.message = redact(&err.failure.message, &target.secret);
    }
    let mut teardown = teardown;
    for (_, why) in &mut teardown.left {
        *why = redact(why, &target.secret);
    }
    if let Some(why) = &mut teardown.sweep_failed {
        *why = redact(why, &target.secret);
    }
    Ok(RunOutput {
        summary,
        setup_error,
        teardown,
        interrupted: control.was_interrupted(),
        embedded,
        problems,
        recorder,
        load_started,
        measured: window_end.saturating_sub(plan.load.warmup),
    })
}

/// Whether the summary reports goodput: the plan has objectives or a goodput threshold, or the
/// caller asks.
fn reports_goodput(plan: &Plan, asked: bool) -> bool {
    asked
        || !plan.objectives.is_empty()
        || plan.thresholds.iter().any(|t| {
            matches!(
                t.quantity,
                crate::metrics::threshold::Quantity::GoodputRate(_)
            )
        })
}
