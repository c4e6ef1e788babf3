//! Integration tests: the `agentload` binary against HTTP servers on loopback (the simulator
//! in-process, `agentload mock`, and an independent strict server), never a fixed port.

mod cleanup;
mod cli;
mod compare;
mod deploy;
mod faults;
mod foreign;
mod hlog_independent;
mod interrupt;
mod layers;
mod load;
mod mock;
mod outputs;
mod rerender;
mod runs;
mod schema;
mod shard;
mod streams;
mod sweep;
mod util;
mod variants;
