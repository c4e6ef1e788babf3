//! `agentload mock` as a standalone server, driven by `agentload run --target`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::util::*;

#[test]
fn mock_serves_the_api_that_run_drives() {
    let mut mock = agentload()
        .args([
            "mock",
            "--addr",
            "127.0.0.1:0",
            "--token",
            "mock-token",
            "--ttfs",
            "5ms",
            "--step-gap",
            "1ms",
            "--steps",
            "3",
            "--run-time",
            "5ms",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(mock.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("agentload mock listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/api/v2"),
        "{url}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "m.toml",
        &(one_op("run_stream", None, 4, 2) + "[[mix]]\nop = \"lifecycle\"\n"),
    );
    let out = dir.path().join("out");
    let output = run_command(&path, &out, &url, "mock-token")
        .output()
        .unwrap();
    let _ = mock.kill();
    let _ = mock.wait();
    assert_code(&output, 0);
    let summary = summary(&out);
    assert_eq!(summary["load"]["iterations"], 4);
    if let Some(stream) = summary["ops"].get("run_stream") {
        assert_eq!(stream["metrics"]["steps"]["max"], 3.0);
    }
    assert_eq!(summary["errors"], serde_json::json!({}));
}

/// `agentload mock --addr 127.0.0.1:0 --token mock-token FLAGS`, with its banner lines up to
/// "press Ctrl-C to stop".
fn spawn_mock(flags: &[&str]) -> (std::process::Child, Vec<String>) {
    let mut mock = agentload()
        .args(["mock", "--addr", "127.0.0.1:0", "--token", "mock-token"])
        .args(flags)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(mock.stdout.take().unwrap());
    let mut banner = Vec::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let line = line.trim_end().to_owned();
        let last = line.starts_with("press Ctrl-C");
        banner.push(line);
        if last {
            break;
        }
    }
    (mock, banner)
}

#[test]
fn mock_fault_flags_reach_the_harness_as_error_classes() {
    let (mut mock, banner) = spawn_mock(&[
        "--ttfs",
        "5ms",
        "--step-gap",
        "1ms",
        "--steps",
        "4",
        "--run-time",
        "5ms",
        "--status",
        "503=100%",
        "--fault-endpoints",
        "run",
        "--cut-after",
        "1",
    ]);
    let url = banner[0]
        .strip_prefix("agentload mock listening on ")
        .unwrap_or_else(|| panic!("{banner:?}"))
        .to_owned();
    assert_eq!(
        banner[1], "faults: status 503=100%, on run; cut_after 1@100%",
        "{banner:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut outcomes = Vec::new();
    for op in ["run", "run_stream"] {
        let path = scenario(
            dir.path(),
            &format!("{op}.toml"),
            &one_op(op, Some("alpha"), 4, 1),
        );
        let out = dir.path().join(format!("out-{op}"));
        let output = run_command(&path, &out, &url, "mock-token")
            .output()
            .unwrap();
        assert_code(&output, 0);
        outcomes.push(summary(&out)["ops"][op]["error_classes"].clone());
    }
    let _ = mock.kill();
    let _ = mock.wait();
    assert_eq!(
        outcomes,
        [
            serde_json::json!({ "http_503": 4 }),
            serde_json::json!({ "stream_cut": 4 })
        ]
    );
}

#[test]
fn bad_mock_fault_flags_exit_2_naming_the_flag() {
    for (flags, expect) in [
        (
            vec!["--status", "429=60%", "--status", "503=60%"],
            "error: --status: the status probabilities add up to 120%, more than 100%",
        ),
        (vec!["--cut-after", "often"], "--cut-after"),
        (vec!["--rate-limit", "10/s"], "the limit is per minute"),
        (
            vec!["--fault-endpoints", "runs"],
            "\"runs\" is not an endpoint",
        ),
    ] {
        let output = agentload()
            .args(["mock", "--addr", "127.0.0.1:0", "--token", "t"])
            .args(&flags)
            .output()
            .unwrap();
        assert_code(&output, 2);
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expect), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
