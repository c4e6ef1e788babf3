//! `[[mix]]`: the ops an iteration may do, their weights, agents, bodies, turns and callbacks,
//! checked into the plan's [`MixEntry`]s.

use serde_json::Value;
use toml::Spanned;

use super::body::{check_body, toml_table_to_json};
use super::positive;
use crate::scenario::diag::{Diagnostic, Source, closest};
use crate::scenario::plan::{AgentChoice, Fixture, MixEntry, MixOp};
use crate::scenario::raw::{RawMix, RawMixOp};

impl From<RawMixOp> for MixOp {
    fn from(raw: RawMixOp) -> Self {
        match raw {
            RawMixOp::List => MixOp::List,
            RawMixOp::Get => MixOp::Get,
            RawMixOp::Create => MixOp::Create,
            RawMixOp::Patch => MixOp::Patch,
            RawMixOp::Delete => MixOp::Delete,
            RawMixOp::Lifecycle => MixOp::Lifecycle,
            RawMixOp::Run => MixOp::Run,
            RawMixOp::RunStream => MixOp::RunStream,
        }
    }
}

pub(super) fn check_mix(
    mix: &Spanned<Vec<Spanned<RawMix>>>,
    fixtures: &[Fixture],
    source: &Source<'_>,
) -> Result<Vec<MixEntry>, Diagnostic> {
    if mix.get_ref().is_empty() {
        return Err(source.at_value(
            mix,
            "the scenario's mix is empty",
            "add at least one [[mix]] entry, e.g.\n        [[mix]]\n        op = \"run_stream\"",
        ));
    }
    mix.get_ref()
        .iter()
        .map(|entry| check_mix_entry(entry, fixtures, source))
        .collect()
}

fn check_mix_entry(
    spanned: &Spanned<RawMix>,
    fixtures: &[Fixture],
    source: &Source<'_>,
) -> Result<MixEntry, Diagnostic> {
    let entry = spanned.get_ref();
    let op = MixOp::from(*entry.op.get_ref());
    let weight = match &entry.weight {
        Some(w) => {
            let n = positive(w, source, "weight", "weight = 3")?;
            u32::try_from(n).map_err(|_| {
                source.at_value(w, "weight is too large", "use a weight below 4294967296")
            })?
        }
        None => 1,
    };
    let agents = match &entry.agent {
        Some(agent) if op == MixOp::List => {
            return Err(source.at_value(
                agent,
                "`list` acts on no agent",
                "remove `agent` from this entry",
            ));
        }
        Some(agent) if agent.get_ref() == "*" => {
            if fixtures.is_empty() {
                return Err(source.at_value(
                    agent,
                    "agent = \"*\" but the scenario has no [[agents]]",
                    "add an [[agents]] entry",
                ));
            }
            AgentChoice::All
        }
        Some(agent) => match fixtures.iter().position(|f| f.name == *agent.get_ref()) {
            Some(index) => AgentChoice::One(index as u16),
            None => {
                let names: Vec<String> = fixtures.iter().map(|f| f.name.clone()).collect();
                let help = match closest(agent.get_ref(), &names) {
                    Some(best) => format!(
                        "did you mean \"{best}\"? Agents: {}, or \"*\" for all",
                        names.join(", ")
                    ),
                    None if names.is_empty() => "add an [[agents]] entry with this name".to_owned(),
                    None => format!(
                        "name one of the [[agents]] ({}) or \"*\" for all",
                        names.join(", ")
                    ),
                };
                return Err(source.at_value(
                    agent,
                    format!("no agent is named {:?}", agent.get_ref()),
                    help,
                ));
            }
        },
        None if fixtures.is_empty() && op.targets_fixture() => {
            return Err(source.at_value(
                &entry.op,
                format!("`{}` needs an agent but the scenario has none", op.name()),
                "add an [[agents]] entry (name, model, system_prompt), or name an existing one by id",
            ));
        }
        None if fixtures.is_empty() || op == MixOp::List => AgentChoice::None,
        None => AgentChoice::All,
    };
    let body = match (&entry.body, &entry.body_json) {
        (Some(_), Some(json)) => {
            return Err(source.at_value(
                json,
                "both `body` and `body_json` are set",
                "keep one of them",
            ));
        }
        (Some(table), None) => {
            let fields = toml_table_to_json(table.get_ref())
                .map_err(|err| source.at_value(table, err.to_string(), "write a finite number"))?;
            Some((Value::Object(fields), table.span()))
        }
        (None, Some(json)) => {
            let value: Value = serde_json::from_str(json.get_ref()).map_err(|err| {
                source.at_value(
                    json,
                    format!("body_json is not valid JSON: {err}"),
                    "write a JSON object, e.g. body_json = '{\"messages\": []}'",
                )
            })?;
            Some((value, json.span()))
        }
        (None, None) => None,
    };
    let body = match body {
        None => None,
        Some((value, span)) => {
            check_body(op, &value)
                .map_err(|(message, help)| source.at(span, message, Some(help)))?;
            Some(value)
        }
    };
    let run_only = |key: &str, span: std::ops::Range<usize>| {
        source.at(
            span,
            format!(
                "`{key}` applies to run ops, and this entry is `{}`",
                op.name()
            ),
            Some(format!(
                "remove `{key}`, or make the entry op = \"run\" or \"run_stream\""
            )),
        )
    };
    let turns = match &entry.turns {
        Some(n) if !op.is_run() => return Err(run_only("turns", n.span())),
        Some(n) => u32::try_from(*n.get_ref())
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                source.at_value(
                    n,
                    "turns must be a whole number from 1 to 1000",
                    "write e.g. turns = 3 (runs per conversation)",
                )
            })?,
        None => 1,
    };
    let callback = match &entry.callback {
        Some(flag) if !op.is_run() => return Err(run_only("callback", flag.span())),
        Some(flag) => *flag.get_ref(),
        None => false,
    };
    if let Some(Value::Object(fields)) = &body {
        for (key, owner) in [("threadId", turns > 1), ("callbackUrl", callback)] {
            if owner && fields.contains_key(key) {
                let span = entry
                    .body
                    .as_ref()
                    .map(Spanned::span)
                    .or(entry.body_json.as_ref().map(Spanned::span))
                    .unwrap_or_default();
                return Err(source.at(
                    span,
                    format!("the body sets `{key}`, which this entry's turns or callback set for each run"),
                    Some(format!("remove `{key}` from the body")),
                ));
            }
        }
    }
    Ok(MixEntry {
        op,
        weight,
        agents,
        body,
        turns,
        callback,
    })
}
