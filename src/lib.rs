//! agentload: a load-testing and benchmarking harness for the AI Agents API. One public entry
//! point per subcommand; `main.rs` only parses arguments and maps the result to an exit code.

// `scenario::Diagnostic` (~150 bytes) is built once, on the error path of reading a scenario;
// boxing it everywhere would buy nothing.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod cleanup;
pub mod cli;
pub mod compare;
pub mod engine;
pub mod merge;
pub mod metrics;
pub mod report;
pub mod rlimit;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod sweep;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use cli::{Command, CompareArgs, MockArgs, RunArgs, ValidateArgs};
use engine::Control;

/// How a command ended, as an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: the run finished and every threshold held.
    Passed,
    /// 1: a threshold failed.
    Failed,
    /// 2: invalid input (scenario, flags) or a target unusable at setup.
    Invalid,
    /// 130: interrupted; the partial report was written and fixtures deleted.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Passed => 0,
            Exit::Failed => 1,
            Exit::Invalid => 2,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// Runs a parsed command line.
pub fn main_with(cli: cli::Cli) -> Exit {
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => validate(&args),
        Command::Mock(args) => mock(&args),
        Command::Completions(args) => completions(&args),
        Command::Sweep(args) => match args.config() {
            Ok(config) => sweep::run(&config),
            Err(diagnostic) => invalid(diagnostic),
        },
        Command::Merge(args) => merge_shards(&args),
        Command::Cleanup(args) => clean_up(&args),
        Command::Report(args) => rerender(&args),
        Command::Compare(args) => compare(&args),
    }
}

pub(crate) fn invalid(error: impl std::fmt::Display) -> Exit {
    eprintln!("error: {error}");
    Exit::Invalid
}

/// Writes to stdout, treating a closed pipe (`| head`) as success.
pub(crate) fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write to stdout: {err}");
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("agentload-main")
        .build()
        .expect("the tokio runtime starts")
}

/// `agentload validate`
pub fn validate(args: &ValidateArgs) -> Exit {
    // The same checks as `run` makes before sending anything, flags aside.
    let checked = scenario::load(&args.scenario).and_then(|mut plan| {
        plan.apply(&scenario::Overrides::default())?;
        Ok(plan)
    });
    match checked {
        Ok(plan) => {
            print_stdout(&format!(
                "{plan}ok: the scenario is valid; nothing was sent\n"
            ));
            Exit::Passed
        }
        Err(diagnostic) => invalid(diagnostic),
    }
}

/// `agentload compare BASELINE_DIR CURRENT_DIR`
pub fn compare(args: &CompareArgs) -> Exit {
    let load = |dir: &std::path::Path| compare::RunData::load(dir).map_err(invalid);
    let (baseline, current) = match (load(&args.baseline), load(&args.current)) {
        (Ok(baseline), Ok(current)) => (baseline, current),
        (Err(exit), _) | (_, Err(exit)) => return exit,
    };
    let comparison = match compare::compare(&baseline, &current, &args.options()) {
        Ok(comparison) => comparison,
        Err(message) => return invalid(message),
    };
    let text = match args.format {
        cli::CompareFormat::Terminal => compare::render::terminal(&comparison),
        cli::CompareFormat::Markdown => compare::render::markdown(&comparison),
    };
    match &args.out {
        Some(path) => {
            if let Err(err) = std::fs::write(path, &text) {
                return invalid(format!("--out: cannot write {}: {err}", path.display()));
            }
        }
        None => print_stdout(text.trim_start_matches('\n')),
    }
    if comparison.regressed {
        Exit::Failed
    } else {
        Exit::Passed
    }
}

/// `agentload completions SHELL`
fn completions(args: &cli::CompletionsArgs) -> Exit {
    use clap::CommandFactory;
    let mut command = cli::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "agentload", &mut script);
    print_stdout(&String::from_utf8_lossy(&script));
    Exit::Passed
}

/// `agentload merge`
pub fn merge_shards(args: &cli::MergeArgs) -> Exit {
    let summary = match merge::merge(&args.dirs, &args.out) {
        Ok(summary) => summary,
        Err(err) => return invalid(err),
    };
    if !args.quiet {
        print_stdout(&report::terminal::render(&summary));
        eprintln!("report: {}", args.out.display());
    }
    if summary.passed {
        Exit::Passed
    } else {
        let failed = summary.thresholds.iter().filter(|t| !t.ok).count();
        eprintln!("failed: {failed} threshold(s) did not hold on the merged result");
        Exit::Failed
    }
}

/// `agentload cleanup`
pub fn clean_up(args: &cli::CleanupArgs) -> Exit {
    let env = &args.token_env;
    let token = std::env::var(env).unwrap_or_default().trim().to_owned();
    if token.is_empty() {
        return invalid(format!(
            "${env}: the API token is read from the environment variable {env}, which is not set or empty\n  help: export {env}=<your API token>, or name another variable with --token-env"
        ));
    }
    if let Err(err) = url::Url::parse(&args.target) {
        return invalid(format!(
            "--target {}: not a URL ({err}); write e.g. https://eu1.make.com/api/v2",
            args.target
        ));
    }
    let prefix = match (&args.run_id, &args.prefix) {
        (Some(run_id), _) => engine::fixtures::name_prefix(run_id),
        (None, Some(prefix)) => prefix.clone(),
        (None, None) => unreachable!("clap requires --run-id or --prefix"),
    };
    let cleanup = cleanup::Cleanup {
        base_url: args.target.trim_end_matches('/').to_owned(),
        team_id: args.team_id,
        token,
        prefix: prefix.clone(),
    };
    let outcome = match runtime().block_on(cleanup.run(args.yes)) {
        Ok(outcome) => outcome,
        Err(err) => return invalid(format!("--target {}: {err}", args.target)),
    };
    let mut text = String::new();
    if outcome.found.is_empty() {
        text += &format!("no agents named {prefix}... in team {}\n", args.team_id);
    } else {
        let verb = if args.yes { "deleting" } else { "would delete" };
        text += &format!(
            "{verb} {} agent(s) named {prefix}... in team {}:\n",
            outcome.found.len(),
            args.team_id
        );
        for (id, name) in &outcome.found {
            text += &format!("  {id}  {name}\n");
        }
        if args.yes {
            text += &format!("deleted {}\n", outcome.deleted);
        } else {
            text += "dry run: nothing was deleted; run again with --yes to delete them\n";
        }
    }
    print_stdout(&text);
    if outcome.left.is_empty() {
        Exit::Passed
    } else {
        eprintln!(
            "error: {} agent(s) could not be deleted:",
            outcome.left.len()
        );
        for (id, why) in &outcome.left {
            eprintln!("  {id}: {why}");
        }
        Exit::Failed
    }
}

/// `agentload report`
pub fn rerender(args: &cli::ReportArgs) -> Exit {
    let run = match report::stored::StoredRun::load(&args.dir) {
        Ok(run) => run,
        Err(err) => return invalid(err),
    };
    let out = args.out.as_deref().unwrap_or(&args.dir);
    match report::rerender::rerender(&run, out) {
        Ok(written) => {
            let names: Vec<String> = written
                .iter()
                .filter_map(|path| Some(path.file_name()?.to_string_lossy().into_owned()))
                .collect();
            eprintln!("report: {} ({})", out.display(), names.join(", "));
            Exit::Passed
        }
        Err(err) => invalid(format!("--out: cannot write into {}: {err}", out.display())),
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
    let dir = match report::prepare_dir(args.out.as_deref(), &plan.name, SystemTime::now()) {
        Ok(dir) => dir,
        Err(err) => return invalid(format!("--out: {err}")),
    };
    // A short id naming the run and every agent it creates.
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| engine::target::random_hex(4));
    let cannot_write =
        |err: std::io::Error| invalid(format!("--out: cannot write into {}: {err}", dir.display()));
    let mut series = match report::series_writers(&dir, &plan, &run_id) {
        Ok(series) => series,
        Err(err) => return cannot_write(err),
    };
    let request_log = match args
        .log_requests
        .then(|| engine::request_log::RequestLog::create(&dir))
        .transpose()
    {
        Ok(log) => log,
        Err(err) => return cannot_write(err),
    };
    // Keeps what report.html draws; filled as each second completes.
    let history = report::history::HistorySink::new(plan.load.warmup);
    series.push(Box::new(history.clone()));
    let control = Arc::new(Control::new(plan.load.iteration_budget()));
    let abort_outcome =
        engine::abort::AbortWatch::new(&plan.thresholds, plan.load.warmup, control.clone()).map(
            |(watch, outcome)| {
                series.push(Box::new(watch));
                outcome
            },
        );
    let second_interrupt = CancellationToken::new();
    let runtime = runtime();
    let output = runtime.block_on(async {
        if let Some(addr) = args.metrics_addr {
            let cumulative = report::prometheus::Cumulative::default();
            series.push(Box::new(cumulative.clone()));
            match report::prometheus::serve(addr, cumulative, control.clone()).await {
                Ok(bound) if !args.quiet => {
                    eprintln!("agentload: Prometheus metrics on http://{bound}/metrics");
                }
                Ok(_) => {}
                Err(err) => {
                    return Err(scenario::Diagnostic::flag(
                        "--metrics-addr",
                        format!("cannot listen on {addr}: {err}"),
                        "pick a free address and port, e.g. --metrics-addr 127.0.0.1:9464",
                    ));
                }
            }
        }
        tokio::spawn(watch_signals(control.clone(), second_interrupt.clone()));
        engine::run(
            &plan,
            &run_id,
            control.clone(),
            second_interrupt,
            engine::Options {
                quiet: args.quiet,
                threads: args.threads.map(usize::from),
                goodput: false,
                shard,
                start_at: args.start_at,
            },
            engine::Outputs {
                series,
                request_log,
            },
        )
        .await
    });
    let output = match output {
        Ok(output) => output,
        Err(diagnostic) => return invalid(diagnostic),
    };
    // Worker threads and the simulator are done; do not wait for idle connections to close.
    runtime.shutdown_background();
    let mut output = output;
    if let Some(aborted) = abort_outcome.and_then(|outcome| outcome.get()) {
        output.summary.set_aborted(aborted);
    }

    let mut compare_error = None;
    if let Some(baseline) = &baseline {
        let compared = compare::RunData::of_finished_run(&dir, &output.summary)
            .map_err(|err| err.to_string())
            .and_then(|current| compare::compare(baseline, &current, &args.compare_options()));
        match compared {
            Ok(comparison) => output.summary.set_comparison(comparison),
            Err(err) => compare_error = Some(err),
        }
    }
    let mut written = report::write_all(&dir, &output.summary).and_then(|mut written| {
        let history = history.history();
        let data = report::history::RunData {
            summary: &output.summary,
            history: &history,
        };
        written.push(report::html::write(&dir, &data)?);
        Ok(written)
    });
    if args.shard.is_some() && written.is_ok() {
        let info = merge::part::PartInfo {
            shard,
            run_id: &run_id,
            scenario_hash: scenario_hash(args),
            start_at: args.start_at,
        };
        if let Err(err) = merge::part::write(&dir, info, &plan, &output) {
            written = Err(err);
        }
    }
    print_stdout(&report::terminal::render(&output.summary));
    match &written {
        Ok(_) => eprintln!("report: {}", dir.display()),
        Err(err) => eprintln!(
            "error: cannot write the report into {}: {err}",
            dir.display()
        ),
    }
    if !output.teardown.left.is_empty() {
        eprintln!(
            "warning: {} agent(s) the run created could not be deleted:",
            output.teardown.left.len()
        );
        for (id, why) in &output.teardown.left {
            eprintln!("  {id}: {why}");
        }
        eprintln!("  their names start with agentload-{run_id}-; delete them by hand");
    }
    if let Some(why) = &output.teardown.sweep_failed {
        eprintln!(
            "warning: could not list the team's agents to find leftovers of run {run_id} ({why}); agents whose create response was lost may remain, named agentload-{run_id}-..."
        );
    }
    for problem in &output.problems {
        eprintln!(
            "error: the run is incomplete: {problem} (this is a bug in agentload; please report it)"
        );
    }
    if let Some(err) = &output.setup_error {
        eprintln!("error: {err}");
        return Exit::Invalid;
    }
    if output.interrupted {
        eprintln!("interrupted: the report holds what ran until then");
        return Exit::Interrupted;
    }
    if let Some(err) = compare_error {
        eprintln!("error: --baseline: cannot compare: {err}");
        return Exit::Invalid;
    }
    if written.is_err() {
        return Exit::Invalid;
    }
    if !output.problems.is_empty() {
        return Exit::Failed;
    }
    if output.summary.passed {
        Exit::Passed
    } else {
        let failed = output.summary.thresholds.iter().filter(|t| !t.ok).count();
        if let Some(aborted) = &output.summary.aborted_by {
            eprintln!(
                "failed: threshold `{}` stopped the run early (abort_on_fail)",
                aborted.expr
            );
        }
        if failed > 0 {
            eprintln!("failed: {failed} threshold(s) did not hold");
        }
        if let Some(comparison) = output.summary.comparison.as_ref().filter(|c| c.regressed) {
            let regressions = comparison
                .rows
                .iter()
                .filter(|row| row.verdict == compare::Verdict::Regression)
                .count();
            eprintln!("failed: {regressions} regression(s) against the baseline");
        }
        Exit::Failed
    }
}

/// What makes shards' plans the same: the scenario file's bytes and the flags over it.
fn scenario_hash(args: &RunArgs) -> String {
    let file = args
        .scenario
        .as_ref()
        .and_then(|path| std::fs::read(path).ok())
        .unwrap_or_default();
    let flags = format!("{:?}", args.overrides());
    merge::part::fingerprint(&[&file, flags.as_bytes()])
}

/// Ctrl-C or SIGTERM once: stop and clean up. Twice: skip the cleanup.
async fn watch_signals(control: Arc<Control>, second: CancellationToken) {
    let mut seen = 0;
    loop {
        wait_for_signal().await;
        seen += 1;
        if seen == 1 {
            eprintln!("\ninterrupted: stopping; in-flight requests are cancelled");
            control.interrupt();
        } else {
            second.cancel();
            return;
        }
    }
}

#[cfg(unix)]
pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
pub(crate) async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// `agentload mock`
pub fn mock(args: &MockArgs) -> Exit {
    let (token, generated) = match &args.token {
        Some(token) if !token.trim().is_empty() => (token.trim().to_owned(), false),
        _ => (engine::target::random_hex(16), true),
    };
    let config = match args.sim_config(token.clone()) {
        Ok(config) => config,
        Err(diagnostic) => return invalid(diagnostic),
    };
    let faults = config.faults_summary();
    // Each client stream is a file here too; the limit is raised for them, nothing to check.
    rlimit::raise();
    let runtime = runtime();
    runtime.block_on(async {
        let server = match sim::SimServer::start(config, args.addr).await {
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
