//! What the subcommands are made of, above every layer they use: the one run pipeline
//! ([`session`]), the handling of Ctrl-C and SIGTERM ([`signals`]), and the limits of the
//! process ([`rlimit`]). `cli/` parses flags and calls into here.

mod exit;
pub mod rlimit;
pub mod session;
pub mod shard_part;
pub mod signals;

use std::io::Write;

pub use exit::Exit;

/// Prints an input error and exits 2.
pub fn invalid(error: impl std::fmt::Display) -> Exit {
    eprintln!("error: {error}");
    Exit::Invalid
}

/// Writes to stdout, treating a closed pipe (`| head`) as success.
pub fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write to stdout: {err}");
    }
}

/// The runtime every command runs on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("agentload-main")
        .build()
        .expect("the tokio runtime starts")
}
