//! The documented error body (`{"detail","message","code":"SC<status>"}`), so every failure the
//! simulator returns, including unknown routes and axum's own rejections, looks like one from the
//! real API.

use axum::Json;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Most bytes of a rejection's text body read to build the replacement's `detail`.
const MAX_REJECTION_BYTES: usize = 4096;

/// Most characters of a rejection's text kept in the replacement's `detail`.
const MAX_DETAIL_CHARS: usize = 200;

/// The `message` of every 429, as the API documents it.
pub const RATE_LIMIT_MESSAGE: &str =
    "Requests limit for organization exceeded, please try again later.";

/// A failed request: a status and the human-readable detail carried in the error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    /// Seconds sent as `Retry-After`, if any.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// A status injected by a `status` fault.
    pub fn injected(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(
            status,
            format!(
                "Simulated fault: status {} injected by the simulator's status faults",
                status.as_u16()
            ),
        )
    }

    /// 429 for an organization over its `per_minute` limit; its window frees in `retry_after`
    /// seconds.
    pub fn rate_limited(per_minute: u32, retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "The organization's limit of {per_minute} requests per minute is used up; the window frees in {retry_after} s"
                ),
            )
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
            StatusCode::TOO_MANY_REQUESTS => RATE_LIMIT_MESSAGE,
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
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
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

/// Middleware: a response with status 400 or above whose content type is not JSON (axum's own
/// rejections, such as 413 for a body over the size limit or 400 for a path that is not valid
/// UTF-8, answer in `text/plain`) is replaced by the documented error body with the same status
/// and headers, its `detail` taken from the original text.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_REJECTION_BYTES)
        .await
        .unwrap_or_default();
    let detail = short_detail(&String::from_utf8_lossy(&text))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
    let (replacement, body) = ApiError::new(status, detail).into_response().into_parts();
    // Headers describing the old body go; the rest (`allow` on a 405, say) stay.
    for name in replacement.headers.keys() {
        parts.headers.remove(name);
    }
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.extend(replacement.headers);
    Response::from_parts(parts, body)
}

/// The content type is JSON: `application/json` or a `+json` type, parameters aside.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || essence.to_ascii_lowercase().ends_with("+json")
}

/// A rejection's text, whitespace collapsed and cut to [`MAX_DETAIL_CHARS`]; `None` when empty.
fn short_detail(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let joined = words.join(" ");
    if joined.chars().count() <= MAX_DETAIL_CHARS {
        return Some(joined);
    }
    let mut cut: String = joined.chars().take(MAX_DETAIL_CHARS - 1).collect();
    cut.push('…');
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn content_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn json_content_types_are_recognised() {
        for json in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/problem+json",
        ] {
            assert!(is_json(&content_type(json)), "{json}");
        }
        for other in [
            "text/plain; charset=utf-8",
            "text/json-ish",
            "application/jsonl",
        ] {
            assert!(!is_json(&content_type(other)), "{other}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn rate_limited_answers_carry_the_documented_message_and_retry_after() {
        let response = ApiError::rate_limited(60, 17).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "17");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["message"], RATE_LIMIT_MESSAGE);
        assert_eq!(body["code"], "SC429");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("60 requests per minute")
        );

        let injected = ApiError::injected(429).into_response();
        assert!(injected.headers().get(RETRY_AFTER).is_none());
        let injected = ApiError::injected(503);
        assert_eq!(injected.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(injected.message(), "Service Unavailable");
    }

    #[test]
    fn details_are_short_single_lines() {
        assert_eq!(short_detail(" \n "), None);
        assert_eq!(
            short_detail("Failed to buffer the request body:\n  length limit exceeded\n"),
            Some("Failed to buffer the request body: length limit exceeded".to_owned())
        );
        let long = short_detail(&"é".repeat(500)).unwrap();
        assert_eq!(long.chars().count(), MAX_DETAIL_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(
            short_detail(&"x".repeat(MAX_DETAIL_CHARS)).unwrap().len(),
            MAX_DETAIL_CHARS
        );
    }
}
