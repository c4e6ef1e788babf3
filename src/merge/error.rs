//! Why shard folders cannot be merged: a folder that is not a shard's, shards that do not make
//! up one run exactly once, a stored file that cannot be read, or a merged folder that cannot
//! be written.

use std::path::PathBuf;

use crate::store::StoreError;
use crate::store::shard::SCHEMA;

/// What stops a merge.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{} is not a folder; give the shards' report folders (their --out)", dir.display())]
    NotAFolder { dir: PathBuf },
    #[error(
        "{} has no {}: it is not the report of a shard (runs made with --shard I/N write one)",
        dir.display(),
        crate::store::names::SHARD_JSON
    )]
    NotAShard { dir: PathBuf },
    #[error(
        "{} is {found:?}, not {SCHEMA}; merge shards made by the same agentload version",
        path.display()
    )]
    OtherSchema { path: PathBuf, found: String },
    #[error("{}: shard.json `started` {text:?}: {source}", dir.display())]
    BadStart {
        dir: PathBuf,
        text: String,
        source: humantime::TimestampError,
    },
    #[error("give at least one shard folder")]
    NoShards,
    #[error(
        "{here} is run {run_id} but {first} is run {first_run_id}: merge the shards of one run (the same --run-id)"
    )]
    OtherRun {
        here: String,
        run_id: String,
        first: String,
        first_run_id: String,
    },
    #[error(
        "{here} ran scenario {scenario:?} but {first} ran {first_scenario:?}: merge the shards of one scenario"
    )]
    OtherScenario {
        here: String,
        scenario: String,
        first: String,
        first_scenario: String,
    },
    #[error(
        "{here} and {first} ran different versions of scenario {scenario:?} (the file or the flags differ: hash {hash} against {first_hash}); run every shard with the same file and flags"
    )]
    OtherPlan {
        here: String,
        first: String,
        scenario: String,
        hash: String,
        first_hash: String,
    },
    #[error(
        "{here} is one of {count} shards but {first} is one of {first_count}: every shard needs the same --shard I/N count"
    )]
    OtherCount {
        here: String,
        count: u32,
        first: String,
        first_count: u32,
    },
    #[error("shard {index}/{count} is given twice: {} and {}", first.display(), second.display())]
    Twice {
        index: u32,
        count: u32,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "run {run_id} is missing shard{} {}: give every shard's folder (a merge of part of a run would understate it)",
        if missing.len() == 1 { "" } else { "s" },
        missing.join(", ")
    )]
    Missing {
        run_id: String,
        /// `I/N` of each missing shard.
        missing: Vec<String>,
    },
    #[error("--out {} is one of the shards' folders; write the merge elsewhere", dir.display())]
    OutIsAShard { dir: PathBuf },
    #[error("unknown op {0:?}")]
    UnknownOp(String),
    #[error("turn {turn:?} of {op} is not a number")]
    BadTurn { turn: String, op: String },
    #[error("variant {0:?} is not in shard.json's variants")]
    UnknownVariant(String),
    #[error("a threshold of the shards cannot be read back: {0}")]
    Threshold(#[from] crate::metrics::threshold::ThresholdError),
    /// A shard's stored file cannot be read, or the merged folder cannot be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read back the merged folder: {0}")]
    ReadBack(StoreError),
}
