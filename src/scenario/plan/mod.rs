//! The checked plan: what a run will do, in domain types only. Everything past the scenario
//! layer reads this, never the file or the flags. check/ builds it from raw/ (this imports
//! neither), and describe.rs puts it in words for `agentload validate`.

pub mod load;
pub mod variants;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::metrics::slo::Objectives;
use crate::metrics::threshold::Threshold;
use crate::model::sample::VariantId;
use crate::model::{AuthScheme, Timeouts};
use crate::sim::Profile;
use crate::sim::faults::RequestFaults;
pub use load::{Arrival, Load, Pacing, Ramp, Saturation, Stage, Stop};
pub use variants::{Matrix, Variants};

/// The default environment variable holding the API token.
pub const DEFAULT_TOKEN_ENV: &str = "MAKE_API_TOKEN";

#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    /// Where the plan came from (the scenario path as given).
    pub origin: String,
    pub seed: u64,
    pub target: Target,
    pub fixtures: Vec<Fixture>,
    pub load: Load,
    pub mix: Vec<MixEntry>,
    pub thresholds: Vec<Threshold>,
    /// What makes a request good (`[slo]`, or `--slo`); empty: every success is good.
    pub objectives: Objectives,
    pub simulator: SimulatorSettings,
    /// Model and system prompt of agents the run creates with no fixture to copy.
    pub template: AgentTemplate,
    /// Where run results posted to `callbackUrl` are received.
    pub callback: CallbackSettings,
    /// The `[variants]` matrix (its agents are among `fixtures`) and what variants rank by.
    pub variants: Variants,
}

/// The receiver of run results: where it listens, the URL the server is given, and how long
/// a run's result may take to arrive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackSettings {
    pub listen: std::net::SocketAddr,
    /// The receiver's URL as the server must reach it, without a trailing slash; `None`: the
    /// address it listens on.
    pub public_url: Option<String>,
    /// From the send of the run to its result arriving.
    pub timeout: Duration,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            timeout: Duration::from_secs(60),
        }
    }
}

/// What an agent the run creates is made of when no `[[agents]]` entry serves as its model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentTemplate {
    pub model: String,
    pub system_prompt: String,
}

impl Default for AgentTemplate {
    fn default() -> Self {
        AgentTemplate {
            model: "gpt-4o-mini".to_owned(),
            system_prompt: "You are an agent created by agentload for a load test. Answer in one short sentence.".to_owned(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Target {
    /// `None`: the embedded simulator, started in-process on a loopback port.
    pub base_url: Option<String>,
    /// Required for a real target; the simulator accepts any and defaults to 1.
    pub team_id: Option<u64>,
    pub token_env: String,
    pub auth: AuthScheme,
    /// The Make connection new agents use; required to create agents on a real target.
    pub make_connection_id: Option<u64>,
    pub timeouts: Timeouts,
    /// What a 429 leads to: counted (the default) or waited out and sent again.
    pub retry_after: RetryAfter,
    /// Sends again after a 429 at most this many times per request (`retry_after = "honour"`).
    pub max_retries: u32,
    /// The largest SSE event (plus the line being read) a stream may carry; a larger one fails
    /// the stream as `sse_protocol`, so a server that never ends an event cannot exhaust memory.
    pub max_event_bytes: usize,
}

/// Retries per request after a 429 when `retry_after = "honour"` and no `max_retries`.
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// The cap on one SSE event when the scenario sets none: 1 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = crate::api::sse::SseDecoder::DEFAULT_MAX_EVENT_BYTES;

impl Target {
    /// The team id every call carries.
    pub fn team_id(&self) -> u64 {
        self.team_id.unwrap_or(1)
    }
}

/// What a 429 answer leads to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RetryAfter {
    /// Counted as the failure it is (`http_429`); nothing is retried.
    #[default]
    Measure,
    /// Wait as `Retry-After` says (1 s without it), then send again.
    Honour,
}

/// An agent the run uses: created in setup and deleted in teardown, or an existing one by id.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub name: String,
    pub kind: FixtureKind,
}

#[derive(Clone, Debug)]
pub enum FixtureKind {
    Create {
        model: String,
        system_prompt: String,
        /// Extra fields merged into the create body unchanged.
        extra: Map<String, Value>,
    },
    Existing {
        id: String,
    },
}

#[derive(Clone, Debug)]
pub struct MixEntry {
    pub op: MixOp,
    pub weight: u32,
    pub agents: AgentChoice,
    /// The JSON body sent (run ops, patch) or merged into the create body (create, lifecycle).
    pub body: Option<Value>,
    /// Run ops: runs per iteration, one conversation continued through its `threadId`.
    pub turns: u32,
    /// Run ops: send `callbackUrl` and time the result's arrival at the receiver.
    pub callback: bool,
}

/// Which fixture agent an iteration uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentChoice {
    /// The op uses no fixture (`list`, or `create` without a template).
    None,
    /// Rotate over every fixture; each is reported as its own variant.
    All,
    One(VariantId),
}

/// What one iteration of a mix entry does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MixOp {
    List,
    Get,
    Create,
    Patch,
    Delete,
    /// create -> get -> patch -> delete on one new agent, each step timed under its own op.
    Lifecycle,
    Run,
    RunStream,
}

impl MixOp {
    pub fn name(self) -> &'static str {
        match self {
            MixOp::List => "list",
            MixOp::Get => "get",
            MixOp::Create => "create",
            MixOp::Patch => "patch",
            MixOp::Delete => "delete",
            MixOp::Lifecycle => "lifecycle",
            MixOp::Run => "run",
            MixOp::RunStream => "run_stream",
        }
    }

    pub const ALL: [MixOp; 8] = [
        MixOp::List,
        MixOp::Get,
        MixOp::Create,
        MixOp::Patch,
        MixOp::Delete,
        MixOp::Lifecycle,
        MixOp::Run,
        MixOp::RunStream,
    ];

    pub fn from_name(name: &str) -> Option<MixOp> {
        MixOp::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Whether a body may be given (run ops, patch, and the create body of create/lifecycle).
    pub fn takes_body(self) -> bool {
        !matches!(self, MixOp::List | MixOp::Get | MixOp::Delete)
    }

    /// Whether the op acts on an agent the scenario names (a fixture), rather than on none
    /// (`list`) or on agents it creates itself.
    pub fn targets_fixture(self) -> bool {
        matches!(
            self,
            MixOp::Get | MixOp::Patch | MixOp::Run | MixOp::RunStream
        )
    }

    pub fn is_run(self) -> bool {
        matches!(self, MixOp::Run | MixOp::RunStream)
    }
}

impl MixOp {
    /// The endpoints an iteration of this op calls, so thresholds can be checked against the mix.
    pub fn endpoints(self) -> &'static [crate::model::Op] {
        use crate::model::Op;
        match self {
            MixOp::List => &[Op::List],
            MixOp::Get => &[Op::Get],
            MixOp::Create => &[Op::Create],
            MixOp::Patch => &[Op::Patch],
            MixOp::Delete => &[Op::Create, Op::Delete],
            MixOp::Lifecycle => &[Op::Create, Op::Get, Op::Patch, Op::Delete],
            MixOp::Run => &[Op::Run],
            MixOp::RunStream => &[Op::RunStream],
        }
    }
}

/// How the embedded simulator behaves when the plan has no base URL.
#[derive(Clone, Debug, Default)]
pub struct SimulatorSettings {
    pub seed: u64,
    /// Latencies, cost per turn and run faults of every model without a profile of its own.
    pub default_profile: Profile,
    pub models: HashMap<String, Profile>,
    /// Error statuses and the rate limit, for every request.
    pub faults: RequestFaults,
}

impl Plan {
    pub fn variant_names(&self) -> Vec<String> {
        self.fixtures.iter().map(|f| f.name.clone()).collect()
    }

    /// Whether the plan creates agents (and so needs a Make connection id on a real target).
    pub fn creates_agents(&self) -> bool {
        self.fixtures
            .iter()
            .any(|f| matches!(f.kind, FixtureKind::Create { .. }))
            || self
                .mix
                .iter()
                .any(|m| matches!(m.op, MixOp::Create | MixOp::Delete | MixOp::Lifecycle))
    }
}
