//! The run endpoints: `/run` answers once after the model's run time; `/run/stream` sends the
//! same kind of steps as `step` events. Both check the body and find the agent before anything
//! starts, so their errors are ordinary JSON error responses. A run's faults are drawn with it;
//! when it ends, its result goes to its `callbackUrl`, if it named one.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::Ctx;
use super::body;
use super::callback::CallbackUrl;
use super::error::ApiError;
use super::fault_plan::{self, FaultPlan};
use super::stream::{self, RunInput, RunPlan};
use super::{SimState, new_uuid};

/// `POST /agents/{agentId}/run`: waits the run time (and any `stall_first`), then the run
/// response; the callback goes out as it answers.
pub async fn run(
    State(state): State<Arc<SimState>>,
    ctx: Ctx,
    Path(agent_id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let run = start(&state, ctx, &agent_id, &bytes)?;
    tokio::time::sleep(run.faults.stall_first + run.plan.run_time).await;
    run.call_back(&state, Duration::ZERO);
    Ok(Json(run.response()))
}

/// `POST /agents/{agentId}/run/stream`: the steps as a `text/event-stream`, as broken as the
/// run's faults say; the callback goes out when the last step is due, whatever became of the
/// connection (the run ends on the server all the same).
pub async fn run_stream(
    State(state): State<Arc<SimState>>,
    ctx: Ctx,
    Path(agent_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let run = start(&state, ctx, &agent_id, &bytes)?;
    if run.faults.wrong_content_type {
        // Answered as if the blocking endpoint had been called, when the first step was due.
        tokio::time::sleep(run.plan.delays[0]).await;
        run.call_back(&state, Duration::ZERO);
        return Ok(Json(run.response()).into_response());
    }
    let last_step_due = run.plan.delays.iter().sum::<Duration>();
    run.call_back(&state, last_step_due);
    let headers = [
        (CONTENT_TYPE, "text/event-stream"),
        (CACHE_CONTROL, "no-cache"),
    ];
    Ok((headers, stream::body(&run.plan, &run.faults)).into_response())
}

/// A checked run request; fields other than these are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunRequest {
    /// Content of the last user message, or of the last message if none is from the user.
    last_user: String,
    /// Word count of all messages, for the token usage summary.
    message_words: usize,
    thread_id: Option<String>,
    /// Where the result goes when the run ends; an empty `callbackUrl` is none.
    callback: Option<CallbackUrl>,
}

impl RunRequest {
    fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let map = body::object(bytes)?;
        let messages = match map.get("messages") {
            Some(Value::Array(messages)) if !messages.is_empty() => messages,
            _ => {
                return Err(ApiError::bad_request(
                    "Field messages is required and must be a non-empty array",
                ));
            }
        };
        let mut last_user = None;
        let mut last = "";
        let mut message_words = 0;
        for (i, message) in messages.iter().enumerate() {
            let Some(message) = message.as_object() else {
                return Err(ApiError::bad_request(format!(
                    "Field messages[{i}] must be an object with role and content"
                )));
            };
            let content = match message.get("content") {
                Some(Value::String(content)) => content.as_str(),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Field messages[{i}].content must be a string"
                    )));
                }
            };
            match message.get("role").and_then(Value::as_str) {
                Some("user") => last_user = Some(content),
                Some("assistant") => {}
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Field messages[{i}].role must be \"user\" or \"assistant\""
                    )));
                }
            }
            last = content;
            message_words += words(content);
        }
        let thread_id = body::optional_string(&map, "threadId", 1)?;
        let callback = match body::optional_string(&map, "callbackUrl", 0)? {
            Some(url) if !url.trim().is_empty() => Some(
                CallbackUrl::parse(&url)
                    .map_err(|why| ApiError::bad_request(format!("Field callbackUrl {why}")))?,
            ),
            _ => None,
        };
        body::optional_object(&map, "config")?;
        Ok(RunRequest {
            last_user: last_user.unwrap_or(last).to_owned(),
            message_words,
            thread_id,
            callback,
        })
    }
}

/// A run that passed every check, drawn and ready to be answered or streamed.
struct StartedRun {
    /// Its steps and timing, stalls included.
    plan: RunPlan,
    faults: FaultPlan,
    thread_id: String,
    prompt_tokens: usize,
    callback: Option<CallbackUrl>,
}

/// Checks the body, finds the agent, counts the thread's turn and draws the run and its faults.
fn start(
    state: &SimState,
    mut ctx: Ctx,
    agent_id: &str,
    bytes: &[u8],
) -> Result<StartedRun, ApiError> {
    let request = RunRequest::parse(bytes)?;
    let thread_id = match request.thread_id {
        Some(thread_id) => thread_id,
        None => new_uuid(&mut ctx.rng).to_string(),
    };
    let (system_prompt, model, turn) = {
        let mut store = state.store();
        let agent = store
            .get(ctx.team_id, agent_id)
            .ok_or_else(|| ApiError::agent_not_found(agent_id))?;
        let (system_prompt, model) = (agent.system_prompt.clone(), agent.default_model.clone());
        (system_prompt, model, store.next_turn(&thread_id))
    };
    let profile = state.config.profile_for(&model);
    let input = RunInput {
        system_prompt: &system_prompt,
        last_user: &request.last_user,
        turn,
    };
    let mut plan = stream::plan_run(&mut ctx.rng, profile, &input);
    let faults = fault_plan::draw(
        &mut ctx.fault_rng,
        &profile.faults,
        &mut plan.delays,
        profile.step_gap,
    );
    let prompt_tokens = words(&system_prompt) + request.message_words;
    Ok(StartedRun {
        plan,
        faults,
        thread_id,
        prompt_tokens,
        callback: request.callback,
    })
}

impl StartedRun {
    /// Sends the run's response to its `callbackUrl`, `after` from now, on a task of its own;
    /// unless the run named none, or its `callback_drop` fault fired.
    fn call_back(&self, state: &SimState, after: Duration) {
        let Some(url) = &self.callback else {
            return;
        };
        if self.faults.drop_callback {
            state.callbacks.drop_one();
            return;
        }
        let body =
            Bytes::from(serde_json::to_vec(&self.response()).expect("JSON values serialize"));
        state.callbacks.schedule(url.clone(), body, after);
    }

    /// The blocking run's response body.
    fn response(&self) -> Value {
        let completion_tokens = words(&self.plan.answer);
        json!({
            "response": self.plan.answer,
            "jsonResponse": {},
            "executionSteps": self.plan.steps,
            "executionTimeMs": self.plan.run_time.as_millis() as u64,
            "threadId": self.thread_id,
            "tokenUsageSummary": {
                "promptTokens": self.prompt_tokens,
                "completionTokens": completion_tokens,
                "totalTokens": self.prompt_tokens + completion_tokens,
            },
            "lastAgentIterationId": self.plan.iteration_id,
        })
    }
}

/// A rough token count: whitespace-separated words.
fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    // String: the 400 body's `detail`, free text the assertions read as the client would.
    fn parse(body: Value) -> Result<RunRequest, String> {
        RunRequest::parse(body.to_string().as_bytes()).map_err(|err| err.detail)
    }

    #[test]
    fn the_last_user_message_is_echoed() {
        let request = parse(json!({
            "messages": [
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "an answer"},
                {"role": "user", "content": "second question"},
                {"role": "assistant", "content": "trailing"}
            ],
            "config": {}, "extra": [1, 2]
        }))
        .unwrap();
        assert_eq!(request.last_user, "second question");
        assert_eq!(request.message_words, 7);
        assert_eq!(request.thread_id, None);
    }

    #[test]
    fn bad_run_bodies_name_the_field() {
        let user = json!([{"role": "user", "content": "hi"}]);
        let cases = [
            (json!({}), "messages"),
            (json!({"messages": []}), "messages"),
            (json!({"messages": "hi"}), "messages"),
            (
                json!({"messages": [{"role": "system", "content": "hi"}]}),
                "messages[0].role",
            ),
            (
                json!({"messages": [{"role": "user"}]}),
                "messages[0].content",
            ),
            (json!({"messages": ["hi"]}), "messages[0]"),
            (json!({"messages": user, "threadId": ""}), "threadId"),
            (json!({"messages": user, "callbackUrl": 5}), "callbackUrl"),
            (
                json!({"messages": user, "callbackUrl": "ftp://x/y"}),
                "callbackUrl",
            ),
            (
                json!({"messages": user, "callbackUrl": "/relative"}),
                "callbackUrl",
            ),
            (json!({"messages": user, "config": "x"}), "config"),
        ];
        for (body, field) in cases {
            let detail = parse(body.clone()).unwrap_err();
            assert!(
                detail.contains(&format!("Field {field} ")),
                "{body}: {detail}"
            );
        }
        assert_eq!(
            parse(json!({"messages": user, "threadId": "t-1"}))
                .unwrap()
                .thread_id
                .as_deref(),
            Some("t-1")
        );
        let with_callback =
            parse(json!({"messages": user, "callbackUrl": "http://127.0.0.1:9/hook"})).unwrap();
        assert_eq!(
            with_callback.callback,
            Some(CallbackUrl::parse("http://127.0.0.1:9/hook").unwrap())
        );
        let empty = parse(json!({"messages": user, "callbackUrl": ""})).unwrap();
        assert_eq!(empty.callback, None);
    }
}
