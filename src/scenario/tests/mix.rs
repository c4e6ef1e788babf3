//! Scenario tests of `[[mix]]` and `[[agents]]`: bodies, cross references, conversations and
//! callbacks, and what each refused entry points at.

use super::*;

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
