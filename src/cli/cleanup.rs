//! `agentload cleanup`: its flags, and the listing (with --yes, deleting) of a run's leftover
//! agents.

use clap::Args;

use super::flags::{prefix_flag, run_id_flag};
use super::{Exit, invalid, print_stdout, runtime};

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["run_id", "prefix"]))]
pub struct CleanupArgs {
    /// Base URL of the API, e.g. https://eu1.make.com/api/v2.
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// The team whose agents to look through.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub team_id: u64,
    /// Environment variable holding the API token.
    #[arg(long, value_name = "NAME", default_value = crate::scenario::DEFAULT_TOKEN_ENV)]
    pub token_env: String,
    /// The run whose agents to delete: those named agentload-ID-.
    #[arg(long, value_name = "ID", value_parser = run_id_flag)]
    pub run_id: Option<String>,
    /// Delete agents whose names start with P, which must start with agentload-
    /// (agentload- alone: every run's leftovers, also of runs still going).
    #[arg(long, value_name = "P", value_parser = prefix_flag)]
    pub prefix: Option<String>,
    /// Delete them; without it, only list what would be deleted.
    #[arg(long)]
    pub yes: bool,
}

/// `agentload cleanup`
pub fn clean_up(args: &CleanupArgs) -> Exit {
    let env = &args.token_env;
    let token = std::env::var(env).unwrap_or_default().trim().to_owned();
    if token.is_empty() {
        return invalid(format!(
            "${env}: the API token is read from the environment variable {env}, which is not set or empty\n  help: export {env}=<your API token>, or name another variable with --token-env"
        ));
    }
    if let Err(err) = url::Url::parse(&args.target) {
        return invalid(format!(
            "--target {}: not a URL ({err}); write e.g. https://eu1.make.com/api/v2",
            args.target
        ));
    }
    let prefix = match (&args.run_id, &args.prefix) {
        (Some(run_id), _) => crate::engine::fixtures::name_prefix(run_id),
        (None, Some(prefix)) => prefix.clone(),
        (None, None) => unreachable!("clap requires --run-id or --prefix"),
    };
    let cleanup = crate::cleanup::Cleanup {
        base_url: args.target.trim_end_matches('/').to_owned(),
        team_id: args.team_id,
        token,
        prefix: prefix.clone(),
    };
    let outcome = match runtime().block_on(cleanup.run(args.yes)) {
        Ok(outcome) => outcome,
        Err(err) => return invalid(format!("--target {}: {err}", args.target)),
    };
    let mut text = String::new();
    if outcome.found.is_empty() {
        text += &format!("no agents named {prefix}... in team {}\n", args.team_id);
    } else {
        let verb = if args.yes { "deleting" } else { "would delete" };
        text += &format!(
            "{verb} {} agent(s) named {prefix}... in team {}:\n",
            outcome.found.len(),
            args.team_id
        );
        for (id, name) in &outcome.found {
            text += &format!("  {id}  {name}\n");
        }
        if args.yes {
            text += &format!("deleted {}\n", outcome.deleted);
        } else {
            text += "dry run: nothing was deleted; run again with --yes to delete them\n";
        }
    }
    print_stdout(&text);
    if outcome.left.is_empty() {
        Exit::Passed
    } else {
        eprintln!(
            "error: {} agent(s) could not be deleted:",
            outcome.left.len()
        );
        for (id, why) in &outcome.left {
            eprintln!("  {id}: {why}");
        }
        Exit::Failed
    }
}
