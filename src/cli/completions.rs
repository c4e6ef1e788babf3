//! `agentload completions SHELL`: its flags, and printing the shell's completion script.

use clap::Args;

use super::{Exit, print_stdout};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `agentload completions SHELL`
pub fn completions(args: &CompletionsArgs) -> Exit {
    use clap::CommandFactory;
    let mut command = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "agentload", &mut script);
    print_stdout(&String::from_utf8_lossy(&script));
    Exit::Passed
}
