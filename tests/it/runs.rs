//! End-to-end runs against the simulator on loopback: each op, the lifecycle chain, variants,
//! iteration budgets, thresholds, setup failures and cleanup.

use std::time::Duration;

use agentload::sim::Profile;
use serde_json::Value;

use crate::util::*;

fn op<'a>(summary: &'a Value, name: &str) -> &'a Value {
    &summary["ops"][name]
}

fn count(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

#[test]
fn each_op_is_sent_counted_and_measured() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    for name in ["list", "get", "create", "patch", "run", "run_stream"] {
        let path = scenario(
            dir.path(),
            &format!("{name}.toml"),
            &one_op(name, None, 6, 2),
        );
        let out = dir.path().join(format!("out-{name}"));
        let output = sim.run(&path, &out, &[]);
        assert_code(&output, 0);
        let summary = summary(&out);
        let stats = op(&summary, name);
        assert_eq!(count(&stats["requests"]), 6, "{name}: {stats}");
        assert_eq!(count(&stats["ok"]), 6, "{name}: {stats}");
        assert_eq!(count(&stats["errors"]), 0, "{name}: {stats}");
        assert_eq!(count(&stats["metrics"]["latency"]["count"]), 6, "{name}");
        assert_eq!(count(&stats["metrics"]["ttfb"]["count"]), 6, "{name}");
        assert_eq!(
            summary["ops"].as_object().unwrap().len(),
            1,
            "{name}: only {name} was sent: {}",
            summary["ops"]
        );
        assert_eq!(count(&summary["load"]["iterations"]), 6);
        assert_eq!(
            sim.state().agent_count(),
            0,
            "{name}: every agent the run created is deleted"
        );
    }
}

#[test]
fn stream_and_run_metrics_come_from_the_server_behaviour() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("run_stream", None, 10, 2) + "\n[[mix]]\nop = \"run\"\n";
    let path = scenario(dir.path(), "s.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    let stream = &op(&summary, "run_stream")["metrics"];
    // The fast profile streams 3..4 steps, the first after 5..10 ms, 1..3 ms apart.
    assert!(
        (3.0..=4.0).contains(&stream["steps"]["min"].as_f64().unwrap()),
        "{stream}"
    );
    assert!(
        (3.0..=4.0).contains(&stream["steps"]["max"].as_f64().unwrap()),
        "{stream}"
    );
    assert!(stream["ttfs"]["min"].as_f64().unwrap() >= 5.0, "{stream}");
    // Gaps are 1..3 ms as sent; a step read late shortens the gap after it, so only the
    // longest is sure to keep its length on a busy machine.
    assert!(
        stream["inter_step"]["max"].as_f64().unwrap() >= 0.9,
        "{stream}"
    );
    assert!(
        stream["first_assistant"]["min"].as_f64().unwrap()
            > stream["ttfs"]["min"].as_f64().unwrap()
    );
    let streams = count(&op(&summary, "run_stream")["ok"]);
    let gaps = count(&stream["inter_step"]["count"]);
    let steps_total = stream["steps"]["mean"].as_f64().unwrap() * streams as f64;
    assert_eq!(
        gaps as f64,
        (steps_total - streams as f64).round(),
        "one gap between each pair of steps"
    );
    let run = &op(&summary, "run")["metrics"];
    let server_min = run["server_time"]["min"].as_f64().unwrap();
    assert!(
        (5.0..=10.01).contains(&server_min),
        "executionTimeMs from the simulator: {run}"
    );
    assert!(
        run["latency"]["min"].as_f64().unwrap() >= server_min,
        "our latency includes the server's time"
    );
}

#[test]
fn lifecycle_times_each_step_under_its_own_op() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "l.toml",
        &one_op("lifecycle", Some("beta"), 3, 1),
    );
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    for name in ["create", "get", "patch", "delete"] {
        assert_eq!(count(&op(&summary, name)["requests"]), 3, "{name}");
        assert_eq!(count(&op(&summary, name)["ok"]), 3, "{name}");
        assert_eq!(
            count(&summary["variants"]["beta"][name]["requests"]),
            3,
            "{name} under variant beta"
        );
    }
    assert!(summary["ops"].get("lifecycle").is_none());
    assert_eq!(sim.state().agent_count(), 0);
}

#[test]
fn delete_takes_agents_made_by_create_and_nothing_is_left() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("create", None, 20, 2) + "\n[[mix]]\nop = \"delete\"\n";
    let path = scenario(dir.path(), "cd.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    let creates = count(&op(&summary, "create")["ok"]);
    let deletes = count(&op(&summary, "delete")["ok"]);
    assert_eq!(count(&summary["load"]["iterations"]), 20);
    assert!(
        creates >= deletes,
        "a delete never runs without an agent to delete"
    );
    assert_eq!(count(&op(&summary, "delete")["errors"]), 0);
    assert_eq!(
        sim.state().agent_count(),
        0,
        "teardown deleted the {} spare agent(s)",
        creates - deletes
    );
}

#[test]
fn star_spreads_iterations_over_every_fixture_as_variants() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "v.toml", &one_op("run", Some("*"), 12, 2));
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    let alpha = count(&summary["variants"]["alpha"]["run"]["requests"]);
    let beta = count(&summary["variants"]["beta"]["run"]["requests"]);
    assert_eq!(
        (alpha, beta),
        (6, 6),
        "each virtual user alternates between the two agents"
    );
    assert_eq!(count(&op(&summary, "run")["requests"]), 12);
}

#[test]
fn flags_override_the_file() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "f.toml", &one_op("list", None, 1000, 1));
    let out = dir.path().join("out");
    assert_code(
        &sim.run(&path, &out, &["--iterations", "7", "--vus", "3"]),
        0,
    );
    let summary = summary(&out);
    assert_eq!(
        count(&summary["load"]["iterations"]),
        7,
        "iterations count across all VUs"
    );
    assert_eq!(count(&summary["load"]["vus"]), 3);
    assert_eq!(count(&op(&summary, "list")["requests"]), 7);

    let out = dir.path().join("out-duration");
    let started = std::time::Instant::now();
    assert_code(
        &sim.run(
            &path,
            &out,
            &["--duration", "1s", "--iterations", "100000000"],
        ),
        0,
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let timed = crate::util::summary(&out);
    let duration = timed["duration_s"].as_f64().unwrap();
    assert!(
        (1.0..3.0).contains(&duration),
        "stopped by --duration 1s after {duration}s"
    );
}

#[test]
fn a_failed_threshold_exits_1_and_a_holding_one_0() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let failing = one_op("get", None, 4, 1)
        + "\n[thresholds]\n\"get.latency.p50\" = \"< 0.001ms\"\n\"errors.rate\" = \"< 1%\"\n";
    let path = scenario(dir.path(), "t.toml", &failing);
    let out = dir.path().join("out");
    let output = sim.run(&path, &out, &[]);
    assert_code(&output, 1);
    let summary = summary(&out);
    assert_eq!(summary["passed"], false);
    assert_eq!(
        summary["thresholds"][0]["expr"],
        "get.latency.p50 < 0.001ms"
    );
    assert_eq!(summary["thresholds"][0]["ok"], false);
    assert_eq!(summary["thresholds"][1]["ok"], true);
    assert!(text(&output.stdout).contains("FAIL get.latency.p50"));

    let holding = one_op("get", None, 4, 1) + "\n[thresholds]\n\"get.latency.p50\" = \"< 10s\"\n";
    let path = scenario(dir.path(), "t2.toml", &holding);
    let out = dir.path().join("out2");
    assert_code(&sim.run(&path, &out, &[]), 0);
    assert_eq!(crate::util::summary(&out)["passed"], true);
}

#[test]
fn a_wrong_token_fails_setup_with_exit_2_and_still_writes_the_report() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "w.toml", &one_op("get", None, 4, 1));
    let out = dir.path().join("out");
    let output = run_command(&path, &out, &sim.base_url(), "not-the-token")
        .output()
        .unwrap();
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("setting up agent `alpha` failed: http_401"),
        "{stderr}"
    );
    assert!(stderr.contains("help: check the token"), "{stderr}");
    assert!(!stderr.contains("not-the-token"), "{stderr}");
    assert_eq!(summary(&out)["ops"], serde_json::json!({}));
}

#[test]
fn a_missing_token_and_an_unreachable_target_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "u.toml", &one_op("get", None, 4, 1));
    let output = agentload()
        .args([
            "run",
            path.to_str().unwrap(),
            "--target",
            "http://127.0.0.1:9/api/v2",
            "--team-id",
            "1",
        ])
        .arg("--out")
        .arg(dir.path().join("o1"))
        .output()
        .unwrap();
    assert_code(&output, 2);
    assert!(
        text(&output.stderr).contains("MAKE_API_TOKEN, which is not set"),
        "{}",
        text(&output.stderr)
    );

    // A port that was free a moment ago: the connection is refused at setup.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/api/v2");
    let output = agentload()
        .args([
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--target",
            &url,
            "--team-id",
            "1",
        ])
        .arg("--out")
        .arg(dir.path().join("o2"))
        .env("MAKE_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("failed: connect"), "{stderr}");
    assert!(stderr.contains("reachable"), "{stderr}");
}

#[test]
fn the_token_appears_in_no_output() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text_ = one_op("run_stream", None, 6, 2)
        + "\n[[mix]]\nop = \"lifecycle\"\n[[mix]]\nop = \"list\"\n";
    let path = scenario(dir.path(), "tok.toml", &text_);
    let out = dir.path().join("out");
    let mut command = agentload();
    command
        .args([
            "run",
            path.to_str().unwrap(),
            "--target",
            &sim.base_url(),
            "--team-id",
            "1",
            "--out",
        ])
        .arg(&out)
        .env("MAKE_API_TOKEN", TOKEN);
    let output = command.output().unwrap();
    assert_code(&output, 0);
    assert!(!text(&output.stdout).contains(TOKEN));
    assert!(!text(&output.stderr).contains(TOKEN));
    let files = files_under(&out);
    assert!(!files.is_empty());
    for file in files {
        let content = std::fs::read(&file).unwrap();
        assert!(
            !text(&content).contains(TOKEN),
            "{} holds the token",
            file.display()
        );
    }
}

#[test]
fn the_embedded_simulator_runs_a_scenario_without_a_target() {
    let dir = tempfile::tempdir().unwrap();
    let text_ = one_op("run_stream", None, 8, 2)
        + "\n[simulator]\nttfs = \"5ms\"\nstep_gap = \"2ms\"\nsteps = 4\nrun_time = \"5ms\"\n";
    let path = scenario(dir.path(), "e.toml", &text_);
    let out = dir.path().join("out");
    let output = agentload()
        .args(["run", path.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_code(&output, 0);
    let summary = summary(&out);
    assert_eq!(count(&op(&summary, "run_stream")["ok"]), 8);
    assert_eq!(summary["ops"]["run_stream"]["metrics"]["steps"]["max"], 4.0);
    assert!(
        summary["target"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("run_stream") && stdout.contains("time to first step"),
        "{stdout}"
    );
    assert!(text(&output.stderr).contains("embedded simulator"));
}

#[test]
fn a_spent_iteration_budget_lets_slow_iterations_finish() {
    let mut profile = fast_profile();
    profile.run_time = agentload::model::units::Spread {
        lo: std::time::Duration::from_millis(100),
        hi: std::time::Duration::from_millis(1200),
    };
    let sim = Sim::start(profile);
    let dir = tempfile::tempdir().unwrap();
    let text_ =
        one_op("run", None, 8, 4).replace("iterations = 8", "iterations = 8\ngrace = \"50ms\"");
    let path = scenario(dir.path(), "b.toml", &text_);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    assert_eq!(count(&op(&summary, "run")["requests"]), 8);
    assert_eq!(
        count(&op(&summary, "run")["errors"]),
        0,
        "grace is for the end of a duration, not of a budget"
    );
}

#[test]
fn validate_makes_the_checks_run_makes() {
    let dir = tempfile::tempdir().unwrap();
    let text_ = one_op("get", None, 1, 1).replace(
        "[target]\n",
        "[target]\nbase_url = \"http://127.0.0.1:9/api/v2\"\n",
    );
    let path = scenario(dir.path(), "nt.toml", &text_);
    let output = agentload().arg("validate").arg(&path).output().unwrap();
    assert_code(&output, 2);
    assert!(
        text(&output.stderr).contains("needs a team id"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn later_turns_of_a_simulated_conversation_cost_more() {
    // Each earlier turn of a thread adds 30 ms to the first step: turn 3 waits at least 65 ms
    // only if all three runs went to one thread, streamed and blocking alike.
    let sim = Sim::start(Profile {
        ttfs_per_turn: Duration::from_millis(30),
        ..fast_profile()
    });
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("run_stream", None, 4, 2)
        .replace("op = \"run_stream\"", "op = \"run_stream\"\nturns = 3")
        + "\n[[mix]]\nop = \"run\"\nturns = 3\n";
    let path = scenario(dir.path(), "t.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    for (op, metric, floor) in [("run_stream", "ttfs", 65.0), ("run", "latency", 65.0)] {
        let turns = &summary["ops"][op]["turns"];
        if turns.is_null() {
            continue; // the weighted pick never chose this op
        }
        let third = turns["3"]["metrics"][metric]["min"].as_f64().unwrap();
        assert!(third >= floor, "{op} turn 3 {metric} min {third}: {turns}");
        let first = turns["1"]["metrics"][metric]["min"].as_f64().unwrap();
        assert!(first >= 5.0, "{op} turn 1: {turns}");
    }
    assert_eq!(sim.state().agent_count(), 0);
}
