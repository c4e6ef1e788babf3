//! Outputs of a run: the report folder (created before the run so a bad path fails at once) and
//! one module per format, each rendering the same [`Summary`].

pub mod baseline;
pub mod charts;
pub mod comparison;
#[cfg(test)]
mod fixture;
pub mod history;
pub mod hlog;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod prometheus;
pub mod rerender;
pub mod stored;
pub mod terminal;
pub mod timeseries;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::metrics::series::SeriesSink;
use crate::model::Op;
use crate::summary::OpSummary;
use crate::summary::Summary;

/// A file format written into the report folder.
pub trait Format {
    /// The file's name inside the folder.
    fn file_name(&self) -> &'static str;
    /// The file's contents.
    fn render(&self, summary: &Summary) -> Vec<u8>;
}

/// Every file format, in the order they are written.
pub fn formats() -> Vec<Box<dyn Format>> {
    vec![
        Box::new(json::SummaryJson),
        Box::new(markdown::SummaryMarkdown),
        Box::new(junit::JunitXml),
    ]
}

/// The summary's ops in the API's order (list, get, create, patch, delete, run, run_stream).
pub(crate) fn ordered_ops(summary: &Summary) -> impl Iterator<Item = (&'static str, &OpSummary)> {
    Op::ALL
        .into_iter()
        .filter_map(|op| summary.ops.get(op.name()).map(|s| (op.name(), s)))
}

/// The writers of the per-second series (`timeseries.csv`, `histograms.hlog`), their files
/// created now so a folder that cannot take them fails before the run.
pub fn series_writers(
    dir: &Path,
    plan: &crate::scenario::Plan,
    run_id: &str,
) -> std::io::Result<Vec<Box<dyn SeriesSink>>> {
    let about = log_comment(run_id, &plan.name);
    Ok(vec![
        Box::new(timeseries::TimeseriesCsv::create(dir, plan.load.warmup)?),
        Box::new(hlog::HistogramLog::create(dir, &about)?),
    ])
}

/// The first comment of `histograms.hlog`, naming the run.
pub(crate) fn log_comment(run_id: &str, scenario: &str) -> String {
    format!(
        "agentload {} run {run_id} of scenario {scenario}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The folder a run writes to: `out` if given, else `reports/<UTC timestamp>-<scenario>/`.
/// It is created now, so a path that cannot be written fails before any load is sent.
pub fn prepare_dir(out: Option<&Path>, scenario: &str, now: SystemTime) -> Result<PathBuf, String> {
    let dir = match out {
        Some(dir) => dir.to_path_buf(),
        None => {
            Path::new("reports").join(format!("{}-{}", folder_timestamp(now), safe_name(scenario)))
        }
    };
    std::fs::create_dir_all(&dir)
        .map_err(|err| format!("cannot create the report folder {}: {err}", dir.display()))?;
    let probe = dir.join(".agentload-write-test");
    std::fs::write(&probe, b"").map_err(|err| {
        format!(
            "cannot write into the report folder {}: {err}",
            dir.display()
        )
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(dir)
}

/// Writes every format into `dir`, returning the paths written.
pub fn write_all(dir: &Path, summary: &Summary) -> std::io::Result<Vec<PathBuf>> {
    formats()
        .iter()
        .map(|format| {
            let path = dir.join(format.file_name());
            write_atomically(&path, &format.render(summary))?;
            Ok(path)
        })
        .collect()
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, contents)?;
    std::fs::rename(&partial, path)
}

/// `20261129T081338Z`
fn folder_timestamp(now: SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(now).to_string();
    text.chars().filter(|c| !matches!(c, '-' | ':')).collect()
}

/// A scenario name made safe for a folder name.
fn safe_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if safe.trim_matches('.').is_empty() {
        "scenario".to_owned()
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn default_folders_are_timestamped_and_safe() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(folder_timestamp(now), "20261118T110640Z");
        assert_eq!(safe_name("my scenario/../x"), "my-scenario-..-x");
        assert_eq!(safe_name(".."), "scenario");
    }

    #[test]
    fn a_folder_that_cannot_be_made_fails_early() {
        let file = std::env::temp_dir().join(format!("agentload-not-a-dir-{}", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        let err = prepare_dir(Some(&file.join("sub")), "s", SystemTime::now()).unwrap_err();
        assert!(err.contains("cannot create the report folder"), "{err}");
        std::fs::remove_file(file).unwrap();
    }
}
