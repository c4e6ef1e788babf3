//! The command line: clap definitions, turned once into checked configuration. Nothing past this
//! module reads `Args`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand};

use crate::engine::shard::{self, Shard};
use crate::metrics::slo::Objective;
use crate::metrics::threshold::Threshold;
use crate::model::TimeoutKind;
use crate::model::units::Rate;
use crate::model::units::{Spread, parse_byte_size, parse_duration};
use crate::scenario::{Arrival, Diagnostic, MixOp, Overrides};
use crate::sim::faults::{self, Chance, Cut, Endpoints, RateLimit, Stall, StatusFault};
use crate::sim::{Profile, SimConfig};

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

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("rates_or_search").required(true).args(["rates", "search"])))]
pub struct SweepArgs {
    /// The scenario file (TOML); its load shape is replaced by each step's rate.
    pub scenario: PathBuf,
    /// The rates to run, comma-separated, e.g. 1/s,2/s,5/s,10/s (each once, lowest first).
    #[arg(long, value_name = "R,...", value_delimiter = ',', value_parser = rate_flag)]
    pub rates: Vec<Rate>,
    /// Search for the highest rate that passes: double from --min until a step fails, then
    /// bisect to --precision.
    #[arg(long)]
    pub search: bool,
    /// The search's first rate (default 1/s).
    #[arg(long, value_name = "R", value_parser = rate_flag)]
    pub min: Option<Rate>,
    /// The search's highest rate (default 1000/s).
    #[arg(long, value_name = "R", value_parser = rate_flag)]
    pub max: Option<Rate>,
    /// Stop searching when the highest pass and the lowest failure are this close, as a
    /// percentage of the pass (default 10%).
    #[arg(long, value_name = "PCT", value_parser = percent_flag)]
    pub precision: Option<f64>,
    /// The measured part of each step.
    #[arg(long, value_name = "D", default_value = "30s", value_parser = duration_flag)]
    pub step_duration: Duration,
    /// Load before each step's measured part, left out of it (default: the scenario's
    /// load.warmup, else 5s).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub warmup: Option<Duration>,
    /// Idle time between steps, e.g. to let a per-minute rate limit window or an autoscaler
    /// settle.
    #[arg(long, value_name = "D", default_value = "0s", value_parser = parse_duration)]
    pub pause: Duration,
    /// A service-level objective (repeatable; replaces the file's [slo]), e.g. --slo 'ttfs<=2s'.
    #[arg(long = "slo", value_name = "EXPR", value_parser = slo_flag)]
    pub slos: Vec<Objective>,
    /// SLO attainment (good / requests) a step needs to pass.
    #[arg(long, value_name = "PCT", default_value = "95%", value_parser = percent_flag)]
    pub goodput_target: f64,
    /// Sweep folder (default reports/<UTC timestamp>-<scenario>-sweep/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Base URL of the API (overrides target.base_url); without one, the embedded simulator.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Environment variable holding the API token (default MAKE_API_TOKEN).
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Team id sent as teamId on every call (overrides target.team_id).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub team_id: Option<u64>,
    /// Make connection used by the agents the sweep creates (overrides target.make_connection_id).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub make_connection_id: Option<u64>,
    /// Worker threads generating load (default as for run).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines; the table and errors are still printed.
    #[arg(long, short)]
    pub quiet: bool,
}

impl SweepArgs {
    /// The checked sweep these flags describe.
    pub fn config(&self) -> Result<crate::sweep::SweepConfig, Diagnostic> {
        use crate::sweep::{self, Rates};
        // clap counts a flag's default as present, so `requires = "search"` cannot say this.
        for (flag, given) in [
            ("--min", self.min.is_some()),
            ("--max", self.max.is_some()),
            ("--precision", self.precision.is_some()),
        ] {
            if given && !self.search {
                return Err(Diagnostic::flag(
                    flag,
                    format!("{flag} shapes a search, and --rates gives the rates"),
                    "add --search (and drop --rates), or drop the flag",
                ));
            }
        }
        let rates = if self.search {
            let min = self.min.map_or(sweep::DEFAULT_MIN, Rate::as_per_second);
            let max = self.max.map_or(sweep::DEFAULT_MAX, Rate::as_per_second);
            if max < min {
                return Err(Diagnostic::flag(
                    "--max",
                    format!("--max {max}/s is below --min {min}/s"),
                    "give a --max above --min, e.g. --min 1/s --max 500/s",
                ));
            }
            let precision = self.precision.unwrap_or(sweep::DEFAULT_PRECISION);
            if precision <= 0.0 {
                return Err(Diagnostic::flag(
                    "--precision",
                    "the precision must be above 0%",
                    "e.g. --precision 10%",
                ));
            }
            Rates::Search {
                min,
                max,
                precision,
            }
        } else {
            let mut rates: Vec<f64> = self.rates.iter().map(|r| r.as_per_second()).collect();
            rates.sort_by(f64::total_cmp);
            rates.dedup();
            Rates::Given(rates)
        };
        Ok(sweep::SweepConfig {
            scenario: self.scenario.clone(),
            rates,
            step: self.step_duration,
            warmup: self.warmup,
            pause: self.pause,
            goodput_target: self.goodput_target,
            out: self.out.clone(),
            overrides: Overrides {
                target: self.target.clone(),
                token_env: self.token_env.clone(),
                team_id: self.team_id,
                make_connection_id: self.make_connection_id,
                objectives: self.slos.clone(),
                ..Overrides::default()
            },
            threads: self.threads.map(usize::from),
            quiet: self.quiet,
        })
    }
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["run_id", "prefix"]))]
pub struct CleanupArgs {
    /// Base URL of the API, e.g. https://eu1.make.com/api/v2.
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// The team whose agents to look through.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub team_id: u64,
    /// Environment variable holding the API token.
    #[arg(long, value_name = "NAME", default_value = crate::scenario::DEFAULT_TOKEN_ENV)]
    pub token_env: String,
    /// The run whose agents to delete: those named agentload-ID-.
    #[arg(long, value_name = "ID", value_parser = run_id_flag)]
    pub run_id: Option<String>,
    /// Delete agents whose names start with P, which must start with agentload-
    /// (agentload- alone: every run's leftovers, also of runs still going).
    #[arg(long, value_name = "P", value_parser = prefix_flag)]
    pub prefix: Option<String>,
    /// Delete them; without it, only list what would be deleted.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' report folders (each run with --shard I/N and the same --run-id).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged report.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A report folder written by `agentload run`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to write the rendered files (created if missing); default: DIR itself.
    #[arg(long, value_name = "DIR2")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline run's report folder.
    pub baseline: PathBuf,
    /// The current run's report folder.
    pub current: PathBuf,
    /// What to compare (repeatable): [OP.]METRIC[.STAT] or [OP.]errors, e.g. run_stream.ttfs.p95,
    /// ttfs (every op, p95), latency.p99, errors. Default: latency, ttfs, inter_step and
    /// service_time at p95, and the error rate.
    #[arg(long = "metric", value_name = "SPEC", value_parser = crate::compare::MetricSpec::parse)]
    pub metrics: Vec<crate::compare::MetricSpec>,
    /// A significant change smaller than this percentage of the baseline is not a regression.
    #[arg(long, value_name = "PCT", default_value = "10%", value_parser = crate::compare::parse_percent)]
    pub tolerance: f64,
    /// A significant rise of an error rate smaller than this many percentage points is not a
    /// regression.
    #[arg(long, value_name = "PP", default_value = "1", value_parser = crate::compare::parse_percent)]
    pub error_tolerance: f64,
    /// A change of a time smaller than this many milliseconds is not a regression, whatever its
    /// percentage (scheduling noise on a busy machine is a few ms); 0 to judge every change.
    #[arg(long, value_name = "MS", default_value = "5", value_parser = crate::compare::parse_ms)]
    pub min_change: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CompareFormat::Terminal)]
    pub format: CompareFormat,
    /// Write the output to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    Terminal,
    Markdown,
}

impl CompareArgs {
    /// How to judge, from the flags.
    pub fn options(&self) -> crate::compare::Options {
        crate::compare::Options {
            metrics: self.metrics.clone(),
            tolerance_pct: self.tolerance,
            error_tolerance_pp: self.error_tolerance,
            min_change_ms: self.min_change,
            ..crate::compare::Options::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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
    /// The largest SSE event a stream may carry, in B, KiB or MiB (overrides
    /// target.max_event_size; default 1MiB), e.g. --max-event-size 64KiB. A larger event fails
    /// its stream as sse_protocol.
    #[arg(long, value_name = "SIZE", value_parser = parse_byte_size)]
    pub max_event_size: Option<usize>,
    /// A service-level objective (repeatable; replaces the file's [slo] as a whole): a request
    /// is good when it succeeded and meets every objective of its op, e.g. --slo 'ttfs<=2s'
    /// --slo 'run_stream.latency<=20s'. The summary reports goodput and attainment.
    #[arg(long = "slo", value_name = "EXPR", value_parser = slo_flag)]
    pub slos: Vec<Objective>,
    /// Worker threads generating load (default: every core, or half of them when the target is
    /// on this machine, so the server keeps the rest).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Serve live counters and histograms for Prometheus at http://ADDR/metrics while the run
    /// goes, e.g. --metrics-addr 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// A pass/fail criterion added to the scenario's [thresholds] (repeatable): `KEY CMP VALUE`,
    /// e.g. --threshold 'run_stream.ttfs.p95 < 1500ms' --threshold 'errors.rate < 1%'.
    /// Any that fails exits 1 (see "[thresholds]" in scenarios/README.md).
    #[arg(long = "threshold", value_name = "EXPR", value_parser = threshold_flag)]
    pub thresholds: Vec<Threshold>,
    /// Compare this run with a baseline run's report folder when it ends, as `agentload compare`
    /// does: in the terminal, summary.md, summary.json and junit.xml; a regression exits 1.
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: a significant change smaller than this percentage is not a regression.
    #[arg(long, value_name = "PCT", requires = "baseline", value_parser = crate::compare::parse_percent)]
    pub tolerance: Option<f64>,
    /// With --baseline: what to compare (repeatable), as `agentload compare --metric`.
    #[arg(long = "metric", value_name = "SPEC", requires = "baseline", value_parser = crate::compare::MetricSpec::parse)]
    pub baseline_metrics: Vec<crate::compare::MetricSpec>,
    /// Also write requests.csv: one row per request (its timeline, op, agent, status, error
    /// class, steps), streamed to disk as the run goes.
    #[arg(long)]
    pub log_requests: bool,
    /// No progress line and no chatter; the summary and errors are still printed.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run only part I of N of the plan (I from 0), e.g. --shard 2/4: arrivals I, I+N, ... of
    /// the schedule (Poisson: rate/N), virtual users I, I+N, ..., and 1/N of iterations and
    /// in-flight slots. In a Kubernetes Indexed Job: --shard $(JOB_COMPLETION_INDEX)/N.
    /// Combine the shards' folders with `agentload merge`.
    #[arg(long, value_name = "I/N", value_parser = shard_flag, requires = "run_id", help_heading = "Sharded runs")]
    pub shard: Option<Shard>,
    /// The run's id, shared by every shard: names of the agents it creates start with
    /// agentload-ID- (1 to 32 letters, digits or _). Default: a random one.
    #[arg(long, value_name = "ID", value_parser = run_id_flag, help_heading = "Sharded runs")]
    pub run_id: Option<String>,
    /// Start the plan at this instant (RFC 3339, UTC), after setting up: every shard given the
    /// same time starts together, e.g. --start-at 2026-05-01T12:00:00Z. Must be in the future
    /// and at most 24 hours ahead.
    #[arg(long, value_name = "RFC3339", value_parser = start_at_flag, help_heading = "Sharded runs")]
    pub start_at: Option<SystemTime>,
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
                message,
                "give each status once, e.g. --status 429=5% --status 503=1%",
            )
        })?;
        config.faults.rate_limit = self.rate_limit;
        config.faults.endpoints = self.fault_endpoints.unwrap_or_default();
        Ok(config)
    }
}

impl RunArgs {
    /// How `--baseline` judges.
    pub fn compare_options(&self) -> crate::compare::Options {
        let defaults = crate::compare::Options::default();
        crate::compare::Options {
            metrics: self.baseline_metrics.clone(),
            tolerance_pct: self.tolerance.unwrap_or(defaults.tolerance_pct),
            ..defaults
        }
    }

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
            max_event_bytes: self.max_event_size,
            objectives: self.slos.clone(),
            thresholds: self.thresholds.clone(),
        }
    }
}

/// A percentage (`95%`) or a fraction (`0.95`), from 0 to 100%, as a fraction.
fn percent_flag(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(number) => number.trim().parse::<f64>().map(|v| v / 100.0),
        None => text.parse::<f64>(),
    }
    .map_err(|_| format!("{text:?} is not a percentage; write e.g. 95%"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{text} is outside 0..100%"));
    }
    Ok(value)
}

fn slo_flag(text: &str) -> Result<Objective, String> {
    Objective::parse_expr(text)
}

fn shard_flag(text: &str) -> Result<Shard, String> {
    Shard::parse(text)
}

fn run_id_flag(text: &str) -> Result<String, String> {
    shard::check_run_id(text)
}

fn prefix_flag(text: &str) -> Result<String, String> {
    crate::cleanup::check_prefix(text)
}

fn start_at_flag(text: &str) -> Result<SystemTime, String> {
    shard::check_start_at(text, SystemTime::now())
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

fn threshold_flag(text: &str) -> Result<Threshold, String> {
    Threshold::parse_expr(text)
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
