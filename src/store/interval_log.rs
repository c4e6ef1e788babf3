//! The one decoder of HdrHistogram interval logs (`histograms.hlog`, `shard.hlog`): every entry
//! with its line number, each interval's histogram decoded, the first bad line reported as what
//! is wrong with it. What the tags and times mean is for the reader of each file.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{
    IntervalLogHistogram, IntervalLogIterator, LogEntry, LogIteratorError,
};

use super::StoreError;
use super::error::{LogProblem, Problem};

/// One interval as the log has it.
#[derive(Clone, Debug)]
pub struct LoggedInterval {
    /// The line it is on (from 1).
    pub line: usize,
    /// Its start, from the log's base time.
    pub offset: Duration,
    pub length: Duration,
    pub tag: Option<String>,
    pub histogram: Histogram<u64>,
}

/// What a log holds, besides comments.
#[derive(Clone, Debug)]
pub enum Entry {
    /// `#[StartTime: ...]`
    Start(SystemTime),
    /// `#[BaseTime: ...]`: what interval offsets count from, in seconds since the epoch.
    Base(Duration),
    Interval(LoggedInterval),
}

/// The entries of a log's text, in order; after an error, nothing more.
pub struct Entries<'a> {
    text: &'a [u8],
    inner: IntervalLogIterator<'a>,
    deserializer: Deserializer,
    failed: bool,
}

impl<'a> Entries<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Entries {
            text,
            inner: IntervalLogIterator::new(text),
            deserializer: Deserializer::new(),
            failed: false,
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        1 + self.text[..offset].iter().filter(|b| **b == b'\n').count()
    }

    /// The line an interval came from: its encoded text is a slice of the log.
    fn line_of_str(&self, part: &str) -> usize {
        let offset = (part.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        self.line_of(offset)
    }

    fn decode(&mut self, interval: &IntervalLogHistogram<'_>) -> Result<LoggedInterval, Problem> {
        let line = self.line_of_str(interval.encoded_histogram());
        let fail = |what| Problem::Log { line, what };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|err| fail(LogProblem::Base64(err)))?;
        let histogram: Histogram<u64> = self
            .deserializer
            .deserialize(&mut bytes.as_slice())
            .map_err(|err| fail(LogProblem::Decode(err)))?;
        Ok(LoggedInterval {
            line,
            offset: interval.start_timestamp(),
            length: interval.duration(),
            tag: interval.tag().map(|tag| tag.as_str().to_owned()),
            histogram,
        })
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = match self.inner.next()? {
            Ok(LogEntry::StartTime(at)) => Ok(Entry::Start(UNIX_EPOCH + at)),
            Ok(LogEntry::BaseTime(at)) => Ok(Entry::Base(at)),
            Ok(LogEntry::Interval(interval)) => self.decode(&interval).map(Entry::Interval),
            Err(LogIteratorError::ParseError { offset }) => Err(Problem::Log {
                line: self.line_of(offset),
                what: LogProblem::NotALogLine,
            }),
        };
        self.failed = result.is_err();
        Some(result)
    }
}

/// One interval with its absolute start.
#[derive(Clone, Debug)]
pub struct Interval {
    /// Seconds since the Unix epoch: the log's base time (0 without one) plus the offset.
    pub start: f64,
    pub length: Duration,
    pub tag: Option<String>,
    pub histogram: Histogram<u64>,
}

/// Every interval of the log at `path`, with absolute start times.
pub fn read(path: &Path) -> Result<Vec<Interval>, StoreError> {
    let bytes = std::fs::read(path).map_err(|err| StoreError::read(path, err))?;
    let mut base = 0.0;
    let mut intervals = Vec::new();
    for entry in Entries::new(&bytes) {
        match entry.map_err(|problem| StoreError::invalid(path, problem))? {
            Entry::Base(at) => base = at.as_secs_f64(),
            Entry::Start(_) => {}
            Entry::Interval(interval) => intervals.push(Interval {
                start: base + interval.offset.as_secs_f64(),
                length: interval.length,
                tag: interval.tag,
                histogram: interval.histogram,
            }),
        }
    }
    Ok(intervals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_and_ends_the_entries() {
        let text = b"#[StartTime: 1.000 (seconds since epoch)]\n\
                     Tag=get.latency,0.000,1.000,1.000,!!notbase64\n\
                     Tag=get.latency,1.000,1.000,1.000,!!notbase64\n";
        let entries: Vec<_> = Entries::new(text).collect();
        assert_eq!(entries.len(), 2);
        assert!(matches!(entries[0], Ok(Entry::Start(_))));
        let err = entries[1].as_ref().unwrap_err().to_string();
        assert!(
            err.starts_with("line 2: the histogram is not base64"),
            "{err}"
        );
        let entries: Vec<_> = Entries::new(b"what is this\n").collect();
        assert_eq!(
            entries[0].as_ref().unwrap_err().to_string(),
            "line 1: not an HdrHistogram interval log line"
        );
    }
}
