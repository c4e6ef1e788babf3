//! `timeseries.csv`: one row per second per op (requests, errors, in flight, latency and time to
//! first step percentiles) and one `all` row per second (with the dropped arrivals). Its columns,
//! its writer (each second as it completes, so an interrupted run keeps every finished second)
//! and its reader (every cell checked, naming the line and column of a bad one).

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::StoreError;
use super::error::{Problem, RowProblem};
use super::names::TIMESERIES_CSV;
use crate::metrics::series::{OpSecond, SecondRecord, SeriesSink, percentile};
use crate::model::{Metric, Op};

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

/// The op column of the row of every op together.
pub const ALL: &str = "all";

/// The writer of `timeseries.csv`, a series sink of the run.
pub struct TimeseriesCsv {
    warmup: Duration,
    writer: csv::Writer<BufWriter<File>>,
    start: Option<SystemTime>,
}

impl TimeseriesCsv {
    /// Creates `dir/timeseries.csv` with its header now, so a run that never starts still
    /// leaves a valid (empty) series; seconds that start before `warmup` are marked.
    pub fn create(dir: &Path, warmup: Duration) -> Result<TimeseriesCsv, StoreError> {
        let path = TIMESERIES_CSV.path_in(dir);
        let create = || -> io::Result<_> {
            let mut writer = csv::Writer::from_writer(BufWriter::new(File::create(&path)?));
            writer.write_record(HEADER)?;
            writer.flush()?;
            Ok(writer)
        };
        let writer = create().map_err(|err| StoreError::write(&path, err))?;
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
        Self::row(writer, &prefix, ALL, &record.total(), Some(record.dropped))?;
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

/// One row of `timeseries.csv`: one op (or `all`) during one second.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesRow {
    pub second: u32,
    pub unix_time: f64,
    pub warmup: bool,
    /// An op name, or `all` for the row of every op together.
    pub op: String,
    pub requests: u64,
    pub errors: u64,
    pub in_flight: u64,
    /// Only on `all` rows.
    pub dropped: Option<u64>,
    /// p50, p90, p99 in ms; `None` where nothing was measured.
    pub latency_ms: [Option<f64>; 3],
    pub ttfs_ms: [Option<f64>; 3],
}

/// Every row of the `timeseries.csv` at `path`, checked: the header, each cell, and the order
/// (seconds from 0, none skipped, each starting with its `all` row).
pub fn read(path: &Path) -> Result<Vec<SeriesRow>, StoreError> {
    let file = File::open(path).map_err(|err| StoreError::read(path, err))?;
    let fail = |problem| StoreError::invalid(path, problem);
    let mut reader = csv::Reader::from_reader(io::BufReader::new(file));
    let header = reader
        .headers()
        .map_err(|err| fail(Problem::CsvHeader(err)))?;
    if header.iter().ne(HEADER) {
        return Err(fail(Problem::WrongHeader));
    }
    let mut rows: Vec<SeriesRow> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| fail(Problem::Csv(err)))?;
        let line = record.position().map_or(0, |p| p.line());
        let row = parse_row(&record).map_err(|what| fail(Problem::Row { line, what }))?;
        let expected = rows.last().map_or(0, |last| {
            if row.op == ALL {
                last.second + 1
            } else {
                last.second
            }
        });
        if row.second != expected || (rows.is_empty() && row.op != ALL) {
            return Err(fail(Problem::OutOfOrder {
                line,
                second: row.second,
                op: row.op,
                expected,
            }));
        }
        rows.push(row);
    }
    Ok(rows)
}

fn parse_row(record: &csv::StringRecord) -> Result<SeriesRow, RowProblem> {
    let field = |index: usize| record.get(index).unwrap_or("");
    fn number<T: std::str::FromStr>(
        record: &csv::StringRecord,
        index: usize,
    ) -> Result<T, RowProblem> {
        let text = record.get(index).unwrap_or("");
        text.parse().map_err(|_| RowProblem::NotANumber {
            column: HEADER[index],
            text: text.to_owned(),
        })
    }
    let optional = |index: usize| -> Result<Option<f64>, RowProblem> {
        if field(index).is_empty() {
            Ok(None)
        } else {
            number(record, index).map(Some)
        }
    };
    if record.len() != HEADER.len() {
        return Err(RowProblem::FieldCount {
            found: record.len(),
            expected: HEADER.len(),
        });
    }
    let op = field(3).to_owned();
    if op != ALL && Op::from_name(&op).is_none() {
        return Err(RowProblem::Op(op));
    }
    let warmup = match field(2) {
        "0" => false,
        "1" => true,
        other => return Err(RowProblem::Warmup(other.to_owned())),
    };
    let dropped = if field(7).is_empty() {
        None
    } else {
        Some(number(record, 7)?)
    };
    Ok(SeriesRow {
        second: number(record, 0)?,
        unix_time: number(record, 1)?,
        warmup,
        op,
        requests: number(record, 4)?,
        errors: number(record, 5)?,
        in_flight: number(record, 6)?,
        dropped,
        latency_ms: [optional(8)?, optional(9)?, optional(10)?],
        ttfs_ms: [optional(11)?, optional(12)?, optional(13)?],
    })
}
