//! `histograms.hlog`: an HdrHistogram V2 interval log, one interval per second, one histogram
//! per op and metric tagged `<op>.<metric>` (e.g. `run_stream.ttfs`), values in microseconds
//! (`steps` in steps). Readable by the standard HdrHistogram tools (HistogramLogProcessor, the
//! Python and JavaScript ports). Its writer (each second as it completes) and what its
//! intervals mean once decoded (by [`super::interval_log`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use super::StoreError;
use super::error::{LogProblem, Problem};
use super::interval_log::LoggedInterval;
use super::names::HISTOGRAMS_HLOG;
use crate::metrics::series::{SecondRecord, SeriesSink};
use crate::model::{Metric, Op};

/// The first comment of `histograms.hlog`, naming the run.
pub fn log_comment(run_id: &str, scenario: &str) -> String {
    format!(
        "agentload {} run {run_id} of scenario {scenario}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The tag of one op's metric: `run_stream.ttfs`.
pub fn tag(op: Op, metric: Metric) -> String {
    format!("{}.{}", op.name(), metric.name())
}

/// The writer of `histograms.hlog`, a series sink of the run.
pub struct HistogramLog {
    file: BufWriter<File>,
    serializer: V2DeflateSerializer,
    started: bool,
}

impl HistogramLog {
    /// Creates `dir/histograms.hlog` now with its comments; `about` names the run. The start
    /// time and the intervals follow once the load starts.
    pub fn create(dir: &Path, about: &str) -> Result<HistogramLog, StoreError> {
        let path = HISTOGRAMS_HLOG.path_in(dir);
        let create = || -> io::Result<_> {
            let mut file = BufWriter::new(File::create(&path)?);
            let mut serializer = V2DeflateSerializer::new();
            IntervalLogWriterBuilder::new()
                .add_comment(about)
                .add_comment("one interval per second; tags are <op>.<metric>; values in microseconds (steps: a count)")
                .begin_log_with(&mut file, &mut serializer)?;
            file.flush()?;
            Ok((file, serializer))
        };
        let (file, serializer) = create().map_err(|err| StoreError::write(&path, err))?;
        Ok(HistogramLog {
            file,
            serializer,
            started: false,
        })
    }
}

impl SeriesSink for HistogramLog {
    fn begin(&mut self, wall: SystemTime) -> io::Result<()> {
        IntervalLogWriterBuilder::new()
            .with_start_time(wall)
            .with_base_time(wall)
            .begin_log_with(&mut self.file, &mut self.serializer)?;
        writeln!(
            self.file,
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        )?;
        self.started = true;
        self.file.flush()
    }

    fn second(&mut self, second: u32, record: &SecondRecord) -> io::Result<()> {
        if !self.started {
            return Ok(());
        }
        let file = &mut self.file;
        // A builder without headers writes nothing of its own: just the intervals.
        let mut log = IntervalLogWriterBuilder::new().begin_log_with(file, &mut self.serializer)?;
        let start = Duration::from_secs(u64::from(second));
        for (op, op_record) in &record.ops {
            for (metric, histogram) in op_record.histograms.iter() {
                let tag = tag(*op, metric);
                let tag = Tag::new(&tag).expect("op and metric names have no commas or spaces");
                log.write_histogram(histogram, start, Duration::from_secs(1), Some(tag))
                    .map_err(|err| io::Error::other(format!("{err:?}")))?;
            }
        }
        file.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_all()
    }
}

/// One histogram of the log: one op's metric during one second.
#[derive(Clone, Debug)]
pub struct Interval {
    pub second: u32,
    pub op: Op,
    pub metric: Metric,
    pub histogram: Histogram<u64>,
}

impl Interval {
    /// What a decoded interval of `histograms.hlog` means: a tag `<op>.<metric>` and a start
    /// at a whole second of the run.
    pub fn from_logged(interval: LoggedInterval) -> Result<Interval, Problem> {
        let line = interval.line;
        let fail = |what| Problem::Log { line, what };
        let tag = interval.tag.ok_or_else(|| fail(LogProblem::NoTag))?;
        let (op, metric) = tag
            .split_once('.')
            .and_then(|(op, metric)| Some((Op::from_name(op)?, Metric::from_name(metric)?)))
            .ok_or_else(|| fail(LogProblem::NotOpMetric(tag.clone())))?;
        let start = interval.offset;
        if start.subsec_nanos() != 0 {
            return Err(fail(LogProblem::NotWholeSecond(start)));
        }
        let second =
            u32::try_from(start.as_secs()).map_err(|_| fail(LogProblem::TooLate(start)))?;
        Ok(Interval {
            second,
            op,
            metric,
            histogram: interval.histogram,
        })
    }
}
