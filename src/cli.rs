//! The command line: clap definitions, turned once into checked configuration. Nothing past this
//! module reads `Args`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::scenario::units::Rate;
use crate::scenario::units::{Spread, parse_duration};
use crate::scenario::{Arrival, MixOp, Overrides, TimeoutKind};

/// Load-testing and benchmarking for the AI Agents API.
#[derive(Debug, Parser)]
#[command(name = "agentload", version, about, long_about = None, propagate_version = true)]
#[command(after_help = "Examples:\n  \
    agentload run scenarios/smoke.toml                 # against the embedded simulator\n  \
    agentload run scenarios/smoke.toml --target https://eu1.make.com/api/v2 --team-id 123\n  \
    agentload validate scenarios/smoke.toml\n  \
    agentload mock --addr 127.0.0.1:8080\n\n\
    Exit codes: 0 passed, 1 a threshold failed, 2 invalid input or unreachable target, 130 interrupted.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (or a run given by flags alone) and write its report.
    #[command(after_help = "Examples:\n  \
        agentload run scenarios/smoke.toml\n  \
        agentload run scenarios/smoke.toml --vus 16 --duration 1m --out reports/trial\n  \
        agentload run scenarios/ramp.toml --rate 50/s --arrival poisson --warmup 10s\n  \
        agentload run --op run_stream:3 --op get --rate 20/s --duration 30s      # no file: the embedded simulator\n  \
        MAKE_API_TOKEN=... agentload run --target https://eu1.make.com/api/v2 --team-id 123 \\\n      \
        --op get --agent-id 4ebb9c59-ab75-41d5-8146-7407ce71f484 --rate 50/s --duration 10s\n\n\
        Without --target and without base_url in the file, the run goes to the embedded simulator.\n\
        Flags replace the file's values; --rate makes the load open (arrivals at a rate), --vus closed.\n\
        The report folder is reports/<UTC timestamp>-<scenario>/ unless --out names one.")]
    Run(RunArgs),
    /// Check a scenario without sending anything, and print the plan it would run.
    #[command(after_help = "Example:\n  agentload validate scenarios/smoke.toml")]
    Validate(ValidateArgs),
    /// Serve the simulator of the AI Agents API until Ctrl-C.
    #[command(after_help = "Examples:\n  \
        agentload mock --addr 127.0.0.1:8080 --token dev-token\n  \
        agentload mock --ttfs 200ms --step-gap 50ms --steps 3..6 --run-time 300ms..900ms --seed 7\n\n\
        Then: MAKE_API_TOKEN=dev-token agentload run scenarios/smoke.toml --target http://127.0.0.1:8080/api/v2 --team-id 1")]
    Mock(MockArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML); see scenarios/README.md. Without one, --op and the other flags
    /// describe the whole run.
    pub scenario: Option<PathBuf>,
    /// Base URL of the API, e.g. https://eu1.make.com/api/v2 (overrides target.base_url).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Environment variable holding the API token (default MAKE_API_TOKEN).
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Team id sent as teamId on every call (overrides target.team_id).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub team_id: Option<u64>,
    /// Make connection used by the agents the run creates (overrides target.make_connection_id).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub make_connection_id: Option<u64>,
    /// Report folder (default reports/<UTC timestamp>-<scenario>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Virtual users (overrides load.vus).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub vus: Option<u32>,
    /// How long to run, e.g. 30s or 2m (overrides load.duration; with --iterations, whichever ends first).
    #[arg(long, value_name = "D", value_parser = duration_flag)]
    pub duration: Option<Duration>,
    /// Iterations across all virtual users together (overrides load.iterations).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: Option<u64>,
    /// An op to run, with an optional weight: list, get, create, patch, delete, lifecycle, run,
    /// run_stream (repeatable; replaces the file's mix), e.g. --op run_stream:3.
    #[arg(long = "op", value_name = "OP[:WEIGHT]", value_parser = op_flag, help_heading = "Load from flags")]
    pub ops: Vec<(MixOp, u32)>,
    /// An existing agent to use (repeatable; replaces the file's agents; never deleted).
    #[arg(long = "agent-id", value_name = "ID", help_heading = "Load from flags")]
    pub agent_ids: Vec<String>,
    /// JSON body for the --op entries that take one (run ops need "messages").
    #[arg(long, value_name = "JSON", value_parser = json_flag, help_heading = "Load from flags")]
    pub body: Option<serde_json::Value>,
    /// Open model at this constant rate, e.g. 50/s, 300/min (replaces the file's load shape).
    #[arg(long, value_name = "R", value_parser = rate_flag, help_heading = "Load from flags")]
    pub rate: Option<Rate>,
    /// How open-model arrivals are spaced.
    #[arg(long, value_name = "constant|poisson", value_parser = arrival_flag, help_heading = "Load from flags")]
    pub arrival: Option<Arrival>,
    /// Open model: iterations in flight at most (then queue or drop, per the file; default queue).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Load from flags")]
    pub max_in_flight: Option<u32>,
    /// A leading period left out of the summary, e.g. 10s.
    #[arg(long, value_name = "D", value_parser = duration_flag, help_heading = "Load from flags")]
    pub warmup: Option<Duration>,
    /// Model of the temporary agent created when an op needs an agent and none is given.
    #[arg(long, value_name = "NAME", help_heading = "Load from flags")]
    pub model: Option<String>,
    /// System prompt of that temporary agent.
    #[arg(long, value_name = "TEXT", help_heading = "Load from flags")]
    pub system_prompt: Option<String>,
    /// A request limit, replacing target.timeout.KIND (repeatable): connect (DNS, TCP and TLS),
    /// first_step (send to the first streamed step), idle (between stream reads) or total
    /// (the whole request), e.g. --timeout first_step=5s --timeout total=1m. Each expiry is
    /// its own error class, timeout_KIND.
    #[arg(long = "timeout", value_name = "KIND=D", value_parser = timeout_flag)]
    pub timeouts: Vec<(TimeoutKind, Duration)>,
    /// Worker threads generating load (default: every core, or half of them when the target is
    /// on this machine, so the server keeps the rest).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress line and no chatter; the summary and errors are still printed.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
}

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub addr: SocketAddr,
    /// Token clients must send; read from MAKE_API_TOKEN when set, else one is generated and printed.
    #[arg(long, env = "MAKE_API_TOKEN", hide_env_values = true, value_name = "T")]
    pub token: Option<String>,
    /// Seed for every random choice (latencies, ids).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,
    /// Time to the first step: a duration or a range, e.g. 200ms or 150ms..350ms.
    #[arg(long, value_name = "D|A..B", value_parser = duration_spread_flag)]
    pub ttfs: Option<Spread<Duration>>,
    /// Gap between steps: a duration or a range.
    #[arg(long, value_name = "D|A..B", value_parser = duration_spread_flag)]
    pub step_gap: Option<Spread<Duration>>,
    /// Steps per stream (at least 3): a count or a range, e.g. 4 or 3..6.
    #[arg(long, value_name = "N|A..B", value_parser = steps_flag)]
    pub steps: Option<Spread<u32>>,
    /// Time a blocking run takes: a duration or a range.
    #[arg(long, value_name = "D|A..B", value_parser = duration_spread_flag)]
    pub run_time: Option<Spread<Duration>>,
}

impl RunArgs {
    /// The values that replace the scenario file's.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            target: self.target.clone(),
            token_env: self.token_env.clone(),
            team_id: self.team_id,
            make_connection_id: self.make_connection_id,
            vus: self.vus,
            duration: self.duration,
            iterations: self.iterations,
            ops: self.ops.clone(),
            agent_ids: self.agent_ids.clone(),
            body: self.body.clone(),
            rate: self.rate,
            arrival: self.arrival,
            max_in_flight: self.max_in_flight,
            warmup: self.warmup,
            model: self.model.clone(),
            system_prompt: self.system_prompt.clone(),
            timeouts: self.timeouts.clone(),
        }
    }
}

fn duration_flag(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(duration)
}

fn timeout_flag(text: &str) -> Result<(TimeoutKind, Duration), String> {
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

fn op_flag(text: &str) -> Result<(MixOp, u32), String> {
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

fn json_flag(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|err| format!("not valid JSON: {err}"))
}

fn rate_flag(text: &str) -> Result<Rate, String> {
    let rate = Rate::parse(text)?;
    if rate.as_per_second() <= 0.0 {
        return Err("the rate must be above zero".into());
    }
    Ok(rate)
}

fn arrival_flag(text: &str) -> Result<Arrival, String> {
    match text {
        "constant" => Ok(Arrival::Constant),
        "poisson" => Ok(Arrival::Poisson),
        _ => Err("choose constant or poisson".into()),
    }
}

fn duration_spread_flag(text: &str) -> Result<Spread<Duration>, String> {
    Spread::parse_duration(text)
}

fn steps_flag(text: &str) -> Result<Spread<u32>, String> {
    let steps = Spread::parse_count(text)?;
    if steps.lo < 3 {
        return Err("a stream has at least 3 steps (system, user, assistant)".into());
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_parse_into_overrides() {
        let cli = Cli::try_parse_from([
            "agentload",
            "run",
            "s.toml",
            "--vus",
            "4",
            "--duration",
            "2m",
            "--iterations",
            "10",
            "--team-id",
            "7",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("run")
        };
        let overrides = args.overrides();
        assert_eq!(overrides.vus, Some(4));
        assert_eq!(overrides.duration, Some(Duration::from_secs(120)));
        assert_eq!(overrides.iterations, Some(10));
        assert_eq!(overrides.team_id, Some(7));

        let cli = Cli::try_parse_from([
            "agentload",
            "run",
            "--op",
            "run_stream:3",
            "--op",
            "get",
            "--rate",
            "300/min",
            "--arrival",
            "poisson",
            "--body",
            r#"{"messages":[{"role":"user","content":"hi"}]}"#,
            "--warmup",
            "5s",
            "--duration",
            "1m",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("run")
        };
        assert_eq!(args.scenario, None);
        let overrides = args.overrides();
        assert_eq!(overrides.ops, [(MixOp::RunStream, 3), (MixOp::Get, 1)]);
        assert_eq!(overrides.rate.unwrap().as_per_second(), 5.0);
        assert_eq!(overrides.arrival, Some(Arrival::Poisson));
        assert_eq!(overrides.warmup, Some(Duration::from_secs(5)));
        assert_eq!(overrides.body.unwrap()["messages"][0]["content"], "hi");
    }

    #[test]
    fn bad_flags_are_rejected_by_clap() {
        for args in [
            vec!["agentload", "run", "s.toml", "--vus", "0"],
            vec!["agentload", "run", "s.toml", "--duration", "30"],
            vec!["agentload", "run", "s.toml", "--duration", "0s"],
            vec!["agentload", "mock", "--steps", "2"],
            vec!["agentload", "mock", "--ttfs", "300ms..100ms"],
            vec!["agentload", "run", "--op", "gett"],
            vec!["agentload", "run", "--op", "get:0"],
            vec!["agentload", "run", "--rate", "50"],
            vec!["agentload", "run", "--rate", "0/s"],
            vec!["agentload", "run", "--arrival", "bursty"],
            vec!["agentload", "run", "--body", "{nope"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
