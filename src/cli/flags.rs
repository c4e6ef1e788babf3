//! Flag value parsers, shared by the subcommands' `Args`: each turns one flag's text into its
//! value or into the message clap prints (exit 2).

use std::time::{Duration, SystemTime};

use crate::engine::shard::{self, Shard};
use crate::metrics::slo::{Objective, ObjectiveError};
use crate::metrics::threshold::{Threshold, ThresholdError};
use crate::model::TimeoutKind;
use crate::model::units::Rate;
use crate::model::units::{Spread, parse_duration};
use crate::scenario::{Arrival, MixOp};

/// A percentage (`95%`) or a fraction (`0.95`), from 0 to 100%, as a fraction.
pub(super) fn percent_flag(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(number) => number.trim().parse::<f64>().map(|v| v / 100.0),
        None => text.parse::<f64>(),
    }
    .map_err(|_| format!("{text:?} is not a percentage; write e.g. 95%"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{text} is outside 0..100%"));
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

pub(super) fn duration_flag(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text).map_err(|err| err.to_string())?;
    if duration.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(duration)
}

pub(super) fn timeout_flag(text: &str) -> Result<(TimeoutKind, Duration), String> {
    let kinds: Vec<&str> = TimeoutKind::ALL.iter().map(|kind| kind.name()).collect();
    let Some((kind, limit)) = text.split_once('=') else {
        return Err(format!(
            "write KIND=DURATION, e.g. first_step=5s (KIND: {})",
            kinds.join(", ")
        ));
    };
    let kind = TimeoutKind::from_name(kind.trim()).ok_or_else(|| {
        format!(
            "{kind:?} is not a timeout; choose one of {}",
            kinds.join(", ")
        )
    })?;
    Ok((kind, duration_flag(limit.trim())?))
}

pub(super) fn threshold_flag(text: &str) -> Result<Threshold, ThresholdError> {
    Threshold::parse_expr(text)
}

pub(super) fn op_flag(text: &str) -> Result<(MixOp, u32), String> {
    let (name, weight) = match text.split_once(':') {
        Some((name, weight)) => {
            let weight = weight
                .parse::<u32>()
                .ok()
                .filter(|w| *w > 0)
                .ok_or_else(|| format!("weight {weight:?} is not a whole number of 1 or more"))?;
            (name, weight)
        }
        None => (text, 1),
    };
    let op = MixOp::from_name(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = MixOp::ALL.iter().map(|op| op.name()).collect();
        format!("{name:?} is not an op; choose one of {}", names.join(", "))
    })?;
    Ok((op, weight))
}

pub(super) fn json_flag(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|err| format!("not valid JSON: {err}"))
}

pub(super) fn rate_flag(text: &str) -> Result<Rate, String> {
    let rate = Rate::parse(text).map_err(|err| err.to_string())?;
    if rate.as_per_second() <= 0.0 {
        return Err("the rate must be above zero".into());
    }
    Ok(rate)
}

pub(super) fn arrival_flag(text: &str) -> Result<Arrival, String> {
    match text {
        "constant" => Ok(Arrival::Constant),
        "poisson" => Ok(Arrival::Poisson),
        _ => Err("choose constant or poisson".into()),
    }
}

pub(super) fn duration_spread_flag(text: &str) -> Result<Spread<Duration>, String> {
    Spread::parse_duration(text).map_err(|err| err.to_string())
}

pub(super) fn steps_flag(text: &str) -> Result<Spread<u32>, String> {
    let steps = Spread::parse_count(text).map_err(|err| err.to_string())?;
    if steps.lo < 3 {
        return Err("a stream has at least 3 steps (system, user, assistant)".into());
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
        assert!(timeout_flag("2s").unwrap_err().contains("KIND=DURATION"));
        assert!(timeout_flag("ttfs=2s").unwrap_err().contains("first_step"));
        assert!(
            timeout_flag("total=0s")
                .unwrap_err()
                .contains("longer than zero")
        );
    }
}
