//! `[variants]`: the agents to compare made as a matrix of models and system prompts (one
//! agent per combination, named by a pattern), and the metric variants are ranked by. The
//! checks that make the plan's [`Variants`], each error at its key.

use std::collections::HashSet;

use serde_json::Map;
use toml::Spanned;

use super::body::{check_create_extra, toml_table_to_json};
use crate::model::Metric;
use crate::scenario::diag::{Diagnostic, Source, closest};
use crate::scenario::plan::{AgentTemplate, Fixture, FixtureKind, Matrix, Variants};
use crate::scenario::raw::RawVariants;

/// Combinations a matrix may make: each is an agent created in setup and a column of every
/// comparison, and each needs its share of the samples for the statistics to mean anything.
pub const MAX_COMBINATIONS: usize = 64;

/// The placeholders a name pattern may use.
const PLACEHOLDERS: [&str; 3] = ["model", "m", "prompt"];

/// Checks `[variants]`; returns the settings and the matrix's agents, to follow `agents` (the
/// scenario's `[[agents]]`, whose names they must not take).
pub(super) fn check_variants(
    raw: &Spanned<RawVariants>,
    agents: &[Fixture],
    template: &AgentTemplate,
    source: &Source<'_>,
) -> Result<(Variants, Vec<Fixture>), Diagnostic> {
    let table = raw.get_ref();
    let rank_by = match &table.rank_by {
        Some(name) => Some(check_rank_by(name, source)?),
        None => None,
    };
    let models = check_list(table.models.as_ref(), "models", source)?;
    let prompts = check_list(table.system_prompts.as_ref(), "system_prompts", source)?;
    if models.is_none() && prompts.is_none() {
        if let Some(key) = table
            .name
            .as_ref()
            .map(Spanned::span)
            .or(table.body.as_ref().map(Spanned::span))
        {
            return Err(source.at(
                key,
                "[variants] has a name pattern or body but no models or system_prompts to make agents from",
                Some("add e.g. models = [\"fast-model\", \"slow-model\"], or remove the key".to_owned()),
            ));
        }
        if agents.is_empty() {
            return Err(source.at_value(
                raw,
                "[variants] makes no agents and the scenario has no [[agents]] to compare",
                "add models = [...] and/or system_prompts = [...] to [variants]",
            ));
        }
        return Ok((
            Variants {
                matrix: None,
                rank_by,
            },
            Vec::new(),
        ));
    }
    let combinations = models.as_ref().map_or(1, Vec::len) * prompts.as_ref().map_or(1, Vec::len);
    if combinations > MAX_COMBINATIONS {
        let at = table
            .models
            .as_ref()
            .map_or_else(|| raw.span(), Spanned::span);
        return Err(source.at(
            at,
            format!(
                "{} models × {} system prompts make {combinations} agents, more than {MAX_COMBINATIONS}",
                models.as_ref().map_or(1, Vec::len),
                prompts.as_ref().map_or(1, Vec::len)
            ),
            Some(format!(
                "compare at most {MAX_COMBINATIONS} variants in one run (each needs its own share of the samples); split the matrix over several runs"
            )),
        ));
    }
    let pattern = match (&table.name, &models, &prompts) {
        (Some(name), ..) => name.get_ref().trim().to_owned(),
        (None, Some(_), Some(_)) => "{model}/p{prompt}".to_owned(),
        (None, Some(_), None) => "{model}".to_owned(),
        (None, None, _) => "p{prompt}".to_owned(),
    };
    let pattern_error = |message: String, help: &str| match &table.name {
        Some(name) => source.at_value(name, message, help),
        None => source.at(
            table
                .models
                .as_ref()
                .map(Spanned::span)
                .or(table.system_prompts.as_ref().map(Spanned::span))
                .unwrap_or_else(|| raw.span()),
            message,
            Some(help.to_owned()),
        ),
    };
    let pieces = parse_pattern(&pattern).map_err(|err| {
        pattern_error(
            err.to_string(),
            "write a pattern with {model}, {m} (model number) and {prompt} (prompt number), e.g. name = \"{model}/p{prompt}\"",
        )
    })?;
    let extra = match &table.body {
        Some(body) => toml_table_to_json(body.get_ref())
            .map_err(|err| err.to_string())
            .and_then(|fields| {
                check_create_extra(&fields)
                    .map_err(|(message, _)| message)
                    .map(|()| fields)
            })
            .map_err(|message| {
                source.at_value(body, message, "see [variants] in scenarios/README.md")
            })?,
        None => Map::new(),
    };
    let models = models.unwrap_or_else(|| vec![template.model.clone()]);
    let prompts = prompts.unwrap_or_else(|| vec![template.system_prompt.clone()]);
    let taken: HashSet<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    let mut seen = HashSet::new();
    let mut names = Vec::with_capacity(combinations);
    let mut fixtures = Vec::with_capacity(combinations);
    for (m, model) in models.iter().enumerate() {
        for (p, prompt) in prompts.iter().enumerate() {
            let name = render(&pieces, model, m + 1, p + 1);
            if name.is_empty() || name == "*" || name.contains(':') {
                return Err(pattern_error(
                    format!(
                        "the name pattern gives the agent of model {model:?} the name {name:?}, which cannot name an agent"
                    ),
                    "names may not be empty, `*`, or hold `:`; use {m} (the model's number) for models with a `:`, e.g. name = \"m{m}/p{prompt}\"",
                ));
            }
            if taken.contains(name.as_str()) {
                return Err(pattern_error(
                    format!(
                        "the matrix makes an agent named {name:?}, and an [[agents]] entry has that name"
                    ),
                    "rename the [[agents]] entry, or change the pattern, e.g. name = \"v-{model}/p{prompt}\"",
                ));
            }
            if !seen.insert(name.clone()) {
                return Err(pattern_error(
                    format!("the name pattern {pattern:?} gives two agents the name {name:?}"),
                    "put {model} (or {m}) in the pattern when there are several models, and {prompt} when there are several system prompts",
                ));
            }
            names.push(name.clone());
            fixtures.push(Fixture {
                name,
                kind: FixtureKind::Create {
                    model: model.clone(),
                    system_prompt: prompt.clone(),
                    extra: extra.clone(),
                },
            });
        }
    }
    Ok((
        Variants {
            matrix: Some(Matrix {
                models,
                system_prompts: prompts,
                pattern,
                names,
            }),
            rank_by,
        },
        fixtures,
    ))
}

/// A list of models or prompts: not empty, no empty entry, no entry twice.
fn check_list(
    list: Option<&Spanned<Vec<Spanned<String>>>>,
    key: &str,
    source: &Source<'_>,
) -> Result<Option<Vec<String>>, Diagnostic> {
    let Some(list) = list else {
        return Ok(None);
    };
    let example = if key == "models" {
        "e.g. models = [\"fast-model\", \"slow-model\"]"
    } else {
        "e.g. system_prompts = [\"Be brief.\", \"Be thorough.\"]"
    };
    if list.get_ref().is_empty() {
        return Err(source.at_value(
            list,
            format!("variants.{key} is empty"),
            format!("list at least one, {example}; or remove the key"),
        ));
    }
    let mut values: Vec<String> = Vec::with_capacity(list.get_ref().len());
    for item in list.get_ref() {
        let value = item.get_ref().trim();
        if value.is_empty() {
            return Err(source.at_value(
                item,
                format!("an entry of variants.{key} is empty"),
                format!("the API needs a non-empty value; {example}"),
            ));
        }
        if let Some(first) = values.iter().position(|v| v == value) {
            return Err(source.at_value(
                item,
                format!(
                    "{value:?} is listed twice in variants.{key} (entries {} and {})",
                    first + 1,
                    values.len() + 1
                ),
                "list each once: two identical agents would only split the samples",
            ));
        }
        values.push(value.to_owned());
    }
    Ok(Some(values))
}

fn check_rank_by(name: &Spanned<String>, source: &Source<'_>) -> Result<Metric, Diagnostic> {
    match Metric::from_name(name.get_ref().trim()).filter(|m| m.can_rank()) {
        Some(metric) => Ok(metric),
        None => {
            let names: Vec<String> = Metric::ranked().map(|m| m.name().to_owned()).collect();
            let help = match closest(name.get_ref(), &names) {
                Some(best) => format!(
                    "did you mean \"{best}\"? Rank by one of: {}",
                    names.join(", ")
                ),
                None => format!("rank by one of: {}", names.join(", ")),
            };
            Err(source.at_value(
                name,
                format!("variants are not ranked by {:?}", name.get_ref()),
                help,
            ))
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Model,
    ModelNumber,
    PromptNumber,
}

/// What is wrong with a name pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum PatternError {
    #[error("the name pattern is empty")]
    Empty,
    #[error("the name pattern {0:?} has a `}}` without a `{{`")]
    Unopened(String),
    #[error("the name pattern {0:?} has a `{{` without a `}}`")]
    Unclosed(String),
    #[error("the name pattern has an unknown placeholder {{{name}}}; it may use {all}", all = PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", "))]
    Unknown { name: String },
}

/// Splits a name pattern into text and placeholders; the error says what is wrong.
fn parse_pattern(pattern: &str) -> Result<Vec<Piece>, PatternError> {
    if pattern.is_empty() {
        return Err(PatternError::Empty);
    }
    let mut pieces = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(PatternError::Unopened(pattern.to_owned()));
        }
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let Some(close) = rest[open..].find('}') else {
            return Err(PatternError::Unclosed(pattern.to_owned()));
        };
        let placeholder = &rest[open + 1..open + close];
        pieces.push(match placeholder {
            "model" => Piece::Model,
            "m" => Piece::ModelNumber,
            "prompt" => Piece::PromptNumber,
            other => {
                return Err(PatternError::Unknown {
                    name: other.to_owned(),
                });
            }
        });
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(pieces)
}

fn render(pieces: &[Piece], model: &str, model_number: usize, prompt_number: usize) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.clone(),
            Piece::Model => model.to_owned(),
            Piece::ModelNumber => model_number.to_string(),
            Piece::PromptNumber => prompt_number.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(variants: &str, agents: &str) -> Result<crate::scenario::Plan, Diagnostic> {
        let text = format!(
            "{agents}\n[variants]\n{variants}\n[load]\nvus = 1\niterations = 1\n[[mix]]\nop = \"run\"\n"
        );
        crate::scenario::parse("v.toml", text.as_bytes(), "v")
    }

    fn error(variants: &str, agents: &str) -> Diagnostic {
        parse(variants, agents).expect_err("the matrix should be refused")
    }

    const AGENT: &str = "[[agents]]\nname = \"base\"\nmodel = \"m\"\nsystem_prompt = \"p\"";

    #[test]
    fn a_matrix_makes_one_agent_per_combination_after_the_agents() {
        let plan = parse(
            "models = [\"a\", \"b\"]\nsystem_prompts = [\"x\", \"y\", \"z\"]\nbody = { llmConfig = { maxTokens = 9 } }",
            AGENT,
        )
        .unwrap();
        let names: Vec<&str> = plan.fixtures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["base", "a/p1", "a/p2", "a/p3", "b/p1", "b/p2", "b/p3"]
        );
        let FixtureKind::Create {
            model,
            system_prompt,
            extra,
        } = &plan.fixtures[6].kind
        else {
            panic!("matrix agents are created");
        };
        assert_eq!((model.as_str(), system_prompt.as_str()), ("b", "z"));
        assert_eq!(extra["llmConfig"]["maxTokens"], 9);
        let matrix = plan.variants.matrix.as_ref().unwrap();
        assert_eq!(matrix.cell("b/p2"), Some((1, 1)));
        assert_eq!(matrix.cell("base"), None);
        assert_eq!(plan.mix[0].agents, crate::scenario::AgentChoice::All);
        assert_eq!(plan.variants.rank_by, None);
    }

    #[test]
    fn default_names_follow_the_lists_given() {
        let plan = parse("models = [\"a\", \"b\"]", "").unwrap();
        assert_eq!(plan.variant_names(), ["a", "b"]);
        let FixtureKind::Create { system_prompt, .. } = &plan.fixtures[0].kind else {
            panic!();
        };
        assert_eq!(*system_prompt, AgentTemplate::default().system_prompt);
        let plan = parse("system_prompts = [\"x\", \"y\"]", "").unwrap();
        assert_eq!(plan.variant_names(), ["p1", "p2"]);
        let plan = parse("models = [\"a:1\", \"b:2\"]\nname = \"m{m}\"", "").unwrap();
        assert_eq!(plan.variant_names(), ["m1", "m2"]);
        // rank_by alone ranks the [[agents]].
        let plan = parse("rank_by = \"server_time\"", AGENT).unwrap();
        assert_eq!(plan.variants.rank_by, Some(Metric::ServerTime));
        assert_eq!(plan.variant_names(), ["base"]);
    }

    #[test]
    fn bad_matrices_are_refused_at_their_key() {
        let e = error("models = [\"a\", \" \"]", "");
        assert_eq!(e.key.as_deref(), Some("variants.models[1]"));
        assert!(e.message.contains("empty"), "{e}");
        let e = error("system_prompts = []", "");
        assert_eq!(e.key.as_deref(), Some("variants.system_prompts"));
        let e = error("models = [\"base\"]", AGENT);
        assert!(
            e.message.contains("an [[agents]] entry has that name"),
            "{e}"
        );
        let e = error("models = [\"a\"]\nname = \"{model}-{modle}\"", "");
        assert_eq!(e.key.as_deref(), Some("variants.name"));
        assert!(e.message.contains("unknown placeholder {modle}"), "{e}");
        let e = error("models = [\"a\"]\nbody = { name = \"x\" }", "");
        assert_eq!(e.key.as_deref(), Some("variants.body"));
        let e = error("rank_by = \"steps\"", AGENT);
        assert_eq!(e.key.as_deref(), Some("variants.rank_by"));
        let e = error("rank_by = \"ttfs\"", "");
        assert!(e.message.contains("no [[agents]] to compare"), "{e}");
        let e = error("name = \"{model}\"", AGENT);
        assert_eq!(e.key.as_deref(), Some("variants.name"));
        let e = error("colour = 1", "");
        assert!(e.message.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn patterns_split_into_text_and_placeholders() {
        let pieces = parse_pattern("{model}/p{prompt}").unwrap();
        assert_eq!(render(&pieces, "fast", 1, 2), "fast/p2");
        assert_eq!(render(&parse_pattern("m{m}").unwrap(), "x:y", 3, 1), "m3");
        assert!(
            parse_pattern("{modle}")
                .unwrap_err()
                .to_string()
                .contains("{modle}")
        );
        assert!(
            parse_pattern("a{model")
                .unwrap_err()
                .to_string()
                .contains("without a `}`")
        );
        assert!(
            parse_pattern("a}b")
                .unwrap_err()
                .to_string()
                .contains("without a `{`")
        );
        assert!(parse_pattern("").is_err());
    }
}
