//! The load phase: start the workers (and, in the open model, the pacer), stop them at the end
//! of the duration or on interrupt with the grace period for what is in flight, and merge what
//! they measured. It cannot fail: whatever goes wrong inside is reported, and teardown follows.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant, SystemTime};

use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::closed::{self, Users};
use super::open::Slots;
use super::pacer::{Lane, Pacer, Sleeper};
use super::schedule::{Arrivals, Schedule};
use super::shard::Shard;
use super::worker::{self, Shared, Work, WorkerReport};
use super::{Control, progress};
use crate::metrics::Recorder;
use crate::metrics::series::{Recent, SeriesEvent};
use crate::scenario::{Pacing, Plan};
use crate::summary::LoadSummary;

/// What the load phase produced.
pub struct LoadPhase {
    pub recorder: Recorder,
    /// Wall time of the whole phase, warmup and grace included.
    pub duration: Duration,
    /// From the start to the end of the measured window: the planned end, or when iterations
    /// stopped starting if that came first.
    pub window_end: Duration,
    /// Things that went wrong inside the harness; the run is incomplete.
    pub problems: Vec<String>,
    /// The wall-clock instant the plan started (`--start-at` when given and met).
    pub started: SystemTime,
}

/// How the phase fits into a sharded run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Alignment {
    /// The part of the plan this process runs.
    pub shard: Shard,
    /// Start the plan at this instant rather than as soon as the workers are ready.
    pub start_at: Option<SystemTime>,
}

/// Runs the load phase of `plan` (its part `alignment.shard`) on `threads` worker threads.
pub async fn run(
    plan: &Plan,
    shared: Shared,
    threads: usize,
    quiet: bool,
    recent: Recent,
    alignment: Alignment,
) -> LoadPhase {
    let shard = alignment.shard;
    let control = shared.control.clone();
    let variants = shared.variants;
    let mut problems = Vec::new();
    let mut started = Vec::new();
    let mut lanes = Vec::new();

    let workers = match &plan.load.pacing {
        Pacing::Closed { vus, .. } => {
            let mine = u32::try_from(shard.vus(vus)).unwrap_or(u32::MAX).max(1);
            worker::worker_count(threads, mine)
        }
        Pacing::Open { max_in_flight, .. } => worker::worker_count(threads, *max_in_flight),
    };
    let limiter = match &plan.load.pacing {
        Pacing::Closed { max_rate, .. } => max_rate.map(closed::limiter),
        Pacing::Open { .. } => None,
    };
    for index in 0..workers {
        let (work, lane) = share_of_work(&plan.load.pacing, shard, index, workers, limiter.clone());
        match worker::spawn(index, work, shared.clone()) {
            Ok(worker) => {
                started.push(worker);
                lanes.extend(lane);
            }
            Err(err) => {
                problems.push(format!("cannot start worker thread {index}: {err}"));
                break;
            }
        }
    }

    // Start the clock only once every worker is ready: building runtimes and connection
    // settings is not load time.
    let mut ready = 0;
    let mut gos = Vec::new();
    let mut receivers = Vec::new();
    for worker in started {
        ready += usize::from(worker.ready.await.is_ok());
        gos.push(worker.go);
        receivers.push(worker.done);
    }
    if ready < workers {
        problems.push(format!("only {ready} of {workers} worker threads started"));
        control.interrupt_internally();
    }
    let (start, wall) = match alignment.start_at {
        Some(at) => wait_for_start(at, &control).await,
        None => (Instant::now(), SystemTime::now()),
    };
    if let Some(series) = &shared.series {
        let _ = series.send(SeriesEvent::Start { wall, workers });
    }
    for go in gos {
        let _ = go.send(start);
    }
    if let Pacing::Open { rate, arrival, .. } = &plan.load.pacing
        && !lanes.is_empty()
        && !control.stop.is_cancelled()
    {
        let sleeper = Arc::new(Sleeper::default());
        let pacer = Pacer {
            arrivals: Arrivals::new(Schedule::new(rate), *arrival, plan.seed).share(shard),
            start,
            end: plan.load.stop.duration.map(|d| start + d),
            limit: plan.load.stop.iterations,
            lanes,
            control: control.clone(),
            sleeper: sleeper.clone(),
        };
        match pacer.spawn() {
            Ok(_) => {
                let stop = control.stop.clone();
                tokio::spawn(async move {
                    stop.cancelled().await;
                    sleeper.stop();
                });
            }
            Err(err) => {
                problems.push(format!("cannot start the pacer thread: {err}"));
                control.interrupt_internally();
            }
        }
    }

    let progress_done = CancellationToken::new();
    if !quiet {
        tokio::spawn(progress::report(
            control.clone(),
            recent,
            start,
            plan.load.stop.duration,
            progress_done.clone(),
        ));
    }

    let reports = wait_for_workers(receivers, &control, plan, start).await;
    let duration = start.elapsed();
    progress_done.cancel();

    let mut recorder = Recorder::new(variants);
    for report in reports {
        match report {
            Ok(report) => {
                recorder.merge(&report.recorder);
                problems.extend(report.problems);
            }
            Err(_) => problems.push("a worker thread stopped without reporting".to_owned()),
        }
    }
    // The planned end, unless iterations stopped starting before it; without a planned end,
    // the phase's own length.
    let ended_early = control
        .ended_early()
        .map(|at| at.saturating_duration_since(start));
    let window_end = match (plan.load.stop.duration, ended_early) {
        (Some(planned), Some(ended)) => planned.min(ended),
        (Some(planned), None) => planned,
        (None, Some(ended)) => ended.min(duration),
        (None, None) => duration,
    };
    LoadPhase {
        recorder,
        duration,
        window_end,
        problems,
        started: wall,
    }
}

/// Sleeps until `at` (setup and the workers are ready by then), unless the run is stopped
/// first; returns the start as an instant and on the wall clock. A shard whose setup ended
/// after `at` starts at once, and says so: its seconds will not line up with the others'.
async fn wait_for_start(at: SystemTime, control: &Control) -> (Instant, SystemTime) {
    let now = (Instant::now(), SystemTime::now());
    match at.duration_since(now.1) {
        Ok(ahead) => {
            let start = now.0 + ahead;
            tokio::select! {
                _ = tokio::time::sleep_until(start.into()) => {}
                _ = control.stop.cancelled() => {}
            }
            (start, at)
        }
        Err(late) => {
            eprintln!(
                "warning: setup ended {} after --start-at; this shard starts now, late, and its seconds will not line up with the other shards'",
                humantime::format_duration(Duration::from_millis(
                    late.duration().as_millis() as u64
                ))
            );
            now
        }
    }
}

/// Worker `index`'s part of the load, and (open model) how the pacer reaches it.
fn share_of_work(
    pacing: &Pacing,
    shard: Shard,
    index: usize,
    workers: usize,
    limiter: Option<Arc<governor::DefaultDirectRateLimiter>>,
) -> (Work, Option<Lane>) {
    match pacing {
        Pacing::Closed {
            vus, think_time, ..
        } => {
            let users = Users {
                // The shard's users are I, I+N, ... of the whole; its workers deal them out.
                numbers: (0..vus.peak())
                    .filter(|vu| shard.owns(u64::from(*vu)))
                    .enumerate()
                    .filter(|(k, _)| k % workers == index)
                    .map(|(_, vu)| vu)
                    .collect(),
                ramp: vus.clone(),
                think_time: *think_time,
                limiter,
            };
            (Work::Users(users), None)
        }
        Pacing::Open {
            max_in_flight,
            saturation,
            max_queue,
            ..
        } => {
            let (sender, arrivals) = tokio::sync::mpsc::unbounded_channel();
            let pending = Arc::new(AtomicUsize::new(0));
            let slots = Slots {
                arrivals,
                pending: pending.clone(),
                slots: share(*max_in_flight as usize, workers, index),
                saturation: *saturation,
                max_queue: share(*max_queue as usize, workers, index),
            };
            (
                Work::Arrivals(slots),
                Some(Lane {
                    arrivals: sender,
                    pending,
                }),
            )
        }
    }
}

/// Waits for every worker: until they finish on their own, or until the end of the duration
/// (or an interrupt) stops new iterations, then for the grace period, then aborts what is left.
async fn wait_for_workers(
    receivers: Vec<tokio::sync::oneshot::Receiver<WorkerReport>>,
    control: &Control,
    plan: &Plan,
    start: Instant,
) -> Vec<Result<WorkerReport, tokio::sync::oneshot::error::RecvError>> {
    let all_done = join_all(receivers);
    tokio::pin!(all_done);
    let deadline = plan
        .load
        .stop
        .duration
        .map(|d| tokio::time::Instant::from_std(start + d));
    let finished = tokio::select! {
        reports = &mut all_done => Some(reports),
        _ = sleep_until_some(deadline) => None,
        _ = control.stop.cancelled() => None,
    };
    if let Some(reports) = finished {
        return reports;
    }
    control.stop.cancel();
    tokio::select! {
        reports = &mut all_done => reports,
        _ = tokio::time::sleep(plan.load.grace) => {
            control.abort.cancel();
            all_done.await
        }
        _ = control.abort.cancelled() => all_done.await,
    }
}

async fn sleep_until_some(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Worker `index`'s part of `total` split over `workers` (the parts sum to the total).
fn share(total: usize, workers: usize, index: usize) -> usize {
    total / workers + usize::from(index < total % workers)
}

/// The summary's `load` block: what was asked for and what was achieved, over one measured
/// window: from the end of the warmup to `window_end` (the planned end, or when iterations
/// stopped starting). The grace period after it is not load time. A shard reports its part.
pub fn load_summary(
    plan: &Plan,
    shard: Shard,
    recorder: &Recorder,
    window_end: Duration,
) -> LoadSummary {
    let part = f64::from(shard.count);
    let measured = window_end.saturating_sub(plan.load.warmup).as_secs_f64();
    let per_second = |count: f64| {
        if measured > 0.0 {
            round3(count / measured)
        } else {
            0.0
        }
    };
    let (model, target_rate, max_in_flight, vus) = match &plan.load.pacing {
        Pacing::Closed { vus, .. } => ("closed", None, None, Some(shard.vus(vus))),
        Pacing::Open {
            rate,
            max_in_flight,
            ..
        } => {
            let schedule = Schedule::new(rate);
            let planned = schedule.expected_by(window_end) - schedule.expected_by(plan.load.warmup);
            let target = if measured > 0.0 {
                per_second(planned / part)
            } else {
                rate.start.as_per_second() / part
            };
            ("open", Some(target), Some(u64::from(*max_in_flight)), None)
        }
    };
    LoadSummary {
        model: model.to_owned(),
        target_rate,
        achieved_rate: per_second(recorder.iterations as f64),
        iterations: recorder.iterations,
        dropped_iterations: recorder.dropped,
        max_in_flight,
        vus,
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_the_whole() {
        for (total, workers) in [(8, 2), (7, 2), (1, 1), (1000, 3), (5, 4)] {
            let parts: Vec<usize> = (0..workers).map(|i| share(total, workers, i)).collect();
            assert_eq!(parts.iter().sum::<usize>(), total, "{parts:?}");
            assert!(parts.iter().max().unwrap() - parts.iter().min().unwrap() <= 1);
        }
    }
}
