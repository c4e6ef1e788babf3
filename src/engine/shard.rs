//! Sharded runs: one process's part of a plan split over N processes (`--shard I/N`), so the
//! parts sum to the whole exactly. A shard walks the whole plan and takes its interleaved part:
//! constant arrivals I, I+N, ... of the planned schedule; a Poisson process of rate R/N;
//! virtual users I, I+N, ... of the ramp; and counts (iterations, in-flight slots) split so
//! the first `total % N` shards get one more. Also the checks of the flags that go with it:
//! `--run-id` and `--start-at`.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::model::units::Rate;
use crate::scenario::{Pacing, Plan, Ramp};

/// The most shards one run may be split into.
pub const MAX_SHARDS: u32 = 10_000;
/// The longest run id.
pub const MAX_RUN_ID: usize = 32;
/// How far ahead `--start-at` may be.
pub const MAX_START_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// Shard `index` of `count` (from 0, as Kubernetes' `JOB_COMPLETION_INDEX`); 0/1 is the whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole plan, unsplit.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N`, e.g. `0/4`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| ShardError::NotIOverN(text.to_owned()))?;
        let number = |part: &str, what: &'static str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| ShardError::NotANumber {
                    what,
                    part: part.to_owned(),
                })
        };
        let (index, count) = (number(index, "the index")?, number(count, "the count")?);
        if count == 0 || count > MAX_SHARDS {
            return Err(ShardError::Count(count));
        }
        if index >= count {
            return Err(ShardError::NoSuchShard { index, count });
        }
        Ok(Shard { index, count })
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// This shard's part of `total` things: `total / N`, plus one for the first `total % N`
    /// shards, so the parts of every shard sum to `total`.
    pub fn part(self, total: u64) -> u64 {
        let (index, count) = (u64::from(self.index), u64::from(self.count));
        total / count + u64::from(index < total % count)
    }

    /// Whether item `number` (0-based: an arrival, a virtual user) of the whole is this shard's.
    pub fn owns(self, number: u64) -> bool {
        number % u64::from(self.count) == u64::from(self.index)
    }

    /// This shard's part of a rate.
    pub fn rate(self, rate: Rate) -> Rate {
        Rate::per_second(rate.as_per_second() / f64::from(self.count))
    }

    /// The plan this shard runs: counts split, the closed model's rate cap scaled, and a seed
    /// of its own so shards draw independently. Rates and ramps stay whole: the pacer and the
    /// virtual users take their interleaved part of them (see [`crate::engine::schedule`]).
    pub fn apply(self, plan: &Plan) -> Plan {
        let mut plan = plan.clone();
        if self.is_whole() {
            return plan;
        }
        let part_u32 = |n: u32| u32::try_from(self.part(u64::from(n))).unwrap_or(n);
        plan.load.stop.iterations = plan.load.stop.iterations.map(|n| self.part(n));
        match &mut plan.load.pacing {
            Pacing::Closed { max_rate, .. } => *max_rate = max_rate.map(|r| self.rate(r)),
            Pacing::Open {
                max_in_flight,
                max_queue,
                ..
            } => {
                // At least one slot, or the shard could run nothing at all.
                *max_in_flight = part_u32(*max_in_flight).max(1);
                *max_queue = part_u32(*max_queue);
            }
        }
        plan.seed = plan
            .seed
            .wrapping_add(u64::from(self.index).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        plan
    }

    /// How many virtual users of a ramp's peak this shard runs.
    pub fn vus(self, vus: &Ramp<u32>) -> u64 {
        self.part(u64::from(vus.peak()))
    }

    /// The name prefix of every agent this shard creates: the run's prefix, plus `s<I>-` when
    /// the run is split, so a shard's teardown sweep never takes another shard's agents.
    pub fn name_prefix(self, run_id: &str) -> String {
        let prefix = super::fixtures::name_prefix(run_id);
        if self.is_whole() {
            prefix
        } else {
            format!("{prefix}s{}-", self.index)
        }
    }
}

/// Checks a `--run-id`: 1 to 32 ASCII letters, digits or `_`. No `-`, so the prefix
/// `agentload-<id>-` of one run can never be the start of another run's.
pub fn check_run_id(id: &str) -> Result<String, ShardError> {
    if id.is_empty() || id.len() > MAX_RUN_ID {
        return Err(ShardError::RunIdLength {
            id: id.to_owned(),
            chars: id.chars().count(),
        });
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(ShardError::RunIdChar {
            id: id.to_owned(),
            bad,
        });
    }
    Ok(id.to_owned())
}

/// Parses a `--start-at` instant (RFC 3339 in UTC, e.g. `2026-05-01T12:00:00Z`) and checks it
/// against `now`: not in the past, at most a day ahead.
pub fn check_start_at(text: &str, now: SystemTime) -> Result<SystemTime, ShardError> {
    let at = humantime::parse_rfc3339_weak(text.trim()).map_err(|err| ShardError::NotATime {
        text: text.to_owned(),
        reason: err.to_string(),
    })?;
    if at < now {
        let ago = now.duration_since(at).unwrap_or_default();
        return Err(ShardError::InThePast {
            text: text.to_owned(),
            ago: humantime::format_duration(Duration::from_secs(ago.as_secs().max(1))).to_string(),
        });
    }
    if at.duration_since(now).unwrap_or_default() > MAX_START_AHEAD {
        return Err(ShardError::TooFarAhead(text.to_owned()));
    }
    Ok(at)
}

const SHARD_HELP: &str = "write I/N with I from 0 to N-1, e.g. --shard 0/4 (in a Kubernetes Indexed Job: --shard $(JOB_COMPLETION_INDEX)/4)";
const RUN_ID_HELP: &str = "use 1 to 32 letters, digits or _ (no -), e.g. --run-id nightly_0412";

/// A `--shard`, `--run-id` or `--start-at` that cannot be used, with how to write it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("{0:?} is not I/N; {SHARD_HELP}")]
    NotIOverN(String),
    #[error("{what} {part:?} is not a whole number; {SHARD_HELP}")]
    NotANumber { what: &'static str, part: String },
    #[error("the count must be 1 to {MAX_SHARDS}, not {0}; {SHARD_HELP}")]
    Count(u32),
    #[error("shard {index} does not exist among {count} (they are 0 to {last}); {SHARD_HELP}", last = count - 1)]
    NoSuchShard { index: u32, count: u32 },
    #[error("{id:?} has {chars} characters; {RUN_ID_HELP}")]
    RunIdLength { id: String, chars: usize },
    #[error("{id:?} contains {bad:?}; {RUN_ID_HELP}")]
    RunIdChar { id: String, bad: char },
    #[error(
        "{text:?} is not an RFC 3339 UTC time ({reason}); write e.g. 2026-05-01T12:00:00Z, or $(date -u -d '+2 min' +%Y-%m-%dT%H:%M:%SZ)"
    )]
    NotATime { text: String, reason: String },
    #[error(
        "{text} is {ago} in the past; give a time a little ahead, long enough for every shard to start and set up, e.g. $(date -u -d '+2 min' +%Y-%m-%dT%H:%M:%SZ)"
    )]
    InThePast { text: String, ago: String },
    #[error(
        "{0} is more than 24 hours ahead; a shard would wait that long (check the date and that it is UTC)"
    )]
    TooFarAhead(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::schedule::{Arrivals, Schedule};
    use crate::scenario::{Arrival, Stage};

    fn test_plan() -> Plan {
        let text = "[load]\nmodel = \"open\"\nrate = \"10/s\"\nduration = \"1s\"\n[[mix]]\nop = \"list\"\n";
        crate::scenario::parse("t.toml", text.as_bytes(), "t").unwrap()
    }

    fn shards(count: u32) -> impl Iterator<Item = Shard> {
        (0..count).map(move |index| Shard { index, count })
    }

    #[test]
    fn shard_flags_parse_and_name_what_is_wrong() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse(" 3 / 4 "), Ok(Shard { index: 3, count: 4 }));
        assert!(
            Shard::parse("4/4")
                .unwrap_err()
                .to_string()
                .contains("0 to 3")
        );
        assert!(
            Shard::parse("0/0")
                .unwrap_err()
                .to_string()
                .contains("1 to")
        );
        assert!(
            Shard::parse("1")
                .unwrap_err()
                .to_string()
                .contains("not I/N")
        );
        assert!(
            Shard::parse("a/2")
                .unwrap_err()
                .to_string()
                .contains("JOB_COMPLETION_INDEX")
        );
        assert_eq!(Shard::parse("2/5").unwrap().to_string(), "2/5");
    }

    #[test]
    fn parts_sum_to_the_whole_and_differ_by_at_most_one() {
        for count in [1, 2, 3, 4, 7, 16] {
            for total in [0, 1, 2, 3, 5, 10, 99, 1000, 1001] {
                let parts: Vec<u64> = shards(count).map(|s| s.part(total)).collect();
                assert_eq!(parts.iter().sum::<u64>(), total, "{total} over {count}");
                assert!(parts.iter().max().unwrap() - parts.iter().min().unwrap() <= 1);
                assert!(
                    parts.windows(2).all(|w| w[0] >= w[1]),
                    "first ones get more"
                );
                // The interleaved count matches the part: items I, I+N, ... below the total.
                for shard in shards(count) {
                    let owned = (0..total).filter(|n| shard.owns(*n)).count() as u64;
                    assert_eq!(owned, shard.part(total));
                }
            }
        }
    }

    #[test]
    fn constant_arrivals_interleave_into_exactly_the_whole_schedule() {
        // A ramp up, a hold and a ramp down: the union of 4 shards is the plan, arrival for arrival.
        let ramp = Ramp {
            start: Rate::per_second(10.0),
            stages: vec![
                Stage {
                    duration: Duration::from_secs(5),
                    target: Rate::per_second(200.0),
                },
                Stage {
                    duration: Duration::from_secs(5),
                    target: Rate::per_second(200.0),
                },
                Stage {
                    duration: Duration::from_secs(5),
                    target: Rate::per_second(0.0),
                },
            ],
        };
        let all = |shard: Shard| -> Vec<Duration> {
            let mut arrivals =
                Arrivals::new(Schedule::new(&ramp), Arrival::Constant, 1).share(shard);
            std::iter::from_fn(|| arrivals.next_offset()).collect()
        };
        let whole = all(Shard::WHOLE);
        assert!(whole.len() > 2000, "{}", whole.len());
        let mut union = Vec::new();
        for shard in shards(4) {
            let mine = all(shard);
            assert_eq!(mine.len() as u64, shard.part(whole.len() as u64));
            for (k, at) in mine.iter().enumerate() {
                assert_eq!(
                    *at,
                    whole[shard.index as usize + 4 * k],
                    "shard {shard} #{k}"
                );
            }
            union.extend(mine);
        }
        union.sort();
        assert_eq!(union, whole);
    }

    #[test]
    fn poisson_shards_are_independent_processes_of_a_part_of_the_rate() {
        let schedule = || Schedule::new(&Ramp::fixed(Rate::per_second(1000.0)));
        let horizon = Duration::from_secs(40);
        let mut firsts = Vec::new();
        let mut total = 0usize;
        for shard in shards(4) {
            let plan = test_plan();
            let seed = shard.apply(&plan).seed;
            let mut arrivals = Arrivals::new(schedule(), Arrival::Poisson, seed).share(shard);
            let offsets: Vec<Duration> = std::iter::from_fn(|| arrivals.next_offset())
                .take_while(|at| *at < horizon)
                .collect();
            // 250/s for 40 s: 10 000 expected; allow four standard deviations.
            let n = offsets.len() as f64;
            assert!((n - 10_000.0).abs() < 4.0 * 100.0, "shard {shard}: {n}");
            let gaps: Vec<f64> = offsets
                .windows(2)
                .map(|w| (w[1] - w[0]).as_secs_f64())
                .collect();
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            assert!((mean - 0.004).abs() < 0.0002, "mean gap {mean}");
            firsts.push(offsets[..5].to_vec());
            total += offsets.len();
        }
        assert!((total as f64 - 40_000.0).abs() < 4.0 * 200.0, "{total}");
        firsts.sort();
        firsts.dedup();
        assert_eq!(firsts.len(), 4, "each shard draws its own arrivals");
    }

    #[test]
    fn plans_split_counts_and_keep_rates_whole() {
        let mut plan = test_plan();
        plan.load.stop.iterations = Some(10);
        plan.load.pacing = Pacing::Open {
            rate: Ramp::fixed(Rate::per_second(200.0)),
            arrival: Arrival::Constant,
            max_in_flight: 9,
            saturation: crate::scenario::Saturation::Queue,
            max_queue: 2,
        };
        let parts: Vec<Plan> = shards(4).map(|s| s.apply(&plan)).collect();
        let iterations: Vec<u64> = parts
            .iter()
            .map(|p| p.load.stop.iterations.unwrap())
            .collect();
        assert_eq!(iterations, [3, 3, 2, 2]);
        let slots: Vec<(u32, u32)> = parts
            .iter()
            .map(|p| match p.load.pacing {
                Pacing::Open {
                    max_in_flight,
                    max_queue,
                    ref rate,
                    ..
                } => {
                    assert_eq!(
                        rate.start.as_per_second(),
                        200.0,
                        "the pacer takes the part"
                    );
                    (max_in_flight, max_queue)
                }
                Pacing::Closed { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(slots, [(3, 1), (2, 1), (2, 0), (2, 0)]);
        assert_eq!(parts[0].seed, plan.seed, "shard 0 keeps the plan's seed");
        assert_ne!(parts[1].seed, parts[2].seed);
        assert_eq!(Shard::WHOLE.apply(&plan).load, plan.load);

        plan.load.pacing = Pacing::Closed {
            vus: Ramp {
                start: 2,
                stages: vec![Stage {
                    duration: Duration::from_secs(1),
                    target: 10,
                }],
            },
            think_time: None,
            max_rate: Some(Rate::per_second(100.0)),
        };
        let vus: Vec<u64> = shards(4)
            .map(|s| match &plan.load.pacing {
                Pacing::Closed { vus, .. } => s.vus(vus),
                Pacing::Open { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(vus, [3, 3, 2, 2]);
        let Pacing::Closed { max_rate, .. } = Shard::parse("1/4").unwrap().apply(&plan).load.pacing
        else {
            unreachable!()
        };
        assert_eq!(max_rate.unwrap().as_per_second(), 25.0);
    }

    #[test]
    fn shards_name_their_agents_apart() {
        assert_eq!(Shard::WHOLE.name_prefix("r1"), "agentload-r1-");
        let one = Shard::parse("1/12").unwrap().name_prefix("r1");
        let ten = Shard::parse("10/12").unwrap().name_prefix("r1");
        assert_eq!(one, "agentload-r1-s1-");
        assert!(
            !ten.starts_with(&one),
            "shard 1 never sweeps shard 10's agents"
        );
        assert!(
            ten.starts_with("agentload-r1-"),
            "cleanup --run-id finds every shard's"
        );
    }

    #[test]
    fn run_ids_are_short_and_safe() {
        assert_eq!(check_run_id("nightly_0412"), Ok("nightly_0412".into()));
        assert!(check_run_id("a-b").unwrap_err().to_string().contains("'-'"));
        assert!(
            check_run_id("")
                .unwrap_err()
                .to_string()
                .contains("0 characters")
        );
        assert!(check_run_id(&"x".repeat(33)).is_err());
        assert!(check_run_id("é").is_err());
    }

    #[test]
    fn start_times_must_be_ahead_but_not_too_far() {
        let now = humantime::parse_rfc3339("2026-05-01T12:00:00Z").unwrap();
        let at = check_start_at("2026-05-01T12:00:30Z", now).unwrap();
        assert_eq!(at.duration_since(now).unwrap(), Duration::from_secs(30));
        let past = check_start_at("2026-05-01T11:59:00Z", now)
            .unwrap_err()
            .to_string();
        assert!(past.contains("1m in the past"), "{past}");
        let far = check_start_at("2026-05-03T12:00:00Z", now)
            .unwrap_err()
            .to_string();
        assert!(far.contains("24 hours"), "{far}");
        let bad = check_start_at("tomorrow", now).unwrap_err().to_string();
        assert!(bad.contains("RFC 3339"), "{bad}");
        // Fractions of a second are kept.
        let at = check_start_at("2026-05-01T12:00:01.250Z", now).unwrap();
        assert_eq!(at.duration_since(now).unwrap(), Duration::from_millis(1250));
    }
}
