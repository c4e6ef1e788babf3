//! `[thresholds]`: pass/fail conditions on the run's results, each refused when it names an
//! agent the scenario lacks or a metric the mix can never measure.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use crate::metrics::threshold::{Quantity, Threshold};
use crate::model::Op;
use crate::scenario::diag::{Diagnostic, Source};
use crate::scenario::plan::{Fixture, MixEntry};
use crate::scenario::raw::RawThreshold;

pub(super) fn check_thresholds(
    thresholds: &BTreeMap<Spanned<String>, Spanned<RawThreshold>>,
    fixtures: &[Fixture],
    mix: &[MixEntry],
    source: &Source<'_>,
) -> Result<Vec<Threshold>, Diagnostic> {
    let sent: Vec<Op> = mix
        .iter()
        .flat_map(|entry| entry.op.endpoints())
        .copied()
        .collect();
    // In file order, which is how users read them.
    let mut entries: Vec<_> = thresholds.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
        .into_iter()
        .map(|(key, condition)| {
            let bad = |err: String| {
                source.at_value(
                    condition,
                    format!("threshold `{}`: {err}", key.get_ref()),
                    "see \"Thresholds\" in scenarios/README.md",
                )
            };
            let mut threshold =
                Threshold::parse(key.get_ref(), condition.get_ref().check())
                    .map_err(|err| bad(err.to_string()))?;
            if let RawThreshold::Table(table) = condition.get_ref() {
                if table.abort_on_fail {
                    let delay = table.delay.map_or(Duration::ZERO, |d| d.0);
                    threshold = threshold
                        .abort_on_fail(delay)
                        .map_err(|err| bad(err.to_string()))?;
                } else if table.delay.is_some() {
                    return Err(bad(
                        "`delay` applies only with `abort_on_fail = true`".to_owned()
                    ));
                }
            }
            if let Some(variant) = &threshold.variant
                && !fixtures.iter().any(|f| f.name == *variant)
            {
                return Err(source.at_value(
                    key,
                    format!(
                        "threshold names agent {variant:?}, which the scenario does not define"
                    ),
                    "prefix with the name of an [[agents]] entry, or drop the prefix",
                ));
            }
            if let Some(problem) = unmeasurable(&threshold, &sent) {
                return Err(source.at_value(
                    key,
                    format!("threshold `{}` can never be measured: {problem}", key.get_ref()),
                    "judge an op the mix sends, with a metric that op has (see \"What is measured\" in the README)",
                ));
            }
            Ok(threshold)
        })
        .collect()
}

/// Why a threshold could never have data in this plan, if so.
pub(in crate::scenario) fn unmeasurable(threshold: &Threshold, sent: &[Op]) -> Option<String> {
    let op = match &threshold.quantity {
        Quantity::ErrorRate(Some(op)) | Quantity::Requests(op) => *op,
        Quantity::GoodputRate(Some(op)) => *op,
        Quantity::ErrorCount { op: Some(op), .. } => *op,
        Quantity::Stat { op, metric, .. } => {
            if !metric.measured_for(*op) {
                return Some(format!("`{op}` has no `{metric}`"));
            }
            *op
        }
        _ => return None,
    };
    (!sent.contains(&op)).then(|| format!("the mix never sends `{op}`"))
}
