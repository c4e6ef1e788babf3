//! What the simulator can be told: the token it accepts, the seed for its randomness, a
//! latency profile per model name (time to first step, steps per run, gap between steps,
//! blocking-run time, the cost of each later turn of a conversation, and the model's run
//! faults), and the faults every request may get.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use super::faults::{RequestFaults, RunFaults};
use crate::model::units::Spread;

/// How one model behaves: every value is drawn afresh for each run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Time from the request to the first `step` event of a stream.
    pub ttfs: Spread<Duration>,
    /// Gap between two consecutive `step` events.
    pub step_gap: Spread<Duration>,
    /// Steps per streamed run; fewer than 3 are raised to 3 (system, user, assistant).
    pub steps: Spread<u32>,
    /// Time a blocking `/run` takes before it answers; reported as `executionTimeMs`.
    pub run_time: Spread<Duration>,
    /// Added to the time to the first step (and to a blocking run's time) for each turn of a
    /// thread after the first, so later turns of a conversation are slower.
    pub ttfs_per_turn: Duration,
    /// How this model's runs misbehave.
    pub faults: RunFaults,
}

impl Default for Profile {
    /// ttfs 150ms..350ms, step gap 50ms..150ms, 3..6 steps, run time 300ms..800ms, no cost
    /// per turn, no faults.
    fn default() -> Self {
        let ms = Duration::from_millis;
        Profile {
            ttfs: Spread {
                lo: ms(150),
                hi: ms(350),
            },
            step_gap: Spread {
                lo: ms(50),
                hi: ms(150),
            },
            steps: Spread { lo: 3, hi: 6 },
            run_time: Spread {
                lo: ms(300),
                hi: ms(800),
            },
            ttfs_per_turn: Duration::ZERO,
            faults: RunFaults::default(),
        }
    }
}

/// The simulator's configuration. `Debug` never shows the token.
#[derive(Clone)]
pub struct SimConfig {
    /// The API token every request must carry (`Authorization: Token <token>` or `Bearer <token>`).
    pub token: String,
    /// Seed of all randomness: latency samples and ids. The same seed and the same sequence of
    /// requests give the same ids and timings.
    pub seed: u64,
    /// The profile of any model not named in `models`.
    pub default_profile: Profile,
    /// Profiles by model name (an agent's `defaultModel`).
    pub models: HashMap<String, Profile>,
    /// Error statuses and the rate limit, decided for each request.
    pub faults: RequestFaults,
}

impl SimConfig {
    /// Accepts `token`; seed 0, the default profile for every model, no faults.
    pub fn new(token: impl Into<String>) -> Self {
        SimConfig {
            token: token.into(),
            seed: 0,
            default_profile: Profile::default(),
            models: HashMap::new(),
            faults: RequestFaults::default(),
        }
    }

    /// The faults in force, on one line (`None` without any): the request faults, then the run
    /// faults of the default profile and of each model that has its own.
    pub fn faults_summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.faults.is_empty() {
            parts.push(self.faults.to_string());
        }
        if !self.default_profile.faults.is_empty() {
            parts.push(self.default_profile.faults.to_string());
        }
        let mut models: Vec<(&String, &Profile)> = self
            .models
            .iter()
            .filter(|(_, profile)| profile.faults != self.default_profile.faults)
            .collect();
        models.sort_by_key(|(model, _)| *model);
        for (model, profile) in models {
            parts.push(format!("model {model}: {}", profile.faults));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// The profile of `model`, or the default profile if the model has none of its own.
    pub fn profile_for(&self, model: &str) -> &Profile {
        self.models.get(model).unwrap_or(&self.default_profile)
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("token", &"<redacted>")
            .field("seed", &self.seed)
            .field("default_profile", &self.default_profile)
            .field("models", &self.models)
            .field("faults", &self.faults)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_without_a_profile_get_the_default() {
        let fast = Profile {
            ttfs: Spread::fixed(Duration::from_millis(1)),
            ..Profile::default()
        };
        let mut config = SimConfig::new("secret");
        config.models.insert("fast-model".into(), fast);
        assert_eq!(config.profile_for("fast-model"), &fast);
        assert_eq!(config.profile_for("other"), &Profile::default());
        assert_eq!(config.seed, 0);
        assert!(
            !format!("{config:?}").contains("secret"),
            "Debug must not show the token"
        );
        assert_eq!(config.faults_summary(), None);
    }

    #[test]
    fn the_faults_in_force_are_summed_up_on_one_line() {
        use crate::sim::faults::{Chance, Cut, Endpoints, RateLimit, StatusFault};
        let mut config = SimConfig::new("secret");
        config.faults.status = vec![StatusFault::parse("429=5%").unwrap()];
        config.faults.rate_limit = Some(RateLimit { per_minute: 60 });
        config.faults.endpoints = Endpoints::parse("run_stream").unwrap();
        config.default_profile.faults.malformed = Chance::parse("1%").unwrap();
        let mut flaky = config.default_profile;
        flaky.faults.cut_after = Some(Cut::parse("2@10%").unwrap());
        config.models.insert("flaky".into(), flaky);
        config.models.insert("same".into(), config.default_profile);
        assert_eq!(
            config.faults_summary().unwrap(),
            "status 429=5%, rate_limit 60/min, on run_stream; malformed 1%; model flaky: cut_after 2@10%, malformed 1%"
        );
    }
}
