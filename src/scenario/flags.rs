//! Command-line flags over a plan: values that replace the scenario file's, a whole plan made
//! from flags alone (`agentload run --op get --rate 50/s ...`), and the checks only the
//! combination of file and flags can break.

use std::time::Duration;

use serde_json::{Map, Value};

use super::check::{check_body, normalize_base_url, unmeasurable};
use super::diag::Diagnostic;
use super::*;
use crate::model::Op;
use crate::model::is_loopback_url;
use crate::model::units::Rate;
use crate::model::{AuthScheme, TimeoutKind, Timeouts};

/// Values from the command line; each replaces the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub target: Option<String>,
    pub token_env: Option<String>,
    pub team_id: Option<u64>,
    pub make_connection_id: Option<u64>,
    pub vus: Option<u32>,
    pub duration: Option<Duration>,
    pub iterations: Option<u64>,
    /// Replaces the mix: (op, weight).
    pub ops: Vec<(MixOp, u32)>,
    /// Replaces the fixtures with existing agents.
    pub agent_ids: Vec<String>,
    /// The body of every op given by `ops` that takes one.
    pub body: Option<Value>,
    /// Makes the load open at this constant rate.
    pub rate: Option<Rate>,
    pub arrival: Option<Arrival>,
    pub max_in_flight: Option<u32>,
    pub warmup: Option<Duration>,
    /// Model and system prompt of the temporary agent created when an op needs one.
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    /// Replace `[target.timeout]` values, one kind each; a later one wins.
    pub timeouts: Vec<(TimeoutKind, Duration)>,
    /// Replaces `target.max_event_size`, in bytes.
    pub max_event_bytes: Option<usize>,
    /// Replace the file's `[slo]` as a whole, when any is given.
    pub objectives: Vec<crate::metrics::slo::Objective>,
    /// Added to the file's `[thresholds]` (`--threshold`).
    pub thresholds: Vec<crate::metrics::threshold::Threshold>,
}

impl Plan {
    /// A plan made from flags alone: the embedded simulator unless `--target`, one virtual user
    /// unless `--vus` or `--rate`, and the ops of `--op`.
    pub fn from_flags(overrides: &Overrides) -> Result<Plan, Diagnostic> {
        if overrides.ops.is_empty() {
            return Err(Diagnostic::flag(
                "--op",
                "no scenario file and no --op: nothing to run",
                "name a scenario file, or give the ops on the command line, e.g. --op get --op run_stream:3",
            ));
        }
        if overrides.duration.is_none() && overrides.iterations.is_none() {
            return Err(Diagnostic::flag(
                "--duration",
                "a run from flags needs --duration or --iterations",
                "add e.g. --duration 30s or --iterations 100",
            ));
        }
        let name = overrides
            .ops
            .iter()
            .map(|(op, _)| op.name())
            .collect::<Vec<_>>()
            .join("+");
        let mut plan = Plan {
            name,
            description: None,
            origin: "the command line".to_owned(),
            seed: 1,
            target: Target {
                base_url: None,
                team_id: None,
                token_env: DEFAULT_TOKEN_ENV.to_owned(),
                auth: AuthScheme::default(),
                make_connection_id: None,
                timeouts: Timeouts::default(),
                retry_after: RetryAfter::default(),
                max_retries: DEFAULT_MAX_RETRIES,
                max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            },
            fixtures: Vec::new(),
            load: Load {
                pacing: Pacing::Closed {
                    vus: Ramp::fixed(1),
                    think_time: None,
                    max_rate: None,
                },
                stop: Stop {
                    duration: None,
                    iterations: None,
                },
                grace: load::DEFAULT_GRACE,
                warmup: Duration::ZERO,
            },
            mix: Vec::new(),
            thresholds: Vec::new(),
            objectives: Default::default(),
            simulator: SimulatorSettings::default(),
            template: AgentTemplate::default(),
            callback: CallbackSettings::default(),
            variants: Variants::default(),
        };
        plan.apply(overrides)?;
        Ok(plan)
    }

    /// Applies command-line values over the file's, then checks what only the combination can break.
    pub fn apply(&mut self, overrides: &Overrides) -> Result<(), Diagnostic> {
        self.apply_target(overrides)?;
        self.apply_load(overrides)?;
        self.apply_agents_and_mix(overrides)?;
        self.thresholds.extend(overrides.thresholds.iter().cloned());
        self.check_combination()
    }

    fn apply_target(&mut self, overrides: &Overrides) -> Result<(), Diagnostic> {
        if let Some(url) = &overrides.target {
            let url = normalize_base_url(url)
                .map_err(|(message, help)| Diagnostic::flag("--target", message, help))?;
            self.target.base_url = Some(url);
        }
        if let Some(name) = &overrides.token_env {
            self.target.token_env = name.clone();
        }
        if let Some(team_id) = overrides.team_id {
            self.target.team_id = Some(team_id);
        }
        if let Some(id) = overrides.make_connection_id {
            self.target.make_connection_id = Some(id);
        }
        for (kind, limit) in &overrides.timeouts {
            self.target.timeouts.set(*kind, *limit);
        }
        if let Some(bytes) = overrides.max_event_bytes {
            self.target.max_event_bytes = bytes;
        }
        Ok(())
    }

    fn apply_load(&mut self, overrides: &Overrides) -> Result<(), Diagnostic> {
        if let (Some(_), Some(_)) = (overrides.rate, overrides.vus) {
            return Err(Diagnostic::flag(
                "--vus",
                "--vus and --rate both set",
                "--vus sizes the closed model (users looping); --rate makes the load open (arrivals at a rate): keep one",
            ));
        }
        if let Some(rate) = overrides.rate {
            self.load.pacing = self.load.pacing.open_at(rate);
        }
        if let Some(vus) = overrides.vus {
            match &mut self.load.pacing {
                Pacing::Closed { vus: users, .. } => *users = Ramp::fixed(vus),
                Pacing::Open { .. } => {
                    return Err(Diagnostic::flag(
                        "--vus",
                        "--vus applies to the closed model, and this load is open",
                        "use --rate to change the open model's rate, or --max-in-flight to bound it",
                    ));
                }
            }
        }
        for (flag, given) in [
            ("--arrival", overrides.arrival.is_some()),
            ("--max-in-flight", overrides.max_in_flight.is_some()),
        ] {
            if given && matches!(self.load.pacing, Pacing::Closed { .. }) {
                return Err(Diagnostic::flag(
                    flag,
                    format!("{flag} applies to the open model, and this load is closed"),
                    "add --rate R (or model = \"open\" in the file)",
                ));
            }
        }
        if let Pacing::Open {
            arrival,
            max_in_flight,
            ..
        } = &mut self.load.pacing
        {
            if let Some(a) = overrides.arrival {
                *arrival = a;
            }
            if let Some(n) = overrides.max_in_flight {
                *max_in_flight = n;
            }
        }
        if let Some(duration) = overrides.duration {
            let staged = match &self.load.pacing {
                Pacing::Closed { vus, .. } => !vus.stages.is_empty(),
                Pacing::Open { rate, .. } => !rate.stages.is_empty(),
            };
            if staged {
                return Err(Diagnostic::flag(
                    "--duration",
                    "the scenario's stages set the run's length, and --duration would cut or stretch them",
                    "edit the stages' durations in the file, or replace the load shape with --rate or --vus",
                ));
            }
            self.load.stop.duration = Some(duration);
        }
        if let Some(iterations) = overrides.iterations {
            self.load.stop.iterations = Some(iterations);
        }
        if let Some(warmup) = overrides.warmup {
            self.load.warmup = warmup;
        }
        if self
            .load
            .stop
            .duration
            .is_some_and(|d| self.load.warmup >= d)
        {
            return Err(Diagnostic::flag(
                "--warmup",
                "the warmup is as long as the whole run",
                "make the warmup shorter than the duration, so something is measured",
            ));
        }
        Ok(())
    }

    fn apply_agents_and_mix(&mut self, overrides: &Overrides) -> Result<(), Diagnostic> {
        if !overrides.agent_ids.is_empty() {
            self.fixtures = overrides
                .agent_ids
                .iter()
                .map(|id| Fixture {
                    name: id.clone(),
                    kind: FixtureKind::Existing { id: id.clone() },
                })
                .collect();
            self.variants.matrix = None;
            // The file's entries named agents that are gone: they rotate over the given ones.
            for entry in &mut self.mix {
                if entry.agents != AgentChoice::None {
                    entry.agents = AgentChoice::All;
                }
            }
        }
        if overrides.body.is_some() && overrides.ops.is_empty() {
            return Err(Diagnostic::flag(
                "--body",
                "--body without --op",
                "give the ops the body is for, e.g. --op run --body '{\"messages\": [...]}'",
            ));
        }
        if overrides.body.is_some() && !overrides.ops.iter().any(|(op, _)| op.takes_body()) {
            let names: Vec<&str> = overrides.ops.iter().map(|(op, _)| op.name()).collect();
            return Err(Diagnostic::flag(
                "--body",
                format!("no op given takes a body ({} send none)", names.join(", ")),
                "drop --body, or add an op that takes one: run, run_stream, patch, create or lifecycle",
            ));
        }
        if !overrides.ops.is_empty() {
            self.mix = overrides
                .ops
                .iter()
                .map(|&(op, weight)| {
                    let body = match &overrides.body {
                        Some(body) if op.takes_body() => {
                            check_body(op, body).map_err(|(message, help)| {
                                Diagnostic::flag(
                                    "--body",
                                    format!("for --op {}: {message}", op.name()),
                                    help,
                                )
                            })?;
                            Some(body.clone())
                        }
                        _ => None,
                    };
                    let agents = if op == MixOp::List
                        || (self.fixtures.is_empty() && !op.targets_fixture())
                    {
                        AgentChoice::None
                    } else {
                        AgentChoice::All
                    };
                    Ok(MixEntry {
                        op,
                        weight,
                        agents,
                        body,
                        turns: 1,
                        callback: false,
                    })
                })
                .collect::<Result<_, Diagnostic>>()?;
        }
        if let Some(model) = &overrides.model {
            self.template.model = model.clone();
        }
        if let Some(prompt) = &overrides.system_prompt {
            self.template.system_prompt = prompt.clone();
        }
        if !overrides.objectives.is_empty() {
            self.objectives = crate::metrics::slo::Objectives::new(overrides.objectives.clone());
        }
        let needs_agent = self.mix.iter().any(|m| m.op.targets_fixture());
        let made_temporary = needs_agent && self.fixtures.is_empty();
        if made_temporary {
            self.fixtures.push(Fixture {
                name: "temporary".to_owned(),
                kind: FixtureKind::Create {
                    model: self.template.model.clone(),
                    system_prompt: self.template.system_prompt.clone(),
                    extra: Map::new(),
                },
            });
            for entry in self.mix.iter_mut().filter(|m| m.op.targets_fixture()) {
                entry.agents = AgentChoice::All;
            }
        }
        let creates_untemplated = self.mix.iter().any(|m| {
            matches!(m.op, MixOp::Create | MixOp::Delete | MixOp::Lifecycle)
                && m.agents == AgentChoice::None
        });
        for (flag, given) in [
            ("--model", overrides.model.is_some()),
            ("--system-prompt", overrides.system_prompt.is_some()),
        ] {
            if given && !made_temporary && !creates_untemplated {
                return Err(Diagnostic::flag(
                    flag,
                    format!(
                        "{flag} would change nothing: every agent this run uses or creates copies an [[agents]] entry or --agent-id"
                    ),
                    "drop the flag, or edit the model in the scenario's [[agents]]",
                ));
            }
        }
        Ok(())
    }

    /// What only the file and flags together can break.
    fn check_combination(&self) -> Result<(), Diagnostic> {
        let sent: Vec<Op> = self
            .mix
            .iter()
            .flat_map(|entry| entry.op.endpoints())
            .copied()
            .collect();
        for threshold in &self.thresholds {
            if let Some(problem) = unmeasurable(threshold, &sent) {
                return Err(Diagnostic::in_file(
                    &self.origin,
                    Some("thresholds"),
                    format!("threshold `{threshold}` can never be measured: {problem}"),
                    "judge an op the mix sends (--op replaces the file's mix), or drop the threshold",
                ));
            }
            if let Some(variant) = &threshold.variant
                && !self.fixtures.iter().any(|f| f.name == *variant)
            {
                return Err(Diagnostic::in_file(
                    &self.origin,
                    Some("thresholds"),
                    format!(
                        "threshold `{threshold}` names agent {variant:?}, which this run does not have"
                    ),
                    "--agent-id replaced the file's agents; drop the threshold or the flag",
                ));
            }
        }
        for objective in self.objectives.list() {
            if let Some(problem) = crate::metrics::slo::Objectives::unmeasurable(objective, &sent) {
                return Err(Diagnostic::in_file(
                    &self.origin,
                    Some("slo"),
                    format!("objective `{objective}` can never judge a request: {problem}"),
                    "bound a metric of an op the mix sends (see \"SLOs\" in scenarios/README.md); with --op, check the ops given",
                ));
            }
        }
        if let Some(url) = &self.target.base_url
            && self.mix.iter().any(|entry| entry.callback)
            && self.callback.public_url.is_none()
            && self.callback.listen.ip().is_loopback()
            && !is_loopback_url(url)
        {
            return Err(Diagnostic::in_file(
                &self.origin,
                Some("callback.public_url"),
                format!(
                    "the callback receiver listens on {}, which a server on another machine cannot reach",
                    self.callback.listen
                ),
                "set [callback] listen = \"0.0.0.0:9090\" and public_url = \"https://<this machine as the server sees it>:9090\"",
            ));
        }
        if self.target.base_url.is_some() {
            if self.target.team_id.is_none() {
                return Err(Diagnostic::in_file(
                    &self.origin,
                    Some("target.team_id"),
                    "a real target needs a team id, and none is set",
                    "add team_id = <your team id> under [target], or pass --team-id N",
                ));
            }
            if self.creates_agents() && self.target.make_connection_id.is_none() {
                return Err(Diagnostic::in_file(
                    &self.origin,
                    Some("target.make_connection_id"),
                    "this run creates agents, which on a real target needs the id of a Make connection",
                    "add make_connection_id = <id> under [target], or pass --make-connection-id N",
                ));
            }
        }
        Ok(())
    }
}
