//! Scenario parsing and checking: the happy path and each kind of bad input, asserting the
//! position, key and help of every error.

use std::time::Duration;

use super::*;
use crate::model::{TimeoutKind, Timeouts};

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
fn bodies_pass_through_as_json() {
    let text = MINIMAL.replace(
        "op = \"run_stream\"",
        "op = \"run_stream\"\nbody = { messages = [{ role = \"user\", content = \"hi\" }], config = {}, futureField = 1.5, when = 2026-01-01T00:00:00Z }",
    );
    let plan = parse_text(&text).unwrap();
    assert_eq!(
        plan.mix[0].body.as_ref().unwrap(),
        &serde_json::json!({ "messages": [{ "role": "user", "content": "hi" }], "config": {}, "futureField": 1.5, "when": "2026-01-01T00:00:00Z" })
    );
    let raw = MINIMAL.replace("op = \"run_stream\"", "op = \"run\"\nbody_json = '{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"config\": null}'");
    let plan = parse_text(&raw).unwrap();
    assert_eq!(
        plan.mix[0].body.as_ref().unwrap()["config"],
        serde_json::Value::Null
    );
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
fn cross_references_are_checked() {
    let e = error(&MINIMAL.replace(
        "op = \"run_stream\"",
        "op = \"run_stream\"\nagent = \"fsat\"",
    ));
    assert_eq!(e.key.as_deref(), Some("mix[0].agent"));
    assert!(
        e.help.as_deref().unwrap().contains("did you mean \"fast\""),
        "{e}"
    );

    let no_agents = "[load]\nvus = 1\niterations = 3\n[[mix]]\nop = \"get\"\n";
    assert!(error(no_agents).message.contains("needs an agent"));

    let e = error(&MINIMAL.replace(
        "op = \"run_stream\"",
        "op = \"run\"\nbody = { config = {} }",
    ));
    assert!(e.message.contains("`messages`"), "{e}");

    let e = error(&MINIMAL.replace("op = \"run_stream\"", "op = \"list\"\nagent = \"fast\""));
    assert!(e.message.contains("`list` acts on no agent"), "{e}");

    let e = error(&format!(
        "{MINIMAL}\n[[agents]]\nname = \"fast\"\nid = \"x\"\n"
    ));
    assert!(e.message.contains("two agents are named"), "{e}");

    let e = error(&format!(
        "{MINIMAL}\n[thresholds]\n\"run_stream.ttfs.p95\" = \"1500ms\"\n"
    ));
    assert!(e.message.contains("comparison"), "{e}");
    assert_eq!(e.key.as_deref(), Some("thresholds.run_stream.ttfs.p95"));
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

#[test]
fn overrides_replace_the_file_and_real_targets_need_ids() {
    let mut plan = parse_text(MINIMAL).unwrap();
    let overrides = Overrides {
        vus: Some(5),
        iterations: Some(40),
        target: Some("http://127.0.0.1:9/api/v2/".into()),
        team_id: Some(12),
        make_connection_id: Some(3),
        ..Overrides::default()
    };
    plan.apply(&overrides).unwrap();
    assert!(matches!(&plan.load.pacing, Pacing::Closed { vus, .. } if *vus == Ramp::fixed(5)));
    assert_eq!(
        plan.load.stop,
        Stop {
            duration: Some(Duration::from_secs(10)),
            iterations: Some(40)
        }
    );
    assert_eq!(
        plan.target.base_url.as_deref(),
        Some("http://127.0.0.1:9/api/v2")
    );

    let mut plan = parse_text(MINIMAL).unwrap();
    let e = plan
        .apply(&Overrides {
            target: Some("http://127.0.0.1:9".into()),
            ..Overrides::default()
        })
        .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("target.team_id"));

    let mut plan = parse_text(MINIMAL).unwrap();
    let e = plan
        .apply(&Overrides {
            target: Some("http://127.0.0.1:9".into()),
            team_id: Some(1),
            ..Overrides::default()
        })
        .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("target.make_connection_id"));

    let mut plan = parse_text(MINIMAL).unwrap();
    let e = plan
        .apply(&Overrides {
            target: Some("ftp://x".into()),
            ..Overrides::default()
        })
        .unwrap_err();
    assert_eq!(e.origin, "--target");
    let e = parse_text(&format!(
        "[target]\nbase_url = \"https://user:pw@eu1.make.com/api/v2\"\n{MINIMAL}"
    ))
    .unwrap_err();
    assert!(e.message.contains("credentials"), "{e}");
    assert!(!e.to_string().contains("pw@"), "{e}");
}

#[test]
fn thresholds_that_can_never_be_measured_are_refused() {
    let e = error(&format!(
        "{MINIMAL}\n[thresholds]\n\"run.latency.p95\" = \"< 1s\"\n"
    ));
    assert!(e.message.contains("the mix never sends `run`"), "{e}");
    assert_eq!(e.key.as_deref(), Some("thresholds.run.latency.p95"));
    let e = error(&format!(
        "{MINIMAL}\n[thresholds]\n\"run_stream.server_time.p95\" = \"< 1s\"\n"
    ));
    assert!(
        e.message.contains("`run_stream` has no `server_time`"),
        "{e}"
    );
    let lifecycle = MINIMAL.replace("op = \"run_stream\"", "op = \"lifecycle\"");
    parse_text(&format!(
        "{lifecycle}\n[thresholds]\n\"patch.latency.p95\" = \"< 1s\"\n\"errors.rate\" = \"< 1%\"\n"
    ))
    .unwrap();
}

#[test]
fn create_bodies_cannot_hide_agents_from_teardown() {
    let e = error(&MINIMAL.replace(
        "op = \"run_stream\"",
        "op = \"create\"\nbody = { name = \"mine\" }",
    ));
    assert!(e.message.contains("sets `name`"), "{e}");
    let agent = MINIMAL.replace(
        "system_prompt = \"Answer in one sentence.\"",
        "system_prompt = \"x\"\nbody = { teamId = 9 }",
    );
    let e = error(&agent);
    assert!(e.message.contains("sets `teamId`"), "{e}");
    let ok = MINIMAL.replace(
        "op = \"run_stream\"",
        "op = \"lifecycle\"\nbody = { llmConfig = { maxTokens = 5 } }",
    );
    parse_text(&ok).unwrap();
}

#[test]
fn values_without_a_json_form_are_refused() {
    let e = error(&MINIMAL.replace(
        "op = \"run_stream\"",
        "op = \"run_stream\"\nbody = { messages = [1], temperature = nan }",
    ));
    assert!(e.message.contains("no JSON form"), "{e}");
    assert_eq!(e.key.as_deref(), Some("mix[0].body"));
}

#[test]
fn empty_mixes_and_short_simulated_streams_point_at_their_keys() {
    let e = error("mix = []\n[load]\nvus = 1\niterations = 1\n");
    assert_eq!(e.key.as_deref(), Some("mix"));
    assert_eq!(e.position, Some((1, 7)));
    let e = error(&format!(
        "{MINIMAL}\n[simulator.models.m]\nsteps = \"2..4\"\n"
    ));
    assert_eq!(e.key.as_deref(), Some("simulator.models.m.steps"));
    assert!(e.message.contains("at least 3 steps"), "{e}");
}

#[test]
fn lines_under_target_are_never_echoed() {
    let e = error(&format!("[target]\ntoken = \"s3cret-value\"\n{MINIMAL}"));
    assert_eq!(e.key.as_deref(), Some("target.token"));
    assert!(e.snippet.is_none());
    assert!(!e.to_string().contains("s3cret-value"), "{e}");
    let e = error(&format!(
        "[target]\nbase_url = \"https://user:s3cret@eu1.make.com:99999/api/v2\"\n{MINIMAL}"
    ));
    assert!(!e.to_string().contains("s3cret"), "{e}");
    let mut plan = parse_text(MINIMAL).unwrap();
    let e = plan
        .apply(&Overrides {
            target: Some("https://user:s3cret@eu1.make.com:99999/x".into()),
            ..Overrides::default()
        })
        .unwrap_err();
    assert!(!e.to_string().contains("s3cret"), "{e}");
}

#[test]
fn open_loads_parse_with_every_key() {
    let text = MINIMAL.replace(
        "[load]\nvus = 2\nduration = \"10s\"",
        "[load]\nmodel = \"open\"\nrate = \"300/min\"\narrival = \"poisson\"\nduration = \"1m\"\nmax_in_flight = 50\nsaturation = \"drop\"\nmax_queue = 7\nwarmup = \"10s\"\ngrace = \"5s\"",
    );
    let plan = parse_text(&text).unwrap();
    let Pacing::Open {
        rate,
        arrival,
        max_in_flight,
        saturation,
        max_queue,
    } = &plan.load.pacing
    else {
        panic!("open: {:?}", plan.load.pacing);
    };
    assert_eq!(rate.start.as_per_second(), 5.0);
    assert!(rate.stages.is_empty());
    assert_eq!(
        (*arrival, *max_in_flight, *saturation, *max_queue),
        (Arrival::Poisson, 50, Saturation::Drop, 7)
    );
    assert_eq!(plan.load.warmup, Duration::from_secs(10));
    assert_eq!(plan.load.grace, Duration::from_secs(5));
    assert_eq!(
        plan.load.to_string(),
        "open model, 5/s poisson arrivals; at most 50 in flight, then drop; the first 10s are warmup, left out of the summary"
    );
}

#[test]
fn stages_set_the_duration_and_take_the_models_unit() {
    let open = MINIMAL.replace(
        "[load]\nvus = 2\nduration = \"10s\"",
        "[load]\nmodel = \"open\"\nstages = [{ duration = \"30s\", target = \"50/s\" }, { duration = \"1m\", target = \"50/s\" }]",
    );
    let plan = parse_text(&open).unwrap();
    assert_eq!(plan.load.stop.duration, Some(Duration::from_secs(90)));
    let closed = MINIMAL.replace(
        "[load]\nvus = 2\nduration = \"10s\"",
        "[load]\nstages = [{ duration = \"10s\", target = 20 }]",
    );
    let plan = parse_text(&closed).unwrap();
    assert!(
        matches!(&plan.load.pacing, Pacing::Closed { vus, .. } if vus.start == 0 && vus.peak() == 20)
    );

    let e = error(&MINIMAL.replace(
        "[load]\nvus = 2\nduration = \"10s\"",
        "[load]\nstages = [{ duration = \"10s\", target = \"20/s\" }]",
    ));
    assert!(
        e.message.contains("targets a number of virtual users"),
        "{e}"
    );
    assert_eq!(e.key.as_deref(), Some("load.stages[0].target"));
    let e = error(&open.replace(
        "model = \"open\"\n",
        "model = \"open\"\nduration = \"1m\"\n",
    ));
    assert!(
        e.message.contains("`duration` and `stages` are both set"),
        "{e}"
    );
}

#[test]
fn keys_of_the_other_model_and_unitless_rates_are_refused() {
    let e = error(&MINIMAL.replace("vus = 2", "vus = 2\nrate = \"5/s\""));
    assert!(
        e.message.contains("`rate` belongs to the open model"),
        "{e}"
    );
    assert!(
        e.help.as_deref().unwrap().contains("model = \"open\""),
        "{e}"
    );
    let e = error(&MINIMAL.replace(
        "[load]\nvus = 2",
        "[load]\nmodel = \"open\"\nrate = \"5/s\"\nvus = 2",
    ));
    assert!(
        e.message.contains("`vus` belongs to the closed model"),
        "{e}"
    );
    let e = error(&MINIMAL.replace("[load]\nvus = 2", "[load]\nmodel = \"open\"\nrate = \"5\""));
    assert!(e.message.contains("a rate needs a unit"), "{e}");
    assert_eq!(e.key.as_deref(), Some("load.rate"));
    let e = error(&MINIMAL.replace("[load]\nvus = 2", "[load]\nmodel = \"open\""));
    assert!(e.message.contains("needs a `rate`"), "{e}");
    let e = error(&MINIMAL.replace("vus = 2", "vus = 2\nwarmup = \"10s\""));
    assert!(
        e.message.contains("warmup is as long as the whole run"),
        "{e}"
    );
}

#[test]
fn conversations_callbacks_and_retries_parse() {
    let text = MINIMAL.replace(
        "op = \"run_stream\"",
        "op = \"run_stream\"\nturns = 3\ncallback = true\n\n[callback]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://loadgen.example.com:9090/\"\ntimeout = \"5s\"",
    ) + "\n[target.timeout]\ntotal = \"50s\"\n";
    let text = text.replace(
        "[load]",
        "[target]\nretry_after = \"honour\"\nmax_retries = 5\n\n[load]",
    );
    let plan = parse_text(&text).unwrap();
    assert_eq!((plan.mix[0].turns, plan.mix[0].callback), (3, true));
    assert_eq!(
        plan.callback,
        CallbackSettings {
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: Some("https://loadgen.example.com:9090".into()),
            timeout: Duration::from_secs(5),
        }
    );
    assert_eq!(plan.target.retry_after, RetryAfter::Honour);
    assert_eq!(plan.target.max_retries, 5);

    let plain = parse_text(MINIMAL).unwrap();
    assert_eq!((plain.mix[0].turns, plain.mix[0].callback), (1, false));
    assert_eq!(plain.target.retry_after, RetryAfter::Measure);
    assert_eq!(plain.callback, CallbackSettings::default());
}

#[test]
fn conversation_and_callback_mistakes_point_at_their_keys() {
    let with_entry = |extra: &str| MINIMAL.replace("op = \"run_stream\"", extra);
    let e = error(&with_entry("op = \"get\"\nturns = 2"));
    assert_eq!(e.key.as_deref(), Some("mix[0].turns"));
    assert!(e.message.contains("applies to run ops"), "{e}");
    let e = error(&with_entry("op = \"list\"\ncallback = true"));
    assert_eq!(e.key.as_deref(), Some("mix[0].callback"));
    let e = error(&with_entry("op = \"run\"\nturns = 0"));
    assert!(e.message.contains("from 1 to 1000"), "{e}");
    let e = error(&with_entry(
        "op = \"run\"\nturns = 2\nbody = { messages = [{ role = \"user\", content = \"hi\" }], threadId = \"t\" }",
    ));
    assert_eq!(e.key.as_deref(), Some("mix[0].body"));
    assert!(e.help.as_deref().unwrap().contains("threadId"), "{e}");
    // One turn and no callback: the body's own threadId and callbackUrl pass through.
    parse_text(&with_entry(
        "op = \"run\"\nbody = { messages = [{ role = \"user\", content = \"hi\" }], threadId = \"t\", callbackUrl = \"http://x\" }",
    ))
    .unwrap();

    let e = error(&(MINIMAL.to_owned() + "\n[callback]\ntimeout = \"5s\"\n"));
    assert_eq!(e.key.as_deref(), Some("callback"));
    assert!(
        e.help.as_deref().unwrap().contains("callback = true"),
        "{e}"
    );
    let entry = with_entry("op = \"run\"\ncallback = true");
    let e = error(&(entry.clone() + "\n[callback]\nlisten = \"localhost\"\n"));
    assert_eq!(e.key.as_deref(), Some("callback.listen"));
    let e = error(&(entry.clone() + "\n[callback]\npublic_url = \"ftp://x\"\n"));
    assert_eq!(e.key.as_deref(), Some("callback.public_url"));
    let e = error(&(entry + "\n[callback]\ntimeout = \"0s\"\n"));
    assert_eq!(e.key.as_deref(), Some("callback.timeout"));

    let e = error(&MINIMAL.replace("[load]", "[target]\nmax_retries = 2\n\n[load]"));
    assert_eq!(e.key.as_deref(), Some("target.max_retries"));
    assert!(e.help.as_deref().unwrap().contains("honour"), "{e}");
    let e = error(&MINIMAL.replace("[load]", "[target]\nretry_after = \"always\"\n\n[load]"));
    assert_eq!(e.key.as_deref(), Some("target.retry_after"));
}

#[test]
fn callbacks_to_a_remote_target_need_a_reachable_receiver() {
    let text = MINIMAL.replace("op = \"run_stream\"", "op = \"run\"\ncallback = true");
    let remote = Overrides {
        target: Some("https://eu1.make.com/api/v2".into()),
        team_id: Some(1),
        make_connection_id: Some(2),
        ..Overrides::default()
    };
    let mut plan = parse_text(&text).unwrap();
    let e = plan.apply(&remote).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("callback.public_url"));
    assert!(e.help.as_deref().unwrap().contains("public_url"), "{e}");

    let mut plan = parse_text(
        &(text.clone()
            + "\n[callback]\nlisten = \"0.0.0.0:0\"\npublic_url = \"https://lg.example.com\"\n"),
    )
    .unwrap();
    plan.apply(&remote).unwrap();
    let mut local = parse_text(&text).unwrap();
    local
        .apply(&Overrides {
            target: Some("http://127.0.0.1:9/api/v2".into()),
            team_id: Some(1),
            make_connection_id: Some(2),
            ..Overrides::default()
        })
        .unwrap();
}

#[test]
fn timeout_flags_replace_one_kind_each() {
    let mut plan = parse_text(MINIMAL).unwrap();
    plan.apply(&Overrides {
        timeouts: vec![
            (TimeoutKind::FirstStep, Duration::from_secs(2)),
            (TimeoutKind::Total, Duration::from_secs(9)),
            (TimeoutKind::FirstStep, Duration::from_secs(3)),
        ],
        ..Overrides::default()
    })
    .unwrap();
    assert_eq!(
        plan.target.timeouts,
        Timeouts {
            first_step: Duration::from_secs(3),
            total: Duration::from_secs(9),
            ..Timeouts::default()
        }
    );
}

#[test]
fn the_event_size_cap_takes_binary_units_and_a_flag() {
    let plan = parse_text(MINIMAL).unwrap();
    assert_eq!(plan.target.max_event_bytes, 1 << 20);
    assert!(
        plan.to_string().contains("events    1MiB at most"),
        "{plan}"
    );

    let with_cap = MINIMAL.replace("[load]", "[target]\nmax_event_size = \"64KiB\"\n\n[load]");
    let mut plan = parse_text(&with_cap).unwrap();
    assert_eq!(plan.target.max_event_bytes, 64 << 10);
    assert!(
        plan.to_string().contains("events    64KiB at most"),
        "{plan}"
    );
    plan.apply(&Overrides {
        max_event_bytes: Some(300),
        ..Overrides::default()
    })
    .unwrap();
    assert_eq!(plan.target.max_event_bytes, 300);
    assert!(
        plan.to_string().contains("events    300B at most"),
        "{plan}"
    );

    for (value, says) in [
        ("\"0B\"", "zero"),
        ("\"1GiB\"", "256MiB"),
        ("\"1MB\"", "ambiguous"),
        ("\"lots\"", "no number"),
        ("-5", "negative"),
        ("true", "a size such as"),
    ] {
        let e = error(&MINIMAL.replace(
            "[load]",
            &format!("[target]\nmax_event_size = {value}\n\n[load]"),
        ));
        assert_eq!(
            e.key.as_deref(),
            Some("target.max_event_size"),
            "{value}: {e}"
        );
        assert_eq!(e.position.map(|(line, _)| line), Some(8), "{value}: {e}");
        assert!(e.message.contains(says), "{value}: {e}");
    }
}

#[test]
fn slo_tables_parse_for_every_op_and_for_one() {
    let text = format!(
        "{MINIMAL}\n[[mix]]\nop = \"get\"\n\n[slo]\nlatency = \"<= 20s\"\nttfs = \"< 2s\"\n\n[slo.run_stream]\nttfs = \"1s\"\n"
    );
    let plan = parse_text(&text).unwrap();
    let written: Vec<String> = plan
        .objectives
        .list()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        written,
        ["latency <= 20s", "ttfs < 2s", "run_stream.ttfs <= 1s"],
        "in file order"
    );
    let stream = plan.objectives.limits(crate::model::Op::RunStream);
    assert_eq!(
        stream[crate::model::Metric::Ttfs.index()],
        Some(1_000_000),
        "the op's own objective wins"
    );
    assert!(plan.to_string().contains("slo\n  latency <= 20s\n"));

    // --slo replaces the file's objectives as a whole.
    let mut plan = parse_text(&text).unwrap();
    let overrides = Overrides {
        objectives: vec![crate::metrics::slo::Objective::parse_expr("get.latency<=50ms").unwrap()],
        ..Overrides::default()
    };
    plan.apply(&overrides).unwrap();
    assert_eq!(plan.objectives.list().len(), 1);
    assert_eq!(plan.objectives.list()[0].to_string(), "get.latency <= 50ms");
}

#[test]
fn bad_objectives_point_at_their_keys() {
    for (slo, line, key, expect) in [
        ("[slo]\nttfs = \">= 2s\"\n", 15, "slo.ttfs", "upper bound"),
        (
            "[slo]\nttfs = \"<= soon\"\n",
            15,
            "slo.ttfs",
            "not a duration",
        ),
        ("[slo]\nsteps = \"<= 4\"\n", 15, "slo.steps", "can bound"),
        (
            "[slo.get]\nlatency = \"<= 1s\"\n",
            15,
            "slo.get.latency",
            "never sends `get`",
        ),
        (
            "[slo.run]\nlatency = \"<= 1s\"\n",
            15,
            "slo.run.latency",
            "never sends `run`",
        ),
        (
            "[slo.run_stream]\nserver_time = \"<= 1s\"\n",
            15,
            "slo.run_stream.server_time",
            "has no `server_time`",
        ),
        (
            "[slo.runstream]\nttfs = \"<= 1s\"\n",
            15,
            "slo.runstream.ttfs",
            "not an op",
        ),
    ] {
        let text = format!("{MINIMAL}\n{slo}");
        let err = error(&text);
        assert_eq!(err.position.map(|p| p.0), Some(line), "{slo}: {err}");
        assert_eq!(err.key.as_deref(), Some(key), "{slo}: {err}");
        assert!(err.message.contains(expect), "{slo}: {err}");
        assert!(err.help.as_deref().unwrap().contains("README"), "{err}");
    }
    let err = error(&format!("{MINIMAL}\n[slo]\nttfs = 2\n"));
    assert!(err.message.contains("condition"), "{err}");

    // --op replacing the mix can leave an objective with nothing to judge.
    let mut plan = parse_text(&format!("{MINIMAL}\n[slo]\nttfs = \"<= 2s\"\n")).unwrap();
    let overrides = Overrides {
        ops: vec![(MixOp::Get, 1)],
        ..Overrides::default()
    };
    let err = plan.apply(&overrides).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("slo"));
    assert!(err.message.contains("no op of the mix has `ttfs`"), "{err}");
}

#[test]
fn goodput_thresholds_name_an_op_the_mix_sends() {
    let ok = format!(
        "{MINIMAL}\n[thresholds]\n\"goodput.rate\" = \">= 1/s\"\n\"run_stream.goodput.rate\" = \">= 60/min\"\n"
    );
    let plan = parse_text(&ok).unwrap();
    assert_eq!(plan.thresholds[1].limit, 1.0);
    let err = error(&format!(
        "{MINIMAL}\n[thresholds]\n\"run.goodput.rate\" = \">= 1/s\"\n"
    ));
    assert!(err.message.contains("never sends `run`"), "{err}");
}
