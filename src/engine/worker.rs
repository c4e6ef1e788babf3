//! Worker threads: one current-thread runtime per core, each with its own HTTP client and
//! recorder, running its share of the virtual users. Nothing on the request path is shared
//! across threads but a few atomics.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::oneshot;

use super::control::Control;
use super::fixtures::Registry;
use super::ops::Context;
use super::program::Program;
use crate::api::{ApiClient, ClientOptions};
use crate::metrics::Recorder;
use crate::scenario::units::Spread;

/// What every worker shares.
#[derive(Clone)]
pub struct Shared {
    pub program: Arc<Program>,
    pub control: Arc<Control>,
    pub registry: Arc<Registry>,
    pub created_names: Arc<AtomicU64>,
    pub client: ClientOptions,
    pub seed: u64,
    pub think_time: Option<Spread<Duration>>,
    pub variants: usize,
}

/// How many worker threads to run for `vus` virtual users.
pub fn worker_count(vus: u32) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(vus as usize).max(1)
}

/// What a worker hands back: its recorder, and what went wrong inside it (a virtual user that
/// panicked is a bug, reported rather than silently dropped).
pub struct WorkerReport {
    pub recorder: Recorder,
    pub problems: Vec<String>,
}

/// Starts a worker thread for the given virtual users; its report arrives on the receiver when
/// all of them have finished.
pub fn spawn(
    index: usize,
    vus: Vec<u32>,
    shared: Shared,
) -> std::io::Result<oneshot::Receiver<WorkerReport>> {
    let (done, report) = oneshot::channel();
    std::thread::Builder::new()
        .name(format!("agentload-worker-{index}"))
        .spawn(move || {
            let variants = shared.variants;
            let report = run_worker(vus, shared).unwrap_or_else(|problem| WorkerReport {
                recorder: Recorder::new(variants),
                problems: vec![problem],
            });
            let _ = done.send(report);
        })?;
    Ok(report)
}

fn run_worker(vus: Vec<u32>, shared: Shared) -> Result<WorkerReport, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start a worker runtime: {err}"))?;
    let mut options = shared.client.clone();
    options.max_idle_connections = vus.len().max(1);
    let context = Rc::new(Context {
        client: ApiClient::new(options)?,
        program: shared.program.clone(),
        control: shared.control.clone(),
        registry: shared.registry.clone(),
        created_names: shared.created_names.clone(),
        recorder: RefCell::new(Recorder::new(shared.variants)),
    });
    let local = tokio::task::LocalSet::new();
    let problems = local.block_on(&runtime, async {
        let users: Vec<_> = vus
            .into_iter()
            .map(|vu| {
                tokio::task::spawn_local(virtual_user(
                    context.clone(),
                    vu,
                    shared.seed,
                    shared.think_time,
                ))
            })
            .collect();
        let mut problems = Vec::new();
        for user in users {
            if let Err(err) = user.await {
                problems.push(format!("a virtual user stopped unexpectedly: {err}"));
            }
        }
        problems
    });
    drop(local);
    let context =
        Rc::try_unwrap(context).map_err(|_| "a virtual user outlived its worker".to_owned())?;
    Ok(WorkerReport {
        recorder: context.recorder.into_inner(),
        problems,
    })
}

/// One virtual user of the closed model: pick an entry, run it, think, repeat until told to stop.
async fn virtual_user(
    context: Rc<Context>,
    vu: u32,
    seed: u64,
    think_time: Option<Spread<Duration>>,
) {
    let mut rng = SmallRng::seed_from_u64(seed ^ u64::from(vu).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut rotation = vu as usize;
    let control = &context.control;
    while control.start_iteration() {
        let entry = context.program.pick(&mut rng);
        let variant = context.program.choose_agent(entry, &mut rotation);
        if context.iteration(entry, variant).await.is_err() {
            break;
        }
        if let Some(think) = think_time {
            let pause = think.sample(&mut rng);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = control.stop.cancelled() => break,
            }
        }
    }
}
