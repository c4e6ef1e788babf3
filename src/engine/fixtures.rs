//! The agents a run owns: fixtures created (or looked up) before the load, agents created by
//! ops during it, and teardown that deletes every one of them, also after an interrupt.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::api::ApiClient;
use crate::model::{ErrorClass, Failure};
use crate::scenario::{FixtureKind, Plan};

/// A fixture agent as the load uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureAgent {
    /// The scenario's name for it (the variant name in reports).
    pub name: String,
    pub id: String,
    /// The name the agent has on the server.
    pub remote_name: String,
    pub model: String,
    pub system_prompt: String,
}

/// Every agent the run created and has not yet deleted, and which of them ops may delete.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<RegistryInner>,
}

#[derive(Debug, Default)]
struct RegistryInner {
    /// id -> (creation sequence, remote name).
    created: HashMap<String, (u64, String)>,
    next: u64,
    /// Agents made by `create` ops, free for `delete` ops (may hold ids deleted since).
    spare: Vec<String>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, RegistryInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records an agent the run created. `spare` ones may be taken by `delete` ops.
    pub fn add(&self, id: &str, remote_name: &str, spare: bool) {
        let mut inner = self.lock();
        let sequence = inner.next;
        inner.next += 1;
        inner
            .created
            .insert(id.to_owned(), (sequence, remote_name.to_owned()));
        if spare {
            inner.spare.push(id.to_owned());
        }
    }

    /// Takes an agent made by a `create` op and not yet deleted, for a `delete` op.
    pub fn take_spare(&self) -> Option<String> {
        let mut inner = self.lock();
        while let Some(id) = inner.spare.pop() {
            if inner.created.contains_key(&id) {
                return Some(id);
            }
        }
        None
    }

    /// Forgets an agent that was deleted.
    pub fn remove(&self, id: &str) {
        self.lock().created.remove(id);
    }

    /// Ids of every agent still to delete, oldest first.
    pub fn pending(&self) -> Vec<String> {
        let inner = self.lock();
        let mut pending: Vec<(u64, &String)> = inner
            .created
            .iter()
            .map(|(id, (seq, _))| (*seq, id))
            .collect();
        pending.sort_unstable();
        pending.into_iter().map(|(_, id)| id.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.lock().created.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The name prefix every agent of a run carries, so leftovers can be found by name.
pub fn name_prefix(run_id: &str) -> String {
    format!("agentload-{run_id}-")
}

/// The create body for a new agent: the documented required fields, then `extra` merged over them.
pub fn create_body(
    name: &str,
    team_id: u64,
    make_connection_id: u64,
    model: &str,
    system_prompt: &str,
    extra: &Map<String, Value>,
) -> Bytes {
    let mut body = json!({
        "name": name,
        "teamId": team_id,
        "makeConnectionId": make_connection_id,
        "defaultModel": model,
        "systemPrompt": system_prompt,
    });
    if let Value::Object(fields) = &mut body {
        for (key, value) in extra {
            fields.insert(key.clone(), value.clone());
        }
    }
    Bytes::from(serde_json::to_vec(&body).expect("JSON values serialize"))
}

/// Why setup could not finish; the run does not start.
#[derive(Debug)]
pub struct SetupError {
    pub fixture: String,
    pub failure: Failure,
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "setting up agent `{}` failed: {}",
            self.fixture, self.failure
        )?;
        let hint = match self.failure.class {
            ErrorClass::Http(401 | 403) => {
                "check the token (and its ai-agents scopes) and the team id"
            }
            ErrorClass::Http(404) => {
                "check the base URL, the team id and any agent id in the scenario"
            }
            ErrorClass::Http(400) => {
                "check the agent's model, system prompt and make_connection_id"
            }
            ErrorClass::Connect | ErrorClass::TimeoutConnect | ErrorClass::Tls => {
                "check that the target is reachable from here"
            }
            _ => "the target did not accept the request; see the message above",
        };
        write!(f, "\n  help: {hint}")
    }
}

/// Creates (or looks up) every fixture, registering created ones so teardown deletes them even
/// when a later fixture fails.
pub async fn setup(
    client: &ApiClient,
    plan: &Plan,
    prefix: &str,
    make_connection_id: u64,
    registry: &Registry,
) -> Result<Vec<FixtureAgent>, SetupError> {
    let mut agents = Vec::with_capacity(plan.fixtures.len());
    for fixture in &plan.fixtures {
        let fail = |failure: Failure| SetupError {
            fixture: fixture.name.clone(),
            failure,
        };
        let agent = match &fixture.kind {
            FixtureKind::Create {
                model,
                system_prompt,
                extra,
            } => {
                let remote_name = format!("{prefix}{}", fixture.name);
                let body = create_body(
                    &remote_name,
                    plan.target.team_id(),
                    make_connection_id,
                    model,
                    system_prompt,
                    extra,
                );
                let call = client.create(None, body).await;
                let id = match (call.sample.outcome, call.value) {
                    (Ok(()), Some(id)) => id,
                    (Err(failure), _) => return Err(fail(failure)),
                    (Ok(()), None) => unreachable!("a successful create has an id"),
                };
                registry.add(&id, &remote_name, false);
                FixtureAgent {
                    name: fixture.name.clone(),
                    id,
                    remote_name,
                    model: model.clone(),
                    system_prompt: system_prompt.clone(),
                }
            }
            FixtureKind::Existing { id } => {
                let call = client.get(None, id).await;
                let info = match (call.sample.outcome, call.value) {
                    (Ok(()), Some(info)) => info,
                    (Err(failure), _) => return Err(fail(failure)),
                    (Ok(()), None) => unreachable!("a successful get has an agent"),
                };
                FixtureAgent {
                    name: fixture.name.clone(),
                    id: id.clone(),
                    remote_name: info.name,
                    model: info.default_model,
                    system_prompt: info.system_prompt,
                }
            }
        };
        agents.push(agent);
    }
    Ok(agents)
}

/// What teardown did.
#[derive(Debug, Default)]
pub struct Teardown {
    pub deleted: usize,
    /// Agents that could not be deleted: (id, why).
    pub left: Vec<(String, String)>,
    /// Why the sweep for unregistered leftovers could not list the team's agents.
    pub sweep_failed: Option<String>,
}

/// Deletes running at once during teardown.
const TEARDOWN_CONCURRENCY: usize = 8;

/// Deletes every agent in the registry, then (when `sweep`) lists the team's agents and deletes
/// any that carry the run's prefix but were never registered (a create whose response was lost).
/// `client` should have short timeouts: teardown must not hang on a stalled server.
pub async fn teardown(
    client: &ApiClient,
    registry: &Registry,
    prefix: &str,
    sweep: bool,
) -> Teardown {
    let mut report = Teardown::default();
    let mut handled: HashSet<String> = HashSet::new();
    let pending = registry.pending();
    for (id, result) in delete_all(client, pending).await {
        match result {
            Ok(()) => {
                registry.remove(&id);
                report.deleted += 1;
            }
            Err(why) => report.left.push((id.clone(), why.to_string())),
        }
        handled.insert(id);
    }
    if sweep {
        let call = client.list(None).await;
        match (call.value, call.sample.outcome) {
            (Some(agents), _) => {
                let leftovers = agents
                    .into_iter()
                    .filter(|a| a.name.starts_with(prefix) && !handled.contains(&a.id))
                    .map(|a| a.id)
                    .collect();
                for (id, result) in delete_all(client, leftovers).await {
                    match result {
                        Ok(()) => report.deleted += 1,
                        Err(why) => report.left.push((id, why.to_string())),
                    }
                }
            }
            (None, Err(failure)) => report.sweep_failed = Some(failure.to_string()),
            (None, Ok(())) => {}
        }
    }
    report
}

/// Deletes `ids`, eight at a time, each with retries; returns how each went.
pub async fn delete_all(
    client: &ApiClient,
    ids: Vec<String>,
) -> Vec<(String, Result<(), Failure>)> {
    futures::stream::iter(ids)
        .map(|id| async move {
            let result = delete_with_retry(client, &id).await;
            (id, result)
        })
        .buffer_unordered(TEARDOWN_CONCURRENCY)
        .collect()
        .await
}

/// Deletes one agent, retrying what may pass on a second try (waiting as `Retry-After` says,
/// up to 10 s); a 404 means it is already gone.
async fn delete_with_retry(client: &ApiClient, id: &str) -> Result<(), Failure> {
    let mut last = None;
    let mut pause = Duration::ZERO;
    for attempt in 0..4u32 {
        if attempt > 0 {
            tokio::time::sleep(pause).await;
        }
        let call = client.delete(None, id).await;
        match call.sample.outcome {
            Ok(()) => return Ok(()),
            Err(Failure {
                class: ErrorClass::Http(404),
                ..
            }) => return Ok(()),
            Err(failure) => {
                let retry = matches!(
                    failure.class,
                    ErrorClass::Http(429 | 500..=599)
                        | ErrorClass::Connect
                        | ErrorClass::TimeoutConnect
                        | ErrorClass::TimeoutTotal
                        | ErrorClass::StreamCut
                );
                last = Some(failure);
                if !retry {
                    break;
                }
                let backoff = Duration::from_millis(250 << attempt);
                pause = call
                    .retry_after
                    .unwrap_or(backoff)
                    .min(Duration::from_secs(10));
            }
        }
    }
    Err(last.expect("the loop ends on a success or after a failure"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_tracks_created_and_spare_agents() {
        let registry = Registry::default();
        registry.add("a", "agentload-r-a", false);
        registry.add("b", "agentload-r-op-1", true);
        registry.add("c", "agentload-r-op-2", true);
        assert_eq!(registry.pending(), ["a", "b", "c"]);
        assert_eq!(registry.take_spare().as_deref(), Some("c"));
        registry.remove("c");
        registry.remove("a");
        assert_eq!(registry.pending(), ["b"]);
        assert_eq!(registry.take_spare().as_deref(), Some("b"));
        assert_eq!(registry.take_spare(), None);
    }

    #[test]
    fn create_bodies_carry_the_documented_fields_and_extras() {
        let mut extra = Map::new();
        extra.insert("llmConfig".into(), json!({ "maxTokens": 100 }));
        extra.insert("defaultModel".into(), json!("override"));
        let body: Value =
            serde_json::from_slice(&create_body("n", 7, 9, "m", "p", &extra)).unwrap();
        assert_eq!(
            body,
            json!({ "name": "n", "teamId": 7, "makeConnectionId": 9, "defaultModel": "override", "systemPrompt": "p", "llmConfig": { "maxTokens": 100 } })
        );
    }
}
