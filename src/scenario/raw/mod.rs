//! The scenario file exactly as written: serde structs that reject unknown keys and keep the
//! position of every value that later checks may need to point at.
//!
//! Nothing here knows the plan or the checks. A key that names one of a fixed set (`op`,
//! `retry_after`, `arrival`, `saturation`) is read into a raw mirror of the plan's enum, with
//! the same variants, spellings and serde name (so serde's messages are the plan type's), and
//! check/ maps it over.

mod load;
mod simulator;

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::model::AuthScheme;
use crate::model::units::{ByteSizeValue, DurationValue};
pub use load::{LoadModel, RawArrival, RawLoad, RawSaturation, RawStage, StageTarget};
pub use simulator::{
    ChanceValue, CutValue, RateLimitValue, RawFaults, RawProfile, RawSimulator, StallValue,
    StepsSpread,
};

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
    pub retry_after: Option<Spanned<RawRetryAfter>>,
    pub max_retries: Option<Spanned<i64>>,
    pub max_event_size: Option<Spanned<ByteSizeValue>>,
}

/// `retry_after` as written: the plan's `RetryAfter`, variant for variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "RetryAfter", rename_all = "lowercase")]
pub enum RawRetryAfter {
    Measure,
    #[serde(alias = "honor")]
    Honour,
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
pub struct RawMix {
    pub op: Spanned<RawMixOp>,
    pub weight: Option<Spanned<i64>>,
    pub agent: Option<Spanned<String>>,
    pub body: Option<Spanned<toml::Table>>,
    pub body_json: Option<Spanned<String>>,
    pub turns: Option<Spanned<i64>>,
    pub callback: Option<Spanned<bool>>,
}

/// `op` as written: the plan's `MixOp`, variant for variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "MixOp", rename_all = "snake_case")]
pub enum RawMixOp {
    List,
    Get,
    Create,
    Patch,
    Delete,
    Lifecycle,
    Run,
    RunStream,
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
