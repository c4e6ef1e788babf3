//! The Mann-Whitney U test of two samples given as histogram buckets, and Holm's correction
//! for testing many pairs. Values in one bucket are ties (equal to the histogram's precision):
//! they count half in U and the variance is corrected for them; the p-value is the normal
//! approximation with a continuity correction (as `scipy.stats.mannwhitneyu(...,
//! method="asymptotic")`). Exact in the counts, O(buckets), whatever the number of samples.
//!
//! This one test replaced two (compare's and the variant ranking's), which gave the same U,
//! superiority and p on the same buckets. The one deliberate difference kept: an empty side
//! gives `None` (as compare's did), where the ranking's returned p = 1 and superiority 0.5;
//! the ranking never tests an empty side, so no output changed.

use super::buckets::Buckets;
use super::normal::two_sided_p;

/// The result of a Mann-Whitney U test of a second sample against a first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankTest {
    /// Pairs (first, second) with second > first, ties counting half.
    pub u: f64,
    /// `u` over all pairs: P(second > first) + P(second = first) / 2; 0.5 when the two are
    /// alike, 1 when every second value is larger.
    pub superiority: f64,
    /// The standardized U, continuity-corrected (positive: the second tends to be larger).
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// The Mann-Whitney U test of `second` against `first`; `None` when either is empty.
pub fn mann_whitney(first: &Buckets, second: &Buckets) -> Option<RankTest> {
    let (n1, n2) = (first.len() as f64, second.len() as f64);
    if n1 == 0.0 || n2 == 0.0 {
        return None;
    }
    let (mut first_below, mut u, mut ties) = (0.0f64, 0.0f64, 0.0f64);
    for bucket in Buckets::merge(first, second) {
        let (c1, c2) = (bucket.in_first as f64, bucket.in_second as f64);
        u += c2 * (first_below + 0.5 * c1);
        first_below += c1;
        let t = c1 + c2;
        ties += t * t * t - t;
    }
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    let (z, p) = if variance > 0.0 {
        let distance = ((u - mean).abs() - 0.5).max(0.0);
        let z = distance / variance.sqrt();
        (z.copysign(u - mean), two_sided_p(z))
    } else {
        (0.0, 1.0)
    };
    Some(RankTest {
        u,
        superiority: u / (n1 * n2),
        z,
        p,
    })
}

/// Holm's step-down adjustment of `p` (same order out as in): the k-th smallest p-value is
/// multiplied by (m - k + 1), and adjusted values never decrease along the sorted order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::samples::{close, histogram, lognormal, pinned};

    /// The test of `current` against `baseline`, as histograms record them.
    fn test_of(baseline: &[u64], current: &[u64]) -> Option<RankTest> {
        mann_whitney(
            &Buckets::from_histogram(&histogram(baseline)),
            &Buckets::from_histogram(&histogram(current)),
        )
    }

    #[test]
    fn u_counts_pairs_and_ties_exactly() {
        // a = {1, 2, 3}, b = {2, 4}: b > a in 2+0.5 (b=2: above 1, tie with 2) + 3 (b=4) pairs.
        let a = Buckets::from_counts(&[(1, 1), (2, 1), (3, 1)]);
        let b = Buckets::from_counts(&[(2, 1), (4, 1)]);
        let test = mann_whitney(&a, &b).unwrap();
        assert_eq!(test.u, 4.5);
        assert_eq!(test.superiority, 0.75);
        // Identical samples: no evidence of a difference.
        let same = mann_whitney(&a, &a).unwrap();
        assert_eq!(same.superiority, 0.5);
        assert_eq!(same.p, 1.0);
    }

    #[test]
    fn p_values_match_a_reference_implementation() {
        // The reference: midranks of the pooled, expanded samples, U = R(y) - ny(ny+1)/2,
        // tie-corrected variance, continuity correction, p = erfc(z / sqrt 2) (the asymptotic
        // test as in scipy.stats.mannwhitneyu), computed independently in Python.
        // x = 1..=10, y = 6..=15, one sample each (ties at 6..10): U = 87.5, p = 0.0050754.
        let x = Buckets::from_counts(&(1..=10).map(|v| (v, 1)).collect::<Vec<_>>());
        let y = Buckets::from_counts(&(6..=15).map(|v| (v, 1)).collect::<Vec<_>>());
        let test = mann_whitney(&x, &y).unwrap();
        assert_eq!(test.u, 87.5);
        assert!((test.p - 0.005_075_4).abs() < 1e-6, "p {}", test.p);
        assert!(test.z > 0.0);
        // Heavy ties, as histograms make them: 50 at 10 and 50 at 20 against 40 and 60:
        // U = 5500, p = 0.156669.
        let a = Buckets::from_counts(&[(10, 50), (20, 50)]);
        let b = Buckets::from_counts(&[(10, 40), (20, 60)]);
        let test = mann_whitney(&a, &b).unwrap();
        assert_eq!(test.u, 5500.0);
        assert!((test.p - 0.156_669).abs() < 1e-5, "p {}", test.p);
    }

    #[test]
    fn rank_test_without_ties_matches_the_formula() {
        // baseline 1 2 3, current 4 5 6: R_cur = 4+5+6 = 15, U = 15 - 3*4/2 = 9, mean 4.5,
        // var = 3*3/12 * 7 = 5.25, z = (9 - 4.5 - 0.5)/sqrt(5.25) = 1.745743,
        // p = erfc(z/sqrt 2) = 0.080856 (scipy.stats.mannwhitneyu(..., method="asymptotic")).
        let test = test_of(&[1, 2, 3], &[4, 5, 6]).unwrap();
        assert_eq!((test.u, test.superiority), (9.0, 1.0));
        close(test.p, 0.080_856, 1e-5);
        // Swapped: U = 0, the same two-sided p.
        let swapped = test_of(&[4, 5, 6], &[1, 2, 3]).unwrap();
        assert_eq!(swapped.u, 0.0);
        close(swapped.p, 0.080_856, 1e-5);
    }

    #[test]
    fn rank_test_with_ties_uses_midranks_and_the_tie_correction() {
        // baseline 1 1 2 2, current 2 2 3 3: midranks 1.5 (1s), 4.5 (2s), 7.5 (3s);
        // R_cur = 2*4.5 + 2*7.5 = 24, U = 24 - 10 = 14, mean 8;
        // ties: (2^3-2) + (4^3-4) + (2^3-2) = 72; var = 16/12 * (9 - 72/56) = 10.285714;
        // z = (14 - 8 - 0.5)/sqrt(10.285714) = 1.714926, p = 0.086359.
        let test = test_of(&[1, 1, 2, 2], &[2, 2, 3, 3]).unwrap();
        assert_eq!(test.u, 14.0);
        close(test.superiority, 14.0 / 16.0, 1e-12);
        close(test.p, 0.086_359, 1e-5);
    }

    #[test]
    fn rank_test_on_identical_samples_finds_nothing() {
        let values: Vec<u64> = (1..=1000).collect();
        let test = test_of(&values, &values).unwrap();
        assert_eq!(test.superiority, 0.5);
        assert_eq!(test.p, 1.0);
        assert!(test_of(&[], &[1]).is_none());
        // Every value tied: no variance, nothing to tell.
        let same = test_of(&[7; 10], &[7; 10]).unwrap();
        assert_eq!(same.p, 1.0);
    }

    #[test]
    fn rank_test_sees_a_large_shift_with_many_values() {
        let base: Vec<u64> = (0..2000).map(|i| 100_000 + i * 10).collect();
        let slower: Vec<u64> = base.iter().map(|v| v * 16 / 10).collect();
        let test = test_of(&base, &slower).unwrap();
        assert!(test.p < 1e-12, "{test:?}");
        assert!(test.superiority > 0.99);
    }

    /// Four values, each many times over: the ties histograms make.
    fn tied(counts: [u64; 4]) -> Buckets {
        let pairs: Vec<(u64, u64)> = [10, 20, 30, 40].into_iter().zip(counts).collect();
        Buckets::from_counts(&pairs)
    }

    #[test]
    fn u_tests_of_skewed_and_tied_data_are_pinned() {
        // The outputs of both former implementations (compare's u, effect, p and the ranking's
        // u, superiority, z, p, pinned before they became this one), to 1e-12: log-normal
        // samples of 500 and 400 (each way round: z changes sign, p stays), 3000 each 30%
        // apart (a p far in the tail), and four values each many times over.
        let buckets =
            |seed, n, median| Buckets::from_histogram(&histogram(&lognormal(seed, n, median)));
        let skewed = (buckets(1, 500, 100_000.0), buckets(2, 400, 115_000.0));
        let far = (buckets(3, 3000, 100_000.0), buckets(4, 3000, 130_000.0));
        let tied = (tied([50, 30, 15, 5]), tied([30, 35, 25, 10]));
        let cases = [
            (
                &skewed.0,
                &skewed.1,
                113183.0,
                0.565915,
                3.401819996038111,
                0.000669387166604659,
            ),
            (
                &skewed.1,
                &skewed.0,
                86817.0,
                0.434085,
                -3.401819996038111,
                0.000669387166604659,
            ),
            (
                &far.0,
                &far.1,
                5776928.5,
                0.6418809444444444,
                19.03373606217466,
                8.96288784817527e-81,
            ),
            (
                &tied.0,
                &tied.1,
                6187.5,
                0.61875,
                3.068678369485542,
                0.002150079417382793,
            ),
        ];
        for (first, second, u, superiority, z, p) in cases {
            let test = mann_whitney(first, second).unwrap();
            assert_eq!(test.u, u);
            pinned(test.superiority, superiority);
            pinned(test.z, z);
            pinned(test.p, p);
        }
    }

    #[test]
    fn holm_steps_down_and_stays_monotone() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        // Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max(0.06, 0.04).
        let expected = [0.03, 0.06, 0.06, 0.02];
        for (got, want) in adjusted.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn holm_adjustments_are_pinned() {
        let adjusted = holm(&[
            0.000669387166604659,
            8.96288784817527e-81,
            0.002150079417382793,
            0.5,
            0.3,
        ]);
        let expected = [
            0.002677548666418636,
            4.481443924087635e-80,
            0.006450238252148379,
            0.6,
            0.6,
        ];
        for (got, want) in adjusted.into_iter().zip(expected) {
            pinned(got, want);
        }
    }
}
