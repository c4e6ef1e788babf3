//! The search for the highest rate that passes: double from the lowest rate until a step fails
//! (or the highest rate passes), then bisect between the highest pass and the lowest failure
//! until they are within the precision. Pure: it proposes rates and is told whether each passed,
//! so it is tested with an oracle instead of a server.

/// Where the search stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    min: f64,
    max: f64,
    /// Stop when the gap between the highest pass and the lowest failure is at most this
    /// fraction of the highest pass.
    precision: f64,
    passed: Option<f64>,
    failed: Option<f64>,
}

/// What the search found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// Even the lowest rate failed.
    BelowMin { min: f64 },
    /// `rate` passed, and `failed` (if known) is the lowest rate that did not.
    Capacity { rate: f64, failed: Option<f64> },
    /// The highest rate passed: the capacity is at least that.
    AtLeastMax { max: f64 },
}

impl Search {
    /// A search over `min..=max` (per second), to `precision` (a fraction, e.g. 0.1).
    pub fn new(min: f64, max: f64, precision: f64) -> Search {
        Search {
            min,
            max: max.max(min),
            precision,
            passed: None,
            failed: None,
        }
    }

    /// The next rate to try, or `None` when the search is done.
    pub fn next(&self) -> Option<f64> {
        match (self.passed, self.failed) {
            (None, None) => Some(self.min),
            (None, Some(_)) => None,
            (Some(lo), None) if lo >= self.max => None,
            (Some(lo), None) => Some(round_rate((lo * 2.0).min(self.max))),
            (Some(lo), Some(hi)) => {
                if hi - lo <= lo * self.precision {
                    return None;
                }
                let middle = round_rate((lo + hi) / 2.0);
                (middle > lo && middle < hi).then_some(middle)
            }
        }
    }

    /// Records the verdict of a step at `rate`.
    pub fn record(&mut self, rate: f64, passed: bool) {
        if passed {
            self.passed = Some(self.passed.map_or(rate, |lo| lo.max(rate)));
        } else {
            self.failed = Some(self.failed.map_or(rate, |hi| hi.min(rate)));
        }
    }

    pub fn outcome(&self) -> Outcome {
        match self.passed {
            None => Outcome::BelowMin { min: self.min },
            Some(lo) if lo >= self.max => Outcome::AtLeastMax { max: self.max },
            Some(rate) => Outcome::Capacity {
                rate,
                failed: self.failed,
            },
        }
    }
}

/// A rate rounded to three significant digits, so steps have readable names (13.3, not
/// 13.333333).
pub fn round_rate(rate: f64) -> f64 {
    if rate <= 0.0 || !rate.is_finite() {
        return rate;
    }
    // Powers of ten at or above 1 are exact, so dividing or multiplying by one rounds cleanly.
    let digits = 2 - rate.log10().floor() as i32;
    if digits >= 0 {
        let scale = 10f64.powi(digits);
        (rate * scale).round() / scale
    } else {
        let scale = 10f64.powi(-digits);
        (rate / scale).round() * scale
    }
}

/// Runs a whole search against `passes`, returning the rates tried in order and the outcome.
pub fn run(mut search: Search, mut passes: impl FnMut(f64) -> bool) -> (Vec<f64>, Outcome) {
    let mut tried = Vec::new();
    while let Some(rate) = search.next() {
        tried.push(rate);
        search.record(rate, passes(rate));
    }
    (tried, search.outcome())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_bisects_to_the_precision() {
        // Everything up to 20/s passes.
        let (tried, outcome) = run(Search::new(1.0, 1000.0, 0.1), |rate| rate <= 20.0);
        assert_eq!(tried, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 24.0, 20.0, 22.0]);
        assert_eq!(
            outcome,
            Outcome::Capacity {
                rate: 20.0,
                failed: Some(22.0)
            }
        );
    }

    #[test]
    fn the_answer_is_within_the_precision_of_any_edge() {
        for edge in [1.3, 7.0, 9.99, 10.0, 55.5, 123.0, 640.0, 999.0] {
            for precision in [0.02, 0.1, 0.25] {
                let (tried, outcome) =
                    run(Search::new(1.0, 1000.0, precision), |rate| rate <= edge);
                let Outcome::Capacity { rate, failed } = outcome else {
                    panic!("edge {edge}: {outcome:?}")
                };
                assert!(rate <= edge, "edge {edge}: {rate} passed");
                let failed = failed.unwrap();
                assert!(failed > edge);
                // Within the precision, give or take the rounding to 3 digits.
                assert!(
                    failed - rate <= rate * precision + rate * 0.01,
                    "edge {edge} precision {precision}: {rate}..{failed} after {tried:?}"
                );
                assert!(tried.len() <= 25, "{tried:?}");
            }
        }
    }

    #[test]
    fn ends_below_the_lowest_and_at_the_highest_rate() {
        let (tried, outcome) = run(Search::new(5.0, 100.0, 0.1), |_| false);
        assert_eq!(tried, [5.0]);
        assert_eq!(outcome, Outcome::BelowMin { min: 5.0 });
        let (tried, outcome) = run(Search::new(5.0, 100.0, 0.1), |_| true);
        assert_eq!(tried, [5.0, 10.0, 20.0, 40.0, 80.0, 100.0]);
        assert_eq!(outcome, Outcome::AtLeastMax { max: 100.0 });
    }

    #[test]
    fn a_noisy_oracle_still_ends() {
        // Passes and failures that do not agree with any edge: the search keeps its bracket.
        let mut flip = false;
        let (tried, outcome) = run(Search::new(1.0, 64.0, 0.05), |_| {
            flip = !flip;
            flip
        });
        assert!(tried.len() < 20, "{tried:?}");
        assert!(matches!(outcome, Outcome::Capacity { .. }), "{outcome:?}");
    }

    #[test]
    fn rates_are_rounded_to_three_digits() {
        assert_eq!(round_rate(13.333_333), 13.3);
        assert_eq!(round_rate(1234.5), 1230.0);
        assert_eq!(round_rate(0.123_456), 0.123);
        assert_eq!(round_rate(20.0), 20.0);
    }
}
