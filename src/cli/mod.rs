//! The command line: the `agentload` parser and its subcommands, and `main_with`, which runs one
//! and says how it ended. Each subcommand's flags, their checks and its handler have a file of
//! their own here; nothing past this module reads `Args`.

use clap::{Parser, Subcommand};

pub mod cleanup;
pub mod compare;
pub mod completions;
mod flags;
pub mod merge;
pub mod mock;
pub mod report;
pub mod run;
pub mod sweep;
pub mod validate;

pub use crate::app::Exit;
pub(crate) use crate::app::{invalid, print_stdout, runtime};
pub use cleanup::CleanupArgs;
pub use compare::{CompareArgs, CompareFormat};
pub use completions::CompletionsArgs;
pub use merge::MergeArgs;
pub use mock::MockArgs;
pub use report::ReportArgs;
pub use run::RunArgs;
pub use sweep::SweepArgs;
pub use validate::ValidateArgs;

/// Load-testing and benchmarking for the AI Agents API.
#[derive(Debug, Parser)]
#[command(name = "agentload", version, about, long_about = None, propagate_version = true)]
#[command(after_help = "Examples:\n  \
    agentload run scenarios/smoke.toml                 # against the embedded simulator\n  \
    agentload run scenarios/smoke.toml --target https://eu1.make.com/api/v2 --team-id 123\n  \
    agentload validate scenarios/smoke.toml\n  \
    agentload mock --addr 127.0.0.1:8080\n  \
    agentload compare reports/baseline reports/latest  # exit 1 on a significant regression\n  \
    agentload run scenarios/smoke.toml --shard 0/4 --run-id nightly --start-at 2026-05-01T12:00:00Z\n  \
    agentload merge reports/shard-* --out reports/merged\n  \
    agentload cleanup --target https://eu1.make.com/api/v2 --team-id 123 --run-id 1a2b3c4d\n\n\
    Exit codes: 0 passed, 1 a threshold failed or a regression, 2 invalid input or unreachable target, 130 interrupted.")]
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
        --op get --agent-id 4ebb9c59-ab75-41d5-8146-7407ce71f484 --rate 50/s --duration 10s\n  \
        agentload run scenarios/mixed.toml --shard 2/4 --run-id nightly_0412 \\\n      \
        --start-at $(date -u -d '+2 min' +%Y-%m-%dT%H:%M:%SZ) --out reports/shard-2   # part 2 of 4\n\n\
        Without --target and without base_url in the file, the run goes to the embedded simulator.\n\
        Flags replace the file's values; --rate makes the load open (arrivals at a rate), --vus closed.\n\
        The report folder is reports/<UTC timestamp>-<scenario>/ unless --out names one.")]
    Run(Box<RunArgs>),
    /// Check a scenario without sending anything, and print the plan it would run.
    #[command(after_help = "Example:\n  agentload validate scenarios/smoke.toml")]
    Validate(ValidateArgs),
    /// Serve the simulator of the AI Agents API until Ctrl-C.
    #[command(after_help = "Examples:\n  \
        agentload mock --addr 127.0.0.1:8080 --token dev-token\n  \
        agentload mock --ttfs 200ms --step-gap 50ms --steps 3..6 --run-time 300ms..900ms --seed 7\n  \
        agentload mock --status 429=5% --status 503=1% --cut-after 2@10% --stall-between 3s@2% --seed 7\n  \
        agentload mock --rate-limit 60/min --fault-endpoints run,run_stream --ttfs-per-turn 100ms\n\n\
        Then: MAKE_API_TOKEN=dev-token agentload run scenarios/smoke.toml --target http://127.0.0.1:8080/api/v2 --team-id 1\n\
        Probabilities are percentages (5%) or fractions (0.05); N@P and D@P without @P mean always.\n\
        Each flag matches a key of [simulator] or [simulator.faults] in a scenario (see scenarios/README.md).")]
    Mock(MockArgs),
    /// Print a shell completion script for agentload.
    #[command(after_help = "Examples:\n  \
        agentload completions bash > ~/.local/share/bash-completion/completions/agentload\n  \
        agentload completions zsh > \"${fpath[1]}/_agentload\"\n  \
        agentload completions fish > ~/.config/fish/completions/agentload.fish")]
    Completions(CompletionsArgs),
    /// Compare a run with a baseline run: percentiles, change, significance, verdict per op and
    /// metric; exit 1 on a regression.
    #[command(after_help = "Examples:\n  \
        agentload compare reports/baseline reports/latest\n  \
        agentload compare reports/baseline reports/latest --metric run_stream.ttfs.p95 --metric errors --tolerance 5%\n  \
        agentload compare reports/baseline reports/latest --format markdown >> \"$GITHUB_STEP_SUMMARY\"\n\n\
        Each folder is the report folder of a run (summary.json, histograms.hlog, timeseries.csv).\n\
        Without --metric: latency, ttfs, inter_step and service_time at p95, and the error rate, of every op.\n\
        A metric regresses when it is significantly worse (Mann-Whitney U p < 0.01 and the bootstrap 99%\n\
        interval of the change leaves out 0) by more than the tolerance. See \"CI: thresholds and regressions\" in the README.\n\
        Exit codes: 0 no regression, 1 a regression, 2 a folder missing or unreadable.")]
    Compare(CompareArgs),
    /// Render a report folder again (summary.json, summary.md, report.html, timeseries.csv,
    /// histograms.hlog) from its stored data alone.
    #[command(after_help = "Examples:\n  \
        agentload report reports/20261129T083858Z-smoke                    # report.html and summary.md again, in place\n  \
        agentload report reports/20261129T083858Z-smoke --out /tmp/copy    # every file, into another folder\n\n\
        Reads summary.json, timeseries.csv and histograms.hlog; a missing or corrupt one exits 2 naming\n\
        the file and line. In place, those three are left untouched.")]
    Report(ReportArgs),
    /// Combine the report folders of a sharded run (--shard I/N) into the whole run's report.
    #[command(after_help = "Examples:\n  \
        agentload merge reports/shard-* --out reports/merged\n  \
        agentload merge results/nightly_0412/shard-* --out results/nightly_0412/merged\n\n\
        Histograms are merged exactly (HdrHistogram), counters summed, seconds lined up by the wall clock,\n\
        and the thresholds evaluated again on the whole: exit 1 if one fails. Folders of different runs\n\
        (--run-id) or scenarios, and a duplicate or missing shard, are refused (exit 2).")]
    Merge(MergeArgs),
    /// List, and with --yes delete, the agents a killed or crashed run left behind.
    #[command(after_help = "Examples:\n  \
        MAKE_API_TOKEN=... agentload cleanup --target https://eu1.make.com/api/v2 --team-id 123 --run-id 1a2b3c4d\n  \
        MAKE_API_TOKEN=... agentload cleanup --target https://eu1.make.com/api/v2 --team-id 123 --run-id 1a2b3c4d --yes\n  \
        MAKE_API_TOKEN=... agentload cleanup --target https://eu1.make.com/api/v2 --team-id 123 --prefix agentload- --yes\n\n\
        Every agent a run creates is named agentload-<run id>-...; the run id is in the run's summary.json\n\
        and in its warnings. Without --yes nothing is deleted: the agents that would be are listed.\n\
        Exit codes: 0 done, 1 some could not be deleted, 2 invalid flags or the target refused the listing.")]
    Cleanup(CleanupArgs),
    /// Run a scenario as an open model at successive rates, or search for the highest rate
    /// that meets its SLOs (capacity), and report each step and the answer.
    #[command(after_help = "Examples:\n  \
        agentload sweep scenarios/capacity.toml --rates 2/s,5/s,10/s,20/s --step-duration 20s\n  \
        agentload sweep scenarios/capacity.toml --search --min 2/s --max 200/s --precision 10%\n  \
        agentload sweep scenarios/smoke.toml --search --slo 'ttfs<=2s' --goodput-target 99%\n\n\
        Each step runs the scenario as an open model at one rate for --warmup plus --step-duration,\n\
        and writes its own report under DIR/steps/<rate>/; DIR/sweep.json and sweep.md hold the table.\n\
        A step passes when SLO attainment (good / requests) >= --goodput-target, the achieved rate is\n\
        within 5% of the offered rate, and at most 1% of iterations were dropped.\n\
        --search doubles from --min until a step fails, then bisects to --precision.\n\
        Exit codes: 0 a rate passed, 1 none did, 2 invalid input, 130 interrupted (what ran is written).")]
    Sweep(SweepArgs),
}

/// Runs a parsed command line.
pub fn main_with(cli: Cli) -> Exit {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Validate(args) => validate::validate(&args),
        Command::Mock(args) => mock::mock(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => merge::merge_shards(&args),
        Command::Cleanup(args) => cleanup::clean_up(&args),
        Command::Report(args) => report::rerender(&args),
        Command::Compare(args) => compare::compare(&args),
    }
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
    fn bad_flags_are_rejected_by_clap() {
        for args in [
            vec!["agentload", "run", "s.toml", "--vus", "0"],
            vec!["agentload", "run", "s.toml", "--duration", "30"],
            vec!["agentload", "run", "s.toml", "--duration", "0s"],
            vec!["agentload", "mock", "--steps", "2"],
            vec!["agentload", "mock", "--ttfs", "300ms..100ms"],
            vec!["agentload", "mock", "--status", "429"],
            vec!["agentload", "mock", "--status", "200=5%"],
            vec!["agentload", "mock", "--rate-limit", "0"],
            vec!["agentload", "mock", "--rate-limit", "5/s"],
            vec!["agentload", "mock", "--fault-endpoints", "runs"],
            vec!["agentload", "mock", "--cut-after", "x@5%"],
            vec!["agentload", "mock", "--stall-first", "5@5%"],
            vec!["agentload", "mock", "--malformed", "150%"],
            vec!["agentload", "mock", "--callback-drop", "5"],
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
