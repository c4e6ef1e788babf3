//! A server that is not ours: an independent, strict implementation of the documented API that
//! records every deviation in what the harness sends, streams with awkward but valid SSE framing
//! (BOM, CRLF, comments, spaces after colons, multi-line data, events split across reads), and
//! can echo the token back in an error to check it is scrubbed from reports.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use crate::util::*;

const TEAM: u64 = 77;
const CONNECTION: u64 = 4242;
const STEPS: [&str; 5] = ["system", "user", "tool", "tool", "assistant"];

#[derive(Default)]
struct Foreign {
    agents: Mutex<HashMap<String, Value>>,
    violations: Mutex<Vec<String>>,
    next: AtomicU64,
    /// Answer runs with a 500 that repeats the Authorization header.
    echo_token_on_run: bool,
    /// Answer creates with a 401 that repeats the Authorization header.
    echo_token_on_create: bool,
    /// The `threadId` of every run body, in order, by endpoint (`run` or `stream`).
    run_threads: Mutex<Vec<(&'static str, Option<String>)>>,
    /// Answer this many runs with a 429 (and `Retry-After: 1`) before answering normally.
    throttle_runs: AtomicU64,
    /// POST each run's result to its `callbackUrl` this long after the run, except every
    /// `drop_every`-th one (0: never drop).
    callback_delay: Duration,
    drop_every: u64,
    callbacks_seen: AtomicU64,
}

impl Foreign {
    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        json!({ "detail": message, "message": message, "code": format!("SC{}", status.as_u16()) }),
    )
}

async fn handle(
    State(state): State<Arc<Foreign>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let what = format!("{method} {}", uri.path());
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Token {TOKEN}") {
        state.violation(format!(
            "{what}: Authorization header is not `Token <token>`"
        ));
        return error(StatusCode::UNAUTHORIZED, "Invalid token");
    }
    let query: HashMap<&str, &str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    if query.get("teamId") != Some(&TEAM.to_string().as_str()) || query.len() != 1 {
        state.violation(format!(
            "{what}: query is {:?}, expected exactly teamId={TEAM}",
            uri.query()
        ));
    }
    let json_body = || -> Option<Value> {
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if content_type != "application/json" {
            state.violation(format!("{what}: content-type {content_type:?}"));
        }
        match serde_json::from_slice::<Value>(&body) {
            Ok(value) if value.is_object() => Some(value),
            _ => {
                state.violation(format!("{what}: body is not a JSON object"));
                None
            }
        }
    };
    let segments: Vec<&str> = uri
        .path()
        .trim_start_matches("/api/v2")
        .trim_matches('/')
        .split('/')
        .collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["ai-agents", "v1", "agents"]) => {
            let agents: Vec<Value> = state.agents.lock().unwrap().values().cloned().collect();
            json_response(StatusCode::OK, Value::Array(agents))
        }
        ("POST", ["ai-agents", "v1", "agents"]) if state.echo_token_on_create => error(
            StatusCode::UNAUTHORIZED,
            &format!("Invalid token in header Authorization: {auth}"),
        ),
        ("POST", ["ai-agents", "v1", "agents"]) => {
            let Some(body) = json_body() else {
                return error(StatusCode::BAD_REQUEST, "bad body");
            };
            let checks = [
                (
                    "name",
                    body["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("agentload-")),
                ),
                ("teamId", body["teamId"].as_u64() == Some(TEAM)),
                (
                    "makeConnectionId",
                    body["makeConnectionId"].as_u64() == Some(CONNECTION),
                ),
                (
                    "defaultModel",
                    body["defaultModel"].as_str().is_some_and(|m| !m.is_empty()),
                ),
                (
                    "systemPrompt",
                    body["systemPrompt"].as_str().is_some_and(|p| !p.is_empty()),
                ),
            ];
            for (field, ok) in checks {
                if !ok {
                    state.violation(format!(
                        "{what}: create body field `{field}` is wrong: {body}"
                    ));
                }
            }
            let id = format!(
                "f0f0f0f0-0000-4000-8000-{:012}",
                state.next.fetch_add(1, Ordering::Relaxed)
            );
            let agent = json!({
                "id": id, "name": body["name"], "teamId": TEAM, "createdAt": "2026-11-29T00:00:00.000Z",
                "systemPrompt": body["systemPrompt"], "defaultModel": body["defaultModel"],
                "makeConnectionId": CONNECTION, "llmConfig": { "maxTokens": 1000 }, "scenarios": [], "contexts": []
            });
            state.agents.lock().unwrap().insert(id.clone(), agent);
            // Only `agentId`, as documented: no `id` in the create response.
            json_response(
                StatusCode::CREATED,
                json!({ "agentId": id, "name": body["name"], "teamId": TEAM,
                "makeConnectionId": CONNECTION, "defaultModel": body["defaultModel"], "systemPrompt": body["systemPrompt"] }),
            )
        }
        (method, ["ai-agents", "v1", "agents", id, rest @ ..]) => {
            let Some(agent) = state.agents.lock().unwrap().get(*id).cloned() else {
                state.violation(format!("{what}: unknown agent {id}"));
                return error(StatusCode::NOT_FOUND, "Agent not found");
            };
            match (method, rest) {
                ("GET", []) => json_response(StatusCode::OK, agent),
                ("PATCH", []) => {
                    if let Some(body) = json_body() {
                        let allowed = [
                            "name",
                            "systemPrompt",
                            "defaultModel",
                            "outputParserFormat",
                            "llmConfig",
                        ];
                        for key in body
                            .as_object()
                            .unwrap()
                            .keys()
                            .filter(|k| !allowed.contains(&k.as_str()))
                        {
                            state.violation(format!("{what}: undocumented patch field `{key}`"));
                        }
                    }
                    Response::builder()
                        .status(StatusCode::NO_CONTENT)
                        .body(Body::empty())
                        .unwrap()
                }
                ("DELETE", []) => {
                    state.agents.lock().unwrap().remove(*id);
                    Response::builder()
                        .status(StatusCode::NO_CONTENT)
                        .body(Body::empty())
                        .unwrap()
                }
                ("POST", ["run"]) => {
                    let body = json_body();
                    run_body_check(&state, &what, body.clone());
                    if let Some(throttled) = throttle(&state) {
                        return throttled;
                    }
                    let thread = conversation(&state, "run", body.as_ref());
                    if state.echo_token_on_run {
                        return error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            &format!("upstream rejected header Authorization: {auth}"),
                        );
                    }
                    json_response(
                        StatusCode::OK,
                        json!({ "response": "4", "threadId": thread, "executionTimeMs": 42,
                        "executionSteps": [], "tokenUsageSummary": { "promptTokens": 1, "completionTokens": 1, "totalTokens": 2 } }),
                    )
                }
                ("POST", ["run", "stream"]) => {
                    let body = json_body();
                    run_body_check(&state, &what, body.clone());
                    if let Some(throttled) = throttle(&state) {
                        return throttled;
                    }
                    conversation(&state, "stream", body.as_ref());
                    awkward_stream()
                }
                _ => error(StatusCode::NOT_FOUND, "no route"),
            }
        }
        _ => {
            state.violation(format!("{what}: not an endpoint of the API"));
            error(StatusCode::NOT_FOUND, "no route")
        }
    }
}

/// A 429 with `Retry-After: 1` while the server is told to throttle runs.
fn throttle(state: &Foreign) -> Option<Response> {
    let left = state.throttle_runs.load(Ordering::SeqCst);
    if left == 0 {
        return None;
    }
    state.throttle_runs.store(left - 1, Ordering::SeqCst);
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "Requests limit for organization exceeded, please try again later.",
    );
    response
        .headers_mut()
        .insert("retry-after", "1".parse().unwrap());
    Some(response)
}

/// Notes the run's thread, posts its result to `callbackUrl` if asked (later, from another
/// task, as a server would), and returns the thread: the body's, or a new one.
fn conversation(state: &Arc<Foreign>, endpoint: &'static str, body: Option<&Value>) -> String {
    let given = body.and_then(|b| b["threadId"].as_str()).map(str::to_owned);
    state
        .run_threads
        .lock()
        .unwrap()
        .push((endpoint, given.clone()));
    let thread =
        given.unwrap_or_else(|| format!("t-{}", state.next.fetch_add(1, Ordering::SeqCst)));
    if let Some(url) = body.and_then(|b| b["callbackUrl"].as_str()) {
        let n = state.callbacks_seen.fetch_add(1, Ordering::SeqCst) + 1;
        if state.drop_every == 0 || !n.is_multiple_of(state.drop_every) {
            let (url, delay) = (url.to_owned(), state.callback_delay);
            let result = json!({ "response": "4", "threadId": thread });
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = reqwest::Client::new().post(url).json(&result).send().await;
            });
        }
    }
    thread
}

fn run_body_check(state: &Foreign, what: &str, body: Option<Value>) {
    let ok = body
        .as_ref()
        .and_then(|b| b["messages"].as_array())
        .is_some_and(|messages| {
            !messages.is_empty()
                && messages.iter().all(|m| {
                    matches!(m["role"].as_str(), Some("user" | "assistant"))
                        && m["content"].is_string()
                })
        });
    if !ok {
        state.violation(format!(
            "{what}: run body without valid `messages`: {body:?}"
        ));
    }
}

/// Five steps and one other event, framed every valid way the SSE standard allows, sent in
/// 7-byte reads with pauses so the client sees them split mid-line and mid-character.
fn awkward_stream() -> Response {
    let mut text = String::from("\u{feff}: a comment before anything\r\nretry: 1500\r\n\r\n");
    for (i, role) in STEPS.iter().enumerate() {
        let payload = json!({ "role": role, "content": format!("étape {i} ✓"), "id": format!("s{i}"), "agentIterationId": "it-1" }).to_string();
        let (head, tail) = payload.split_at(payload.find(",\"content\"").unwrap());
        // `data` split over two lines: the client joins them with a newline, still valid JSON.
        text.push_str(&format!(
            "event: step\r\nid: e{i}\r\ndata: {head}\r\ndata:{tail}\r\n\r\n"
        ));
        if i == 1 {
            text.push_str("event: ping\ndata: {}\n\n:keep-alive\r");
        }
    }
    let bytes = text.into_bytes();
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(7)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let stream = futures::stream::unfold(chunks.into_iter(), |mut chunks| async move {
        let chunk = chunks.next()?;
        tokio::time::sleep(Duration::from_micros(300)).await;
        Some((chunk, chunks))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream; charset=utf-8")
        .body(Body::from_stream(stream))
        .unwrap()
}

struct ForeignServer {
    url: String,
    state: Arc<Foreign>,
    runtime: tokio::runtime::Runtime,
}

fn start(echo_token_on_run: bool) -> ForeignServer {
    start_with(Foreign {
        echo_token_on_run,
        ..Foreign::default()
    })
}

fn start_with(foreign: Foreign) -> ForeignServer {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let state = Arc::new(foreign);
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(state.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            0,
        ))))
        .unwrap();
    let url = format!("http://{}/api/v2", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await });
    ForeignServer {
        url,
        state,
        runtime,
    }
}

fn run_against(server: &ForeignServer, scenario_text: &str) -> (std::process::Output, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "f.toml", scenario_text);
    let out = dir.path().join("out");
    let output = agentload()
        .args([
            "run",
            path.to_str().unwrap(),
            "--target",
            &server.url,
            "--team-id",
            &TEAM.to_string(),
        ])
        .args(["--make-connection-id", &CONNECTION.to_string(), "--out"])
        .arg(&out)
        .env("MAKE_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    let summary = summary(&out);
    (output, summary)
}

#[test]
fn the_smoke_scenario_speaks_the_documented_api_to_a_server_that_is_not_ours() {
    let server = start(false);
    let smoke = std::fs::read_to_string("scenarios/smoke.toml")
        .unwrap()
        .replace("duration = \"12s\"", "duration = \"3s\"");
    let (output, summary) = run_against(&server, &smoke);
    assert_code(&output, 0);
    assert_eq!(
        *server.state.violations.lock().unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        server.state.agents.lock().unwrap().len(),
        0,
        "the run left agents behind"
    );
    for op in [
        "list",
        "get",
        "create",
        "patch",
        "delete",
        "run",
        "run_stream",
    ] {
        let stats = &summary["ops"][op];
        assert!(
            stats["requests"].as_u64().unwrap() > 0,
            "{op} was exercised"
        );
        assert_eq!(stats["errors"], 0, "{op}: {stats}");
    }
    let steps = &summary["ops"]["run_stream"]["metrics"]["steps"];
    assert_eq!(
        (steps["min"].as_f64(), steps["max"].as_f64()),
        (Some(5.0), Some(5.0)),
        "exactly five steps per stream: {steps}"
    );
    let stream = &summary["ops"]["run_stream"];
    let streams = stream["ok"].as_u64().unwrap();
    assert_eq!(
        stream["steps_by_role"],
        json!({ "system": streams, "user": streams, "tool": 2 * streams, "assistant": streams, "other": 0 }),
    );
    assert_eq!(stream["other_events"], streams, "one ping per stream");
    // executionTimeMs is 42 on every run: within the histogram's 3 significant digits.
    let server_time = summary["ops"]["run"]["metrics"]["server_time"]["max"]
        .as_f64()
        .unwrap();
    assert!((server_time - 42.0).abs() <= 0.042, "{server_time}");
    drop(server.runtime);
}

#[test]
fn a_token_echoed_by_the_server_is_redacted_from_every_output() {
    let server = start(true);
    let (output, summary) = run_against(&server, &one_op("run", None, 4, 1));
    assert_code(&output, 0);
    let run = &summary["ops"]["run"];
    assert_eq!(run["error_classes"]["http_500"], 4);
    let message = run["error_messages"]["http_500"][0].as_str().unwrap();
    assert!(message.contains("Token [redacted]"), "{message}");
    let everything = format!(
        "{}{}{}",
        summary,
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(!everything.contains(TOKEN), "the token leaked");
    assert!(text(&output.stdout).contains("[redacted]"));
    assert_eq!(server.state.agents.lock().unwrap().len(), 0);
}

#[test]
fn a_token_echoed_at_setup_is_redacted_from_the_error() {
    let server = start_with(Foreign {
        echo_token_on_create: true,
        ..Foreign::default()
    });
    let (output, summary) = run_against(&server, &one_op("get", None, 2, 1));
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("failed: http_401") && stderr.contains("Token [redacted]"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN) && !summary.to_string().contains(TOKEN));
}

#[test]
fn conversations_continue_their_thread_and_report_each_turn() {
    let server = start(false);
    let text = one_op("run", None, 6, 1).replace("op = \"run\"", "op = \"run\"\nturns = 3")
        + "\n[[mix]]\nop = \"run_stream\"\nturns = 2\n";
    let (output, summary) = run_against(&server, &text);
    assert_code(&output, 0);
    assert_eq!(
        *server.state.violations.lock().unwrap(),
        Vec::<String>::new()
    );

    // Blocking runs: the first turn starts a thread, the next ones send the one it returned.
    // Streams (whose steps name no thread): the harness names it from the first turn.
    let threads = server.state.run_threads.lock().unwrap().clone();
    let runs: Vec<_> = threads
        .iter()
        .filter(|(e, _)| *e == "run")
        .map(|(_, t)| t.clone())
        .collect();
    let streams: Vec<_> = threads
        .iter()
        .filter(|(e, _)| *e == "stream")
        .map(|(_, t)| t.clone())
        .collect();
    assert_eq!(runs.len() % 3, 0, "{runs:?}");
    for conversation in runs.chunks(3) {
        assert_eq!(conversation[0], None, "{runs:?}");
        assert!(
            conversation[1]
                .as_deref()
                .is_some_and(|t| t.starts_with("t-")),
            "{runs:?}"
        );
        assert_eq!(conversation[1], conversation[2], "{runs:?}");
    }
    let firsts: Vec<_> = runs.chunks(3).map(|c| c[1].clone()).collect();
    let distinct: std::collections::HashSet<_> = firsts.iter().collect();
    assert_eq!(
        distinct.len(),
        firsts.len(),
        "one thread per conversation: {runs:?}"
    );
    assert_eq!(streams.len() % 2, 0, "{streams:?}");
    for conversation in streams.chunks(2) {
        assert!(
            conversation[0].as_deref().is_some_and(|t| t.len() == 36),
            "{streams:?}"
        );
        assert_eq!(conversation[0], conversation[1], "{streams:?}");
    }

    let run = &summary["ops"]["run"];
    assert_eq!(run["requests"].as_u64().unwrap() as usize, runs.len());
    for turn in ["1", "2", "3"] {
        assert_eq!(
            run["turns"][turn]["requests"].as_u64().unwrap() as usize,
            runs.len() / 3,
            "turn {turn}: {run}"
        );
    }
    let stream = &summary["ops"]["run_stream"];
    if !streams.is_empty() {
        assert_eq!(
            stream["turns"]["2"]["ok"].as_u64().unwrap() as usize,
            streams.len() / 2
        );
        assert!(
            stream["turns"]["2"]["metrics"]["ttfs"]["count"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
    assert_eq!(
        summary["load"]["iterations"], 6,
        "a conversation is one iteration"
    );
    let terminal = text_of(&output);
    assert!(terminal.contains("run turn 3"), "{terminal}");
}

#[test]
fn callbacks_are_timed_and_a_missing_one_is_a_callback_timeout() {
    let server = start_with(Foreign {
        callback_delay: Duration::from_millis(40),
        drop_every: 3,
        ..Foreign::default()
    });
    let text = one_op("run", None, 6, 1).replace("op = \"run\"", "op = \"run\"\ncallback = true")
        + "\n[callback]\ntimeout = \"600ms\"\n";
    let (output, summary) = run_against(&server, &text);
    assert_code(&output, 0);
    assert_eq!(
        *server.state.violations.lock().unwrap(),
        Vec::<String>::new()
    );
    let run = &summary["ops"]["run"];
    assert_eq!(run["requests"], 6);
    assert_eq!(
        run["error_classes"],
        json!({ "callback_timeout": 2 }),
        "{run}"
    );
    assert!(
        run["error_messages"]["callback_timeout"][0]
            .as_str()
            .unwrap()
            .contains("callback.timeout"),
        "{run}"
    );
    let callback = &run["metrics"]["callback"];
    assert_eq!(callback["count"], 4);
    assert!(callback["min"].as_f64().unwrap() >= 40.0, "{callback}");
    assert!(
        callback["min"].as_f64().unwrap()
            >= run["metrics"]["service_time"]["min"].as_f64().unwrap(),
        "a result posted after the answer arrives after it: {run}"
    );
}

#[test]
fn honoured_429s_are_waited_out_and_measured_ones_are_errors() {
    let honour = start_with(Foreign {
        throttle_runs: AtomicU64::new(2),
        ..Foreign::default()
    });
    let text = one_op("run", None, 2, 1);
    let honouring = text.replace("[target]\n", "[target]\nretry_after = \"honour\"\n");
    let (output, summary) = run_against(&honour, &honouring);
    assert_code(&output, 0);
    let run = &summary["ops"]["run"];
    assert_eq!(
        (run["requests"].as_u64(), run["errors"].as_u64()),
        (Some(2), Some(0)),
        "{run}"
    );
    assert_eq!(run["retries"], 2, "{run}");
    let wait = &run["metrics"]["retry_wait"];
    assert_eq!(wait["count"], 1, "one request waited, twice: {wait}");
    assert!(
        (wait["max"].as_f64().unwrap() - 2000.0).abs() < 3.0,
        "{wait}"
    );
    assert!(
        run["metrics"]["latency"]["max"].as_f64().unwrap() >= 2000.0,
        "the waits are part of what the user waited: {run}"
    );
    assert!(
        text_of(&output).contains("2 retries"),
        "{}",
        text_of(&output)
    );

    let measure = start_with(Foreign {
        throttle_runs: AtomicU64::new(2),
        ..Foreign::default()
    });
    let (output, summary) = run_against(&measure, &text);
    assert_code(&output, 0);
    let run = &summary["ops"]["run"];
    assert_eq!(run["error_classes"], json!({ "http_429": 2 }), "{run}");
    assert!(run.get("retries").is_none(), "{run}");
    assert!(
        run["error_messages"]["http_429"][0]
            .as_str()
            .unwrap()
            .contains("Requests limit for organization exceeded"),
        "{run}"
    );
}

fn text_of(output: &std::process::Output) -> String {
    text(&output.stdout)
}
