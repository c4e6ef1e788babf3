//! Writing a whole file of a report folder at once: through `NAME.partial` and a rename, so a
//! reader never sees half a file, and no `.partial` is left behind when writing fails.

use std::path::{Path, PathBuf};

use super::StoreError;
use super::names::{FileName, PARTIAL_SUFFIX};

/// Writes `contents` as `dir/name`, atomically; returns the file's path.
pub fn write(dir: &Path, name: FileName, contents: &[u8]) -> Result<PathBuf, StoreError> {
    let path = name.path_in(dir);
    let partial = dir.join(format!("{name}{PARTIAL_SUFFIX}"));
    let written =
        std::fs::write(&partial, contents).and_then(|()| std::fs::rename(&partial, &path));
    if let Err(source) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(StoreError::write(&path, source));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::names::{SUMMARY_JSON, SUMMARY_MD};

    #[test]
    fn a_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), SUMMARY_MD, b"first").unwrap();
        assert_eq!(path, dir.path().join("summary.md"));
        write(dir.path(), SUMMARY_MD, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["summary.md"]);
    }

    #[test]
    fn a_failed_write_names_the_file_and_leaves_no_partial() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: the rename fails.
        std::fs::create_dir(dir.path().join("summary.json")).unwrap();
        std::fs::write(dir.path().join("summary.json/x"), b"x").unwrap();
        let err = write(dir.path(), SUMMARY_JSON, b"{}").unwrap_err();
        assert_eq!(err.path(), dir.path().join("summary.json"));
        assert!(err.to_string().starts_with("cannot write "), "{err}");
        assert!(!dir.path().join("summary.json.partial").exists());
    }
}
