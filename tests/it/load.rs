//! Load shapes end to end against the simulator on loopback: open-model rates (constant,
//! Poisson, ramped), saturation by queueing and by dropping, warmup, grace, ramping and capped
//! closed models, and runs described by flags alone.

use std::time::{Duration, Instant};

use agentload::engine::schedule::{Arrivals, Schedule};
use agentload::model::units::{Rate, Spread};
use agentload::scenario::{Arrival, Ramp};
use serde_json::Value;

use crate::util::*;

fn count(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

/// `agentload run` with flags only (no scenario file) against `sim`.
fn run_flags(sim: &Sim, out: &std::path::Path, flags: &[&str]) -> std::process::Output {
    agentload()
        .args([
            "run",
            "--quiet",
            "--target",
            &sim.base_url(),
            "--team-id",
            "1",
            "--make-connection-id",
            "1",
            "--out",
        ])
        .arg(out)
        .args(flags)
        .env("MAKE_API_TOKEN", TOKEN)
        .output()
        .unwrap()
}

/// A profile whose blocking runs take exactly `run_time`.
fn slow_runs(run_time: Duration) -> agentload::sim::Profile {
    let mut profile = fast_profile();
    profile.run_time = Spread::fixed(run_time);
    profile
}

#[test]
fn a_constant_rate_sends_exactly_the_planned_arrivals() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = run_flags(
        &sim,
        &out,
        &[
            "--op",
            "get",
            "--rate",
            "200/s",
            "--arrival",
            "constant",
            "--duration",
            "2s",
        ],
    );
    assert_code(&output, 0);
    let summary = summary(&out);
    assert_eq!(
        count(&summary["ops"]["get"]["requests"]),
        400,
        "arrivals at i/200 s for i in 0..400"
    );
    assert_eq!(summary["load"]["model"], "open");
    assert_eq!(summary["load"]["target_rate"], 200.0);
    assert_eq!(count(&summary["load"]["dropped_iterations"]), 0);
    let achieved = summary["load"]["achieved_rate"].as_f64().unwrap();
    assert!((achieved - 200.0).abs() < 2.0, "achieved {achieved}/s");
    let wait = &summary["ops"]["get"]["metrics"]["wait"];
    assert_eq!(
        count(&wait["count"]),
        400,
        "wait is measured for every request"
    );
    assert_eq!(
        sim.state().agent_count(),
        0,
        "the temporary agent is deleted"
    );
    assert!(
        summary["variants"].get("temporary").is_some(),
        "{}",
        summary["variants"]
    );
}

#[test]
fn poisson_arrivals_average_the_rate() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_code(
        &run_flags(
            &sim,
            &out,
            &[
                "--op",
                "list",
                "--rate",
                "500/s",
                "--arrival",
                "poisson",
                "--duration",
                "2s",
            ],
        ),
        0,
    );
    let requests = count(&summary(&out)["ops"]["list"]["requests"]) as f64;
    // Expected 1000; a Poisson count's standard deviation is its square root.
    assert!(
        (requests - 1000.0).abs() < 4.0 * 1000f64.sqrt(),
        "{requests}"
    );
    assert_ne!(
        requests, 1000.0,
        "a seeded Poisson process is not the constant count"
    );
}

#[test]
fn an_open_ramp_follows_its_stages() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text = r#"name = "ramp"
[load]
model = "open"
stages = [{ duration = "1s", target = "200/s" }, { duration = "1s", target = "200/s" }]
[[mix]]
op = "list"
"#;
    let path = scenario(dir.path(), "ramp.toml", text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    // 0 -> 200/s over 1 s is 100 arrivals, then 200 more at 200/s.
    assert_eq!(count(&summary["ops"]["list"]["requests"]), 300);
    assert_eq!(summary["load"]["target_rate"], 150.0, "the planned average");
    assert!((summary["duration_s"].as_f64().unwrap() - 2.0).abs() < 0.5);
}

#[test]
fn drop_saturation_drops_what_finds_no_slot() {
    let sim = Sim::start(slow_runs(Duration::from_millis(100)));
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("run", None, 1, 1).replace(
        "[load]\nvus = 1\niterations = 1",
        "[load]\nmodel = \"open\"\nrate = \"100/s\"\nduration = \"2s\"\nmax_in_flight = 2\nsaturation = \"drop\"",
    );
    let path = scenario(dir.path(), "drop.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    let started = count(&summary["ops"]["run"]["requests"]);
    let dropped = count(&summary["load"]["dropped_iterations"]);
    assert_eq!(
        started + dropped,
        200,
        "every arrival either runs or is dropped"
    );
    // Two slots of 100 ms each: about 20 runs a second, 40 in all.
    assert!((30..=50).contains(&started), "{started} started");
    let wait_p99 = summary["ops"]["run"]["metrics"]["wait"]["p99"]
        .as_f64()
        .unwrap();
    // A queued arrival would wait most of a 100 ms slot; a dropped one never waits, so only
    // scheduling delay shows (generous: a busy 2-core CI machine adds tens of ms).
    assert!(wait_p99 < 50.0, "dropping never waits: {wait_p99} ms");
}

#[test]
fn queue_saturation_makes_arrivals_wait_and_counts_the_wait_as_latency() {
    let sim = Sim::start(slow_runs(Duration::from_millis(100)));
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("run", None, 1, 1).replace(
        "[load]\nvus = 1\niterations = 1",
        "[load]\nmodel = \"open\"\nrate = \"40/s\"\nduration = \"2s\"\nmax_in_flight = 2\nmax_queue = 1000",
    );
    let path = scenario(dir.path(), "queue.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &["--threads", "1"]), 0);
    let summary = summary(&out);
    let run = &summary["ops"]["run"];
    let started = count(&run["requests"]);
    let dropped = count(&summary["load"]["dropped_iterations"]);
    assert_eq!(
        started + dropped,
        80,
        "arrivals still queued at the end are dropped, never lost"
    );
    let metrics = &run["metrics"];
    let (latency, service, wait) = (
        metrics["latency"]["p90"].as_f64().unwrap(),
        metrics["service_time"]["p90"].as_f64().unwrap(),
        metrics["wait"]["p90"].as_f64().unwrap(),
    );
    // 40/s offered to 20/s of capacity: the queue grows, and so does the wait.
    assert!(service < 150.0, "service stays near 100 ms: {service}");
    assert!(wait > 300.0, "queued arrivals wait: {wait}");
    assert!(
        latency >= wait && latency >= service,
        "latency = wait + service: {latency}"
    );
}

#[test]
fn warmup_iterations_are_left_out_of_the_summary() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert_code(
        &run_flags(
            &sim,
            &out,
            &[
                "--op",
                "list",
                "--rate",
                "100/s",
                "--duration",
                "2s",
                "--warmup",
                "1s",
            ],
        ),
        0,
    );
    let summary = summary(&out);
    assert_eq!(
        count(&summary["ops"]["list"]["requests"]),
        100,
        "only the second after the warmup"
    );
    assert_eq!(count(&summary["load"]["iterations"]), 100);
    let achieved = summary["load"]["achieved_rate"].as_f64().unwrap();
    assert!(
        (achieved - 100.0).abs() < 2.0,
        "over the measured second: {achieved}"
    );
}

#[test]
fn grace_cuts_requests_still_in_flight_as_interrupted() {
    let sim = Sim::start(slow_runs(Duration::from_secs(3)));
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("run", None, 1, 2)
        .replace("iterations = 1", "duration = \"300ms\"\ngrace = \"200ms\"");
    let path = scenario(dir.path(), "grace.toml", &text);
    let out = dir.path().join("out");
    let started = Instant::now();
    assert_code(&sim.run(&path, &out, &[]), 0);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the 3 s runs were cut at 300 ms + 200 ms"
    );
    let summary = summary(&out);
    assert_eq!(
        summary["ops"]["run"]["error_classes"]["interrupted"], 2,
        "{}",
        summary["ops"]["run"]
    );
    assert_eq!(sim.state().agent_count(), 0);
}

#[test]
fn closed_stages_ramp_the_users_up_and_down() {
    let sim = Sim::start(slow_runs(Duration::from_millis(100)));
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, load: &str| {
        let text = one_op("run", None, 1, 1).replace("[load]\nvus = 1\niterations = 1", load);
        let path = scenario(dir.path(), &format!("{name}.toml"), &text);
        let out = dir.path().join(name);
        assert_code(&sim.run(&path, &out, &[]), 0);
        summary(&out)
    };
    let ramped = run(
        "ramped",
        "[load]\nstages = [{ duration = \"1s\", target = 4 }, { duration = \"1s\", target = 4 }, { duration = \"1s\", target = 0 }]",
    );
    let steady = run("steady", "[load]\nvus = 4\nduration = \"3s\"");
    assert_eq!(count(&ramped["load"]["vus"]), 4, "the peak");
    // Users average about 1.5, 4 and 1.5 over the three seconds (the ramp rounds down), against
    // 4 throughout: a ratio, so a slow machine slows both alike.
    let ratio =
        count(&ramped["load"]["iterations"]) as f64 / count(&steady["load"]["iterations"]) as f64;
    assert!(
        (0.45..=0.8).contains(&ratio),
        "ramped / steady iterations = {ratio}"
    );
}

#[test]
fn max_rate_caps_the_closed_model() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("list", None, 1, 1).replace(
        "[load]\nvus = 1\niterations = 1",
        "[load]\nvus = 8\nduration = \"2s\"\nmax_rate = \"50/s\"",
    );
    let path = scenario(dir.path(), "cap.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let iterations = count(&summary(&out)["load"]["iterations"]);
    // The cap is an upper bound whatever the machine does; the lower bound is loose because a
    // busy machine may not reach 50/s with 8 users (this test must not fail when CI is slow).
    assert!(
        (40..=110).contains(&iterations),
        "{iterations} iterations at 50/s for 2 s"
    );
}

#[test]
fn flags_alone_describe_a_whole_run() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let body = r#"{"messages":[{"role":"user","content":"hi"}],"config":{}}"#;
    let output = run_flags(
        &sim,
        &out,
        &[
            "--op",
            "run_stream:3",
            "--op",
            "get",
            "--body",
            body,
            "--vus",
            "2",
            "--iterations",
            "12",
        ],
    );
    assert_code(&output, 0);
    let summary = summary(&out);
    assert_eq!(summary["scenario"], "run_stream+get");
    assert_eq!(count(&summary["load"]["iterations"]), 12);
    let ops = summary["ops"].as_object().unwrap();
    assert_eq!(ops.keys().collect::<Vec<_>>(), ["get", "run_stream"]);
    assert_eq!(sim.state().agent_count(), 0);

    let created = run_flags(
        &sim,
        &dir.path().join("create"),
        &["--op", "create", "--iterations", "1"],
    );
    assert_code(&created, 0);
    assert_eq!(
        sim.state().agent_count(),
        0,
        "create ops' agents are deleted too"
    );

    // An existing agent, by id: used, never deleted.
    let keep = keep_one_agent(&sim);
    let existing = dir.path().join("existing");
    let output = run_flags(
        &sim,
        &existing,
        &["--op", "get", "--agent-id", &keep, "--iterations", "3"],
    );
    assert_code(&output, 0);
    let summary = crate::util::summary(&existing);
    assert_eq!(count(&summary["variants"][&keep]["get"]["requests"]), 3);
    assert_eq!(
        sim.state().agent_count(),
        1,
        "an agent named by --agent-id is never deleted"
    );
}

/// Creates an agent on the simulator directly, as a user's existing agent; returns its id.
fn keep_one_agent(sim: &Sim) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{}/ai-agents/v1/agents?teamId=1", sim.base_url()))
            .header("Authorization", format!("Token {TOKEN}"))
            .header("Content-Type", "application/json")
            .body(r#"{"name":"mine","teamId":1,"makeConnectionId":1,"defaultModel":"m","systemPrompt":"p"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["agentId"].as_str().unwrap().to_owned()
    })
}

#[test]
fn flags_that_contradict_each_other_or_the_file_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let closed = scenario(dir.path(), "closed.toml", &one_op("get", None, 5, 1));
    for (args, expect) in [
        (
            vec![
                "run",
                "--op",
                "get",
                "--vus",
                "2",
                "--rate",
                "5/s",
                "--duration",
                "1s",
            ],
            "--vus and --rate",
        ),
        (
            vec!["run", closed.to_str().unwrap(), "--arrival", "poisson"],
            "applies to the open model",
        ),
        (
            vec!["run", "--duration", "1s"],
            "no scenario file and no --op",
        ),
        (
            vec!["run", "--op", "get"],
            "needs --duration or --iterations",
        ),
        (
            vec!["run", "--op", "list", "--body", "{}", "--duration", "1s"],
            "no op given takes a body",
        ),
        (
            vec!["run", "--op", "run", "--body", "{}", "--duration", "1s"],
            "messages",
        ),
        (
            vec![
                "run",
                "--op",
                "get",
                "--rate",
                "5/s",
                "--duration",
                "2s",
                "--warmup",
                "2s",
            ],
            "warmup",
        ),
    ] {
        let output = agentload()
            .args(&args)
            .arg("--out")
            .arg(dir.path().join("o"))
            .output()
            .unwrap();
        assert_code(&output, 2);
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(expect),
            "{args:?}: expected {expect:?} in {stderr}"
        );
    }
}

#[test]
fn a_rate_flag_turns_a_closed_scenario_open() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "c.toml", &one_op("list", None, 1000, 4));
    let out = dir.path().join("out");
    assert_code(
        &sim.run(&path, &out, &["--rate", "100/s", "--duration", "1s"]),
        0,
    );
    let summary = summary(&out);
    assert_eq!(summary["load"]["model"], "open");
    assert_eq!(count(&summary["ops"]["list"]["requests"]), 100);
}

#[test]
fn under_overload_every_arrival_runs_or_is_dropped_whatever_the_threads() {
    let sim = Sim::start(slow_runs(Duration::from_millis(20)));
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("run", None, 1, 1).replace(
        "[load]\nvus = 1\niterations = 1",
        "[load]\nmodel = \"open\"\nrate = \"1000/s\"\narrival = \"poisson\"\nduration = \"2s\"\nmax_in_flight = 8\nmax_queue = 50",
    );
    let path = scenario(dir.path(), "overload.toml", &text);
    // The arrivals this seeded (seed 1) Poisson schedule plans in 2 s.
    let mut plan = Arrivals::new(
        Schedule::new(&Ramp::fixed(Rate::per_second(1000.0))),
        Arrival::Poisson,
        1,
    );
    let planned = std::iter::from_fn(|| plan.next_offset())
        .take_while(|offset| *offset < Duration::from_secs(2))
        .count() as u64;
    assert!((1800..2200).contains(&planned), "{planned} planned");
    let mut started = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("out-{threads}"));
        assert_code(&sim.run(&path, &out, &["--threads", threads]), 0);
        let summary = summary(&out);
        let runs = count(&summary["ops"]["run"]["requests"]);
        let dropped = count(&summary["load"]["dropped_iterations"]);
        // Every planned arrival runs or is dropped, however late the overloaded pacer is.
        assert_eq!(
            runs + dropped,
            planned,
            "{threads} threads: {runs} + {dropped}"
        );
        started.push(runs as f64);
    }
    // Slots are shared out by load, not by turn: the thread count changes little.
    let ratio = started[1] / started[0];
    assert!(
        (0.7..=1.4).contains(&ratio),
        "started with 2 threads / 1 thread = {ratio}"
    );
}

#[test]
fn a_spent_iteration_budget_ends_the_run_at_once() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    // Open: the second arrival would be a minute away.
    let out = dir.path().join("open");
    let began = Instant::now();
    assert_code(
        &run_flags(
            &sim,
            &out,
            &["--op", "list", "--rate", "1/min", "--iterations", "1"],
        ),
        0,
    );
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(count(&summary(&out)["load"]["iterations"]), 1);
    // Open at 100/s for 100 iterations: the achieved rate is over the time arrivals took.
    let out = dir.path().join("rate");
    assert_code(
        &run_flags(
            &sim,
            &out,
            &["--op", "list", "--rate", "100/s", "--iterations", "100"],
        ),
        0,
    );
    let achieved = summary(&out)["load"]["achieved_rate"].as_f64().unwrap();
    assert!((achieved - 100.0).abs() < 5.0, "{achieved}/s");
    // Closed, ramping over 30 s: users waiting for their turn stop waiting.
    let text = one_op("list", None, 3, 1).replace(
        "vus = 1\n",
        "stages = [{ duration = \"30s\", target = 10 }]\n",
    );
    let path = scenario(dir.path(), "ramp-budget.toml", &text);
    let out = dir.path().join("closed");
    let began = Instant::now();
    assert_code(&sim.run(&path, &out, &[]), 0);
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(count(&summary(&out)["load"]["iterations"]), 3);
}

#[test]
fn model_flags_shape_the_agents_the_run_makes_and_refuse_to_do_nothing() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("made");
    assert_code(
        &run_flags(
            &sim,
            &out,
            &[
                "--op",
                "lifecycle",
                "--model",
                "custom-model",
                "--iterations",
                "2",
            ],
        ),
        0,
    );
    assert_eq!(count(&summary(&out)["ops"]["create"]["ok"]), 2);

    let keep = keep_one_agent(&sim);
    let output = run_flags(
        &sim,
        &dir.path().join("nothing"),
        &[
            "--op",
            "get",
            "--agent-id",
            &keep,
            "--model",
            "x",
            "--iterations",
            "1",
        ],
    );
    assert_code(&output, 2);
    assert!(
        text(&output.stderr).contains("--model would change nothing"),
        "{}",
        text(&output.stderr)
    );

    let ramp = scenario(
        dir.path(),
        "staged.toml",
        &one_op("list", None, 5, 1).replace(
            "vus = 1\n",
            "stages = [{ duration = \"5s\", target = 2 }]\n",
        ),
    );
    let output = agentload()
        .arg("run")
        .arg(&ramp)
        .args(["--duration", "1s"])
        .output()
        .unwrap();
    assert_code(&output, 2);
    assert!(
        text(&output.stderr).contains("stages set the run's length"),
        "{}",
        text(&output.stderr)
    );
}
