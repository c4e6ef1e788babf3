//! The faults one run gets, drawn up front from the request's fault generator, as its
//! [`RunPlan`](super::stream::RunPlan) is from its own: whether it stalls, is cut, sends a
//! malformed step, answers with the wrong content type or drops its callback, and where.
//!
//! Every decision is drawn first, one value each in a fixed order whatever is configured, and
//! only then the values of the faults that fire; so turning one fault on or off never changes
//! which runs another fault hits.

use std::time::Duration;

use rand::{Rng, RngExt};

use super::faults::{Chance, RunFaults, Stall};
use crate::model::units::Spread;

/// What goes wrong with one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Extra wait before the first step of a stream, or before a blocking run answers.
    pub stall_first: Duration,
    /// The stream's connection is closed after this many steps, this long after the last of
    /// them (when the next step would have come).
    pub cut: Option<(usize, Duration)>,
    /// The step whose event carries data that is not JSON.
    pub malformed: Option<usize>,
    /// The stream is answered as a blocking run: 200 with `application/json`.
    pub wrong_content_type: bool,
    /// The run's result is never POSTed to its `callbackUrl`.
    pub drop_callback: bool,
}

fn chance(stall: Option<Stall>) -> Chance {
    stall.map_or(Chance::NEVER, |stall| stall.chance)
}

fn stall_length(stall: Option<Stall>, rng: &mut impl Rng) -> Duration {
    stall.map_or(Duration::ZERO, |stall| stall.duration.sample(rng))
}

/// Draws the faults of a run whose steps come after `delays` (the first is the time to the
/// first step, each later one a gap). Stalls are added to `delays` in place; `step_gap` times
/// a cut that comes after the last step.
pub fn draw(
    rng: &mut impl Rng,
    faults: &RunFaults,
    delays: &mut [Duration],
    step_gap: Spread<Duration>,
) -> FaultPlan {
    let stall_first = chance(faults.stall_first).draw(rng);
    let cut = faults
        .cut_after
        .map_or(Chance::NEVER, |cut| cut.chance)
        .draw(rng);
    let malformed = faults.malformed.draw(rng);
    let wrong_content_type = faults.wrong_content_type.draw(rng);
    let drop_callback = faults.callback_drop.draw(rng);
    let gaps = delays.len().saturating_sub(1);
    let stalled_gaps: Vec<bool> = (0..gaps)
        .map(|_| chance(faults.stall_between).draw(rng))
        .collect();

    let mut plan = FaultPlan {
        wrong_content_type,
        drop_callback,
        ..FaultPlan::default()
    };
    if stall_first {
        plan.stall_first = stall_length(faults.stall_first, rng);
        if let Some(first) = delays.first_mut() {
            *first += plan.stall_first;
        }
    }
    for (gap, stalled) in delays.iter_mut().skip(1).zip(stalled_gaps) {
        if stalled {
            *gap += stall_length(faults.stall_between, rng);
        }
    }
    if cut && let Some(spec) = faults.cut_after {
        let after = (spec.after.sample(rng) as usize).min(delays.len());
        let when = match delays.get(after) {
            Some(&delay) => delay,
            None => step_gap.sample(rng),
        };
        plan.cut = Some((after, when));
    }
    if malformed && !delays.is_empty() {
        plan.malformed = Some(rng.random_range(0..delays.len()));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::faults::Cut;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn delays() -> Vec<Duration> {
        vec![ms(100), ms(10), ms(20), ms(30)]
    }

    fn draw_with(faults: &RunFaults, seed: u64) -> (FaultPlan, Vec<Duration>) {
        let mut delays = delays();
        let plan = draw(
            &mut SmallRng::seed_from_u64(seed),
            faults,
            &mut delays,
            Spread::fixed(ms(7)),
        );
        (plan, delays)
    }

    #[test]
    fn no_faults_change_nothing() {
        let (plan, delays) = draw_with(&RunFaults::default(), 1);
        assert_eq!(plan, FaultPlan::default());
        assert_eq!(delays, self::delays());
    }

    #[test]
    fn certain_stalls_lengthen_the_first_step_and_every_gap() {
        let faults = RunFaults {
            stall_first: Some(Stall::parse("2s").unwrap()),
            stall_between: Some(Stall::parse("500ms").unwrap()),
            ..RunFaults::default()
        };
        let (plan, delays) = draw_with(&faults, 1);
        assert_eq!(plan.stall_first, ms(2000));
        assert_eq!(delays, [ms(2100), ms(510), ms(520), ms(530)]);
    }

    #[test]
    fn a_cut_comes_when_the_next_step_would_have() {
        let cut = |text| RunFaults {
            cut_after: Some(Cut::parse(text).unwrap()),
            ..RunFaults::default()
        };
        assert_eq!(draw_with(&cut("2"), 1).0.cut, Some((2, ms(20))));
        assert_eq!(draw_with(&cut("0"), 1).0.cut, Some((0, ms(100))));
        assert_eq!(
            draw_with(&cut("9"), 1).0.cut,
            Some((4, ms(7))),
            "after the last step: one more step gap"
        );
        assert_eq!(draw_with(&cut("2@0%"), 1).0.cut, None);
    }

    #[test]
    fn a_malformed_step_is_one_of_the_run_s_steps() {
        let faults = RunFaults {
            malformed: Chance::ALWAYS,
            wrong_content_type: Chance::ALWAYS,
            callback_drop: Chance::ALWAYS,
            ..RunFaults::default()
        };
        let mut seen = [false; 4];
        for seed in 0..200 {
            let (plan, _) = draw_with(&faults, seed);
            seen[plan.malformed.unwrap()] = true;
            assert!(plan.wrong_content_type && plan.drop_callback);
        }
        assert_eq!(seen, [true; 4]);
    }

    #[test]
    fn one_fault_never_changes_which_runs_another_hits() {
        let cut_only = RunFaults {
            cut_after: Some(Cut::parse("1@30%").unwrap()),
            ..RunFaults::default()
        };
        let cut_and_more = RunFaults {
            malformed: Chance::parse("50%").unwrap(),
            stall_first: Some(Stall::parse("1ms..9ms@50%").unwrap()),
            stall_between: Some(Stall::parse("1ms..9ms@50%").unwrap()),
            ..cut_only
        };
        let mut cuts = 0;
        for seed in 0..500 {
            let alone = draw_with(&cut_only, seed).0.cut.is_some();
            let together = draw_with(&cut_and_more, seed).0.cut.is_some();
            assert_eq!(alone, together, "seed {seed}");
            cuts += usize::from(alone);
        }
        assert!((100..200).contains(&cuts), "about 30% of 500: {cuts}");
    }

    #[test]
    fn the_same_generator_gives_the_same_faults() {
        let faults = RunFaults {
            cut_after: Some(Cut::parse("0..3@50%").unwrap()),
            stall_between: Some(Stall::parse("1ms..50ms@50%").unwrap()),
            malformed: Chance::parse("50%").unwrap(),
            ..RunFaults::default()
        };
        for seed in 0..50 {
            assert_eq!(draw_with(&faults, seed), draw_with(&faults, seed));
        }
    }
}
