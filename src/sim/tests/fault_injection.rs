//! Faults, callbacks and the cost of conversation turns over real HTTP, as a client sees them:
//! the exact statuses, bodies, headers, framing and breakage of each fault.

use std::sync::{Arc, Mutex};

use axum::routing::post;
use tokio::sync::mpsc;

use super::*;
use crate::sim::RATE_LIMIT_MESSAGE;
use crate::sim::faults::{Chance, Cut, Endpoints, RateLimit, Stall, StatusFault};

async fn start_with(config: SimConfig) -> SimServer {
    SimServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn config(seed: u64) -> SimConfig {
    let mut config = SimConfig::new(TOKEN);
    config.seed = seed;
    config.default_profile = fixed_profile();
    config
}

fn statuses(text: &[&str]) -> Vec<StatusFault> {
    text.iter()
        .map(|t| StatusFault::parse(t).unwrap())
        .collect()
}

async fn agent(client: &Client) -> String {
    client.create("faulty").await["agentId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn stream(client: &Client, id: &str, body: Value) -> reqwest::Response {
    client
        .req(Method::POST, &format!("/{id}/run/stream"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A stream's body as received: its text, and whether it ended with an error.
async fn read_stream(response: reqwest::Response) -> (String, bool) {
    let mut body = response.bytes_stream();
    let mut text = Vec::new();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => text.extend_from_slice(&chunk),
            Err(_) => return (String::from_utf8(text).unwrap(), true),
        }
    }
    (String::from_utf8(text).unwrap(), false)
}

#[tokio::test]
async fn status_faults_answer_with_the_documented_error_body() {
    let mut config = config(1);
    config.faults.status = statuses(&["503=100%"]);
    config.faults.endpoints = Endpoints::parse("list,run_stream").unwrap();
    let server = start_with(config).await;
    let client = Client::new(&server);
    let id = agent(&client).await;

    let list = client.req(Method::GET, "").send().await.unwrap();
    let detail = assert_error(list, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(detail.contains("Simulated fault: status 503"), "{detail}");
    let response = stream(&client, &id, run_body("hi")).await;
    assert_error(response, StatusCode::SERVICE_UNAVAILABLE).await;
    let (status, _) = client.get_agent(&id).await;
    assert_eq!(status, StatusCode::OK, "get is not among the endpoints");
    let run = client
        .req(Method::POST, &format!("/{id}/run"))
        .json(&run_body("hi"));
    assert_eq!(run.send().await.unwrap().status(), StatusCode::OK);

    let unauthorized = client
        .bare(Method::GET, "", TEAM)
        .header("Authorization", "Token wrong");
    assert_error(unauthorized.send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_429_fault_carries_the_documented_message() {
    let mut config = config(2);
    config.faults.status = statuses(&["429=100%"]);
    let server = start_with(config).await;
    let client = Client::new(&server);
    let response = client.req(Method::GET, "").send().await.unwrap();
    assert!(response.headers().get("retry-after").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], RATE_LIMIT_MESSAGE);
    assert_eq!(body["code"], "SC429");
    server.shutdown().await;
}

/// The status of each of `n` list requests to a fresh simulator.
async fn list_statuses(seed: u64, n: usize) -> Vec<u16> {
    let mut config = config(seed);
    config.faults.status = statuses(&["429=20%", "500=20%"]);
    let server = start_with(config).await;
    let client = Client::new(&server);
    let mut seen = Vec::new();
    for _ in 0..n {
        let response = client.req(Method::GET, "").send().await.unwrap();
        seen.push(response.status().as_u16());
    }
    server.shutdown().await;
    seen
}

#[tokio::test]
async fn the_same_seed_faults_the_same_requests() {
    let first = list_statuses(5, 60).await;
    assert_eq!(first, list_statuses(5, 60).await);
    assert_ne!(first, list_statuses(6, 60).await);
    let count = |status| first.iter().filter(|s| **s == status).count();
    assert_eq!(count(429) + count(500) + count(200), 60);
    assert!(
        count(429) > 3 && count(500) > 3 && count(200) > 20,
        "{first:?}"
    );
}

#[tokio::test]
async fn over_the_rate_limit_is_429_with_retry_after_until_the_minute_ends() {
    let mut config = config(3);
    config.faults.rate_limit = Some(RateLimit { per_minute: 3 });
    config.faults.endpoints = Endpoints::parse("list,get").unwrap();
    let server = start_with(config).await;
    let client = Client::new(&server);
    let id = agent(&client).await;

    for _ in 0..2 {
        let response = client.req(Method::GET, "").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(client.get_agent(&id).await.0, StatusCode::OK);
    for _ in 0..3 {
        let response = client.req(Method::GET, "").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((55..=60).contains(&retry_after), "{retry_after}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["message"], RATE_LIMIT_MESSAGE);
        assert_eq!(body["code"], "SC429");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("3 requests per minute"),
            "{body}"
        );
    }
    let response = client
        .req(Method::POST, &format!("/{id}/run"))
        .json(&run_body("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "run is not among the limited endpoints"
    );
    let other_team = client.as_team(Method::GET, "", TEAM + 1).send().await;
    assert_eq!(
        other_team.unwrap().status(),
        StatusCode::OK,
        "each team is its own organization"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_cut_stream_sends_its_steps_then_loses_the_connection() {
    let mut config = config(4);
    config.default_profile.faults.cut_after = Some(Cut::parse("2").unwrap());
    let server = start_with(config).await;
    let client = Client::new(&server);
    let id = agent(&client).await;
    let response = stream(&client, &id, run_body("hi")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (text, failed) = read_stream(response).await;
    assert!(failed, "the body ends in an error, not cleanly: {text:?}");
    let events = parse_events(&text);
    let roles: Vec<&str> = events
        .iter()
        .map(|e| e.data["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user"]);

    // The connection is gone, but the simulator is not: the next request is served.
    let (status, _) = client.get_agent(&id).await;
    assert_eq!(status, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn a_cut_after_every_step_still_is_a_lost_connection() {
    let mut config = config(4);
    config.default_profile.faults.cut_after = Some(Cut::parse("10").unwrap());
    let server = start_with(config).await;
    let client = Client::new(&server);
    let id = agent(&client).await;
    let (text, failed) = read_stream(stream(&client, &id, run_body("hi")).await).await;
    assert!(failed);
    assert_eq!(parse_events(&text).len(), 4);
    server.shutdown().await;
}

#[tokio::test]
async fn stalls_hold_back_the_first_step_and_the_gaps() {
    let mut config = config(5);
    config.default_profile.faults.stall_first = Some(Stall::parse("200ms").unwrap());
    config.default_profile.faults.stall_between = Some(Stall::parse("100ms").unwrap());
    let server = start_with(config).await;
    let client = Client::new(&server);
    let id = agent(&client).await;

    let sent = Instant::now();
    let response = stream(&client, &id, run_body("hi")).await;
    let mut body = response.bytes_stream();
    let mut arrivals = Vec::new();
    let mut text = Vec::new();
    while let Some(chunk) = body.next().await {
        arrivals.push(sent.elapsed());
        text.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(parse_events(std::str::from_utf8(&text).unwrap()).len(), 4);
    assert!(arrivals[0] >= ms(30 + 200), "{arrivals:?}");
    assert!(
        *arrivals.last().unwrap() >= ms(30 + 200 + 3 * (10 + 100)),
        "{arrivals:?}"
    );

    let sent = Instant::now();
    let run: Value = client
        .req(Method::POST, &format!("/{id}/run"))
        .json(&run_body("hi"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(sent.elapsed() >= ms(20 + 200), "{:?}", sent.elapsed());
    assert_eq!(
        run["executionTimeMs"], 20,
        "a stall before the run is not run time"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_malformed_step_is_framed_but_its_data_is_not_json() {
    let mut config = config(6);
    config.default_profile.faults.malformed = Chance::ALWAYS;
    let server = start_with(config).await;
    let client = Client::new(&server);
    let id = agent(&client).await;
    let (text, failed) = read_stream(stream(&client, &id, run_body("hi")).await).await;
    assert!(!failed, "the stream itself ends cleanly");
    let blocks: Vec<&str> = text.strip_suffix("\n\n").unwrap().split("\n\n").collect();
    assert_eq!(blocks.len(), 4);
    let broken: Vec<&str> = blocks
        .iter()
        .map(|block| block.split('\n').nth(2).unwrap())
        .filter(|data| {
            let json = data.strip_prefix("data:").unwrap();
            serde_json::from_str::<Value>(json).is_err()
        })
        .collect();
    assert_eq!(broken.len(), 1, "exactly one step is malformed: {text}");
    assert!(blocks.iter().all(|b| b.starts_with("event:step\nid:")));
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_content_type_answers_a_stream_with_the_run_response() {
    let mut config = config(7);
    config.default_profile.faults.wrong_content_type = Chance::ALWAYS;
    let server = start_with(config).await;
    let client = Client::new(&server);
    let id = agent(&client).await;
    let response = stream(&client, &id, run_body("hi")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let run: Value = response.json().await.unwrap();
    assert!(run["response"].as_str().unwrap().contains("turn 1"));
    assert_eq!(run["executionSteps"].as_array().unwrap().len(), 4);
    server.shutdown().await;
}

#[tokio::test]
async fn faults_leave_ids_and_timings_as_they_were() {
    async fn ids(config: SimConfig) -> Vec<Value> {
        let server = start_with(config).await;
        let client = Client::new(&server);
        let id = agent(&client).await;
        let run: Value = client
            .req(Method::POST, &format!("/{id}/run"))
            .json(&run_body("hi"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        server.shutdown().await;
        let steps = run["executionSteps"].as_array().unwrap();
        let mut ids = vec![
            json!(id),
            run["threadId"].clone(),
            run["executionTimeMs"].clone(),
        ];
        ids.extend(steps.iter().map(|s| s["id"].clone()));
        ids
    }
    let mut random = config(8);
    random.default_profile.run_time = Spread {
        lo: ms(1),
        hi: ms(50),
    };
    let mut faulty = random.clone();
    faulty.faults.status = statuses(&["503=0.0001%"]);
    faulty.default_profile.faults.malformed = Chance::parse("50%").unwrap();
    faulty.default_profile.faults.stall_between = Some(Stall::parse("1ms..2ms@50%").unwrap());
    assert_eq!(ids(random).await, ids(faulty).await);
}

/// A receiver of callbacks on 127.0.0.1:0: every POST's content type and body, in order.
struct Receiver {
    url: String,
    bodies: mpsc::UnboundedReceiver<(String, Value)>,
    _task: tokio::task::JoinHandle<()>,
}

async fn receiver() -> Receiver {
    let (tx, bodies) = mpsc::unbounded_channel();
    let tx = Arc::new(Mutex::new(tx));
    let app = axum::Router::new().route(
        "/hook",
        post(
            move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let tx = tx.clone();
                async move {
                    let content_type = headers["content-type"].to_str().unwrap().to_owned();
                    let _ = tx.lock().unwrap().send((content_type, body));
                    StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook?run=1", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Receiver {
        url,
        bodies,
        _task: task,
    }
}

async fn next_callback(receiver: &mut Receiver) -> (String, Value) {
    tokio::time::timeout(Duration::from_secs(10), receiver.bodies.recv())
        .await
        .expect("a callback within 10 s")
        .unwrap()
}

#[tokio::test]
async fn runs_post_their_result_to_the_callback_url() {
    let server = start_with(config(9)).await;
    let client = Client::new(&server);
    let id = agent(&client).await;
    let mut receiver = receiver().await;

    let mut body = run_body("blocking");
    body["callbackUrl"] = json!(receiver.url);
    let run: Value = client
        .req(Method::POST, &format!("/{id}/run"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (content_type, delivered) = next_callback(&mut receiver).await;
    assert_eq!(content_type, "application/json");
    assert_eq!(delivered, run, "the same body as the blocking response");

    let mut body = run_body("streamed");
    body["callbackUrl"] = json!(receiver.url);
    body["threadId"] = json!("my-thread");
    let sent = Instant::now();
    let (text, _) = read_stream(stream(&client, &id, body).await).await;
    let events = parse_events(&text);
    let (_, delivered) = next_callback(&mut receiver).await;
    assert!(
        sent.elapsed() >= ms(30 + 3 * 10),
        "after the last step: {:?}",
        sent.elapsed()
    );
    assert_eq!(delivered["threadId"], "my-thread");
    assert_eq!(delivered["response"], events[3].data["content"]);
    assert_eq!(
        delivered["lastAgentIterationId"],
        events[0].data["agentIterationId"]
    );
    let step_ids: Vec<&Value> = delivered["executionSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    let event_step_ids: Vec<&Value> = events.iter().map(|e| &e.data["id"]).collect();
    assert_eq!(step_ids, event_step_ids);
    assert_eq!(server.state.callbacks().delivered, 2);
    server.shutdown().await;
}

#[tokio::test]
async fn dropped_and_undeliverable_callbacks_are_counted_not_fatal() {
    let mut config = config(10);
    config.models.insert(
        "drops".into(),
        Profile {
            faults: crate::sim::faults::RunFaults {
                callback_drop: Chance::ALWAYS,
                ..Default::default()
            },
            ..fixed_profile()
        },
    );
    let server = start_with(config).await;
    let client = Client::new(&server);
    let mut receiver = receiver().await;
    let mut create = create_body("dropper");
    create["defaultModel"] = json!("drops");
    let created: Value = client
        .req(Method::POST, "")
        .json(&create)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dropper = created["agentId"].as_str().unwrap().to_owned();
    let mut body = run_body("hi");
    body["callbackUrl"] = json!(receiver.url);
    let run = client
        .req(Method::POST, &format!("/{dropper}/run"))
        .json(&body);
    assert_eq!(run.send().await.unwrap().status(), StatusCode::OK);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let id = agent(&client).await;
    let mut body = run_body("hi");
    body["callbackUrl"] = json!(nowhere);
    let run = client.req(Method::POST, &format!("/{id}/run")).json(&body);
    assert_eq!(run.send().await.unwrap().status(), StatusCode::OK);
    let started = Instant::now();
    while server.state.callbacks().failed == 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(ms(10)).await;
    }
    assert_eq!(
        server.state.callbacks(),
        crate::sim::CallbackCounts {
            delivered: 0,
            failed: 1,
            dropped: 1
        }
    );
    assert!(
        receiver.bodies.try_recv().is_err(),
        "the dropped callback never came"
    );
    let (status, _) = client.get_agent(&id).await;
    assert_eq!(status, StatusCode::OK, "the simulator serves on");
    server.shutdown().await;
}

#[tokio::test]
async fn later_turns_of_a_thread_come_later_by_ttfs_per_turn() {
    let mut config = config(11);
    config.default_profile.ttfs_per_turn = ms(150);
    let server = start_with(config).await;
    let client = Client::new(&server);
    let id = agent(&client).await;
    let mut firsts = Vec::new();
    for turn in 1..=3 {
        let mut body = run_body(&format!("question {turn}"));
        body["threadId"] = json!("chosen-by-the-client");
        let sent = Instant::now();
        let response = stream(&client, &id, body).await;
        let mut bytes = response.bytes_stream();
        let first = bytes.next().await.unwrap().unwrap();
        firsts.push(sent.elapsed());
        let mut text = first.to_vec();
        while let Some(chunk) = bytes.next().await {
            text.extend_from_slice(&chunk.unwrap());
        }
        let events = parse_events(std::str::from_utf8(&text).unwrap());
        let answer = events[3].data["content"].as_str().unwrap();
        assert!(answer.contains(&format!("turn {turn}")), "{answer}");
    }
    assert!(firsts[0] >= ms(30), "{firsts:?}");
    assert!(firsts[1] >= ms(30 + 150), "{firsts:?}");
    assert!(firsts[2] >= ms(30 + 300), "{firsts:?}");
    server.shutdown().await;
}
