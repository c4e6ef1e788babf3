//! What `agentload validate` prints: the plan in words (the `Display` of [`Plan`], of its
//! [`Load`] and of a variants [`Matrix`]), apart from the plan's types so they stay data.

use std::fmt;
use std::time::Duration;

use super::plan::{
    AgentChoice, Fixture, FixtureKind, Load, Matrix, MixOp, Pacing, Plan, RetryAfter, Saturation,
};

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "scenario  {} ({})", self.name, self.origin)?;
        if let Some(description) = &self.description {
            writeln!(f, "          {description}")?;
        }
        let t = &self.target;
        match &t.base_url {
            Some(url) => writeln!(
                f,
                "target    {url} (team {}, token from ${})",
                t.team_id(),
                t.token_env
            )?,
            None => writeln!(
                f,
                "target    embedded simulator on a loopback port (team {})",
                t.team_id()
            )?,
        }
        writeln!(
            f,
            "timeouts  connect {}, first step {}, idle {}, total {}",
            human(t.timeouts.connect),
            human(t.timeouts.first_step),
            human(t.timeouts.idle),
            human(t.timeouts.total)
        )?;
        if self.mix.iter().any(|entry| entry.op == MixOp::RunStream) {
            writeln!(
                f,
                "events    {} at most (max_event_size); a larger one fails its stream as sse_protocol",
                crate::model::units::format_byte_size(t.max_event_bytes)
            )?;
        }
        if t.retry_after == RetryAfter::Honour {
            writeln!(
                f,
                "429s      waited out as Retry-After says and sent again, {} times at most",
                t.max_retries
            )?;
        }
        if self.mix.iter().any(|entry| entry.callback) {
            let cb = &self.callback;
            let public = cb
                .public_url
                .as_deref()
                .map_or_else(String::new, |url| format!(", reached at {url}"));
            writeln!(
                f,
                "callbacks received on {}{public}, within {} of the send",
                cb.listen,
                human(cb.timeout)
            )?;
        }
        writeln!(f, "load      {}", self.load)?;
        let stop = match (self.load.stop.duration, self.load.stop.iterations) {
            (Some(d), Some(n)) => format!(
                "after {} or {n} iterations, whichever comes first",
                human(d)
            ),
            (Some(d), None) => format!("after {}", human(d)),
            (None, Some(n)) => format!("after {n} iterations"),
            (None, None) => "never".to_owned(),
        };
        writeln!(
            f,
            "stop      {stop}; in-flight requests get {} grace",
            human(self.load.grace)
        )?;
        let matrix = self.variants.matrix.as_ref();
        let in_matrix = |name: &str| matrix.is_some_and(|m| m.cell(name).is_some());
        let listed: Vec<&Fixture> = self
            .fixtures
            .iter()
            .filter(|fixture| !in_matrix(&fixture.name))
            .collect();
        if !listed.is_empty() || matrix.is_none() {
            writeln!(
                f,
                "agents    {}",
                if listed.is_empty() { "none" } else { "" }
            )?;
        }
        for fixture in listed {
            match &fixture.kind {
                FixtureKind::Create { model, .. } => {
                    writeln!(f, "  {:<16} created in setup, model {model}", fixture.name)?
                }
                FixtureKind::Existing { id } => writeln!(
                    f,
                    "  {:<16} existing agent {id} (not deleted)",
                    fixture.name
                )?,
            }
        }
        if let Some(matrix) = matrix {
            writeln!(f, "variants  {matrix}")?;
            let width = matrix
                .names
                .iter()
                .map(String::len)
                .max()
                .unwrap_or(0)
                .max(16);
            for name in &matrix.names {
                let (m, p) = matrix.cell(name).expect("the matrix's own names");
                writeln!(
                    f,
                    "  {name:<width$} model {}, prompt {}: {:?}",
                    matrix.models[m],
                    p + 1,
                    ellipsis(&matrix.system_prompts[p], 60)
                )?;
            }
        }
        if self.fixtures.len() > 1 || self.variants.rank_by.is_some() {
            let by = self.variants.rank_by.map_or_else(
                || "ttfs p50 for run_stream, latency p50 otherwise".to_owned(),
                |metric| format!("{metric} p50"),
            );
            writeln!(
                f,
                "ranking   variants ranked by {by}, 95% CIs, Mann-Whitney U with Holm's correction"
            )?;
        }
        let total: u64 = self.mix.iter().map(|m| u64::from(m.weight)).sum();
        writeln!(f, "mix")?;
        for entry in &self.mix {
            let agent = match entry.agents {
                AgentChoice::None => String::new(),
                AgentChoice::All => "  agent *".to_owned(),
                AgentChoice::One(v) => format!("  agent {}", self.fixtures[usize::from(v)].name),
            };
            let turns = if entry.turns > 1 {
                format!("  {} turns", entry.turns)
            } else {
                String::new()
            };
            let callback = if entry.callback { "  callback" } else { "" };
            writeln!(
                f,
                "  {:<11} weight {:>3} ({:>5.1}%){agent}{turns}{callback}",
                entry.op.name(),
                entry.weight,
                100.0 * f64::from(entry.weight) / total.max(1) as f64
            )?;
        }
        if !self.objectives.is_empty() {
            writeln!(f, "slo")?;
            for objective in self.objectives.list() {
                writeln!(f, "  {objective}")?;
            }
        }
        if !self.thresholds.is_empty() {
            writeln!(f, "thresholds")?;
            for threshold in &self.thresholds {
                writeln!(f, "  {}", threshold.describe())?;
            }
        }
        Ok(())
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let human = |d: Duration| humantime::format_duration(d).to_string();
        match &self.pacing {
            Pacing::Closed {
                vus,
                think_time,
                max_rate,
            } => {
                if vus.stages.is_empty() {
                    write!(
                        f,
                        "closed model, {} virtual user{}",
                        vus.start,
                        if vus.start == 1 { "" } else { "s" }
                    )?;
                } else {
                    write!(f, "closed model, virtual users {}", vus.start)?;
                    for stage in &vus.stages {
                        write!(f, " -> {} over {}", stage.target, human(stage.duration))?;
                    }
                }
                if let Some(think) = think_time {
                    write!(f, ", think time {think}")?;
                }
                if let Some(rate) = max_rate {
                    write!(f, ", at most {rate} iterations")?;
                }
            }
            Pacing::Open {
                rate,
                arrival,
                max_in_flight,
                saturation,
                max_queue,
            } => {
                if rate.stages.is_empty() {
                    write!(f, "open model, {} {arrival} arrivals", rate.start)?;
                } else {
                    write!(f, "open model, {arrival} arrivals from {}", rate.start)?;
                    for stage in &rate.stages {
                        write!(f, " -> {} over {}", stage.target, human(stage.duration))?;
                    }
                }
                write!(f, "; at most {max_in_flight} in flight, then {saturation}")?;
                if *saturation == Saturation::Queue {
                    write!(f, " (up to {max_queue} waiting)")?;
                }
            }
        }
        if !self.warmup.is_zero() {
            write!(
                f,
                "; the first {} are warmup, left out of the summary",
                human(self.warmup)
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, noun: &str| {
            if n == 1 {
                format!("1 {noun}")
            } else {
                format!("{n} {noun}s")
            }
        };
        write!(
            f,
            "{} × {} = {}, named \"{}\"",
            plural(self.models.len(), "model"),
            plural(self.system_prompts.len(), "system prompt"),
            plural(self.names.len(), "agent"),
            self.pattern
        )
    }
}
