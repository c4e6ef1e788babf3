//! How a failed request is named: one error class per failure, so failures are counted and
//! reported instead of aborting the run.

use std::fmt;

/// Why a request failed. Each failed request has exactly one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// The connection could not be made, or was lost before the response headers.
    Connect,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// Connecting took longer than `timeout.connect`.
    TimeoutConnect,
    /// A stream sent no step within `timeout.first_step` of the request being sent.
    TimeoutFirstStep,
    /// A stream went quiet for longer than `timeout.idle` between reads.
    TimeoutIdle,
    /// The whole request took longer than `timeout.total`.
    TimeoutTotal,
    /// The server answered with a status the endpoint does not document as success.
    Http(u16),
    /// The connection was lost after the headers, in the middle of a body or stream.
    StreamCut,
    /// The event stream broke the SSE rules, had the wrong content type, ended inside an event,
    /// or ended without a single step.
    SseProtocol,
    /// A body did not parse, or lacked a field the API documents as required.
    Decode,
    /// The run's result never reached the callback receiver in time.
    CallbackTimeout,
    /// The run was stopped (Ctrl-C, or the end of the grace period) while the request was in flight.
    Interrupted,
}

impl ErrorClass {
    /// The stable name used in reports and thresholds, e.g. `http_429` or `timeout_idle`.
    pub fn name(self) -> String {
        match self {
            ErrorClass::Http(status) => format!("http_{status}"),
            other => other.static_name().to_owned(),
        }
    }

    fn static_name(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Tls => "tls",
            ErrorClass::TimeoutConnect => "timeout_connect",
            ErrorClass::TimeoutFirstStep => "timeout_first_step",
            ErrorClass::TimeoutIdle => "timeout_idle",
            ErrorClass::TimeoutTotal => "timeout_total",
            ErrorClass::Http(_) => "http",
            ErrorClass::StreamCut => "stream_cut",
            ErrorClass::SseProtocol => "sse_protocol",
            ErrorClass::Decode => "decode",
            ErrorClass::CallbackTimeout => "callback_timeout",
            ErrorClass::Interrupted => "interrupted",
        }
    }

    /// Parses a name written by [`ErrorClass::name`].
    pub fn from_name(name: &str) -> Option<ErrorClass> {
        if let Some(status) = name.strip_prefix("http_") {
            return status
                .parse::<u16>()
                .ok()
                .filter(|s| (100..=599).contains(s))
                .map(ErrorClass::Http);
        }
        [
            ErrorClass::Connect,
            ErrorClass::Tls,
            ErrorClass::TimeoutConnect,
            ErrorClass::TimeoutFirstStep,
            ErrorClass::TimeoutIdle,
            ErrorClass::TimeoutTotal,
            ErrorClass::StreamCut,
            ErrorClass::SseProtocol,
            ErrorClass::Decode,
            ErrorClass::CallbackTimeout,
            ErrorClass::Interrupted,
        ]
        .into_iter()
        .find(|class| class.static_name() == name)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A failed request: its class and a short message saying why, with no credentials in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub class: ErrorClass,
    pub message: String,
}

impl Failure {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Failure {
            class,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}

/// `text` with every occurrence of `secret` replaced by `[redacted]`, for anything a server said
/// that is about to be shown or written (a server may echo the token back).
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        return text.to_owned();
    }
    text.replace(secret, "[redacted]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_every_occurrence() {
        assert_eq!(
            redact("Token abc and abc", "abc"),
            "Token [redacted] and [redacted]"
        );
        assert_eq!(redact("nothing here", "abc"), "nothing here");
        assert_eq!(redact("empty secret", ""), "empty secret");
    }

    #[test]
    fn names_round_trip() {
        for class in [
            ErrorClass::Connect,
            ErrorClass::Http(429),
            ErrorClass::TimeoutFirstStep,
            ErrorClass::SseProtocol,
            ErrorClass::Interrupted,
        ] {
            assert_eq!(ErrorClass::from_name(&class.name()), Some(class));
            assert_eq!(class.to_string(), class.name());
        }
        assert_eq!(ErrorClass::Http(503).name(), "http_503");
        assert_eq!(ErrorClass::from_name("http_99"), None);
        assert_eq!(ErrorClass::from_name("http"), None);
        assert_eq!(ErrorClass::from_name("nope"), None);
    }
}
