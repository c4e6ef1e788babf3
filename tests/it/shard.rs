//! Sharded runs: four shard processes started together with `--start-at` against one simulator,
//! merged by `agentload merge`, come out as the whole plan: every request counted, the whole
//! rate, the percentiles of a single-process run; and merge refuses folders that do not make up
//! one run.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant, SystemTime};

use agentload::model::units::Spread;
use serde_json::Value;

use crate::util::*;

const SCENARIO: &str = r#"name = "sharded"
[target]
make_connection_id = 5
timeout = { total = "10s" }

[[agents]]
name = "alpha"
model = "model-a"
system_prompt = "Be brief."

[load]
model = "open"
rate = "200/s"
arrival = "constant"
duration = "4s"

[[mix]]
op = "run"
agent = "alpha"

[thresholds]
"run.latency.p50" = "< 5s"
"errors.rate" = "< 1%"
"#;

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

fn wait(mut child: Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            assert!(
                status.success(),
                "{what} ended with {status}:\n{}",
                text(&output.stderr)
            );
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Requests in an interval log's histograms of one tag, all intervals together.
fn hlog_count(path: &Path, tag: &str) -> u64 {
    agentload::store::interval_log::read(path)
        .unwrap()
        .iter()
        .filter(|i| i.tag.as_deref() == Some(tag))
        .map(|i| i.histogram.len())
        .sum()
}

fn merge(dirs: &[PathBuf], out: &Path) -> std::process::Output {
    agentload()
        .arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn four_shards_merge_into_the_whole_run() {
    let mut profile = fast_profile();
    profile.run_time = Spread {
        lo: Duration::from_millis(20),
        hi: Duration::from_millis(40),
    };
    let sim = Sim::start(profile);
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "sharded.toml", SCENARIO);

    // Whole seconds, a little ahead: time for four processes to start and set up.
    let start_at =
        humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(4)).to_string();
    let shards: Vec<PathBuf> = (0..4)
        .map(|i| dir.path().join(format!("shard-{i}")))
        .collect();
    let children: Vec<Child> = shards
        .iter()
        .enumerate()
        .map(|(i, out)| {
            run_command(&path, out, &sim.base_url(), TOKEN)
                .args([
                    "--shard",
                    &format!("{i}/4"),
                    "--run-id",
                    "itshard",
                    "--threads",
                    "1",
                ])
                .args(["--start-at", &start_at])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        wait(child, &format!("shard {i}"));
    }
    assert_eq!(sim.state().agent_count(), 0, "each shard deleted its agent");

    let merged = dir.path().join("merged");
    let output = merge(&shards, &merged);
    assert_code(&output, 0);
    let whole = summary(&merged);
    let parts: Vec<Value> = shards.iter().map(|s| summary(s)).collect();

    // Every shard started at the instant asked for, with its interleaved quarter of the plan.
    for (i, shard) in shards.iter().enumerate() {
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(shard.join("shard.json")).unwrap())
                .unwrap();
        assert_eq!(meta["shard"]["index"], i);
        assert_eq!(meta["run_id"], "itshard");
        assert_eq!(
            meta["started"].as_str().unwrap(),
            start_at.replace('Z', ".000Z")
        );
        assert_eq!(number(&parts[i]["load"]["target_rate"]), 50.0);
        // 800 planned arrivals: 200 each, started or (on an overloaded machine) dropped; the
        // pacer hands on every arrival planned before the end, however late it wakes.
        let load = &parts[i]["load"];
        assert_eq!(
            number(&load["iterations"]) + number(&load["dropped_iterations"]),
            200.0,
            "shard {i}: {load}"
        );
    }

    // Counts add up exactly.
    let sum = |get: &dyn Fn(&Value) -> f64| parts.iter().map(get).sum::<f64>();
    let requests = number(&whole["ops"]["run"]["requests"]);
    assert_eq!(requests, sum(&|p| number(&p["ops"]["run"]["requests"])));
    let dropped = number(&whole["load"]["dropped_iterations"]);
    assert_eq!(requests + dropped, 800.0);
    assert_eq!(number(&whole["load"]["iterations"]), requests);
    let latency = &whole["ops"]["run"]["metrics"]["latency"];
    assert_eq!(
        number(&latency["count"]),
        sum(&|p| number(&p["ops"]["run"]["metrics"]["latency"]["count"]))
    );
    assert_eq!(
        number(&whole["variants"]["alpha"]["run"]["requests"]),
        requests
    );
    // The whole rate, within 3%.
    assert_eq!(number(&whole["load"]["target_rate"]), 200.0);
    let achieved = number(&whole["load"]["achieved_rate"]);
    assert!(
        (achieved - 200.0).abs() <= 6.0,
        "achieved {achieved}/s of 200/s"
    );
    assert!(whole["passed"].as_bool().unwrap());
    assert_eq!(whole["thresholds"].as_array().unwrap().len(), 2);

    // The series: seconds lined up, every request in them, histograms merged exactly.
    let csv = std::fs::read_to_string(merged.join("timeseries.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let all_rows: Vec<&Vec<&str>> = rows.iter().filter(|r| r[3] == "all").collect();
    let series_requests: u64 = all_rows.iter().map(|r| r[4].parse::<u64>().unwrap()).sum();
    assert_eq!(series_requests as f64, requests);
    assert!(all_rows.len() >= 4, "{} seconds: {csv}", all_rows.len());
    // Second 0 is the instant every shard was told to start.
    let start_unix = humantime::parse_rfc3339(&start_at)
        .unwrap()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(all_rows[0][1], format!("{start_unix}.000"), "{csv}");
    let hlog = |dir: &Path| hlog_count(&dir.join("histograms.hlog"), "run.latency");
    assert_eq!(
        hlog(&merged),
        shards.iter().map(|s| hlog(s)).sum::<u64>(),
        "interval histograms merge exactly"
    );
    assert_eq!(hlog(&merged), number(&latency["count"]) as u64);
    assert!(merged.join("summary.md").exists());
    let html = std::fs::read_to_string(merged.join("report.html")).unwrap();
    assert!(html.contains("sharded"), "the page names the scenario");
    assert!(html.contains("<svg"), "the page has charts");

    // The same plan in one process gives the same percentiles. The simulator draws each run's
    // time from 20..40 ms and reports it (server_time): those agree within the histograms'
    // precision and sampling noise (about 0.4 ms at the median over 800 runs). What the
    // harness measures adds this machine's scheduling noise (two cores shared by other
    // builds): a looser bound.
    let single = dir.path().join("single");
    assert_code(&sim.run(&path, &single, &[]), 0);
    let single = summary(&single);
    let stat = |summary: &Value, metric: &str, stat: &str| {
        number(&summary["ops"]["run"]["metrics"][metric][stat])
    };
    for name in ["p50", "p90", "p99"] {
        let (a, b) = (
            stat(&whole, "server_time", name),
            stat(&single, "server_time", name),
        );
        assert!(
            (a - b).abs() <= 1.5,
            "server_time {name}: merged {a} ms, single {b} ms"
        );
    }
    assert!(stat(&whole, "server_time", "min") >= 20.0);
    assert!(stat(&whole, "server_time", "max") < 40.1);
    for metric in ["latency", "service_time"] {
        // Extremes of a merge are the extremes of its parts, exactly; no run beats the server.
        let parts_of = |name: &'static str| parts.iter().map(move |p| stat(p, metric, name));
        assert_eq!(
            stat(&whole, metric, "min"),
            parts_of("min").fold(f64::MAX, f64::min)
        );
        assert_eq!(
            stat(&whole, metric, "max"),
            parts_of("max").fold(0.0, f64::max)
        );
        assert!(stat(&whole, metric, "min") >= 20.0, "{metric}");
        // The median of the whole lies between the shards' medians.
        let p50 = stat(&whole, metric, "p50");
        assert!(
            parts_of("p50").any(|p| p <= p50) && parts_of("p50").any(|p| p >= p50),
            "{metric} p50 {p50}"
        );
    }

    refusals(&shards, dir.path());
}

/// Folders that are not one whole run are refused, naming why; failing thresholds exit 1.
fn refusals(shards: &[PathBuf], dir: &Path) {
    let out = dir.join("refused");
    let expect = |dirs: &[PathBuf], code: i32, needle: &str| {
        let output = merge(dirs, &out);
        assert_code(&output, code);
        let stderr = text(&output.stderr);
        assert!(stderr.contains(needle), "wanted {needle:?} in:\n{stderr}");
    };
    expect(&shards[..3], 2, "missing shard 3/4");
    let twice = [shards.to_vec(), vec![shards[1].clone()]].concat();
    expect(&twice, 2, "shard 1/4 is given twice");

    // A copy of shard 2 edited to claim another run, then another scenario.
    let copy = dir.join("copy-2");
    std::fs::create_dir_all(&copy).unwrap();
    for file in files_under(&shards[2]) {
        std::fs::copy(&file, copy.join(file.file_name().unwrap())).unwrap();
    }
    let meta_path = copy.join("shard.json");
    let original = std::fs::read_to_string(&meta_path).unwrap();
    let with_copy = [shards[..2].to_vec(), vec![copy.clone(), shards[3].clone()]].concat();
    std::fs::write(&meta_path, original.replace("itshard", "otherrun")).unwrap();
    expect(&with_copy, 2, "is run otherrun");
    let mut meta: Value = serde_json::from_str(&original).unwrap();
    meta["scenario"]["hash"] = "0000000000000000".into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    expect(&with_copy, 2, "different versions of scenario");
    meta["scenario"]["name"] = "other".into();
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    expect(&with_copy, 2, "ran scenario \"other\"");
    expect(&[dir.join("nope")], 2, "is not a folder");
    expect(&[dir.to_path_buf()], 2, "has no shard.json");

    // Thresholds are evaluated again on the merged result.
    std::fs::write(&meta_path, &original).unwrap();
    let summary_path = copy.join("summary.json");
    let _ = summary_path;
    let first = dir.join("copy-0");
    std::fs::create_dir_all(&first).unwrap();
    for file in files_under(&shards[0]) {
        std::fs::copy(&file, first.join(file.file_name().unwrap())).unwrap();
    }
    let text0 = std::fs::read_to_string(first.join("summary.json")).unwrap();
    std::fs::write(
        first.join("summary.json"),
        text0.replace("run.latency.p50 < 5s", "run.latency.p50 < 1ms"),
    )
    .unwrap();
    let failing = [vec![first], shards[1..].to_vec()].concat();
    expect(&failing, 1, "did not hold on the merged result");
}

#[test]
fn shard_flags_are_checked_before_anything_runs() {
    let in_days = |days: i64| {
        let now = SystemTime::now();
        let at = if days < 0 {
            now - Duration::from_secs(days.unsigned_abs() * 86_400)
        } else {
            now + Duration::from_secs(days as u64 * 86_400)
        };
        humantime::format_rfc3339_seconds(at).to_string()
    };
    let (past, far) = (in_days(-1), in_days(2));
    for (args, needle) in [
        (vec!["--shard", "0/2"], "--run-id"),
        (
            vec!["--shard", "2/2", "--run-id", "r"],
            "shard 2 does not exist among 2",
        ),
        (vec!["--run-id", "no-dashes"], "contains '-'"),
        (vec!["--start-at", past.as_str()], "in the past"),
        (vec!["--start-at", far.as_str()], "more than 24 hours ahead"),
        (vec!["--start-at", "noon"], "RFC 3339"),
    ] {
        let output = agentload()
            .args([
                "run",
                "--op",
                "list",
                "--rate",
                "1/s",
                "--duration",
                "1s",
                "--quiet",
            ])
            .args(&args)
            .output()
            .unwrap();
        assert_code(&output, 2);
        let stderr = text(&output.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
