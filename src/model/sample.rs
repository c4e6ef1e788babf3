//! One request's record: its timeline on the monotonic clock and how it ended. The engine
//! produces these; the recorder turns them into histograms and counters.

use std::time::{Duration, Instant};

use super::Metric;
use crate::model::{Failure, Op};

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
    /// When the run's result arrived at the callback receiver (runs sent with `callbackUrl`).
    pub callback: Option<Instant>,
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
            callback: None,
        }
    }
}

/// The role a streamed step carries; roles the API may add later count as `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepRole {
    System,
    User,
    Assistant,
    Tool,
    Other,
}

impl StepRole {
    pub const COUNT: usize = 5;
    pub const ALL: [StepRole; StepRole::COUNT] = [
        StepRole::System,
        StepRole::User,
        StepRole::Assistant,
        StepRole::Tool,
        StepRole::Other,
    ];

    pub fn from_role(role: &str) -> StepRole {
        match role {
            "system" => StepRole::System,
            "user" => StepRole::User,
            "assistant" => StepRole::Assistant,
            "tool" => StepRole::Tool,
            _ => StepRole::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StepRole::System => "system",
            StepRole::User => "user",
            StepRole::Assistant => "assistant",
            StepRole::Tool => "tool",
            StepRole::Other => "other",
        }
    }
}

/// What one stream carried besides its timings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCounts {
    /// Steps by [`StepRole`], indexed by its position in `StepRole::ALL`.
    pub by_role: [u32; StepRole::COUNT],
    /// Events that were not `step` events.
    pub other_events: u32,
}

impl StreamCounts {
    pub fn steps(&self) -> u32 {
        self.by_role.iter().sum()
    }

    pub fn count_step(&mut self, role: StepRole) {
        self.by_role[role as usize] += 1;
    }
}

/// The full record of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub op: Op,
    pub variant: Option<VariantId>,
    pub timeline: Timeline,
    pub outcome: Result<(), Failure>,
    /// The response's HTTP status, when headers arrived.
    pub status: Option<u16>,
    /// Steps by role and other events (streams only).
    pub stream: Option<StreamCounts>,
    /// Gaps between consecutive steps (streams only).
    pub step_gaps: Vec<Duration>,
    /// The server's own execution time (blocking runs only).
    pub server_time: Option<Duration>,
    /// The run's place in its conversation, from 1, when the op runs several turns.
    pub turn: Option<u32>,
    /// 429s waited out and sent again (`retry_after = "honour"`), and the time waited. The
    /// timeline then spans every attempt: `sent` is the first send, the rest the last's.
    pub retries: u32,
    pub retry_wait: Duration,
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
            status: None,
            stream: None,
            step_gaps: Vec::new(),
            server_time: None,
            turn: None,
            retries: 0,
            retry_wait: Duration::ZERO,
        }
    }
}

impl Sample {
    /// Each value this sample adds to a histogram: times in microseconds, `steps` as a count.
    /// A failed request adds only its `retry_wait` (failures are counted, not timed).
    pub fn for_each_value(&self, mut add: impl FnMut(Metric, u64)) {
        let micros = |d: Duration| d.as_micros().min(u128::from(u64::MAX)) as u64;
        if self.retries > 0 {
            add(Metric::RetryWait, micros(self.retry_wait));
        }
        if self.outcome.is_err() {
            return;
        }
        let t = &self.timeline;
        let since_sent = |at: Instant| micros(at.saturating_duration_since(t.sent));
        add(
            Metric::Latency,
            micros(t.end.saturating_duration_since(t.intended)),
        );
        add(Metric::ServiceTime, since_sent(t.end));
        add(
            Metric::Wait,
            micros(t.sent.saturating_duration_since(t.intended)),
        );
        if let Some(at) = t.headers {
            add(Metric::Ttfb, since_sent(at));
        }
        if let Some(at) = t.first_step {
            add(Metric::Ttfs, since_sent(at));
        }
        if let Some(at) = t.first_assistant {
            add(Metric::FirstAssistant, since_sent(at));
        }
        for gap in &self.step_gaps {
            add(Metric::InterStep, micros(*gap));
        }
        if let Some(counts) = &self.stream {
            add(Metric::Steps, u64::from(counts.steps()));
        }
        if let Some(server_time) = self.server_time {
            add(Metric::ServerTime, micros(server_time));
        }
        if let Some(at) = t.callback {
            add(Metric::Callback, since_sent(at));
        }
    }
}
