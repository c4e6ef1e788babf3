//! Scenario tests of `[target]`: base URLs, ids, timeouts and the event size cap, from the file
//! and from the flags over it, and that nothing under `[target]` is ever echoed.

use super::*;

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
