//! `agentload mock`: its flags, the simulator config they make, and serving it until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::flags::{duration_spread_flag, steps_flag};
use super::{Exit, invalid, print_stdout, runtime};
use crate::app::signals::wait_for_signal;
use crate::model::units::{Spread, parse_duration};
use crate::scenario::Diagnostic;
use crate::sim::faults::{self, Chance, Cut, Endpoints, RateLimit, Stall, StatusFault};
use crate::sim::{Profile, SimConfig};

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
    /// Added to the time to the first step (and to a blocking run's time) for each turn of a
    /// thread after the first, e.g. 100ms: later turns of a conversation are slower.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub ttfs_per_turn: Option<Duration>,
    /// Answer with an error status with probability P, instead of the real response
    /// (repeatable; at most 100% together), e.g. --status 429=5% --status 503=1%.
    #[arg(long = "status", value_name = "CODE=P", value_parser = StatusFault::parse, help_heading = "Faults")]
    pub status: Vec<StatusFault>,
    /// Requests per organization (teamId) per minute; the rest of the minute gets 429 with the
    /// documented message and Retry-After, e.g. 60/min (the plans have 60, 120, 240, 1000).
    #[arg(long, value_name = "N[/min]", value_parser = RateLimit::parse, help_heading = "Faults")]
    pub rate_limit: Option<RateLimit>,
    /// The endpoints --status and --rate-limit apply to (default: all), e.g. run,run_stream.
    #[arg(long, value_name = "OP,...", value_parser = Endpoints::parse, help_heading = "Faults")]
    pub fault_endpoints: Option<Endpoints>,
    /// Close a stream's connection after N steps (or A..B) with probability P, e.g. 2@10%.
    #[arg(long, value_name = "N[@P]", value_parser = Cut::parse, help_heading = "Faults")]
    pub cut_after: Option<Cut>,
    /// Hold a stream's first step (or a blocking run's answer) back by D with probability P,
    /// e.g. 5s@10%.
    #[arg(long, value_name = "D[@P]", value_parser = Stall::parse, help_heading = "Faults")]
    pub stall_first: Option<Stall>,
    /// Hold each later step of a stream back by D with probability P, e.g. 3s@2%.
    #[arg(long, value_name = "D[@P]", value_parser = Stall::parse, help_heading = "Faults")]
    pub stall_between: Option<Stall>,
    /// Send one step of a stream with data that is not JSON, with probability P, e.g. 1%.
    #[arg(long, value_name = "P", value_parser = Chance::parse, help_heading = "Faults")]
    pub malformed: Option<Chance>,
    /// Answer a stream with 200 and application/json instead of text/event-stream, with
    /// probability P.
    #[arg(long, value_name = "P", value_parser = Chance::parse, help_heading = "Faults")]
    pub wrong_content_type: Option<Chance>,
    /// Never send a run's result to its callbackUrl, with probability P.
    #[arg(long, value_name = "P", value_parser = Chance::parse, help_heading = "Faults")]
    pub callback_drop: Option<Chance>,
}

impl MockArgs {
    /// The simulator these flags describe, accepting `token`.
    pub fn sim_config(&self, token: String) -> Result<SimConfig, Diagnostic> {
        let mut config = SimConfig::new(token);
        config.seed = self.seed;
        let defaults = Profile::default();
        let run_faults = &defaults.faults;
        config.default_profile = Profile {
            ttfs: self.ttfs.unwrap_or(defaults.ttfs),
            step_gap: self.step_gap.unwrap_or(defaults.step_gap),
            steps: self.steps.unwrap_or(defaults.steps),
            run_time: self.run_time.unwrap_or(defaults.run_time),
            ttfs_per_turn: self.ttfs_per_turn.unwrap_or(defaults.ttfs_per_turn),
            faults: faults::RunFaults {
                cut_after: self.cut_after.or(run_faults.cut_after),
                stall_first: self.stall_first.or(run_faults.stall_first),
                stall_between: self.stall_between.or(run_faults.stall_between),
                malformed: self.malformed.unwrap_or(run_faults.malformed),
                wrong_content_type: self
                    .wrong_content_type
                    .unwrap_or(run_faults.wrong_content_type),
                callback_drop: self.callback_drop.unwrap_or(run_faults.callback_drop),
            },
        };
        config.faults.status = faults::check_statuses(self.status.clone()).map_err(|message| {
            Diagnostic::flag(
                "--status",
                message.to_string(),
                "give each status once, e.g. --status 429=5% --status 503=1%",
            )
        })?;
        config.faults.rate_limit = self.rate_limit;
        config.faults.endpoints = self.fault_endpoints.unwrap_or_default();
        Ok(config)
    }
}

/// `agentload mock`
pub fn mock(args: &MockArgs) -> Exit {
    let (token, generated) = match &args.token {
        Some(token) if !token.trim().is_empty() => (token.trim().to_owned(), false),
        _ => (crate::engine::target::random_hex(16), true),
    };
    let config = match args.sim_config(token.clone()) {
        Ok(config) => config,
        Err(diagnostic) => return invalid(diagnostic),
    };
    let faults = config.faults_summary();
    // Each client stream is a file here too; the limit is raised for them, nothing to check.
    crate::app::rlimit::raise();
    let runtime = runtime();
    runtime.block_on(async {
        let server = match crate::sim::SimServer::start(config, args.addr).await {
            Ok(server) => server,
            Err(err) => return invalid(format!("--addr {}: cannot listen: {err}", args.addr)),
        };
        let mut banner = format!("agentload mock listening on {}\n", server.base_url());
        if generated {
            banner += &format!(
                "token: {token}  (export MAKE_API_TOKEN={token} for agentload run --target ...)\n"
            );
        }
        if let Some(faults) = faults {
            banner += &format!("faults: {faults}\n");
        }
        banner += "press Ctrl-C to stop\n";
        print_stdout(&banner);
        wait_for_signal().await;
        // Streams in flight may finish (a stalled one can take long): a second Ctrl-C stops now.
        eprintln!(
            "agentload mock: stopping; requests in flight may finish (Ctrl-C again to stop now)"
        );
        tokio::select! {
            () = server.shutdown() => {}
            () = wait_for_signal() => {}
        }
        Exit::Passed
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn mock_flags_make_the_simulator_s_config() {
        let cli = Cli::try_parse_from([
            "agentload",
            "mock",
            "--seed",
            "9",
            "--ttfs",
            "20ms",
            "--ttfs-per-turn",
            "100ms",
            "--status",
            "503=1%",
            "--status",
            "429=5%",
            "--rate-limit",
            "60/min",
            "--fault-endpoints",
            "run,run_stream",
            "--cut-after",
            "2@10%",
            "--stall-first",
            "5s@10%",
            "--stall-between",
            "1s..2s",
            "--malformed",
            "1%",
            "--wrong-content-type",
            "0.02",
            "--callback-drop",
            "50%",
        ])
        .unwrap();
        let Command::Mock(args) = cli.command else {
            panic!("mock")
        };
        let config = args.sim_config("t".into()).unwrap();
        assert_eq!(config.seed, 9);
        let profile = &config.default_profile;
        assert_eq!(profile.ttfs, Spread::fixed(Duration::from_millis(20)));
        assert_eq!(profile.steps, Profile::default().steps);
        assert_eq!(profile.ttfs_per_turn, Duration::from_millis(100));
        let statuses: Vec<u16> = config.faults.status.iter().map(|f| f.status).collect();
        assert_eq!(statuses, [429, 503], "ordered by status");
        assert_eq!(config.faults.rate_limit, Some(RateLimit { per_minute: 60 }));
        assert_eq!(config.faults.endpoints.to_string(), "run,run_stream");
        let run = &profile.faults;
        assert_eq!(run.cut_after.unwrap().to_string(), "2@10%");
        assert_eq!(run.stall_first.unwrap().to_string(), "5s@10%");
        assert_eq!(run.stall_between.unwrap().to_string(), "1s..2s@100%");
        assert_eq!(run.malformed.to_string(), "1%");
        assert_eq!(run.wrong_content_type.to_string(), "2%");
        assert_eq!(run.callback_drop.to_string(), "50%");

        let quiet = Cli::try_parse_from(["agentload", "mock"]).unwrap();
        let Command::Mock(args) = quiet.command else {
            panic!("mock")
        };
        let config = args.sim_config("t".into()).unwrap();
        assert_eq!(config.default_profile, Profile::default());
        assert!(config.faults.is_empty());
        assert_eq!(config.faults.endpoints, Endpoints::ALL);
    }

    #[test]
    fn status_flags_are_checked_together() {
        for (flags, expect) in [
            (["429=5%", "429=1%"], "429 is given twice"),
            (["429=60%", "503=50%"], "more than 100%"),
        ] {
            let mut args = vec!["agentload", "mock"];
            for flag in flags {
                args.extend(["--status", flag]);
            }
            let Command::Mock(args) = Cli::try_parse_from(&args).unwrap().command else {
                panic!("mock")
            };
            let err = args.sim_config("t".into()).unwrap_err();
            assert_eq!(err.origin, "--status");
            assert!(err.message.contains(expect), "{err}");
        }
    }
}
