//! The closed model: virtual users looping over the mix, each starting its next iteration only
//! when the last has ended, their number following the plan's ramp, their starts optionally
//! capped by a shared rate limit.

use std::num::NonZeroU32;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::ops::Context;
use super::worker::join_problem;
use crate::model::units::{Rate, Spread};
use crate::scenario::Ramp;

/// A worker's virtual users and how they pace themselves.
pub struct Users {
    /// The users' numbers (0-based); a user runs while the ramp counts above its number.
    pub numbers: Vec<u32>,
    pub ramp: Ramp<u32>,
    pub think_time: Option<Spread<Duration>>,
    /// Shared by every worker: at most this many iteration starts per second, all users together.
    pub limiter: Option<Arc<DefaultDirectRateLimiter>>,
}

/// A limiter allowing `rate` iteration starts per second, without bursts.
pub fn limiter(rate: Rate) -> Arc<DefaultDirectRateLimiter> {
    // Rates are checked to be at least one per 30 days, so the period fits a Duration.
    let period = Duration::try_from_secs_f64(1.0 / rate.as_per_second())
        .unwrap_or(crate::model::units::MAX_DURATION);
    let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
        .expect("a positive period")
        .allow_burst(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(quota))
}

/// Runs the worker's users from `start` (the ramp's zero) until the stop; returns what went
/// wrong inside it.
pub async fn run(context: Rc<Context>, users: Users, start: Instant, seed: u64) -> Vec<String> {
    let users = Rc::new(users);
    let tasks: Vec<_> = users
        .numbers
        .iter()
        .map(|vu| {
            tokio::task::spawn_local(virtual_user(
                context.clone(),
                users.clone(),
                start,
                *vu,
                seed,
            ))
        })
        .collect();
    let mut problems = Vec::new();
    for task in tasks {
        if let Err(err) = task.await {
            problems.push(join_problem(err));
        }
    }
    problems
}

/// One virtual user: wait to be active, (wait for the rate cap), pick an entry, run it, think,
/// repeat until told to stop.
async fn virtual_user(context: Rc<Context>, users: Rc<Users>, start: Instant, vu: u32, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed ^ u64::from(vu).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let control = &context.control;
    loop {
        if !users.ramp.stages.is_empty() {
            let elapsed = start.elapsed();
            if users.ramp.at(elapsed) <= vu {
                let Some(active) = users.ramp.active_from(vu, elapsed) else {
                    return;
                };
                tokio::select! {
                    _ = tokio::time::sleep_until((start + active).into()) => continue,
                    _ = context.stop.cancelled() => return,
                    _ = context.budget_spent.cancelled() => return,
                }
            }
        }
        if let Some(limiter) = &users.limiter {
            tokio::select! {
                _ = limiter.until_ready() => {}
                _ = context.stop.cancelled() => return,
                _ = context.budget_spent.cancelled() => return,
            }
        }
        if !control.start_iteration() {
            return;
        }
        let index = context.program.pick(&mut rng);
        let variant = context.program.choose_agent(index);
        if context.iteration(index, variant, None).await.is_err() {
            return;
        }
        if let Some(think) = users.think_time {
            let pause = think.sample(&mut rng);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = context.stop.cancelled() => return,
                _ = context.budget_spent.cancelled() => return,
            }
        }
    }
}
