//! The agent endpoints: list, create, get, patch and delete, each scoped to the query's team.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::auth::Ctx;
use super::body;
use super::error::ApiError;
use super::store::{AgentPatch, NewAgent, PASSTHROUGH_FIELDS};
use super::{SimState, new_uuid};

/// `GET /agents`: the team's agents, oldest first.
pub async fn list(State(state): State<Arc<SimState>>, ctx: Ctx) -> Json<Value> {
    let agents: Vec<Value> = state
        .store()
        .list(ctx.team_id)
        .iter()
        .map(|agent| agent.to_json())
        .collect();
    Json(Value::Array(agents))
}

/// `POST /agents`: 201 with the created agent's summary. The agent belongs to the query's team.
pub async fn create(
    State(state): State<Arc<SimState>>,
    mut ctx: Ctx,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let map = body::object(&bytes)?;
    let name = body::required_string(&map, "name", 1)?;
    body::required_positive_number(&map, "teamId")?;
    let make_connection_id = body::required_number(&map, "makeConnectionId")?;
    let default_model = body::required_string(&map, "defaultModel", 0)?;
    let system_prompt = body::required_string(&map, "systemPrompt", 1)?;
    let new = NewAgent {
        id: new_uuid(&mut ctx.rng).to_string(),
        team_id: ctx.team_id,
        name,
        system_prompt,
        default_model,
        make_connection_id,
        created_at: SystemTime::now(),
        extras: passthrough(&map)?,
    };
    let agent = state.store().insert(new);
    let created = json!({
        "agentId": agent.id,
        "name": agent.name,
        "teamId": agent.team_id,
        "makeConnectionId": agent.make_connection_id,
        "defaultModel": agent.default_model,
        "systemPrompt": agent.system_prompt,
    });
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /agents/{agentId}`: the agent object.
pub async fn get(
    State(state): State<Arc<SimState>>,
    ctx: Ctx,
    Path(agent_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store();
    let agent = store
        .get(ctx.team_id, &agent_id)
        .ok_or_else(|| ApiError::agent_not_found(&agent_id))?;
    Ok(Json(agent.to_json()))
}

/// `PATCH /agents/{agentId}`: 204; only the fields given change.
pub async fn update(
    State(state): State<Arc<SimState>>,
    ctx: Ctx,
    Path(agent_id): Path<String>,
    bytes: Bytes,
) -> Result<StatusCode, ApiError> {
    let map = body::object(&bytes)?;
    let patch = AgentPatch {
        name: body::optional_string(&map, "name", 1)?,
        system_prompt: body::optional_string(&map, "systemPrompt", 1)?,
        default_model: body::optional_string(&map, "defaultModel", 0)?,
        extras: passthrough(&map)?,
    };
    if state.store().update(ctx.team_id, &agent_id, patch) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::agent_not_found(&agent_id))
    }
}

/// `DELETE /agents/{agentId}`: 204.
pub async fn delete(
    State(state): State<Arc<SimState>>,
    ctx: Ctx,
    Path(agent_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store().remove(ctx.team_id, &agent_id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::agent_not_found(&agent_id))
    }
}

/// The optional fields the store keeps as given; `llmConfig` must be an object.
fn passthrough(map: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    body::optional_object(map, "llmConfig")?;
    Ok(PASSTHROUGH_FIELDS
        .iter()
        .filter_map(|&field| {
            map.get(field)
                .map(|value| (field.to_owned(), value.clone()))
        })
        .filter(|(_, value)| !value.is_null())
        .collect())
}
