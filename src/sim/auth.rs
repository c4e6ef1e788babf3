//! The checks every endpoint makes before it looks at its body: the API token, the `teamId`
//! query parameter, then the request faults (the rate limit, an injected status). Bundled as
//! one extractor, `Ctx`, that also hands the handler its request's random generators.

use std::sync::{Arc, PoisonError};
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use rand::rngs::SmallRng;

use super::error::ApiError;
use super::ratelimit::retry_after_secs;
use super::{RequestIndex, SimState};
use crate::model::Op;

/// A request that passed the token and team checks and drew no request fault.
pub struct Ctx {
    /// The `teamId` from the query: every agent is looked up within this team.
    pub team_id: u64,
    /// This request's generator (see `SimState::rng_for`).
    pub rng: SmallRng,
    /// This request's generator of faults (see `SimState::fault_rng_for`); the status draw
    /// has been taken from it.
    pub fault_rng: SmallRng,
}

impl FromRequestParts<Arc<SimState>> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<SimState>,
    ) -> Result<Self, ApiError> {
        check_token(&parts.headers, &state.config.token)?;
        let team_id = team_id(parts.uri.query())?;
        let index = parts
            .extensions
            .get::<RequestIndex>()
            .copied()
            .unwrap_or_default();
        let mut fault_rng = state.fault_rng_for(index.0);
        let faults = &state.config.faults;
        // One status draw for every request, faulted endpoint or not, so which request a
        // status hits depends only on the seed and the request's position.
        let status = faults.draw_status(&mut fault_rng);
        let faulted = !faults.is_empty()
            && endpoint(&parts.method, parts.uri.path())
                .is_some_and(|op| faults.endpoints.contains(op));
        if faulted {
            // The team is the organization: each teamId has its own window.
            if let Some(limit) = faults.rate_limit {
                let admitted = state
                    .limiter
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .admit(team_id, limit, Instant::now());
                if let Err(wait) = admitted {
                    return Err(ApiError::rate_limited(
                        limit.per_minute,
                        retry_after_secs(wait),
                    ));
                }
            }
            if let Some(status) = status {
                return Err(ApiError::injected(status));
            }
        }
        Ok(Ctx {
            team_id,
            rng: state.rng_for(index.0),
            fault_rng,
        })
    }
}

/// The endpoint a request is for, from its method and path (under `/api/v2` or at the root).
fn endpoint(method: &Method, path: &str) -> Option<Op> {
    let rest = path.strip_prefix("/api/v2").unwrap_or(path);
    let rest = rest.strip_prefix("/ai-agents/v1/agents")?;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match (segments.as_slice(), method) {
        ([], &Method::GET) => Some(Op::List),
        ([], &Method::POST) => Some(Op::Create),
        ([_], &Method::GET) => Some(Op::Get),
        ([_], &Method::PATCH) => Some(Op::Patch),
        ([_], &Method::DELETE) => Some(Op::Delete),
        ([_, "run"], &Method::POST) => Some(Op::Run),
        ([_, "run", "stream"], &Method::POST) => Some(Op::RunStream),
        _ => None,
    }
}

/// Accepts `Authorization: Token <token>` (API tokens) and `Bearer <token>` (OAuth).
fn check_token(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "Missing Authorization header; send \"Authorization: Token <api-token>\"",
        ));
    };
    let presented = value
        .to_str()
        .ok()
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| {
            scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer")
        })
        .map(|(_, credentials)| credentials.trim());
    match presented {
        Some(credentials) if credentials == token => Ok(()),
        Some(_) => Err(ApiError::unauthorized("Invalid access token")),
        None => Err(ApiError::unauthorized(
            "Malformed Authorization header; expected \"Token <api-token>\" or \"Bearer <token>\"",
        )),
    }
}

/// The `teamId` query parameter, an integer greater than 0.
fn team_id(query: Option<&str>) -> Result<u64, ApiError> {
    let raw = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("teamId="))
        .ok_or_else(|| ApiError::bad_request("Query parameter teamId is required"))?;
    match raw.parse::<u64>() {
        Ok(team_id) if team_id > 0 => Ok(team_id),
        _ => Err(ApiError::bad_request(format!(
            "Query parameter teamId must be an integer greater than 0, got {raw:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, StatusCode};

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn token_and_bearer_schemes_are_accepted() {
        assert!(check_token(&headers("Token s3cret"), "s3cret").is_ok());
        assert!(check_token(&headers("Bearer s3cret"), "s3cret").is_ok());
        assert!(check_token(&headers("token s3cret"), "s3cret").is_ok());
    }

    #[test]
    fn wrong_missing_or_malformed_credentials_are_401() {
        for value in ["Token nope", "Basic s3cret", "s3cret", "Token"] {
            let err = check_token(&headers(value), "s3cret").unwrap_err();
            assert_eq!(err.status, StatusCode::UNAUTHORIZED, "{value}");
            assert!(!err.detail.contains("s3cret"), "the token is never echoed");
        }
        let err = check_token(&HeaderMap::new(), "s3cret").unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn requests_are_told_apart_by_method_and_path() {
        let cases = [
            (Method::GET, "/api/v2/ai-agents/v1/agents", Some(Op::List)),
            (Method::POST, "/ai-agents/v1/agents/", Some(Op::Create)),
            (Method::GET, "/ai-agents/v1/agents/a-1", Some(Op::Get)),
            (
                Method::PATCH,
                "/api/v2/ai-agents/v1/agents/a-1",
                Some(Op::Patch),
            ),
            (Method::DELETE, "/ai-agents/v1/agents/a-1", Some(Op::Delete)),
            (Method::POST, "/ai-agents/v1/agents/a-1/run", Some(Op::Run)),
            (
                Method::POST,
                "/api/v2/ai-agents/v1/agents/a-1/run/stream",
                Some(Op::RunStream),
            ),
            (Method::GET, "/ai-agents/v1/agents/run", Some(Op::Get)),
            (Method::GET, "/ai-agents/v1/agents/a-1/run", None),
            (Method::POST, "/ai-agents/v1/other", None),
        ];
        for (method, path, op) in cases {
            assert_eq!(endpoint(&method, path), op, "{method} {path}");
        }
    }

    #[test]
    fn team_id_must_be_a_positive_integer() {
        assert_eq!(team_id(Some("teamId=12")), Ok(12));
        assert_eq!(team_id(Some("x=1&teamId=3&y")), Ok(3));
        for query in [
            None,
            Some(""),
            Some("teamId="),
            Some("teamId=0"),
            Some("teamId=-1"),
            Some("teamId=a"),
            Some("team=1"),
        ] {
            let err = team_id(query).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{query:?}");
            assert!(err.detail.contains("teamId"), "{query:?}");
        }
    }
}
