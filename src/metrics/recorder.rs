//! Per-worker results: one cell of HdrHistograms and counters per (op, variant), filled without
//! locks on the worker's own thread and merged exactly at the end. Memory depends on the range
//! of values seen, never on the number of requests.

use std::collections::BTreeMap;
use std::sync::Arc;

use hdrhistogram::Histogram;

use super::slo::{Limits, Objectives};
use crate::model::Metric;
use crate::model::sample::{Sample, StepRole, StreamCounts, VariantId};
use crate::model::{ErrorClass, Op, redact};

/// Significant digits kept by every histogram.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Distinct error messages kept per class and cell, so a user can see why without a log.
pub const MESSAGES_PER_CLASS: usize = 3;

/// Results for one op against one variant (or against no particular agent).
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub requests: u64,
    pub ok: u64,
    /// 429s waited out and sent again, over every request (`retry_after = "honour"`).
    pub retries: u64,
    pub errors: BTreeMap<ErrorClass, u64>,
    pub messages: BTreeMap<ErrorClass, Vec<String>>,
    /// What successful streams carried: steps by role (indexed as `StepRole::ALL`) and events
    /// that were not steps; `None` until a stream succeeds.
    pub streams: Option<StreamTotals>,
    /// Requests that succeeded and met every objective of their op (all that succeeded when
    /// there are none).
    pub good: u64,
    /// Requests that succeeded and met the objective on each metric, by `Metric::index`.
    pub met: [u64; Metric::COUNT],
    histograms: Histograms,
}

/// Steps by role and other events, summed over successful streams.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamTotals {
    pub by_role: [u64; StepRole::COUNT],
    pub other_events: u64,
}

impl StreamTotals {
    fn add(&mut self, counts: &StreamCounts) {
        for (total, n) in self.by_role.iter_mut().zip(counts.by_role) {
            *total += u64::from(n);
        }
        self.other_events += u64::from(counts.other_events);
    }

    fn merge(&mut self, other: &StreamTotals) {
        for (total, n) in self.by_role.iter_mut().zip(other.by_role) {
            *total += n;
        }
        self.other_events += other.other_events;
    }
}

impl Cell {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The histogram of a metric, if any value was recorded.
    pub fn histogram(&self, metric: Metric) -> Option<&Histogram<u64>> {
        self.histograms.get(metric)
    }

    fn record(&mut self, sample: &Sample, limits: Option<&Limits>) {
        self.requests += 1;
        self.retries += u64::from(sample.retries);
        // Bit i set: a value of metric i was over its objective.
        let mut missed = 0u32;
        sample.for_each_value(|metric, value| {
            self.histograms.record(metric, value);
            if let Some(limits) = limits
                && limits[metric.index()].is_some_and(|max| value > max)
            {
                missed |= 1 << metric.index();
            }
        });
        match &sample.outcome {
            Err(failure) => {
                *self.errors.entry(failure.class).or_default() += 1;
                let kept = self.messages.entry(failure.class).or_default();
                if kept.len() < MESSAGES_PER_CLASS && !kept.contains(&failure.message) {
                    kept.push(failure.message.clone());
                }
            }
            Ok(()) => {
                self.ok += 1;
                self.good += u64::from(missed == 0);
                if let Some(limits) = limits {
                    for (index, limit) in limits.iter().enumerate() {
                        if limit.is_some() && missed & (1 << index) == 0 {
                            self.met[index] += 1;
                        }
                    }
                }
                if let Some(counts) = &sample.stream {
                    self.streams.get_or_insert_default().add(counts);
                }
            }
        }
    }

    /// Adds another cell's counts and histograms to this one (exact: histograms merge bucket by bucket).
    pub fn merge(&mut self, other: &Cell) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.retries += other.retries;
        self.good += other.good;
        for (mine, theirs) in self.met.iter_mut().zip(other.met) {
            *mine += theirs;
        }
        for (class, count) in &other.errors {
            *self.errors.entry(*class).or_default() += count;
        }
        for (class, messages) in &other.messages {
            let kept = self.messages.entry(*class).or_default();
            for message in messages {
                if kept.len() < MESSAGES_PER_CLASS && !kept.contains(message) {
                    kept.push(message.clone());
                }
            }
        }
        if let Some(theirs) = &other.streams {
            self.streams.get_or_insert_default().merge(theirs);
        }
        self.histograms.merge(&other.histograms);
    }
}

/// One histogram per metric, made when the metric's first value arrives.
#[derive(Clone, Debug, Default)]
pub struct Histograms([Option<Histogram<u64>>; Metric::COUNT]);

impl Histograms {
    pub fn get(&self, metric: Metric) -> Option<&Histogram<u64>> {
        self.0[metric.index()].as_ref()
    }

    pub fn record(&mut self, metric: Metric, value: u64) {
        let histogram = self.0[metric.index()].get_or_insert_with(new_histogram);
        // Auto-resizing: `record` grows the range; only a value beyond u64 range could fail.
        if histogram.record(value).is_err() {
            histogram.saturating_record(value);
        }
    }

    /// Adds one histogram to a metric's.
    pub fn merge_one(&mut self, metric: Metric, histogram: &Histogram<u64>) {
        self.0[metric.index()]
            .get_or_insert_with(new_histogram)
            .add(histogram)
            .expect("auto-resizing histograms accept any other histogram");
    }

    /// Adds another set bucket by bucket (exact).
    pub fn merge(&mut self, other: &Histograms) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            if let Some(theirs) = theirs {
                mine.get_or_insert_with(new_histogram)
                    .add(theirs)
                    .expect("auto-resizing histograms accept any other histogram");
            }
        }
    }

    /// The metrics with data, with their histograms.
    pub fn iter(&self) -> impl Iterator<Item = (Metric, &Histogram<u64>)> {
        Metric::ALL
            .into_iter()
            .filter_map(|metric| Some((metric, self.get(metric)?)))
    }
}

/// An empty histogram of the precision every report uses.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is a valid precision")
}

/// All cells of one worker (or, after merging, of the whole run).
#[derive(Clone, Debug)]
pub struct Recorder {
    variants: usize,
    /// Iterations started (after the warmup).
    pub iterations: u64,
    /// Arrivals that never started: no free slot (saturation "drop"), a full queue, or the end
    /// of the run came first (after the warmup).
    pub dropped: u64,
    /// Indexed by `op * (variants + 1) + slot`, where slot 0 is "no variant".
    cells: Vec<Option<Box<Cell>>>,
    /// Runs of multi-turn conversations again, by op and turn (from 1), all variants together.
    turns: BTreeMap<(Op, u32), Cell>,
    /// The objectives each request is judged by as it is recorded; `None`: none.
    objectives: Option<Arc<Objectives>>,
}

impl Recorder {
    /// A recorder for a plan with `variants` fixture agents.
    pub fn new(variants: usize) -> Self {
        Recorder {
            variants,
            iterations: 0,
            dropped: 0,
            cells: vec![None; Op::ALL.len() * (variants + 1)],
            turns: BTreeMap::new(),
            objectives: None,
        }
    }

    /// Judges every request recorded from now on by `objectives` (counted in `Cell::good`).
    pub fn judging(mut self, objectives: Arc<Objectives>) -> Self {
        self.objectives = (!objectives.is_empty()).then_some(objectives);
        self
    }

    fn slot(&self, op: Op, variant: Option<VariantId>) -> usize {
        let column = variant.map_or(0, |v| usize::from(v) + 1);
        assert!(
            column <= self.variants,
            "variant {column} beyond the plan's fixtures"
        );
        op.index() * (self.variants + 1) + column
    }

    pub fn record(&mut self, sample: &Sample) {
        let slot = self.slot(sample.op, sample.variant);
        let limits = self.objectives.as_deref().map(|o| o.limits(sample.op));
        self.cells[slot]
            .get_or_insert_with(Box::default)
            .record(sample, limits);
        if let Some(turn) = sample.turn {
            self.turns
                .entry((sample.op, turn))
                .or_default()
                .record(sample, limits);
        }
    }

    /// One op's runs by turn of their conversation, for ops that ran several turns.
    pub fn turns(&self, op: Op) -> impl Iterator<Item = (u32, &Cell)> {
        self.turns
            .range((op, 0)..=(op, u32::MAX))
            .map(|((_, turn), cell)| (*turn, cell))
    }

    /// Adds another recorder's results to this one.
    pub fn merge(&mut self, other: &Recorder) {
        assert_eq!(self.variants, other.variants, "recorders of one plan");
        self.iterations += other.iterations;
        self.dropped += other.dropped;
        for (mine, theirs) in self.cells.iter_mut().zip(&other.cells) {
            if let Some(theirs) = theirs {
                mine.get_or_insert_with(Box::default).merge(theirs);
            }
        }
        for (key, theirs) in &other.turns {
            self.turns.entry(*key).or_default().merge(theirs);
        }
    }

    /// The cell of one op and variant, if anything was recorded there.
    pub fn cell(&self, op: Op, variant: Option<VariantId>) -> Option<&Cell> {
        self.cells[self.slot(op, variant)].as_deref()
    }

    /// One op across all variants (and none), merged.
    pub fn op_total(&self, op: Op) -> Option<Cell> {
        let start = op.index() * (self.variants + 1);
        let mut total: Option<Cell> = None;
        for cell in self.cells[start..start + self.variants + 1]
            .iter()
            .flatten()
        {
            total.get_or_insert_with(Cell::default).merge(cell);
        }
        total
    }

    pub fn variant_count(&self) -> usize {
        self.variants
    }

    /// Replaces every occurrence of `secret` in the kept error messages, so a server that
    /// echoes the token cannot leak it into a report.
    pub fn redact(&mut self, secret: &str) {
        let cells = self.cells.iter_mut().flatten().map(|cell| &mut **cell);
        for cell in cells.chain(self.turns.values_mut()) {
            for message in cell.messages.values_mut().flatten() {
                *message = redact(message, secret);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::model::Failure;
    use crate::model::Timeline;

    fn sample(
        op: Op,
        variant: Option<VariantId>,
        service_ms: u64,
        outcome: Result<(), Failure>,
    ) -> Sample {
        let sent = Instant::now();
        let mut timeline = Timeline::starting(sent, sent);
        timeline.end = sent + Duration::from_millis(service_ms);
        timeline.headers = Some(sent + Duration::from_millis(1));
        Sample::new(op, variant, timeline, outcome)
    }

    #[test]
    fn successes_fill_histograms_and_failures_fill_counters() {
        let mut recorder = Recorder::new(2);
        recorder.record(&sample(Op::Get, Some(0), 10, Ok(())));
        recorder.record(&sample(Op::Get, Some(0), 30, Ok(())));
        let failure = Failure::new(ErrorClass::Http(503), "service unavailable");
        recorder.record(&sample(Op::Get, Some(1), 5, Err(failure.clone())));
        recorder.record(&sample(Op::Get, Some(1), 5, Err(failure)));

        let variant0 = recorder.cell(Op::Get, Some(0)).unwrap();
        assert_eq!(
            (variant0.requests, variant0.ok, variant0.error_count()),
            (2, 2, 0)
        );
        let latency = variant0.histogram(Metric::Latency).unwrap();
        assert_eq!(latency.len(), 2);
        assert!(
            (latency.max() as i64 - 30_000).abs() <= 30,
            "max {}",
            latency.max()
        );
        assert_eq!(variant0.histogram(Metric::Ttfb).unwrap().len(), 2);
        assert!(variant0.histogram(Metric::Ttfs).is_none());

        let variant1 = recorder.cell(Op::Get, Some(1)).unwrap();
        assert_eq!(variant1.errors.get(&ErrorClass::Http(503)), Some(&2));
        assert_eq!(
            variant1.messages[&ErrorClass::Http(503)],
            vec!["service unavailable".to_owned()]
        );
        assert!(
            variant1.histogram(Metric::Latency).is_none(),
            "failures are not in latency"
        );

        let total = recorder.op_total(Op::Get).unwrap();
        assert_eq!((total.requests, total.ok, total.error_count()), (4, 2, 2));
        assert!(recorder.op_total(Op::List).is_none());
    }

    #[test]
    fn merging_is_exact() {
        let mut a = Recorder::new(0);
        let mut b = Recorder::new(0);
        for ms in 1..=100 {
            a.record(&sample(Op::Run, None, ms, Ok(())));
            b.record(&sample(Op::Run, None, ms + 100, Ok(())));
        }
        a.merge(&b);
        let cell = a.cell(Op::Run, None).unwrap();
        let latency = cell.histogram(Metric::Latency).unwrap();
        assert_eq!(cell.requests, 200);
        assert_eq!(latency.len(), 200);
        let median_ms = latency.value_at_quantile(0.5) as f64 / 1000.0;
        assert!((median_ms - 100.0).abs() < 0.2, "median {median_ms}");
    }

    #[test]
    fn each_request_is_judged_by_the_objectives_of_its_op() {
        use crate::metrics::slo::{Objective, Objectives};
        let objectives = Objectives::new(vec![
            Objective::parse_expr("latency <= 50ms").unwrap(),
            Objective::parse_expr("get.latency < 20ms").unwrap(),
        ]);
        let mut a = Recorder::new(0).judging(Arc::new(objectives));
        let mut b = a.clone();
        for ms in [10, 30, 60] {
            a.record(&sample(Op::Run, None, ms, Ok(())));
            b.record(&sample(Op::Get, None, ms, Ok(())));
        }
        let failure = Failure::new(ErrorClass::Http(503), "down");
        a.record(&sample(Op::Run, None, 1, Err(failure)));
        let run = a.cell(Op::Run, None).unwrap();
        assert_eq!((run.requests, run.ok, run.good), (4, 3, 2), "10 and 30 ms");
        assert_eq!(run.met[Metric::Latency.index()], 2);
        assert_eq!(run.met[Metric::Ttfs.index()], 0, "no objective on ttfs");
        let get = b.cell(Op::Get, None).unwrap();
        assert_eq!(get.good, 1, "only 10 ms is under the op's own 20 ms");
        a.merge(&b);
        assert_eq!(a.cell(Op::Get, None).unwrap().good, 1);

        let mut plain = Recorder::new(0);
        plain.record(&sample(Op::Run, None, 60_000, Ok(())));
        assert_eq!(
            plain.cell(Op::Run, None).unwrap().good,
            1,
            "no objectives: every success is good"
        );
    }

    #[test]
    fn redaction_scrubs_the_secret_from_every_kept_message() {
        let mut recorder = Recorder::new(1);
        let failure = Failure::new(ErrorClass::Http(401), "bad token s3cret in header");
        recorder.record(&sample(Op::Get, Some(0), 1, Err(failure)));
        recorder.redact("s3cret");
        let cell = recorder.cell(Op::Get, Some(0)).unwrap();
        let kept = &cell.messages[&ErrorClass::Http(401)];
        assert_eq!(kept.len(), 1);
        assert!(!kept[0].contains("s3cret"), "{kept:?}");
    }
}
