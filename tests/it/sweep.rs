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
