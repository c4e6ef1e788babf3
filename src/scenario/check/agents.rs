//! `[[agents]]`: the fixture agents a run creates or reuses, each with a unique name, checked
//! into the plan's [`Fixture`]s.

use std::collections::HashSet;

use serde_json::Map;
use toml::Spanned;

use super::body::{check_create_extra, toml_table_to_json};
use crate::scenario::diag::{Diagnostic, Source};
use crate::scenario::plan::{Fixture, FixtureKind};
use crate::scenario::raw::RawAgent;

/// Fixture agents a scenario may define (each is a variant in every report).
const MAX_FIXTURES: usize = 1000;

pub(super) fn check_agents(
    agents: &[Spanned<RawAgent>],
    source: &Source<'_>,
) -> Result<Vec<Fixture>, Diagnostic> {
    if let Some(extra) = agents.get(MAX_FIXTURES) {
        return Err(source.at_value(
            extra,
            format!("more than {MAX_FIXTURES} agents"),
            "a scenario can hold at most 1000 [[agents]] entries",
        ));
    }
    let mut seen = HashSet::new();
    let mut fixtures = Vec::with_capacity(agents.len());
    for spanned in agents {
        let agent = spanned.get_ref();
        let name = agent.name.get_ref().trim();
        if name.is_empty() || name == "*" || name.contains(':') {
            return Err(source.at_value(
                &agent.name,
                format!("{name:?} cannot name an agent"),
                "use a short name without `*` or `:`, e.g. name = \"fast\"",
            ));
        }
        if !seen.insert(name.to_owned()) {
            return Err(source.at_value(
                &agent.name,
                format!("two agents are named {name:?}"),
                "give each [[agents]] entry its own name",
            ));
        }
        let kind = match (&agent.id, &agent.model, &agent.system_prompt) {
            (Some(id), None, None) if agent.body.is_none() => {
                if id.get_ref().trim().is_empty() {
                    return Err(source.at_value(
                        id,
                        "the agent id is empty",
                        "give the id of an existing agent, or remove `id` to create one",
                    ));
                }
                FixtureKind::Existing {
                    id: id.get_ref().trim().to_owned(),
                }
            }
            (Some(id), ..) => {
                return Err(source.at_value(
                    id,
                    format!("agent {name:?} has an `id` and also keys for creating one"),
                    "an existing agent takes only `name` and `id`; remove `id` to have the run create the agent instead",
                ));
            }
            (None, Some(model), Some(prompt)) => {
                if model.trim().is_empty() || prompt.trim().is_empty() {
                    return Err(source.at_value(
                        spanned,
                        format!("agent {name:?} has an empty model or system_prompt"),
                        "the API needs both to be non-empty",
                    ));
                }
                let extra = match &agent.body {
                    Some(body) => toml_table_to_json(body.get_ref())
                        .map_err(|err| err.to_string())
                        .and_then(|fields| {
                            check_create_extra(&fields)
                                .map_err(|(m, _)| m)
                                .map(|()| fields)
                        })
                        .map_err(|message| {
                            source.at_value(body, message, "see [[agents]] in scenarios/README.md")
                        })?,
                    None => Map::new(),
                };
                FixtureKind::Create {
                    model: model.clone(),
                    system_prompt: prompt.clone(),
                    extra,
                }
            }
            (None, ..) => {
                return Err(source.at_value(
                    spanned,
                    format!("agent {name:?} needs `model` and `system_prompt` (to be created) or `id` (to reuse one)"),
                    "e.g. model = \"gpt-4o-mini\" and system_prompt = \"Answer in one sentence.\"",
                ));
            }
        };
        fixtures.push(Fixture {
            name: name.to_owned(),
            kind,
        });
    }
    Ok(fixtures)
}
