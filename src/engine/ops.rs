//! What one iteration of each mix op does: which endpoints it calls in which order, with which
//! agent and body, and how each call is timed, recorded and cut short on abort.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::control::{Control, LiveCounters};
use super::fixtures::Registry;
use super::program::{Entry, Program};
use crate::api::{ApiClient, Call, ErrorClass, Failure, Op};
use crate::metrics::sample::VariantId;
use crate::metrics::{Recorder, Sample, Timeline};
use crate::scenario::MixOp;

/// The run was aborted; the iteration stops where it is.
pub struct Aborted;

/// A worker's view of the run: its own client and recorder, and what all workers share.
pub struct Context {
    pub client: ApiClient,
    pub program: Arc<Program>,
    pub control: Arc<Control>,
    pub registry: Arc<Registry>,
    /// Numbers the agents ops create, so their names are unique across workers.
    pub created_names: Arc<AtomicU64>,
    pub recorder: RefCell<Recorder>,
    /// Iterations meant to start before this are warmup: run, but left out of the summary.
    pub warmup_end: Instant,
    /// This worker's views of `control.stop` and `control.abort`: waiting on them touches no
    /// other thread's state.
    pub stop: CancellationToken,
    pub abort: CancellationToken,
    /// This worker's view of `control.budget_spent`.
    pub budget_spent: CancellationToken,
    /// This worker's counters for the progress line.
    pub live: Arc<LiveCounters>,
}

/// One iteration's place in the plan.
#[derive(Clone, Copy)]
struct Turn {
    variant: Option<VariantId>,
    /// When the plan meant the iteration to start (open model); its first request is timed
    /// from here.
    intended: Option<Instant>,
    /// False during the warmup: samples are not recorded.
    measured: bool,
}

impl Turn {
    /// The same iteration's later requests: timed from their own send.
    fn then(self) -> Turn {
        Turn {
            intended: None,
            ..self
        }
    }
}

impl Context {
    /// Runs one iteration of mix entry `index` against `variant`. `intended` is when the plan
    /// meant it to start (open model), `None` when it starts now (closed model).
    pub async fn iteration(
        &self,
        index: usize,
        variant: Option<VariantId>,
        intended: Option<Instant>,
    ) -> Result<(), Aborted> {
        let measured = intended.unwrap_or_else(Instant::now) >= self.warmup_end;
        self.live.iterations.fetch_add(1, Ordering::Relaxed);
        if measured {
            self.recorder.borrow_mut().iterations += 1;
        }
        let turn = Turn {
            variant,
            intended,
            measured,
        };
        let entry = &self.program.entries[index];
        let client = &self.client;
        let fixture = |op: &str| {
            self.program.fixture(
                variant.unwrap_or_else(|| panic!("{op} has an agent (checked with the plan)")),
            )
        };
        match entry.op {
            MixOp::List => {
                self.call(Op::List, turn, |at| client.list(at)).await?;
            }
            MixOp::Get => {
                let agent = fixture("get");
                self.call(Op::Get, turn, |at| client.get(at, &agent.id))
                    .await?;
            }
            MixOp::Patch => {
                let agent = fixture("patch");
                let body = self.program.patch_body(entry, &agent.remote_name);
                self.call(Op::Patch, turn, |at| client.patch(at, &agent.id, body))
                    .await?;
            }
            MixOp::Run => {
                let agent = fixture("run");
                let body = entry.body.clone().expect("run ops have a body");
                self.call(Op::Run, turn, |at| client.run(at, &agent.id, body))
                    .await?;
            }
            MixOp::RunStream => {
                let agent = fixture("run_stream");
                let body = entry.body.clone().expect("run ops have a body");
                self.call(Op::RunStream, turn, |at| {
                    client.run_stream(at, &agent.id, body)
                })
                .await?;
            }
            MixOp::Create => {
                self.create(entry, turn, true).await?;
            }
            MixOp::Delete => {
                let (id, turn) = match self.registry.take_spare() {
                    Some(id) => (id, turn),
                    None => match self.create(entry, turn, false).await? {
                        Some((id, _)) => (id, turn.then()),
                        None => return Ok(()),
                    },
                };
                self.delete(turn, &id).await?;
            }
            MixOp::Lifecycle => {
                let Some((id, name)) = self.create(entry, turn, false).await? else {
                    return Ok(());
                };
                let turn = turn.then();
                self.call(Op::Get, turn, |at| client.get(at, &id)).await?;
                let body = self.program.patch_body(entry, &name);
                self.call(Op::Patch, turn, |at| client.patch(at, &id, body))
                    .await?;
                self.delete(turn, &id).await?;
            }
        }
        Ok(())
    }

    /// Creates an agent named with the run's prefix and registers it for teardown.
    async fn create(
        &self,
        entry: &Entry,
        turn: Turn,
        spare: bool,
    ) -> Result<Option<(String, String)>, Aborted> {
        let number = self.created_names.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}op-{number}", self.program.prefix);
        let body = self.program.create_body(entry, turn.variant, &name);
        let call = self
            .call(Op::Create, turn, |at| self.client.create(at, body))
            .await?;
        Ok(call.value.map(|id| {
            self.registry.add(&id, &name, spare);
            (id, name)
        }))
    }

    async fn delete(&self, turn: Turn, id: &str) -> Result<(), Aborted> {
        let call = self
            .call(Op::Delete, turn, |at| self.client.delete(at, id))
            .await?;
        let gone = match &call.sample.outcome {
            Ok(()) => true,
            Err(failure) => failure.class == ErrorClass::Http(404),
        };
        if gone {
            self.registry.remove(id);
        }
        Ok(())
    }

    /// Runs one call unless the run is aborting, records its sample (unless in the warmup), and
    /// hands it back. An abort while the call is in flight records it as `interrupted`.
    async fn call<T, F, Fut>(&self, op: Op, turn: Turn, call: F) -> Result<Call<T>, Aborted>
    where
        F: FnOnce(Option<Instant>) -> Fut,
        Fut: Future<Output = Call<T>>,
    {
        if self.abort.is_cancelled() {
            return Err(Aborted);
        }
        let live = &self.live;
        let started = turn.intended.unwrap_or_else(Instant::now);
        live.in_flight.fetch_add(1, Ordering::Relaxed);
        let finished = tokio::select! {
            biased;
            call = call(turn.intended) => Some(call),
            _ = self.abort.cancelled() => None,
        };
        live.in_flight.fetch_sub(1, Ordering::Relaxed);
        let aborted = finished.is_none();
        let mut call = finished.unwrap_or_else(|| {
            let mut timeline = Timeline::starting(started, started);
            timeline.end = Instant::now();
            let failure = Failure::new(
                ErrorClass::Interrupted,
                "the run stopped while the request was in flight",
            );
            Call {
                sample: Sample::new(op, None, timeline, Err(failure)),
                value: None,
                retry_after: None,
            }
        });
        call.sample.variant = turn.variant;
        live.requests.fetch_add(1, Ordering::Relaxed);
        if call.sample.outcome.is_err() {
            live.errors.fetch_add(1, Ordering::Relaxed);
        }
        if turn.measured {
            self.recorder.borrow_mut().record(&call.sample);
        }
        if aborted { Err(Aborted) } else { Ok(call) }
    }
}
