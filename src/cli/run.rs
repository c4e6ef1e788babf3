//! `agentload run`: its flags, the overrides they make of a scenario, and the run itself, from
//! plan to report and exit code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::Args;

use super::flags::{
    arrival_flag, duration_flag, json_flag, op_flag, rate_flag, run_id_flag, shard_flag, slo_flag,
    start_at_flag, threshold_flag, timeout_flag,
};
use super::{Exit, invalid, print_stdout, runtime};
use crate::app::rlimit;
use crate::app::session::{self, Finished, Session, ShardPart};
use crate::app::signals::Interrupts;
use crate::engine::shard::Shard;
use crate::metrics::slo::Objective;
use crate::metrics::threshold::Threshold;
use crate::model::TimeoutKind;
use crate::model::units::{Rate, parse_byte_size};
use crate::scenario::{Arrival, MixOp, Overrides};
use crate::{compare, engine, report, scenario, store};

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

/// `agentload run`
pub fn run(args: &RunArgs) -> Exit {
    let overrides = args.overrides();
    let plan = match &args.scenario {
        Some(path) => scenario::load(path).and_then(|mut plan| {
            plan.apply(&overrides)?;
            Ok(plan)
        }),
        None => scenario::Plan::from_flags(&overrides),
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(diagnostic) => return invalid(diagnostic),
    };
    // Before any connection: thousands of streams need more files than the usual soft limit.
    if let Some(warning) = rlimit::shortfall(rlimit::raise(), rlimit::needed(&plan)) {
        eprintln!("{warning}");
    }
    // A shard runs its part: counts split here, rates and ramps by the engine.
    let shard = args.shard.unwrap_or_default();
    let plan = shard.apply(&plan);
    // Read before the run, so a baseline that cannot be compared with fails before any load.
    let baseline = match args
        .baseline
        .as_deref()
        .map(compare::RunData::load)
        .transpose()
    {
        Ok(baseline) => baseline,
        Err(err) => return invalid(format!("--baseline: {err}")),
    };
    let dir = match store::prepare(args.out.as_deref(), &plan.name, SystemTime::now()) {
        Ok(dir) => dir,
        Err(err) => return invalid(format!("--out: {err}")),
    };
    // A short id naming the run and every agent it creates.
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| engine::target::random_hex(4));
    let runtime = runtime();
    let interrupts = runtime.block_on(async {
        Interrupts::watch("\ninterrupted: stopping; in-flight requests are cancelled")
    });
    let session = Session {
        plan: &plan,
        dir: &dir,
        run_id: &run_id,
        engine: engine::Options {
            quiet: args.quiet,
            threads: args.threads.map(usize::from),
            goodput: false,
            shard,
            start_at: args.start_at,
        },
        log_requests: args.log_requests,
        metrics_addr: args.metrics_addr,
        abort_on_fail: true,
        baseline: baseline
            .as_ref()
            .map(|baseline| (baseline, args.compare_options())),
        shard_part: args.shard.map(|shard| ShardPart {
            shard,
            scenario_hash: scenario_hash(args),
            start_at: args.start_at,
        }),
    };
    let finished = session::run(&runtime, session, &interrupts);
    // Worker threads and the simulator are done; do not wait for idle connections to close.
    runtime.shutdown_background();
    let Finished {
        summary,
        teardown,
        written,
        ..
    } = match finished {
        Ok(finished) => finished,
        Err(err) => return invalid(err),
    };
    print_stdout(&report::terminal::render(&summary));
    match &written {
        Ok(_) => eprintln!("report: {}", dir.display()),
        Err(err) => eprintln!(
            "error: cannot write the report into {}: {err}",
            dir.display()
        ),
    }
    if !teardown.left.is_empty() {
        eprintln!(
            "warning: {} agent(s) the run created could not be deleted:",
            teardown.left.len()
        );
        for (id, why) in &teardown.left {
            eprintln!("  {id}: {why}");
        }
        eprintln!("  their names start with agentload-{run_id}-; delete them by hand");
    }
    if let Some(why) = &teardown.sweep_failed {
        eprintln!(
            "warning: could not list the team's agents to find leftovers of run {run_id} ({why}); agents whose create response was lost may remain, named agentload-{run_id}-..."
        );
    }
    eprint!("{}", report::terminal::verdict(&summary.verdict));
    if written.is_err() {
        return Exit::Invalid;
    }
    Exit::of(summary.verdict.outcome)
}

/// What makes shards' plans the same: the scenario file's bytes and the flags over it.
fn scenario_hash(args: &RunArgs) -> String {
    let file = args
        .scenario
        .as_ref()
        .and_then(|path| std::fs::read(path).ok())
        .unwrap_or_default();
    let flags = format!("{:?}", args.overrides());
    crate::app::shard_part::fingerprint(&[&file, flags.as_bytes()])
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

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
}
