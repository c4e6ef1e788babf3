//! The open model's clock: one thread that sleeps to each planned arrival (finer than the async
//! timer's millisecond) and hands it to the workers in turn. It stamps nothing: each arrival
//! carries the instant the plan gave it, so any lateness shows up as `wait`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use super::control::Control;
use super::schedule::Arrivals;

/// A sleep that `stop` cuts short.
#[derive(Debug, Default)]
pub struct Sleeper {
    /// When `stop` was called.
    stopped: Mutex<Option<Instant>>,
    wake: Condvar,
}

impl Sleeper {
    /// Sleeps until `at`; false if stopped before `at`. An instant before the stop is reached
    /// even when this thread wakes only after it (starved by the machine): its arrival was
    /// planned before the stop, so it is handed on, late, and runs or is counted as dropped.
    pub fn sleep_until(&self, at: Instant) -> bool {
        let mut stopped = self
            .stopped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(stop) = *stopped {
                return at < stop;
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

    /// Stops now: sleeps to later instants end at once (the first stop counts).
    pub fn stop(&self) {
        self.stopped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(Instant::now);
        self.wake.notify_all();
    }
}

/// One worker as the pacer sees it: where to send its arrivals, and how many it holds.
pub struct Lane {
    pub arrivals: UnboundedSender<Instant>,
    /// Arrivals sent to the worker and not yet finished (in the channel, queued or running);
    /// the pacer adds one per arrival, the worker takes one off as each ends or is dropped.
    pub pending: Arc<AtomicUsize>,
}

/// Where arrivals go and when the pacer must stop.
pub struct Pacer {
    pub arrivals: Arrivals,
    pub start: Instant,
    /// No arrival at or after this instant.
    pub end: Option<Instant>,
    /// No more than this many arrivals (the open model's iteration budget).
    pub limit: Option<u64>,
    pub lanes: Vec<Lane>,
    pub control: Arc<Control>,
    pub sleeper: Arc<Sleeper>,
}

impl Pacer {
    /// Runs on its own thread until the plan, the budget or a stop ends it; dropping the senders
    /// then tells the workers no more arrivals will come.
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("agentload-pacer".into())
            .spawn(move || self.run())
    }

    fn run(mut self) {
        let mut sent = 0u64;
        let mut turn = 0usize;
        while let Some(offset) = self.arrivals.next_offset() {
            let at = self.start + offset;
            if self.end.is_some_and(|end| at >= end) {
                break;
            }
            if self.limit.is_some_and(|limit| sent >= limit) {
                self.control.mark_ended();
                break;
            }
            if !self.sleeper.sleep_until(at) {
                // Stopped before `at`: this and every later arrival come after the stop.
                break;
            }
            let lane = self.least_loaded(turn);
            lane.pending.fetch_add(1, Ordering::AcqRel);
            // A worker that has gone away (its thread failed) just misses this arrival.
            let _ = lane.arrivals.send(at);
            sent += 1;
            turn = turn.wrapping_add(1);
        }
    }

    /// The worker holding the fewest arrivals, so slots anywhere are used before any arrival
    /// waits or is dropped; ties go round in turn.
    fn least_loaded(&self, turn: usize) -> &Lane {
        let n = self.lanes.len();
        (0..n)
            .map(|k| &self.lanes[(turn + k) % n])
            .min_by_key(|lane| lane.pending.load(Ordering::Acquire))
            .expect("the pacer runs only with workers")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::schedule::Schedule;
    use crate::model::units::Rate;
    use crate::scenario::{Arrival, Ramp};

    fn lane() -> (Lane, tokio::sync::mpsc::UnboundedReceiver<Instant>) {
        let (arrivals, receiver) = tokio::sync::mpsc::unbounded_channel();
        (
            Lane {
                arrivals,
                pending: Arc::default(),
            },
            receiver,
        )
    }

    fn drain(receiver: &mut tokio::sync::mpsc::UnboundedReceiver<Instant>) -> Vec<Instant> {
        std::iter::from_fn(|| receiver.try_recv().ok()).collect()
    }

    #[test]
    fn arrivals_go_out_on_time_to_the_least_loaded_worker_and_stop_at_the_end() {
        let start = Instant::now() + Duration::from_millis(20);
        let ((a, mut rx_a), (b, mut rx_b)) = (lane(), lane());
        let busy_b = b.pending.clone();
        busy_b.store(1_000, Ordering::Release);
        let pacer = Pacer {
            arrivals: Arrivals::new(
                Schedule::new(&Ramp::fixed(Rate::per_second(1000.0))),
                Arrival::Constant,
                1,
            ),
            start,
            end: Some(start + Duration::from_millis(200)),
            limit: None,
            lanes: vec![a, b],
            control: Arc::new(Control::new(None)),
            sleeper: Arc::new(Sleeper::default()),
        };
        pacer.spawn().unwrap().join().unwrap();
        let (a, b) = (drain(&mut rx_a), drain(&mut rx_b));
        assert_eq!((a.len(), b.len()), (200, 0), "worker b was full");
        assert_eq!(a[0], start);
        assert_eq!(a[1], start + Duration::from_millis(1));
        assert_eq!(a[199], start + Duration::from_millis(199));
    }

    #[test]
    fn equal_workers_take_turns_and_a_limit_ends_the_arrivals_early() {
        let start = Instant::now();
        let ((a, mut rx_a), (b, mut rx_b)) = (lane(), lane());
        let control = Arc::new(Control::new(None));
        let pacer = Pacer {
            arrivals: Arrivals::new(
                Schedule::new(&Ramp::fixed(Rate::per_second(10_000.0))),
                Arrival::Constant,
                1,
            ),
            start,
            end: None,
            limit: Some(10),
            lanes: vec![a, b],
            control: control.clone(),
            sleeper: Arc::new(Sleeper::default()),
        };
        pacer.spawn().unwrap().join().unwrap();
        assert_eq!((drain(&mut rx_a).len(), drain(&mut rx_b).len()), (5, 5));
        assert!(
            control.ended_early().is_some(),
            "the measured window ends at the last arrival"
        );
    }

    /// A pacer for 1000 arrivals a second on one worker, whose clock started `behind` ago
    /// (so it wakes late for every arrival in it, as a starved thread does), already stopped
    /// `stop` after its start; what it hands on.
    fn starved(behind: Duration, end: Duration, stop: Duration) -> (Instant, Vec<Instant>) {
        let start = Instant::now() - behind;
        let (a, mut rx_a) = lane();
        let sleeper = Sleeper::default();
        *sleeper.stopped.lock().unwrap() = Some(start + stop);
        let pacer = Pacer {
            arrivals: Arrivals::new(
                Schedule::new(&Ramp::fixed(Rate::per_second(1000.0))),
                Arrival::Constant,
                1,
            ),
            start,
            end: Some(start + end),
            limit: None,
            lanes: vec![a],
            control: Arc::new(Control::new(None)),
            sleeper: Arc::new(sleeper),
        };
        pacer.spawn().unwrap().join().unwrap();
        (start, drain(&mut rx_a))
    }

    #[test]
    fn a_starved_pacer_stopped_at_the_end_still_hands_on_every_arrival_planned_before_it() {
        // The end of the duration stops the sleeper just after the end, while the pacer is
        // still a second behind: the 200 arrivals planned before the end all go out, late,
        // with the instants the plan gave them (so their wait shows the lateness).
        let ms = Duration::from_millis;
        let (start, sent) = starved(ms(1_000), ms(200), ms(201));
        assert_eq!(
            sent.len(),
            200,
            "arrivals planned before the end are never lost"
        );
        assert_eq!(sent[0], start);
        assert_eq!(sent[199], start + ms(199));
    }

    #[test]
    fn a_starved_pacer_stopped_early_hands_on_exactly_the_arrivals_planned_before_the_stop() {
        // Ctrl-C 50.5 ms into a 10 s plan while the pacer is a second behind: arrivals 0..=50
        // were planned before the stop (the workers count them as dropped), none after it.
        let ms = Duration::from_millis;
        let (start, sent) = starved(ms(1_000), ms(10_000), Duration::from_micros(50_500));
        assert_eq!(sent.len(), 51);
        assert_eq!(sent[50], start + ms(50));
        // A stop before the start hands on nothing.
        let (_, sent) = starved(ms(1_000), ms(10_000), Duration::ZERO);
        assert!(sent.is_empty(), "{} arrivals after the stop", sent.len());
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
