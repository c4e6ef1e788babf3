//! The API's JSON shapes as the harness checks them: just the fields the documentation marks as
//! required, everything else ignored, so servers may add fields freely.

use std::borrow::Cow;

use serde_json::Value;

use crate::model::sample::StepRole;

/// Why a response body (or a stream's step) does not have the documented shape; recorded as a
/// `decode` failure with this message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the body is not JSON ({0})")]
    NotJson(serde_json::Error),
    #[error("the agent is not a JSON object")]
    AgentNotAnObject,
    #[error("the agent lacks the required field `{key}`")]
    AgentLacksField { key: &'static str },
    #[error("the agent's `{key}` is not {expected}")]
    AgentFieldType {
        key: &'static str,
        /// The JSON type the documentation gives, e.g. "a string".
        expected: &'static str,
    },
    #[error(
        "the list is neither an array of agents nor an object holding one under `agents`, `data` or `items`"
    )]
    ListObjectWithoutArray,
    #[error("the list is neither an array of agents nor an object holding one")]
    ListNotArrayOrObject,
    #[error("agent {index} of the list: {error}")]
    ListAgent {
        index: usize,
        error: Box<DecodeError>,
    },
    #[error("the create response has no `agentId` (or `id`)")]
    CreatedWithoutId,
    #[error("the run response lacks the required string `{field}`")]
    RunLacksField { field: &'static str },
    #[error("a step's data is not a JSON object with a string `role` ({0})")]
    StepNotAnObject(serde_json::Error),
    #[error("a step's data has no string `role`")]
    StepWithoutRole,
}

/// What a get (or one entry of a list) tells about an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentInfo {
    pub id: String,
    pub name: String,
    pub default_model: String,
    pub system_prompt: String,
}

/// Fields the documentation marks as required on an agent object, with their JSON type.
const AGENT_REQUIRED: [(&str, JsonType); 6] = [
    ("id", JsonType::String),
    ("name", JsonType::String),
    ("teamId", JsonType::Integer),
    ("createdAt", JsonType::String),
    ("systemPrompt", JsonType::String),
    ("defaultModel", JsonType::String),
];

#[derive(Clone, Copy)]
enum JsonType {
    String,
    Integer,
}

impl JsonType {
    fn matches(self, value: &Value) -> bool {
        match self {
            JsonType::String => value.is_string(),
            JsonType::Integer => value.is_i64() || value.is_u64(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            JsonType::String => "a string",
            JsonType::Integer => "an integer",
        }
    }
}

fn parse_json(body: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(body).map_err(DecodeError::NotJson)
}

fn str_field(object: &serde_json::Map<String, Value>, key: &str) -> String {
    object
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Checks an agent object against the documented required fields.
pub fn agent_from_value(value: &Value) -> Result<AgentInfo, DecodeError> {
    let object = value.as_object().ok_or(DecodeError::AgentNotAnObject)?;
    for (key, kind) in AGENT_REQUIRED {
        match object.get(key) {
            None => return Err(DecodeError::AgentLacksField { key }),
            Some(v) if !kind.matches(v) => {
                return Err(DecodeError::AgentFieldType {
                    key,
                    expected: kind.name(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(AgentInfo {
        id: str_field(object, "id"),
        name: str_field(object, "name"),
        default_model: str_field(object, "defaultModel"),
        system_prompt: str_field(object, "systemPrompt"),
    })
}

/// An agent object as the wire carries it, for the fast path of checking one.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgentWire<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[allow(dead_code)]
    team_id: i64,
    #[allow(dead_code)]
    #[serde(borrow)]
    created_at: Cow<'a, str>,
    #[serde(borrow)]
    system_prompt: Cow<'a, str>,
    #[serde(borrow)]
    default_model: Cow<'a, str>,
}

/// A get response. Checked straight into a typed struct; only a body that fails that is
/// parsed again, generically, to say exactly which field is wrong.
pub fn parse_agent(body: &[u8]) -> Result<AgentInfo, DecodeError> {
    match serde_json::from_slice::<AgentWire<'_>>(body) {
        Ok(agent) => Ok(AgentInfo {
            id: agent.id.into_owned(),
            name: agent.name.into_owned(),
            default_model: agent.default_model.into_owned(),
            system_prompt: agent.system_prompt.into_owned(),
        }),
        Err(_) => agent_from_value(&parse_json(body)?),
    }
}

/// A list response: documented as an array of agents; a single agent object, or an object
/// wrapping the array (`{"agents": [...]}`), are accepted too.
pub fn parse_agent_list(body: &[u8]) -> Result<Vec<AgentInfo>, DecodeError> {
    let value = parse_json(body)?;
    let items: Vec<&Value> = match &value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(object) if object.contains_key("id") => vec![&value],
        Value::Object(object) => match ["agents", "data", "items"]
            .iter()
            .find_map(|key| object.get(*key)?.as_array())
        {
            Some(items) => items.iter().collect(),
            None => return Err(DecodeError::ListObjectWithoutArray),
        },
        _ => return Err(DecodeError::ListNotArrayOrObject),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            agent_from_value(item).map_err(|error| DecodeError::ListAgent {
                index,
                error: Box::new(error),
            })
        })
        .collect()
}

/// A create response: the new agent's id, from `agentId` (documented) or `id`.
pub fn parse_created(body: &[u8]) -> Result<String, DecodeError> {
    let value = parse_json(body)?;
    ["agentId", "id"]
        .into_iter()
        .find_map(|key| value.get(key).and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or(DecodeError::CreatedWithoutId)
}

/// What the harness keeps from a blocking run's response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunResult {
    pub thread_id: String,
    pub execution_time_ms: Option<u64>,
}

/// A blocking run's response: `response` and `threadId` are required.
pub fn parse_run(body: &[u8]) -> Result<RunResult, DecodeError> {
    let value = parse_json(body)?;
    if !value.get("response").is_some_and(Value::is_string) {
        return Err(DecodeError::RunLacksField { field: "response" });
    }
    let thread_id = value
        .get("threadId")
        .and_then(Value::as_str)
        .ok_or(DecodeError::RunLacksField { field: "threadId" })?
        .to_owned();
    let execution_time_ms = value.get("executionTimeMs").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f.round() as u64))
    });
    Ok(RunResult {
        thread_id,
        execution_time_ms,
    })
}

/// What the harness reads from a `step` event's payload: `role`, the one field a step must
/// carry, and a `threadId` should a server send one (the documented steps do not).
#[derive(Debug, PartialEq, Eq)]
pub struct StepInfo {
    pub role: StepRole,
    pub thread_id: Option<String>,
}

pub fn parse_step(data: &str) -> Result<StepInfo, DecodeError> {
    #[derive(serde::Deserialize)]
    struct Step<'a> {
        #[serde(borrow)]
        role: Option<Cow<'a, str>>,
        #[serde(rename = "threadId", default)]
        thread_id: Option<Value>,
    }
    let step: Step<'_> = serde_json::from_str(data).map_err(DecodeError::StepNotAnObject)?;
    let role = step.role.ok_or(DecodeError::StepWithoutRole)?;
    Ok(StepInfo {
        role: StepRole::from_role(&role),
        thread_id: match step.thread_id {
            Some(Value::String(id)) if !id.is_empty() => Some(id),
            _ => None,
        },
    })
}

/// A one-line description of an error response, from the documented error body when present.
pub fn describe_error(status: http::StatusCode, body: &[u8]) -> String {
    let reason = status.canonical_reason().unwrap_or("");
    let detail = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let text = ["message", "detail"]
            .into_iter()
            .find_map(|key| v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()))?
            .to_owned();
        Some(match v.get("code").and_then(Value::as_str) {
            Some(code) => format!("{text} ({code})"),
            None => text,
        })
    });
    match detail {
        Some(detail) => format!("{} {reason}: {detail}", status.as_u16()),
        None => format!("{} {reason}", status.as_u16()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str = r#"{"id":"a1","name":"n","teamId":1,"createdAt":"2026-01-01T00:00:00Z","systemPrompt":"p","defaultModel":"m","extra":true}"#;

    #[test]
    fn agents_need_the_documented_fields() {
        let agent = parse_agent(AGENT.as_bytes()).unwrap();
        assert_eq!(agent.id, "a1");
        assert_eq!(agent.default_model, "m");
        let missing = parse_agent(br#"{"id":"a1","name":"n"}"#)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("`teamId`"), "{missing}");
        let wrong = parse_agent(br#"{"id":1,"name":"n","teamId":1,"createdAt":"x","systemPrompt":"p","defaultModel":"m"}"#).unwrap_err().to_string();
        assert!(wrong.contains("`id` is not a string"), "{wrong}");
        assert!(
            parse_agent(b"not json")
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
    }

    #[test]
    fn lists_accept_the_documented_and_the_tolerated_shapes() {
        let array = format!("[{AGENT},{AGENT}]");
        assert_eq!(parse_agent_list(array.as_bytes()).unwrap().len(), 2);
        assert_eq!(parse_agent_list(AGENT.as_bytes()).unwrap().len(), 1);
        let wrapped = format!("{{\"agents\":[{AGENT}]}}");
        assert_eq!(parse_agent_list(wrapped.as_bytes()).unwrap().len(), 1);
        assert_eq!(parse_agent_list(b"[]").unwrap().len(), 0);
        let decoy = format!("{{\"a\":[],\"items\":[{AGENT}]}}");
        assert_eq!(
            parse_agent_list(decoy.as_bytes()).unwrap().len(),
            1,
            "only known keys hold the list"
        );
        assert!(parse_agent_list(b"{\"other\":[]}").is_err());
        assert!(
            parse_agent_list(b"[{\"id\":\"x\"}]")
                .unwrap_err()
                .to_string()
                .contains("agent 0")
        );
        assert!(parse_agent_list(b"42").is_err());
    }

    #[test]
    fn create_reads_agent_id_or_id() {
        assert_eq!(
            parse_created(br#"{"agentId":"x","name":"n"}"#).unwrap(),
            "x"
        );
        assert_eq!(parse_created(br#"{"id":"y"}"#).unwrap(), "y");
        assert!(parse_created(br#"{"name":"n"}"#).is_err());
    }

    #[test]
    fn run_needs_response_and_thread() {
        let ok = parse_run(br#"{"response":"hi","threadId":"t","executionTimeMs":1234}"#).unwrap();
        assert_eq!(
            ok,
            RunResult {
                thread_id: "t".into(),
                execution_time_ms: Some(1234)
            }
        );
        assert!(
            parse_run(br#"{"threadId":"t"}"#)
                .unwrap_err()
                .to_string()
                .contains("`response`")
        );
        assert!(
            parse_run(br#"{"response":"hi"}"#)
                .unwrap_err()
                .to_string()
                .contains("`threadId`")
        );
    }

    #[test]
    fn steps_need_a_role_and_errors_read_the_documented_body() {
        assert_eq!(
            parse_step(r#"{"role":"assistant","content":"x"}"#).unwrap(),
            StepInfo {
                role: StepRole::Assistant,
                thread_id: None
            }
        );
        assert!(parse_step("{}").is_err());
        assert!(parse_step("{").is_err());
        assert!(parse_step("[1]").is_err());
        assert!(parse_step(r#"{"role":5}"#).is_err());
        let step = parse_step(r#"{"role":"critic","threadId":"t-9","x":{"y":[1]}}"#).unwrap();
        assert_eq!(
            step,
            StepInfo {
                role: StepRole::Other,
                thread_id: Some("t-9".into())
            }
        );
        let body = br#"{"detail":"d","message":"Requests limit for organization exceeded, please try again later.","code":"SC429"}"#;
        assert_eq!(
            describe_error(http::StatusCode::TOO_MANY_REQUESTS, body),
            "429 Too Many Requests: Requests limit for organization exceeded, please try again later. (SC429)"
        );
        assert_eq!(
            describe_error(http::StatusCode::BAD_GATEWAY, b"<html>"),
            "502 Bad Gateway"
        );
    }
}
