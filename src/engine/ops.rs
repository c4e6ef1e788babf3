//! What one iteration of each mix op does: which endpoints it calls in which order, with which
//! agent and body, and how each call is timed, recorded and cut short on abort.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::callbacks::{Callbacks, Ticket};
use super::control::{Control, LiveCounters};
use super::fixtures::Registry;
use super::program::{Entry, Program, with_fields};
use super::request_log;
use crate::api::{ApiClient, Call};
use crate::metrics::Recorder;
use crate::metrics::series::SeriesRecorder;
use crate::model::sample::VariantId;
use crate::model::{ErrorClass, Failure, Op};
use crate::model::{Sample, Timeline};
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
    /// This worker's open seconds of the per-second series.
    pub series: RefCell<SeriesRecorder>,
    /// With `--log-requests`: rows of `requests.csv` not yet handed to its writer, and where
    /// they go.
    pub request_rows: Option<(RefCell<String>, Sender<String>)>,
    /// The start of the load phase, the zero of `requests.csv`.
    pub start: Instant,
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
    /// The receiver of run results, when a mix entry asks for callbacks.
    pub callbacks: Option<Arc<Callbacks>>,
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
    /// The run's place in its conversation, when the op runs several turns.
    conversation_turn: Option<u32>,
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
    /// Hands the `requests.csv` rows gathered so far to their writer.
    pub fn flush_request_rows(&self) {
        if let Some((rows, out)) = &self.request_rows {
            let rows = std::mem::take(&mut *rows.borrow_mut());
            if !rows.is_empty() {
                let _ = out.send(rows);
            }
        }
    }

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
            conversation_turn: None,
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
                self.call(Op::Patch, turn, |at| {
                    client.patch(at, &agent.id, body.clone())
                })
                .await?;
            }
            MixOp::Run | MixOp::RunStream => {
                let agent = fixture(entry.op.name());
                self.conversation(entry, &agent.id, turn).await?;
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
                self.call(Op::Patch, turn, |at| client.patch(at, &id, body.clone()))
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
            .call(Op::Create, turn, |at| self.client.create(at, body.clone()))
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

    /// One iteration of a run op: `turns` runs of one conversation, each continuing the
    /// thread the last one returned. A failed run ends the conversation.
    async fn conversation(&self, entry: &Entry, agent_id: &str, turn: Turn) -> Result<(), Aborted> {
        let body = entry.body.as_ref().expect("run ops have a body");
        let client = &self.client;
        let several = entry.turns > 1;
        // The documented stream events carry no threadId, so a streamed conversation names its
        // own thread from the first turn (a server that does name one in a step is followed).
        let mut thread =
            (several && entry.op == MixOp::RunStream).then(|| uuid::Uuid::new_v4().to_string());
        for index in 1..=entry.turns {
            let turn = Turn {
                conversation_turn: several.then_some(index),
                ..if index == 1 { turn } else { turn.then() }
            };
            let ticket = match (&self.callbacks, entry.callback) {
                (Some(callbacks), true) => Some(callbacks.ticket()),
                _ => None,
            };
            let mut fields = Vec::with_capacity(2);
            if let Some(thread) = &thread {
                fields.push(("threadId", thread.as_str()));
            }
            if let Some(ticket) = &ticket {
                fields.push(("callbackUrl", ticket.url.as_str()));
            }
            let body = with_fields(body, &fields);
            let next_thread = if entry.op == MixOp::Run {
                let call = self
                    .call_with(Op::Run, turn, ticket, |at| {
                        client.run(at, agent_id, body.clone())
                    })
                    .await?;
                call.value.map(|run| Some(run.thread_id))
            } else {
                let call = self
                    .call_with(Op::RunStream, turn, ticket, |at| {
                        client.run_stream(at, agent_id, body.clone())
                    })
                    .await?;
                call.value.map(|stream| stream.thread_id.or(thread.take()))
            };
            match next_thread {
                Some(next) if several => thread = next,
                Some(_) => {}
                None => break,
            }
            if several && thread.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// [`call_with`](Self::call_with) for a request that expects no callback.
    async fn call<T, F, Fut>(&self, op: Op, turn: Turn, call: F) -> Result<Call<T>, Aborted>
    where
        F: FnMut(Option<Instant>) -> Fut,
        Fut: Future<Output = Call<T>>,
    {
        self.call_with(op, turn, None, call).await
    }

    /// Runs one request unless the run is aborting, waits out 429s if the plan honours
    /// `Retry-After`, waits for the run's result at the callback receiver if `ticket`, records
    /// the sample (unless in the warmup) and hands it back. An abort while the request is in
    /// flight records it as `interrupted`.
    async fn call_with<T, F, Fut>(
        &self,
        op: Op,
        turn: Turn,
        mut ticket: Option<Ticket>,
        mut call: F,
    ) -> Result<Call<T>, Aborted>
    where
        F: FnMut(Option<Instant>) -> Fut,
        Fut: Future<Output = Call<T>>,
    {
        if self.abort.is_cancelled() {
            return Err(Aborted);
        }
        let live = &self.live;
        let started = turn.intended.unwrap_or_else(Instant::now);
        live.in_flight.fetch_add(1, Ordering::Relaxed);
        live.in_flight_by_op[op.index()].fetch_add(1, Ordering::Relaxed);
        let finished = tokio::select! {
            biased;
            call = self.attempts(turn.intended, &mut call) => Some(call),
            _ = self.abort.cancelled() => None,
        };
        let mut aborted = finished.is_none();
        let mut call = finished.unwrap_or_else(|| interrupted(op, started));
        if let Some(ticket) = &mut ticket
            && call.sample.outcome.is_ok()
        {
            let timeout = self
                .callbacks
                .as_ref()
                .map_or_else(Duration::default, |c| c.timeout);
            let deadline = call.sample.timeline.sent + timeout;
            tokio::select! {
                biased;
                arrival = ticket.arrival_by(deadline) => match arrival {
                    Some(at) => call.sample.timeline.callback = Some(at),
                    None => {
                        call.sample.outcome = Err(Failure::new(
                            ErrorClass::CallbackTimeout,
                            format!("the run's result did not reach the callback receiver within {timeout:?} of the send (callback.timeout)"),
                        ));
                    }
                },
                _ = self.abort.cancelled() => {
                    aborted = true;
                    call.sample.outcome = Err(Failure::new(
                        ErrorClass::Interrupted,
                        "the run stopped while waiting for the run's callback",
                    ));
                }
            }
        }
        live.in_flight.fetch_sub(1, Ordering::Relaxed);
        live.in_flight_by_op[op.index()].fetch_sub(1, Ordering::Relaxed);
        call.sample.variant = turn.variant;
        call.sample.turn = turn.conversation_turn;
        live.requests.fetch_add(1, Ordering::Relaxed);
        if call.sample.outcome.is_err() {
            live.errors.fetch_add(1, Ordering::Relaxed);
        }
        if turn.measured {
            self.recorder.borrow_mut().record(&call.sample);
        }
        // The series has the warmup too (marked as such in the outputs).
        self.series.borrow_mut().record(&call.sample);
        if let Some((rows, out)) = &self.request_rows {
            let agent = turn.variant.map(|v| self.program.fixture(v).name.as_str());
            let mut rows = rows.borrow_mut();
            request_log::push_row(&mut rows, self.start, &call.sample, agent, !turn.measured);
            if rows.len() >= request_log::FLUSH_BYTES {
                let _ = out.send(std::mem::take(&mut *rows));
            }
        }
        if aborted { Err(Aborted) } else { Ok(call) }
    }

    /// Sends a request; with `retry_after = "honour"`, a 429 is waited out (as its
    /// `Retry-After` says, 1 s without one) and the request sent again, up to `max_retries`
    /// times and never past `timeout.total` from the first send. The sample then spans every
    /// attempt: its send is the first, the rest is the last's.
    async fn attempts<T, F, Fut>(&self, intended: Option<Instant>, call: &mut F) -> Call<T>
    where
        F: FnMut(Option<Instant>) -> Fut,
        Fut: Future<Output = Call<T>>,
    {
        let mut result = call(intended).await;
        let Some(max_retries) = self.program.max_retries else {
            return result;
        };
        let first = result.sample.timeline;
        let give_up = first.sent + self.program.total_timeout;
        let (mut retries, mut waited) = (0, Duration::ZERO);
        while retries < max_retries
            && matches!(&result.sample.outcome, Err(f) if f.class == ErrorClass::Http(429))
        {
            let wait = result.retry_after.unwrap_or(DEFAULT_RETRY_WAIT);
            if Instant::now() + wait >= give_up {
                break;
            }
            tokio::time::sleep(wait).await;
            retries += 1;
            waited += wait;
            result = call(None).await;
        }
        let timeline = &mut result.sample.timeline;
        timeline.intended = first.intended;
        timeline.sent = first.sent;
        result.sample.retries = retries;
        result.sample.retry_wait = waited;
        result
    }
}

/// How long a 429 without `Retry-After` is waited out before sending again.
const DEFAULT_RETRY_WAIT: Duration = Duration::from_secs(1);

/// The record of a request the run stopped while it was in flight.
fn interrupted<T>(op: Op, started: Instant) -> Call<T> {
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
}
