//! The HTTP client of the AI Agents API: one method per endpoint, each returning a timed
//! [`Sample`] whatever happens, with every failure classified rather than raised.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::FutureExt;
use http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, RETRY_AFTER, USER_AGENT,
};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use super::sse::{SseDecoder, SseError, SseEvent};
use super::transport::{Endpoint, EndpointError, Lease, SendError, Transport};
use super::types::{self, AgentInfo, DecodeError, RunResult};
use crate::model::Op;
use crate::model::error::{ErrorClass, Failure};
use crate::model::sample::{StepRole, StreamCounts};
use crate::model::units::format_byte_size;
use crate::model::{AuthScheme, Timeouts};
use crate::model::{Sample, Timeline};

/// Bodies larger than this are not read whole; the request fails as `decode`.
const MAX_BODY_BYTES: usize = 16 << 20;

/// Why a token cannot be sent; never contains the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("the token is empty")]
    Empty,
    #[error("the token contains characters not allowed in an HTTP header")]
    NotAHeaderValue,
}

/// The `Authorization` header, marked sensitive so it never shows in debug output.
#[derive(Clone)]
pub struct Credentials(HeaderValue);

impl Credentials {
    /// Builds the header; the error never contains the token.
    pub fn new(scheme: AuthScheme, token: &str) -> Result<Self, CredentialsError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(CredentialsError::Empty);
        }
        let mut value = HeaderValue::from_str(&format!("{} {token}", scheme.header_prefix()))
            .map_err(|_| CredentialsError::NotAHeaderValue)?;
        value.set_sensitive(true);
        Ok(Credentials(value))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// Where and how to call.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub base_url: String,
    pub team_id: u64,
    pub credentials: Credentials,
    pub timeouts: Timeouts,
    /// Idle connections kept for reuse; size it to the concurrency.
    pub max_idle_connections: usize,
    /// Largest SSE event accepted before the stream fails as `sse_protocol`.
    pub max_event_bytes: usize,
}

/// Every call takes `intended`: when the plan meant the request to start (open model), or
/// `None` when the send itself is the start (closed model, setup and teardown).
///
/// A call's sample plus what the caller may need from a successful response.
#[derive(Debug)]
pub struct Call<T> {
    pub sample: Sample,
    pub value: Option<T>,
    /// A failed response's `Retry-After`, in its delay-seconds form.
    pub retry_after: Option<Duration>,
}

/// What a stream told, beyond its timeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamResult {
    pub counts: StreamCounts,
    /// The conversation's thread, if the server named it in a step (the documented steps do
    /// not).
    pub thread_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ApiClient {
    transport: Arc<Transport>,
    base_url: String,
    /// `?teamId=N`, appended to every path.
    team_query: String,
    auth: HeaderValue,
    timeouts: Timeouts,
    max_event_bytes: usize,
}

/// An in-progress call: its timeline and deadlines.
struct Attempt {
    op: Op,
    timeline: Timeline,
    total_deadline: Instant,
    /// The response's status, once its headers are in.
    status: Option<u16>,
}

impl Attempt {
    fn start(op: Op, intended: Option<Instant>, timeouts: &Timeouts) -> Attempt {
        let sent = Instant::now();
        Attempt {
            op,
            timeline: Timeline::starting(intended.unwrap_or(sent), sent),
            total_deadline: sent + timeouts.total,
            status: None,
        }
    }

    fn fail<T>(mut self, failure: Failure) -> Call<T> {
        self.timeline.end = Instant::now();
        Call {
            sample: Sample {
                status: self.status,
                ..Sample::new(self.op, None, self.timeline, Err(failure))
            },
            value: None,
            retry_after: None,
        }
    }

    /// Fails with the response's status as the class, whatever happens reading its body (a
    /// lost body only shortens the message), keeping `Retry-After` for whoever retries.
    fn fail_http<'a, T>(
        self,
        client: &'a ApiClient,
        response: Response<Incoming>,
        lease: Lease,
        deadlines: &[(Instant, ErrorClass)],
    ) -> impl Future<Output = Call<T>> + use<'a, T> {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = client.read_body(response.into_body(), lease, deadlines);
        body.map(move |body| {
            let message = match body {
                Ok(body) => types::describe_error(status, &body),
                Err(lost) => format!(
                    "{} (the body was lost: {})",
                    types::describe_error(status, b""),
                    lost.message
                ),
            };
            let mut call = self.fail(Failure::new(ErrorClass::Http(status.as_u16()), message));
            call.retry_after = retry_after;
            call
        })
    }

    fn succeed<T>(mut self, value: T) -> Call<T> {
        self.timeline.end = Instant::now();
        Call {
            sample: Sample {
                status: self.status,
                ..Sample::new(self.op, None, self.timeline, Ok(()))
            },
            value: Some(value),
            retry_after: None,
        }
    }
}

impl ApiClient {
    pub fn new(options: ClientOptions) -> Result<ApiClient, EndpointError> {
        let endpoint = Endpoint::parse(&options.base_url)?;
        Ok(ApiClient {
            transport: Arc::new(Transport::new(
                endpoint,
                options.timeouts.connect,
                options.max_idle_connections,
            )),
            base_url: options.base_url.trim_end_matches('/').to_owned(),
            team_query: format!("?teamId={}", options.team_id),
            auth: options.credentials.0,
            timeouts: options.timeouts,
            max_event_bytes: options.max_event_bytes,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn agents_path(&self) -> String {
        format!("/ai-agents/v1/agents{}", self.team_query)
    }

    fn agent_path(&self, id: &str, suffix: &str) -> String {
        format!(
            "/ai-agents/v1/agents/{}{suffix}{}",
            encode_path_segment(id),
            self.team_query
        )
    }

    /// A request with the headers every call carries, and a JSON body when given. Built in
    /// place in its box: a builder would move the whole request once per header.
    fn build(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Box<Request<Full<Bytes>>>, Failure> {
        let uri = self
            .transport
            .uri(path)
            .map_err(|err| Failure::new(ErrorClass::Decode, err.to_string()))?;
        let json = body.is_some();
        let mut request = Box::new(Request::new(Full::new(body.unwrap_or_default())));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.reserve(5);
        headers.insert(HOST, self.transport.endpoint().authority.clone());
        headers.insert(AUTHORIZATION, self.auth.clone());
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("agentload/", env!("CARGO_PKG_VERSION"))),
        );
        if json {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(request)
    }

    /// `GET /ai-agents/v1/agents`
    pub async fn list(&self, intended: Option<Instant>) -> Call<Vec<AgentInfo>> {
        let request = self.build(Method::GET, &self.agents_path(), None);
        self.exchange(Op::List, intended, request, types::parse_agent_list)
            .await
    }

    /// `POST /ai-agents/v1/agents`; the value is the new agent's id.
    pub async fn create(&self, intended: Option<Instant>, body: Bytes) -> Call<String> {
        let request = self.build(Method::POST, &self.agents_path(), Some(body));
        self.exchange(Op::Create, intended, request, types::parse_created)
            .await
    }

    /// `GET /ai-agents/v1/agents/{id}`
    pub async fn get(&self, intended: Option<Instant>, id: &str) -> Call<AgentInfo> {
        let request = self.build(Method::GET, &self.agent_path(id, ""), None);
        self.exchange(Op::Get, intended, request, types::parse_agent)
            .await
    }

    /// `PATCH /ai-agents/v1/agents/{id}` (204, no body)
    pub async fn patch(&self, intended: Option<Instant>, id: &str, body: Bytes) -> Call<()> {
        let request = self.build(Method::PATCH, &self.agent_path(id, ""), Some(body));
        self.exchange(Op::Patch, intended, request, |_| Ok(()))
            .await
    }

    /// `DELETE /ai-agents/v1/agents/{id}` (204, no body)
    pub async fn delete(&self, intended: Option<Instant>, id: &str) -> Call<()> {
        let request = self.build(Method::DELETE, &self.agent_path(id, ""), None);
        self.exchange(Op::Delete, intended, request, |_| Ok(()))
            .await
    }

    /// `POST /ai-agents/v1/agents/{id}/run`; records the server's `executionTimeMs`.
    pub async fn run(&self, intended: Option<Instant>, id: &str, body: Bytes) -> Call<RunResult> {
        let request = self.build(Method::POST, &self.agent_path(id, "/run"), Some(body));
        let mut call = self
            .exchange(Op::Run, intended, request, types::parse_run)
            .await;
        if let Some(result) = &call.value {
            call.sample.server_time = result.execution_time_ms.map(Duration::from_millis);
        }
        call
    }

    /// Sends a request and reads a whole body, checking it with `parse` on success.
    async fn exchange<T>(
        &self,
        op: Op,
        intended: Option<Instant>,
        request: Result<Box<Request<Full<Bytes>>>, Failure>,
        parse: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    ) -> Call<T> {
        let mut attempt = Attempt::start(op, intended, &self.timeouts);
        let request = match request {
            Ok(request) => request,
            Err(failure) => return attempt.fail(failure),
        };
        let deadlines = [(attempt.total_deadline, ErrorClass::TimeoutTotal)];
        let (response, lease) = match self.send(request, &deadlines).await {
            Ok(sent) => sent,
            Err(failure) => return attempt.fail(failure),
        };
        attempt.timeline.headers = Some(Instant::now());
        attempt.status = Some(response.status().as_u16());
        if !response.status().is_success() {
            return attempt.fail_http(self, response, lease, &deadlines).await;
        }
        let body = match self
            .read_body(response.into_body(), lease, &deadlines)
            .await
        {
            Ok(body) => body,
            Err(failure) => return attempt.fail(failure),
        };
        match parse(&body) {
            Ok(value) => attempt.succeed(value),
            Err(err) => attempt.fail(Failure::new(ErrorClass::Decode, err.to_string())),
        }
    }

    /// `POST /ai-agents/v1/agents/{id}/run/stream`, timing every step as its last byte arrives.
    pub async fn run_stream(
        &self,
        intended: Option<Instant>,
        id: &str,
        body: Bytes,
    ) -> Call<StreamResult> {
        let request = self
            .build(
                Method::POST,
                &self.agent_path(id, "/run/stream"),
                Some(body),
            )
            .map(|mut request| {
                request
                    .headers_mut()
                    .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
                request
            });
        let mut attempt = Attempt::start(Op::RunStream, intended, &self.timeouts);
        let request = match request {
            Ok(request) => request,
            Err(failure) => return attempt.fail(failure),
        };
        let first_step_deadline = attempt.timeline.sent + self.timeouts.first_step;
        let before_first_step = [
            (attempt.total_deadline, ErrorClass::TimeoutTotal),
            (first_step_deadline, ErrorClass::TimeoutFirstStep),
        ];
        let (response, lease) = match self.send(request, &before_first_step).await {
            Ok(sent) => sent,
            Err(failure) => return attempt.fail(failure),
        };
        attempt.timeline.headers = Some(Instant::now());
        attempt.status = Some(response.status().as_u16());
        if !response.status().is_success() {
            return attempt
                .fail_http(self, response, lease, &before_first_step)
                .await;
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("text/event-stream")
        {
            let message = format!("expected content type text/event-stream, got {content_type:?}");
            return attempt.fail(Failure::new(ErrorClass::SseProtocol, message));
        }

        let mut body = response.into_body();
        let mut decoder = SseDecoder::new(self.max_event_bytes);
        let mut events: Vec<SseEvent> = Vec::new();
        let mut result = StreamResult::default();
        let mut gaps = Vec::new();
        let mut last_step: Option<Instant> = None;
        // One timer for the whole stream, moved at each read: before the first step
        // timeout.first_step governs, after it timeout.idle from the last read; timeout.total
        // always.
        let (mut deadline, mut class) = earliest(&before_first_step);
        let timer = tokio::time::sleep_until(deadline.into());
        tokio::pin!(timer);
        loop {
            let read = tokio::select! {
                biased;
                read = body.frame() => read,
                _ = &mut timer => return attempt.fail(self.timeout_failure(class)),
            };
            let chunk = match read {
                Some(Err(err)) => {
                    let message = format!(
                        "connection lost after {} step(s): {}",
                        result.counts.steps(),
                        error_chain(&err)
                    );
                    return attempt.fail(Failure::new(ErrorClass::StreamCut, message));
                }
                None => break,
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(chunk) => chunk,
                    Err(_) => continue,
                },
            };
            let arrived = Instant::now();
            if let Err(SseError::EventTooLarge { limit }) = decoder.feed(&chunk, &mut events) {
                let message = format!(
                    "an event grew beyond max_event_size = {} ({limit} bytes) without ending; raise [target] max_event_size (or --max-event-size), or check the server's framing",
                    format_byte_size(limit)
                );
                return attempt.fail(Failure::new(ErrorClass::SseProtocol, message));
            }
            for event in events.drain(..) {
                if event.event != "step" {
                    result.counts.other_events += 1;
                    continue;
                }
                let step = match types::parse_step(&event.data) {
                    Ok(step) => step,
                    Err(err) => {
                        return attempt.fail(Failure::new(ErrorClass::Decode, err.to_string()));
                    }
                };
                result.counts.count_step(step.role);
                if step.thread_id.is_some() {
                    result.thread_id = step.thread_id;
                }
                match last_step {
                    None => attempt.timeline.first_step = Some(arrived),
                    Some(previous) => gaps.push(arrived - previous),
                }
                last_step = Some(arrived);
                if step.role == StepRole::Assistant && attempt.timeline.first_assistant.is_none() {
                    attempt.timeline.first_assistant = Some(arrived);
                }
            }
            if last_step.is_some() {
                (deadline, class) = earliest(&[
                    before_first_step[0],
                    (arrived + self.timeouts.idle, ErrorClass::TimeoutIdle),
                ]);
                timer.as_mut().reset(deadline.into());
            }
        }
        self.transport.release(lease);
        if decoder.finish() {
            let message = format!(
                "the stream ended inside an event, after {} complete step(s)",
                result.counts.steps()
            );
            return attempt.fail(Failure::new(ErrorClass::SseProtocol, message));
        }
        if result.counts.steps() == 0 {
            let message = format!(
                "the stream ended without a step ({} other event(s))",
                result.counts.other_events
            );
            return attempt.fail(Failure::new(ErrorClass::SseProtocol, message));
        }
        let counts = result.counts;
        let mut call = attempt.succeed(result);
        call.sample.stream = Some(counts);
        call.sample.step_gaps = gaps;
        call
    }

    /// Sends and waits for the response headers, within the deadlines.
    ///
    /// Not an `async fn`, and the request boxed, so that a request's future holds no second
    /// copy of the request: every byte of that future is copied each time a call starts.
    fn send(
        &self,
        request: Box<Request<Full<Bytes>>>,
        deadlines: &[(Instant, ErrorClass)],
    ) -> impl Future<Output = Result<(Response<Incoming>, Lease), Failure>> + use<'_> {
        within(self.transport.send(request), deadlines).map(|sent| match sent {
            Err(class) => Err(self.timeout_failure(class)),
            Ok(Err(err)) => Err(classify_send_error(err)),
            Ok(Ok(sent)) => Ok(sent),
        })
    }

    /// Reads a whole body, bounded in size and time; the connection is reused after a complete
    /// read and closed otherwise.
    fn read_body(
        &self,
        mut body: Incoming,
        lease: Lease,
        deadlines: &[(Instant, ErrorClass)],
    ) -> impl Future<Output = Result<Vec<u8>, Failure>> + use<'_> {
        // One deadline for the whole body, set once rather than per frame.
        let (at, class) = earliest(deadlines);
        let sleep = tokio::time::sleep_until(at.into());
        async move {
            tokio::pin!(sleep);
            let mut bytes = Vec::new();
            loop {
                let frame = tokio::select! {
                    biased;
                    frame = body.frame() => frame,
                    _ = &mut sleep => {
                        return Err(Failure::new(class, "the body did not arrive in time"));
                    }
                };
                match frame {
                    Some(Err(err)) => {
                        return Err(Failure::new(
                            ErrorClass::StreamCut,
                            format!(
                                "connection lost while reading the body: {}",
                                error_chain(&err)
                            ),
                        ));
                    }
                    None => {
                        self.transport.release(lease);
                        return Ok(bytes);
                    }
                    Some(Ok(frame)) => {
                        if let Ok(chunk) = frame.into_data() {
                            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                                return Err(Failure::new(
                                    ErrorClass::Decode,
                                    format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                                ));
                            }
                            bytes.extend_from_slice(&chunk);
                        }
                    }
                }
            }
        }
    }

    fn timeout_failure(&self, class: ErrorClass) -> Failure {
        let t = &self.timeouts;
        let message = match class {
            ErrorClass::TimeoutFirstStep => format!(
                "no step within {:?} of the send (timeout.first_step)",
                t.first_step
            ),
            ErrorClass::TimeoutIdle => format!("no data for {:?} (timeout.idle)", t.idle),
            _ => format!("the request took longer than {:?} (timeout.total)", t.total),
        };
        Failure::new(class, message)
    }
}

/// Awaits `future` until the earliest deadline; on expiry returns that deadline's class.
///
/// Not an `async fn`: that would keep `future` in its state beside the timeout holding it,
/// doubling the size of every request's future (and the bytes copied to start one).
fn within<F: Future>(
    future: F,
    deadlines: &[(Instant, ErrorClass)],
) -> impl Future<Output = Result<F::Output, ErrorClass>> + use<F> {
    let (at, class) = earliest(deadlines);
    tokio::time::timeout_at(at.into(), future).map(move |result| result.map_err(|_| class))
}

/// The deadline that comes first, with its class.
fn earliest(deadlines: &[(Instant, ErrorClass)]) -> (Instant, ErrorClass) {
    deadlines
        .iter()
        .copied()
        .min_by_key(|(at, _)| *at)
        .expect("at least one deadline")
}

/// Classifies a failure to get response headers.
fn classify_send_error(err: SendError) -> Failure {
    let class = match &err {
        SendError::ConnectTimeout => ErrorClass::TimeoutConnect,
        SendError::Tls(_) => ErrorClass::Tls,
        SendError::Connect(_) | SendError::Lost(_) => ErrorClass::Connect,
    };
    Failure::new(class, err.to_string())
}

/// An error and its sources on one line, without repeats.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// Percent-encodes an agent id for use as one path segment.
fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_the_token() {
        let credentials = Credentials::new(AuthScheme::Token, "s3cret").unwrap();
        assert!(!format!("{credentials:?}").contains("s3cret"));
        assert_eq!(credentials.0.to_str().unwrap(), "Token s3cret");
        let bearer = Credentials::new(AuthScheme::Bearer, " tok ").unwrap();
        assert_eq!(bearer.0.to_str().unwrap(), "Bearer tok");
        let err = Credentials::new(AuthScheme::Token, "bad\ntoken")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("bad"), "{err}");
        assert!(Credentials::new(AuthScheme::Token, "  ").is_err());
    }

    #[test]
    fn agent_ids_are_escaped_in_paths() {
        assert_eq!(encode_path_segment("4ebb9c59-ab75"), "4ebb9c59-ab75");
        assert_eq!(encode_path_segment("a/b?c"), "a%2Fb%3Fc");
    }
}
