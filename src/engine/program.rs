//! The mix made ready to run: cumulative weights for picking an entry, bodies serialized once,
//! and the fixture agents resolved to ids, so the hot path only looks things up.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use rand::{Rng, RngExt};
use serde_json::{Map, Value, json};

use super::fixtures::{FixtureAgent, create_body};
use crate::model::sample::VariantId;
use crate::scenario::AgentTemplate;
use crate::scenario::check::default_run_body;
use crate::scenario::{AgentChoice, MixOp, Plan, RetryAfter};

/// One mix entry, ready to run.
#[derive(Debug)]
pub struct Entry {
    pub op: MixOp,
    pub agents: AgentChoice,
    /// Serialized body for run ops and patch (`None`: patch re-sets the agent's own name).
    pub body: Option<Bytes>,
    /// Fields merged into the create body (create, lifecycle).
    pub create_extra: Map<String, Value>,
    /// Run ops: runs per iteration, one conversation.
    pub turns: u32,
    /// Run ops: each run carries a `callbackUrl` and waits for its result.
    pub callback: bool,
}

/// Everything a virtual user needs to run iterations.
#[derive(Debug)]
pub struct Program {
    pub entries: Vec<Entry>,
    cumulative: Vec<u64>,
    pub fixtures: Vec<FixtureAgent>,
    /// Iterations of each entry given a variant so far, all workers together: `agent = "*"`
    /// hands them out round robin from this one counter, so every variant gets every k-th
    /// iteration of the entry whatever the worker, thread or virtual user.
    rotations: Vec<AtomicU64>,
    pub prefix: String,
    pub team_id: u64,
    pub make_connection_id: u64,
    /// What agents created with no fixture to copy are made of.
    pub template: AgentTemplate,
    /// Sends again after a 429 at most this many times (`retry_after = "honour"`); `None`:
    /// a 429 is counted, not retried.
    pub max_retries: Option<u32>,
    /// `timeout.total`: no 429 is waited out past it, counted from the first send.
    pub total_timeout: std::time::Duration,
}

impl Program {
    pub fn new(
        plan: &Plan,
        fixtures: Vec<FixtureAgent>,
        prefix: String,
        make_connection_id: u64,
    ) -> Program {
        let entries: Vec<Entry> = plan
            .mix
            .iter()
            .map(|entry| {
                let body = match (entry.op, &entry.body) {
                    (MixOp::Run | MixOp::RunStream, body) => {
                        Some(to_bytes(body.as_ref().unwrap_or(&default_run_body())))
                    }
                    (MixOp::Patch, Some(body)) => Some(to_bytes(body)),
                    _ => None,
                };
                let create_extra = match (entry.op, &entry.body) {
                    (MixOp::Create | MixOp::Lifecycle, Some(Value::Object(fields))) => {
                        fields.clone()
                    }
                    _ => Map::new(),
                };
                Entry {
                    op: entry.op,
                    agents: entry.agents,
                    body,
                    create_extra,
                    turns: entry.turns,
                    callback: entry.callback,
                }
            })
            .collect();
        let mut total = 0u64;
        let cumulative = plan
            .mix
            .iter()
            .map(|entry| {
                total += u64::from(entry.weight);
                total
            })
            .collect();
        Program {
            rotations: entries.iter().map(|_| AtomicU64::new(0)).collect(),
            entries,
            cumulative,
            fixtures,
            prefix,
            team_id: plan.target.team_id(),
            make_connection_id,
            template: plan.template.clone(),
            max_retries: (plan.target.retry_after == RetryAfter::Honour)
                .then_some(plan.target.max_retries),
            total_timeout: plan.target.timeouts.total,
        }
    }

    /// The index of a mix entry, with probability proportional to its weight.
    pub fn pick(&self, rng: &mut impl Rng) -> usize {
        let total = *self
            .cumulative
            .last()
            .expect("a plan has at least one mix entry");
        let ticket = rng.random_range(0..total);
        self.cumulative.partition_point(|&edge| edge <= ticket)
    }

    /// The fixture an iteration of entry `index` uses. `agent = "*"` takes the fixtures in
    /// turn, one counter per entry shared by every worker: of any run of k iterations of the
    /// entry (k fixtures), each fixture gets one, so variants see the same arrival process
    /// (every k-th arrival) and their counts differ by at most one per entry.
    pub fn choose_agent(&self, index: usize) -> Option<VariantId> {
        match self.entries[index].agents {
            AgentChoice::None => None,
            AgentChoice::One(variant) => Some(variant),
            AgentChoice::All => {
                let turn = self.rotations[index].fetch_add(1, Ordering::Relaxed);
                Some((turn % self.fixtures.len() as u64) as VariantId)
            }
        }
    }

    pub fn fixture(&self, variant: VariantId) -> &FixtureAgent {
        &self.fixtures[usize::from(variant)]
    }

    /// The create body of a new agent named `name`, templated on the variant's fixture if any.
    pub fn create_body(&self, entry: &Entry, variant: Option<VariantId>, name: &str) -> Bytes {
        let (model, prompt) = match variant {
            Some(v) => (
                self.fixture(v).model.as_str(),
                self.fixture(v).system_prompt.as_str(),
            ),
            None => (
                self.template.model.as_str(),
                self.template.system_prompt.as_str(),
            ),
        };
        create_body(
            name,
            self.team_id,
            self.make_connection_id,
            model,
            prompt,
            &entry.create_extra,
        )
    }

    /// The patch body: the entry's, or one that re-sets the agent's name (harmless, and keeps
    /// the run's prefix on the agent).
    pub fn patch_body(&self, entry: &Entry, current_name: &str) -> Bytes {
        match &entry.body {
            Some(body) => body.clone(),
            None => to_bytes(&json!({ "name": current_name })),
        }
    }
}

/// A run body with string fields set for this run only (`threadId`, `callbackUrl`), spliced
/// into the serialized object rather than serializing it again. The plan refuses bodies that
/// already carry these fields, so no key appears twice.
pub fn with_fields(body: &Bytes, fields: &[(&str, &str)]) -> Bytes {
    if fields.is_empty() {
        return body.clone();
    }
    let rest = body
        .strip_prefix(b"{")
        .expect("run bodies are serialized JSON objects");
    let mut out = Vec::with_capacity(body.len() + 64 * fields.len());
    out.push(b'{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, key).expect("strings serialize");
        out.push(b':');
        serde_json::to_writer(&mut out, value).expect("strings serialize");
    }
    if rest != b"}" {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    Bytes::from(out)
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("JSON values serialize"))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;
    use crate::scenario;

    fn plan(mix: &str) -> Plan {
        let text = format!(
            "[load]\nvus = 1\niterations = 1\n[[agents]]\nname = \"a\"\nmodel = \"m\"\nsystem_prompt = \"p\"\n[[agents]]\nname = \"b\"\nmodel = \"m2\"\nsystem_prompt = \"p2\"\n{mix}"
        );
        scenario::parse("t.toml", text.as_bytes(), "t").unwrap()
    }

    fn fixture(name: &str, model: &str) -> FixtureAgent {
        FixtureAgent {
            name: name.into(),
            id: format!("id-{name}"),
            remote_name: format!("agentload-r-{name}"),
            model: model.into(),
            system_prompt: "p".into(),
        }
    }

    #[test]
    fn picks_follow_the_weights() {
        let plan = plan("[[mix]]\nop = \"list\"\nweight = 1\n[[mix]]\nop = \"get\"\nweight = 3\n");
        let program = Program::new(
            &plan,
            vec![fixture("a", "m"), fixture("b", "m2")],
            "agentload-r-".into(),
            1,
        );
        let mut rng = SmallRng::seed_from_u64(7);
        let gets = (0..4000)
            .filter(|_| program.entries[program.pick(&mut rng)].op == MixOp::Get)
            .count();
        assert!(
            (2850..=3150).contains(&gets),
            "gets {gets} of 4000 for weight 3 of 4"
        );
    }

    #[test]
    fn star_rotates_over_every_fixture() {
        let plan = plan("[[mix]]\nop = \"run\"\nagent = \"*\"\n");
        let program = Program::new(
            &plan,
            vec![fixture("a", "m"), fixture("b", "m2")],
            "agentload-r-".into(),
            1,
        );
        let picks: Vec<_> = (0..4).map(|_| program.choose_agent(0)).collect();
        assert_eq!(picks, [Some(0), Some(1), Some(0), Some(1)]);
        let body: Value =
            serde_json::from_slice(program.entries[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(body, default_run_body());
    }

    #[test]
    fn star_is_fair_across_threads_and_entries() {
        // Three fixtures, two `*` entries picked at random by four threads at once: each
        // entry's iterations are spread over the fixtures with counts at most one apart.
        let plan = plan(
            "[[agents]]\nname = \"c\"\nmodel = \"m3\"\nsystem_prompt = \"p3\"\n\
             [[mix]]\nop = \"run\"\nweight = 3\n[[mix]]\nop = \"run_stream\"\n[[mix]]\nop = \"list\"\n",
        );
        let program = Program::new(
            &plan,
            vec![fixture("a", "m"), fixture("b", "m2"), fixture("c", "m3")],
            "agentload-r-".into(),
            1,
        );
        let counts: Vec<[[u64; 3]; 3]> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4u64)
                .map(|worker| {
                    let program = &program;
                    scope.spawn(move || {
                        let mut rng = SmallRng::seed_from_u64(worker);
                        let mut counts = [[0u64; 3]; 3];
                        for _ in 0..3001 {
                            let index = program.pick(&mut rng);
                            if let Some(variant) = program.choose_agent(index) {
                                counts[index][usize::from(variant)] += 1;
                            }
                        }
                        counts
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for entry in 0..2 {
            let per_variant: Vec<u64> = (0..3)
                .map(|v| counts.iter().map(|c| c[entry][v]).sum())
                .collect();
            let spread = per_variant.iter().max().unwrap() - per_variant.iter().min().unwrap();
            assert!(spread <= 1, "entry {entry}: {per_variant:?}");
            assert!(per_variant[0] > 500, "entry {entry}: {per_variant:?}");
        }
        let lists: u64 = counts.iter().flat_map(|c| c[2]).sum();
        assert_eq!(lists, 0, "list uses no agent");
    }

    #[test]
    fn run_fields_are_spliced_into_the_body() {
        let body = to_bytes(&json!({"messages": [{"role": "user", "content": "hi"}]}));
        let spliced = with_fields(
            &body,
            &[("threadId", "t-1"), ("callbackUrl", "http://x/\"q")],
        );
        let value: Value = serde_json::from_slice(&spliced).unwrap();
        assert_eq!(
            value,
            json!({"threadId": "t-1", "callbackUrl": "http://x/\"q", "messages": [{"role": "user", "content": "hi"}]})
        );
        let empty = with_fields(&to_bytes(&json!({})), &[("threadId", "t")]);
        assert_eq!(&empty[..], br#"{"threadId":"t"}"#);
        assert_eq!(with_fields(&body, &[]), body);
    }

    #[test]
    fn bodies_are_templated_on_the_fixture() {
        let plan = plan(
            "[[mix]]\nop = \"lifecycle\"\nagent = \"b\"\nbody = { llmConfig = { maxTokens = 5 } }\n",
        );
        let program = Program::new(
            &plan,
            vec![fixture("a", "m"), fixture("b", "m2")],
            "agentload-r-".into(),
            9,
        );
        let entry = &program.entries[0];
        let body: Value =
            serde_json::from_slice(&program.create_body(entry, Some(1), "agentload-r-op-1"))
                .unwrap();
        assert_eq!(body["defaultModel"], "m2");
        assert_eq!(body["makeConnectionId"], 9);
        assert_eq!(body["llmConfig"]["maxTokens"], 5);
        let patch: Value =
            serde_json::from_slice(&program.patch_body(entry, "agentload-r-op-1")).unwrap();
        assert_eq!(patch, json!({ "name": "agentload-r-op-1" }));
    }
}
