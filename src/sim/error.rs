//! The documented error body (`{"detail","message","code":"SC<status>"}`), so every failure the
//! simulator returns, including unknown routes, looks like one from the real API.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed request: a status and the human-readable detail carried in the error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
        }
    }

    /// 400: the request is malformed; `detail` names the offending field.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 404 for an agent that does not exist or belongs to another team (the API does not tell the
    /// two apart).
    pub fn agent_not_found(agent_id: &str) -> Self {
        Self::not_found(format!("Agent {agent_id} not found"))
    }

    /// The short title that goes into `message`; `detail` carries the specifics.
    fn message(&self) -> &'static str {
        match self.status {
            StatusCode::BAD_REQUEST => "Validation failed",
            StatusCode::UNAUTHORIZED => "Invalid credentials",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
            _ => self.status.canonical_reason().unwrap_or("Error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "detail": self.detail,
            "message": self.message(),
            "code": format!("SC{}", self.status.as_u16()),
        });
        (self.status, Json(body)).into_response()
    }
}

/// Fallback for paths the API does not have.
pub async fn unknown_route(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("No route for {}", uri.path()))
}

/// Fallback for a known path called with a method it does not accept.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}
