//! The load phase: start the workers (and, in the open model, the pacer), stop them at the end
//! of the duration or on interrupt with the grace period for what is in flight, and merge what
//! they measured. It cannot fail: whatever goes wrong inside is reported, and teardown follows.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::closed::{self, Users};
use super::open::Slots;
use super::pacer::{Pacer, Sleeper};
use super::schedule::{Arrivals, Schedule};
use super::worker::{self, Shared, Work, WorkerReport};
use super::{Control, progress};
use crate::metrics::Recorder;
use crate::metrics::summary::LoadSummary;
use crate::scenario::{Pacing, Plan};

/// What the load phase produced.
pub struct LoadPhase {
    pub recorder: Recorder,
    /// Wall time of the whole phase, warmup included.
    pub duration: Duration,
    /// Things that went wrong inside the harness; the run is incomplete.
    pub problems: Vec<String>,
}

/// Runs the load phase of `plan`. `shared.warmup_end` is set here, from the phase's start.
pub async fn run(plan: &Plan, mut shared: Shared, threads: usize, quiet: bool) -> LoadPhase {
    let control = shared.control.clone();
    let variants = shared.variants;
    let start = Instant::now();
    shared.warmup_end = start + plan.load.warmup;
    let mut problems = Vec::new();
    let mut receivers = Vec::new();
    let mut pacer_sleeper = None;

    match &plan.load.pacing {
        Pacing::Closed {
            vus,
            think_time,
            max_rate,
        } => {
            let peak = vus.peak();
            let workers = worker::worker_count(threads, peak);
            let limiter = max_rate.map(closed::limiter);
            for index in 0..workers {
                let users = Users {
                    numbers: (0..peak)
                        .filter(|vu| *vu as usize % workers == index)
                        .collect(),
                    ramp: vus.clone(),
                    think_time: *think_time,
                    limiter: limiter.clone(),
                    start,
                };
                match worker::spawn(index, Work::Users(users), shared.clone()) {
                    Ok(receiver) => receivers.push(receiver),
                    Err(err) => {
                        problems.push(format!("cannot start worker thread {index}: {err}"));
                        control.interrupt_internally();
                        break;
                    }
                }
            }
        }
        Pacing::Open {
            rate,
            arrival,
            max_in_flight,
            saturation,
            max_queue,
        } => {
            let workers = worker::worker_count(threads, *max_in_flight);
            let mut senders = Vec::with_capacity(workers);
            for index in 0..workers {
                let (sender, arrivals) = tokio::sync::mpsc::unbounded_channel();
                let slots = Slots {
                    arrivals,
                    slots: share(*max_in_flight as usize, workers, index),
                    saturation: *saturation,
                    max_queue: share(*max_queue as usize, workers, index),
                };
                match worker::spawn(index, Work::Arrivals(slots), shared.clone()) {
                    Ok(receiver) => {
                        receivers.push(receiver);
                        senders.push(sender);
                    }
                    Err(err) => {
                        problems.push(format!("cannot start worker thread {index}: {err}"));
                        control.interrupt_internally();
                        break;
                    }
                }
            }
            let sleeper = Arc::new(Sleeper::default());
            let pacer = Pacer {
                arrivals: Arrivals::new(Schedule::new(rate), *arrival, plan.seed),
                start,
                end: plan.load.stop.duration.map(|d| start + d),
                workers: senders,
                control: control.clone(),
                sleeper: sleeper.clone(),
                dispatched: Arc::new(AtomicU64::new(0)),
            };
            if let Err(err) = pacer.spawn() {
                problems.push(format!("cannot start the pacer thread: {err}"));
                control.interrupt_internally();
            }
            pacer_sleeper = Some(sleeper);
        }
    }

    let progress_done = CancellationToken::new();
    if !quiet {
        tokio::spawn(progress::report(
            control.clone(),
            start,
            plan.load.stop.duration,
            progress_done.clone(),
        ));
    }
    if let Some(sleeper) = pacer_sleeper {
        let stop = control.stop.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            sleeper.stop();
        });
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
    LoadPhase {
        recorder,
        duration,
        problems,
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

/// The summary's `load` block: what was asked for and what was achieved, over the measured
/// window (after the warmup, until the planned end or the early stop).
pub fn load_summary(plan: &Plan, recorder: &Recorder, duration: Duration) -> LoadSummary {
    // Iterations start only until the planned end; the grace period after it is not load time.
    let window = plan
        .load
        .stop
        .duration
        .map_or(duration, |planned| planned.min(duration));
    let measured = window.saturating_sub(plan.load.warmup).as_secs_f64();
    let per_second = |count: f64| {
        if measured > 0.0 {
            round3(count / measured)
        } else {
            0.0
        }
    };
    match &plan.load.pacing {
        Pacing::Closed { vus, .. } => LoadSummary {
            model: "closed".to_owned(),
            target_rate: None,
            achieved_rate: per_second(recorder.iterations as f64),
            iterations: recorder.iterations,
            dropped_iterations: recorder.dropped,
            max_in_flight: None,
            vus: Some(u64::from(vus.peak())),
        },
        Pacing::Open {
            rate,
            max_in_flight,
            ..
        } => {
            let schedule = Schedule::new(rate);
            let planned_end = plan.load.stop.duration.unwrap_or(duration);
            let window = planned_end.saturating_sub(plan.load.warmup).as_secs_f64();
            let planned =
                schedule.expected_by(planned_end) - schedule.expected_by(plan.load.warmup);
            LoadSummary {
                model: "open".to_owned(),
                target_rate: Some(if window > 0.0 {
                    round3(planned / window)
                } else {
                    rate.start.as_per_second()
                }),
                achieved_rate: per_second(recorder.iterations as f64),
                iterations: recorder.iterations,
                dropped_iterations: recorder.dropped,
                max_in_flight: Some(u64::from(*max_in_flight)),
                vus: None,
            }
        }
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
