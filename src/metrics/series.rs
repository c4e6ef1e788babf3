//! Per-second results: what each second of the run saw, per op. Each worker keeps only the
//! seconds still open and hands each on once it has passed; a merger puts the workers' seconds
//! together as soon as every worker is past them. A long run never holds its history in memory,
//! and the report layer can write each second out as it completes.
//!
//! A request belongs to the second in which it ended (as HdrHistogram interval logs count), so a
//! worker knows a second is complete once its clock has passed it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::recorder::Histograms;
use crate::model::Metric;
use crate::model::Op;
use crate::model::sample::Sample;

/// How long after a second ends a worker waits before handing it on, for requests that ended
/// in it but were recorded a moment later.
pub const SETTLE: Duration = Duration::from_millis(100);

/// One op during one second.
#[derive(Clone, Debug, Default)]
pub struct OpSecond {
    /// Requests that ended in the second (failed ones too).
    pub requests: u64,
    pub errors: u64,
    /// Requests of this op in flight when the second was handed on (a sample, not an average).
    pub in_flight: u64,
    /// Values of the successful requests (and `retry_wait` of any), as in the summary.
    pub histograms: Histograms,
}

impl OpSecond {
    fn merge(&mut self, other: &OpSecond) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.in_flight += other.in_flight;
        self.histograms.merge(&other.histograms);
    }
}

/// Everything one second saw.
#[derive(Clone, Debug, Default)]
pub struct SecondRecord {
    pub ops: BTreeMap<Op, OpSecond>,
    /// Open-model arrivals dropped in the second.
    pub dropped: u64,
}

impl SecondRecord {
    pub fn merge(&mut self, other: &SecondRecord) {
        for (op, theirs) in &other.ops {
            self.ops.entry(*op).or_default().merge(theirs);
        }
        self.dropped += other.dropped;
    }

    /// All ops together.
    pub fn total(&self) -> OpSecond {
        let mut total = OpSecond::default();
        for op in self.ops.values() {
            total.merge(op);
        }
        total
    }
}

/// Seconds handed on by one worker: every second before `through` is final from it.
#[derive(Debug, Default)]
pub struct Handoff {
    pub worker: usize,
    pub seconds: Vec<(u32, SecondRecord)>,
    pub through: u32,
}

/// A worker's open seconds.
#[derive(Debug)]
pub struct SeriesRecorder {
    start: Instant,
    open: BTreeMap<u32, SecondRecord>,
    /// Every second before this one has been handed on.
    through: u32,
}

impl SeriesRecorder {
    /// Seconds count from `start`, the start of the load phase.
    pub fn new(start: Instant) -> Self {
        SeriesRecorder {
            start,
            open: BTreeMap::new(),
            through: 0,
        }
    }

    /// The second `at` falls in; a moment already handed on counts in the first open second.
    fn second_of(&self, at: Instant) -> u32 {
        let second = at.saturating_duration_since(self.start).as_secs();
        u32::try_from(second).unwrap_or(u32::MAX).max(self.through)
    }

    pub fn record(&mut self, sample: &Sample) {
        let second = self.second_of(sample.timeline.end);
        let op = self
            .open
            .entry(second)
            .or_default()
            .ops
            .entry(sample.op)
            .or_default();
        op.requests += 1;
        if sample.outcome.is_err() {
            op.errors += 1;
        }
        sample.for_each_value(|metric, value| op.histograms.record(metric, value));
    }

    pub fn record_dropped(&mut self, at: Instant) {
        let second = self.second_of(at);
        self.open.entry(second).or_default().dropped += 1;
    }

    /// Hands on every second that ended at least [`SETTLE`] before `now` (all of them when
    /// `finished`), with `in_flight` (this worker's requests in flight, by op) sampled into the
    /// newest.
    pub fn hand_on(
        &mut self,
        worker: usize,
        now: Instant,
        finished: bool,
        in_flight: &[(Op, u64)],
    ) -> Handoff {
        let settled = now
            .saturating_duration_since(self.start)
            .saturating_sub(SETTLE);
        let through = if finished {
            u32::MAX
        } else {
            u32::try_from(settled.as_secs()).unwrap_or(u32::MAX)
        };
        if through <= self.through {
            return Handoff {
                worker,
                seconds: Vec::new(),
                through: self.through,
            };
        }
        let still_open = self.open.split_off(&through);
        let mut seconds: Vec<(u32, SecondRecord)> = std::mem::replace(&mut self.open, still_open)
            .into_iter()
            .collect();
        if !finished {
            // The gauge belongs to the last second that closed.
            let last = through - 1;
            if seconds.last().is_none_or(|(second, _)| *second != last) {
                seconds.push((last, SecondRecord::default()));
            }
            let record = &mut seconds.last_mut().expect("just pushed").1;
            for (op, n) in in_flight.iter().filter(|(_, n)| *n > 0) {
                record.ops.entry(*op).or_default().in_flight += n;
            }
        }
        self.through = through;
        Handoff {
            worker,
            seconds,
            through,
        }
    }
}

/// Puts the workers' seconds together, releasing each once every worker is past it.
#[derive(Debug)]
pub struct SeriesMerger {
    through: Vec<u32>,
    pending: BTreeMap<u32, SecondRecord>,
    /// Seconds before this one have been released.
    released: u32,
}

impl SeriesMerger {
    pub fn new(workers: usize) -> Self {
        SeriesMerger {
            through: vec![0; workers],
            pending: BTreeMap::new(),
            released: 0,
        }
    }

    /// Takes one worker's handoff; returns the seconds now complete, in order, gaps filled with
    /// empty seconds (a second in which nothing ended is still a second of the run).
    pub fn accept(&mut self, handoff: Handoff) -> Vec<(u32, SecondRecord)> {
        for (second, record) in handoff.seconds {
            // A late second (before what was released) joins the first open one.
            let second = second.max(self.released);
            self.pending.entry(second).or_default().merge(&record);
        }
        if let Some(through) = self.through.get_mut(handoff.worker) {
            *through = (*through).max(handoff.through);
        }
        let complete = self.through.iter().copied().min().unwrap_or(0);
        let mut out = Vec::new();
        if complete <= self.released {
            return out;
        }
        let last = if complete == u32::MAX {
            match self.pending.keys().next_back() {
                Some(last) => last + 1,
                None => self.released,
            }
        } else {
            complete
        };
        let still_pending = self.pending.split_off(&last);
        let mut ready = std::mem::replace(&mut self.pending, still_pending);
        for second in self.released..last {
            out.push((second, ready.remove(&second).unwrap_or_default()));
        }
        self.released = last;
        out
    }
}

impl SeriesMerger {
    /// Releases whatever is pending, for when a worker can no longer report (it failed).
    pub fn drain(&mut self) -> Vec<(u32, SecondRecord)> {
        self.through.iter_mut().for_each(|t| *t = u32::MAX);
        let handoff = Handoff {
            worker: usize::MAX,
            seconds: Vec::new(),
            through: u32::MAX,
        };
        self.accept(handoff)
    }
}

/// What reaches the writers of the series: the start of the load phase, then each worker's
/// handoffs.
#[derive(Debug)]
pub enum SeriesEvent {
    Start {
        /// When second 0 began, on the wall clock (for lining up series of several machines).
        wall: std::time::SystemTime,
        workers: usize,
    },
    Handoff(Handoff),
}

/// A writer of completed seconds (a file format, a live view).
pub trait SeriesSink: Send {
    /// The load phase started at `wall`.
    fn begin(&mut self, wall: std::time::SystemTime) -> std::io::Result<()>;
    /// Second `second` is complete; seconds come in order, none skipped.
    fn second(&mut self, second: u32, record: &SecondRecord) -> std::io::Result<()>;
    /// The run is over: flush.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// What a [`Kept`] series writer builds, second by second.
pub trait Accumulate {
    fn add_second(&mut self, second: u32, record: &SecondRecord);
}

/// A series writer that keeps a value built from every second (what report.html draws, the
/// distributions a baseline is compared with), shared with whoever reads it at the end.
#[derive(Debug, Default)]
pub struct Kept<T>(std::sync::Arc<std::sync::Mutex<T>>);

impl<T> Clone for Kept<T> {
    fn clone(&self) -> Self {
        Kept(self.0.clone())
    }
}

impl<T: Accumulate + Clone> Kept<T> {
    pub fn new(value: T) -> Kept<T> {
        Kept(std::sync::Arc::new(std::sync::Mutex::new(value)))
    }

    /// The value so far (all of it once the run's series writers have finished).
    pub fn snapshot(&self) -> T {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl<T: Accumulate + Send> SeriesSink for Kept<T> {
    fn begin(&mut self, _wall: std::time::SystemTime) -> std::io::Result<()> {
        Ok(())
    }

    fn second(&mut self, second: u32, record: &SecondRecord) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .add_second(second, record);
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The last few completed seconds, all ops together, for the live view.
#[derive(Clone, Debug, Default)]
pub struct Recent {
    seconds: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<OpSecond>>>,
}

/// Seconds the live view's percentiles cover.
pub const RECENT_SECONDS: usize = 5;

impl Recent {
    /// A percentile over the recent seconds, in milliseconds; `None` without data.
    pub fn percentile(&self, metric: Metric, quantile: f64) -> Option<f64> {
        let seconds = self
            .seconds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut all = OpSecond::default();
        for second in seconds.iter() {
            all.merge(second);
        }
        percentile(&all, metric, quantile)
    }

    /// A writer that keeps this window up to date.
    pub fn sink(&self) -> Box<dyn SeriesSink> {
        Box::new(self.clone())
    }
}

impl SeriesSink for Recent {
    fn begin(&mut self, _wall: std::time::SystemTime) -> std::io::Result<()> {
        Ok(())
    }

    fn second(&mut self, _second: u32, record: &SecondRecord) -> std::io::Result<()> {
        let mut total = record.total();
        // Only what the percentiles need.
        let keep = [Metric::Latency, Metric::Ttfs];
        let mut histograms = Histograms::default();
        for (metric, histogram) in total.histograms.iter() {
            if keep.contains(&metric) {
                histograms.merge_one(metric, histogram);
            }
        }
        total.histograms = histograms;
        let mut seconds = self
            .seconds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seconds.push_back(total);
        while seconds.len() > RECENT_SECONDS {
            seconds.pop_front();
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The percentile of a metric in one op's second, in milliseconds (counts for `steps`).
pub fn percentile(op: &OpSecond, metric: Metric, quantile: f64) -> Option<f64> {
    let histogram = op.histograms.get(metric)?;
    let value = histogram.value_at_quantile(quantile) as f64;
    Some(if metric.is_time() {
        value / 1000.0
    } else {
        value
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timeline;
    use crate::model::{ErrorClass, Failure};

    fn sample(start: Instant, op: Op, ends_ms: u64, took_ms: u64, ok: bool) -> Sample {
        let end = start + Duration::from_millis(ends_ms);
        let sent = end - Duration::from_millis(took_ms);
        let mut timeline = Timeline::starting(sent, sent);
        timeline.end = end;
        let outcome = if ok {
            Ok(())
        } else {
            Err(Failure::new(ErrorClass::Http(503), "busy"))
        };
        Sample::new(op, None, timeline, outcome)
    }

    #[test]
    fn a_request_counts_in_the_second_it_ended() {
        let start = Instant::now();
        let mut series = SeriesRecorder::new(start);
        series.record(&sample(start, Op::Get, 500, 100, true));
        series.record(&sample(start, Op::Get, 999, 900, true));
        series.record(&sample(start, Op::Get, 1000, 10, false));
        series.record(&sample(start, Op::Run, 2500, 30, true));
        series.record_dropped(start + Duration::from_millis(1200));

        // At 1.05 s nothing has settled; at 1.1 s second 0 has.
        let early = series.hand_on(0, start + Duration::from_millis(1050), false, &[]);
        assert_eq!((early.seconds.len(), early.through), (0, 0));
        let first = series.hand_on(
            0,
            start + Duration::from_millis(1100),
            false,
            &[(Op::Run, 2)],
        );
        assert_eq!(first.through, 1);
        let (second, record) = &first.seconds[0];
        assert_eq!(*second, 0);
        let get = &record.ops[&Op::Get];
        assert_eq!((get.requests, get.errors, get.in_flight), (2, 0, 0));
        assert_eq!(
            record.ops[&Op::Run].in_flight,
            2,
            "the gauge goes in the closing second"
        );
        let p50 = percentile(get, Metric::Latency, 0.5).unwrap();
        assert!((p50 - 100.0).abs() < 0.1, "{p50}");

        // A request recorded after its second was handed on counts in the first open one.
        series.record(&sample(start, Op::Get, 300, 10, true));
        let last = series.hand_on(0, start + Duration::from_millis(1200), true, &[]);
        assert_eq!(last.through, u32::MAX);
        let seconds: Vec<u32> = last.seconds.iter().map(|(s, _)| *s).collect();
        assert_eq!(seconds, [1, 2]);
        let one = &last.seconds[0].1;
        assert_eq!(
            (one.ops[&Op::Get].requests, one.ops[&Op::Get].errors),
            (2, 1)
        );
        assert_eq!(one.dropped, 1);
        assert_eq!(last.seconds[1].1.ops[&Op::Run].requests, 1);
    }

    #[test]
    fn the_merger_releases_a_second_once_every_worker_is_past_it() {
        let start = Instant::now();
        let mut merger = SeriesMerger::new(2);
        let mut a = SeriesRecorder::new(start);
        let mut b = SeriesRecorder::new(start);
        a.record(&sample(start, Op::Get, 100, 5, true));
        b.record(&sample(start, Op::Get, 200, 5, true));
        b.record(&sample(start, Op::Get, 2200, 5, true));

        let at = |ms| start + Duration::from_millis(ms);
        assert!(
            merger.accept(a.hand_on(0, at(3200), false, &[])).is_empty(),
            "b is behind"
        );
        let released = merger.accept(b.hand_on(1, at(1500), false, &[]));
        assert_eq!(released.len(), 1);
        assert_eq!(
            released[0].1.ops[&Op::Get].requests,
            2,
            "both workers' second 0"
        );
        let released = merger.accept(b.hand_on(1, at(3500), true, &[]));
        let seconds: Vec<(u32, u64)> = released
            .iter()
            .map(|(s, r)| (*s, r.total().requests))
            .collect();
        assert_eq!(
            seconds,
            [(1, 0), (2, 1)],
            "an empty second is still a second"
        );
        let finished = merger.accept(a.hand_on(0, at(3600), true, &[]));
        assert!(finished.is_empty(), "{finished:?}");
    }
}
