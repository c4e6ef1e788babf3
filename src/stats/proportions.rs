//! The two-proportion z-test: whether two error rates differ by more than chance.

use super::normal::two_sided_p;

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
    two_sided_p(z)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::samples::{close, pinned};

    #[test]
    fn two_proportions_matches_the_formula() {
        // 10/1000 vs 30/1000: pooled 0.02, se = sqrt(0.02*0.98*0.002) = 0.0062610,
        // z = 0.02/0.0062610 = 3.194383, p = 0.0014013.
        close(two_proportions(10, 1000, 30, 1000), 0.001_401_3, 1e-6);
        assert_eq!(two_proportions(0, 100, 0, 100), 1.0);
        assert_eq!(two_proportions(0, 0, 3, 10), 1.0);
    }

    #[test]
    fn two_proportion_tests_are_pinned() {
        // Today's p-values (pinned before the test moved here), to 1e-12.
        pinned(two_proportions(10, 1000, 30, 1000), 0.0014013016620898456);
        pinned(two_proportions(3, 70, 0, 90), 0.047408078729806145);
    }
}
