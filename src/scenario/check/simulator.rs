//! `[simulator]`: the embedded simulator's default and per-model profiles (latencies, steps,
//! run faults) and its request faults (statuses, rate limit, endpoints), checked into the plan's
//! [`SimulatorSettings`].

use std::collections::HashMap;

use crate::model::Op;
use crate::scenario::diag::{Diagnostic, Source, closest};
use crate::scenario::plan::SimulatorSettings;
use crate::scenario::raw::{RawFaults, RawProfile, RawSimulator};
use crate::sim::Profile;
use crate::sim::faults::{self, Endpoints, RequestFaults, RunFaults, StatusFault};

pub(super) fn check_simulator(
    sim: Option<&RawSimulator>,
    source: &Source<'_>,
) -> Result<SimulatorSettings, Diagnostic> {
    let Some(sim) = sim else {
        return Ok(SimulatorSettings::default());
    };
    let base = RawProfile {
        ttfs: sim.ttfs,
        step_gap: sim.step_gap,
        steps: sim.steps,
        run_time: sim.run_time,
        ttfs_per_turn: sim.ttfs_per_turn,
        faults: None,
    };
    let mut default_profile = overlay(&Profile::default(), &base);
    let mut faults = RequestFaults::default();
    if let Some(raw_faults) = &sim.faults {
        default_profile.faults = overlay_faults(&default_profile.faults, raw_faults);
        faults = check_request_faults(raw_faults, source)?;
    }
    let mut models = HashMap::new();
    for (model, profile) in &sim.models {
        let mut checked = overlay(&default_profile, profile);
        if let Some(raw_faults) = &profile.faults {
            refuse_request_faults(raw_faults, source)?;
            checked.faults = overlay_faults(&default_profile.faults, raw_faults);
        }
        models.insert(model.clone(), checked);
    }
    Ok(SimulatorSettings {
        seed: sim.seed.unwrap_or(0),
        default_profile,
        models,
        faults,
    })
}

fn overlay(base: &Profile, over: &RawProfile) -> Profile {
    Profile {
        ttfs: over.ttfs.map_or(base.ttfs, |v| v.0),
        step_gap: over.step_gap.map_or(base.step_gap, |v| v.0),
        steps: over.steps.map_or(base.steps, |v| v.0),
        run_time: over.run_time.map_or(base.run_time, |v| v.0),
        ttfs_per_turn: over.ttfs_per_turn.map_or(base.ttfs_per_turn, |v| v.0),
        faults: base.faults,
    }
}

/// The run faults of `over`, key by key over `base`.
fn overlay_faults(base: &RunFaults, over: &RawFaults) -> RunFaults {
    RunFaults {
        cut_after: over.cut_after.map(|v| v.0).or(base.cut_after),
        stall_first: over.stall_first.map(|v| v.0).or(base.stall_first),
        stall_between: over.stall_between.map(|v| v.0).or(base.stall_between),
        malformed: over.malformed.map_or(base.malformed, |v| v.0),
        wrong_content_type: over
            .wrong_content_type
            .map_or(base.wrong_content_type, |v| v.0),
        callback_drop: over.callback_drop.map_or(base.callback_drop, |v| v.0),
    }
}

/// `status`, `rate_limit` and `endpoints` of `[simulator.faults]`.
fn check_request_faults(raw: &RawFaults, source: &Source<'_>) -> Result<RequestFaults, Diagnostic> {
    let mut status = Vec::new();
    if let Some(table) = &raw.status {
        for (code, chance) in table.get_ref() {
            let code_value = faults::parse_status(code.get_ref()).map_err(|message| {
                source.at_value(
                    code,
                    message.to_string(),
                    "key each probability by its status, e.g. status = { 429 = \"5%\", 503 = \"1%\" }",
                )
            })?;
            status.push(StatusFault {
                status: code_value,
                chance: chance.get_ref().0,
            });
        }
    }
    let status = faults::check_statuses(status).map_err(|message| {
        let table = raw.status.as_ref().expect("statuses come from the table");
        source.at_value(
            table,
            message.to_string(),
            "each request draws one status at most; e.g. status = { 429 = \"5%\", 503 = \"1%\" }",
        )
    })?;
    let endpoints = match &raw.endpoints {
        None => Endpoints::ALL,
        Some(names) if names.get_ref().is_empty() => {
            return Err(source.at_value(
                names,
                "endpoints is empty, so no request could be faulted",
                "name the endpoints, e.g. endpoints = [\"run\", \"run_stream\"], or remove the key for all of them",
            ));
        }
        Some(names) => {
            for name in names.get_ref() {
                Endpoints::from_names([name.get_ref().as_str()]).map_err(|message| {
                    let known: Vec<String> =
                        Op::ALL.iter().map(|op| op.name().to_owned()).collect();
                    let help = match closest(name.get_ref(), &known) {
                        Some(best) => {
                            format!("did you mean \"{best}\"? Endpoints: {}", known.join(", "))
                        }
                        None => format!("name some of: {}", known.join(", ")),
                    };
                    source.at_value(name, message.to_string(), help)
                })?;
            }
            Endpoints::from_names(names.get_ref().iter().map(|name| name.get_ref().as_str()))
                .expect("every name was checked")
        }
    };
    Ok(RequestFaults {
        status,
        rate_limit: raw.rate_limit.as_ref().map(|limit| limit.get_ref().0),
        endpoints,
    })
}

/// A model's faults table takes only run faults: statuses and the rate limit are decided for
/// each request before its agent, and so its model, is known.
fn refuse_request_faults(raw: &RawFaults, source: &Source<'_>) -> Result<(), Diagnostic> {
    let keys = [
        raw.status.as_ref().map(|v| v.span()),
        raw.rate_limit.as_ref().map(|v| v.span()),
        raw.endpoints.as_ref().map(|v| v.span()),
    ];
    match keys.into_iter().flatten().next() {
        Some(span) => Err(source.at(
            span,
            "status, rate_limit and endpoints apply to every request, not to one model's",
            Some("move the key to [simulator.faults]; a model's faults table takes cut_after, stall_first, stall_between, malformed, wrong_content_type and callback_drop".to_owned()),
        )),
        None => Ok(()),
    }
}
