//! agentload: a load-testing and benchmarking harness for the AI Agents API. One public entry
//! point per subcommand, in `cli/`; `main.rs` only parses arguments and maps the result to an
//! exit code.

// `scenario::Diagnostic` (~150 bytes) is built once, on the error path of reading a scenario;
// boxing it everywhere would buy nothing.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod app;
pub mod cleanup;
pub mod cli;
pub mod compare;
pub mod engine;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod report;

pub mod scenario;
pub mod sim;
pub mod stats;
pub mod store;
pub mod summary;
pub mod sweep;

// The entry points were defined here before `cli/` had a file per subcommand; their paths stay.
pub use cli::cleanup::clean_up;
pub use cli::compare::compare;
pub use cli::merge::merge_shards;
pub use cli::mock::mock;
pub use cli::report::rerender;
pub use cli::run::run;
pub use cli::validate::validate;
pub use cli::{Exit, main_with};
