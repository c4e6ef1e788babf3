//! Ctrl-C in the middle of a run: exit 130, the partial report written, every agent deleted.

use std::process::Stdio;
use std::time::{Duration, Instant};

use agentload::model::units::Spread;

use crate::util::*;

#[test]
fn an_interrupt_writes_the_report_and_deletes_every_agent() {
    let mut profile = fast_profile();
    // Streams long enough that some are in flight when the interrupt lands.
    profile.ttfs = Spread {
        lo: Duration::from_millis(200),
        hi: Duration::from_millis(400),
    };
    profile.step_gap = Spread::fixed(Duration::from_millis(100));
    let sim = Sim::start(profile);
    let dir = tempfile::tempdir().unwrap();
    let text_ = one_op("run_stream", None, 1_000_000, 4)
        .replace("iterations = 1000000", "duration = \"60s\"")
        + "\n[[mix]]\nop = \"create\"\n";
    let path = scenario(dir.path(), "i.toml", &text_);
    let out = dir.path().join("out");
    let mut child = run_command(&path, &out, &sim.base_url(), TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait until the fixtures exist and ops have created agents of their own.
    let started = Instant::now();
    while sim.state().agent_count() < 4 || sim.state().requests_served() < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the run never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(
            Instant::now() < deadline,
            "the run did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().unwrap();
    assert_eq!(code, Some(130), "stderr:\n{}", text(&output.stderr));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the interrupt stopped the 60 s run early"
    );
    let summary = summary(&out);
    assert!(summary["ops"]["run_stream"]["requests"].as_u64().unwrap() > 0);
    let stream = &summary["ops"]["run_stream"];
    let interrupted = stream["error_classes"]["interrupted"].as_u64().unwrap_or(0);
    assert!(
        interrupted > 0,
        "streams in flight are counted as interrupted: {stream}"
    );
    assert_eq!(
        sim.state().agent_count(),
        0,
        "left behind: {:?}",
        sim.state().agent_names()
    );
    assert!(text(&output.stderr).contains("interrupted"));
}
