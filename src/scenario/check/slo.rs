//! `[slo]`: the objectives that make a request good, for every op or for one, each checked
//! against what the mix measures.

use std::collections::BTreeMap;

use toml::Spanned;

use crate::metrics::slo::{Objective, Objectives};
use crate::model::Op;
use crate::scenario::diag::{Diagnostic, Source};
use crate::scenario::plan::MixEntry;
use crate::scenario::raw::RawSloEntry;

/// `[slo]`: objectives for every op (`ttfs = "<= 2s"`) and for one (`[slo.run_stream]`), each
/// checked against what the mix measures.
pub(super) fn check_slo(
    slo: &BTreeMap<Spanned<String>, Spanned<RawSloEntry>>,
    mix: &[MixEntry],
    source: &Source<'_>,
) -> Result<Objectives, Diagnostic> {
    let sent: Vec<Op> = mix
        .iter()
        .flat_map(|entry| entry.op.endpoints())
        .copied()
        .collect();
    let help = "see \"SLOs\" in scenarios/README.md: e.g. ttfs = \"<= 2s\", or [slo.run_stream] ttfs = \"<= 1s\"";
    // (where to point, the key as `metric` or `op.metric`, the condition)
    let mut given: Vec<(&Spanned<String>, String, &str)> = Vec::new();
    for (key, entry) in slo {
        match entry.get_ref() {
            RawSloEntry::Condition(condition) => {
                given.push((key, key.get_ref().clone(), condition.as_str()));
            }
            RawSloEntry::Op(conditions) => {
                for (metric, condition) in conditions {
                    let path = format!("{}.{}", key.get_ref(), metric.get_ref());
                    given.push((metric, path, condition.get_ref().as_str()));
                }
            }
        }
    }
    let mut objectives = Vec::new();
    for (at, path, condition) in given {
        let objective = Objective::parse(&path, condition)
            .map_err(|err| source.at_value(at, format!("slo `{path}`: {err}"), help))?;
        if let Some(problem) = Objectives::unmeasurable(&objective, &sent) {
            return Err(source.at_value(
                at,
                format!("slo `{path}` can never judge a request: {problem}"),
                "bound a metric of an op the mix sends (see \"What is measured\" in the README)",
            ));
        }
        objectives.push((at.span().start, objective));
    }
    // In file order, which is how users read them.
    objectives.sort_by_key(|(at, _)| *at);
    Ok(Objectives::new(
        objectives.into_iter().map(|(_, o)| o).collect(),
    ))
}
