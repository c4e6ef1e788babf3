//! The `agentload` binary: parse arguments, call the library, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = agentload::cli::Cli::parse();
    agentload::main_with(cli).into()
}
