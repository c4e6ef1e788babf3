//! `agentload cleanup` after a run killed with SIGKILL (so its teardown never ran): the dry run
//! lists exactly the run's leftovers, `--yes` deletes exactly those, and agents of another run or
//! not made by agentload are left alone.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// Creates an agent named `name` on the simulator directly.
fn create_agent(sim: &Sim, name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let body = serde_json::json!({
            "name": name, "teamId": 1, "makeConnectionId": 1,
            "defaultModel": "m", "systemPrompt": "p",
        });
        let response = reqwest::Client::new()
            .post(format!("{}/ai-agents/v1/agents?teamId=1", sim.base_url()))
            .header("Authorization", format!("Token {TOKEN}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let _: Value = response.json().await.unwrap();
    });
}

fn cleanup(sim: &Sim, extra: &[&str]) -> std::process::Output {
    agentload()
        .args(["cleanup", "--target", &sim.base_url(), "--team-id", "1"])
        .args(extra)
        .env("MAKE_API_TOKEN", TOKEN)
        .output()
        .unwrap()
}

/// The agent names a cleanup's output lists (lines `  <id>  <name>`).
fn listed(output: &std::process::Output) -> Vec<String> {
    let mut names: Vec<String> = text(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .filter_map(|line| line.split_whitespace().nth(1).map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[test]
fn cleanup_deletes_exactly_what_a_killed_run_left() {
    let sim = Sim::start(fast_profile());
    create_agent(&sim, "production-bot");
    create_agent(&sim, "agentload-otherrun-alpha");
    let dir = tempfile::tempdir().unwrap();
    let text_ = one_op("run", Some("*"), 1_000_000, 2)
        .replace("iterations = 1000000", "duration = \"60s\"")
        + "\n[[mix]]\nop = \"create\"\n";
    let path = scenario(dir.path(), "k.toml", &text_);
    let mut child = run_command(&path, &dir.path().join("out"), &sim.base_url(), TOKEN)
        .args(["--run-id", "victim"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // The two fixtures and a few agents made by create ops.
    while sim.state().agent_count() < 2 + 2 + 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the run never got going"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL: no teardown
    child.wait().unwrap();
    // Let a create the server was handling when the client died land.
    std::thread::sleep(Duration::from_millis(300));
    let mut leftovers: Vec<String> = sim
        .state()
        .agent_names()
        .into_iter()
        .filter(|name| name.starts_with("agentload-victim-"))
        .collect();
    leftovers.sort();
    assert!(leftovers.len() >= 5, "{leftovers:?}");
    assert!(leftovers.contains(&"agentload-victim-alpha".to_owned()));

    let dry = cleanup(&sim, &["--run-id", "victim"]);
    assert_code(&dry, 0);
    assert_eq!(listed(&dry), leftovers, "{}", text(&dry.stdout));
    assert!(text(&dry.stdout).contains("dry run: nothing was deleted"));
    assert_eq!(
        sim.state().agent_count(),
        leftovers.len() + 2,
        "nothing deleted"
    );

    let done = cleanup(&sim, &["--run-id", "victim", "--yes"]);
    assert_code(&done, 0);
    assert_eq!(listed(&done), leftovers);
    assert!(text(&done.stdout).contains(&format!("deleted {}", leftovers.len())));
    let mut left = sim.state().agent_names();
    left.sort();
    assert_eq!(left, ["agentload-otherrun-alpha", "production-bot"]);

    let again = cleanup(&sim, &["--prefix", "agentload-", "--yes"]);
    assert_code(&again, 0);
    assert_eq!(listed(&again), ["agentload-otherrun-alpha"]);
    assert_eq!(
        sim.state().agent_names(),
        ["production-bot"],
        "never another's agent"
    );
}

#[test]
fn cleanup_refuses_what_could_touch_other_agents() {
    let sim = Sim::start(fast_profile());
    create_agent(&sim, "production-bot");
    for (args, needle) in [
        (
            vec!["--prefix", "production-"],
            "does not start with agentload-",
        ),
        (vec!["--run-id", "a-b"], "contains '-'"),
        (vec![], "--run-id"),
        (
            vec!["--run-id", "x", "--prefix", "agentload-x-"],
            "cannot be used with",
        ),
    ] {
        let output = cleanup(&sim, &args);
        assert_code(&output, 2);
        assert!(
            text(&output.stderr).contains(needle),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    let no_target = agentload()
        .args(["cleanup", "--team-id", "1", "--run-id", "x"])
        .env("MAKE_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_code(&no_target, 2);
    assert!(text(&no_target.stderr).contains("--target"));
    let no_token = agentload()
        .args([
            "cleanup",
            "--target",
            &sim.base_url(),
            "--team-id",
            "1",
            "--run-id",
            "x",
        ])
        .output()
        .unwrap();
    assert_code(&no_token, 2);
    assert!(text(&no_token.stderr).contains("MAKE_API_TOKEN"));
    let wrong_token = agentload()
        .args([
            "cleanup",
            "--target",
            &sim.base_url(),
            "--team-id",
            "1",
            "--run-id",
            "x",
        ])
        .env("MAKE_API_TOKEN", "not-the-token")
        .output()
        .unwrap();
    assert_code(&wrong_token, 2);
    assert!(
        !text(&wrong_token.stderr).contains("not-the-token"),
        "the token never shows"
    );
    assert_eq!(sim.state().agent_names(), ["production-bot"]);
}
