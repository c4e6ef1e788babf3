//! What the subcommands are made of, above every layer they use: the one run pipeline
//! ([`session`]), the handling of Ctrl-C and SIGTERM ([`signals`]), and the limits of the
//! process ([`rlimit`]). `cli/` parses flags and calls into here.

pub mod rlimit;
pub mod session;
pub mod signals;
