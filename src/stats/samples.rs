//! Seeded, skewed test data shared by the statistics' tests.

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// `n` values from a seeded log-normal with median `median` and σ 0.5 on the log scale:
/// skewed like real latencies (values in µs).
pub fn lognormal(seed: u64, n: usize, median: f64) -> Vec<u64> {
    lognormal_from(&mut SmallRng::seed_from_u64(seed), n, median)
}

/// [`lognormal`], drawing from `rng`.
pub fn lognormal_from(rng: &mut SmallRng, n: usize, median: f64) -> Vec<u64> {
    (0..n)
        .map(|_| {
            // Box-Muller.
            let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            (median * (0.5 * z).exp()).round() as u64
        })
        .collect()
}

/// A histogram (3 significant figures) of `values`.
pub fn histogram(values: &[u64]) -> Histogram<u64> {
    let mut histogram = Histogram::new(3).unwrap();
    for value in values {
        histogram.record(*value).unwrap();
    }
    histogram
}

/// Asserts `actual` is the pinned `expected` to 1e-12 relative.
pub fn pinned(actual: f64, expected: f64) {
    let tolerance = 1e-12 * expected.abs();
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual:?} is not the pinned {expected:?}"
    );
}

/// Asserts `actual` is `expected` ± `tolerance`.
pub fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not {expected} ± {tolerance}"
    );
}
