//! Why a comparison cannot be made: a run folder that cannot be read, or a named metric neither
//! run has.

use std::path::PathBuf;

use crate::store::StoreError;

/// What stops a comparison of two runs.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A run folder given that is not a folder.
    #[error(
        "{}: not a folder; give the report folder of a run (it holds summary.json and histograms.hlog)",
        .0.display()
    )]
    NotAFolder(PathBuf),
    /// A run folder whose stored files cannot be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A named metric that neither run measured.
    #[error(
        "--metric {0}: neither run has it (check the op and metric names against the runs' summary.json)"
    )]
    NotInRuns(String),
}
