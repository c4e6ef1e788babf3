//! The checked load: how much, shaped how (closed virtual users or open arrivals, fixed or
//! ramped in stages), and when it stops; with the defaults a scenario may leave out.

use std::fmt;
use std::time::Duration;

use crate::model::units::{Rate, Spread};

/// How long in-flight requests may finish after the end, unless the scenario says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);
/// Requests in flight at once in the open model, unless the scenario says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 1000;
/// Arrivals that may wait for a free slot in the open model, unless the scenario says otherwise.
pub const DEFAULT_MAX_QUEUE: u32 = 10_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    pub pacing: Pacing,
    pub stop: Stop,
    /// How long in-flight requests may finish after the end before they are cancelled.
    pub grace: Duration,
    /// A leading period whose iterations are left out of the summary.
    pub warmup: Duration,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pacing {
    /// Virtual users, each looping over the mix: the next iteration starts when the last ended.
    Closed {
        vus: Ramp<u32>,
        think_time: Option<Spread<Duration>>,
        /// A cap on iteration starts per second across all users.
        max_rate: Option<Rate>,
    },
    /// Arrivals at a planned rate, whatever the server does.
    Open {
        rate: Ramp<Rate>,
        arrival: Arrival,
        max_in_flight: u32,
        saturation: Saturation,
        max_queue: u32,
    },
}

impl Pacing {
    /// The open model at a fixed `rate`, keeping this pacing's open settings (arrival process,
    /// in-flight bound, saturation, queue) or the defaults when it is closed.
    pub fn open_at(&self, rate: Rate) -> Pacing {
        let (arrival, max_in_flight, saturation, max_queue) = match self {
            Pacing::Open {
                arrival,
                max_in_flight,
                saturation,
                max_queue,
                ..
            } => (*arrival, *max_in_flight, *saturation, *max_queue),
            Pacing::Closed { .. } => (
                Arrival::default(),
                DEFAULT_MAX_IN_FLIGHT,
                Saturation::default(),
                DEFAULT_MAX_QUEUE,
            ),
        };
        Pacing::Open {
            rate: Ramp::fixed(rate),
            arrival,
            max_in_flight,
            saturation,
            max_queue,
        }
    }
}

/// A value that starts at `start` and moves linearly to each stage's target over its duration,
/// then holds the last target.
#[derive(Clone, Debug, PartialEq)]
pub struct Ramp<T> {
    pub start: T,
    pub stages: Vec<Stage<T>>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage<T> {
    pub duration: Duration,
    pub target: T,
}

impl<T: Copy> Ramp<T> {
    /// A value that never changes.
    pub fn fixed(value: T) -> Self {
        Ramp {
            start: value,
            stages: Vec::new(),
        }
    }
}

impl Ramp<u32> {
    pub fn peak(&self) -> u32 {
        self.stages
            .iter()
            .map(|s| s.target)
            .fold(self.start, u32::max)
    }

    /// The stages as (start, end, from, to) stretches, without allocating.
    fn stretches(&self) -> impl Iterator<Item = (Duration, Duration, u32, u32)> + '_ {
        self.stages
            .iter()
            .scan((Duration::ZERO, self.start), |(at, value), stage| {
                let stretch = (*at, *at + stage.duration, *value, stage.target);
                (*at, *value) = (*at + stage.duration, stage.target);
                Some(stretch)
            })
    }

    /// Virtual users active `elapsed` into the run (the linear ramp, rounded down).
    pub fn at(&self, elapsed: Duration) -> u32 {
        for (t0, t1, v0, v1) in self.stretches() {
            if elapsed < t1 {
                let fraction = elapsed.saturating_sub(t0).as_secs_f64() / (t1 - t0).as_secs_f64();
                return (f64::from(v0) + (f64::from(v1) - f64::from(v0)) * fraction).floor() as u32;
            }
        }
        self.stages.last().map_or(self.start, |stage| stage.target)
    }

    /// The earliest time at or after `from` when user `vu` (0-based) is active, if ever.
    pub fn active_from(&self, vu: u32, from: Duration) -> Option<Duration> {
        let needed = f64::from(vu) + 1.0;
        if f64::from(self.at(from)) >= needed {
            return Some(from);
        }
        for (t0, t1, v0, v1) in self.stretches() {
            if t1 <= from || v1 < v0 || f64::from(v1) < needed {
                continue;
            }
            // The ramp rises through `needed` inside this stage.
            let fraction = (needed - f64::from(v0)) / (f64::from(v1) - f64::from(v0));
            let at = (t0 + (t1 - t0).mul_f64(fraction.clamp(0.0, 1.0))).max(from);
            // Rounding: step forward until the rounded-down count admits the user.
            return Some(if f64::from(self.at(at)) >= needed {
                at
            } else {
                at + Duration::from_millis(1)
            });
        }
        None
    }
}

impl Ramp<Rate> {
    /// The highest rate the ramp reaches.
    pub fn peak(&self) -> Rate {
        self.stages
            .iter()
            .map(|s| s.target)
            .fold(self.start, |a, b| if b > a { b } else { a })
    }
}

/// How arrivals are spaced in the open model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arrival {
    /// Evenly: arrival i at exactly i / rate.
    #[default]
    Constant,
    /// A Poisson process: exponential gaps with the planned mean, as independent users arrive.
    Poisson,
}

/// What an arrival does when every in-flight slot is taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Saturation {
    /// Wait for a slot (bounded by `max_queue`); the wait is part of its latency.
    #[default]
    Queue,
    /// Give up at once and count it in `dropped_iterations`.
    Drop,
}

impl fmt::Display for Arrival {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arrival::Constant => "constant",
            Arrival::Poisson => "poisson",
        })
    }
}

impl fmt::Display for Saturation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Saturation::Queue => "queue",
            Saturation::Drop => "drop",
        })
    }
}

/// When the load phase ends: whichever of the two comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    pub duration: Option<Duration>,
    /// Iterations across all virtual users (or arrivals started) together.
    pub iterations: Option<u64>,
}

impl Load {
    /// The iterations the workers share out, in the closed model. In the open model the pacer
    /// enforces `iterations` itself, by sending no more arrivals.
    pub fn iteration_budget(&self) -> Option<u64> {
        match self.pacing {
            Pacing::Closed { .. } => self.stop.iterations,
            Pacing::Open { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(start: u32, stages: &[(u64, u32)]) -> Ramp<u32> {
        Ramp {
            start,
            stages: stages
                .iter()
                .map(|(s, t)| Stage {
                    duration: Duration::from_secs(*s),
                    target: *t,
                })
                .collect(),
        }
    }

    #[test]
    fn user_ramps_interpolate_and_hold() {
        let r = ramp(0, &[(10, 10), (10, 10), (10, 0)]);
        assert_eq!(r.at(Duration::ZERO), 0);
        assert_eq!(r.at(Duration::from_millis(5500)), 5);
        assert_eq!(r.at(Duration::from_secs(15)), 10);
        assert_eq!(r.at(Duration::from_secs(25)), 5);
        assert_eq!(r.at(Duration::from_secs(99)), 0);
        assert_eq!(r.peak(), 10);
    }

    #[test]
    fn users_learn_when_they_become_active() {
        let r = ramp(0, &[(10, 10), (10, 0)]);
        // User 4 (the fifth) is needed once the ramp reaches 5: at 5 s.
        let at = r.active_from(4, Duration::ZERO).unwrap();
        assert!((at.as_secs_f64() - 5.0).abs() < 0.002, "{at:?}");
        assert!(r.at(at) >= 5);
        assert_eq!(
            r.active_from(4, Duration::from_secs(6)),
            Some(Duration::from_secs(6))
        );
        assert_eq!(
            r.active_from(4, Duration::from_secs(19)),
            None,
            "ramping down, never again"
        );
        assert_eq!(
            r.active_from(10, Duration::ZERO),
            None,
            "the peak is 10 users"
        );
        assert_eq!(
            Ramp::fixed(3).active_from(2, Duration::from_secs(1)),
            Some(Duration::from_secs(1))
        );
    }
}
