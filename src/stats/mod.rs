//! The statistics, as pure maths over histograms and counts: no I/O, no report types, nothing
//! from the rest of the crate. `metrics` (intervals and variant rankings) and `compare`
//! (baseline against current) both compute with these, so the two cannot drift apart.

pub mod bootstrap;
pub mod buckets;
pub mod intervals;
pub mod normal;
pub mod proportions;
pub mod rank;

#[cfg(test)]
pub(crate) mod samples;

pub use bootstrap::bootstrap_change;
pub use buckets::Buckets;
pub use intervals::{Bounds, quantile_interval, wilson};
pub use proportions::two_proportions;
pub use rank::{RankTest, holm, mann_whitney};
