//! What one iteration of each mix op does: which endpoints it calls in which order, with which
//! agent and body, and how each call is timed, recorded and cut short on abort.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::control::Control;
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
}

impl Context {
    /// Runs one iteration of `entry` against `variant`.
    pub async fn iteration(
        &self,
        entry: &Entry,
        variant: Option<VariantId>,
    ) -> Result<(), Aborted> {
        let client = &self.client;
        let fixture = |op: &str| {
            self.program.fixture(
                variant.unwrap_or_else(|| panic!("{op} has an agent (checked with the plan)")),
            )
        };
        match entry.op {
            MixOp::List => {
                self.call(Op::List, None, |at| client.list(at)).await?;
            }
            MixOp::Get => {
                let agent = fixture("get");
                self.call(Op::Get, variant, |at| client.get(at, &agent.id))
                    .await?;
            }
            MixOp::Patch => {
                let agent = fixture("patch");
                let body = self.program.patch_body(entry, &agent.remote_name);
                self.call(Op::Patch, variant, |at| client.patch(at, &agent.id, body))
                    .await?;
            }
            MixOp::Run => {
                let agent = fixture("run");
                let body = entry.body.clone().expect("run ops have a body");
                self.call(Op::Run, variant, |at| client.run(at, &agent.id, body))
                    .await?;
            }
            MixOp::RunStream => {
                let agent = fixture("run_stream");
                let body = entry.body.clone().expect("run ops have a body");
                self.call(Op::RunStream, variant, |at| {
                    client.run_stream(at, &agent.id, body)
                })
                .await?;
            }
            MixOp::Create => {
                self.create(entry, variant, true).await?;
            }
            MixOp::Delete => {
                let id = match self.registry.take_spare() {
                    Some(id) => id,
                    None => match self.create(entry, variant, false).await? {
                        Some((id, _)) => id,
                        None => return Ok(()),
                    },
                };
                self.delete(variant, &id).await?;
            }
            MixOp::Lifecycle => {
                let Some((id, name)) = self.create(entry, variant, false).await? else {
                    return Ok(());
                };
                self.call(Op::Get, variant, |at| client.get(at, &id))
                    .await?;
                let body = self.program.patch_body(entry, &name);
                self.call(Op::Patch, variant, |at| client.patch(at, &id, body))
                    .await?;
                self.delete(variant, &id).await?;
            }
        }
        Ok(())
    }

    /// Creates an agent named with the run's prefix and registers it for teardown.
    async fn create(
        &self,
        entry: &Entry,
        variant: Option<VariantId>,
        spare: bool,
    ) -> Result<Option<(String, String)>, Aborted> {
        let number = self.created_names.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}op-{number}", self.program.prefix);
        let body = self.program.create_body(entry, variant, &name);
        let call = self
            .call(Op::Create, variant, |at| self.client.create(at, body))
            .await?;
        Ok(call.value.map(|id| {
            self.registry.add(&id, &name, spare);
            (id, name)
        }))
    }

    async fn delete(&self, variant: Option<VariantId>, id: &str) -> Result<(), Aborted> {
        let call = self
            .call(Op::Delete, variant, |at| self.client.delete(at, id))
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

    /// Runs one call unless the run is aborting, records its sample under `variant`, and hands
    /// it back. An abort while the call is in flight records it as `interrupted`.
    async fn call<T, F, Fut>(
        &self,
        op: Op,
        variant: Option<VariantId>,
        call: F,
    ) -> Result<Call<T>, Aborted>
    where
        F: FnOnce(Option<Instant>) -> Fut,
        Fut: Future<Output = Call<T>>,
    {
        if self.control.abort.is_cancelled() {
            return Err(Aborted);
        }
        let live = &self.control.live;
        let started = Instant::now();
        live.in_flight.fetch_add(1, Ordering::Relaxed);
        // Closed model: the send is the intended start.
        let finished = tokio::select! {
            biased;
            call = call(None) => Some(call),
            _ = self.control.abort.cancelled() => None,
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
        call.sample.variant = variant;
        live.requests.fetch_add(1, Ordering::Relaxed);
        if call.sample.outcome.is_err() {
            live.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.recorder.borrow_mut().record(&call.sample);
        if aborted { Err(Aborted) } else { Ok(call) }
    }
}
