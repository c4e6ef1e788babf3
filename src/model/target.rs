//! Where and how requests go: the limits per phase of a request, how the token is sent, and
//! whether a target is this machine. The scenario, the client and the cleanup share these.

use std::time::Duration;

use serde::Deserialize;

/// Limits per phase of a request; each expiry is its own error class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_step: Duration,
    pub idle: Duration,
    pub total: Duration,
}

/// One of the limits in [`Timeouts`], as `--timeout KIND=DURATION` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    FirstStep,
    Idle,
    Total,
}

impl TimeoutKind {
    pub const ALL: [TimeoutKind; 4] = [
        TimeoutKind::Connect,
        TimeoutKind::FirstStep,
        TimeoutKind::Idle,
        TimeoutKind::Total,
    ];

    /// The key under `[target.timeout]` and the flag's KIND.
    pub fn name(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::FirstStep => "first_step",
            TimeoutKind::Idle => "idle",
            TimeoutKind::Total => "total",
        }
    }

    pub fn from_name(name: &str) -> Option<TimeoutKind> {
        TimeoutKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

impl Timeouts {
    pub fn set(&mut self, kind: TimeoutKind, limit: Duration) {
        let slot = match kind {
            TimeoutKind::Connect => &mut self.connect,
            TimeoutKind::FirstStep => &mut self.first_step,
            TimeoutKind::Idle => &mut self.idle,
            TimeoutKind::Total => &mut self.total,
        };
        *slot = limit;
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            first_step: Duration::from_secs(30),
            idle: Duration::from_secs(30),
            total: Duration::from_secs(120),
        }
    }
}

/// How the token is sent: `Authorization: Token ...` (API tokens) or `Bearer ...` (OAuth).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthScheme {
    #[default]
    Token,
    Bearer,
}

impl AuthScheme {
    pub fn header_prefix(self) -> &'static str {
        match self {
            AuthScheme::Token => "Token",
            AuthScheme::Bearer => "Bearer",
        }
    }
}

/// Whether a URL names this machine (a loopback address or `localhost`).
pub fn is_loopback_url(text: &str) -> bool {
    url::Url::parse(text)
        .ok()
        .is_some_and(|url| match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        })
}
