//! Confidence intervals from what a run keeps (histograms and counters, never raw samples):
//! distribution-free intervals of percentiles by order statistics, and Wilson score intervals
//! of proportions.

use super::buckets::Buckets;
use super::normal::normal_quantile;

/// A closed interval `[lo, hi]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub lo: f64,
    pub hi: f64,
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

/// The interval of the `quantile` (0..1) of `buckets` at `confidence`, by order statistics;
/// `None` when there are too few samples for any pair of them to reach the confidence.
pub fn quantile_interval(buckets: &Buckets, quantile: f64, confidence: f64) -> Option<Bounds> {
    let (lo, hi) = order_statistic_ranks(buckets.len(), quantile, confidence)?;
    Some(Bounds {
        lo: buckets.value_at_rank(lo) as f64,
        hi: buckets.value_at_rank(hi) as f64,
    })
}

/// The Wilson score interval of a proportion `part / whole` at `confidence`, to 1e-6: good also
/// near 0 and 1, where the textbook ± interval collapses (0 errors of 50 still give [0, 7.1%]).
pub fn wilson(part: u64, whole: u64, confidence: f64) -> Option<Bounds> {
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
    Some(Bounds {
        lo: round((centre - half).max(0.0)),
        hi: round((centre + half).min(1.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;

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
        let ci = quantile_interval(&buckets, 0.5, 0.95).unwrap();
        assert!((ci.lo - 40_000.0).abs() <= 40.0, "{ci:?}");
        assert!((ci.hi - 61_000.0).abs() <= 61.0, "{ci:?}");
        // The point estimate reported in Stats lies inside.
        let p50 = histogram.value_at_quantile(0.5) as f64;
        assert!(ci.lo <= p50 && p50 <= ci.hi);
        assert_eq!(buckets.value_at_rank(1), histogram.value_at_quantile(0.0));
        let counts: Vec<(u64, u64)> = Buckets::from_counts(&[(5, 2), (9, 3)]).counts().collect();
        assert_eq!(counts, [(5, 2), (9, 3)]);
    }

    #[test]
    fn wilson_intervals_match_known_values() {
        // 0 of 50: [0, 7.13%]; 10 of 100: [5.52%, 17.44%] (Newcombe 1998, method 3).
        let zero = wilson(0, 50, 0.95).unwrap();
        assert_eq!(zero.lo, 0.0);
        assert!((zero.hi - 0.0713).abs() < 0.0001, "{zero:?}");
        let ten = wilson(10, 100, 0.95).unwrap();
        assert!((ten.lo - 0.0552).abs() < 0.0001, "{ten:?}");
        assert!((ten.hi - 0.1744).abs() < 0.0001, "{ten:?}");
        assert_eq!(wilson(0, 0, 0.95), None);
    }
}
