//! Goodput and capacity end to end against the embedded simulator: exact good-request counts
//! under a known SLO, and `agentload sweep` over fixed rates and searching for the capacity
//! under a known rate limit.

use std::path::Path;

use crate::util::*;

/// Two agents whose models stream their first step after 100 ms and 300 ms, alternating, at
/// 20 arrivals per second for 2 s, with `slo` appended.
fn two_speeds(slo: &str) -> String {
    format!(
        r#"name = "two-speeds"
[target]
make_connection_id = 1

[[agents]]
name = "fast"
model = "m-fast"
system_prompt = "x"

[[agents]]
name = "slow"
model = "m-slow"
system_prompt = "x"

[load]
model = "open"
rate = "20/s"
arrival = "constant"
duration = "2s"

[[mix]]
op = "run_stream"
agent = "*"

[simulator]
step_gap = "5ms"
steps = 3

[simulator.models.m-fast]
ttfs = "100ms"

[simulator.models.m-slow]
ttfs = "300ms"

{slo}"#
    )
}

fn run_embedded(scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    agentload()
        .args(["run", scenario.to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn goodput_counts_exactly_the_requests_that_meet_the_slo() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(
        dir.path(),
        "s.toml",
        &two_speeds(
            "[slo]\nttfs = \"<= 200ms\"\nlatency = \"<= 5s\"\n\n[thresholds]\n\"goodput.rate\" = \">= 9/s\"\n\"run_stream.goodput.rate\" = \"> 11/s\"\n",
        ),
    );
    let out = dir.path().join("out");
    let output = run_embedded(&scenario, &out, &[]);
    assert_code(&output, 1);
    let summary = summary(&out);
    let goodput = &summary["goodput"];
    assert_eq!(goodput["requests"], 40);
    assert_eq!(
        goodput["good"], 20,
        "exactly the fast model's half: {goodput}"
    );
    assert_eq!(goodput["attainment"], 0.5);
    assert_eq!(goodput["rate"], 10.0, "20 good in the 2 s window");
    assert_eq!(goodput["objectives"][0], "ttfs <= 200ms");
    let op = &summary["ops"]["run_stream"]["slo"];
    assert_eq!(op["good"], 20);
    assert_eq!(op["objectives"]["ttfs"]["met"], 20);
    assert_eq!(op["objectives"]["latency"]["met"], 40);
    assert_eq!(op["objectives"]["latency"]["attainment"], 1.0);
    assert_eq!(summary["variants"]["fast"]["run_stream"]["slo"]["good"], 20);
    assert_eq!(summary["variants"]["slow"]["run_stream"]["slo"]["good"], 0);
    let thresholds = summary["thresholds"].as_array().unwrap();
    assert_eq!(thresholds[0]["ok"], true, "{thresholds:?}");
    assert_eq!(thresholds[1]["actual"], 10.0);
    assert_eq!(thresholds[1]["ok"], false);
    let terminal = text(&output.stdout);
    assert!(
        terminal.contains("goodput 10.0/s · 20 of 40 requests good (50.0%)"),
        "{terminal}"
    );
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(markdown.contains("## Goodput"), "{markdown}");

    // --slo replaces the file's objectives: now every request is good.
    let out = dir.path().join("out2");
    let output = run_embedded(&scenario, &out, &["--slo", "ttfs<=400ms"]);
    assert_code(&output, 0);
    let again = crate::util::summary(&out);
    let goodput = &again["goodput"];
    assert_eq!(goodput["good"], 40, "{goodput}");
    assert_eq!(goodput["objectives"].as_array().unwrap().len(), 1);
}

#[test]
fn a_bad_slo_exits_2_naming_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(
        dir.path(),
        "s.toml",
        &two_speeds("[slo.run]\nlatency = \"<= 2s\"\n"),
    );
    let output = run_embedded(&scenario, &dir.path().join("out"), &[]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("s.toml:36:1"), "{stderr}");
    assert!(stderr.contains("key:  slo.run.latency"), "{stderr}");
    assert!(stderr.contains("never sends `run`"), "{stderr}");

    let output = run_embedded(&scenario, &dir.path().join("out"), &["--slo", "ttfs>=2s"]);
    assert_code(&output, 2);
    assert!(
        text(&output.stderr).contains("--slo"),
        "{}",
        text(&output.stderr)
    );
}

/// Blocking runs of 20 ms, at most `per_minute` of them per (fresh) one-minute window, judged
/// by `latency <= 1s`.
fn rate_limited(per_minute: u32) -> String {
    format!(
        r#"name = "limited"
[target]
make_connection_id = 1

[[agents]]
name = "a"
model = "m"
system_prompt = "x"

[load]
model = "open"
rate = "1/s"
arrival = "constant"
duration = "10s"

[[mix]]
op = "run"
agent = "*"

[slo]
latency = "<= 1s"

[simulator]
run_time = "20ms"

[simulator.faults]
rate_limit = "{per_minute}/min"
endpoints = ["run"]
"#
    )
}

fn sweep(scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    agentload()
        .args(["sweep", scenario.to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_search_finds_the_capacity_a_rate_limit_allows() {
    // Each step starts a fresh simulator, so its one-minute window admits 40 runs in the 2 s of
    // warmup and measurement: the truth is 40 / 2 s = 20/s. Above it the last runs get 429s:
    // at 22/s, 4 of 33 measured runs (attainment 88%).
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), "limited.toml", &rate_limited(40));
    let out = dir.path().join("sweep");
    let output = sweep(
        &scenario,
        &out,
        &[
            "--search",
            "--min",
            "4/s",
            "--max",
            "100/s",
            "--step-duration",
            "1500ms",
            "--warmup",
            "500ms",
        ],
    );
    assert_code(&output, 0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "agentload/sweep/v1");
    assert_eq!(report["mode"], "search");
    let capacity = report["capacity"]["rate"].as_f64().unwrap();
    let failed = report["capacity"]["failed_rate"].as_f64().unwrap();
    // Within one step of the truth: the search stops when pass and failure are 10% apart.
    assert!((18.0..=20.0).contains(&capacity), "capacity {capacity}/s");
    assert!(failed > 20.0 && failed <= 22.5, "lowest failure {failed}/s");
    let steps = report["steps"].as_array().unwrap();
    let rates: Vec<f64> = steps.iter().map(|s| s["rate"].as_f64().unwrap()).collect();
    assert_eq!(
        &rates[..4],
        [4.0, 8.0, 16.0, 32.0],
        "doubling first: {rates:?}"
    );
    for step in steps {
        let rate = step["rate"].as_f64().unwrap();
        assert_eq!(step["passed"], rate <= 20.0, "{step}");
        let folder = out.join(step["report"].as_str().unwrap());
        assert!(folder.join("summary.json").is_file(), "{folder:?}");
        if rate > 21.0 {
            assert!(
                step["errors"].as_u64().unwrap() > 0,
                "429s above the limit: {step}"
            );
        }
    }
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "capacity: highest rate meeting the SLOs: {capacity}/s"
        )),
        "{stdout}"
    );
    let markdown = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    assert!(
        markdown.contains("**highest rate meeting the SLOs"),
        "{markdown}"
    );
}

#[test]
fn given_rates_give_one_row_each_with_achieved_near_offered() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), "limited.toml", &rate_limited(1000));
    let out = dir.path().join("sweep");
    let output = sweep(
        &scenario,
        &out,
        &[
            "--rates",
            "20/s,5/s,10/s",
            "--step-duration",
            "1s",
            "--warmup",
            "500ms",
            "--slo",
            "latency<=2s",
        ],
    );
    assert_code(&output, 0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    let steps = report["steps"].as_array().unwrap();
    let rates: Vec<f64> = steps.iter().map(|s| s["rate"].as_f64().unwrap()).collect();
    assert_eq!(rates, [5.0, 10.0, 20.0], "lowest first");
    for step in steps {
        let offered = step["rate"].as_f64().unwrap();
        let achieved = step["achieved_rate"].as_f64().unwrap();
        assert!(
            (achieved - offered).abs() <= offered * 0.05,
            "{achieved}/s of {offered}/s"
        );
        assert_eq!(step["requests"].as_f64().unwrap(), offered, "1 s measured");
        assert_eq!(step["attainment"], 1.0);
        assert_eq!(step["passed"], true);
        assert!(step["ops"]["run"]["latency"]["p99"].as_f64().unwrap() > 15.0);
        let folder = out.join(step["report"].as_str().unwrap());
        let page = std::fs::read_to_string(folder.join("report.html")).unwrap();
        assert!(page.contains("<svg"), "each step has its own charts");
    }
    let page = std::fs::read_to_string(out.join("sweep.html")).unwrap();
    assert_eq!(page.matches("<svg").count(), 2, "two charts");
    assert!(
        page.contains("highest rate meeting the SLOs: 20/s"),
        "the capacity answer"
    );
    assert!(page.contains("offered rate (/s)") && page.contains("milliseconds (ms)"));
    for rate in ["5/s", "10/s", "20/s"] {
        assert!(page.contains(&format!("<tr><td>{rate}</td>")), "row {rate}");
    }
    assert_eq!(
        report["objectives"][0], "latency <= 2s",
        "--slo replaced [slo]"
    );
    assert_eq!(report["capacity"]["rate"], 20.0);
    let stdout = text(&output.stdout);
    let rows = stdout
        .lines()
        .filter(|line| line.trim_end().ends_with("pass"))
        .count();
    assert_eq!(rows, 3, "{stdout}");
}

#[test]
fn an_interrupt_stops_the_sweep_writes_what_ran_and_deletes_every_agent() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text_ = one_op("run", Some("alpha"), 1, 1);
    let scenario = scenario(dir.path(), "i.toml", &text_);
    let out = dir.path().join("sweep");
    let child = agentload()
        .args(["sweep", scenario.to_str().unwrap(), "--quiet", "--target"])
        .arg(sim.base_url())
        .args(["--team-id", "1", "--rates", "5/s,10/s,20/s"])
        .args(["--step-duration", "1s", "--warmup", "200ms", "--out"])
        .arg(&out)
        .env("MAKE_API_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Let the first step finish, then interrupt (the second is running or starting).
    let started = std::time::Instant::now();
    while !out.join("sweep.json").is_file() {
        assert!(
            started.elapsed().as_secs() < 30,
            "the first step never ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_code(&output, 130);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    let steps = report["steps"].as_array().unwrap();
    assert!((1..=2).contains(&steps.len()), "{steps:?}");
    assert_eq!(steps[0]["passed"], true);
    if let Some(cut) = steps.get(1) {
        assert_eq!(cut["interrupted"], true);
        assert_eq!(cut["passed"], false, "a step cut short does not count");
    }
    assert_eq!(report["capacity"]["rate"], 5.0);
    assert_eq!(
        sim.state().agent_count(),
        0,
        "left behind: {:?}",
        sim.state().agent_names()
    );
}
