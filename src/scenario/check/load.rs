//! `[load]`: the model, how much load, shaped how (fixed or in stages), and when it stops,
//! checked into the plan's [`Load`], with the keys of the other model refused.

use std::time::Duration;

use toml::Spanned;

use crate::model::units::Rate;
use crate::scenario::diag::{Diagnostic, Source};
use crate::scenario::plan::load::{DEFAULT_GRACE, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_QUEUE};
use crate::scenario::plan::{Arrival, Load, Pacing, Ramp, Saturation, Stage, Stop};
use crate::scenario::raw::{LoadModel, RawArrival, RawLoad, RawSaturation, StageTarget};

impl From<RawArrival> for Arrival {
    fn from(raw: RawArrival) -> Self {
        match raw {
            RawArrival::Constant => Arrival::Constant,
            RawArrival::Poisson => Arrival::Poisson,
        }
    }
}

impl From<RawSaturation> for Saturation {
    fn from(raw: RawSaturation) -> Self {
        match raw {
            RawSaturation::Queue => Saturation::Queue,
            RawSaturation::Drop => Saturation::Drop,
        }
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
pub(super) fn check_load(raw: &Spanned<RawLoad>, source: &Source<'_>) -> Result<Load, Diagnostic> {
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
                    .map_or_else(Arrival::default, |a| Arrival::from(*a.get_ref())),
                max_in_flight,
                saturation: load
                    .saturation
                    .as_ref()
                    .map_or_else(Saturation::default, |s| Saturation::from(*s.get_ref())),
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
