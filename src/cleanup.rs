//! `agentload cleanup`: finds the agents a crashed or killed run left behind, by the name prefix
//! every agent agentload creates carries (`agentload-<run id>-`), and deletes them with the
//! teardown's own deletion (eight at a time, with retries). A dry run unless told `--yes`, and
//! never a name outside `agentload-`, so it cannot touch an agent agentload did not create.

use std::time::Duration;

use crate::api::types::AgentInfo;
use crate::api::{ApiClient, ClientOptions, Credentials};
use crate::engine::fixtures;
use crate::model::redact;
use crate::model::{AuthScheme, Timeouts};

/// Every agent agentload creates is named with this first.
pub const ROOT: &str = "agentload-";

/// Checks a `--prefix`: it must start with `agentload-`.
pub fn check_prefix(prefix: &str) -> Result<String, CleanupError> {
    if prefix.starts_with(ROOT) {
        Ok(prefix.to_owned())
    } else {
        Err(CleanupError::Prefix(prefix.to_owned()))
    }
}

/// Why a cleanup could not look for, or was told not to touch, a run's agents.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// A `--prefix` outside the names agentload gives.
    #[error(
        "{0:?} does not start with {ROOT}: cleanup only deletes agents agentload created; write e.g. --prefix agentload-1a2b3c4d- (or use --run-id 1a2b3c4d)"
    )]
    Prefix(String),
    /// The token cannot go into a header.
    #[error("the token cannot be sent: {0}")]
    Token(String),
    /// The client cannot be built for the target.
    #[error("--target {url}: {reason}")]
    Client { url: String, reason: String },
    /// The team's agents could not be listed (the target's answer, token scrubbed).
    #[error("cannot list the team's agents: {0}")]
    List(String),
}

/// Where to clean up and what.
pub struct Cleanup {
    pub base_url: String,
    pub team_id: u64,
    /// The API token (from the environment); scrubbed from anything printed.
    pub token: String,
    pub prefix: String,
}

/// What a cleanup found and did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The agents whose names carry the prefix: (id, name).
    pub found: Vec<(String, String)>,
    pub deleted: usize,
    /// Agents that could not be deleted: (id, why).
    pub left: Vec<(String, String)>,
}

impl Cleanup {
    fn client(&self) -> Result<ApiClient, CleanupError> {
        let credentials = Credentials::new(AuthScheme::default(), &self.token)
            .map_err(|err| CleanupError::Token(err.to_string()))?;
        let timeouts = Timeouts {
            total: Duration::from_secs(15),
            ..Timeouts::default()
        };
        ApiClient::new(ClientOptions {
            base_url: self.base_url.clone(),
            team_id: self.team_id,
            credentials,
            timeouts,
            max_idle_connections: 8,
            max_event_bytes: crate::api::sse::SseDecoder::DEFAULT_MAX_EVENT_BYTES,
        })
        .map_err(|err| CleanupError::Client {
            url: self.base_url.clone(),
            reason: err.to_string(),
        })
    }

    /// Lists the team's agents named with the prefix and, when `delete`, deletes them.
    pub async fn run(&self, delete: bool) -> Result<Outcome, CleanupError> {
        let client = self.client()?;
        let call = client.list(None).await;
        let agents: Vec<AgentInfo> = match (call.value, call.sample.outcome) {
            (Some(agents), _) => agents,
            (None, Err(failure)) => {
                return Err(CleanupError::List(redact(
                    &failure.to_string(),
                    &self.token,
                )));
            }
            (None, Ok(())) => Vec::new(),
        };
        let mut outcome = Outcome {
            found: agents
                .into_iter()
                .filter(|agent| agent.name.starts_with(&self.prefix))
                .map(|agent| (agent.id, agent.name))
                .collect(),
            ..Outcome::default()
        };
        outcome.found.sort_by(|a, b| a.1.cmp(&b.1));
        if delete {
            let ids = outcome.found.iter().map(|(id, _)| id.clone()).collect();
            for (id, result) in fixtures::delete_all(&client, ids).await {
                match result {
                    Ok(()) => outcome.deleted += 1,
                    Err(why) => outcome
                        .left
                        .push((id, redact(&why.to_string(), &self.token))),
                }
            }
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_stay_inside_agentload_names() {
        assert_eq!(
            check_prefix("agentload-1a2b-").ok().as_deref(),
            Some("agentload-1a2b-")
        );
        assert!(
            check_prefix("prod-")
                .unwrap_err()
                .to_string()
                .contains("agentload-")
        );
        assert!(check_prefix("").is_err());
        assert!(check_prefix("agentload").is_err());
    }
}
