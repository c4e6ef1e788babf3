//! The `[load]` table: how much load, shaped how (closed virtual users or open arrivals, fixed or
//! ramped in stages), and when it stops. The checked types, and the checks that make them.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use super::diag::{Diagnostic, Source};
use super::file::{LoadModel, RawLoad};
use crate::model::units::{DurationValue, Rate, Spread};

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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Evenly: arrival i at exactly i / rate.
    #[default]
    Constant,
    /// A Poisson process: exponential gaps with the planned mean, as independent users arrive.
    Poisson,
}

/// What an arrival does when every in-flight slot is taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// One `[[load.stages]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub duration: Spanned<DurationValue>,
    pub target: Spanned<StageTarget>,
}

/// A stage's target: a number of virtual users (closed model) or a rate (open model).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StageTarget {
    Users(i64),
    Rate(Rate),
}

impl<'de> Deserialize<'de> for StageTarget {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TargetVisitor;
        impl Visitor<'_> for TargetVisitor {
            type Value = StageTarget;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of virtual users (e.g. 20) or a rate (e.g. \"50/s\")")
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<StageTarget, E> {
                Ok(StageTarget::Users(value))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<StageTarget, E> {
                Ok(StageTarget::Users(i64::try_from(value).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<StageTarget, E> {
                Rate::parse(value).map(StageTarget::Rate).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(TargetVisitor)
    }
}

/// Keys that belong to one model only, for the error when the other model uses them.
fn foreign_key(load: &RawLoad, model: LoadModel) -> Option<(&'static str, std::ops::Range<usize>)> {
    match model {
        LoadModel::Closed => [
            ("rate", load.rate.as_ref().map(Spanned::span)),
            (
                "max_in_flight",
                load.max_in_flight.as_ref().map(Spanned::span),
            ),
            ("max_queue", load.max_queue.as_ref().map(Spanned::span)),
            ("arrival", load.arrival.as_ref().map(Spanned::span)),
            ("saturation", load.saturation.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .find_map(|(key, span)| Some((key, span?))),
        LoadModel::Open => [
            ("vus", load.vus.as_ref().map(Spanned::span)),
            ("think_time", load.think_time.as_ref().map(Spanned::span)),
            ("max_rate", load.max_rate.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .find_map(|(key, span)| Some((key, span?))),
    }
}

fn count(
    value: &Spanned<i64>,
    source: &Source<'_>,
    key: &str,
    example: &str,
    min: i64,
) -> Result<u32, Diagnostic> {
    u32::try_from(*value.get_ref())
        .ok()
        .filter(|n| i64::from(*n) >= min)
        .ok_or_else(|| {
            source.at_value(
                value,
                format!("{key} must be a whole number from {min} to 4294967295"),
                format!("e.g. {example}"),
            )
        })
}

/// Checks `[load]`.
pub fn check_load(raw: &Spanned<RawLoad>, source: &Source<'_>) -> Result<Load, Diagnostic> {
    let load = raw.get_ref();
    let model = load
        .model
        .as_ref()
        .map_or(LoadModel::Closed, |m| *m.get_ref());
    if let Some((key, span)) = foreign_key(load, model) {
        let (this, other) = match model {
            LoadModel::Closed => ("closed", "open"),
            LoadModel::Open => ("open", "closed"),
        };
        let help = if model == LoadModel::Closed {
            format!("add model = \"open\" to [load] for arrivals at a rate, or remove `{key}`")
        } else {
            format!("remove `{key}`, or use model = \"closed\" for virtual users")
        };
        return Err(source.at(
            span,
            format!("`{key}` belongs to the {other} model, and this load is {this}"),
            Some(help),
        ));
    }

    let stages = match &load.stages {
        Some(stages) if stages.get_ref().is_empty() => {
            return Err(source.at_value(
                stages,
                "stages is empty",
                "give at least one { duration = \"1m\", target = ... }, or remove `stages`",
            ));
        }
        Some(stages) => stages.get_ref().as_slice(),
        None => &[],
    };
    let mut duration = match &load.duration {
        Some(d) if d.get_ref().0.is_zero() => {
            return Err(source.at_value(
                d,
                "load.duration is zero",
                "give a positive duration, e.g. duration = \"30s\"",
            ));
        }
        Some(d) if !stages.is_empty() => {
            return Err(source.at_value(
                d,
                "`duration` and `stages` are both set",
                "remove `duration`: the stages' durations add up to the run's length",
            ));
        }
        Some(d) => Some(d.get_ref().0),
        None => None,
    };
    if !stages.is_empty() {
        duration = Some(
            stages
                .iter()
                .map(|s| s.get_ref().duration.get_ref().0)
                .sum(),
        );
    }
    for stage in stages {
        if stage.get_ref().duration.get_ref().0.is_zero() {
            return Err(source.at_value(
                &stage.get_ref().duration,
                "a stage lasts zero time",
                "give each stage a positive duration",
            ));
        }
    }
    let iterations = match &load.iterations {
        Some(n) => Some(u64::from(count(
            n,
            source,
            "load.iterations",
            "iterations = 100",
            1,
        )?)),
        None => None,
    };
    if duration.is_none() && iterations.is_none() {
        return Err(source.at_value(
            raw,
            "[load] says neither how long to run nor how many iterations",
            "add duration = \"30s\", stages, or iterations = 100 (the run stops at whichever comes first)",
        ));
    }
    let warmup = match &load.warmup {
        Some(w) if duration.is_some_and(|d| w.get_ref().0 >= d) => {
            return Err(source.at_value(
                w,
                "the warmup is as long as the whole run",
                "make warmup shorter than the duration, so something is measured",
            ));
        }
        Some(w) => w.get_ref().0,
        None => Duration::ZERO,
    };

    let pacing = match model {
        LoadModel::Closed => {
            let start = match &load.vus {
                Some(vus) => count(
                    vus,
                    source,
                    "load.vus",
                    "vus = 8",
                    if stages.is_empty() { 1 } else { 0 },
                )?,
                None if stages.is_empty() => 1,
                None => 0,
            };
            let mut ramp = Ramp::fixed(start);
            for stage in stages {
                let target = match stage.get_ref().target.get_ref() {
                    StageTarget::Users(n) => count(
                        &Spanned::new(stage.get_ref().target.span(), *n),
                        source,
                        "a stage's target",
                        "target = 20",
                        0,
                    )?,
                    StageTarget::Rate(_) => {
                        return Err(source.at_value(
                            &stage.get_ref().target,
                            "a closed-model stage targets a number of virtual users, not a rate",
                            "write e.g. target = 20, or use model = \"open\" for rates",
                        ));
                    }
                };
                ramp.stages.push(Stage {
                    duration: stage.get_ref().duration.get_ref().0,
                    target,
                });
            }
            if ramp.peak() == 0 {
                return Err(source.at_value(
                    raw,
                    "no stage has any virtual user",
                    "give some stage a target of 1 or more",
                ));
            }
            let max_rate = match &load.max_rate {
                Some(rate) if rate.get_ref().0.as_per_second() <= 0.0 => {
                    return Err(source.at_value(
                        rate,
                        "max_rate must be above zero",
                        "e.g. max_rate = \"50/s\", or remove it for no cap",
                    ));
                }
                Some(rate) => Some(rate.get_ref().0),
                None => None,
            };
            Pacing::Closed {
                vus: ramp,
                think_time: load.think_time.as_ref().map(|t| t.get_ref().0),
                max_rate,
            }
        }
        LoadModel::Open => {
            let start = match &load.rate {
                Some(rate) => rate.get_ref().0,
                None if stages.is_empty() => {
                    return Err(source.at_value(
                        raw,
                        "the open model needs a `rate` (or `stages`)",
                        "add rate = \"20/s\" to [load]",
                    ));
                }
                None => Rate::per_second(0.0),
            };
            if stages.is_empty() && start.as_per_second() <= 0.0 {
                let rate = load.rate.as_ref().expect("checked above");
                return Err(source.at_value(
                    rate,
                    "the rate is zero",
                    "give a rate above zero, e.g. rate = \"20/s\"",
                ));
            }
            let mut ramp = Ramp::fixed(start);
            for stage in stages {
                let target = match stage.get_ref().target.get_ref() {
                    StageTarget::Rate(rate) => *rate,
                    StageTarget::Users(_) => {
                        return Err(source.at_value(
                            &stage.get_ref().target,
                            "an open-model stage targets a rate, not a number of users",
                            "write e.g. target = \"50/s\"",
                        ));
                    }
                };
                ramp.stages.push(Stage {
                    duration: stage.get_ref().duration.get_ref().0,
                    target,
                });
            }
            if ramp.peak().as_per_second() <= 0.0 {
                return Err(source.at_value(
                    raw,
                    "every stage's rate is zero",
                    "give some stage a rate above zero",
                ));
            }
            let max_in_flight = match &load.max_in_flight {
                Some(n) => count(n, source, "load.max_in_flight", "max_in_flight = 500", 1)?,
                None => DEFAULT_MAX_IN_FLIGHT,
            };
            let max_queue = match &load.max_queue {
                Some(n) => count(n, source, "load.max_queue", "max_queue = 1000", 0)?,
                None => DEFAULT_MAX_QUEUE,
            };
            Pacing::Open {
                rate: ramp,
                arrival: load
                    .arrival
                    .as_ref()
                    .map_or_else(Arrival::default, |a| *a.get_ref()),
                max_in_flight,
                saturation: load
                    .saturation
                    .as_ref()
                    .map_or_else(Saturation::default, |s| *s.get_ref()),
                max_queue,
            }
        }
    };
    Ok(Load {
        pacing,
        stop: Stop {
            duration,
            iterations,
        },
        grace: load.grace.map_or(DEFAULT_GRACE, |g| g.0),
        warmup,
    })
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let human = |d: Duration| humantime::format_duration(d).to_string();
        match &self.pacing {
            Pacing::Closed {
                vus,
                think_time,
                max_rate,
            } => {
                if vus.stages.is_empty() {
                    write!(
                        f,
                        "closed model, {} virtual user{}",
                        vus.start,
                        if vus.start == 1 { "" } else { "s" }
                    )?;
                } else {
                    write!(f, "closed model, virtual users {}", vus.start)?;
                    for stage in &vus.stages {
                        write!(f, " -> {} over {}", stage.target, human(stage.duration))?;
                    }
                }
                if let Some(think) = think_time {
                    write!(f, ", think time {think}")?;
                }
                if let Some(rate) = max_rate {
                    write!(f, ", at most {rate} iterations")?;
                }
            }
            Pacing::Open {
                rate,
                arrival,
                max_in_flight,
                saturation,
                max_queue,
            } => {
                if rate.stages.is_empty() {
                    write!(f, "open model, {} {arrival} arrivals", rate.start)?;
                } else {
                    write!(f, "open model, {arrival} arrivals from {}", rate.start)?;
                    for stage in &rate.stages {
                        write!(f, " -> {} over {}", stage.target, human(stage.duration))?;
                    }
                }
                write!(f, "; at most {max_in_flight} in flight, then {saturation}")?;
                if *saturation == Saturation::Queue {
                    write!(f, " (up to {max_queue} waiting)")?;
                }
            }
        }
        if !self.warmup.is_zero() {
            write!(
                f,
                "; the first {} are warmup, left out of the summary",
                human(self.warmup)
            )?;
        }
        Ok(())
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
