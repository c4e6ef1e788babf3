//! Confidence intervals computed from what a run keeps (histograms and counters, never raw
//! samples): distribution-free intervals of percentiles by order statistics, and Wilson score
//! intervals of error rates. These put the ± on the figures variants are compared by.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::recorder::Cell;
use crate::model::Metric;

/// The confidence of every interval reported.
pub const CONFIDENCE: f64 = 0.95;

/// A closed interval `[lo, hi]`, serialized as a two-element array.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval(pub f64, pub f64);

impl Interval {
    pub fn lo(self) -> f64 {
        self.0
    }

    pub fn hi(self) -> f64 {
        self.1
    }

    /// Both ends multiplied by `by` (µs to ms), to the µs: no float noise in the reports.
    pub fn scaled(self, by: f64) -> Interval {
        let round = |v: f64| (v * by * 1000.0).round() / 1000.0;
        Interval(round(self.0), round(self.1))
    }
}

/// A histogram as its recorded buckets, lowest first: (value, count), where the value is the
/// bucket's highest equivalent value (what [`Histogram::value_at_quantile`] reports), so two
/// histograms of the same precision share bucket values exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Buckets {
    pub values: Vec<u64>,
    /// Samples at or below each bucket: `cumulative[i]` counts buckets `0..=i`.
    pub cumulative: Vec<u64>,
}

impl Buckets {
    pub fn from_histogram(histogram: &Histogram<u64>) -> Buckets {
        let mut buckets = Buckets::default();
        let mut total = 0;
        for bucket in histogram.iter_recorded() {
            total += bucket.count_at_value();
            buckets.values.push(bucket.value_iterated_to());
            buckets.cumulative.push(total);
        }
        buckets
    }

    /// Buckets from (value, count) pairs, for tests.
    pub fn from_counts(pairs: &[(u64, u64)]) -> Buckets {
        let mut buckets = Buckets::default();
        let mut total = 0;
        for &(value, count) in pairs {
            total += count;
            buckets.values.push(value);
            buckets.cumulative.push(total);
        }
        buckets
    }

    pub fn len(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `rank`-th smallest sample (1-based).
    pub fn value_at_rank(&self, rank: u64) -> u64 {
        let index = self.cumulative.partition_point(|&c| c < rank);
        self.values[index.min(self.values.len() - 1)]
    }

    /// The count in each bucket, lowest value first.
    pub fn counts(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.values
            .iter()
            .zip(&self.cumulative)
            .scan(0, |before, (&value, &upto)| {
                let count = upto - *before;
                *before = upto;
                Some((value, count))
            })
    }

    /// The interval of the `quantile` (0..1) at `confidence`, by order statistics; `None` when
    /// there are too few samples for any pair of them to reach the confidence.
    pub fn quantile_interval(&self, quantile: f64, confidence: f64) -> Option<Interval> {
        let (lo, hi) = order_statistic_ranks(self.len(), quantile, confidence)?;
        Some(Interval(
            self.value_at_rank(lo) as f64,
            self.value_at_rank(hi) as f64,
        ))
    }
}

/// Above this many samples the binomial is replaced by its normal approximation, which is then
/// within a rank of the exact answer.
const EXACT_UP_TO: u64 = 20_000;

/// The 1-based ranks (l, u) of the order statistics that bracket the `quantile` of the
/// population with probability at least `confidence`: with B ~ Binomial(n, q), l is the
/// largest rank with P(B < l) <= α/2 and u the smallest with P(B >= u) <= α/2, so that
/// P(x(l) <= ξq <= x(u)) >= P(l <= B < u) >= 1 - α (for any continuous distribution; no
/// assumption about its shape). `None` when n is too small for either end.
pub fn order_statistic_ranks(n: u64, quantile: f64, confidence: f64) -> Option<(u64, u64)> {
    if n == 0 || !(0.0..1.0).contains(&quantile) || quantile == 0.0 {
        return None;
    }
    let tail = (1.0 - confidence) / 2.0;
    if n > EXACT_UP_TO {
        let z = normal_quantile(1.0 - tail);
        let mean = n as f64 * quantile;
        let spread = z * (mean * (1.0 - quantile)).sqrt();
        let lo = (mean - spread).floor().max(1.0) as u64;
        let hi = ((mean + spread).ceil() as u64 + 1).min(n);
        return Some((lo, hi));
    }
    // P(B <= k) for k = 0..n, summed from the log probabilities (no underflow trouble: what
    // underflows is far below any tail that matters).
    let (ln_q, ln_p) = (quantile.ln(), (1.0 - quantile).ln());
    let mut ln_choose = 0.0f64;
    let mut cdf = 0.0f64;
    let mut lo = None;
    let mut hi = None;
    for k in 0..n {
        if k > 0 {
            ln_choose += ((n - k + 1) as f64).ln() - (k as f64).ln();
        }
        cdf += (ln_choose + k as f64 * ln_q + (n - k) as f64 * ln_p).exp();
        // cdf is P(B <= k): rank k + 1 is a valid lower end while P(B < k + 1) <= tail.
        if cdf <= tail {
            lo = Some(k + 1);
        }
        if hi.is_none() && cdf >= 1.0 - tail {
            // P(B >= k + 1) <= tail: rank k + 1 is the upper end.
            hi = Some(k + 1);
            break;
        }
    }
    Some((lo?, hi?))
}

/// The Wilson score interval of a proportion `part / whole` at `confidence`: good also near 0
/// and 1, where the textbook ± interval collapses (0 errors of 50 still give [0, 7.1%]).
pub fn wilson(part: u64, whole: u64, confidence: f64) -> Option<Interval> {
    if whole == 0 {
        return None;
    }
    let n = whole as f64;
    let p = part as f64 / n;
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    let round = |v: f64| (v * 1e6).round() / 1e6;
    Some(Interval(
        round((centre - half).max(0.0)),
        round((centre + half).min(1.0)),
    ))
}

/// The complementary error function, with a relative error below 1.2e-7 everywhere
/// (Numerical Recipes' `erfcc`, a Chebyshev fit), so tiny p-values keep their magnitude.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let value = t * poly.exp();
    if x >= 0.0 { value } else { 2.0 - value }
}

/// P(Z > z) for a standard normal Z.
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The standard normal quantile, by bisection on [`normal_upper_tail`] (used with a handful of
/// fixed probabilities; accuracy 1e-9).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0f64, 40.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if 1.0 - normal_upper_tail(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The metrics whose percentiles get intervals in each variant's figures.
pub const CI_METRICS: [Metric; 5] = [
    Metric::Latency,
    Metric::Ttfs,
    Metric::InterStep,
    Metric::Steps,
    Metric::ServerTime,
];

/// The 95% intervals of one variant's figures for one op (`ci` in summary.json).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// Wilson interval of errors / requests, as a fraction.
    pub error_rate: Option<Interval>,
    /// Order-statistic intervals of p50 and p95, per metric, in the metric's unit (ms; steps
    /// as a count); `null` where too few samples reach 95%.
    pub metrics: BTreeMap<String, PercentileIntervals>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PercentileIntervals {
    pub p50: Option<Interval>,
    pub p95: Option<Interval>,
}

impl Intervals {
    pub fn of_cell(cell: &Cell) -> Intervals {
        let metrics = CI_METRICS
            .into_iter()
            .filter_map(|metric| {
                let buckets = Buckets::from_histogram(cell.histogram(metric)?);
                let scale = if metric.is_time() { 1e-3 } else { 1.0 };
                let at = |q| {
                    buckets
                        .quantile_interval(q, CONFIDENCE)
                        .map(|i| i.scaled(scale))
                };
                Some((
                    metric.name().to_owned(),
                    PercentileIntervals {
                        p50: at(0.5),
                        p95: at(0.95),
                    },
                ))
            })
            .collect();
        Intervals {
            error_rate: wilson(cell.error_count(), cell.requests, CONFIDENCE),
            metrics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_ranks_match_the_published_tables() {
        // Conover, Practical Nonparametric Statistics: n = 100 gives x(40)..x(61) at 95%.
        assert_eq!(order_statistic_ranks(100, 0.5, 0.95), Some((40, 61)));
        // n = 10: x(2)..x(9) (coverage 97.9%); n = 20: x(6)..x(15).
        assert_eq!(order_statistic_ranks(10, 0.5, 0.95), Some((2, 9)));
        assert_eq!(order_statistic_ranks(20, 0.5, 0.95), Some((6, 15)));
        // Five samples cannot bracket the median at 95% (the widest pair covers 93.75%).
        assert_eq!(order_statistic_ranks(5, 0.5, 0.95), None);
        assert_eq!(order_statistic_ranks(6, 0.5, 0.95), Some((1, 6)));
        // The p95 of 59 samples has no upper order statistic at 95% (P(B = 59) = 4.85% for
        // B ~ Bin(59, 0.95)); of 100, x(90)..x(100) (P(90 <= B < 100) = 98.3%).
        assert_eq!(order_statistic_ranks(59, 0.95, 0.95), None);
        // Its upper end needs P(B = n) = 0.95^n <= 2.5%: 72 samples.
        assert_eq!(order_statistic_ranks(71, 0.95, 0.95), None);
        assert_eq!(order_statistic_ranks(72, 0.95, 0.95), Some((64, 72)));
        assert_eq!(order_statistic_ranks(100, 0.95, 0.95), Some((90, 100)));
        assert_eq!(order_statistic_ranks(0, 0.5, 0.95), None);
    }

    #[test]
    fn the_normal_approximation_agrees_with_the_exact_ranks_where_they_meet() {
        let n = EXACT_UP_TO;
        let exact = order_statistic_ranks(n, 0.5, 0.95).unwrap();
        let approx = order_statistic_ranks(n + 1, 0.5, 0.95).unwrap();
        assert!(exact.0.abs_diff(approx.0) <= 1, "{exact:?} {approx:?}");
        assert!(exact.1.abs_diff(approx.1) <= 2, "{exact:?} {approx:?}");
        // The interval of the median of a million samples is about ±980 ranks.
        let (lo, hi) = order_statistic_ranks(1_000_000, 0.5, 0.95).unwrap();
        assert!((499_000..499_030).contains(&lo) && (500_970..501_000).contains(&hi));
    }

    #[test]
    fn intervals_read_the_order_statistics_off_the_buckets() {
        // 1..=100 ms, one sample each, recorded in µs: the median's interval is x(40)..x(61).
        let mut histogram = Histogram::<u64>::new(3).unwrap();
        for ms in 1..=100u64 {
            histogram.record(ms * 1000).unwrap();
        }
        let buckets = Buckets::from_histogram(&histogram);
        assert_eq!(buckets.len(), 100);
        let ci = buckets.quantile_interval(0.5, 0.95).unwrap();
        assert!((ci.lo() - 40_000.0).abs() <= 40.0, "{ci:?}");
        assert!((ci.hi() - 61_000.0).abs() <= 61.0, "{ci:?}");
        // The point estimate reported in Stats lies inside.
        let p50 = histogram.value_at_quantile(0.5) as f64;
        assert!(ci.lo() <= p50 && p50 <= ci.hi());
        assert_eq!(buckets.value_at_rank(1), histogram.value_at_quantile(0.0));
        let counts: Vec<(u64, u64)> = Buckets::from_counts(&[(5, 2), (9, 3)]).counts().collect();
        assert_eq!(counts, [(5, 2), (9, 3)]);
    }

    #[test]
    fn wilson_intervals_match_known_values() {
        // 0 of 50: [0, 7.13%]; 10 of 100: [5.52%, 17.44%] (Newcombe 1998, method 3).
        let zero = wilson(0, 50, 0.95).unwrap();
        assert_eq!(zero.lo(), 0.0);
        assert!((zero.hi() - 0.0713).abs() < 0.0001, "{zero:?}");
        let ten = wilson(10, 100, 0.95).unwrap();
        assert!((ten.lo() - 0.0552).abs() < 0.0001, "{ten:?}");
        assert!((ten.hi() - 0.1744).abs() < 0.0001, "{ten:?}");
        assert_eq!(wilson(0, 0, 0.95), None);
    }

    #[test]
    fn the_normal_distribution_is_right_in_the_tails() {
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((normal_upper_tail(1.959_964) - 0.025).abs() < 1e-7);
        // P(Z > 10) = 7.62e-24: relative accuracy holds far out.
        let far = normal_upper_tail(10.0);
        assert!((far / 7.619_853e-24 - 1.0).abs() < 1e-5, "{far:e}");
        assert!((erfc(-1.0) - 1.842_700_79).abs() < 1e-6);
    }
}
