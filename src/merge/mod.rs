//! `agentload merge`: the report folders of a sharded run's shards combined into the report of
//! the whole run: histograms merged exactly, counters summed, the per-second series aligned by
//! wall-clock second, thresholds evaluated again on the merged result. Folders of different
//! runs or scenarios, and a duplicate or missing shard, are refused with the reason.

pub mod part;
pub mod read;
mod series;
mod summary;

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::summary::Summary;
use part::{Cells, ShardMeta};
use read::{Interval, SeriesRow};

/// One shard's folder, read.
pub struct Shard {
    pub dir: PathBuf,
    pub meta: ShardMeta,
    pub summary: Summary,
    pub cells: Cells,
    pub rows: Vec<SeriesRow>,
    pub intervals: Vec<Interval>,
    /// When its plan started, in seconds since the Unix epoch.
    pub started: Option<f64>,
}

impl Shard {
    /// Reads what a merge needs from a shard's report folder.
    pub fn load(dir: &Path) -> Result<Shard, String> {
        let in_dir = |err: String| format!("{}: {err}", dir.display());
        if !dir.is_dir() {
            return Err(format!(
                "{} is not a folder; give the shards' report folders (their --out)",
                dir.display()
            ));
        }
        let meta_path = dir.join(part::META_FILE);
        if !meta_path.exists() {
            return Err(format!(
                "{} has no {}: it is not the report of a shard (runs made with --shard I/N write one)",
                dir.display(),
                part::META_FILE
            ));
        }
        let meta: ShardMeta = read::json(&meta_path)?;
        if meta.schema != part::SCHEMA {
            return Err(format!(
                "{} is {:?}, not {}; merge shards made by the same agentload version",
                meta_path.display(),
                meta.schema,
                part::SCHEMA
            ));
        }
        let started = match &meta.started {
            Some(text) => Some(
                humantime::parse_rfc3339_weak(text)
                    .map_err(|err| in_dir(format!("shard.json `started` {text:?}: {err}")))?
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs_f64(),
            ),
            None => None,
        };
        Ok(Shard {
            summary: read::summary(dir)?,
            cells: part::read_histograms(dir)?,
            rows: read::timeseries(dir)?,
            intervals: read::hlog(&dir.join(crate::report::hlog::FILE_NAME))?,
            started,
            meta,
            dir: dir.to_path_buf(),
        })
    }
}

/// Checks that `shards` are every part of one run, exactly once, and sorts them by index.
pub fn check(shards: &mut [Shard]) -> Result<(), String> {
    let Some(first) = shards.first() else {
        return Err("give at least one shard folder".to_owned());
    };
    let (run_id, scenario, count) = (
        first.meta.run_id.clone(),
        first.meta.scenario.clone(),
        first.meta.shard.count,
    );
    let first_dir = first.dir.display().to_string();
    for shard in shards.iter() {
        let meta = &shard.meta;
        let here = shard.dir.display();
        if meta.run_id != run_id {
            return Err(format!(
                "{here} is run {} but {first_dir} is run {run_id}: merge the shards of one run (the same --run-id)",
                meta.run_id
            ));
        }
        if meta.scenario.name != scenario.name {
            return Err(format!(
                "{here} ran scenario {:?} but {first_dir} ran {:?}: merge the shards of one scenario",
                meta.scenario.name, scenario.name
            ));
        }
        if meta.scenario.hash != scenario.hash {
            return Err(format!(
                "{here} and {first_dir} ran different versions of scenario {:?} (the file or the flags differ: hash {} against {}); run every shard with the same file and flags",
                scenario.name, meta.scenario.hash, scenario.hash
            ));
        }
        if meta.shard.count != count {
            return Err(format!(
                "{here} is one of {} shards but {first_dir} is one of {count}: every shard needs the same --shard I/N count",
                meta.shard.count
            ));
        }
    }
    shards.sort_by_key(|s| s.meta.shard.index);
    for pair in shards.windows(2) {
        if pair[0].meta.shard.index == pair[1].meta.shard.index {
            return Err(format!(
                "shard {}/{count} is given twice: {} and {}",
                pair[0].meta.shard.index,
                pair[0].dir.display(),
                pair[1].dir.display()
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|index| !shards.iter().any(|s| s.meta.shard.index == *index))
        .map(|index| format!("{index}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "run {run_id} is missing shard{} {}: give every shard's folder (a merge of part of a run would understate it)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ));
    }
    Ok(())
}

/// Merges shard folders into `out`: every report format, from the merged data. Returns the
/// merged summary; errors name the folder and what is wrong.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Summary, String> {
    let mut shards = dirs
        .iter()
        .map(|dir| Shard::load(dir))
        .collect::<Result<Vec<_>, _>>()?;
    check(&mut shards)?;
    let out_dir = out.canonicalize().ok();
    if let Some(shard) = shards
        .iter()
        .find(|s| out_dir.is_some() && s.dir.canonicalize().ok() == out_dir)
    {
        return Err(format!(
            "--out {} is one of the shards' folders; write the merge elsewhere",
            shard.dir.display()
        ));
    }
    let summary = summary::merge(&shards)?;
    let series = series::merge(&shards)?;
    let dir =
        crate::report::prepare_dir(Some(out), &summary.scenario, std::time::SystemTime::now())?;
    let cannot_write = |err: std::io::Error| format!("cannot write into {}: {err}", dir.display());
    let first = &shards[0];
    let about = format!(
        "agentload {} run {} of scenario {}, merged from {} shards",
        env!("CARGO_PKG_VERSION"),
        first.meta.run_id,
        first.meta.scenario.name,
        shards.len()
    );
    let warmup = Duration::from_secs_f64(first.meta.warmup_s.max(0.0));
    series::write(&dir, &series, warmup, &about).map_err(cannot_write)?;
    crate::report::write_all(&dir, &summary).map_err(cannot_write)?;
    // report.html from the folder just written, by the same code as `agentload report`.
    let stored = crate::report::stored::StoredRun::load(&dir)
        .map_err(|err| format!("cannot read back the merged folder: {err}"))?;
    crate::report::rerender::html_only(&stored).map_err(cannot_write)?;
    Ok(summary)
}
