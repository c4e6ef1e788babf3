//! The measured quantities, by one stable name that reports, thresholds and flags share.

use std::fmt;

use super::Op;

/// A measured quantity. Times are recorded in microseconds and reported in milliseconds;
/// `Steps` is a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// End minus intended start: what a user of the service would wait.
    Latency,
    /// End minus actual send: what the server and network took.
    ServiceTime,
    /// Actual send minus intended start: how late the harness was.
    Wait,
    /// Response headers received, from the send.
    Ttfb,
    /// First `step` event complete, from the send.
    Ttfs,
    /// Gap between consecutive steps.
    InterStep,
    /// Steps per stream.
    Steps,
    /// First step with role `assistant`, from the send.
    FirstAssistant,
    /// The server's own `executionTimeMs` of a blocking run.
    ServerTime,
    /// Send to the run's result arriving at the callback receiver.
    Callback,
    /// Time spent waiting out 429s before sending again (`retry_after = "honour"`).
    RetryWait,
}

impl Metric {
    pub const COUNT: usize = 11;
    pub const ALL: [Metric; Metric::COUNT] = [
        Metric::Latency,
        Metric::ServiceTime,
        Metric::Wait,
        Metric::Ttfb,
        Metric::Ttfs,
        Metric::InterStep,
        Metric::Steps,
        Metric::FirstAssistant,
        Metric::ServerTime,
        Metric::Callback,
        Metric::RetryWait,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Latency => "latency",
            Metric::ServiceTime => "service_time",
            Metric::Wait => "wait",
            Metric::Ttfb => "ttfb",
            Metric::Ttfs => "ttfs",
            Metric::InterStep => "inter_step",
            Metric::Steps => "steps",
            Metric::FirstAssistant => "first_assistant",
            Metric::ServerTime => "server_time",
            Metric::Callback => "callback",
            Metric::RetryWait => "retry_wait",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|metric| metric.name() == name)
    }

    /// Whether values are durations (µs recorded, ms reported) rather than counts.
    pub fn is_time(self) -> bool {
        self != Metric::Steps
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether successful requests of `op` have values of this metric: the one table of which
    /// op has which metric, shared by thresholds, objectives, rankings and reports.
    pub fn measured_for(self, op: Op) -> bool {
        match self {
            Metric::Latency | Metric::ServiceTime | Metric::Wait | Metric::Ttfb => true,
            Metric::ServerTime => op == Op::Run,
            Metric::Ttfs | Metric::InterStep | Metric::Steps | Metric::FirstAssistant => {
                op == Op::RunStream
            }
            Metric::Callback => matches!(op, Op::Run | Op::RunStream),
            Metric::RetryWait => true,
        }
    }

    /// Whether variants may be ranked by this metric (`rank_by`): a time a request takes,
    /// but not the harness's own wait or the waiting out of 429s.
    pub fn can_rank(self) -> bool {
        !matches!(self, Metric::Wait | Metric::Steps | Metric::RetryWait)
    }

    /// Whether an objective (`[slo]`) may bound this metric: the times a request has (one
    /// value each, or one per gap for `inter_step`, where every gap must hold).
    pub fn can_bound(self) -> bool {
        !matches!(self, Metric::Steps | Metric::RetryWait)
    }

    /// Every metric variants may be ranked by, in [`Metric::ALL`]'s order.
    pub fn ranked() -> impl Iterator<Item = Metric> {
        Metric::ALL.into_iter().filter(|m| m.can_rank())
    }

    /// Every metric an objective may bound, in [`Metric::ALL`]'s order.
    pub fn bounded() -> impl Iterator<Item = Metric> {
        Metric::ALL.into_iter().filter(|m| m.can_bound())
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_can_be_ranked_and_bounded_is_one_table() {
        let names = |metrics: &mut dyn Iterator<Item = Metric>| -> String {
            metrics.map(Metric::name).collect::<Vec<_>>().join(" ")
        };
        let ranked =
            "latency service_time ttfb ttfs inter_step first_assistant server_time callback";
        assert_eq!(names(&mut Metric::ranked()), ranked);
        let bounded =
            "latency service_time wait ttfb ttfs inter_step first_assistant server_time callback";
        assert_eq!(names(&mut Metric::bounded()), bounded);
        let streams: Vec<&str> = Metric::ALL
            .into_iter()
            .filter(|m| m.measured_for(Op::RunStream) && !m.measured_for(Op::Get))
            .map(Metric::name)
            .collect();
        assert_eq!(
            streams,
            ["ttfs", "inter_step", "steps", "first_assistant", "callback"]
        );
        assert!(Metric::ServerTime.measured_for(Op::Run));
        assert!(!Metric::ServerTime.measured_for(Op::RunStream));
    }
}
