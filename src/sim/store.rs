//! The in-memory store behind the simulator: agents per team and the turn count of each thread.
//! Plain data with no locking or I/O of its own; `SimState` wraps it in one mutex that no
//! handler holds across an `.await`.

use std::collections::{HashMap, VecDeque};
use std::time::SystemTime;

use serde_json::{Map, Number, Value, json};

/// Optional agent fields that are stored as given and echoed back in the agent object.
pub const PASSTHROUGH_FIELDS: [&str; 6] = [
    "outputParserFormat",
    "llmConfig",
    "scenarios",
    "historyConfig",
    "mcpConfigs",
    "contexts",
];

/// Threads remembered at most; the oldest is forgotten first. A forgotten thread id that comes
/// back is simply started again, as any thread id the simulator never issued is.
pub const MAX_THREADS: usize = 100_000;

/// One stored agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: String,
    pub team_id: u64,
    pub name: String,
    pub system_prompt: String,
    pub default_model: String,
    pub make_connection_id: Number,
    pub created_at: SystemTime,
    /// Fields from `PASSTHROUGH_FIELDS` that were set, in the order they were given.
    pub extras: Map<String, Value>,
    /// Creation order, so listings are stable.
    seq: u64,
}

impl Agent {
    /// The agent object as `GET /agents/{id}` and the listing return it.
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "id": self.id,
            "name": self.name,
            "teamId": self.team_id,
            "createdAt": humantime::format_rfc3339_millis(self.created_at).to_string(),
            "systemPrompt": self.system_prompt,
            "defaultModel": self.default_model,
            "makeConnectionId": self.make_connection_id,
            "makeConnectionType": null,
            "llmProviderId": 1,
        });
        if let Value::Object(map) = &mut object {
            map.extend(self.extras.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        object
    }
}

/// The fields a create request supplies; the store adds the sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAgent {
    pub id: String,
    pub team_id: u64,
    pub name: String,
    pub system_prompt: String,
    pub default_model: String,
    pub make_connection_id: Number,
    pub created_at: SystemTime,
    pub extras: Map<String, Value>,
}

/// A checked partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub system_prompt: Option<String>,
    pub default_model: Option<String>,
    pub extras: Map<String, Value>,
}

#[derive(Debug, Default)]
pub struct Store {
    agents: HashMap<String, Agent>,
    next_seq: u64,
    threads: HashMap<String, u32>,
    /// Thread ids in the order they were first seen, for forgetting the oldest.
    thread_order: VecDeque<String>,
}

impl Store {
    pub fn insert(&mut self, new: NewAgent) -> Agent {
        let agent = Agent {
            id: new.id,
            team_id: new.team_id,
            name: new.name,
            system_prompt: new.system_prompt,
            default_model: new.default_model,
            make_connection_id: new.make_connection_id,
            created_at: new.created_at,
            extras: new.extras,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.agents.insert(agent.id.clone(), agent.clone());
        agent
    }

    /// The team's agent with this id; another team's agent is not found.
    pub fn get(&self, team_id: u64, agent_id: &str) -> Option<&Agent> {
        self.agents
            .get(agent_id)
            .filter(|agent| agent.team_id == team_id)
    }

    /// The team's agents in creation order.
    pub fn list(&self, team_id: u64) -> Vec<&Agent> {
        let mut agents: Vec<&Agent> = self
            .agents
            .values()
            .filter(|a| a.team_id == team_id)
            .collect();
        agents.sort_by_key(|agent| agent.seq);
        agents
    }

    /// Applies `patch`; false if the team has no such agent.
    pub fn update(&mut self, team_id: u64, agent_id: &str, patch: AgentPatch) -> bool {
        let Some(agent) = self
            .agents
            .get_mut(agent_id)
            .filter(|a| a.team_id == team_id)
        else {
            return false;
        };
        if let Some(name) = patch.name {
            agent.name = name;
        }
        if let Some(prompt) = patch.system_prompt {
            agent.system_prompt = prompt;
        }
        if let Some(model) = patch.default_model {
            agent.default_model = model;
        }
        agent.extras.extend(patch.extras);
        true
    }

    /// Removes the team's agent; false if there was none.
    pub fn remove(&mut self, team_id: u64, agent_id: &str) -> bool {
        if self.get(team_id, agent_id).is_none() {
            return false;
        }
        self.agents.remove(agent_id).is_some()
    }

    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// Every agent's name, all teams, in creation order.
    pub fn names(&self) -> Vec<String> {
        let mut agents: Vec<&Agent> = self.agents.values().collect();
        agents.sort_by_key(|agent| agent.seq);
        agents.into_iter().map(|agent| agent.name.clone()).collect()
    }

    /// Counts one more turn on `thread_id` and returns the turn number (1 for a new thread).
    pub fn next_turn(&mut self, thread_id: &str) -> u32 {
        if let Some(turns) = self.threads.get_mut(thread_id) {
            *turns += 1;
            return *turns;
        }
        if self.thread_order.len() >= MAX_THREADS
            && let Some(oldest) = self.thread_order.pop_front()
        {
            self.threads.remove(&oldest);
        }
        self.threads.insert(thread_id.to_owned(), 1);
        self.thread_order.push_back(thread_id.to_owned());
        1
    }

    #[cfg(test)]
    pub fn turns(&self, thread_id: &str) -> Option<u32> {
        self.threads.get(thread_id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_agent(id: &str, team_id: u64, name: &str) -> NewAgent {
        NewAgent {
            id: id.into(),
            team_id,
            name: name.into(),
            system_prompt: "Be brief.".into(),
            default_model: "gpt-4o-mini".into(),
            make_connection_id: Number::from(7),
            created_at: SystemTime::UNIX_EPOCH,
            extras: Map::new(),
        }
    }

    #[test]
    fn agents_are_scoped_to_their_team_and_listed_in_creation_order() {
        let mut store = Store::default();
        store.insert(new_agent("b", 1, "second-id-first"));
        store.insert(new_agent("a", 1, "first-id-second"));
        store.insert(new_agent("c", 2, "other-team"));

        let names: Vec<&str> = store.list(1).iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["second-id-first", "first-id-second"]);
        assert!(store.get(1, "c").is_none());
        assert_eq!(store.get(2, "c").unwrap().name, "other-team");
        assert!(
            !store.remove(1, "c"),
            "another team's agent cannot be deleted"
        );
        assert_eq!(store.len(), 3);
        assert_eq!(
            store.names(),
            ["second-id-first", "first-id-second", "other-team"]
        );
    }

    #[test]
    fn patches_change_only_what_they_name() {
        let mut store = Store::default();
        store.insert(new_agent("a", 1, "before"));
        let mut extras = Map::new();
        extras.insert("llmConfig".into(), json!({"maxTokens": 100}));
        let patch = AgentPatch {
            name: Some("after".into()),
            extras,
            ..AgentPatch::default()
        };
        assert!(store.update(1, "a", patch.clone()));
        assert!(!store.update(2, "a", patch));
        let agent = store.get(1, "a").unwrap();
        assert_eq!(agent.name, "after");
        assert_eq!(agent.system_prompt, "Be brief.");
        assert_eq!(agent.to_json()["llmConfig"], json!({"maxTokens": 100}));
        assert_eq!(agent.to_json()["createdAt"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn threads_count_turns_and_forget_the_oldest() {
        let mut store = Store::default();
        assert_eq!(store.next_turn("t"), 1);
        assert_eq!(store.next_turn("t"), 2);
        for i in 0..MAX_THREADS {
            store.next_turn(&format!("filler-{i}"));
        }
        assert_eq!(
            store.turns("t"),
            None,
            "the oldest thread is forgotten past the cap"
        );
        assert_eq!(store.turns(&format!("filler-{}", MAX_THREADS - 1)), Some(1));
        assert_eq!(store.next_turn("t"), 1, "a forgotten thread starts again");
    }
}
