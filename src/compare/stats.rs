//! The statistics behind `compare`, computed from histograms rather than raw samples: a
//! Mann-Whitney U rank test over the two histograms' buckets (ties by midranks, normal
//! approximation with tie and continuity corrections), a bootstrap confidence interval of the
//! relative difference of a percentile (each replicate's order statistic drawn exactly from the
//! histogram), and a two-proportion z-test for error rates.

use crate::metrics::ci::erfc;
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// The result of a Mann-Whitney U test of `current` against `baseline`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankTest {
    /// U of the current sample: pairs (baseline, current) where current is larger, ties half.
    pub u: f64,
    /// U / (n_baseline n_current): the chance a current value exceeds a baseline one (ties
    /// half); 0.5 when the two are alike.
    pub effect: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// The Mann-Whitney U test on two histograms, each bucket a group of tied values. `None` when
/// either is empty.
pub fn mann_whitney(baseline: &Histogram<u64>, current: &Histogram<u64>) -> Option<RankTest> {
    let groups = merged_buckets(baseline, current);
    rank_test(&groups)
}

/// Values with their counts in baseline and current, ascending.
fn merged_buckets(baseline: &Histogram<u64>, current: &Histogram<u64>) -> Vec<(u64, u64, u64)> {
    let mut groups = std::collections::BTreeMap::<u64, (u64, u64)>::new();
    for bucket in baseline.iter_recorded() {
        groups
            .entry(baseline.highest_equivalent(bucket.value_iterated_to()))
            .or_default()
            .0 += bucket.count_at_value();
    }
    for bucket in current.iter_recorded() {
        groups
            .entry(current.highest_equivalent(bucket.value_iterated_to()))
            .or_default()
            .1 += bucket.count_at_value();
    }
    groups.into_iter().map(|(v, (a, b))| (v, a, b)).collect()
}

/// The U test over ascending groups of (value, baseline count, current count).
fn rank_test(groups: &[(u64, u64, u64)]) -> Option<RankTest> {
    let n_base: f64 = groups.iter().map(|g| g.1 as f64).sum();
    let n_cur: f64 = groups.iter().map(|g| g.2 as f64).sum();
    if n_base == 0.0 || n_cur == 0.0 {
        return None;
    }
    let n = n_base + n_cur;
    let (mut below, mut rank_sum, mut ties) = (0.0f64, 0.0f64, 0.0f64);
    for &(_, base, cur) in groups {
        let t = (base + cur) as f64;
        // The group holds ranks below+1 ..= below+t; each gets their mean.
        let midrank = below + (t + 1.0) / 2.0;
        rank_sum += cur as f64 * midrank;
        ties += t * t * t - t;
        below += t;
    }
    let u = rank_sum - n_cur * (n_cur + 1.0) / 2.0;
    let mean = n_base * n_cur / 2.0;
    let variance = n_base * n_cur / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)).max(1.0));
    let p_value = if variance <= 0.0 {
        1.0
    } else {
        let distance = ((u - mean).abs() - 0.5).max(0.0);
        let z = distance / variance.sqrt();
        erfc(z / std::f64::consts::SQRT_2).min(1.0)
    };
    Some(RankTest {
        u,
        effect: u / (n_base * n_cur),
        p_value,
    })
}

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
    fn erfc_matches_known_values() {
        // erfc(0) = 1, erfc(1) = 0.157299207, erfc(-1) = 1.842700793, erfc(3) = 2.209049700e-5.
        close(erfc(0.0), 1.0, 1e-7);
        close(erfc(1.0), 0.157_299_207, 1e-7);
        close(erfc(-1.0), 1.842_700_793, 1e-7);
        close(erfc(3.0), 2.209_049_7e-5, 1e-9);
    }

    #[test]
    fn rank_test_without_ties_matches_the_formula() {
        // baseline 1 2 3, current 4 5 6: R_cur = 4+5+6 = 15, U = 15 - 3*4/2 = 9, mean 4.5,
        // var = 3*3/12 * 7 = 5.25, z = (9 - 4.5 - 0.5)/sqrt(5.25) = 1.745743,
        // p = erfc(z/sqrt 2) = 0.080856 (scipy.stats.mannwhitneyu(..., method="asymptotic")).
        let test = mann_whitney(&histogram(&[1, 2, 3]), &histogram(&[4, 5, 6])).unwrap();
        assert_eq!((test.u, test.effect), (9.0, 1.0));
        close(test.p_value, 0.080_856, 1e-5);
        // Swapped: U = 0, the same two-sided p.
        let swapped = mann_whitney(&histogram(&[4, 5, 6]), &histogram(&[1, 2, 3])).unwrap();
        assert_eq!(swapped.u, 0.0);
        close(swapped.p_value, 0.080_856, 1e-5);
    }

    #[test]
    fn rank_test_with_ties_uses_midranks_and_the_tie_correction() {
        // baseline 1 1 2 2, current 2 2 3 3: midranks 1.5 (1s), 4.5 (2s), 7.5 (3s);
        // R_cur = 2*4.5 + 2*7.5 = 24, U = 24 - 10 = 14, mean 8;
        // ties: (2^3-2) + (4^3-4) + (2^3-2) = 72; var = 16/12 * (9 - 72/56) = 10.285714;
        // z = (14 - 8 - 0.5)/sqrt(10.285714) = 1.714926, p = 0.086359.
        let test = mann_whitney(&histogram(&[1, 1, 2, 2]), &histogram(&[2, 2, 3, 3])).unwrap();
        assert_eq!(test.u, 14.0);
        close(test.effect, 14.0 / 16.0, 1e-12);
        close(test.p_value, 0.086_359, 1e-5);
    }

    #[test]
    fn rank_test_on_identical_samples_finds_nothing() {
        let values: Vec<u64> = (1..=1000).collect();
        let test = mann_whitney(&histogram(&values), &histogram(&values)).unwrap();
        assert_eq!(test.effect, 0.5);
        assert_eq!(test.p_value, 1.0);
        assert!(mann_whitney(&histogram(&[]), &histogram(&[1])).is_none());
        // Every value tied: no variance, nothing to tell.
        let same = mann_whitney(&histogram(&[7; 10]), &histogram(&[7; 10])).unwrap();
        assert_eq!(same.p_value, 1.0);
    }

    #[test]
    fn rank_test_sees_a_large_shift_with_many_values() {
        let base: Vec<u64> = (0..2000).map(|i| 100_000 + i * 10).collect();
        let slower: Vec<u64> = base.iter().map(|v| v * 16 / 10).collect();
        let test = mann_whitney(&histogram(&base), &histogram(&slower)).unwrap();
        assert!(test.p_value < 1e-12, "{test:?}");
        assert!(test.effect > 0.99);
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

    /// Four values, each many times over: the ties histograms make.
    fn tied(counts: [u64; 4]) -> Histogram<u64> {
        let mut h = Histogram::new(3).unwrap();
        for (value, count) in [10, 20, 30, 40].into_iter().zip(counts) {
            h.record_n(value, count).unwrap();
        }
        h
    }

    fn pinned(actual: f64, expected: f64) {
        let tolerance = 1e-12 * expected.abs();
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual:?} is not the pinned {expected:?}"
        );
    }

    #[test]
    fn rank_tests_of_skewed_and_tied_data_are_pinned() {
        // Today's u, effect and p, to 1e-12: log-normal samples of 500 and 400 (each way
        // round), 3000 each 30% apart (a p far in the tail), and four values each many times
        // over.
        let skewed = (
            histogram(&lognormal(1, 500, 100_000.0)),
            histogram(&lognormal(2, 400, 115_000.0)),
        );
        let far = (
            histogram(&lognormal(3, 3000, 100_000.0)),
            histogram(&lognormal(4, 3000, 130_000.0)),
        );
        let tied = (tied([50, 30, 15, 5]), tied([30, 35, 25, 10]));
        let cases = [
            (
                &skewed.0,
                &skewed.1,
                113183.0,
                0.565915,
                0.000669387166604659,
            ),
            (
                &skewed.1,
                &skewed.0,
                86817.0,
                0.434085,
                0.000669387166604659,
            ),
            (
                &far.0,
                &far.1,
                5776928.5,
                0.6418809444444444,
                8.96288784817527e-81,
            ),
            (&tied.0, &tied.1, 6187.5, 0.61875, 0.002150079417382793),
        ];
        for (baseline, current, u, effect, p_value) in cases {
            let test = mann_whitney(baseline, current).unwrap();
            assert_eq!(test.u, u);
            pinned(test.effect, effect);
            pinned(test.p_value, p_value);
        }
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
