//! `agentload merge`: the report folders of a sharded run's shards combined into the report of
//! the whole run: histograms merged exactly, counters summed, the per-second series aligned by
//! wall-clock second, thresholds evaluated again on the merged result. Folders of different
//! runs or scenarios, and a duplicate or missing shard, are refused with the reason.

mod error;

mod series;
mod summary;

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

pub use error::MergeError;

use crate::store::StoredRun;
use crate::store::shard::{self as stored_shard, Cells, ShardMeta};
use crate::summary::Summary;

/// One shard's folder, read.
pub struct Shard {
    pub dir: PathBuf,
    pub meta: ShardMeta,
    /// Its report folder: summary, series and log.
    pub run: StoredRun,
    /// `shard.hlog`: its measured window's histograms.
    pub cells: Cells,
    /// When its plan started, in seconds since the Unix epoch.
    pub started: Option<f64>,
}

impl Shard {
    /// Reads what a merge needs from a shard's report folder.
    pub fn load(dir: &Path) -> Result<Shard, MergeError> {
        if !dir.is_dir() {
            return Err(MergeError::NotAFolder {
                dir: dir.to_path_buf(),
            });
        }
        let meta_path = crate::store::names::SHARD_JSON.path_in(dir);
        if !meta_path.exists() {
            return Err(MergeError::NotAShard {
                dir: dir.to_path_buf(),
            });
        }
        let meta = stored_shard::read_meta(dir)?;
        if meta.schema != stored_shard::SCHEMA {
            return Err(MergeError::OtherSchema {
                path: meta_path,
                found: meta.schema,
            });
        }
        let started = match &meta.started {
            Some(text) => Some(
                humantime::parse_rfc3339_weak(text)
                    .map_err(|source| MergeError::BadStart {
                        dir: dir.to_path_buf(),
                        text: text.clone(),
                        source,
                    })?
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs_f64(),
            ),
            None => None,
        };
        Ok(Shard {
            run: StoredRun::load(dir)?,
            cells: stored_shard::read_histograms(dir)?,
            started,
            meta,
            dir: dir.to_path_buf(),
        })
    }
}

/// Checks that `shards` are every part of one run, exactly once, and sorts them by index.
pub fn check(shards: &mut [Shard]) -> Result<(), MergeError> {
    let Some(first) = shards.first() else {
        return Err(MergeError::NoShards);
    };
    let (run_id, scenario, count) = (
        first.meta.run_id.clone(),
        first.meta.scenario.clone(),
        first.meta.shard.count,
    );
    let first_dir = first.dir.display().to_string();
    for shard in shards.iter() {
        let meta = &shard.meta;
        let here = shard.dir.display().to_string();
        if meta.run_id != run_id {
            return Err(MergeError::OtherRun {
                here,
                run_id: meta.run_id.clone(),
                first: first_dir,
                first_run_id: run_id,
            });
        }
        if meta.scenario.name != scenario.name {
            return Err(MergeError::OtherScenario {
                here,
                scenario: meta.scenario.name.clone(),
                first: first_dir,
                first_scenario: scenario.name,
            });
        }
        if meta.scenario.hash != scenario.hash {
            return Err(MergeError::OtherPlan {
                here,
                first: first_dir,
                scenario: scenario.name,
                hash: meta.scenario.hash.clone(),
                first_hash: scenario.hash,
            });
        }
        if meta.shard.count != count {
            return Err(MergeError::OtherCount {
                here,
                count: meta.shard.count,
                first: first_dir,
                first_count: count,
            });
        }
    }
    shards.sort_by_key(|s| s.meta.shard.index);
    for pair in shards.windows(2) {
        if pair[0].meta.shard.index == pair[1].meta.shard.index {
            return Err(MergeError::Twice {
                index: pair[0].meta.shard.index,
                count,
                first: pair[0].dir.clone(),
                second: pair[1].dir.clone(),
            });
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|index| !shards.iter().any(|s| s.meta.shard.index == *index))
        .map(|index| format!("{index}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing { run_id, missing });
    }
    Ok(())
}

/// Merges shard folders into `out`: every report format, from the merged data. Returns the
/// merged summary; errors name the folder and what is wrong.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Summary, MergeError> {
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
        return Err(MergeError::OutIsAShard {
            dir: shard.dir.clone(),
        });
    }
    let summary = summary::merge(&shards)?;
    let series = series::merge(&shards);
    let dir = crate::store::prepare(Some(out), &summary.scenario, std::time::SystemTime::now())?;
    let first = &shards[0];
    let about = format!(
        "agentload {} run {} of scenario {}, merged from {} shards",
        env!("CARGO_PKG_VERSION"),
        first.meta.run_id,
        first.meta.scenario.name,
        shards.len()
    );
    let warmup = Duration::from_secs_f64(first.meta.warmup_s.max(0.0));
    series::write(&dir, &series, warmup, &about)?;
    crate::report::write_all(&dir, &summary)?;
    // report.html from the folder just written, by the same code as `agentload report`.
    let stored = StoredRun::load(&dir).map_err(MergeError::ReadBack)?;
    crate::report::rerender::html_only(&stored)?;
    Ok(summary)
}
