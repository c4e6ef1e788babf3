//! The bootstrap confidence interval of a percentile's relative change between two histograms,
//! each replicate's order statistic drawn exactly (and cheaply) from the buckets: what tells a
//! moved percentile from noise when comparing runs.

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use super::buckets::Buckets;
use super::intervals::Bounds;

/// A bootstrap confidence interval, in percent, of (current - baseline) / baseline at
/// `quantile`, at confidence 1 - `alpha`, from `replicates` resamplings; `None` when either
/// side is empty, the baseline's percentile is zero, or there are no replicates. `seed` makes
/// it repeatable.
pub fn bootstrap_change(
    baseline: &Buckets,
    current: &Buckets,
    quantile: f64,
    alpha: f64,
    replicates: usize,
    seed: u64,
) -> Option<Bounds> {
    if baseline.is_empty()
        || current.is_empty()
        || baseline.value_at_fraction(quantile) == 0
        || replicates == 0
    {
        return None;
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut changes: Vec<f64> = (0..replicates)
        .map(|_| {
            let b = replicate(baseline, quantile, &mut rng).max(1) as f64;
            let c = replicate(current, quantile, &mut rng) as f64;
            (c - b) / b * 100.0
        })
        .collect();
    changes.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let index = ((q * replicates as f64).floor() as usize).min(replicates - 1);
        changes[index]
    };
    Some(Bounds {
        lo: at(alpha / 2.0),
        hi: at(1.0 - alpha / 2.0),
    })
}

/// One bootstrap replicate of the `quantile` percentile of `buckets`: the order statistic of
/// rank k = ceil(quantile n) of n values drawn with replacement. Drawn exactly and cheaply: the
/// k-th smallest of n uniforms is Beta(k, n - k + 1), and the quantile function maps it to the
/// k-th smallest draw.
fn replicate(buckets: &Buckets, quantile: f64, rng: &mut SmallRng) -> u64 {
    let n = buckets.len() as f64;
    let k = (quantile * n).ceil().clamp(1.0, n);
    let a = gamma(k, rng);
    let b = gamma(n - k + 1.0, rng);
    buckets.value_at_fraction(a / (a + b))
}

/// A Gamma(shape, 1) draw (Marsaglia and Tsang), shape >= 1.
fn gamma(shape: f64, rng: &mut SmallRng) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.random();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut SmallRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::samples::{histogram, lognormal, pinned};

    fn buckets(values: &[u64]) -> Buckets {
        Buckets::from_histogram(&histogram(values))
    }

    #[test]
    fn bootstrap_brackets_the_true_change_and_is_repeatable() {
        let base: Vec<u64> = (0..5000).map(|i| 100_000 + (i * 7919) % 20_000).collect();
        let slower: Vec<u64> = base.iter().map(|v| v * 16 / 10).collect();
        let Bounds { lo, hi } =
            bootstrap_change(&buckets(&base), &buckets(&slower), 0.95, 0.01, 2000, 7).unwrap();
        assert!(lo < 60.0 && 60.0 < hi && hi - lo < 5.0, "[{lo}, {hi}]");
        let again = bootstrap_change(&buckets(&base), &buckets(&slower), 0.95, 0.01, 2000, 7);
        assert_eq!(
            again,
            Some(Bounds { lo, hi }),
            "seeded: the same interval every time"
        );

        let Bounds { lo, hi } =
            bootstrap_change(&buckets(&base), &buckets(&base), 0.95, 0.01, 2000, 7).unwrap();
        assert!(lo < 0.0 && 0.0 < hi && hi - lo < 3.0, "[{lo}, {hi}]");
    }

    #[test]
    fn a_replicate_of_the_median_of_one_value_is_that_value() {
        let one = buckets(&[42]);
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(replicate(&one, 0.5, &mut rng), 42);
        let four = buckets(&[1, 2, 3, 4]);
        assert_eq!(
            (
                four.value_at_fraction(0.0),
                four.value_at_fraction(0.5),
                four.value_at_fraction(1.0)
            ),
            (1, 2, 4)
        );
    }

    #[test]
    fn bootstrap_intervals_are_pinned() {
        // Today's intervals (pinned before the bootstrap moved here), to 1e-12: log-normal
        // samples of 500 and 400, at p95 and at p50.
        let base = buckets(&lognormal(1, 500, 100_000.0));
        let cur = buckets(&lognormal(2, 400, 115_000.0));
        let Bounds { lo, hi } = bootstrap_change(&base, &cur, 0.95, 0.01, 2000, 7).unwrap();
        pinned(lo, -22.323959014606494);
        pinned(hi, 24.799130329749968);
        let Bounds { lo, hi } = bootstrap_change(&base, &cur, 0.5, 0.05, 500, 11).unwrap();
        pinned(lo, 2.9813953939770377);
        pinned(hi, 25.84296351375076);
    }

    #[test]
    fn nothing_to_draw_from_is_no_interval() {
        let some = buckets(&[1, 2, 3]);
        assert_eq!(
            bootstrap_change(&Buckets::default(), &some, 0.5, 0.05, 10, 1),
            None
        );
        assert_eq!(
            bootstrap_change(&some, &Buckets::default(), 0.5, 0.05, 10, 1),
            None
        );
        assert_eq!(
            bootstrap_change(&buckets(&[0, 0, 5]), &some, 0.5, 0.05, 10, 1),
            None
        );
        assert_eq!(bootstrap_change(&some, &some, 0.5, 0.05, 0, 1), None);
    }
}
