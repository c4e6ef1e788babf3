//! `agentload report DIR`: its flags, and rendering a report folder again from its stored data.

use std::path::PathBuf;

use clap::Args;

use super::{Exit, invalid};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A report folder written by `agentload run`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to write the rendered files (created if missing); default: DIR itself.
    #[arg(long, value_name = "DIR2")]
    pub out: Option<PathBuf>,
}

/// `agentload report`
pub fn rerender(args: &ReportArgs) -> Exit {
    let run = match crate::store::StoredRun::load(&args.dir) {
        Ok(run) => run,
        Err(err) => return invalid(err),
    };
    let out = args.out.as_deref().unwrap_or(&args.dir);
    match crate::report::rerender::rerender(&run, out) {
        Ok(written) => {
            let names: Vec<String> = written
                .iter()
                .filter_map(|path| Some(path.file_name()?.to_string_lossy().into_owned()))
                .collect();
            eprintln!("report: {} ({})", out.display(), names.join(", "));
            Exit::Passed
        }
        Err(err) => invalid(format!("--out: {err}")),
    }
}
