//! `histograms.hlog` read by an HdrHistogram implementation that is neither ours nor the Rust
//! crate that wrote it: the Python port (PyPI `hdrhistogram`, module `hdrh`). Every tag's
//! intervals, added up, hold exactly the counts and maxima `summary.json` reports.
//!
//! `.ci/run` makes a venv with it under `target/` and names its python in
//! `AGENTLOAD_HDRH_PYTHON`; without that variable the test makes the same venv itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// The version `.ci/run` installs too.
const HDRH: &str = "hdrhistogram==0.10.8";

/// Reads a log with hdrh's own reader and prints, per tag, the total count and maximum of
/// all its intervals added up (values as recorded: microseconds, or steps).
const DECODE: &str = r#"
import json, sys
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 3600 * 1000 * 1000, 3))
totals = {}
intervals = 0
while True:
    histogram = reader.get_next_interval_histogram()
    if histogram is None:
        break
    intervals += 1
    tag = histogram.get_tag()
    if tag not in totals:
        totals[tag] = HdrHistogram(1, 24 * 3600 * 1000 * 1000, 3)
    totals[tag].add(histogram)
print(json.dumps({
    "intervals": intervals,
    "tags": {tag: {"count": t.get_total_count(), "max": t.get_max_value()} for tag, t in totals.items()},
}))
"#;

fn works(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import hdrh.log"])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A python that has `hdrh`: `.ci/run`'s, or a venv made now under target/.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("AGENTLOAD_HDRH_PYTHON") {
        let python = PathBuf::from(python);
        assert!(
            works(&python),
            "AGENTLOAD_HDRH_PYTHON={} cannot import hdrh; run .ci/run, or \
             `{} -m pip install {HDRH}`",
            python.display(),
            python.display()
        );
        return python;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/hdrh-venv");
    let python = venv.join("bin/python");
    if works(&python) {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                HDRH,
            ])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        made && works(&python),
        "the Python HdrHistogram port is needed to check histograms.hlog independently and \
         could not be installed into {}: install python3 and python3-venv \
         (`sudo apt-get install -y python3-venv`) and let pip reach PyPI, or run .ci/run",
        venv.display()
    );
    python
}

#[test]
fn the_hdr_log_decodes_with_the_python_port_to_the_summary_counts() {
    let python = python();
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    // No warmup: the summary then counts every request the log holds.
    let text = smoke_like().replace("warmup = \"1s\"\n", "");
    let path = scenario(dir.path(), "s.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);

    let script = dir.path().join("decode.py");
    std::fs::write(&script, DECODE).unwrap();
    let output = Command::new(&python)
        .arg(&script)
        .arg(out.join("histograms.hlog"))
        .output()
        .unwrap();
    assert_code(&output, 0);
    let decoded: Value = serde_json::from_slice(&output.stdout).unwrap();
    let tags = decoded["tags"].as_object().unwrap();
    assert!(decoded["intervals"].as_u64().unwrap() > 10, "{decoded}");

    let mut expected = Vec::new();
    for (op, op_summary) in summary["ops"].as_object().unwrap() {
        for (metric, stats) in op_summary["metrics"].as_object().unwrap() {
            expected.push(format!("{op}.{metric}"));
            let tag = &tags
                .get(&format!("{op}.{metric}"))
                .unwrap_or_else(|| panic!("no {op}.{metric} in the log: {decoded}"));
            assert_eq!(
                tag["count"], stats["count"],
                "{op}.{metric}: count in the log vs summary.json"
            );
            // The summary reports ms (µs / 1000) for times; steps as they are.
            let scale = if metric == "steps" { 1.0 } else { 1000.0 };
            let max = tag["max"].as_f64().unwrap() / scale;
            assert!(
                (max - stats["max"].as_f64().unwrap()).abs() < 0.0005,
                "{op}.{metric}: max {max} in the log vs {} in summary.json",
                stats["max"]
            );
        }
    }
    let mut found: Vec<String> = tags.keys().cloned().collect();
    found.sort();
    expected.sort();
    assert_eq!(
        found, expected,
        "the log's tags are the summary's op.metric pairs"
    );
    for tag in [
        "run_stream.ttfs",
        "run_stream.inter_step",
        "run.latency",
        "get.latency",
    ] {
        assert!(found.iter().any(|t| t == tag), "{tag} in {found:?}");
    }
}
