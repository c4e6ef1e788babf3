//! `summary.json` from a real run validates against the checked-in JSON Schema, and the schema
//! is strict enough to reject a broken one.

use serde_json::Value;

use crate::util::*;

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("../../src/report/summary.v1.schema.json")).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is valid JSON Schema")
}

#[test]
fn real_output_validates_against_the_schema() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text_ = one_op("run_stream", None, 30, 3)
        + "[[mix]]\nop = \"run\"\n[[mix]]\nop = \"list\"\n[[mix]]\nop = \"lifecycle\"\n[[mix]]\nop = \"delete\"\n\
           [thresholds]\n\"errors.rate\" = \"< 1%\"\n\"alpha:run.latency.p99\" = \"< 10s\"\n";
    let path = scenario(dir.path(), "s.toml", &text_);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);
    let validator = validator();
    let errors: Vec<String> = validator
        .iter_errors(&summary)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(summary["variants"].as_object().unwrap().len() == 2);
    assert_eq!(summary["thresholds"].as_array().unwrap().len(), 2);

    let mut broken = summary.clone();
    broken.as_object_mut().unwrap().remove("ops");
    assert!(
        !validator.is_valid(&broken),
        "a summary without ops is rejected"
    );
    let mut broken = summary.clone();
    broken["ops"]["run"]["metrics"]["latency"]["p95"] = Value::from("fast");
    assert!(
        !validator.is_valid(&broken),
        "a stat that is not a number is rejected"
    );
    let mut broken = summary;
    broken["target"] = Value::from("https://user:secret@eu1.make.com/api/v2");
    assert!(
        !validator.is_valid(&broken),
        "credentials in the target are rejected"
    );
}

#[test]
fn an_interrupted_or_failed_setup_summary_validates_too() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "s.toml", &one_op("get", None, 3, 1));
    let out = dir.path().join("out");
    let output = run_command(&path, &out, &sim.base_url(), "wrong")
        .output()
        .unwrap();
    assert_code(&output, 2);
    assert!(validator().is_valid(&summary(&out)));
}
