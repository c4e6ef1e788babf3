//! Worker threads: one current-thread runtime per core, each with its own HTTP client and
//! recorder, running its share of the load (virtual users, or arrivals from the pacer). Nothing
//! on the request path is shared across threads but a few atomics.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use std::sync::mpsc::Sender;

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::closed::{self, Users};
use super::control::Control;
use super::fixtures::Registry;
use super::open::{self, Slots};
use super::ops::Context;
use super::program::Program;
use crate::api::{ApiClient, ClientOptions};
use crate::metrics::Recorder;
use crate::metrics::series::{SeriesEvent, SeriesRecorder};

/// What every worker shares.
#[derive(Clone)]
pub struct Shared {
    pub program: Arc<Program>,
    pub control: Arc<Control>,
    pub registry: Arc<Registry>,
    pub created_names: Arc<AtomicU64>,
    pub client: ClientOptions,
    pub seed: u64,
    pub variants: usize,
    /// The leading period left out of the summary, from the start.
    pub warmup: Duration,
    /// The receiver of run results, when a mix entry asks for callbacks.
    pub callbacks: Option<Arc<super::callbacks::Callbacks>>,
    /// Where finished seconds of the series go.
    pub series: Option<Sender<SeriesEvent>>,
    /// Where rows of `requests.csv` go, with `--log-requests`.
    pub request_rows: Option<Sender<String>>,
    /// The objectives each request is judged by as it is recorded (goodput).
    pub objectives: Arc<crate::metrics::slo::Objectives>,
}

/// How often a worker hands on its finished seconds.
const HANDOFF_EVERY: Duration = Duration::from_millis(250);

/// A worker's share of the load.
pub enum Work {
    /// Closed model: these virtual users (0-based numbers).
    Users(Users),
    /// Open model: arrivals from the pacer, run within these slots.
    Arrivals(Slots),
}

/// What a worker hands back: its recorder, and what went wrong inside it (a virtual user that
/// panicked is a bug, reported rather than silently dropped).
pub struct WorkerReport {
    pub recorder: Recorder,
    pub problems: Vec<String>,
}

/// A started worker: it reports `ready` once its runtime and connections' settings are built,
/// waits for the start instant on `go` (so building them is never counted as load time), and
/// hands its report to `done`.
pub struct Started {
    pub ready: oneshot::Receiver<()>,
    pub go: oneshot::Sender<Instant>,
    pub done: oneshot::Receiver<WorkerReport>,
}

/// Worker threads to run when the user does not say: every core for a target elsewhere, half of
/// them (at least one) for a target on this machine, which needs the other half to answer.
pub fn default_threads(target_is_local: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if target_is_local {
        (cores / 2).max(1)
    } else {
        cores
    }
}

/// How many of `threads` to use for `concurrency` users or in-flight slots (no idle threads).
pub fn worker_count(threads: usize, concurrency: u32) -> usize {
    threads.min(concurrency as usize).max(1)
}

/// Starts a worker thread.
pub fn spawn(index: usize, work: Work, shared: Shared) -> std::io::Result<Started> {
    let (ready_tx, ready) = oneshot::channel();
    let (go, go_rx) = oneshot::channel();
    let (done_tx, done) = oneshot::channel();
    std::thread::Builder::new()
        .name(format!("agentload-worker-{index}"))
        .spawn(move || {
            let variants = shared.variants;
            let report =
                run_worker(index, work, shared, ready_tx, go_rx).unwrap_or_else(|problem| {
                    WorkerReport {
                        recorder: Recorder::new(variants),
                        problems: vec![problem],
                    }
                });
            let _ = done_tx.send(report);
        })?;
    Ok(Started { ready, go, done })
}

fn run_worker(
    index: usize,
    work: Work,
    shared: Shared,
    ready: oneshot::Sender<()>,
    go: oneshot::Receiver<Instant>,
) -> Result<WorkerReport, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start a worker runtime: {err}"))?;
    let mut options = shared.client.clone();
    options.max_idle_connections = match &work {
        Work::Users(users) => users.numbers.len(),
        Work::Arrivals(slots) => slots.slots,
    }
    .max(1);
    let client = ApiClient::new(options).map_err(|err| err.to_string())?;
    let _ = ready.send(());
    let Ok(start) = go.blocking_recv() else {
        // The load phase gave up before starting (another worker failed).
        return Ok(WorkerReport {
            recorder: Recorder::new(shared.variants),
            problems: Vec::new(),
        });
    };
    let context = Rc::new(Context {
        client,
        program: shared.program.clone(),
        control: shared.control.clone(),
        registry: shared.registry.clone(),
        created_names: shared.created_names.clone(),
        recorder: RefCell::new(Recorder::new(shared.variants).judging(shared.objectives.clone())),
        series: RefCell::new(SeriesRecorder::new(start)),
        request_rows: shared
            .request_rows
            .clone()
            .map(|out| (RefCell::new(String::new()), out)),
        start,
        warmup_end: start + shared.warmup,
        stop: shared.control.stop.child_token(),
        abort: shared.control.abort.child_token(),
        budget_spent: shared.control.budget_spent.child_token(),
        live: shared.control.worker_counters(),
        callbacks: shared.callbacks.clone(),
    });
    let seed = shared.seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    let local = tokio::task::LocalSet::new();
    let work_done = CancellationToken::new();
    let handoffs = local.spawn_local(hand_on_seconds(
        index,
        context.clone(),
        shared.series.clone(),
        work_done.clone(),
    ));
    let problems = local.block_on(&runtime, async {
        let problems = match work {
            Work::Users(users) => closed::run(context.clone(), users, start, shared.seed).await,
            Work::Arrivals(slots) => open::run(context.clone(), slots, seed).await,
        };
        work_done.cancel();
        let _ = handoffs.await;
        problems
    });
    drop(local);
    let context = Rc::try_unwrap(context).map_err(|_| "a task outlived its worker".to_owned())?;
    Ok(WorkerReport {
        recorder: context.recorder.into_inner(),
        problems,
    })
}

/// Hands the worker's finished seconds to the collector, and its `requests.csv` rows to their
/// writer, every [`HANDOFF_EVERY`], and the rest once the work is done.
async fn hand_on_seconds(
    index: usize,
    context: Rc<Context>,
    series: Option<Sender<SeriesEvent>>,
    work_done: CancellationToken,
) {
    let mut ticker = tokio::time::interval(HANDOFF_EVERY);
    loop {
        let finished = tokio::select! {
            _ = ticker.tick() => false,
            _ = work_done.cancelled() => true,
        };
        context.flush_request_rows();
        if let Some(out) = &series {
            let in_flight = context.live.in_flight_by_op();
            let handoff =
                context
                    .series
                    .borrow_mut()
                    .hand_on(index, Instant::now(), finished, &in_flight);
            if !handoff.seconds.is_empty() || finished {
                let _ = out.send(SeriesEvent::Handoff(handoff));
            }
        }
        if finished {
            return;
        }
    }
}

/// A task that ended by panicking, as a problem to report.
pub fn join_problem(err: tokio::task::JoinError) -> String {
    format!("a task stopped unexpectedly: {err}")
}
