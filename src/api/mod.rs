//! The AI Agents API as the harness speaks it: endpoints, documented shapes, error classes and
//! the SSE decoder, kept apart from how load is generated.

pub mod client;
pub mod sse;
pub mod transport;
pub mod types;

pub use client::{ApiClient, Call, ClientOptions, Credentials, CredentialsError, StreamResult};
pub use transport::{EndpointError, PathError};
pub use types::DecodeError;
