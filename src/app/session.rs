//! The one run pipeline: plan -> engine -> summary -> verdict -> store -> reports. `run` and
//! every step of `sweep` go through [`run`]; `merge` judges its merged summary with the same
//! [`Summary::judge`] and writes it with the same renderers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::runtime::Runtime;

use super::signals::Interrupts;
use crate::compare::{self, Distributions, DistributionsSink, RunData};
use crate::engine::fixtures::Teardown;
use crate::engine::shard::Shard;
use crate::engine::{self, Control, EngineError, RunOutput};
use crate::report::history::{History, HistorySink, RunData as PageData};
use crate::report::{self, prometheus};
use crate::scenario::Plan;
use crate::store::{self, StoreError};
use crate::summary::Summary;
use crate::summary::verdict::RunEnd;

/// One run to make: the plan (a shard's part already) and where its report goes.
pub struct Session<'a> {
    pub plan: &'a Plan,
    /// The report folder, prepared.
    pub dir: &'a Path,
    /// Names the run and every agent it creates.
    pub run_id: &'a str,
    pub engine: engine::Options,
    /// Write `requests.csv`.
    pub log_requests: bool,
    /// Serve live Prometheus metrics here.
    pub metrics_addr: Option<SocketAddr>,
    /// Let `abort_on_fail` thresholds stop the run (a sweep's steps are judged otherwise).
    pub abort_on_fail: bool,
    /// Compare with this run at the end (`--baseline`).
    pub baseline: Option<(&'a RunData, compare::Options)>,
    /// Leave the files `agentload merge` reads (`--shard`).
    pub shard_part: Option<ShardPart>,
}

/// What a shard records of itself for `merge`, besides the run.
pub struct ShardPart {
    pub shard: Shard,
    /// What makes shards' plans the same (the scenario file and the flags over it).
    pub scenario_hash: String,
    pub start_at: Option<std::time::SystemTime>,
}

/// A finished run: its judged summary, what teardown left, and whether the report was written.
pub struct Finished {
    pub summary: Summary,
    pub teardown: Teardown,
    /// Faults inside the harness (also reasons of the verdict).
    pub problems: Vec<String>,
    /// The files written, or why the report could not be.
    pub written: Result<Vec<PathBuf>, StoreError>,
}

/// Why a run could not start; the command exits 2.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("--out: {0}")]
    Out(#[from] StoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "--metrics-addr: cannot listen on {addr}: {source}\n  help: pick a free address and port, e.g. --metrics-addr 127.0.0.1:9464"
    )]
    Metrics {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Runs `session` to the end (or to an interrupt) on `runtime`, judges it and writes its
/// report. `interrupts` stops it; a second interrupt skips its teardown.
pub fn run(
    runtime: &Runtime,
    session: Session<'_>,
    interrupts: &Interrupts,
) -> Result<Finished, SessionError> {
    let plan = session.plan;
    let dir = session.dir;
    let mut series = store::series_writers(dir, plan, session.run_id)?;
    let request_log = if session.log_requests {
        Some(store::RequestsCsv::create(dir)?.into_log())
    } else {
        None
    };
    // Keeps what report.html draws; filled as each second completes.
    let history = HistorySink::new(History::new(plan.load.warmup));
    series.push(Box::new(history.clone()));
    // With a baseline: the run's distributions, as histograms.hlog holds them.
    let distributions = DistributionsSink::new(Distributions::new(plan.load.warmup));
    if session.baseline.is_some() {
        series.push(Box::new(distributions.clone()));
    }
    let control = Arc::new(Control::new(plan.load.iteration_budget()));
    let abort = session
        .abort_on_fail
        .then(|| {
            engine::abort::AbortWatch::new(&plan.thresholds, plan.load.warmup, control.clone())
        })
        .flatten()
        .map(|(watch, outcome)| {
            series.push(Box::new(watch));
            outcome
        });
    interrupts.running(control.clone());
    let output = runtime.block_on(async {
        if let Some(addr) = session.metrics_addr {
            let cumulative = prometheus::Cumulative::default();
            series.push(Box::new(cumulative.clone()));
            let bound = prometheus::serve(addr, cumulative, control.clone())
                .await
                .map_err(|source| SessionError::Metrics { addr, source })?;
            if !session.engine.quiet {
                eprintln!("agentload: Prometheus metrics on http://{bound}/metrics");
            }
        }
        let outputs = engine::Outputs {
            series,
            request_log,
        };
        let output = engine::run(
            plan,
            session.run_id,
            control.clone(),
            interrupts.second(),
            session.engine,
            outputs,
        )
        .await?;
        Ok::<RunOutput, SessionError>(output)
    })?;

    let mut summary = summarize(plan, &output);
    if let Some(aborted) = abort.and_then(|outcome| outcome.get()) {
        summary.set_aborted(aborted);
    }
    let mut baseline_error = None;
    if let Some((baseline, options)) = &session.baseline {
        let current = RunData::of_run(dir, distributions.snapshot(), &summary);
        match compare::compare(baseline, &current, options) {
            Ok(comparison) => summary.set_comparison(comparison),
            Err(err) => baseline_error = Some(err.to_string()),
        }
    }
    let setup_error = output.setup_error.as_ref().map(ToString::to_string);
    summary.judge(&RunEnd {
        interrupted: output.interrupted,
        setup_error: setup_error.as_deref(),
        baseline_error: baseline_error.as_deref(),
        problems: &output.problems,
    });
    let mut written = publish(dir, &summary, &history.snapshot());
    if let (Some(part), Ok(files)) = (&session.shard_part, &mut written) {
        let info = super::shard_part::PartInfo {
            shard: part.shard,
            run_id: session.run_id,
            scenario_hash: part.scenario_hash.clone(),
            start_at: part.start_at,
        };
        match super::shard_part::write(dir, info, plan, &output) {
            Ok(()) => files.extend(
                [store::names::SHARD_JSON, store::names::SHARD_HLOG].map(|name| name.path_in(dir)),
            ),
            Err(err) => written = Err(err),
        }
    }
    Ok(Finished {
        summary,
        teardown: output.teardown,
        problems: output.problems,
        written,
    })
}

/// The summary of a finished run of `plan`: figures, thresholds judged, variants ranked (by
/// `rank_by` when the plan says so), and a first verdict from those.
pub fn summarize(plan: &Plan, output: &RunOutput) -> Summary {
    let variants = plan.variant_names();
    let measured = &output.measured;
    let mut summary = Summary::build(
        measured.info.clone(),
        &measured.recorder,
        &variants,
        &plan.thresholds,
    );
    if plan.variants.rank_by.is_some() {
        summary.rank_variants_by(&measured.recorder, &variants, plan.variants.rank_by);
    }
    summary
}

/// Every report of a judged summary into `dir`: summary.json, summary.md, junit.xml and
/// report.html (drawn from `history`).
pub fn publish(
    dir: &Path,
    summary: &Summary,
    history: &History,
) -> Result<Vec<PathBuf>, StoreError> {
    let mut written = report::write_all(dir, summary)?;
    let page = PageData { summary, history };
    written.push(report::html::write(dir, &page)?);
    Ok(written)
}
