//! How a run is told to stop and how its progress is watched: two cancellation tokens (stop
//! starting, abort in flight), the iteration budget, and live counters kept per worker (so the
//! request path touches no cache line another thread writes) and summed when read.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::model::Op;

/// Shared by every worker and the orchestrator.
#[derive(Debug, Default)]
pub struct Control {
    /// No new iterations start once cancelled (end of duration, iteration budget spent, Ctrl-C).
    pub stop: CancellationToken,
    /// Requests in flight are cancelled and counted as `interrupted` (end of grace, Ctrl-C).
    pub abort: CancellationToken,
    /// Set when the user interrupted the run (Ctrl-C or SIGTERM).
    pub interrupted: AtomicBool,
    /// The iteration budget across all virtual users; `None` when unlimited.
    iteration_budget: Option<AtomicU64>,
    /// Cancelled when the iteration budget runs out, so users waiting to start stop waiting.
    pub budget_spent: CancellationToken,
    /// When iterations stopped starting before the planned end (budget spent, the open model's
    /// last arrival, an interrupt): the end of the measured window.
    ended_early: Mutex<Option<Instant>>,
    /// Every worker's counters.
    live: Mutex<Vec<Arc<LiveCounters>>>,
}

/// One worker's counters, which a progress line reads while the run goes on.
#[derive(Debug, Default)]
pub struct LiveCounters {
    pub iterations: AtomicU64,
    pub dropped: AtomicU64,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub in_flight: AtomicI64,
    /// Requests in flight by op (indexed as `Op::ALL`), for the per-second series.
    pub in_flight_by_op: [AtomicI64; Op::ALL.len()],
}

impl LiveCounters {
    /// This worker's requests in flight, by op, for the ops with any.
    pub fn in_flight_by_op(&self) -> Vec<(Op, u64)> {
        Op::ALL
            .into_iter()
            .zip(&self.in_flight_by_op)
            .filter_map(|(op, n)| {
                let n = u64::try_from(n.load(Ordering::Relaxed)).ok()?;
                (n > 0).then_some((op, n))
            })
            .collect()
    }
}

/// All workers' counters added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveTotals {
    pub iterations: u64,
    pub dropped: u64,
    pub requests: u64,
    pub errors: u64,
    pub in_flight: i64,
}

impl Control {
    pub fn new(iterations: Option<u64>) -> Self {
        Control {
            iteration_budget: iterations.map(AtomicU64::new),
            ..Control::default()
        }
    }

    /// A new worker's counters, counted in every total from now on.
    pub fn worker_counters(&self) -> Arc<LiveCounters> {
        let counters = Arc::new(LiveCounters::default());
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(counters.clone());
        counters
    }

    /// Every worker's counters added up.
    pub fn totals(&self) -> LiveTotals {
        let live = self
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        live.iter().fold(LiveTotals::default(), |mut sum, c| {
            sum.iterations += c.iterations.load(Ordering::Relaxed);
            sum.dropped += c.dropped.load(Ordering::Relaxed);
            sum.requests += c.requests.load(Ordering::Relaxed);
            sum.errors += c.errors.load(Ordering::Relaxed);
            sum.in_flight += c.in_flight.load(Ordering::Relaxed);
            sum
        })
    }

    /// Claims the right to start one iteration. False when the run is stopping or the budget
    /// is spent. A spent budget does not stop the run: iterations already started finish in
    /// their own time (the grace period applies only to the end of the duration and Ctrl-C).
    pub fn start_iteration(&self) -> bool {
        !self.stop.is_cancelled() && self.claim_budget()
    }

    /// Takes one iteration from the budget, whether or not the run is stopping; false when it
    /// is spent.
    pub fn claim_budget(&self) -> bool {
        let Some(budget) = &self.iteration_budget else {
            return true;
        };
        match budget.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
            left.checked_sub(1)
        }) {
            Ok(before) => {
                if before == 1 {
                    self.budget_ran_out();
                }
                true
            }
            Err(_) => {
                self.budget_ran_out();
                false
            }
        }
    }

    fn budget_ran_out(&self) {
        self.mark_ended();
        self.budget_spent.cancel();
    }

    /// Notes that iterations stopped starting now, before the planned end (first call wins).
    pub fn mark_ended(&self) {
        let mut ended = self
            .ended_early
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ended.get_or_insert_with(Instant::now);
    }

    /// When iterations stopped starting before the planned end, if they did.
    pub fn ended_early(&self) -> Option<Instant> {
        *self
            .ended_early
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stops at once: no new iterations, in-flight requests cancelled.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        self.mark_ended();
        self.stop.cancel();
        self.abort.cancel();
    }

    /// Stops at once because the harness itself cannot go on (a thread would not start); not
    /// an interrupt by the user.
    pub fn interrupt_internally(&self) {
        self.mark_ended();
        self.stop.cancel();
        self.abort.cancel();
    }

    pub fn was_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_spending_it_cuts_nothing_short() {
        let control = Control::new(Some(3));
        assert!((0..3).all(|_| control.start_iteration()));
        assert!(!control.start_iteration());
        assert!(
            !control.stop.is_cancelled(),
            "iterations in flight are not hurried"
        );
        assert!(
            control.budget_spent.is_cancelled(),
            "users waiting to start are told"
        );
        assert!(control.ended_early().is_some());
        let unlimited = Control::new(None);
        assert!((0..1000).all(|_| unlimited.claim_budget()));
        assert!(!unlimited.budget_spent.is_cancelled());
    }

    #[test]
    fn totals_add_up_every_worker() {
        let control = Control::new(None);
        let (a, b) = (control.worker_counters(), control.worker_counters());
        a.requests.fetch_add(3, Ordering::Relaxed);
        b.requests.fetch_add(4, Ordering::Relaxed);
        b.in_flight.fetch_add(2, Ordering::Relaxed);
        let totals = control.totals();
        assert_eq!((totals.requests, totals.in_flight), (7, 2));
    }

    #[test]
    fn interrupt_stops_and_aborts() {
        let control = Control::new(None);
        assert!(control.start_iteration());
        control.interrupt();
        assert!(control.was_interrupted() && control.abort.is_cancelled());
        assert!(!control.start_iteration());
    }
}
