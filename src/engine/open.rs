//! The open model on one worker: arrivals from the pacer start iterations in free slots; with
//! every slot taken they queue (bounded) or are dropped, as the plan says, and every arrival that
//! never starts is counted.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::Ordering;
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
    /// Iterations this worker may run at once.
    pub slots: usize,
    pub saturation: Saturation,
    /// Arrivals this worker may hold waiting for a slot.
    pub max_queue: usize,
}

/// Runs arrivals until the pacer is done (or the run stops) and every started iteration has
/// ended; returns what went wrong inside it.
pub async fn run(context: Rc<Context>, mut slots: Slots, seed: u64) -> Vec<String> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut rotation = 0usize;
    let mut running = JoinSet::new();
    let mut queue: VecDeque<Instant> = VecDeque::new();
    let mut problems = Vec::new();
    let (mut receiving, mut stopped) = (true, false);
    let control = context.control.clone();

    let mut start = |running: &mut JoinSet<()>, intended: Instant| {
        // Not `control.start_iteration()` alone: that refuses everything after the stop.
        if !control.claim_budget() {
            return;
        }
        let index = context.program.pick(&mut rng);
        let variant = context.program.choose_agent(index, &mut rotation);
        let context = context.clone();
        running.spawn_local(async move {
            let _ = context.iteration(index, variant, Some(intended)).await;
        });
    };
    let drop_arrival = |intended: Instant| {
        context.live.dropped.fetch_add(1, Ordering::Relaxed);
        if intended >= context.warmup_end {
            context.recorder.borrow_mut().dropped += 1;
        }
    };

    loop {
        tokio::select! {
            biased;
            // Arrivals first: their lateness is measured. Finished iterations are reaped on the
            // way, so slots free up even while arrivals keep coming.
            arrival = slots.arrivals.recv(), if receiving => {
                while let Some(ended) = running.try_join_next() {
                    if let Err(err) = ended {
                        problems.push(join_problem(err));
                    }
                }
                while !stopped && running.len() < slots.slots {
                    let Some(intended) = queue.pop_front() else { break };
                    start(&mut running, intended);
                }
                match arrival {
                    None => receiving = false,
                    // The pacer sends only arrivals planned before the end; one that reaches us
                    // after it was late through our fault, not the server's: it still runs if a
                    // slot is free, unless the run is being cut short.
                    Some(intended) if stopped && (context.abort.is_cancelled() || control.was_interrupted()) => {
                        drop_arrival(intended)
                    }
                    Some(intended) if running.len() < slots.slots => start(&mut running, intended),
                    Some(intended) if stopped => drop_arrival(intended),
                    Some(intended) => {
                        if slots.saturation == Saturation::Drop || queue.len() >= slots.max_queue {
                            drop_arrival(intended);
                        } else {
                            queue.push_back(intended);
                        }
                    }
                }
            }
            Some(ended) = running.join_next(), if !running.is_empty() => {
                if let Err(err) = ended {
                    problems.push(join_problem(err));
                }
                while !stopped && running.len() < slots.slots {
                    let Some(intended) = queue.pop_front() else { break };
                    start(&mut running, intended);
                }
            }
            _ = context.stop.cancelled(), if !stopped => {
                // No iteration starts after the end: what still waits never will.
                stopped = true;
                queue.drain(..).for_each(drop_arrival);
            }
            else => break,
        }
        if !receiving && running.is_empty() && (queue.is_empty() || stopped) {
            break;
        }
    }
    problems
}
