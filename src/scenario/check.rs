//! Turns a parsed scenario file into a checked [`Plan`]: every rule a file can break that serde
//! cannot see (ranges, cross references, bodies), each reported at its position.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{Map, Value};
use toml::Spanned;

use super::diag::{Diagnostic, Source, closest};
use super::file::{
    MixOp, RawAgent, RawFaults, RawMix, RawProfile, RawScenario, RawSloEntry, RawThreshold,
};
use super::plan::*;
use crate::metrics::slo::{Objective, Objectives};
use crate::metrics::threshold::{Quantity, Threshold};
use crate::model::Op;
use crate::model::Timeouts;
use crate::model::units::DurationValue;
use crate::sim::Profile;
use crate::sim::faults::{self, Endpoints, RequestFaults, RunFaults, StatusFault};

/// The body run ops send when the scenario gives none.
pub fn default_run_body() -> Value {
    serde_json::json!({ "messages": [{ "role": "user", "content": "Say hello in one short sentence." }] })
}

pub fn check(
    raw: RawScenario,
    source: &Source<'_>,
    origin: &str,
    default_name: &str,
) -> Result<Plan, Diagnostic> {
    let name = match &raw.name {
        Some(name) if name.get_ref().trim().is_empty() => {
            return Err(source.at_value(
                name,
                "the scenario name is empty",
                "give it a short name, e.g. name = \"smoke\"",
            ));
        }
        Some(name) => name.get_ref().trim().to_owned(),
        None => default_name.to_owned(),
    };
    let target = check_target(&raw, source)?;
    let mut fixtures = check_agents(&raw.agents, source)?;
    let template = AgentTemplate::default();
    let variants = match &raw.variants {
        Some(table) => {
            let (variants, matrix) =
                super::variants::check_variants(table, &fixtures, &template, source)?;
            fixtures.extend(matrix);
            variants
        }
        None => Variants::default(),
    };
    let load = super::load::check_load(&raw.load, source)?;
    let mix = check_mix(&raw, &fixtures, source)?;
    let thresholds = check_thresholds(&raw, &fixtures, &mix, source)?;
    let objectives = check_slo(&raw, &mix, source)?;
    let simulator = check_simulator(&raw, source)?;
    let callback = check_callback(&raw, &mix, source)?;
    Ok(Plan {
        name,
        description: raw.description.clone(),
        origin: origin.to_owned(),
        seed: raw.seed.unwrap_or(1),
        target,
        fixtures,
        load,
        mix,
        thresholds,
        objectives,
        simulator,
        template,
        callback,
        variants,
    })
}

fn positive(
    value: &Spanned<i64>,
    source: &Source<'_>,
    what: &str,
    example: &str,
) -> Result<u64, Diagnostic> {
    u64::try_from(*value.get_ref())
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            source.at_value(
                value,
                format!("{what} must be a whole number of 1 or more"),
                format!("e.g. {example}"),
            )
        })
}

fn check_target(raw: &RawScenario, source: &Source<'_>) -> Result<Target, Diagnostic> {
    let t = &raw.target;
    let base_url = match &t.base_url {
        Some(url) => Some(
            normalize_base_url(url.get_ref())
                .map_err(|(message, help)| source.at_value(url, message, help))?,
        ),
        None => None,
    };
    let team_id = match &t.team_id {
        Some(id) => Some(positive(id, source, "team_id", "team_id = 123")?),
        None => None,
    };
    let token_env = match &t.token_env {
        Some(name) => {
            let valid = !name.get_ref().is_empty()
                && name
                    .get_ref()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.get_ref().starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(source.at_value(
                    name,
                    format!("{:?} is not an environment variable name", name.get_ref()),
                    "name the variable that holds the token, e.g. token_env = \"MAKE_API_TOKEN\"; never put the token itself in a scenario",
                ));
            }
            name.get_ref().clone()
        }
        None => DEFAULT_TOKEN_ENV.to_owned(),
    };
    let make_connection_id = match &t.make_connection_id {
        Some(id) => Some(positive(
            id,
            source,
            "make_connection_id",
            "make_connection_id = 456",
        )?),
        None => None,
    };
    let defaults = Timeouts::default();
    let timeout = |value: &Option<Spanned<DurationValue>>, name: &str, fallback| match value {
        Some(v) if v.get_ref().0.is_zero() => Err(source.at_value(
            v,
            format!("target.timeout.{name} is zero"),
            "give every timeout a positive duration, e.g. \"30s\"",
        )),
        Some(v) => Ok(v.get_ref().0),
        None => Ok(fallback),
    };
    let timeouts = Timeouts {
        connect: timeout(&t.timeout.connect, "connect", defaults.connect)?,
        first_step: timeout(&t.timeout.first_step, "first_step", defaults.first_step)?,
        idle: timeout(&t.timeout.idle, "idle", defaults.idle)?,
        total: timeout(&t.timeout.total, "total", defaults.total)?,
    };
    let retry_after = t
        .retry_after
        .as_ref()
        .map_or_else(RetryAfter::default, |v| *v.get_ref());
    let max_retries = match &t.max_retries {
        Some(n) if retry_after == RetryAfter::Measure => {
            return Err(source.at_value(
                n,
                "max_retries has no effect: 429s are only retried with retry_after = \"honour\"",
                "add retry_after = \"honour\" under [target], or remove max_retries",
            ));
        }
        Some(n) => u32::try_from(*n.get_ref())
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                source.at_value(
                    n,
                    "max_retries must be a whole number from 1 to 100",
                    "write e.g. max_retries = 3",
                )
            })?,
        None => DEFAULT_MAX_RETRIES,
    };
    Ok(Target {
        base_url,
        team_id,
        token_env,
        auth: t.auth_scheme.unwrap_or_default(),
        make_connection_id,
        timeouts,
        retry_after,
        max_retries,
        max_event_bytes: t
            .max_event_size
            .as_ref()
            .map_or(DEFAULT_MAX_EVENT_BYTES, |size| size.get_ref().0),
    })
}

/// Checks a base URL and returns it without a trailing slash. The error is (message, help).
pub fn normalize_base_url(text: &str) -> Result<String, (String, String)> {
    let help = "write the API's base URL, e.g. \"https://eu1.make.com/api/v2\" or \"http://127.0.0.1:8080/api/v2\"";
    // The text is never repeated in a message: it may hold credentials.
    let url = url::Url::parse(text.trim()).map_err(|err| {
        (
            format!("the base URL is not a URL ({err})"),
            help.to_owned(),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err((
            format!(
                "the base URL's scheme is {:?}, not http or https",
                url.scheme()
            ),
            help.to_owned(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err((
            "the base URL carries credentials".to_owned(),
            "remove them from the URL; the token is read from the environment variable named by token_env".to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err((
            "the base URL has a query or fragment".to_owned(),
            "give the base URL only; teamId is added to every call".to_owned(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Fixture agents a scenario may define (each is a variant in every report).
const MAX_FIXTURES: usize = 1000;

fn check_agents(
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

fn check_mix(
    raw: &RawScenario,
    fixtures: &[Fixture],
    source: &Source<'_>,
) -> Result<Vec<MixEntry>, Diagnostic> {
    if raw.mix.get_ref().is_empty() {
        return Err(source.at_value(
            &raw.mix,
            "the scenario's mix is empty",
            "add at least one [[mix]] entry, e.g.\n        [[mix]]\n        op = \"run_stream\"",
        ));
    }
    raw.mix
        .get_ref()
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
    let op = *entry.op.get_ref();
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
                .map_err(|message| source.at_value(table, message, "write a finite number"))?;
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

/// The `[callback]` table: where run results are received, and how long they may take.
fn check_callback(
    raw: &RawScenario,
    mix: &[MixEntry],
    source: &Source<'_>,
) -> Result<CallbackSettings, Diagnostic> {
    let defaults = CallbackSettings::default();
    let Some(table) = &raw.callback else {
        return Ok(defaults);
    };
    if !mix.iter().any(|entry| entry.callback) {
        return Err(source.at_value(
            table,
            "[callback] is set but no [[mix]] entry asks for a callback",
            "add callback = true to a run or run_stream entry, or remove [callback]",
        ));
    }
    let callback = table.get_ref();
    let listen = match &callback.listen {
        Some(addr) => addr.get_ref().trim().parse().map_err(|_| {
            source.at_value(
                addr,
                format!("listen = {:?} is not an address and port", addr.get_ref()),
                "write e.g. listen = \"127.0.0.1:0\" (any free port) or \"0.0.0.0:9090\"",
            )
        })?,
        None => defaults.listen,
    };
    let public_url = match &callback.public_url {
        Some(url) => {
            let parsed = url::Url::parse(url.get_ref().trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if parsed.is_none() {
                return Err(source.at_value(
                    url,
                    "public_url is not an http(s) URL",
                    "write the URL the server reaches the receiver at, e.g. public_url = \"https://loadgen.example.com:9090\"",
                ));
            }
            Some(url.get_ref().trim().trim_end_matches('/').to_owned())
        }
        None => None,
    };
    let timeout = match &callback.timeout {
        Some(t) if t.get_ref().0.is_zero() => {
            return Err(source.at_value(
                t,
                "callback.timeout is zero",
                "give it a positive duration, e.g. timeout = \"60s\"",
            ));
        }
        Some(t) => t.get_ref().0,
        None => defaults.timeout,
    };
    Ok(CallbackSettings {
        listen,
        public_url,
        timeout,
    })
}

/// What each op does with a body: run ops need `messages`, reads send none.
pub(super) fn check_body(op: MixOp, body: &Value) -> Result<(), (String, String)> {
    let Some(object) = body.as_object() else {
        return Err((
            "the body must be a JSON object".into(),
            "write a table, e.g. body = { messages = [...] }".into(),
        ));
    };
    match op {
        MixOp::List | MixOp::Get | MixOp::Delete => Err((
            format!("`{}` sends no body", op.name()),
            "remove `body` from this entry".into(),
        )),
        MixOp::Run | MixOp::RunStream => match object.get("messages") {
            Some(Value::Array(messages)) if !messages.is_empty() => Ok(()),
            _ => Err((
                "a run body needs a non-empty `messages` array".into(),
                "e.g. body = { messages = [{ role = \"user\", content = \"What is 2+2?\" }] }"
                    .into(),
            )),
        },
        MixOp::Create | MixOp::Lifecycle => check_create_extra(object),
        MixOp::Patch => Ok(()),
    }
}

fn check_thresholds(
    raw: &RawScenario,
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
    let mut entries: Vec<_> = raw.thresholds.iter().collect();
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
                Threshold::parse(key.get_ref(), condition.get_ref().check()).map_err(bad)?;
            if let RawThreshold::Table(table) = condition.get_ref() {
                if table.abort_on_fail {
                    let delay = table.delay.map_or(Duration::ZERO, |d| d.0);
                    threshold = threshold.abort_on_fail(delay).map_err(bad)?;
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
pub(super) fn unmeasurable(threshold: &Threshold, sent: &[Op]) -> Option<String> {
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

/// `[slo]`: objectives for every op (`ttfs = "<= 2s"`) and for one (`[slo.run_stream]`), each
/// checked against what the mix measures.
fn check_slo(
    raw: &RawScenario,
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
    for (key, entry) in &raw.slo {
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

fn check_simulator(
    raw: &RawScenario,
    source: &Source<'_>,
) -> Result<SimulatorSettings, Diagnostic> {
    let Some(sim) = &raw.simulator else {
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

/// A TOML table as JSON, unchanged but for dates and times, which become RFC 3339 strings.
/// NaN and infinities have no JSON form and are refused.
pub fn toml_table_to_json(table: &toml::Table) -> Result<Map<String, Value>, String> {
    table
        .iter()
        .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
        .collect()
}

fn toml_to_json(value: &toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::Number(
            serde_json::Number::from_f64(*f)
                .ok_or_else(|| format!("{f} has no JSON form; use a finite number"))?,
        ),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => {
            Value::Array(items.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(table) => Value::Object(toml_table_to_json(table)?),
    })
}

/// Create-body fields the run sets itself: overriding them would hide an agent from teardown
/// (another name prefix, another team).
const RUN_OWNED_CREATE_FIELDS: [&str; 3] = ["name", "teamId", "makeConnectionId"];

pub(super) fn check_create_extra(fields: &Map<String, Value>) -> Result<(), (String, String)> {
    match RUN_OWNED_CREATE_FIELDS.iter().find(|key| fields.contains_key(**key)) {
        Some(key) => Err((
            format!("the body sets `{key}`, which the run sets itself"),
            "remove it: agents are named agentload-<run id>-..., in the target's team, with target.make_connection_id, so teardown finds every one".to_owned(),
        )),
        None => Ok(()),
    }
}
