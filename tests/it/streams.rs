//! The SSE event-size cap end to end: set by `[target] max_event_size` or `--max-event-size`,
//! shown by `validate`, refused at its key or flag when out of range, and enforced against the
//! simulator: a step larger than the cap fails its stream as `sse_protocol`, with a message that
//! names the cap, while a cap above the step lets every stream through.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::util::*;

/// A system prompt of 4000 bytes: the simulator echoes it in the first step, so that step's
/// event is a little over 4 KiB.
fn long_prompt() -> String {
    "Answer briefly. ".repeat(250)
}

/// Five streams on the embedded simulator, one agent with the long prompt, `target_extra`
/// appended to `[target]`.
fn scenario_text(target_extra: &str) -> String {
    format!(
        r#"name = "event-cap"
[target]
timeout = {{ first_step = "5s", idle = "5s", total = "20s" }}
{target_extra}

[[agents]]
name = "verbose"
model = "gpt-4o-mini"
system_prompt = "{}"

[load]
vus = 1
iterations = 5

[[mix]]
op = "run_stream"

[simulator]
ttfs = "5ms"
step_gap = "2ms"
steps = 4
"#,
        long_prompt()
    )
}

fn run_embedded(scenario: &Path, out: &Path, extra: &[&str]) -> Output {
    agentload()
        .args(["run", scenario.to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// Runs `text` with `extra` flags; the run must exit 0 (no thresholds). Returns run_stream's
/// stats.
fn run_stream_stats(text: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "cap.toml", text);
    let out = dir.path().join("out");
    let output = run_embedded(&path, &out, extra);
    assert_code(&output, 0);
    summary(&out)["ops"]["run_stream"].clone()
}

#[test]
fn an_event_over_the_cap_fails_its_stream_as_sse_protocol_naming_the_cap() {
    let stats = run_stream_stats(&scenario_text("max_event_size = \"2KiB\""), &[]);
    assert_eq!(stats["requests"], 5);
    assert_eq!(stats["ok"], 0);
    assert_eq!(stats["error_classes"], json!({ "sse_protocol": 5 }));
    let messages = &stats["error_messages"]["sse_protocol"];
    assert_eq!(
        messages,
        &json!([
            "an event grew beyond max_event_size = 2KiB (2048 bytes) without ending; raise [target] max_event_size (or --max-event-size), or check the server's framing"
        ]),
        "{stats}"
    );

    // The same streams under a cap above the step: every one succeeds, all steps counted.
    let stats = run_stream_stats(&scenario_text("max_event_size = \"8KiB\""), &[]);
    assert_eq!(
        (stats["requests"].as_u64(), stats["ok"].as_u64()),
        (Some(5), Some(5)),
        "{stats}"
    );
    assert_eq!(stats["error_classes"], json!({}));
    assert_eq!(stats["metrics"]["steps"]["max"], 4.0, "{stats}");
}

#[test]
fn the_flag_replaces_the_scenarios_cap() {
    // The file's cap would pass; the flag's fails the first step.
    let stats = run_stream_stats(
        &scenario_text("max_event_size = \"8KiB\""),
        &["--max-event-size", "3000B"],
    );
    assert_eq!(
        stats["error_classes"],
        json!({ "sse_protocol": 5 }),
        "{stats}"
    );
    let message = stats["error_messages"]["sse_protocol"][0].as_str().unwrap();
    assert!(
        message.contains("max_event_size = 3000B (3000 bytes)"),
        "{message}"
    );
    // And the other way round: the default 1 MiB would pass, a flag of 1 KiB does not.
    let stats = run_stream_stats(&scenario_text(""), &["--max-event-size", "1KiB"]);
    assert_eq!(
        stats["error_classes"],
        json!({ "sse_protocol": 5 }),
        "{stats}"
    );
}

#[test]
fn validate_shows_the_cap_and_bad_caps_exit_2_at_their_key_or_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "cap.toml",
        &scenario_text("max_event_size = \"64KiB\""),
    );
    let output = agentload()
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        text(&output.stdout).contains("events    64KiB at most (max_event_size)"),
        "{}",
        text(&output.stdout)
    );

    let bad = scenario(
        dir.path(),
        "bad.toml",
        &scenario_text("max_event_size = \"0KiB\""),
    );
    let output = agentload()
        .args(["validate", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("bad.toml:4:18:"), "{stderr}");
    assert!(stderr.contains("is zero"), "{stderr}");
    assert!(stderr.contains("key:  target.max_event_size"), "{stderr}");

    let out = dir.path().join("out");
    let output = run_embedded(&path, &out, &["--max-event-size", "2GiB"]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--max-event-size"), "{stderr}");
    assert!(stderr.contains("256MiB"), "{stderr}");
    assert!(!out.exists(), "nothing ran");
}
