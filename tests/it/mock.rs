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
