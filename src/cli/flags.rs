//! Flag value parsers, shared by the subcommands' `Args`: each turns one flag's text into its
//! value or into the message clap prints (exit 2).

use std::time::{Duration, SystemTime};

use crate::engine::shard::{self, Shard};
use crate::metrics::slo::{Objective, ObjectiveError};
use crate::metrics::threshold::{Threshold, ThresholdError};
use crate::model::TimeoutKind;
use crate::model::units::Rate;
use crate::model::units::{Spread, UnitError, parse_duration};
use crate::scenario::{Arrival, MixOp};

/// Why a flag's value was refused, beyond what the lower layers' parsers say; clap prints it
/// after "invalid value '...' for '--flag <V>': ".
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(super) enum FlagError {
    #[error(transparent)]
    Unit(#[from] UnitError),
    #[error("{text:?} is not a percentage; write e.g. 95%")]
    NotAPercentage { text: String },
    #[error("{text} is outside 0..100%")]
    PercentageOutOfRange { text: String },
    #[error("must be longer than zero")]
    ZeroDuration,
    #[error("write KIND=DURATION, e.g. first_step=5s (KIND: {})", timeout_kinds())]
    TimeoutSyntax,
    #[error("{kind:?} is not a timeout; choose one of {}", timeout_kinds())]
    UnknownTimeout { kind: String },
    #[error("weight {weight:?} is not a whole number of 1 or more")]
    InvalidWeight { weight: String },
    #[error("{name:?} is not an op; choose one of {}", mix_op_names())]
    UnknownOp { name: String },
    #[error("the rate must be above zero")]
    ZeroRate,
    #[error("choose constant or poisson")]
    UnknownArrival,
    #[error("a stream has at least 3 steps (system, user, assistant)")]
    TooFewSteps,
}

/// A `--body` that is not JSON.
#[derive(Debug, thiserror::Error)]
#[error("not valid JSON: {0}")]
pub(super) struct JsonFlagError(serde_json::Error);

fn timeout_kinds() -> String {
    let kinds: Vec<&str> = TimeoutKind::ALL.iter().map(|kind| kind.name()).collect();
    kinds.join(", ")
}

fn mix_op_names() -> String {
    let names: Vec<&str> = MixOp::ALL.iter().map(|op| op.name()).collect();
    names.join(", ")
}

/// A percentage (`95%`) or a fraction (`0.95`), from 0 to 100%, as a fraction.
pub(super) fn percent_flag(text: &str) -> Result<f64, FlagError> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(number) => number.trim().parse::<f64>().map(|v| v / 100.0),
        None => text.parse::<f64>(),
    }
    .map_err(|_| FlagError::NotAPercentage {
        text: text.to_owned(),
    })?;
    if !(0.0..=1.0).contains(&value) {
        return Err(FlagError::PercentageOutOfRange {
            text: text.to_owned(),
        });
    }
    Ok(value)
}

pub(super) fn slo_flag(text: &str) -> Result<Objective, ObjectiveError> {
    Objective::parse_expr(text)
}

pub(super) fn shard_flag(text: &str) -> Result<Shard, shard::ShardError> {
    Shard::parse(text)
}

pub(super) fn run_id_flag(text: &str) -> Result<String, shard::ShardError> {
    shard::check_run_id(text)
}

pub(super) fn prefix_flag(text: &str) -> Result<String, crate::cleanup::CleanupError> {
    crate::cleanup::check_prefix(text)
}

pub(super) fn start_at_flag(text: &str) -> Result<SystemTime, shard::ShardError> {
    shard::check_start_at(text, SystemTime::now())
}

pub(super) fn duration_flag(text: &str) -> Result<Duration, FlagError> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err(FlagError::ZeroDuration);
    }
    Ok(duration)
}

pub(super) fn timeout_flag(text: &str) -> Result<(TimeoutKind, Duration), FlagError> {
    let Some((kind, limit)) = text.split_once('=') else {
        return Err(FlagError::TimeoutSyntax);
    };
    let kind = TimeoutKind::from_name(kind.trim()).ok_or_else(|| FlagError::UnknownTimeout {
        kind: kind.to_owned(),
    })?;
    Ok((kind, duration_flag(limit.trim())?))
}

pub(super) fn threshold_flag(text: &str) -> Result<Threshold, ThresholdError> {
    Threshold::parse_expr(text)
}

pub(super) fn op_flag(text: &str) -> Result<(MixOp, u32), FlagError> {
    let (name, weight) = match text.split_once(':') {
        Some((name, weight)) => {
            let weight = weight
                .parse::<u32>()
                .ok()
                .filter(|w| *w > 0)
                .ok_or_else(|| FlagError::InvalidWeight {
                    weight: weight.to_owned(),
                })?;
            (name, weight)
        }
        None => (text, 1),
    };
    let op = MixOp::from_name(name.trim()).ok_or_else(|| FlagError::UnknownOp {
        name: name.to_owned(),
    })?;
    Ok((op, weight))
}

pub(super) fn json_flag(text: &str) -> Result<serde_json::Value, JsonFlagError> {
    serde_json::from_str(text).map_err(JsonFlagError)
}

pub(super) fn rate_flag(text: &str) -> Result<Rate, FlagError> {
    let rate = Rate::parse(text)?;
    if rate.as_per_second() <= 0.0 {
        return Err(FlagError::ZeroRate);
    }
    Ok(rate)
}

pub(super) fn arrival_flag(text: &str) -> Result<Arrival, FlagError> {
    match text {
        "constant" => Ok(Arrival::Constant),
        "poisson" => Ok(Arrival::Poisson),
        _ => Err(FlagError::UnknownArrival),
    }
}

pub(super) fn duration_spread_flag(text: &str) -> Result<Spread<Duration>, UnitError> {
    Spread::parse_duration(text)
}

pub(super) fn steps_flag(text: &str) -> Result<Spread<u32>, FlagError> {
    let steps = Spread::parse_count(text)?;
    if steps.lo < 3 {
        return Err(FlagError::TooFewSteps);
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_flags_name_a_kind_and_a_duration() {
        assert_eq!(
            timeout_flag("first_step=2s"),
            Ok((TimeoutKind::FirstStep, Duration::from_secs(2)))
        );
        assert_eq!(
            timeout_flag(" idle = 500ms"),
            Ok((TimeoutKind::Idle, Duration::from_millis(500)))
        );
        assert!(
            timeout_flag("2s")
                .unwrap_err()
                .to_string()
                .contains("KIND=DURATION")
        );
        assert!(
            timeout_flag("ttfs=2s")
                .unwrap_err()
                .to_string()
                .contains("first_step")
        );
        assert!(
            timeout_flag("total=0s")
                .unwrap_err()
                .to_string()
                .contains("longer than zero")
        );
    }
}
