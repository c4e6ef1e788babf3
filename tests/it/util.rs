//! Shared helpers: an in-process simulator on its own runtime, scenario files in temp dirs, and
//! running the binary.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use agentload::model::units::Spread;
use agentload::sim::{Profile, SimConfig, SimServer, SimState};
use serde_json::Value;

pub const TOKEN: &str = "it-token-7c1e0f";

/// The binary under test.
pub fn agentload() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentload"));
    command.env_remove("MAKE_API_TOKEN");
    command
}

/// `agentload run SCENARIO --quiet --target URL --team-id 1 --out OUT`, `token` in MAKE_API_TOKEN.
pub fn run_command(scenario: &Path, out: &Path, target: &str, token: &str) -> Command {
    let mut command = agentload();
    command
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--quiet",
            "--target",
            target,
            "--team-id",
            "1",
            "--out",
        ])
        .arg(out)
        .env("MAKE_API_TOKEN", token);
    command
}

/// A simulator profile fast enough for tests: every run well under 100 ms.
pub fn fast_profile() -> Profile {
    let ms = Duration::from_millis;
    Profile {
        ttfs: Spread {
            lo: ms(5),
            hi: ms(10),
        },
        step_gap: Spread {
            lo: ms(1),
            hi: ms(3),
        },
        steps: Spread { lo: 3, hi: 4 },
        run_time: Spread {
            lo: ms(5),
            hi: ms(10),
        },
        ..Profile::default()
    }
}

/// The simulator on 127.0.0.1:0, served by its own runtime so tests may block on the binary.
pub struct Sim {
    server: Option<SimServer>,
    runtime: tokio::runtime::Runtime,
}

impl Sim {
    pub fn start(profile: Profile) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = SimConfig::new(TOKEN);
        config.default_profile = profile;
        let server = runtime
            .block_on(SimServer::start(
                config,
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ))
            .unwrap();
        Sim {
            server: Some(server),
            runtime,
        }
    }

    /// A simulator with this configuration (per-model profiles, faults, ...).
    pub fn start_config(config: SimConfig) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(SimServer::start(
                config,
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ))
            .unwrap();
        Sim {
            server: Some(server),
            runtime,
        }
    }

    pub fn base_url(&self) -> String {
        self.server.as_ref().unwrap().base_url()
    }

    pub fn state(&self) -> &Arc<SimState> {
        &self.server.as_ref().unwrap().state
    }

    /// `agentload run` against this simulator, with its token in the environment.
    pub fn run(&self, scenario: &Path, out: &Path, extra: &[&str]) -> Output {
        run_command(scenario, out, &self.base_url(), TOKEN)
            .args(extra)
            .output()
            .unwrap()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

/// Writes a scenario into `dir` and returns its path.
pub fn scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Two fixture agents and a mix of one op, for a run of `iterations`.
pub fn one_op(op: &str, agent: Option<&str>, iterations: u64, vus: u32) -> String {
    let agent = agent.map_or_else(String::new, |a| format!("agent = \"{a}\"\n"));
    format!(
        r#"name = "it-{op}"
[target]
make_connection_id = 5
timeout = {{ total = "10s" }}

[[agents]]
name = "alpha"
model = "model-a"
system_prompt = "Be brief."

[[agents]]
name = "beta"
model = "model-b"
system_prompt = "Be thorough."

[load]
vus = {vus}
iterations = {iterations}

[[mix]]
op = "{op}"
{agent}"#
    )
}

/// Two agents, every kind of op the charts draw, a warmup second: about 3 s of load.
pub fn smoke_like() -> String {
    one_op("run_stream", Some("*"), 1, 1).replace(
        "[load]\nvus = 1\niterations = 1",
        "[load]\nvus = 4\nduration = \"3s\"\nwarmup = \"1s\"",
    ) + "weight = 3\n[[mix]]\nop = \"run\"\nagent = \"*\"\n[[mix]]\nop = \"get\"\nagent = \"*\"\n[[mix]]\nop = \"list\"\n"
}

pub fn summary(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json is written");
    serde_json::from_str(&text).unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a command ended with `code`, showing its output otherwise.
pub fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
