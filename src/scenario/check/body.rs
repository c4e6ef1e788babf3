//! Request bodies as a scenario gives them: TOML tables made JSON, what each op's body must
//! hold, the create-body fields the run keeps for itself, and the run body used when none is given.

use serde_json::{Map, Value};

use crate::scenario::plan::MixOp;

/// The body run ops send when the scenario gives none.
pub fn default_run_body() -> Value {
    serde_json::json!({ "messages": [{ "role": "user", "content": "Say hello in one short sentence." }] })
}

/// What each op does with a body: run ops need `messages`, reads send none.
pub(in crate::scenario) fn check_body(op: MixOp, body: &Value) -> Result<(), (String, String)> {
    let Some(object) = body.as_object() else {
        return Err((
            "the body must be a JSON object".into(),
            "write a table, e.g. body = { messages = [...] }".into(),
        ));
    };
    match op {
        MixOp::List | MixOp::Get | MixOp::Delete => Err((
            format!("`{}` sends no body", op.name()),
            "remove `body` from this entry".into(),
        )),
        MixOp::Run | MixOp::RunStream => match object.get("messages") {
            Some(Value::Array(messages)) if !messages.is_empty() => Ok(()),
            _ => Err((
                "a run body needs a non-empty `messages` array".into(),
                "e.g. body = { messages = [{ role = \"user\", content = \"What is 2+2?\" }] }"
                    .into(),
            )),
        },
        MixOp::Create | MixOp::Lifecycle => check_create_extra(object),
        MixOp::Patch => Ok(()),
    }
}

/// A TOML float that JSON cannot hold (NaN, an infinity).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{0} has no JSON form; use a finite number")]
pub struct NotJson(pub f64);

/// A TOML table as JSON, unchanged but for dates and times, which become RFC 3339 strings.
/// NaN and infinities have no JSON form and are refused.
pub fn toml_table_to_json(table: &toml::Table) -> Result<Map<String, Value>, NotJson> {
    table
        .iter()
        .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
        .collect()
}

fn toml_to_json(value: &toml::Value) -> Result<Value, NotJson> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            Value::Number(serde_json::Number::from_f64(*f).ok_or(NotJson(*f))?)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => {
            Value::Array(items.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(table) => Value::Object(toml_table_to_json(table)?),
    })
}

/// Create-body fields the run sets itself: overriding them would hide an agent from teardown
/// (another name prefix, another team).
const RUN_OWNED_CREATE_FIELDS: [&str; 3] = ["name", "teamId", "makeConnectionId"];

pub(super) fn check_create_extra(fields: &Map<String, Value>) -> Result<(), (String, String)> {
    match RUN_OWNED_CREATE_FIELDS.iter().find(|key| fields.contains_key(**key)) {
        Some(key) => Err((
            format!("the body sets `{key}`, which the run sets itself"),
            "remove it: agents are named agentload-<run id>-..., in the target's team, with target.make_connection_id, so teardown finds every one".to_owned(),
        )),
        None => Ok(()),
    }
}
