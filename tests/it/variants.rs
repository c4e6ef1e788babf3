//! Comparing models and prompts end to end: a `[variants]` matrix against the simulator with a
//! fast and a slow model profile. The slower model ranks last with a significant difference,
//! every variant gets its fair share of the same arrivals, and every matrix agent is created
//! and deleted.

use std::time::Duration;

use agentload::model::units::Spread;
use agentload::sim::{Profile, SimConfig};
use serde_json::Value;

use crate::util::*;

const FAST: [&str; 2] = ["fast-model/p1", "fast-model/p2"];
const SLOW: [&str; 2] = ["slow-model/p1", "slow-model/p2"];

/// Two models: the first step after ~100 ms for one, ~250 ms for the other.
fn two_models() -> Sim {
    let ms = Duration::from_millis;
    let profile = |ttfs: u64| Profile {
        ttfs: Spread {
            lo: ms(ttfs - 10),
            hi: ms(ttfs + 10),
        },
        step_gap: Spread {
            lo: ms(5),
            hi: ms(10),
        },
        steps: Spread { lo: 3, hi: 4 },
        ..Profile::default()
    };
    let mut config = SimConfig::new(TOKEN);
    config.seed = 3;
    config.models.insert("fast-model".into(), profile(100));
    config.models.insert("slow-model".into(), profile(250));
    Sim::start_config(config)
}

fn matrix(load: &str) -> String {
    format!(
        r#"name = "it-variants"
[target]
make_connection_id = 5
timeout = {{ total = "10s" }}

[variants]
models = ["fast-model", "slow-model"]
system_prompts = ["Be brief.", "Be thorough."]

[load]
{load}

[[mix]]
op = "run_stream"
"#
    )
}

fn requests(summary: &Value, variant: &str) -> u64 {
    summary["variants"][variant]["run_stream"]["requests"]
        .as_u64()
        .unwrap_or_else(|| {
            panic!(
                "no run_stream requests for {variant}: {}",
                summary["variants"]
            )
        })
}

/// Every variant of the matrix sent requests, without one error (an agent that was never
/// created would answer 404), and their counts are at most `bound` apart.
fn assert_balanced(summary: &Value, bound: u64) -> Vec<u64> {
    let counts: Vec<u64> = FAST
        .iter()
        .chain(&SLOW)
        .map(|variant| {
            let errors = &summary["variants"][*variant]["run_stream"]["errors"];
            assert_eq!(errors, 0, "{variant}: {}", summary["variants"][*variant]);
            requests(summary, variant)
        })
        .collect();
    let spread = counts.iter().max().unwrap() - counts.iter().min().unwrap();
    assert!(spread <= bound, "per-variant counts {counts:?}");
    assert_eq!(
        summary["variants"].as_object().unwrap().len(),
        4,
        "{}",
        summary["variants"]
    );
    counts
}

#[test]
fn the_slower_model_ranks_last_with_a_significant_difference() {
    let sim = two_models();
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "v.toml",
        &matrix("model = \"open\"\nrate = \"40/s\"\narrival = \"poisson\"\nduration = \"3s\""),
    );
    let out = dir.path().join("out");
    let output = sim.run(&path, &out, &["--threads", "2"]);
    assert_code(&output, 0);
    assert_eq!(
        sim.state().agent_count(),
        0,
        "every matrix agent is deleted: {:?}",
        sim.state().agent_names()
    );
    let summary = summary(&out);
    // One counter per mix entry hands the variants every 4th arrival, whatever the worker.
    let counts = assert_balanced(&summary, 1);
    assert!(counts.iter().sum::<u64>() >= 80, "{counts:?}");

    let ranking = &summary["ranking"]["run_stream"];
    assert_eq!(ranking["metric"], "ttfs", "{ranking}");
    let order: Vec<&str> = ranking["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["variant"].as_str().unwrap())
        .collect();
    assert_eq!(order.len(), 4);
    for fast in FAST {
        assert!(order[..2].contains(&fast), "fast models first: {order:?}");
    }
    for slow in SLOW {
        assert!(order[2..].contains(&slow), "slow models last: {order:?}");
    }
    let pairs = ranking["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 6, "every pair of 4 variants");
    for pair in pairs {
        let (better, worse) = (
            pair["better"].as_str().unwrap(),
            pair["worse"].as_str().unwrap(),
        );
        if FAST.contains(&better) && SLOW.contains(&worse) {
            assert_eq!(pair["significant"], true, "{pair}");
            assert!(pair["p_adjusted"].as_f64().unwrap() < 0.001, "{pair}");
            assert!(pair["superiority"].as_f64().unwrap() > 0.95, "{pair}");
            // The profiles' first steps are 150 ms apart; a busy machine may add to either.
            assert!(pair["difference"].as_f64().unwrap() > 100.0, "{pair}");
        }
    }
    let last = &ranking["order"][3];
    assert_eq!(last["rank"], 4);
    assert!(last["tier"].as_u64().unwrap() >= 2, "{last}");
    let ci = last["p50_ci"].as_array().unwrap();
    let p50 = last["p50"].as_f64().unwrap();
    assert!(
        ci[0].as_f64().unwrap() <= p50 && p50 <= ci[1].as_f64().unwrap() && p50 >= 240.0,
        "{last}"
    );
    // Each variant's own figures carry their intervals too.
    let ci = &summary["variants"]["slow-model/p1"]["run_stream"]["ci"];
    assert!(ci["metrics"]["ttfs"]["p50"].is_array(), "{ci}");
    assert_eq!(ci["error_rate"][0], 0.0, "{ci}");

    let schema: Value =
        serde_json::from_str(include_str!("../../src/report/summary.v1.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&summary)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("run_stream variants ranked by ttfs p50"),
        "{stdout}"
    );
    let chain = stdout
        .lines()
        .find(|line| line.trim_start().starts_with("fast-model/p") && line.contains(" < "))
        .unwrap_or_else(|| panic!("no significance line: {stdout}"));
    assert!(chain.contains("< slow-model/p"), "{chain}");
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(markdown.contains("## Variants compared"), "{markdown}");
}

#[test]
fn closed_model_users_share_the_variants_fairly_and_rank_by_a_chosen_metric() {
    let sim = two_models();
    let dir = tempfile::tempdir().unwrap();
    // 42 iterations over 4 variants: 11, 11, 10, 10 whatever the 5 users' speeds.
    let text = matrix("vus = 5\niterations = 42").replace(
        "system_prompts = [\"Be brief.\", \"Be thorough.\"]",
        "system_prompts = [\"Be brief.\", \"Be thorough.\"]\nrank_by = \"latency\"",
    );
    let path = scenario(dir.path(), "c.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &["--threads", "2"]), 0);
    assert_eq!(sim.state().agent_count(), 0);
    let summary = summary(&out);
    let mut counts = assert_balanced(&summary, 1);
    counts.sort_unstable();
    assert_eq!(counts, [10, 10, 11, 11]);
    let ranking = &summary["ranking"]["run_stream"];
    assert_eq!(ranking["metric"], "latency", "{ranking}");
    let last = ranking["order"][3]["variant"].as_str().unwrap();
    assert!(SLOW.contains(&last), "{ranking}");
}

#[test]
fn validate_prints_the_matrix_and_bad_matrices_exit_2_at_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "ok.toml", &matrix("vus = 1\niterations = 1"));
    let output = agentload()
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(
            "variants  2 models × 2 system prompts = 4 agents, named \"{model}/p{prompt}\""
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("  slow-model/p2    model slow-model, prompt 2: \"Be thorough.\""),
        "{stdout}"
    );

    let duplicate = matrix("vus = 1\niterations = 1").replace(
        "[\"fast-model\", \"slow-model\"]",
        "[\"fast-model\", \"fast-model\"]",
    );
    let path = scenario(dir.path(), "dup.toml", &duplicate);
    let output = agentload()
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("dup.toml:7:25: \"fast-model\" is listed twice in variants.models"),
        "{stderr}"
    );
    assert!(stderr.contains("key:  variants.models[1]"), "{stderr}");

    let models: Vec<String> = (0..9).map(|i| format!("\"m{i}\"")).collect();
    let prompts: Vec<String> = (0..8).map(|i| format!("\"p{i}\"")).collect();
    let big = matrix("vus = 1\niterations = 1")
        .replace(
            "[\"fast-model\", \"slow-model\"]",
            &format!("[{}]", models.join(", ")),
        )
        .replace(
            "[\"Be brief.\", \"Be thorough.\"]",
            &format!("[{}]", prompts.join(", ")),
        );
    let path = scenario(dir.path(), "big.toml", &big);
    let output = agentload()
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("big.toml:7:10: 9 models × 8 system prompts make 72 agents, more than 64"),
        "{stderr}"
    );
}
