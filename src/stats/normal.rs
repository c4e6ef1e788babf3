//! The standard normal distribution, as the tests and intervals need it: its tail, its
//! quantile, and the complementary error function both rest on.

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

/// The two-sided p-value of a standard normal statistic `z`: P(|Z| >= |z|), at most 1.
pub fn two_sided_p(z: f64) -> f64 {
    (2.0 * normal_upper_tail(z.abs())).min(1.0)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::samples::close;

    #[test]
    fn erfc_matches_known_values() {
        // erfc(0) = 1, erfc(1) = 0.157299207, erfc(-1) = 1.842700793, erfc(3) = 2.209049700e-5.
        close(erfc(0.0), 1.0, 1e-7);
        close(erfc(1.0), 0.157_299_207, 1e-7);
        close(erfc(-1.0), 1.842_700_793, 1e-7);
        close(erfc(3.0), 2.209_049_7e-5, 1e-9);
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

    #[test]
    fn two_sided_p_values_are_symmetric_and_at_most_one() {
        assert_eq!(two_sided_p(1.959_964), two_sided_p(-1.959_964));
        close(two_sided_p(1.959_964), 0.05, 1e-7);
        assert_eq!(two_sided_p(0.0), 1.0);
    }
}
