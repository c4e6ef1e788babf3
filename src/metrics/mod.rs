//! Measurement: what each request's timeline turns into (histograms and counters per worker),
//! how workers' results merge, and the summary model every report renders.

pub mod ci;
pub mod goodput;
pub mod ranking;
pub mod recorder;
pub mod series;
pub mod slo;
pub mod stats;
pub mod summary;
pub mod threshold;

pub use recorder::Recorder;
pub use summary::Summary;
