//! The command line: clap definitions, turned once into checked configuration. Nothing past this
//! module reads `Args`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::scenario::Overrides;
use crate::scenario::units::{Spread, parse_duration};

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
    /// Run a scenario and write its report.
    #[command(after_help = "Examples:\n  \
        agentload run scenarios/smoke.toml\n  \
        agentload run scenarios/smoke.toml --vus 16 --duration 1m --out reports/trial\n  \
        MAKE_API_TOKEN=... agentload run scenarios/smoke.toml --target https://eu1.make.com/api/v2 --team-id 123 --make-connection-id 456\n\n\
        Without --target and without base_url in the file, the run goes to the embedded simulator.\n\
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
    /// The scenario file (TOML); see scenarios/README.md.
    pub scenario: PathBuf,
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
    }

    #[test]
    fn bad_flags_are_rejected_by_clap() {
        for args in [
            vec!["agentload", "run", "s.toml", "--vus", "0"],
            vec!["agentload", "run", "s.toml", "--duration", "30"],
            vec!["agentload", "run", "s.toml", "--duration", "0s"],
            vec!["agentload", "mock", "--steps", "2"],
            vec!["agentload", "mock", "--ttfs", "300ms..100ms"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
