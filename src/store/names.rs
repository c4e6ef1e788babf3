//! Every name inside a report folder, in one place: a module that writes or reads a file of the
//! folder names it by one of these constants, never by a string of its own.

use std::fmt;
use std::path::{Path, PathBuf};

/// The name of one file of a report folder. Only this module makes them, so every file the
/// store writes or reads is one of the constants below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileName(&'static str);

impl FileName {
    /// The name, e.g. `summary.json`.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The file's path inside `dir`.
    pub fn path_in(self, dir: &Path) -> PathBuf {
        dir.join(self.0)
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl AsRef<Path> for FileName {
    fn as_ref(&self) -> &Path {
        Path::new(self.0)
    }
}

/// The summary as data (the `agentload/summary/v1` contract).
pub const SUMMARY_JSON: FileName = FileName("summary.json");
/// The summary as Markdown, for a CI job summary.
pub const SUMMARY_MD: FileName = FileName("summary.md");
/// The self-contained page.
pub const REPORT_HTML: FileName = FileName("report.html");
/// Thresholds and regressions as JUnit test cases.
pub const JUNIT_XML: FileName = FileName("junit.xml");
/// One row per second per op, written as the run goes.
pub const TIMESERIES_CSV: FileName = FileName("timeseries.csv");
/// The HdrHistogram interval log, one interval per second, written as the run goes.
pub const HISTOGRAMS_HLOG: FileName = FileName("histograms.hlog");
/// One row per request, with `--log-requests`.
pub const REQUESTS_CSV: FileName = FileName("requests.csv");
/// Which part of which run a shard's folder holds (`--shard I/N`).
pub const SHARD_JSON: FileName = FileName("shard.json");
/// A shard's measured-window histograms, for `agentload merge`.
pub const SHARD_HLOG: FileName = FileName("shard.hlog");
/// A sweep's steps and capacity answer, as data.
pub const SWEEP_JSON: FileName = FileName("sweep.json");
/// A sweep as Markdown.
pub const SWEEP_MD: FileName = FileName("sweep.md");
/// A sweep's page.
pub const SWEEP_HTML: FileName = FileName("sweep.html");

/// The folder of a sweep holding one report folder per step (`steps/<rate>`).
pub const SWEEP_STEPS: &str = "steps";

/// An empty file written and removed when a folder is prepared, to prove it can be written.
pub const WRITE_PROBE: FileName = FileName(".agentload-write-test");

/// What a file is called while it is being written: `NAME.partial`, renamed to `NAME` once
/// complete.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// The folder of a sweep's step at `rate` (as the sweep writes rates), relative to the sweep's.
pub fn sweep_step(rate: &str) -> String {
    format!("{SWEEP_STEPS}/{rate}")
}
