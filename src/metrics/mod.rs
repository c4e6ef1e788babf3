//! Measurement: what each request's timeline turns into (histograms and counters per worker),
//! how workers' results merge, the per-second series, thresholds, objectives and goodput.

pub mod ci;
pub mod goodput;
pub mod ranking;
pub mod recorder;
pub mod series;
pub mod slo;
pub mod stats;
pub mod threshold;

pub use recorder::Recorder;
