//! The `[simulator]` table as written: the embedded simulator's latencies and faults, each
//! value read by the parser of its sim/ type.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::model::units::{CountSpread, DurationSpread, DurationValue};
use crate::sim::faults::{Chance, Cut, RateLimit, Stall};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulator {
    pub seed: Option<u64>,
    pub ttfs: Option<DurationSpread>,
    pub step_gap: Option<DurationSpread>,
    pub steps: Option<StepsSpread>,
    pub run_time: Option<DurationSpread>,
    pub ttfs_per_turn: Option<DurationValue>,
    pub faults: Option<RawFaults>,
    #[serde(default)]
    pub models: BTreeMap<String, RawProfile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub ttfs: Option<DurationSpread>,
    pub step_gap: Option<DurationSpread>,
    pub steps: Option<StepsSpread>,
    pub run_time: Option<DurationSpread>,
    pub ttfs_per_turn: Option<DurationValue>,
    pub faults: Option<RawFaults>,
}

/// `[simulator.faults]`, and `[simulator.models."<m>".faults]` (where only the run faults,
/// from `cut_after` down, are allowed: the check says so at the key).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFaults {
    pub status: Option<Spanned<BTreeMap<Spanned<String>, Spanned<ChanceValue>>>>,
    pub rate_limit: Option<Spanned<RateLimitValue>>,
    pub endpoints: Option<Spanned<Vec<Spanned<String>>>>,
    pub cut_after: Option<CutValue>,
    pub stall_first: Option<StallValue>,
    pub stall_between: Option<StallValue>,
    pub malformed: Option<ChanceValue>,
    pub wrong_content_type: Option<ChanceValue>,
    pub callback_drop: Option<ChanceValue>,
}

/// A probability in a scenario file: `"5%"` or a fraction such as `0.05`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChanceValue(pub Chance);

/// A cut in a scenario file: `"2@10%"`, `"1..3@5%"`, or `2` (every stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CutValue(pub Cut);

/// A stall in a scenario file: `"5s@10%"`, `"1s..3s@5%"`, or `"5s"` (every time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallValue(pub Stall);

/// A rate limit in a scenario file: `60` or `"60/min"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitValue(pub RateLimit);

macro_rules! scalar_value {
    ($value:ident, $parse:path, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $value {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = deserializer.deserialize_any(ScalarText($expecting))?;
                $parse(&text).map($value).map_err(serde::de::Error::custom)
            }
        }
    };
}

scalar_value!(
    ChanceValue,
    Chance::parse,
    "a probability such as \"5%\" or 0.05"
);
scalar_value!(CutValue, Cut::parse, "a cut such as \"2@10%\"");
scalar_value!(StallValue, Stall::parse, "a stall such as \"5s@10%\"");
scalar_value!(
    RateLimitValue,
    RateLimit::parse,
    "requests per minute such as \"60/min\""
);

/// Accepts a string or a number and hands back its text, for values whose parser reads both.
struct ScalarText(&'static str);

impl serde::de::Visitor<'_> for ScalarText {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<String, E> {
        Ok(value.to_string())
    }
}

/// Steps per simulated stream: a count or range of at least 3 (system, user and assistant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepsSpread(pub crate::model::units::Spread<u32>);

impl<'de> Deserialize<'de> for StepsSpread {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let CountSpread(spread) = CountSpread::deserialize(deserializer)?;
        if spread.lo < 3 {
            return Err(serde::de::Error::custom(
                "a stream has at least 3 steps (system, user and assistant); write e.g. steps = \"3..6\"",
            ));
        }
        Ok(StepsSpread(spread))
    }
}
