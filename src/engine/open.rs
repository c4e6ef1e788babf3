//! The open model on one worker: arrivals from the pacer start iterations in free slots; with
//! every slot taken they queue (bounded) or are dropped, as the plan says, and every arrival that
//! never starts is counted.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinSet;

use super::ops::Context;
use super::worker::join_problem;
use crate::scenario::Saturation;

/// A worker's share of the open model.
pub struct Slots {
    pub arrivals: UnboundedReceiver<Instant>,
    /// Arrivals this worker holds (the pacer's view of its load): one off as each ends.
    pub pending: Arc<AtomicUsize>,
    /// Iterations this worker may run at once.
    pub slots: usize,
    pub saturation: Saturation,
    /// Arrivals this worker may hold waiting for a slot.
    pub max_queue: usize,
}

/// One worker's arrivals: what runs, what waits, and how each ends.
struct Desk<'a> {
    context: &'a Rc<Context>,
    pending: Arc<AtomicUsize>,
    slots: usize,
    saturation: Saturation,
    max_queue: usize,
    rng: SmallRng,
    running: JoinSet<()>,
    queue: VecDeque<Instant>,
    /// Set once the run stops: nothing waits any more.
    stopped: bool,
    problems: Vec<String>,
}

impl Desk<'_> {
    /// Starts an iteration meant to begin at `intended`.
    fn start(&mut self, intended: Instant) {
        if !self.context.control.claim_budget() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let index = self.context.program.pick(&mut self.rng);
        let variant = self.context.program.choose_agent(index);
        let context = self.context.clone();
        let pending = self.pending.clone();
        self.running.spawn_local(async move {
            let _ = context.iteration(index, variant, Some(intended)).await;
            pending.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// Counts an arrival that never started.
    fn drop_arrival(&mut self, intended: Instant) {
        self.pending.fetch_sub(1, Ordering::AcqRel);
        self.context.live.dropped.fetch_add(1, Ordering::Relaxed);
        self.context
            .series
            .borrow_mut()
            .record_dropped(Instant::now());
        if intended >= self.context.warmup_end {
            self.context.recorder.borrow_mut().dropped += 1;
        }
    }

    fn free(&self) -> bool {
        self.running.len() < self.slots
    }

    /// Takes note of finished iterations and gives their slots to waiting arrivals, oldest first.
    fn reap_and_refill(&mut self) {
        while let Some(ended) = self.running.try_join_next() {
            if let Err(err) = ended {
                self.problems.push(join_problem(err));
            }
        }
        while !self.stopped && self.free() {
            let Some(intended) = self.queue.pop_front() else {
                break;
            };
            self.start(intended);
        }
    }

    /// No iteration starts after the end: what still waits never will.
    fn stop(&mut self) {
        self.stopped = true;
        while let Some(intended) = self.queue.pop_front() {
            self.drop_arrival(intended);
        }
    }

    fn arrive(&mut self, intended: Instant) {
        let context = self.context;
        if self.stopped && (context.abort.is_cancelled() || context.control.was_interrupted()) {
            // The run is being cut short.
            self.drop_arrival(intended);
        } else if self.free() {
            // The pacer sends only arrivals planned before the end, so one reaching us after
            // the stop was late through our fault, not the server's: it still runs.
            self.start(intended);
        } else if self.stopped
            || self.saturation == Saturation::Drop
            || self.queue.len() >= self.max_queue
        {
            self.drop_arrival(intended);
        } else {
            self.queue.push_back(intended);
        }
    }
}

/// Runs arrivals until the pacer is done (or the run stops) and every started iteration has
/// ended; returns what went wrong inside it.
pub async fn run(context: Rc<Context>, slots: Slots, seed: u64) -> Vec<String> {
    let Slots {
        mut arrivals,
        pending,
        slots,
        saturation,
        max_queue,
    } = slots;
    let mut desk = Desk {
        context: &context,
        pending,
        slots,
        saturation,
        max_queue,
        rng: SmallRng::seed_from_u64(seed),
        running: JoinSet::new(),
        queue: VecDeque::new(),
        stopped: false,
        problems: Vec::new(),
    };
    let mut receiving = true;
    loop {
        if !desk.stopped && context.stop.is_cancelled() {
            desk.stop();
        }
        tokio::select! {
            biased;
            // Arrivals first: their lateness is measured. Finished iterations are reaped on the
            // way, so slots free up even while arrivals keep coming.
            arrival = arrivals.recv(), if receiving => {
                desk.reap_and_refill();
                match arrival {
                    Some(intended) => desk.arrive(intended),
                    None => receiving = false,
                }
            }
            Some(ended) = desk.running.join_next(), if !desk.running.is_empty() => {
                if let Err(err) = ended {
                    desk.problems.push(join_problem(err));
                }
                desk.reap_and_refill();
            }
            _ = context.stop.cancelled(), if !desk.stopped => desk.stop(),
            else => break,
        }
        if !receiving && desk.running.is_empty() && (desk.queue.is_empty() || desk.stopped) {
            break;
        }
    }
    desk.problems
}
