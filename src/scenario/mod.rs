//! Scenario files: reading, parsing and checking them into a [`Plan`], with errors that name the
//! file, line, column and key, and the command-line overrides applied on top.

pub mod check;
pub mod diag;
pub mod file;
pub mod plan;
pub mod units;

use std::path::Path;
use std::time::Duration;

pub use diag::Diagnostic;
pub use plan::*;

use diag::Source;

/// Values from the command line that replace the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub target: Option<String>,
    pub token_env: Option<String>,
    pub team_id: Option<u64>,
    pub make_connection_id: Option<u64>,
    pub vus: Option<u32>,
    pub duration: Option<Duration>,
    pub iterations: Option<u64>,
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Plan, Diagnostic> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|err| {
        let help = match err.kind() {
            std::io::ErrorKind::NotFound => {
                "check the path; the examples live in scenarios/ (e.g. scenarios/smoke.toml)"
            }
            std::io::ErrorKind::PermissionDenied => "make the file readable by this user",
            _ => "check that the path names a readable scenario file",
        };
        let message = if path.is_dir() {
            "is a directory, not a scenario file".to_owned()
        } else {
            format!("cannot read the scenario: {err}")
        };
        Diagnostic::in_file(&origin, None, message, help)
    })?;
    let default_name = path.file_stem().map_or_else(
        || "scenario".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    parse(&origin, &bytes, &default_name)
}

/// Parses and checks scenario text. `origin` names it in errors.
pub fn parse(origin: &str, bytes: &[u8], default_name: &str) -> Result<Plan, Diagnostic> {
    let text = as_text(origin, bytes)?;
    let source = Source::new(origin, text);
    let raw: file::RawScenario = toml::from_str(text).map_err(|err| source.from_toml(&err))?;
    check::check(raw, &source, origin, default_name)
}

/// The text of a scenario, or an error for an empty or binary file.
fn as_text<'a>(origin: &str, bytes: &'a [u8]) -> Result<&'a str, Diagnostic> {
    let at = |offset: usize, message: String, help: &str| {
        let text = String::from_utf8_lossy(&bytes[..offset]);
        Diagnostic {
            origin: origin.to_owned(),
            position: Some(diag::line_col(&text, text.len())),
            key: None,
            message,
            help: Some(help.to_owned()),
            snippet: None,
        }
    };
    let text = std::str::from_utf8(bytes).map_err(|err| {
        at(err.valid_up_to(), format!("not a text file: invalid UTF-8 at byte {}", err.valid_up_to()), "a scenario is a UTF-8 TOML file; check that the path names the scenario and not a binary")
    })?;
    if let Some(offset) = text.find('\0') {
        return Err(at(
            offset,
            format!("not a text file: a NUL byte at byte {offset}"),
            "a scenario is a UTF-8 TOML file; check that the path names the scenario and not a binary",
        ));
    }
    if text.trim().is_empty() {
        return Err(at(
            0,
            "the file is empty".to_owned(),
            "a scenario needs at least a [load] table and one [[mix]] entry; start from scenarios/smoke.toml",
        ));
    }
    Ok(text)
}

impl Plan {
    /// Applies command-line values over the file's, then checks what only the combination can break.
    pub fn apply(&mut self, overrides: &Overrides) -> Result<(), Diagnostic> {
        if let Some(url) = &overrides.target {
            let url = check::normalize_base_url(url)
                .map_err(|(message, help)| Diagnostic::flag("--target", message, help))?;
            self.target.base_url = Some(url);
        }
        if let Some(name) = &overrides.token_env {
            self.target.token_env = name.clone();
        }
        if let Some(team_id) = overrides.team_id {
            self.target.team_id = Some(team_id);
        }
        if let Some(id) = overrides.make_connection_id {
            self.target.make_connection_id = Some(id);
        }
        if let Some(vus) = overrides.vus {
            let Pacing::Closed { vus: v, .. } = &mut self.load.pacing;
            *v = vus;
        }
        if let Some(duration) = overrides.duration {
            self.load.stop.duration = Some(duration);
        }
        if let Some(iterations) = overrides.iterations {
            self.load.stop.iterations = Some(iterations);
        }
        if self.target.base_url.is_some() {
            if self.target.team_id.is_none() {
                return Err(Diagnostic::in_file(
                    &self.origin,
                    Some("target.team_id"),
                    "a real target needs a team id, and none is set",
                    "add team_id = <your team id> under [target], or pass --team-id N",
                ));
            }
            if self.creates_agents() && self.target.make_connection_id.is_none() {
                return Err(Diagnostic::in_file(
                    &self.origin,
                    Some("target.make_connection_id"),
                    "this scenario creates agents, which on a real target needs the id of a Make connection",
                    "add make_connection_id = <id> under [target], or pass --make-connection-id N",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
