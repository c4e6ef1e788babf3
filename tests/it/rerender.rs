//! `agentload report`: a real run's folder rendered again from its stored files alone gives the
//! same files (byte for byte; the HDR log histogram for histogram), and a missing or corrupt
//! stored file exits 2 naming it.

use std::path::Path;

use agentload::store::StoredRun;

use crate::util::*;

fn report(args: &[&Path]) -> std::process::Output {
    let mut command = agentload();
    command.arg("report").args(args);
    command.output().unwrap()
}

/// One interval: second, op, metric, and its (value, count) pairs.
type Decoded = (u32, String, String, Vec<(u64, u64)>);

/// Every interval of a folder's log.
fn intervals(dir: &Path) -> Vec<Decoded> {
    let run = StoredRun::load(dir).unwrap();
    run.intervals()
        .map(|i| {
            let values = i
                .histogram
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect();
            (i.second, i.op.to_string(), i.metric.to_string(), values)
        })
        .collect()
}

#[test]
fn a_report_renders_again_identically_from_its_stored_files() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "s.toml", &smoke_like());
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    assert!(summary["ops"]["run_stream"]["requests"].as_u64().unwrap() > 10);

    let again = dir.path().join("again");
    let output = report(&[&out, Path::new("--out"), &again]);
    assert_code(&output, 0);
    for name in [
        "summary.json",
        "summary.md",
        "report.html",
        "timeseries.csv",
    ] {
        let before = std::fs::read(out.join(name)).unwrap();
        let after = std::fs::read(again.join(name)).unwrap();
        assert!(before == after, "{name} differs once rendered again");
    }
    // A histogram's header may record a different (equivalent) range: compare what it holds.
    let before = intervals(&out);
    assert!(before.len() > 10, "{} intervals", before.len());
    assert_eq!(before, intervals(&again));

    // In place: the page and the Markdown again, the stored files untouched.
    let page = std::fs::read(out.join("report.html")).unwrap();
    std::fs::write(out.join("report.html"), "stale").unwrap();
    let stored = std::fs::metadata(out.join("summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_code(&report(&[&out]), 0);
    assert!(std::fs::read(out.join("report.html")).unwrap() == page);
    let after = std::fs::metadata(out.join("summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(stored, after, "summary.json was rewritten in place");
}

#[test]
fn a_missing_or_corrupt_stored_file_exits_2_naming_it() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "s.toml", &one_op("get", Some("alpha"), 20, 2));
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);

    let log = out.join("histograms.hlog");
    let stored = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = stored.lines().collect();
    let last = lines.len();
    let broken = lines[..last - 1].join("\n") + "\nTag=get.latency,0.000,1.000,2.000,AAAA\n";
    std::fs::write(&log, broken).unwrap();
    let output = report(&[&out, Path::new("--out"), &dir.path().join("x")]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("histograms.hlog: line "), "{stderr}");
    assert!(stderr.contains("does not decode"), "{stderr}");

    std::fs::remove_file(out.join("timeseries.csv")).unwrap();
    let output = report(&[&out]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("timeseries.csv: cannot read"), "{stderr}");

    let output = report(&[&dir.path().join("nowhere")]);
    assert_code(&output, 2);
    assert!(text(&output.stderr).contains("summary.json: cannot read"));
}

#[test]
fn a_run_whose_setup_fails_still_writes_a_page_that_renders_again() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "s.toml", &one_op("get", Some("alpha"), 5, 1));
    let out = dir.path().join("out");
    // A wrong token: creating the fixture agents fails, no load is sent.
    let output = run_command(&path, &out, &sim.base_url(), "not-the-token")
        .output()
        .unwrap();
    assert_code(&output, 2);
    let page = std::fs::read_to_string(out.join("report.html")).expect("report.html is written");
    assert!(page.contains("No second of load was completed"), "{page}");
    assert!(!page.contains("not-the-token"));

    let again = dir.path().join("again");
    assert_code(&report(&[&out, Path::new("--out"), &again]), 0);
    let rendered = std::fs::read_to_string(again.join("report.html")).unwrap();
    assert_eq!(rendered, page);
}
