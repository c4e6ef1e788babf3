//! The Kubernetes manifests and the Dockerfile under deploy/, checked for structure and for
//! agreement with the binary: the Indexed Job's counts and `--shard` flag, the names that tie
//! the ConfigMaps, the Secret and the volume together, the merge Job reading what the shards
//! write, and the containers' arguments parsed by agentload's own command line.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use agentload::cli::{Cli, Command};
use clap::Parser;
use serde_json::Value;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// One YAML manifest as JSON values (serde_yaml_ng: serde's YAML reader, maintained).
fn manifest(name: &str) -> Value {
    let path = deploy().join("kubernetes").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{name}: {err}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn str_of<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} is not a string in {value}"))
}

fn container(job: &Value) -> &Value {
    let containers = job["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    &containers[0]
}

fn args_of(job: &Value) -> Vec<String> {
    container(job)["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

/// The value following `flag` in `args`.
fn flag<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    &args[at + 1]
}

/// The env entry named `name`.
fn env<'a>(job: &'a Value, name: &str) -> &'a Value {
    container(job)["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no env {name}"))
}

/// Where the volume backed by `source` (a claim or a ConfigMap) is mounted.
fn mount_of(job: &Value, kind: &str, key: &str, name: &str) -> String {
    let volume = job["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v[kind][key] == name)
        .unwrap_or_else(|| panic!("no {kind} volume of {name}"));
    let mount = container(job)["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == volume["name"])
        .unwrap();
    mount["mountPath"].as_str().unwrap().to_owned()
}

/// Replaces each `$(VAR)` with `values`, failing on one the container does not define.
fn expand(job: &Value, text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    while let Some(start) = out.find("$(") {
        let end = start + out[start..].find(')').unwrap();
        let name = &out[start + 2..end];
        let _ = env(job, name);
        let value = values
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no test value for {name}"))
            .1;
        out.replace_range(start..=end, value);
    }
    out
}

#[test]
fn the_indexed_job_runs_every_shard_of_one_run() {
    let job = manifest("shards-job.yaml");
    let spec = &job["spec"];
    assert_eq!(job["kind"], "Job");
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n), "all shards at once");
    assert_eq!(spec["backoffLimit"], 0, "a shard is never run twice");
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");

    let args = args_of(&job);
    assert_eq!(
        flag(&args, "--shard"),
        format!("$(JOB_COMPLETION_INDEX)/{n}")
    );
    assert_eq!(
        str_of(
            env(&job, "JOB_COMPLETION_INDEX"),
            "/valueFrom/fieldRef/fieldPath"
        ),
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    );

    // The run's parameters come from one ConfigMap, whose example values are valid.
    let params = manifest("run-params.yaml");
    for (var, key) in [("RUN_ID", "run_id"), ("START_AT", "start_at")] {
        let reference = &env(&job, var)["valueFrom"]["configMapKeyRef"];
        assert_eq!(reference["name"], params["metadata"]["name"]);
        assert_eq!(reference["key"], key);
        assert!(params["data"][key].is_string(), "{key}");
    }
    agentload::engine::shard::check_run_id(str_of(&params, "/data/run_id")).unwrap();
    humantime::parse_rfc3339(str_of(&params, "/data/start_at")).unwrap();

    // The scenario comes from the ConfigMap mounted where the first argument points, and is valid.
    let scenarios = manifest("scenario-configmap.yaml");
    let name = str_of(&scenarios, "/metadata/name");
    let dir = mount_of(&job, "configMap", "name", name);
    let (file_dir, file) = args[1].rsplit_once('/').unwrap();
    assert_eq!((args[0].as_str(), file_dir), ("run", dir.as_str()));
    let text = str_of(&scenarios, &format!("/data/{file}"));
    let plan = agentload::scenario::parse(file, text.as_bytes(), "scenario")
        .unwrap_or_else(|err| panic!("{err}"));

    // The token: the variable the scenario names, from the Secret the README creates.
    let token = &env(&job, &plan.target.token_env)["valueFrom"]["secretKeyRef"];
    let secret = token["name"].as_str().unwrap();
    let readme = std::fs::read_to_string(deploy().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!(
            "kubectl create secret generic {secret} --from-literal={}=",
            token["key"].as_str().unwrap()
        )),
        "deploy/README.md creates the Secret {secret}"
    );
    assert!(readme.contains("kubectl create configmap agentload-run"));

    // Results go to the ReadWriteMany claim.
    let pvc = manifest("results-pvc.yaml");
    let claim = str_of(&pvc, "/metadata/name");
    assert!(
        pvc["spec"]["accessModes"]
            .as_array()
            .unwrap()
            .contains(&"ReadWriteMany".into()),
        "shards on several nodes write at once"
    );
    let results = mount_of(&job, "persistentVolumeClaim", "claimName", claim);
    let out = flag(&args, "--out");
    assert!(out.starts_with(&format!("{results}/")), "{out}");

    // The arguments, expanded as Kubernetes would for pod 2, are a valid agentload command line.
    let start =
        humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(600)).to_string();
    let values = [
        ("JOB_COMPLETION_INDEX", "2"),
        ("RUN_ID", "example_run"),
        ("START_AT", start.as_str()),
    ];
    let expanded: Vec<String> = args.iter().map(|a| expand(&job, a, &values)).collect();
    let cli = Cli::try_parse_from(std::iter::once("agentload".to_owned()).chain(expanded))
        .unwrap_or_else(|err| panic!("{err}"));
    let Command::Run(run) = cli.command else {
        panic!("the shards run `agentload run`")
    };
    let shard = run.shard.unwrap();
    assert_eq!((shard.index, u64::from(shard.count)), (2, n));
    assert_eq!(run.run_id.as_deref(), Some("example_run"));
    assert!(run.start_at.is_some());
    let shard_out = run.out.unwrap();

    // The merge Job reads every shard's folder, on the same claim at the same path.
    let merge = manifest("merge-job.yaml");
    assert_eq!(
        mount_of(&merge, "persistentVolumeClaim", "claimName", claim),
        results
    );
    assert_eq!(
        env(&merge, "RUN_ID")["valueFrom"]["configMapKeyRef"],
        env(&job, "RUN_ID")["valueFrom"]["configMapKeyRef"]
    );
    let merge_args: Vec<String> = args_of(&merge)
        .iter()
        .map(|a| expand(&merge, a, &values))
        .collect();
    let cli = Cli::try_parse_from(std::iter::once("agentload".to_owned()).chain(merge_args))
        .unwrap_or_else(|err| panic!("{err}"));
    let Command::Merge(merge_cli) = cli.command else {
        panic!("the merge Job runs `agentload merge`")
    };
    let expected: Vec<PathBuf> = (0..n)
        .map(|i| {
            PathBuf::from(expand(
                &job,
                out,
                &[values[1], ("JOB_COMPLETION_INDEX", &i.to_string())],
            ))
        })
        .collect();
    assert_eq!(
        merge_cli.dirs, expected,
        "one folder per shard, as the shards write them"
    );
    assert!(merge_cli.dirs.contains(&shard_out));
    assert!(merge_cli.out.starts_with(&results));
    assert!(!expected.contains(&merge_cli.out));

    // Both run as the image's non-root user, with nothing writable but the results.
    for job in [&job, &merge] {
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_ne!(pod["securityContext"]["runAsUser"], 0);
        assert_eq!(
            container(job)["securityContext"]["readOnlyRootFilesystem"],
            true
        );
        assert_eq!(
            container(job)["image"],
            container(&manifest("shards-job.yaml"))["image"]
        );
    }

    let kustomization = manifest("kustomization.yaml");
    for resource in kustomization["resources"].as_array().unwrap() {
        let file = resource.as_str().unwrap();
        assert!(deploy().join("kubernetes").join(file).exists(), "{file}");
    }
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_small_and_unprivileged() {
    let text = std::fs::read_to_string(deploy().join("Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let stages: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].starts_with("FROM "))
        .collect();
    assert!(stages.len() >= 2, "multi-stage");
    let (build, runtime) = (
        &lines[stages[0]..stages[stages.len() - 1]],
        &lines[stages[stages.len() - 1]..],
    );
    assert!(
        build[0].contains("rust") && build[0].contains(" AS build"),
        "{}",
        build[0]
    );
    assert!(
        build
            .iter()
            .any(|l| l.contains("cargo build --release --locked")),
        "a locked release build"
    );
    assert!(
        runtime[0].contains("debian:bookworm-slim") || runtime[0].contains("distroless/cc"),
        "a small runtime image: {}",
        runtime[0]
    );
    assert!(runtime.iter().any(|l| l.contains("ca-certificates")));
    assert!(runtime.iter().any(|l| l.starts_with("COPY --from=build")));
    let user = runtime
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage sets a USER");
    assert!(
        !matches!(user.trim(), "0" | "root" | "0:0"),
        "non-root: {user}"
    );
    assert!(runtime.iter().any(|l| l.starts_with("ENTRYPOINT")));
    // What the build copies exists (the manifest names the benches).
    for copied in ["Cargo.toml", "Cargo.lock", "src", "benches"] {
        assert!(
            build
                .iter()
                .any(|l| l.starts_with(&format!("COPY {copied}")))
                || build
                    .iter()
                    .any(|l| l.starts_with("COPY ") && l.contains(copied)),
            "{copied}"
        );
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(copied).exists(),
            "{copied}"
        );
    }
    let ignore = std::fs::read_to_string(deploy().join("Dockerfile.dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target"));
}
