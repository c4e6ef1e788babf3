//! The scenario file exactly as written: serde structs that reject unknown keys and keep the
//! position of every value that later checks may need to point at.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::load::RawStage;
use super::plan::{Arrival, MixOp, RetryAfter, Saturation};
use crate::model::AuthScheme;
use crate::model::units::{ByteSizeValue, CountSpread, DurationSpread, DurationValue, RateValue};
use crate::sim::faults::{Chance, Cut, RateLimit, Stall};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub seed: Option<u64>,
    #[serde(default)]
    pub target: RawTarget,
    #[serde(default)]
    pub agents: Vec<Spanned<RawAgent>>,
    pub load: Spanned<RawLoad>,
    pub mix: Spanned<Vec<Spanned<RawMix>>>,
    #[serde(default)]
    pub thresholds: BTreeMap<Spanned<String>, Spanned<RawThreshold>>,
    /// `[slo]`: `metric = "<= 2s"` for every op, or a `[slo.<op>]` table of them for one op.
    #[serde(default)]
    pub slo: BTreeMap<Spanned<String>, Spanned<RawSloEntry>>,
    pub simulator: Option<RawSimulator>,
    pub callback: Option<Spanned<RawCallback>>,
    pub variants: Option<Spanned<RawVariants>>,
}

/// `[variants]`: agents made as a matrix of models and system prompts, and how variants are
/// ranked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariants {
    pub models: Option<Spanned<Vec<Spanned<String>>>>,
    pub system_prompts: Option<Spanned<Vec<Spanned<String>>>>,
    /// The name pattern, with `{model}`, `{m}` and `{prompt}`.
    pub name: Option<Spanned<String>>,
    pub body: Option<Spanned<toml::Table>>,
    pub rank_by: Option<Spanned<String>>,
}

/// A threshold's value: `"< 5%"`, or `{ check = "< 5%", abort_on_fail = true, delay = "10s" }`.
#[derive(Debug)]
pub enum RawThreshold {
    Check(String),
    Table(RawThresholdTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThresholdTable {
    pub check: String,
    #[serde(default)]
    pub abort_on_fail: bool,
    pub delay: Option<DurationValue>,
}

impl RawThreshold {
    pub fn check(&self) -> &str {
        match self {
            RawThreshold::Check(check) | RawThreshold::Table(RawThresholdTable { check, .. }) => {
                check
            }
        }
    }
}

impl<'de> Deserialize<'de> for RawThreshold {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ThresholdVisitor;
        impl<'de> serde::de::Visitor<'de> for ThresholdVisitor {
            type Value = RawThreshold;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a condition such as \"< 1500ms\", or a table such as { check = \"< 5%\", abort_on_fail = true, delay = \"10s\" }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawThreshold, E> {
                Ok(RawThreshold::Check(text.to_owned()))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> Result<RawThreshold, M::Error> {
                RawThresholdTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawThreshold::Table)
            }
        }
        deserializer.deserialize_any(ThresholdVisitor)
    }
}

/// The receiver for run results posted to `callbackUrl`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCallback {
    pub listen: Option<Spanned<String>>,
    pub public_url: Option<Spanned<String>>,
    pub timeout: Option<Spanned<DurationValue>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub base_url: Option<Spanned<String>>,
    pub team_id: Option<Spanned<i64>>,
    pub token_env: Option<Spanned<String>>,
    pub auth_scheme: Option<AuthScheme>,
    pub make_connection_id: Option<Spanned<i64>>,
    #[serde(default)]
    pub timeout: RawTimeouts,
    pub retry_after: Option<Spanned<RetryAfter>>,
    pub max_retries: Option<Spanned<i64>>,
    pub max_event_size: Option<Spanned<ByteSizeValue>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeouts {
    pub connect: Option<Spanned<DurationValue>>,
    pub first_step: Option<Spanned<DurationValue>>,
    pub idle: Option<Spanned<DurationValue>>,
    pub total: Option<Spanned<DurationValue>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgent {
    pub name: Spanned<String>,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub id: Option<Spanned<String>>,
    pub body: Option<Spanned<toml::Table>>,
}

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
    pub arrival: Option<Spanned<Arrival>>,
    pub stages: Option<Spanned<Vec<Spanned<RawStage>>>>,
    pub max_in_flight: Option<Spanned<i64>>,
    pub saturation: Option<Spanned<Saturation>>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMix {
    pub op: Spanned<MixOp>,
    pub weight: Option<Spanned<i64>>,
    pub agent: Option<Spanned<String>>,
    pub body: Option<Spanned<toml::Table>>,
    pub body_json: Option<Spanned<String>>,
    pub turns: Option<Spanned<i64>>,
    pub callback: Option<Spanned<bool>>,
}

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

/// One key of `[slo]`: a condition (`ttfs = "<= 2s"`) or an op's table of them
/// (`[slo.run_stream]`).
#[derive(Debug)]
pub enum RawSloEntry {
    Condition(String),
    Op(Vec<(Spanned<String>, Spanned<String>)>),
}

impl<'de> Deserialize<'de> for RawSloEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> serde::de::Visitor<'de> for EntryVisitor {
            type Value = RawSloEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a condition such as \"<= 2s\", or a table of them for one op")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<RawSloEntry, E> {
                Ok(RawSloEntry::Condition(value.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawSloEntry, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<String>, Spanned<String>>()? {
                    entries.push(entry);
                }
                Ok(RawSloEntry::Op(entries))
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}
