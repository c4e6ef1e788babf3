//! `histograms.hlog`: an HdrHistogram V2 interval log, one interval per second, one histogram
//! per op and metric tagged `<op>.<metric>` (e.g. `run_stream.ttfs`), values in microseconds
//! (`steps` in steps). Readable by the standard HdrHistogram tools (HistogramLogProcessor, the
//! Python and JavaScript ports). Written as each second completes.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use crate::metrics::series::{SecondRecord, SeriesSink};

pub const FILE_NAME: &str = "histograms.hlog";

pub struct HistogramLog {
    file: BufWriter<File>,
    serializer: V2DeflateSerializer,
    started: bool,
}

impl HistogramLog {
    /// Creates `dir/histograms.hlog` now with its comments; `about` names the run. The start
    /// time and the intervals follow once the load starts.
    pub fn create(dir: &Path, about: &str) -> io::Result<HistogramLog> {
        let mut file = BufWriter::new(File::create(dir.join(FILE_NAME))?);
        let mut serializer = V2DeflateSerializer::new();
        IntervalLogWriterBuilder::new()
            .add_comment(about)
            .add_comment("one interval per second; tags are <op>.<metric>; values in microseconds (steps: a count)")
            .begin_log_with(&mut file, &mut serializer)?;
        file.flush()?;
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
                let tag = format!("{}.{}", op.name(), metric.name());
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
