//! `agentload compare`: its flags, the options they make, and comparing two report folders.

use std::path::PathBuf;

use clap::Args;

use super::{Exit, invalid, print_stdout};

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline run's report folder.
    pub baseline: PathBuf,
    /// The current run's report folder.
    pub current: PathBuf,
    /// What to compare (repeatable): [OP.]METRIC[.STAT] or [OP.]errors, e.g. run_stream.ttfs.p95,
    /// ttfs (every op, p95), latency.p99, errors. Default: latency, ttfs, inter_step and
    /// service_time at p95, and the error rate.
    #[arg(long = "metric", value_name = "SPEC", value_parser = crate::compare::MetricSpec::parse)]
    pub metrics: Vec<crate::compare::MetricSpec>,
    /// A significant change smaller than this percentage of the baseline is not a regression.
    #[arg(long, value_name = "PCT", default_value = "10%", value_parser = crate::compare::parse_percent)]
    pub tolerance: f64,
    /// A significant rise of an error rate smaller than this many percentage points is not a
    /// regression.
    #[arg(long, value_name = "PP", default_value = "1", value_parser = crate::compare::parse_percent)]
    pub error_tolerance: f64,
    /// A change of a time smaller than this many milliseconds is not a regression, whatever its
    /// percentage (scheduling noise on a busy machine is a few ms); 0 to judge every change.
    #[arg(long, value_name = "MS", default_value = "5", value_parser = crate::compare::parse_ms)]
    pub min_change: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CompareFormat::Terminal)]
    pub format: CompareFormat,
    /// Write the output to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormat {
    Terminal,
    Markdown,
}

impl CompareArgs {
    /// How to judge, from the flags.
    pub fn options(&self) -> crate::compare::Options {
        crate::compare::Options {
            metrics: self.metrics.clone(),
            tolerance_pct: self.tolerance,
            error_tolerance_pp: self.error_tolerance,
            min_change_ms: self.min_change,
            ..crate::compare::Options::default()
        }
    }
}

/// `agentload compare BASELINE_DIR CURRENT_DIR`
pub fn compare(args: &CompareArgs) -> Exit {
    let load = |dir: &std::path::Path| crate::compare::RunData::load(dir).map_err(invalid);
    let (baseline, current) = match (load(&args.baseline), load(&args.current)) {
        (Ok(baseline), Ok(current)) => (baseline, current),
        (Err(exit), _) | (_, Err(exit)) => return exit,
    };
    let comparison = match crate::compare::compare(&baseline, &current, &args.options()) {
        Ok(comparison) => comparison,
        Err(message) => return invalid(message),
    };
    let text = match args.format {
        CompareFormat::Terminal => crate::report::baseline::terminal(&comparison),
        CompareFormat::Markdown => crate::report::baseline::markdown(&comparison),
    };
    match &args.out {
        Some(path) => {
            if let Err(err) = std::fs::write(path, &text) {
                return invalid(format!("--out: cannot write {}: {err}", path.display()));
            }
        }
        None => print_stdout(text.trim_start_matches('\n')),
    }
    if comparison.regressed {
        Exit::Failed
    } else {
        Exit::Passed
    }
}
