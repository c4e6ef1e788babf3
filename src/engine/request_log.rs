//! The rows of `requests.csv` (with `--log-requests`): one per request. Workers format rows into
//! a buffer they hand on with their finished seconds (or sooner when it fills), so memory stays
//! bounded however long the run. Where the rows go is the caller's: a [`RequestLog`] wraps the
//! writer it is given (the store's), so the engine never touches the report folder.

use std::fmt::Write as _;
use std::sync::mpsc::Sender;
use std::time::Instant;

use crate::model::Sample;

/// The columns: the request's timeline in milliseconds from the start of the load phase, then
/// what it was and how it ended.
pub const HEADER: &str = "intended_ms,sent_ms,headers_ms,first_step_ms,end_ms,op,agent,turn,status,error_class,steps,retries,warmup\n";

/// A worker hands its buffer on once it holds this much.
pub const FLUSH_BYTES: usize = 1 << 20;

/// Whatever writes the rows, seen from the engine.
pub trait RowWriter: Send {
    /// Waits for every row sent to be written (every sender is gone by then); the error, if
    /// writing failed.
    fn finish(self: Box<Self>) -> Option<String>;
}

/// Where the workers' rows go during a run: a sender for each worker, and the writer to wait
/// for at the end ([`RequestLog::finish`]).
pub struct RequestLog {
    sender: Sender<String>,
    writer: Box<dyn RowWriter>,
}

impl RequestLog {
    /// Rows sent on `sender` are written by `writer`.
    pub fn new(sender: Sender<String>, writer: Box<dyn RowWriter>) -> RequestLog {
        RequestLog { sender, writer }
    }

    /// A sender for a worker.
    pub fn sender(&self) -> Sender<String> {
        self.sender.clone()
    }

    /// Waits for every row to be written; the error, if writing failed.
    pub fn finish(self) -> Option<String> {
        drop(self.sender);
        self.writer.finish()
    }
}

/// Appends one request's row to `out`; times count from `start`.
pub fn push_row(
    out: &mut String,
    start: Instant,
    sample: &Sample,
    agent: Option<&str>,
    warmup: bool,
) {
    let ms = |at: Instant| {
        let since = at.saturating_duration_since(start).as_secs_f64() * 1000.0;
        format!("{since:.3}")
    };
    let t = &sample.timeline;
    let optional = |at: Option<Instant>| at.map_or_else(String::new, ms);
    let _ = write!(
        out,
        "{},{},{},{},{},{},",
        ms(t.intended),
        ms(t.sent),
        optional(t.headers),
        optional(t.first_step),
        ms(t.end),
        sample.op.name(),
    );
    if let Some(agent) = agent {
        push_field(out, agent);
    }
    let _ = writeln!(
        out,
        ",{},{},{},{},{},{}",
        sample.turn.map_or_else(String::new, |n| n.to_string()),
        sample.status.map_or_else(String::new, |s| s.to_string()),
        sample
            .outcome
            .as_ref()
            .err()
            .map_or_else(String::new, |f| f.class.name()),
        sample
            .stream
            .map_or_else(String::new, |c| c.steps().to_string()),
        sample.retries,
        u8::from(warmup),
    );
}

/// A CSV field, quoted when it has to be.
fn push_field(out: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::Timeline;
    use crate::model::{ErrorClass, Failure, Op};

    #[test]
    fn rows_hold_the_timeline_and_the_outcome() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut timeline = Timeline::starting(at(10), at(12));
        timeline.headers = Some(at(20));
        timeline.end = at(45);
        let mut sample = Sample::new(Op::Run, Some(0), timeline, Ok(()));
        sample.status = Some(200);
        sample.turn = Some(2);
        let mut out = String::new();
        push_row(&mut out, start, &sample, Some("fast, \"really\""), false);
        let failed = Sample::new(
            Op::Get,
            None,
            Timeline::starting(at(1), at(1)),
            Err(Failure::new(ErrorClass::TimeoutTotal, "slow")),
        );
        push_row(&mut out, start, &failed, None, true);
        let text = format!("{HEADER}{out}");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            [
                "10.000",
                "12.000",
                "20.000",
                "",
                "45.000",
                "run",
                "fast, \"really\"",
                "2",
                "200",
                "",
                "",
                "0",
                "0"
            ]
        );
        assert_eq!(
            rows[2][5..],
            ["get", "", "", "", "timeout_total", "", "0", "1"]
        );
    }
}
