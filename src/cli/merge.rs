//! `agentload merge`: its flags, and combining a sharded run's report folders into one.

use std::path::PathBuf;

use clap::Args;

use super::{Exit, invalid, print_stdout};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' report folders (each run with --shard I/N and the same --run-id).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged report.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `agentload merge`
pub fn merge_shards(args: &MergeArgs) -> Exit {
    let summary = match crate::merge::merge(&args.dirs, &args.out) {
        Ok(summary) => summary,
        Err(err) => return invalid(err),
    };
    if !args.quiet {
        print_stdout(&crate::report::terminal::render(&summary));
        eprintln!("report: {}", args.out.display());
    }
    for reason in &summary.verdict.reasons {
        eprintln!("failed: {} on the merged result", reason.message);
        for item in &reason.items {
            eprintln!("  {item}");
        }
    }
    Exit::of(summary.verdict.outcome)
}
