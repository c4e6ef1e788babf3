//! The shared vocabulary every layer speaks: ops, error classes, metrics, a request's timeline,
//! units and target settings. It imports nothing of the crate; api, sim, scenario and metrics
//! meet here instead of importing each other.

pub mod error;
pub mod metric;
pub mod op;
pub mod sample;
pub mod target;
pub mod units;

pub use error::{ErrorClass, Failure, redact};
pub use metric::Metric;
pub use op::Op;
pub use sample::{Sample, StepRole, StreamCounts, Timeline, VariantId};
pub use target::{AuthScheme, TimeoutKind, Timeouts, is_loopback_url};
