//! How a run is told to stop and how its progress is watched: two cancellation tokens (stop
//! starting, abort in flight), the iteration budget, and live counters shared by all workers.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;

/// Shared by every worker and the orchestrator.
#[derive(Debug, Default)]
pub struct Control {
    /// No new iterations start once cancelled (end of duration, iteration budget spent, Ctrl-C).
    pub stop: CancellationToken,
    /// Requests in flight are cancelled and counted as `interrupted` (end of grace, Ctrl-C).
    pub abort: CancellationToken,
    /// Set when the user interrupted the run (Ctrl-C or SIGTERM).
    pub interrupted: AtomicBool,
    /// The iteration budget across all virtual users; `u64::MAX` when unlimited.
    iteration_budget: AtomicU64,
    pub live: LiveCounters,
}

/// Counters a progress line reads while the run goes on.
#[derive(Debug, Default)]
pub struct LiveCounters {
    pub iterations: AtomicU64,
    pub dropped: AtomicU64,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub in_flight: AtomicI64,
}

impl Control {
    pub fn new(iterations: Option<u64>) -> Self {
        Control {
            iteration_budget: AtomicU64::new(iterations.unwrap_or(u64::MAX)),
            ..Control::default()
        }
    }

    /// Claims the right to start one iteration. False when the run is stopping or the budget
    /// is spent. A spent budget does not stop the run: iterations already started finish in
    /// their own time (the grace period applies only to the end of the duration and Ctrl-C).
    pub fn start_iteration(&self) -> bool {
        if self.stop.is_cancelled() {
            return false;
        }
        let claimed = self
            .iteration_budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if claimed {
            self.live.iterations.fetch_add(1, Ordering::Relaxed);
        }
        claimed
    }

    /// Whether iterations remain in the budget (always, when there is none).
    pub fn budget_left(&self) -> bool {
        self.iteration_budget.load(Ordering::Acquire) > 0
    }

    /// Stops at once: no new iterations, in-flight requests cancelled.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        self.stop.cancel();
        self.abort.cancel();
    }

    /// Stops at once because the harness itself cannot go on (a thread would not start); not
    /// an interrupt by the user.
    pub fn interrupt_internally(&self) {
        self.stop.cancel();
        self.abort.cancel();
    }

    pub fn was_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    pub fn iterations(&self) -> u64 {
        self.live.iterations.load(Ordering::Relaxed)
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
        assert_eq!(control.iterations(), 3);
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
