//! The simulator's faults seen through the harness: each fault, set in a scenario's
//! `[simulator.faults]`, ends up as the exact error class and count in summary.json; the
//! rate limit refuses exactly what is over it; callbacks reach a receiver on loopback; later
//! turns of a conversation are slower; and bad fault keys are refused at their position.

use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::util::*;

/// `agentload run SCENARIO --quiet --out OUT`: no target, so the embedded simulator.
fn run_embedded(scenario: &Path, out: &Path) -> Output {
    agentload()
        .args(["run", scenario.to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

/// One agent per model, one op over all of them, one virtual user (so requests reach the
/// simulator in a fixed order), a fast fixed simulator profile, and `extra` appended.
fn scenario_text(op: &str, models: &[&str], iterations: u32, extra: &str) -> String {
    let mut text = format!(
        r#"name = "faults-{op}"
[target]
timeout = {{ connect = "5s", first_step = "5s", idle = "5s", total = "20s" }}

[load]
vus = 1
iterations = {iterations}

[[mix]]
op = "{op}"
"#
    );
    for (i, model) in models.iter().enumerate() {
        text += &format!(
            "\n[[agents]]\nname = \"agent{i}\"\nmodel = \"{model}\"\nsystem_prompt = \"Be brief.\"\n"
        );
    }
    text += r#"
[simulator]
seed = 3
ttfs = "5ms"
step_gap = "2ms"
steps = 4
run_time = "5ms"
"#;
    text + extra
}

/// Runs `text` on the embedded simulator; the run must pass (no thresholds fail on errors).
fn run_text(name: &str, text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), &format!("{name}.toml"), text);
    let out = dir.path().join("out");
    let output = run_embedded(&path, &out);
    assert_code(&output, 0);
    summary(&out)
}

/// `error_classes` of `op`, and its requests and ok counts.
fn outcome(summary: &Value, op: &str) -> (Value, u64, u64) {
    let stats = &summary["ops"][op];
    (
        stats["error_classes"].clone(),
        stats["requests"].as_u64().unwrap(),
        stats["ok"].as_u64().unwrap(),
    )
}

#[test]
fn injected_statuses_are_counted_as_http_classes() {
    for (status, class) in [
        ("429", "http_429"),
        ("503", "http_503"),
        ("500", "http_500"),
    ] {
        let faults = format!(
            "[simulator.faults]\nstatus = {{ {status} = \"100%\" }}\nendpoints = [\"run_stream\"]\n"
        );
        let summary = run_text(class, &scenario_text("run_stream", &["m"], 5, &faults));
        assert_eq!(
            outcome(&summary, "run_stream"),
            (json!({ class: 5 }), 5, 0),
            "{status}"
        );
        assert_eq!(summary["errors"], json!({ class: 5 }));
    }
}

#[test]
fn seeded_statuses_hit_the_same_requests_every_time() {
    let faults =
        "[simulator.faults]\nstatus = { 429 = \"20%\", 503 = \"10%\" }\nendpoints = [\"run\"]\n";
    let text = scenario_text("run", &["m"], 40, faults);
    let first = run_text("seeded", &text);
    let (classes, requests, ok) = outcome(&first, "run");
    // Seed 3, requests 1..=40 of the simulator (0 creates the agent): what these draws give.
    assert_eq!(classes, json!({ "http_429": 7, "http_503": 3 }));
    assert_eq!((requests, ok), (40, 30));
    let again = run_text("seeded", &text);
    assert_eq!(outcome(&again, "run"), (classes, requests, ok));

    let reseeded = run_text("reseeded", &text.replace("seed = 3", "seed = 4"));
    assert_ne!(outcome(&reseeded, "run").0, outcome(&first, "run").0);
}

#[test]
fn the_rate_limit_refuses_exactly_the_requests_over_it() {
    let faults = "[simulator.faults]\nrate_limit = \"5/min\"\nendpoints = [\"run\"]\n";
    let summary = run_text("limited", &scenario_text("run", &["m"], 12, faults));
    assert_eq!(
        outcome(&summary, "run"),
        (json!({ "http_429": 7 }), 12, 5),
        "5 pass, the other 7 of the minute get 429"
    );
}

#[test]
fn a_stream_cut_after_two_steps_is_stream_cut() {
    let faults = "[simulator.faults]\ncut_after = \"2\"\n";
    let summary = run_text("cut", &scenario_text("run_stream", &["m"], 4, faults));
    assert_eq!(
        outcome(&summary, "run_stream"),
        (json!({ "stream_cut": 4 }), 4, 0)
    );
}

#[test]
fn a_stall_before_the_first_step_is_timeout_first_step() {
    let faults = "[simulator.faults]\nstall_first = \"2s\"\n";
    let text = scenario_text("run_stream", &["m"], 3, faults)
        .replace("first_step = \"5s\"", "first_step = \"300ms\"");
    let started = std::time::Instant::now();
    let summary = run_text("stall-first", &text);
    assert_eq!(
        outcome(&summary, "run_stream"),
        (json!({ "timeout_first_step": 3 }), 3, 0)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_stall_between_steps_is_timeout_idle() {
    let faults = "[simulator.faults]\nstall_between = \"2s\"\n";
    let text =
        scenario_text("run_stream", &["m"], 3, faults).replace("idle = \"5s\"", "idle = \"300ms\"");
    let summary = run_text("stall-between", &text);
    assert_eq!(
        outcome(&summary, "run_stream"),
        (json!({ "timeout_idle": 3 }), 3, 0)
    );
}

#[test]
fn a_malformed_step_is_decode() {
    let faults = "[simulator.faults]\nmalformed = \"100%\"\n";
    let summary = run_text("malformed", &scenario_text("run_stream", &["m"], 4, faults));
    assert_eq!(
        outcome(&summary, "run_stream"),
        (json!({ "decode": 4 }), 4, 0)
    );
}

#[test]
fn a_wrong_content_type_is_sse_protocol() {
    let faults = "[simulator.faults]\nwrong_content_type = \"100%\"\n";
    let summary = run_text(
        "content-type",
        &scenario_text("run_stream", &["m"], 4, faults),
    );
    assert_eq!(
        outcome(&summary, "run_stream"),
        (json!({ "sse_protocol": 4 }), 4, 0)
    );
}

#[test]
fn a_model_s_own_faults_hit_only_its_agents() {
    let faults = "[simulator.models.\"flaky\".faults]\ncut_after = \"1\"\n";
    let text = scenario_text("run_stream", &["steady", "flaky"], 6, faults);
    let summary = run_text("per-model", &text);
    let variant = |name: &str| {
        let stats = &summary["variants"][name]["run_stream"];
        (
            stats["error_classes"].clone(),
            stats["requests"].as_u64().unwrap(),
            stats["ok"].as_u64().unwrap(),
        )
    };
    assert_eq!(variant("agent0"), (json!({}), 3, 3));
    assert_eq!(variant("agent1"), (json!({ "stream_cut": 3 }), 3, 0));
}

#[test]
fn later_turns_of_a_client_chosen_thread_are_slower() {
    let text = scenario_text("run_stream", &["m"], 4, "ttfs_per_turn = \"60ms\"\n")
        .replace("ttfs = \"5ms\"", "ttfs = \"20ms\"")
        .replace(
            "op = \"run_stream\"\n",
            "op = \"run_stream\"\nbody = { messages = [{ role = \"user\", content = \"Go on.\" }], threadId = \"conversation-1\" }\n",
        );
    let summary = run_text("turns", &text);
    let ttfs = &summary["ops"]["run_stream"]["metrics"]["ttfs"];
    assert_eq!(ttfs["count"], 4);
    let stat = |name: &str| ttfs[name].as_f64().unwrap();
    // Turn k waits 20 ms + (k - 1) x 60 ms: 20, 80, 140 and 200 ms, 110 ms on average.
    assert!(stat("min") >= 20.0, "turn 1: {ttfs}");
    assert!(stat("max") >= 200.0, "turn 4 pays three turns: {ttfs}");
    assert!(
        stat("mean") >= 110.0,
        "each turn pays for the ones before: {ttfs}"
    );
}

/// A receiver of callbacks on 127.0.0.1:0 with its own runtime: the bodies POSTed to it.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<(String, Value)>>>,
    _runtime: tokio::runtime::Runtime,
}

fn receiver() -> Receiver {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let bodies: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let seen = bodies.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let seen = seen.clone();
                async move {
                    let content_type = headers["content-type"].to_str().unwrap().to_owned();
                    seen.lock().unwrap().push((content_type, body));
                    axum::http::StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    runtime.spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Receiver {
        url,
        bodies,
        _runtime: runtime,
    }
}

fn callback_scenario(receiver: &Receiver, extra: &str) -> String {
    let body = format!(
        "body = {{ messages = [{{ role = \"user\", content = \"Call me back.\" }}], callbackUrl = \"{}\" }}\n",
        receiver.url
    );
    scenario_text("run", &["m"], 3, extra)
        .replace("op = \"run\"\n", &format!("op = \"run\"\n{body}"))
        + &format!("\n[[mix]]\nop = \"run_stream\"\n{body}")
}

#[test]
fn the_simulator_posts_each_run_s_result_to_its_callback_url() {
    let receiver = receiver();
    let text = callback_scenario(&receiver, "").replace("iterations = 3", "iterations = 6");
    let summary = run_text("callbacks", &text);
    let runs = summary["ops"]["run"]["ok"].as_u64().unwrap();
    let streams = summary["ops"]["run_stream"]["ok"].as_u64().unwrap();
    assert_eq!(runs + streams, 6);
    let bodies = receiver.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 6, "one callback per run: {bodies:?}");
    for (content_type, body) in &bodies {
        assert_eq!(content_type, "application/json");
        assert!(body["response"].as_str().unwrap().contains("Call me back."));
        assert!(body["threadId"].is_string() && body["executionTimeMs"].is_u64());
        assert!(!body["executionSteps"].as_array().unwrap().is_empty());
    }
}

#[test]
fn dropped_callbacks_never_arrive() {
    let receiver = receiver();
    let text = callback_scenario(&receiver, "[simulator.faults]\ncallback_drop = \"100%\"\n");
    let summary = run_text("dropped", &text);
    assert_eq!(summary["errors"], json!({}), "the runs themselves succeed");
    assert!(receiver.bodies.lock().unwrap().is_empty());
}

#[test]
fn fault_keys_are_read_into_the_plan() {
    let text = scenario_text(
        "run_stream",
        &["m"],
        1,
        r#"ttfs_per_turn = "100ms"

[simulator.faults]
status = { 503 = "1%", 429 = "5%" }
rate_limit = 60
endpoints = ["run", "run_stream"]
cut_after = "2..3@10%"
stall_first = "5s@1%"
stall_between = "1s..2s@0.5%"
malformed = 0.01
wrong_content_type = "2%"
callback_drop = "50%"

[simulator.models."flaky"]
ttfs = "1s"

[simulator.models."flaky".faults]
cut_after = "1"
"#,
    );
    let plan = agentload::scenario::parse("s.toml", text.as_bytes(), "s").unwrap();
    let sim = &plan.simulator;
    assert_eq!(
        sim.faults.to_string(),
        "status 429=5% 503=1%, rate_limit 60/min, on run,run_stream"
    );
    let profile = &sim.default_profile;
    assert_eq!(profile.ttfs_per_turn, std::time::Duration::from_millis(100));
    assert_eq!(
        profile.faults.to_string(),
        "cut_after 2..3@10%, stall_first 5s@1%, stall_between 1s..2s@0.5%, malformed 1%, wrong_content_type 2%, callback_drop 50%"
    );
    let flaky = &sim.models["flaky"];
    assert_eq!(flaky.ttfs_per_turn, profile.ttfs_per_turn);
    assert_eq!(
        flaky.faults.to_string(),
        "cut_after 1@100%, stall_first 5s@1%, stall_between 1s..2s@0.5%, malformed 1%, wrong_content_type 2%, callback_drop 50%",
        "the model's keys over the defaults"
    );
}

/// The diagnostic for a scenario whose `[simulator]` ends with `tail`.
fn refused(tail: &str) -> agentload::scenario::Diagnostic {
    let text = scenario_text("run_stream", &["m"], 1, tail);
    agentload::scenario::parse("s.toml", text.as_bytes(), "s").unwrap_err()
}

#[test]
fn bad_fault_keys_are_refused_where_they_are_written() {
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "[simulator.faults]\ncut_afer = \"2\"\n",
            "simulator.faults.cut_afer",
            "unknown field `cut_afer`",
            "did you mean `cut_after`?",
        ),
        (
            "[simulator.faults]\nstatus = { 200 = \"5%\" }\n",
            "simulator.faults.status.200",
            "\"200\" is not an error status",
            "status = { 429 = \"5%\", 503 = \"1%\" }",
        ),
        (
            "[simulator.faults]\nstatus = { 429 = \"60%\", 503 = \"50%\" }\n",
            "simulator.faults.status",
            "add up to 110%",
            "one status at most",
        ),
        (
            "[simulator.faults]\nstatus = { 429 = \"5\" }\n",
            "simulator.faults.status.429",
            "invalid probability \"5\"",
            "",
        ),
        (
            "[simulator.faults]\nendpoints = [\"run\", \"run_strem\"]\n",
            "simulator.faults.endpoints[1]",
            "\"run_strem\" is not an endpoint",
            "did you mean \"run_stream\"?",
        ),
        (
            "[simulator.faults]\nrate_limit = \"5/s\"\n",
            "simulator.faults.rate_limit",
            "the limit is per minute",
            "",
        ),
        (
            "[simulator.faults]\nstall_first = \"5@10%\"\n",
            "simulator.faults.stall_first",
            "DURATION[@PROBABILITY]",
            "",
        ),
        (
            "[simulator.faults]\nmalformed = \"150%\"\n",
            "simulator.faults.malformed",
            "between 0% and 100%",
            "",
        ),
        (
            "[simulator.models.m.faults]\nrate_limit = 60\n",
            "simulator.models.m.faults.rate_limit",
            "apply to every request, not to one model's",
            "move the key to [simulator.faults]",
        ),
    ];
    for (tail, key, message, help) in cases {
        let diagnostic = refused(tail);
        assert_eq!(diagnostic.key.as_deref(), Some(key), "{diagnostic}");
        assert!(diagnostic.message.contains(message), "{diagnostic}");
        assert!(
            diagnostic.help.as_deref().unwrap_or("").contains(help),
            "{diagnostic}"
        );
        assert!(diagnostic.position.is_some(), "{diagnostic}");
    }
}

#[test]
fn validate_refuses_a_bad_fault_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let source = scenario_text(
        "run",
        &["m"],
        1,
        "[simulator.faults]\ncut_after = \"often\"\n",
    );
    let line = source
        .lines()
        .position(|l| l.starts_with("cut_after"))
        .unwrap()
        + 1;
    let path = scenario(dir.path(), "bad.toml", &source);
    let output = agentload().arg("validate").arg(&path).output().unwrap();
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("error: {}:{line}:", path.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("key:  simulator.faults.cut_after"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
