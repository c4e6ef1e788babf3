//! The `[load]` table as written: the model, the keys of each, and `[[load.stages]]` with a
//! target that is users or a rate.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use crate::model::units::{DurationSpread, DurationValue, Rate, RateValue};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    pub model: Option<Spanned<LoadModel>>,
    pub vus: Option<Spanned<i64>>,
    pub duration: Option<Spanned<DurationValue>>,
    pub iterations: Option<Spanned<i64>>,
    pub think_time: Option<Spanned<DurationSpread>>,
    pub grace: Option<DurationValue>,
    pub warmup: Option<Spanned<DurationValue>>,
    pub max_rate: Option<Spanned<RateValue>>,
    pub rate: Option<Spanned<RateValue>>,
    pub arrival: Option<Spanned<RawArrival>>,
    pub stages: Option<Spanned<Vec<Spanned<RawStage>>>>,
    pub max_in_flight: Option<Spanned<i64>>,
    pub saturation: Option<Spanned<RawSaturation>>,
    pub max_queue: Option<Spanned<i64>>,
}

/// The load models a scenario may name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadModel {
    /// A fixed number of virtual users, each looping: pick an op, run it, think, repeat.
    #[default]
    Closed,
    /// Arrivals at a planned rate, independent of how fast the server answers.
    Open,
}

/// `arrival` as written: the plan's `Arrival`, variant for variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "Arrival", rename_all = "lowercase")]
pub enum RawArrival {
    Constant,
    Poisson,
}

/// `saturation` as written: the plan's `Saturation`, variant for variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "Saturation", rename_all = "lowercase")]
pub enum RawSaturation {
    Queue,
    Drop,
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
