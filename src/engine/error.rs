//! Why a run could not start: the failures of the engine's own set-up (the target, the
//! embedded simulator, the client, the callback receiver, the series thread), each with the
//! help a user needs. A failing target is not one of them: that is measured, not raised.

use std::io;

use crate::scenario::Diagnostic;

/// A failure before any load was sent; the command exits 2.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The environment variable that holds the token is unset or empty.
    #[error(
        "${env}: the API token is read from the environment variable {env}, which is not set or empty\n  help: export {env}=<your API token> (scopes ai-agents:read and ai-agents:write), or name another variable with token_env / --token-env"
    )]
    NoToken { env: String },
    /// The token cannot go into an HTTP header.
    #[error(
        "${env}: the token in {env} cannot be sent: {reason}\n  help: check the variable holds only the token"
    )]
    BadToken { env: String, reason: String },
    /// The embedded simulator could not bind a loopback port.
    #[error(
        "simulator: cannot start the embedded simulator: {0}\n  help: check that loopback networking works here"
    )]
    Simulator(#[source] io::Error),
    /// The HTTP client could not be built (TLS roots, the base URL).
    #[error("client: cannot build the HTTP client: {0}\n  help: check the target's base URL")]
    Client(String),
    /// The receiver of run results cannot listen where the scenario says.
    #[error(transparent)]
    CallbackListen(Box<Diagnostic>),
    /// The thread that writes the per-second series could not start.
    #[error(
        "series: cannot start the series writer thread: {0}\n  help: check the machine's thread limits"
    )]
    Collector(#[source] io::Error),
}
