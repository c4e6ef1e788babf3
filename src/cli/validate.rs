//! `agentload validate`: its flags, and checking a scenario the way `run` does, sending nothing.

use std::path::PathBuf;

use clap::Args;

use super::{Exit, invalid, print_stdout};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
}

/// `agentload validate`
pub fn validate(args: &ValidateArgs) -> Exit {
    // The same checks as `run` makes before sending anything, flags aside.
    let checked = crate::scenario::load(&args.scenario).and_then(|mut plan| {
        plan.apply(&crate::scenario::Overrides::default())?;
        Ok(plan)
    });
    match checked {
        Ok(plan) => {
            print_stdout(&format!(
                "{plan}ok: the scenario is valid; nothing was sent\n"
            ));
            Exit::Passed
        }
        Err(diagnostic) => invalid(diagnostic),
    }
}
