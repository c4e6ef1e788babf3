//! The command line: malformed scenarios and flags exit 2 with the file, line and key; valid
//! ones validate; every subcommand's help teaches by example.

use crate::util::*;

const VALID: &str = r#"name = "v"
[[agents]]
name = "a"
model = "m"
system_prompt = "p"
[load]
vus = 1
iterations = 2
[[mix]]
op = "run"
"#;

/// `validate` and `run` both reject the file with exit 2 and an error starting `file:line:col`.
fn rejects(name: &str, bytes: &[u8], expect_line: usize, expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    for command in ["validate", "run"] {
        let mut cmd = agentload();
        cmd.arg(command).arg(&path);
        if command == "run" {
            cmd.arg("--out").arg(dir.path().join("out"));
        }
        let output = cmd.output().unwrap();
        assert_code(&output, 2);
        let stderr = text(&output.stderr);
        let location = format!("error: {}:{expect_line}:", path.display());
        assert!(
            stderr.starts_with(&location),
            "{command} {name}: expected {location:?} in:\n{stderr}"
        );
        for needle in expect {
            assert!(
                stderr.contains(needle),
                "{command} {name}: expected {needle:?} in:\n{stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            !dir.path().join("out").join("summary.json").exists(),
            "nothing ran"
        );
    }
}

#[test]
fn toml_syntax_errors() {
    rejects(
        "syntax.toml",
        VALID.replace("vus = 1", "vus = = 1").as_bytes(),
        7,
        &["  7 | vus = = 1", "help: this is not valid TOML here"],
    );
}

#[test]
fn unknown_keys() {
    rejects(
        "unknown.toml",
        VALID.replace("iterations = 2", "iteration = 2").as_bytes(),
        8,
        &[
            "unknown field `iteration`",
            "key:  load.iteration",
            "help: did you mean `iterations`?",
        ],
    );
}

#[test]
fn wrong_types() {
    rejects(
        "types.toml",
        VALID.replace("vus = 1", "vus = \"1\"").as_bytes(),
        7,
        &["key:  load.vus", "help: use a whole number"],
    );
}

#[test]
fn missing_required_keys() {
    rejects(
        "missing.toml",
        VALID.replace("op = \"run\"", "weight = 2").as_bytes(),
        9,
        &["missing field `op`", "key:  mix[0]"],
    );
}

#[test]
fn bad_values() {
    rejects(
        "duration.toml",
        VALID
            .replace("iterations = 2", "duration = \"ten seconds\"")
            .as_bytes(),
        8,
        &["key:  load.duration", "\"30s\""],
    );
    rejects(
        "agent.toml",
        format!("{VALID}agent = \"b\"\n").as_bytes(),
        11,
        &["no agent is named \"b\"", "key:  mix[0].agent"],
    );
}

#[test]
fn empty_and_binary_files() {
    rejects("empty.toml", b"", 1, &["the file is empty", "help:"]);
    rejects(
        "binary.toml",
        b"\x7fELF\x02\x01\x01\x00\x00\x00",
        1,
        &["not a text file"],
    );
}

#[test]
fn a_missing_file() {
    let output = agentload()
        .args(["validate", "no/such/scenario.toml"])
        .output()
        .unwrap();
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: no/such/scenario.toml: cannot read the scenario"),
        "{stderr}"
    );
    assert!(stderr.contains("help: check the path"), "{stderr}");
}

#[test]
fn bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "v.toml", VALID);
    for flags in [
        &["--vus", "0"][..],
        &["--duration", "5"],
        &["--iterations", "-1"],
        &["--target", "ftp://x"],
        &["--bogus"],
    ] {
        let output = agentload()
            .arg("run")
            .arg(&path)
            .args(flags)
            .arg("--out")
            .arg(dir.path().join("o"))
            .output()
            .unwrap();
        assert_code(&output, 2);
        assert!(!text(&output.stderr).contains("panicked"));
    }
    let file = scenario(dir.path(), "not-a-dir", "x");
    let output = agentload()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(file.join("sub"))
        .output()
        .unwrap();
    assert_code(&output, 2);
    assert!(
        text(&output.stderr).contains("--out: cannot create the report folder"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn validate_prints_the_plan_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "v.toml", VALID);
    let output = agentload().arg("validate").arg(&path).output().unwrap();
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("closed model, 1 virtual user"), "{stdout}");
    assert!(stdout.contains("after 2 iterations"), "{stdout}");
    assert!(
        stdout.contains("run         weight   1 (100.0%)  agent *"),
        "{stdout}"
    );
    assert!(stdout.contains("ok: the scenario is valid"), "{stdout}");

    let output = agentload()
        .args(["validate", "scenarios/smoke.toml"])
        .output()
        .unwrap();
    assert_code(&output, 0);
}

#[test]
fn every_subcommand_help_has_an_example() {
    for command in [
        &["--help"][..],
        &["run", "--help"],
        &["validate", "--help"],
        &["mock", "--help"],
        &["completions", "--help"],
    ] {
        let output = agentload().args(command).output().unwrap();
        assert_code(&output, 0);
        let stdout = text(&output.stdout);
        assert!(stdout.contains("Example"), "{command:?}:\n{stdout}");
        assert!(stdout.contains("agentload "), "{command:?}");
    }
}

#[test]
fn every_example_scenario_validates() {
    let mut checked = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let output = agentload().arg("validate").arg(&path).output().unwrap();
            assert_code(&output, 0);
            checked += 1;
        }
    }
    assert!(checked >= 2, "smoke.toml and ramp.toml at least");
}

#[test]
fn completions_cover_every_subcommand_and_flag() {
    for shell in ["bash", "zsh", "fish"] {
        let output = agentload().args(["completions", shell]).output().unwrap();
        assert_code(&output, 0);
        let script = text(&output.stdout);
        for word in [
            "run",
            "validate",
            "mock",
            "log-requests",
            "metrics-addr",
            "timeout",
        ] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    assert_code(
        &agentload().args(["completions", "tcsh"]).output().unwrap(),
        2,
    );
}
