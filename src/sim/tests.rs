//! End-to-end tests of the simulator over real HTTP on an ephemeral loopback port, as the
//! harness sees it.

mod fault_injection;

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use super::{Profile, SimConfig, SimServer};
use crate::model::units::Spread;

const TOKEN: &str = "sim-test-token";
const TEAM: u64 = 7;
const PROMPT: &str = "Answer in one sentence.";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// ttfs 30ms, step gap 10ms, 4 steps, run time 20ms: every value fixed.
fn fixed_profile() -> Profile {
    Profile {
        ttfs: Spread::fixed(ms(30)),
        step_gap: Spread::fixed(ms(10)),
        steps: Spread::fixed(4),
        run_time: Spread::fixed(ms(20)),
        ..Profile::default()
    }
}

async fn start(seed: u64, profile: Profile) -> SimServer {
    let mut config = SimConfig::new(TOKEN);
    config.seed = seed;
    config.default_profile = profile;
    SimServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// A client that talks to one server as team `TEAM` with the right token, unless told otherwise.
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(server: &SimServer) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Client {
            http,
            base: server.base_url(),
        }
    }

    /// `path` relative to `/ai-agents/v1/agents`, with `?teamId=team`.
    fn bare(&self, method: Method, path: &str, team: u64) -> RequestBuilder {
        let url = format!("{}/ai-agents/v1/agents{path}?teamId={team}", self.base);
        self.http.request(method, url)
    }

    fn as_team(&self, method: Method, path: &str, team: u64) -> RequestBuilder {
        self.bare(method, path, team)
            .header("Authorization", format!("Token {TOKEN}"))
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.as_team(method, path, TEAM)
    }

    async fn create(&self, name: &str) -> Value {
        let response = self
            .req(Method::POST, "")
            .json(&create_body(name))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    async fn get_agent(&self, id: &str) -> (StatusCode, Value) {
        let response = self
            .req(Method::GET, &format!("/{id}"))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

fn create_body(name: &str) -> Value {
    json!({
        "name": name,
        "teamId": TEAM,
        "makeConnectionId": 456,
        "defaultModel": "gpt-4o-mini",
        "systemPrompt": PROMPT,
    })
}

fn run_body(message: &str) -> Value {
    json!({"messages": [{"role": "user", "content": message}], "config": {}, "passThrough": true})
}

/// Asserts the documented error body and its content type; returns its `detail`.
async fn assert_error(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], format!("SC{}", status.as_u16()), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(sorted_keys(&body), ["code", "detail", "message"], "{body}");
    body["detail"].as_str().unwrap().to_owned()
}

fn sorted_keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// One received `step` event, checked against the documented framing.
#[derive(Debug)]
struct Event {
    id: String,
    data: Value,
}

fn parse_events(text: &str) -> Vec<Event> {
    assert!(
        text.ends_with("\n\n"),
        "the last event ends with a blank line: {text:?}"
    );
    assert!(!text.contains('\r'), "LF line ends only");
    text.strip_suffix("\n\n")
        .unwrap()
        .split("\n\n")
        .map(|block| {
            let lines: Vec<&str> = block.split('\n').collect();
            assert_eq!(lines.len(), 3, "event, id and one data line: {block:?}");
            assert_eq!(lines[0], "event:step");
            let id = lines[1].strip_prefix("id:").expect("id line").to_owned();
            let data = lines[2].strip_prefix("data:").expect("data line");
            assert!(
                data.starts_with("{\"role\":") && !id.starts_with(' '),
                "as documented: {block:?}"
            );
            Event {
                id,
                data: serde_json::from_str(data).unwrap(),
            }
        })
        .collect()
}

#[tokio::test]
async fn agents_are_created_read_listed_patched_and_deleted() {
    let server = start(1, fixed_profile()).await;
    let client = Client::new(&server);

    let created = client.create("gpt-short").await;
    let id = created["agentId"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(
        created,
        json!({
            "agentId": id, "name": "gpt-short", "teamId": TEAM, "makeConnectionId": 456,
            "defaultModel": "gpt-4o-mini", "systemPrompt": PROMPT,
        })
    );

    let (status, agent) = client.get_agent(&id).await;
    assert_eq!(status, StatusCode::OK);
    let created_at = agent["createdAt"].as_str().unwrap();
    assert!(
        created_at.ends_with('Z') && created_at.len() == 24,
        "{created_at}"
    );
    humantime::parse_rfc3339(created_at).unwrap();
    assert_eq!(
        agent,
        json!({
            "id": id, "name": "gpt-short", "teamId": TEAM, "createdAt": created_at,
            "systemPrompt": PROMPT, "defaultModel": "gpt-4o-mini", "makeConnectionId": 456,
            "makeConnectionType": null, "llmProviderId": 1,
        })
    );

    let list: Value = client
        .req(Method::GET, "")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([agent]));

    let patch =
        json!({"name": "renamed", "systemPrompt": "Be terse.", "llmConfig": {"maxTokens": 50}});
    let response = client
        .req(Method::PATCH, &format!("/{id}"))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    let (_, patched) = client.get_agent(&id).await;
    assert_eq!(patched["name"], "renamed");
    assert_eq!(patched["systemPrompt"], "Be terse.");
    assert_eq!(patched["defaultModel"], "gpt-4o-mini");
    assert_eq!(patched["llmConfig"], json!({"maxTokens": 50}));
    assert_eq!(patched["createdAt"], created_at);
    assert_eq!(server.state.agent_names(), ["renamed"]);

    let response = client
        .req(Method::DELETE, &format!("/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    let response = client
        .req(Method::GET, &format!("/{id}"))
        .send()
        .await
        .unwrap();
    assert!(
        assert_error(response, StatusCode::NOT_FOUND)
            .await
            .contains(&id)
    );
    let response = client
        .req(Method::DELETE, &format!("/{id}"))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::NOT_FOUND).await;
    assert_eq!(server.state.agent_count(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn the_store_is_empty_after_deleting_everything() {
    let server = start(2, fixed_profile()).await;
    let client = Client::new(&server);
    let mut ids = Vec::new();
    for (i, team) in [TEAM, TEAM, 99].into_iter().enumerate() {
        let response = client
            .as_team(Method::POST, "", team)
            .json(&create_body(&format!("a{i}")))
            .send()
            .await
            .unwrap();
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["teamId"], team, "stored under the query's team");
        ids.push((team, created["agentId"].as_str().unwrap().to_owned()));
    }
    assert_eq!(server.state.agent_count(), 3);
    assert_eq!(server.state.agent_names(), ["a0", "a1", "a2"]);
    let listed: Value = client
        .req(Method::GET, "")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "only the team's own agents"
    );

    for (team, id) in &ids {
        let response = client
            .as_team(Method::DELETE, &format!("/{id}"), *team)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(server.state.agent_count(), 0);
    assert!(server.state.agent_names().is_empty());
    let listed: Value = client
        .req(Method::GET, "")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_401() {
    let server = start(3, fixed_profile()).await;
    let client = Client::new(&server);

    let wrong = client
        .bare(Method::GET, "", TEAM)
        .header("Authorization", "Token wrong");
    let detail = assert_error(wrong.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    assert!(!detail.contains(TOKEN));
    let missing = client.bare(Method::GET, "", TEAM);
    assert_error(missing.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    let not_even_with_a_body = client.bare(Method::POST, "", TEAM).json(&create_body("x"));
    assert_error(
        not_even_with_a_body.send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let bearer = client
        .bare(Method::GET, "", TEAM)
        .header("Authorization", format!("Bearer {TOKEN}"));
    assert_eq!(bearer.send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(server.state.agent_count(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn team_id_is_required_and_scopes_every_agent() {
    let server = start(4, fixed_profile()).await;
    let client = Client::new(&server);

    let url = format!("{}/ai-agents/v1/agents", client.base);
    let no_team = client
        .http
        .get(&url)
        .header("Authorization", format!("Token {TOKEN}"));
    assert!(
        assert_error(no_team.send().await.unwrap(), StatusCode::BAD_REQUEST)
            .await
            .contains("teamId")
    );
    let zero = client.as_team(Method::GET, "", 0);
    assert!(
        assert_error(zero.send().await.unwrap(), StatusCode::BAD_REQUEST)
            .await
            .contains("teamId")
    );

    let id = client.create("mine").await["agentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/{id}");
    let other = |method| client.as_team(method, &path, TEAM + 1);
    assert_error(
        other(Method::GET).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let patch = other(Method::PATCH).json(&json!({"name": "stolen"}));
    assert_error(patch.send().await.unwrap(), StatusCode::NOT_FOUND).await;
    assert_error(
        other(Method::DELETE).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let run = client
        .as_team(Method::POST, &format!("/{id}/run"), TEAM + 1)
        .json(&run_body("hi"));
    assert_error(run.send().await.unwrap(), StatusCode::NOT_FOUND).await;
    let stream = client
        .as_team(Method::POST, &format!("/{id}/run/stream"), TEAM + 1)
        .json(&run_body("hi"));
    assert_error(stream.send().await.unwrap(), StatusCode::NOT_FOUND).await;

    let (status, agent) = client.get_agent(&id).await;
    assert_eq!(
        (status, agent["name"].as_str()),
        (StatusCode::OK, Some("mine"))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_bodies_are_400_naming_the_field() {
    let server = start(5, fixed_profile()).await;
    let client = Client::new(&server);

    let mut body = create_body("no-prompt");
    body.as_object_mut().unwrap().remove("systemPrompt");
    let response = client
        .req(Method::POST, "")
        .json(&body)
        .send()
        .await
        .unwrap();
    let detail = assert_error(response, StatusCode::BAD_REQUEST).await;
    assert!(detail.contains("systemPrompt"), "{detail}");

    let cases = [
        ("name", json!("")),
        ("teamId", json!("7")),
        ("teamId", json!(0)),
        ("teamId", json!(-7)),
        ("teamId", json!(-0.5)),
        ("teamId", Value::Null),
        ("makeConnectionId", Value::Null),
        ("defaultModel", json!(4)),
        ("systemPrompt", json!("")),
    ];
    for (field, value) in cases {
        let mut body = create_body("bad");
        body[field] = value;
        let response = client
            .req(Method::POST, "")
            .json(&body)
            .send()
            .await
            .unwrap();
        let detail = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(detail.contains(field), "{field}: {detail}");
    }
    let not_json = client
        .req(Method::POST, "")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert!(
        assert_error(not_json, StatusCode::BAD_REQUEST)
            .await
            .contains("JSON")
    );
    assert_eq!(server.state.agent_count(), 0);

    let id = client.create("ok").await["agentId"]
        .as_str()
        .unwrap()
        .to_owned();
    for patch in [
        json!({"name": 5}),
        json!({"systemPrompt": ""}),
        json!({"llmConfig": "big"}),
    ] {
        let response = client
            .req(Method::PATCH, &format!("/{id}"))
            .json(&patch)
            .send()
            .await
            .unwrap();
        let field = patch.as_object().unwrap().keys().next().unwrap().clone();
        assert!(
            assert_error(response, StatusCode::BAD_REQUEST)
                .await
                .contains(&field)
        );
    }
    let unknown = client
        .req(Method::PATCH, "/no-such-agent")
        .json(&json!({"name": "x"}));
    assert_error(unknown.send().await.unwrap(), StatusCode::NOT_FOUND).await;

    for path in [format!("/{id}/run"), format!("/{id}/run/stream")] {
        let response = client
            .req(Method::POST, &path)
            .json(&json!({"messages": []}))
            .send()
            .await
            .unwrap();
        assert!(
            assert_error(response, StatusCode::BAD_REQUEST)
                .await
                .contains("messages")
        );
        let system = json!({"messages": [{"role": "system", "content": "x"}]});
        let response = client
            .req(Method::POST, &path)
            .json(&system)
            .send()
            .await
            .unwrap();
        assert!(
            assert_error(response, StatusCode::BAD_REQUEST)
                .await
                .contains("role")
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn axum_rejections_answer_with_the_error_body() {
    let server = start(12, fixed_profile()).await;
    let client = Client::new(&server);

    // Over axum's default 2 MB body limit: 413, whether the length is declared or not.
    let mut big = create_body("big");
    big["systemPrompt"] = json!("x".repeat(3 << 20));
    let response = client
        .req(Method::POST, "")
        .json(&big)
        .send()
        .await
        .unwrap();
    let detail = assert_error(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(detail.contains("length limit exceeded"), "{detail}");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .to_string()
        .into_bytes()
        .chunks(64 << 10)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    let streamed = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let response = client
        .req(Method::POST, "")
        .header("content-type", "application/json")
        .body(streamed)
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(server.state.agent_count(), 0);

    // A path segment that is not UTF-8: 400, under /api/v2 and at the root.
    for path in ["/%FF", "/%FF/run", "/%FF/run/stream"] {
        let method = if path.ends_with("/%FF") {
            Method::GET
        } else {
            Method::POST
        };
        let response = client
            .req(method, path)
            .json(&run_body("hi"))
            .send()
            .await
            .unwrap();
        let detail = assert_error(response, StatusCode::BAD_REQUEST).await;
        assert!(!detail.is_empty(), "{path}");
    }
    let root = format!(
        "http://{}/ai-agents/v1/agents/%FF?teamId={TEAM}",
        server.addr
    );
    let response = client
        .http
        .get(root)
        .header("Authorization", format!("Token {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST).await;

    // The ordinary error bodies and successes pass through untouched.
    assert_error(
        client.req(Method::GET, "/missing").send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    client.create("small").await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_blocking_run_takes_the_run_time_and_keeps_threads() {
    let server = start(6, fixed_profile()).await;
    let client = Client::new(&server);
    let id = client.create("runner").await["agentId"]
        .as_str()
        .unwrap()
        .to_owned();

    let sent = Instant::now();
    let response = client
        .req(Method::POST, &format!("/{id}/run"))
        .json(&run_body("What is 2+2?"))
        .send()
        .await
        .unwrap();
    assert!(sent.elapsed() >= ms(20));
    assert_eq!(response.status(), StatusCode::OK);
    let run: Value = response.json().await.unwrap();
    assert_eq!(run["executionTimeMs"], 20);
    let answer = run["response"].as_str().unwrap();
    assert!(
        answer.contains("What is 2+2?") && answer.contains("turn 1"),
        "{answer}"
    );
    assert_eq!(run["jsonResponse"], json!({}));
    let thread_id = run["threadId"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&thread_id).is_ok());
    let iteration = run["lastAgentIterationId"].as_str().unwrap();
    let steps = run["executionSteps"].as_array().unwrap();
    let roles: Vec<&str> = steps.iter().map(|s| s["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "tool", "assistant"]);
    assert!(steps.iter().all(|s| s["agentIterationId"] == iteration));
    assert_eq!(steps[3]["content"], answer);
    let usage = &run["tokenUsageSummary"];
    let (prompt, completion) = (
        usage["promptTokens"].as_u64().unwrap(),
        usage["completionTokens"].as_u64().unwrap(),
    );
    assert!(prompt > 0 && completion > 0);
    assert_eq!(usage["totalTokens"], prompt + completion);

    let mut again = run_body("And 3+3?");
    again["threadId"] = json!(thread_id);
    let run: Value = client
        .req(Method::POST, &format!("/{id}/run"))
        .json(&again)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run["threadId"], thread_id.as_str());
    assert!(run["response"].as_str().unwrap().contains("turn 2"));

    let mut stranger = run_body("hello");
    stranger["threadId"] = json!("never-issued");
    let run: Value = client
        .req(Method::POST, &format!("/{id}/run"))
        .json(&stranger)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run["threadId"], "never-issued");
    assert!(run["response"].as_str().unwrap().contains("turn 1"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_stream_sends_the_documented_steps_then_ends() {
    let server = start(7, fixed_profile()).await;
    let client = Client::new(&server);
    let id = client.create("streamer").await["agentId"]
        .as_str()
        .unwrap()
        .to_owned();

    let sent = Instant::now();
    let message = "Say \"hi\"\non two lines";
    let response = client
        .req(Method::POST, &format!("/{id}/run/stream"))
        .json(&run_body(message))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let mut body = response.bytes_stream();
    let mut text = Vec::new();
    let mut first_byte = None;
    while let Some(chunk) = body.next().await {
        first_byte.get_or_insert_with(|| sent.elapsed());
        text.extend_from_slice(&chunk.unwrap());
    }
    let total = sent.elapsed();
    assert!(
        first_byte.unwrap() >= ms(30),
        "the first step waits ttfs: {first_byte:?}"
    );
    assert!(total >= ms(30 + 3 * 10), "{total:?}");
    assert!(
        total < ms(2000),
        "the body ends right after the last step: {total:?}"
    );

    let events = parse_events(std::str::from_utf8(&text).unwrap());
    assert_eq!(events.len(), 4);
    let roles: Vec<&str> = events
        .iter()
        .map(|e| e.data["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "tool", "assistant"]);
    let system = events[0].data["content"].as_str().unwrap();
    let now = system
        .strip_prefix(&format!("{PROMPT}\nCurrent time (ISO): "))
        .expect(system);
    humantime::parse_rfc3339(now).unwrap();
    assert_eq!(events[1].data["content"], message);
    assert!(
        events[3].data["content"]
            .as_str()
            .unwrap()
            .contains("turn 1")
    );
    let iteration = events[0].data["agentIterationId"].as_str().unwrap();
    for event in &events {
        assert_eq!(
            sorted_keys(&event.data),
            ["agentIterationId", "content", "id", "role"]
        );
        assert_eq!(event.data["agentIterationId"], iteration);
        assert!(uuid::Uuid::parse_str(&event.id).is_ok());
        assert!(uuid::Uuid::parse_str(event.data["id"].as_str().unwrap()).is_ok());
        assert_ne!(event.data["id"], event.id.as_str());
    }
    server.shutdown().await;
}

/// Agent id, event ids, step ids and iteration id of one create + run_stream.
async fn ids_of_a_session(seed: u64) -> Vec<String> {
    let server = start(seed, fixed_profile()).await;
    let client = Client::new(&server);
    let id = client.create("same").await["agentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = client
        .req(Method::POST, &format!("/{id}/run/stream"))
        .json(&run_body("hi"))
        .send()
        .await
        .unwrap();
    let events = parse_events(&response.text().await.unwrap());
    let mut ids = vec![
        id,
        events[0].data["agentIterationId"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    for event in events {
        ids.push(event.id);
        ids.push(event.data["id"].as_str().unwrap().to_owned());
    }
    server.shutdown().await;
    ids
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids() {
    let first = ids_of_a_session(42).await;
    assert_eq!(first.len(), 2 + 2 * 4);
    assert_eq!(first, ids_of_a_session(42).await);
    assert_ne!(first, ids_of_a_session(43).await);
}

#[tokio::test]
async fn routes_answer_at_the_root_too_and_unknown_ones_are_404() {
    let server = start(8, fixed_profile()).await;
    let http = reqwest::Client::new();
    let auth = format!("Token {TOKEN}");
    let root = format!("http://{}/ai-agents/v1/agents?teamId={TEAM}", server.addr);
    let response = http
        .get(&root)
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    for path in ["/api/v2/nope", "/nope", "/api/v2/ai-agents/v1/agents/x/y/z"] {
        let url = format!("http://{}{path}?teamId={TEAM}", server.addr);
        let response = http
            .get(&url)
            .header("Authorization", &auth)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::NOT_FOUND).await;
    }
    let put = http.put(format!(
        "{}/ai-agents/v1/agents?teamId={TEAM}",
        server.base_url()
    ));
    assert_error(
        put.header("Authorization", &auth).send().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    assert_eq!(
        server.state.requests_served(),
        5,
        "every request counts, failed ones too"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn each_model_gets_its_own_profile() {
    let mut config = SimConfig::new(TOKEN);
    config.default_profile = fixed_profile();
    config.models.insert(
        "slow-model".into(),
        Profile {
            run_time: Spread::fixed(ms(70)),
            ..fixed_profile()
        },
    );
    let server = SimServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = Client::new(&server);
    let mut body = create_body("slow");
    body["defaultModel"] = json!("slow-model");
    let created: Value = client
        .req(Method::POST, "")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["agentId"].as_str().unwrap();
    let run: Value = client
        .req(Method::POST, &format!("/{id}/run"))
        .json(&run_body("hi"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run["executionTimeMs"], 70);
    server.shutdown().await;
}

#[tokio::test]
async fn a_thousand_concurrent_streams_all_complete() {
    const STREAMS: usize = 1000;
    let profile = Profile {
        ttfs: Spread::fixed(ms(200)),
        step_gap: Spread::fixed(ms(20)),
        steps: Spread::fixed(3),
        run_time: Spread::fixed(ms(1)),
        ..Profile::default()
    };
    let server = start(9, profile).await;
    let client = Client::new(&server);
    let id = client.create("busy").await["agentId"]
        .as_str()
        .unwrap()
        .to_owned();

    let started = Instant::now();
    let path = format!("/{id}/run/stream");
    let runs = (0..STREAMS).map(|i| {
        let request = client
            .req(Method::POST, &path)
            .json(&run_body(&format!("q{i}")));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            parse_events(&response.text().await.unwrap()).len()
        }
    });
    let counts = futures::future::join_all(runs).await;
    assert!(counts.iter().all(|&n| n == 3));
    // One after another they would take 240 s; together, well under a few seconds.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.state.requests_served(), 1 + STREAMS as u64);
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_lets_a_stream_in_flight_finish() {
    let server = start(11, fixed_profile()).await;
    let client = Client::new(&server);
    let id = client.create("last").await["agentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let request = client
        .req(Method::POST, &format!("/{id}/run/stream"))
        .json(&run_body("hi"));
    let response = request.send().await.unwrap();
    let (text, ()) = tokio::join!(response.text(), server.shutdown());
    assert_eq!(parse_events(&text.unwrap()).len(), 4);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let server = start(10, fixed_profile()).await;
    let url = server.base_url();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/api/v2"),
        "{url}"
    );
    let addr = server.addr;
    server.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens after shutdown"
    );
}
