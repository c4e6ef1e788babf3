//! Scenario parsing and checking: the happy path and each kind of bad input, asserting the
//! position, key and help of every error.

use std::time::Duration;

use super::*;
use crate::model::{TimeoutKind, Timeouts};

mod judging;
mod load;
mod mix;
mod target;

const MINIMAL: &str = r#"
[[agents]]
name = "fast"
model = "gpt-4o-mini"
system_prompt = "Answer in one sentence."

[load]
vus = 2
duration = "10s"

[[mix]]
op = "run_stream"
"#;

fn parse_text(text: &str) -> Result<Plan, Diagnostic> {
    parse("s.toml", text.as_bytes(), "s")
}

fn error(text: &str) -> Diagnostic {
    parse_text(text).expect_err("the scenario should be rejected")
}

#[test]
fn a_minimal_scenario_gets_defaults() {
    let plan = parse_text(MINIMAL).unwrap();
    assert_eq!(plan.name, "s");
    assert_eq!(plan.target.base_url, None);
    assert_eq!(plan.target.team_id(), 1);
    assert_eq!(plan.target.token_env, "MAKE_API_TOKEN");
    assert_eq!(plan.target.timeouts, Timeouts::default());
    assert_eq!(
        plan.load.stop,
        Stop {
            duration: Some(Duration::from_secs(10)),
            iterations: None
        }
    );
    assert_eq!(plan.load.grace, Duration::from_secs(30));
    assert_eq!(
        plan.load.pacing,
        Pacing::Closed {
            vus: Ramp::fixed(2),
            think_time: None,
            max_rate: None
        }
    );
    assert_eq!(plan.load.warmup, Duration::ZERO);
    assert_eq!(plan.mix.len(), 1);
    assert_eq!(plan.mix[0].agents, AgentChoice::All);
    assert_eq!(plan.mix[0].weight, 1);
}

#[test]
fn the_smoke_scenario_is_valid_and_exercises_every_op() {
    let plan = load(std::path::Path::new("scenarios/smoke.toml")).unwrap();
    assert!(plan.fixtures.len() >= 2);
    assert_eq!(plan.target.base_url, None);
    let ops: Vec<&str> = plan.mix.iter().map(|m| m.op.name()).collect();
    for op in [
        "list",
        "get",
        "create",
        "patch",
        "delete",
        "lifecycle",
        "run",
        "run_stream",
    ] {
        assert!(ops.contains(&op), "smoke.toml lacks {op}");
    }
}

#[test]
fn unknown_keys_are_errors_with_a_suggestion() {
    let e = error(&MINIMAL.replace("duration = \"10s\"", "duraton = \"10s\""));
    assert_eq!(e.position, Some((9, 1)));
    assert_eq!(e.key.as_deref(), Some("load.duraton"));
    assert!(
        e.message.contains("unknown field `duraton`"),
        "{}",
        e.message
    );
    assert!(
        e.help
            .as_deref()
            .unwrap()
            .starts_with("did you mean `duration`?"),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("s.toml:9:1: unknown field `duraton`"),
        "{e}"
    );
}

#[test]
fn syntax_errors_point_at_the_spot() {
    let e = error("[load]\nvus = = 2\n");
    assert_eq!(e.position.map(|p| p.0), Some(2));
}

#[test]
fn wrong_types_say_what_to_write() {
    let e = error(&MINIMAL.replace("vus = 2", "vus = \"two\""));
    assert_eq!(e.position, Some((8, 7)));
    assert_eq!(e.key.as_deref(), Some("load.vus"));
    assert_eq!(
        e.help.as_deref(),
        Some("use a whole number, without quotes")
    );
}

#[test]
fn missing_required_keys_are_named() {
    let e = error("[[mix]]\nop = \"list\"\n");
    assert!(e.message.contains("missing field `load`"), "{e}");
    assert!(e.position.is_some());
    let e = error("[load]\nvus = 1\n[[mix]]\nop = \"list\"\n");
    assert!(e.message.contains("neither how long"), "{e}");
    assert_eq!(e.key.as_deref(), Some("load"));
}

#[test]
fn bad_values_are_located() {
    let e = error(&MINIMAL.replace("duration = \"10s\"", "duration = \"10\""));
    assert_eq!(e.position, Some((9, 12)));
    assert_eq!(e.key.as_deref(), Some("load.duration"));
    assert!(e.message.contains("\"500ms\""), "{e}");

    let e = error(&MINIMAL.replace("vus = 2", "vus = 0"));
    assert!(e.message.contains("load.vus must be"), "{e}");
    assert_eq!(e.position, Some((8, 7)));

    let e = error(&MINIMAL.replace("op = \"run_stream\"", "op = \"runstream\""));
    assert_eq!(e.key.as_deref(), Some("mix[0].op"));
    assert!(e.help.as_deref().unwrap().contains("\"run_stream\""), "{e}");
}

#[test]
fn empty_and_binary_files_are_refused() {
    let e = parse("e.toml", b"  \n", "e").unwrap_err();
    assert!(e.message.contains("empty"), "{e}");
    assert_eq!(e.position, Some((1, 1)));
    let e = parse("b.toml", b"name = 1\n\x00\x01\x02", "b").unwrap_err();
    assert!(e.message.contains("not a text file"), "{e}");
    assert_eq!(e.position, Some((2, 1)));
    let e = parse("b.toml", b"a\xff\xfe", "b").unwrap_err();
    assert!(e.message.contains("invalid UTF-8 at byte 1"), "{e}");
    let e = load(std::path::Path::new("no/such/file.toml")).unwrap_err();
    assert!(e.message.contains("cannot read"), "{e}");
    assert!(e.help.as_deref().unwrap().contains("check the path"));
}
