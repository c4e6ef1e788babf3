//! The open model's plan of arrivals: when arrival i is meant to start, computed from the rate
//! ramp alone (start + offset of arrival i), so lateness never accumulates. Constant arrivals
//! sit at whole multiples of the expected count; Poisson ones at sums of exponential draws, mapped
//! through the same ramp (time rescaling), so both follow any ramp exactly.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::scenario::{Arrival, Ramp};

/// One stretch of linearly changing rate.
#[derive(Clone, Copy, Debug)]
struct Segment {
    /// Seconds from the start.
    start: f64,
    /// Seconds; infinite for the hold after the last stage.
    length: f64,
    /// Rate (per second) at the start and end of the segment.
    from: f64,
    to: f64,
    /// Expected arrivals before the segment.
    before: f64,
}

impl Segment {
    fn expected_within(&self, t: f64) -> f64 {
        let slope = if self.length.is_finite() {
            (self.to - self.from) / self.length
        } else {
            0.0
        };
        self.from * t + slope * t * t / 2.0
    }

    /// Seconds into the segment at which `count` arrivals (counted within it) are expected.
    fn time_of(&self, count: f64) -> f64 {
        if count <= 0.0 {
            return 0.0;
        }
        let half_slope = if self.length.is_finite() {
            (self.to - self.from) / (2.0 * self.length)
        } else {
            0.0
        };
        // Solve half_slope·t² + from·t − count = 0 in a form stable for any sign of the slope.
        let discriminant = (self.from * self.from + 4.0 * half_slope * count).max(0.0);
        let denominator = self.from + discriminant.sqrt();
        if denominator <= 0.0 {
            f64::INFINITY
        } else {
            2.0 * count / denominator
        }
    }
}

/// The expected number of arrivals as a function of time, and its inverse.
#[derive(Clone, Debug)]
pub struct Schedule {
    segments: Vec<Segment>,
}

impl Schedule {
    /// The schedule of a rate ramp; after the last stage the last rate holds.
    pub fn new(rate: &Ramp<crate::model::units::Rate>) -> Schedule {
        let mut segments = Vec::with_capacity(rate.stages.len() + 1);
        let (mut start, mut before, mut from) = (0.0, 0.0, rate.start.as_per_second());
        for stage in &rate.stages {
            let segment = Segment {
                start,
                length: stage.duration.as_secs_f64(),
                from,
                to: stage.target.as_per_second(),
                before,
            };
            before += segment.expected_within(segment.length);
            start += segment.length;
            from = segment.to;
            segments.push(segment);
        }
        segments.push(Segment {
            start,
            length: f64::INFINITY,
            from,
            to: from,
            before,
        });
        Schedule { segments }
    }

    /// Expected arrivals in the first `elapsed` of the run.
    pub fn expected_by(&self, elapsed: Duration) -> f64 {
        let t = elapsed.as_secs_f64();
        let segment = self
            .segments
            .iter()
            .rev()
            .find(|s| s.start <= t)
            .expect("the first segment starts at 0");
        segment.before + segment.expected_within(t - segment.start)
    }

    /// The earliest time the expected count reaches `count`; `None` if it never does (the rate
    /// ends at zero). Stretches at zero rate hold no arrivals, so none is placed inside one.
    pub fn time_of(&self, count: f64) -> Option<Duration> {
        let segment = self.segments.iter().find(|s| {
            let silent = s.from <= 0.0 && s.to <= 0.0;
            let total = if s.length.is_finite() {
                s.expected_within(s.length)
            } else {
                f64::INFINITY
            };
            !silent && count <= s.before + total
        })?;
        let within = segment.time_of(count - segment.before).min(segment.length);
        let seconds = segment.start + within;
        Duration::try_from_secs_f64(seconds).ok()
    }
}

/// The arrivals of one run (or of one share of it), in order.
pub struct Arrivals {
    schedule: Schedule,
    arrival: Arrival,
    rng: SmallRng,
    /// The next arrival's position on the expected-count axis.
    position: f64,
    /// Arrivals of the whole this share steps over: N for a shard of N, else 1.
    stride: f64,
}

impl Arrivals {
    pub fn new(schedule: Schedule, arrival: Arrival, seed: u64) -> Arrivals {
        let mut arrivals = Arrivals {
            schedule,
            arrival,
            rng: SmallRng::seed_from_u64(seed),
            position: 0.0,
            stride: 1.0,
        };
        if arrival == Arrival::Poisson {
            arrivals.position = arrivals.exponential();
        }
        arrivals
    }

    /// One shard's part of the arrivals, on the whole plan's schedule: constant arrivals
    /// I, I+N, I+2N, ... (so the shards' union is exactly the planned schedule); Poisson ones a
    /// process of its own with N times the mean gap, i.e. rate R/N (give each shard its own seed).
    pub fn share(mut self, shard: super::shard::Shard) -> Arrivals {
        if shard.is_whole() {
            return self;
        }
        let stride = f64::from(shard.count);
        self.stride = stride;
        self.position = match self.arrival {
            Arrival::Constant => f64::from(shard.index),
            Arrival::Poisson => stride * self.exponential(),
        };
        self
    }

    fn exponential(&mut self) -> f64 {
        // Inverse transform of a uniform in (0, 1].
        let uniform: f64 = 1.0 - self.rng.random::<f64>();
        -uniform.ln()
    }

    /// The planned offset of the next arrival from the start, or `None` when the rate has
    /// fallen to zero for good.
    pub fn next_offset(&mut self) -> Option<Duration> {
        let at = self.schedule.time_of(self.position)?;
        self.position += match self.arrival {
            Arrival::Constant => self.stride,
            Arrival::Poisson => self.stride * self.exponential(),
        };
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::units::Rate;
    use crate::scenario::Stage;

    fn ramp(start: f64, stages: &[(u64, f64)]) -> Ramp<Rate> {
        Ramp {
            start: Rate::per_second(start),
            stages: stages
                .iter()
                .map(|(secs, rate)| Stage {
                    duration: Duration::from_secs(*secs),
                    target: Rate::per_second(*rate),
                })
                .collect(),
        }
    }

    fn count_before(arrivals: &mut Arrivals, end: Duration) -> usize {
        std::iter::from_fn(|| arrivals.next_offset())
            .take_while(|at| *at < end)
            .count()
    }

    #[test]
    fn constant_arrivals_sit_at_exact_multiples() {
        let mut arrivals = Arrivals::new(
            Schedule::new(&Ramp::fixed(Rate::per_second(5000.0))),
            Arrival::Constant,
            1,
        );
        let first: Vec<Duration> = (0..3).filter_map(|_| arrivals.next_offset()).collect();
        assert_eq!(
            first,
            [
                Duration::ZERO,
                Duration::from_micros(200),
                Duration::from_micros(400)
            ]
        );
        let mut arrivals = Arrivals::new(
            Schedule::new(&Ramp::fixed(Rate::per_second(5000.0))),
            Arrival::Constant,
            1,
        );
        assert_eq!(count_before(&mut arrivals, Duration::from_secs(10)), 50_000);
    }

    #[test]
    fn offsets_do_not_drift_over_long_runs() {
        let mut arrivals = Arrivals::new(
            Schedule::new(&Ramp::fixed(Rate::per_second(3.0))),
            Arrival::Constant,
            1,
        );
        let last = std::iter::from_fn(|| arrivals.next_offset())
            .nth(3_000_000)
            .unwrap();
        assert!((last.as_secs_f64() - 1_000_000.0).abs() < 1e-6, "{last:?}");
    }

    #[test]
    fn ramps_follow_the_integral_of_the_rate() {
        // 0 -> 100/s over 10 s (500 expected), hold 100/s for 10 s (1000), down to 0 over 10 s (500).
        let schedule = Schedule::new(&ramp(0.0, &[(10, 100.0), (10, 100.0), (10, 0.0)]));
        assert!((schedule.expected_by(Duration::from_secs(10)) - 500.0).abs() < 1e-9);
        assert!((schedule.expected_by(Duration::from_secs(30)) - 2000.0).abs() < 1e-9);
        assert!((schedule.expected_by(Duration::from_secs(5)) - 125.0).abs() < 1e-9);
        let at = schedule.time_of(125.0).unwrap();
        assert!((at.as_secs_f64() - 5.0).abs() < 1e-9, "{at:?}");
        let at = schedule.time_of(1875.0).unwrap();
        assert!(
            (at.as_secs_f64() - 25.0).abs() < 1e-9,
            "on the way down: {at:?}"
        );
        assert_eq!(schedule.time_of(2000.5), None, "the rate ends at zero");
        assert_eq!(schedule.time_of(0.0), Some(Duration::ZERO));

        let mut arrivals = Arrivals::new(schedule, Arrival::Constant, 1);
        let offsets: Vec<Duration> = std::iter::from_fn(|| arrivals.next_offset()).collect();
        assert_eq!(offsets.len(), 2001, "arrivals 0 through 2000");
        assert!(offsets.windows(2).all(|w| w[0] <= w[1]));
        let in_first_stage = offsets
            .iter()
            .filter(|at| **at < Duration::from_secs(10))
            .count();
        assert_eq!(in_first_stage, 500);
    }

    #[test]
    fn silent_stretches_hold_no_arrivals() {
        // 100/s down to 0 over 10 s (500), nothing for 10 s, then 0 up to 100/s over 10 s.
        let schedule = Schedule::new(&ramp(100.0, &[(10, 0.0), (10, 0.0), (10, 100.0)]));
        let at = |count: f64| schedule.time_of(count).unwrap().as_secs_f64();
        assert!(
            (at(500.0) - 10.0).abs() < 1e-6,
            "the 500th is due as the rate reaches zero: {}",
            at(500.0)
        );
        // Rising 0 -> 100/s over 10 s, half an arrival takes sqrt(0.1) s.
        assert!(
            (at(500.5) - (20.0 + 0.1f64.sqrt())).abs() < 1e-6,
            "the next waits for the rise: {}",
            at(500.5)
        );
        // A run that opens with silence starts when the rate does.
        let schedule = Schedule::new(&ramp(0.0, &[(5, 0.0), (5, 100.0)]));
        assert_eq!(schedule.time_of(0.0), Some(Duration::from_secs(5)));
        assert_eq!(
            Schedule::new(&Ramp::fixed(Rate::per_second(0.0))).time_of(0.0),
            None
        );
    }

    #[test]
    fn poisson_arrivals_have_the_planned_mean_and_spread() {
        let schedule = Schedule::new(&Ramp::fixed(Rate::per_second(1000.0)));
        let mut arrivals = Arrivals::new(schedule, Arrival::Poisson, 7);
        let offsets: Vec<Duration> = std::iter::from_fn(|| arrivals.next_offset())
            .take(100_000)
            .collect();
        let gaps: Vec<f64> = offsets
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let variance = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!((mean - 0.001).abs() < 0.00002, "mean gap {mean}");
        // An exponential distribution's standard deviation equals its mean.
        assert!(
            (variance.sqrt() - 0.001).abs() < 0.00003,
            "sd {}",
            variance.sqrt()
        );

        let same: Vec<Duration> = {
            let mut again = Arrivals::new(
                Schedule::new(&Ramp::fixed(Rate::per_second(1000.0))),
                Arrival::Poisson,
                7,
            );
            std::iter::from_fn(|| again.next_offset()).take(5).collect()
        };
        assert_eq!(same, offsets[..5], "seeded");
    }

    #[test]
    fn poisson_follows_a_ramp() {
        let schedule = Schedule::new(&ramp(0.0, &[(20, 200.0)]));
        let mut arrivals = Arrivals::new(schedule, Arrival::Poisson, 3);
        let offsets: Vec<Duration> = std::iter::from_fn(|| arrivals.next_offset())
            .take_while(|at| *at < Duration::from_secs(20))
            .collect();
        let first_half = offsets
            .iter()
            .filter(|at| **at < Duration::from_secs(10))
            .count() as f64;
        let total = offsets.len() as f64;
        // Expected 2000 in all, 500 in the first half; allow four standard deviations.
        assert!((total - 2000.0).abs() < 4.0 * 2000f64.sqrt(), "{total}");
        assert!(
            (first_half - 500.0).abs() < 4.0 * 500f64.sqrt(),
            "{first_half}"
        );
    }
}
