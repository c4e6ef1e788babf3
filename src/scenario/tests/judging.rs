//! Scenario tests of `[thresholds]` and `[slo]`: what parses, and what can never be measured.

use super::*;

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
