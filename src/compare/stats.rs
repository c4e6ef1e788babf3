//! The statistics behind `compare`, computed from histograms rather than raw samples (its rank
//! test is [`crate::stats::mann_whitney`]): a bootstrap confidence interval of the relative
//! difference of a percentile (each replicate's order statistic drawn exactly from the
//! histogram), and a two-proportion z-test for error rates.

use crate::stats::normal::erfc;
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// A two-proportion z-test (pooled): are `errors_b / n_b` and `errors_c / n_c` different?
/// Two-sided p-value; 1 when there is nothing to tell them apart.
pub fn two_proportions(errors_b: u64, n_b: u64, errors_c: u64, n_c: u64) -> f64 {
    if n_b == 0 || n_c == 0 {
        return 1.0;
    }
    let (nb, nc) = (n_b as f64, n_c as f64);
    let pooled = (errors_b + errors_c) as f64 / (nb + nc);
    let se = (pooled * (1.0 - pooled) * (1.0 / nb + 1.0 / nc)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    let z = (errors_c as f64 / nc - errors_b as f64 / nb) / se;
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// A histogram's quantile function, for drawing values from it.
struct Quantiles {
    /// (value, count of values up to and including it), ascending.
    cumulative: Vec<(u64, u64)>,
    total: u64,
}

impl Quantiles {
    fn new(histogram: &Histogram<u64>) -> Quantiles {
        let mut total = 0;
        let cumulative = histogram
            .iter_recorded()
            .map(|bucket| {
                total += bucket.count_at_value();
                (
                    histogram.highest_equivalent(bucket.value_iterated_to()),
                    total,
                )
            })
            .collect();
        Quantiles { cumulative, total }
    }

    /// The value of rank `rank` (1-based) in ascending order.
    fn at_rank(&self, rank: u64) -> u64 {
        let index = self.cumulative.partition_point(|(_, up_to)| *up_to < rank);
        self.cumulative
            .get(index.min(self.cumulative.len().saturating_sub(1)))
            .map_or(0, |(value, _)| *value)
    }

    /// The value below which a fraction `u` of the values lie.
    fn at(&self, u: f64) -> u64 {
        let rank = ((u * self.total as f64).ceil() as u64).clamp(1, self.total.max(1));
        self.at_rank(rank)
    }

    /// One bootstrap replicate of the `quantile` percentile: the order statistic of rank
    /// k = ceil(quantile n) of n values drawn with replacement. Drawn exactly and cheaply: the
    /// k-th smallest of n uniforms is Beta(k, n - k + 1), and the quantile function maps it to
    /// the k-th smallest draw.
    fn replicate(&self, quantile: f64, rng: &mut SmallRng) -> u64 {
        let n = self.total as f64;
        let k = (quantile * n).ceil().clamp(1.0, n);
        let a = gamma(k, rng);
        let b = gamma(n - k + 1.0, rng);
        self.at(a / (a + b))
    }
}

/// A bootstrap confidence interval, in percent, of (current - baseline) / baseline at
/// `quantile`, at confidence 1 - `alpha`; `None` when either side is empty or the baseline's
/// percentile is zero. `seed` makes it repeatable.
pub fn bootstrap_change(
    baseline: &Histogram<u64>,
    current: &Histogram<u64>,
    quantile: f64,
    alpha: f64,
    replicates: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if baseline.is_empty() || current.is_empty() || baseline.value_at_quantile(quantile) == 0 {
        return None;
    }
    let (base, cur) = (Quantiles::new(baseline), Quantiles::new(current));
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut changes: Vec<f64> = (0..replicates)
        .map(|_| {
            let b = base.replicate(quantile, &mut rng).max(1) as f64;
            let c = cur.replicate(quantile, &mut rng) as f64;
            (c - b) / b * 100.0
        })
        .collect();
    changes.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let index = ((q * replicates as f64).floor() as usize).min(replicates - 1);
        changes[index]
    };
    Some((at(alpha / 2.0), at(1.0 - alpha / 2.0)))
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

    fn histogram(values: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::new(3).unwrap();
        for v in values {
            h.record(*v).unwrap();
        }
        h
    }

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not {expected} ± {tolerance}"
        );
    }

    #[test]
    fn two_proportions_matches_the_formula() {
        // 10/1000 vs 30/1000: pooled 0.02, se = sqrt(0.02*0.98*0.002) = 0.0062610,
        // z = 0.02/0.0062610 = 3.194383, p = 0.0014013.
        close(two_proportions(10, 1000, 30, 1000), 0.001_401_3, 1e-6);
        assert_eq!(two_proportions(0, 100, 0, 100), 1.0);
        assert_eq!(two_proportions(0, 0, 3, 10), 1.0);
    }

    #[test]
    fn bootstrap_brackets_the_true_change_and_is_repeatable() {
        let base: Vec<u64> = (0..5000).map(|i| 100_000 + (i * 7919) % 20_000).collect();
        let slower: Vec<u64> = base.iter().map(|v| v * 16 / 10).collect();
        let (lo, hi) =
            bootstrap_change(&histogram(&base), &histogram(&slower), 0.95, 0.01, 2000, 7).unwrap();
        assert!(lo < 60.0 && 60.0 < hi && hi - lo < 5.0, "[{lo}, {hi}]");
        let again = bootstrap_change(&histogram(&base), &histogram(&slower), 0.95, 0.01, 2000, 7);
        assert_eq!(
            again,
            Some((lo, hi)),
            "seeded: the same interval every time"
        );

        let (lo, hi) =
            bootstrap_change(&histogram(&base), &histogram(&base), 0.95, 0.01, 2000, 7).unwrap();
        assert!(lo < 0.0 && 0.0 < hi && hi - lo < 3.0, "[{lo}, {hi}]");
    }

    #[test]
    fn a_replicate_of_the_median_of_one_value_is_that_value() {
        let quantiles = Quantiles::new(&histogram(&[42]));
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(quantiles.replicate(0.5, &mut rng), 42);
        let quantiles = Quantiles::new(&histogram(&[1, 2, 3, 4]));
        assert_eq!(
            (quantiles.at(0.0), quantiles.at(0.5), quantiles.at(1.0)),
            (1, 2, 4)
        );
    }

    /// `n` values from a seeded log-normal with median `median` and σ 0.5 on the log scale:
    /// skewed like real latencies (values in µs).
    fn lognormal(seed: u64, n: usize, median: f64) -> Vec<u64> {
        let mut rng = SmallRng::seed_from_u64(seed);
        (0..n)
            .map(|_| (median * (0.5 * normal(&mut rng)).exp()).round() as u64)
            .collect()
    }

    fn pinned(actual: f64, expected: f64) {
        let tolerance = 1e-12 * expected.abs();
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual:?} is not the pinned {expected:?}"
        );
    }

    #[test]
    fn bootstrap_intervals_and_proportion_tests_are_pinned() {
        let base = histogram(&lognormal(1, 500, 100_000.0));
        let cur = histogram(&lognormal(2, 400, 115_000.0));
        let (lo, hi) = bootstrap_change(&base, &cur, 0.95, 0.01, 2000, 7).unwrap();
        pinned(lo, -22.323959014606494);
        pinned(hi, 24.799130329749968);
        let (lo, hi) = bootstrap_change(&base, &cur, 0.5, 0.05, 500, 11).unwrap();
        pinned(lo, 2.9813953939770377);
        pinned(hi, 25.84296351375076);
        pinned(two_proportions(10, 1000, 30, 1000), 0.0014013016620898456);
        pinned(two_proportions(3, 70, 0, 90), 0.047408078729806145);
    }
}
