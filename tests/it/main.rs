//! Integration tests: the `agentload` binary against HTTP servers on loopback (the simulator
//! in-process, `agentload mock`, and an independent strict server), never a fixed port.

mod cli;
mod compare;
mod faults;
mod foreign;
mod interrupt;
mod load;
mod mock;
mod outputs;
mod runs;
mod schema;
mod streams;
mod sweep;
mod util;
mod variants;
