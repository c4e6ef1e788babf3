//! `timeseries.csv`: one row per second per op (requests, errors, in flight, latency and time to
//! first step percentiles) and one `all` row per second (with the dropped arrivals), written
//! as each second completes so an interrupted run keeps every finished second.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::metrics::series::{OpSecond, SecondRecord, SeriesSink, percentile};
use crate::model::Metric;

pub const FILE_NAME: &str = "timeseries.csv";

/// The columns, in order.
pub const HEADER: [&str; 14] = [
    "second",
    "unix_time",
    "warmup",
    "op",
    "requests",
    "errors",
    "in_flight",
    "dropped",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "ttfs_p50_ms",
    "ttfs_p90_ms",
    "ttfs_p99_ms",
];

pub struct TimeseriesCsv {
    warmup: Duration,
    writer: csv::Writer<BufWriter<File>>,
    start: Option<SystemTime>,
}

impl TimeseriesCsv {
    /// Creates `dir/timeseries.csv` with its header now, so a run that never starts still
    /// leaves a valid (empty) series; seconds that start before `warmup` are marked.
    pub fn create(dir: &Path, warmup: Duration) -> io::Result<TimeseriesCsv> {
        let mut writer =
            csv::Writer::from_writer(BufWriter::new(File::create(dir.join(FILE_NAME))?));
        writer.write_record(HEADER)?;
        writer.flush()?;
        Ok(TimeseriesCsv {
            warmup,
            writer,
            start: None,
        })
    }

    fn row(
        writer: &mut csv::Writer<BufWriter<File>>,
        prefix: &[String; 3],
        op: &str,
        record: &OpSecond,
        dropped: Option<u64>,
    ) -> csv::Result<()> {
        let ms = |metric, quantile| {
            percentile(record, metric, quantile).map_or_else(String::new, |v| format!("{v:.3}"))
        };
        writer.write_record([
            prefix[0].as_str(),
            &prefix[1],
            &prefix[2],
            op,
            &record.requests.to_string(),
            &record.errors.to_string(),
            &record.in_flight.to_string(),
            &dropped.map_or_else(String::new, |d| d.to_string()),
            &ms(Metric::Latency, 0.5),
            &ms(Metric::Latency, 0.9),
            &ms(Metric::Latency, 0.99),
            &ms(Metric::Ttfs, 0.5),
            &ms(Metric::Ttfs, 0.9),
            &ms(Metric::Ttfs, 0.99),
        ])
    }
}

impl SeriesSink for TimeseriesCsv {
    fn begin(&mut self, wall: SystemTime) -> io::Result<()> {
        self.start = Some(wall);
        Ok(())
    }

    fn second(&mut self, second: u32, record: &SecondRecord) -> io::Result<()> {
        let Some(start) = self.start else {
            return Ok(());
        };
        let writer = &mut self.writer;
        let at = start + Duration::from_secs(u64::from(second));
        let unix = at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let warmup = Duration::from_secs(u64::from(second)) < self.warmup;
        let prefix = [
            second.to_string(),
            format!("{unix:.3}"),
            u8::from(warmup).to_string(),
        ];
        Self::row(
            writer,
            &prefix,
            "all",
            &record.total(),
            Some(record.dropped),
        )?;
        for (op, op_record) in &record.ops {
            Self::row(writer, &prefix, op.name(), op_record, None)?;
        }
        // Each completed second reaches the disk, so a crash keeps it.
        writer.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().get_ref().sync_all()
    }
}
