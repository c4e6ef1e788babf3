//! One request's record: its timeline on the monotonic clock and how it ended. The engine
//! produces these; the recorder turns them into histograms and counters.

use std::time::{Duration, Instant};

use crate::api::{Failure, Op};

/// Index of a fixture agent in the plan; requests against it are reported as that variant.
pub type VariantId = u16;

/// The moments of one request, all from one monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// When the plan meant the request to start (in the closed model, the send).
    pub intended: Instant,
    /// When the request was handed to the connection.
    pub sent: Instant,
    /// When the response headers arrived.
    pub headers: Option<Instant>,
    /// When the last byte of the first `step` event arrived.
    pub first_step: Option<Instant>,
    /// When the last byte of the first step with role `assistant` arrived.
    pub first_assistant: Option<Instant>,
    /// When the request ended, successfully or not.
    pub end: Instant,
}

impl Timeline {
    /// A timeline whose every moment is `at`; the request fills in the rest as it goes.
    pub fn starting(intended: Instant, sent: Instant) -> Self {
        Timeline {
            intended,
            sent,
            headers: None,
            first_step: None,
            first_assistant: None,
            end: sent,
        }
    }
}

/// The full record of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub op: Op,
    pub variant: Option<VariantId>,
    pub timeline: Timeline,
    pub outcome: Result<(), Failure>,
    /// Steps received (streams only).
    pub steps: Option<u32>,
    /// Gaps between consecutive steps (streams only).
    pub step_gaps: Vec<Duration>,
    /// The server's own execution time (blocking runs only).
    pub server_time: Option<Duration>,
}

impl Sample {
    pub fn new(
        op: Op,
        variant: Option<VariantId>,
        timeline: Timeline,
        outcome: Result<(), Failure>,
    ) -> Self {
        Sample {
            op,
            variant,
            timeline,
            outcome,
            steps: None,
            step_gaps: Vec::new(),
            server_time: None,
        }
    }
}
