//! What a shard leaves in its report folder for `agentload merge`, beside its normal report:
//! `shard.json` (which part of which run of which scenario, and when its plan started) and
//! `shard.hlog` (its measured window's histograms per op, per variant and per turn: the very
//! histograms its summary was computed from, so merged statistics are exact). Their shapes,
//! writers and readers.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::error::Problem;
use super::names::{SHARD_HLOG, SHARD_JSON};
use crate::engine::shard::Shard;
use crate::model::{Metric, Op};

/// The `schema` of `shard.json`.
pub const SCHEMA: &str = "agentload/shard/v1";

/// `shard.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardMeta {
    pub schema: String,
    /// 0-based index and count, as `--shard I/N` gave them.
    pub shard: ShardIndex,
    pub run_id: String,
    pub scenario: ScenarioId,
    /// `--start-at`, RFC 3339, when given.
    pub start_at: Option<String>,
    /// When this shard's plan started (RFC 3339 with milliseconds); null if it never did.
    pub started: Option<String>,
    /// Seconds of the measured window (after the warmup).
    pub measured_s: f64,
    pub warmup_s: f64,
    /// This shard's part of the plan.
    pub plan: PlanPart,
    /// The fixture agents (variants), in the order `shard.hlog` numbers them.
    pub variants: Vec<String>,
}

/// Which part a shard is: `--shard INDEX/COUNT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardIndex {
    pub index: u32,
    pub count: u32,
}

impl From<Shard> for ShardIndex {
    fn from(shard: Shard) -> Self {
        ShardIndex {
            index: shard.index,
            count: shard.count,
        }
    }
}

/// The scenario a shard ran: its name and a hash of the file and the flags that shaped the
/// plan, so shards of different plans are never merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioId {
    pub name: String,
    pub hash: String,
}

/// A shard's part, as its summary's `load` block will show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanPart {
    /// The whole plan's load, in words (every shard shows the same).
    pub load: String,
    pub model: String,
    pub duration_s: Option<f64>,
    pub iterations: Option<u64>,
    pub max_in_flight: Option<u64>,
}

/// Writes `dir/shard.json`.
pub fn write_meta(dir: &Path, meta: &ShardMeta) -> Result<(), StoreError> {
    let mut text = serde_json::to_vec_pretty(meta).expect("shard.json serializes");
    text.push(b'\n');
    super::atomic::write(dir, SHARD_JSON, &text).map(drop)
}

/// Reads `dir/shard.json` (whatever its `schema`: the caller judges it).
pub fn read_meta(dir: &Path) -> Result<ShardMeta, StoreError> {
    let path = SHARD_JSON.path_in(dir);
    let text = std::fs::read_to_string(&path).map_err(|err| StoreError::read(&path, err))?;
    serde_json::from_str(&text)
        .map_err(|err| StoreError::invalid(&path, Problem::NotShardMeta(err)))
}

/// Which histograms a `shard.hlog` tag holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// One op, every variant together: tag `<op>.<metric>`.
    Op,
    /// One variant (by its index in `variants`): tag `variant.<i>.<op>.<metric>`.
    Variant(usize),
    /// One turn of the conversations (from 1): tag `turn.<n>.<op>.<metric>`.
    Turn(u32),
}

/// The whole-window histograms of a run, by scope, op and metric.
pub type Cells = BTreeMap<(Scope, Op, Metric), Histogram<u64>>;

/// The tag `shard.hlog` gives a histogram.
pub fn tag(scope: Scope, op: Op, metric: Metric) -> String {
    match scope {
        Scope::Op => format!("{op}.{metric}"),
        Scope::Variant(index) => format!("variant.{index}.{op}.{metric}"),
        Scope::Turn(turn) => format!("turn.{turn}.{op}.{metric}"),
    }
}

/// The key a tag names, if it is one `shard.hlog` writes.
pub fn parse_tag(tag: &str) -> Option<(Scope, Op, Metric)> {
    let parts: Vec<&str> = tag.split('.').collect();
    let (scope, op, metric) = match parts.as_slice() {
        [op, metric] => (Scope::Op, op, metric),
        ["variant", index, op, metric] => (Scope::Variant(index.parse().ok()?), op, metric),
        ["turn", turn, op, metric] => (Scope::Turn(turn.parse().ok()?), op, metric),
        _ => return None,
    };
    Some((scope, Op::from_name(op)?, Metric::from_name(metric)?))
}

/// Adds a histogram into `cells` (exact: bucket by bucket).
pub fn add(cells: &mut Cells, key: (Scope, Op, Metric), histogram: &Histogram<u64>) {
    cells
        .entry(key)
        .or_insert_with(crate::metrics::recorder::new_histogram)
        .add(histogram)
        .expect("auto-resizing histograms accept any other histogram");
}

/// Writes `dir/shard.hlog`: one interval, the measured window from `start`, per histogram.
pub fn write_histograms(
    dir: &Path,
    cells: &Cells,
    start: SystemTime,
    window: Duration,
    about: &str,
) -> Result<(), StoreError> {
    let path = SHARD_HLOG.path_in(dir);
    let write = || -> io::Result<()> {
        let mut file = BufWriter::new(File::create(&path)?);
        let mut serializer = V2DeflateSerializer::new();
        let mut log = IntervalLogWriterBuilder::new()
            .add_comment(about)
            .add_comment("the measured window's histograms, for agentload merge; tags: <op>.<metric>, variant.<i>.<op>.<metric>, turn.<n>.<op>.<metric>; values in microseconds (steps: a count)")
            .with_start_time(start)
            .with_base_time(start)
            .begin_log_with(&mut file, &mut serializer)?;
        for ((scope, op, metric), histogram) in cells {
            let text = tag(*scope, *op, *metric);
            let tag = Tag::new(&text).expect("tags are made of names without spaces or commas");
            log.write_histogram(histogram, Duration::ZERO, window, Some(tag))
                .map_err(|err| io::Error::other(format!("{err:?}")))?;
        }
        file.flush()?;
        file.get_ref().sync_all()
    };
    write().map_err(|err| StoreError::write(&path, err))
}

/// Reads `dir/shard.hlog` back, adding up intervals of one tag.
pub fn read_histograms(dir: &Path) -> Result<Cells, StoreError> {
    let path = SHARD_HLOG.path_in(dir);
    let mut cells = Cells::new();
    for interval in super::interval_log::read(&path)? {
        let Some(key) = interval.tag.as_deref().and_then(parse_tag) else {
            return Err(StoreError::invalid(
                &path,
                Problem::UnknownShardTag { tag: interval.tag },
            ));
        };
        add(&mut cells, key, &interval.histogram);
    }
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for key in [
            (Scope::Op, Op::RunStream, Metric::Ttfs),
            (Scope::Variant(3), Op::Get, Metric::Latency),
            (Scope::Turn(2), Op::Run, Metric::ServerTime),
        ] {
            assert_eq!(parse_tag(&tag(key.0, key.1, key.2)), Some(key));
        }
        assert_eq!(parse_tag("run.latency.p50"), None);
        assert_eq!(parse_tag("walk.latency"), None);
    }

    #[test]
    fn histograms_survive_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut cells = Cells::new();
        let mut latency = crate::metrics::recorder::new_histogram();
        for micros in 1..=1000 {
            latency.record(micros * 37).unwrap();
        }
        cells.insert(
            (Scope::Variant(1), Op::Run, Metric::Latency),
            latency.clone(),
        );
        let mut steps = crate::metrics::recorder::new_histogram();
        steps.record(4).unwrap();
        cells.insert((Scope::Op, Op::RunStream, Metric::Steps), steps);
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        write_histograms(dir.path(), &cells, start, Duration::from_secs(3), "t").unwrap();
        let back = read_histograms(dir.path()).unwrap();
        assert_eq!(back, cells);
        let intervals = super::super::interval_log::read(&dir.path().join(SHARD_HLOG)).unwrap();
        assert_eq!(intervals[0].start, 1_800_000_000.0);
        assert_eq!(intervals[0].length, Duration::from_secs(3));
    }

    #[test]
    fn a_tag_of_another_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut cells = Cells::new();
        let mut latency = crate::metrics::recorder::new_histogram();
        latency.record(5).unwrap();
        cells.insert((Scope::Op, Op::Run, Metric::Latency), latency);
        write_histograms(
            dir.path(),
            &cells,
            SystemTime::now(),
            Duration::from_secs(1),
            "t",
        )
        .unwrap();
        let path = dir.path().join("shard.hlog");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("Tag=run.latency", "Tag=run.speed")).unwrap();
        let err = read_histograms(dir.path()).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "shard.hlog: a histogram tagged Some(\"run.speed\") is not one agentload writes"
            ),
            "{err}"
        );
    }
}
