//! Scenario files: reading, parsing and checking them into a [`Plan`], with errors that name the
//! file, line, column and key; and the command-line flags applied on top, or making a whole plan.
//!
//! Split one way, by stage: [`raw`] is the file as serde reads it, [`check`] turns each of its
//! sections into the types of [`plan`] (one file per section), and [`plan`] is what a run does.
//! Imports run raw <- check -> plan, and only so: check reads raw and builds plan, while raw and
//! plan import neither each other nor check. A raw key that names one of a plan enum's values
//! (`op`, `retry_after`, `arrival`, `saturation`) reads into a raw mirror of that enum, with the
//! same spellings and serde name, which check maps over. describe.rs prints a plan for
//! `agentload validate` (importing plan only), [`flags`] applies the command line onto a plan,
//! and [`diag`] is the errors they all report.

pub mod check;
mod describe;
pub mod diag;
pub mod flags;
pub mod plan;
pub mod raw;

use std::path::Path;

pub use diag::Diagnostic;
pub use flags::Overrides;
/// `scenario::load::DEFAULT_MAX_IN_FLIGHT` and the other defaults of the load.
pub use plan::load;
pub use plan::*;

use diag::Source;

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
    let raw: raw::RawScenario = toml::from_str(text).map_err(|err| source.from_toml(&err))?;
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

#[cfg(test)]
mod tests;
