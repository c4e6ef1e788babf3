//! Preparing a report folder: named by default after the time and the scenario, created before
//! any load is sent, and proved writable, so a bad `--out` fails at once.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::StoreError;
use super::names::{
    HISTOGRAMS_HLOG, SHARD_JSON, SUMMARY_JSON, SWEEP_JSON, TIMESERIES_CSV, WRITE_PROBE,
};

/// The folder a run writes to: `out` if given, else `reports/<UTC timestamp>-<scenario>/`,
/// created now (see [`create`]). An existing folder must be empty or a report folder (one
/// holding a file the store writes): a run never mixes its files into someone else's.
pub fn prepare(out: Option<&Path>, scenario: &str, now: SystemTime) -> Result<PathBuf, StoreError> {
    let dir = match out {
        Some(dir) => dir.to_path_buf(),
        None => default_dir(scenario, now),
    };
    if is_foreign(&dir) {
        return Err(StoreError::Foreign { dir });
    }
    create(&dir)?;
    Ok(dir)
}

/// Whether `dir` exists and holds entries, none of them a file the store writes.
fn is_foreign(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let names: Vec<String> = entries
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    !names.is_empty()
        && !names
            .iter()
            .any(|name| REPORT_MARKERS.contains(&name.as_str()))
}

/// Files only a report folder (of a run, a merge or a sweep) holds.
const REPORT_MARKERS: [&str; 5] = [
    SUMMARY_JSON.as_str(),
    TIMESERIES_CSV.as_str(),
    HISTOGRAMS_HLOG.as_str(),
    SWEEP_JSON.as_str(),
    SHARD_JSON.as_str(),
];

/// Creates `dir` (and its parents) and proves a file can be written into it.
pub fn create(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateFolder {
        dir: dir.to_path_buf(),
        source,
    })?;
    let probe = WRITE_PROBE.path_in(dir);
    std::fs::write(&probe, b"").map_err(|source| StoreError::NotWritable {
        dir: dir.to_path_buf(),
        source,
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// `reports/<UTC timestamp>-<scenario>`
fn default_dir(scenario: &str, now: SystemTime) -> PathBuf {
    Path::new("reports").join(format!("{}-{}", folder_timestamp(now), safe_name(scenario)))
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
    fn a_folder_of_other_files_is_refused_and_a_report_folder_reused() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let out = dir.path().join("out");
        assert_eq!(prepare(Some(&out), "s", now).unwrap(), out, "a new folder");
        assert!(prepare(Some(&out), "s", now).is_ok(), "an empty one");
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = prepare(Some(&out), "s", now).unwrap_err();
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        assert!(
            err.to_string().contains("holds no agentload report"),
            "{err}"
        );
        std::fs::write(SUMMARY_JSON.path_in(&out), "{}").unwrap();
        assert!(
            prepare(Some(&out), "s", now).is_ok(),
            "an earlier run's folder"
        );
    }

    #[test]
    fn default_folders_are_timestamped_and_safe() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(folder_timestamp(now), "20261118T110640Z");
        assert_eq!(safe_name("my scenario/../x"), "my-scenario-..-x");
        assert_eq!(safe_name(".."), "scenario");
        assert_eq!(
            default_dir("s", now),
            Path::new("reports/20261118T110640Z-s")
        );
    }

    #[test]
    fn a_folder_that_cannot_be_made_fails_early() {
        let file = std::env::temp_dir().join(format!("agentload-not-a-dir-{}", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        let err = prepare(Some(&file.join("sub")), "s", SystemTime::now()).unwrap_err();
        assert!(
            err.to_string().contains("cannot create the report folder"),
            "{err}"
        );
        std::fs::remove_file(file).unwrap();
    }

    #[test]
    fn a_prepared_folder_keeps_no_probe() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a/b");
        assert_eq!(prepare(Some(&out), "s", SystemTime::now()).unwrap(), out);
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    }
}
