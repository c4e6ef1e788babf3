//! What a shard leaves in its report folder for `agentload merge`, beside its normal report:
//! `shard.json` (which part of which run of which scenario, and when its plan started) and
//! `shard.hlog` (its measured window's histograms per op, per variant and per turn: the very
//! histograms its summary was computed from, so merged statistics are exact).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use serde::{Deserialize, Serialize};

use crate::engine::RunOutput;
use crate::engine::shard::Shard;
use crate::metrics::Recorder;
use crate::metrics::recorder::Cell;
use crate::model::Metric;
use crate::model::Op;
use crate::scenario::Plan;

pub const META_FILE: &str = "shard.json";
pub const HISTOGRAMS_FILE: &str = "shard.hlog";
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

/// What the run knows of its part, besides the engine's output.
pub struct PartInfo<'a> {
    pub shard: Shard,
    pub run_id: &'a str,
    pub scenario_hash: String,
    pub start_at: Option<SystemTime>,
}

/// Writes `shard.json` and `shard.hlog` into `dir` after a shard's run.
pub fn write(dir: &Path, info: PartInfo<'_>, plan: &Plan, output: &RunOutput) -> io::Result<()> {
    let load = &output.measured.info.load;
    let meta = ShardMeta {
        schema: SCHEMA.to_owned(),
        shard: info.shard.into(),
        run_id: info.run_id.to_owned(),
        scenario: ScenarioId {
            name: plan.name.clone(),
            hash: info.scenario_hash,
        },
        start_at: info
            .start_at
            .map(|at| humantime::format_rfc3339_millis(at).to_string()),
        started: output
            .load_started
            .map(|at| humantime::format_rfc3339_millis(at).to_string()),
        measured_s: output.measured_window.as_secs_f64(),
        warmup_s: plan.load.warmup.as_secs_f64(),
        plan: PlanPart {
            load: plan.load.to_string(),
            model: load.model.clone(),
            duration_s: plan.load.stop.duration.map(|d| d.as_secs_f64()),
            iterations: plan.load.stop.iterations,
            max_in_flight: load.max_in_flight,
        },
        variants: plan.variant_names(),
    };
    let mut text = serde_json::to_vec_pretty(&meta).expect("shard.json serializes");
    text.push(b'\n');
    std::fs::write(dir.join(META_FILE), text)?;
    let about = format!(
        "agentload {} run {} shard {} of scenario {}",
        env!("CARGO_PKG_VERSION"),
        info.run_id,
        info.shard,
        plan.name
    );
    let start = output.load_started.unwrap_or_else(SystemTime::now);
    let window_start = start + plan.load.warmup;
    write_histograms(
        dir,
        &cells(&output.measured.recorder),
        window_start,
        output.measured_window,
        &about,
    )
}

/// FNV-1a, 64 bits: a hash that is the same in every process and build.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
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

fn tag(scope: Scope, op: Op, metric: Metric) -> String {
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

/// The recorder's histograms by scope.
pub fn cells(recorder: &Recorder) -> Cells {
    let mut cells = Cells::new();
    let mut put = |scope: Scope, op: Op, cell: &Cell| {
        for metric in Metric::ALL {
            if let Some(histogram) = cell.histogram(metric) {
                cells.insert((scope, op, metric), histogram.clone());
            }
        }
    };
    for op in Op::ALL {
        if let Some(total) = recorder.op_total(op) {
            put(Scope::Op, op, &total);
        }
        for variant in 0..recorder.variant_count() {
            if let Some(cell) = recorder.cell(op, Some(variant as u16)) {
                put(Scope::Variant(variant), op, cell);
            }
        }
        for (turn, cell) in recorder.turns(op) {
            put(Scope::Turn(turn), op, cell);
        }
    }
    cells
}

/// Writes `dir/shard.hlog`: one interval, the measured window from `start`, per histogram.
pub fn write_histograms(
    dir: &Path,
    cells: &Cells,
    start: SystemTime,
    window: Duration,
    about: &str,
) -> io::Result<()> {
    let mut file = BufWriter::new(File::create(dir.join(HISTOGRAMS_FILE))?);
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
}

/// Reads a `shard.hlog` back, adding up intervals of one tag.
pub fn read_histograms(dir: &Path) -> Result<Cells, String> {
    let path = dir.join(HISTOGRAMS_FILE);
    let mut cells = Cells::new();
    for interval in super::read::hlog(&path)? {
        let Some(key) = interval.tag.as_deref().and_then(parse_tag) else {
            return Err(format!(
                "{}: a histogram tagged {:?} is not one agentload writes",
                path.display(),
                interval.tag
            ));
        };
        add(&mut cells, key, &interval.histogram);
    }
    Ok(cells)
}

/// Adds a histogram into `cells` (exact: bucket by bucket).
pub fn add(cells: &mut Cells, key: (Scope, Op, Metric), histogram: &Histogram<u64>) {
    cells
        .entry(key)
        .or_insert_with(crate::metrics::recorder::new_histogram)
        .add(histogram)
        .expect("auto-resizing histograms accept any other histogram");
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
        let intervals = super::super::read::hlog(&dir.path().join(HISTOGRAMS_FILE)).unwrap();
        assert_eq!(intervals[0].start, 1_800_000_000.0);
        assert_eq!(intervals[0].length, Duration::from_secs(3));
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(&[b"a", b"b"]), fingerprint(&[b"a", b"b"]));
        assert_ne!(fingerprint(&[b"ab"]), fingerprint(&[b"a", b"b"]));
        assert_eq!(fingerprint(&[]), "cbf29ce484222325");
    }
}
