//! The open model's clock: one thread that sleeps to each planned arrival (finer than the async
//! timer's millisecond) and hands it to the workers in turn. It stamps nothing: each arrival
//! carries the instant the plan gave it, so any lateness shows up as `wait`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use super::control::Control;
use super::schedule::Arrivals;

/// A sleep that `stop` cuts short.
#[derive(Debug, Default)]
pub struct Sleeper {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Sleeper {
    /// Sleeps until `at`; false if stopped first.
    pub fn sleep_until(&self, at: Instant) -> bool {
        let mut stopped = self
            .stopped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if *stopped {
                return false;
            }
            let now = Instant::now();
            if now >= at {
                return true;
            }
            stopped = self
                .wake
                .wait_timeout(stopped, at - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    pub fn stop(&self) {
        *self
            .stopped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        self.wake.notify_all();
    }
}

/// Where arrivals go and when the pacer must stop.
pub struct Pacer {
    pub arrivals: Arrivals,
    pub start: Instant,
    /// No arrival at or after this instant.
    pub end: Option<Instant>,
    pub workers: Vec<UnboundedSender<Instant>>,
    pub control: Arc<Control>,
    pub sleeper: Arc<Sleeper>,
    /// Arrivals handed out so far (for the progress line and tests).
    pub dispatched: Arc<AtomicU64>,
}

impl Pacer {
    /// Runs on its own thread until the plan, the iteration budget or a stop ends it; dropping
    /// the senders then tells the workers no more arrivals will come.
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("agentload-pacer".into())
            .spawn(move || self.run())
    }

    fn run(mut self) {
        let mut turn = 0usize;
        while let Some(offset) = self.arrivals.next_offset() {
            let at = self.start + offset;
            if self.end.is_some_and(|end| at >= end) || !self.control.budget_left() {
                break;
            }
            if !self.sleeper.sleep_until(at) {
                break;
            }
            // A worker that has gone away (its thread failed) just misses its share.
            let _ = self.workers[turn % self.workers.len()].send(at);
            self.dispatched.fetch_add(1, Ordering::Relaxed);
            turn = turn.wrapping_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::schedule::Schedule;
    use crate::scenario::units::Rate;
    use crate::scenario::{Arrival, Ramp};

    #[test]
    fn arrivals_are_spread_over_workers_on_time_and_stop_at_the_end() {
        let start = Instant::now() + Duration::from_millis(20);
        let (tx_a, mut rx_a) = tokio::sync::mpsc::unbounded_channel();
        let (tx_b, mut rx_b) = tokio::sync::mpsc::unbounded_channel();
        let pacer = Pacer {
            arrivals: Arrivals::new(
                Schedule::new(&Ramp::fixed(Rate::per_second(1000.0))),
                Arrival::Constant,
                1,
            ),
            start,
            end: Some(start + Duration::from_millis(200)),
            workers: vec![tx_a, tx_b],
            control: Arc::new(Control::new(None)),
            sleeper: Arc::new(Sleeper::default()),
            dispatched: Arc::default(),
        };
        let dispatched = pacer.dispatched.clone();
        pacer.spawn().unwrap().join().unwrap();
        assert_eq!(dispatched.load(Ordering::Relaxed), 200);
        let mut a = Vec::new();
        while let Ok(at) = rx_a.try_recv() {
            a.push(at);
        }
        let mut b = Vec::new();
        while let Ok(at) = rx_b.try_recv() {
            b.push(at);
        }
        assert_eq!((a.len(), b.len()), (100, 100));
        assert_eq!(a[0], start);
        assert_eq!(b[0], start + Duration::from_millis(1));
        assert_eq!(a[1], start + Duration::from_millis(2));
    }

    #[test]
    fn stop_cuts_a_long_sleep_short() {
        let sleeper = Arc::new(Sleeper::default());
        let waker = sleeper.clone();
        let started = Instant::now();
        let handle = std::thread::spawn(move || {
            sleeper.sleep_until(Instant::now() + Duration::from_secs(60))
        });
        std::thread::sleep(Duration::from_millis(20));
        waker.stop();
        assert!(!handle.join().unwrap());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
