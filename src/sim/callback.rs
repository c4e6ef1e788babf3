//! `callbackUrl`: when a run that named one ends, the simulator POSTs the run's result (the
//! blocking run's response body, `application/json`) to that URL and nowhere else. Delivery
//! runs on its own task with its own time limit; a failure is counted and reported on stderr
//! (the first, then every tenfold more), never raised, so a bad receiver cannot hurt the runs.
//! Stopping the simulator waits a little for callbacks still under way, so the last runs of a
//! load test are not left without theirs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::header::{CONTENT_TYPE, HOST, USER_AGENT};
use axum::http::{HeaderValue, Method, Request};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::sync::Notify;

use crate::api::transport::{Endpoint, EndpointError, PathError, SendError, Transport};

/// Longest a delivery may take, connecting included.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest connecting to a receiver may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Receivers whose connections are kept for reuse; beyond this, each delivery connects anew.
const MAX_RECEIVERS: usize = 64;

/// Largest receiver answer read (and ignored) before the connection is given up.
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// Why a `callbackUrl` was refused; never repeats the URL (it may hold a secret). Read after
/// "Field callbackUrl " in the 400's detail.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackUrlError {
    #[error("is not a URL ({0})")]
    NotAUrl(url::ParseError),
    #[error("must be an http or https URL with a host")]
    NotHttpWithHost,
    #[error("must not carry credentials")]
    Credentials,
}

/// Why one delivery failed, as reported on stderr.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("no answer within {DELIVERY_TIMEOUT:?}")]
    Timeout,
    #[error(transparent)]
    Endpoint(EndpointError),
    #[error(transparent)]
    Path(PathError),
    #[error("cannot form the request: {0}")]
    Request(axum::http::Error),
    #[error("{0}")]
    Send(SendError),
    #[error("the receiver answered {0}")]
    Status(axum::http::StatusCode),
}

/// A checked `callbackUrl`: an `http` or `https` URL with a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackUrl {
    /// `scheme://host[:port]`, the receiver's connections are keyed by it.
    origin: String,
    /// Path and query, as sent in the request line.
    path_and_query: String,
}

impl CallbackUrl {
    /// Parses a URL; the error says what is wrong without repeating it (it may hold a secret).
    pub fn parse(text: &str) -> Result<CallbackUrl, CallbackUrlError> {
        let url = url::Url::parse(text.trim()).map_err(CallbackUrlError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(CallbackUrlError::NotHttpWithHost);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CallbackUrlError::Credentials);
        }
        Ok(CallbackUrl {
            origin: url[..url::Position::BeforePath].to_owned(),
            path_and_query: url[url::Position::BeforePath..url::Position::AfterQuery].to_owned(),
        })
    }

    /// The URL without its query, for messages.
    fn shown(&self) -> String {
        let path = self.path_and_query.split('?').next().unwrap_or_default();
        format!("{}{path}", self.origin)
    }
}

/// The simulator's deliveries: pooled connections per receiver, and counts.
#[derive(Default)]
pub struct Callbacks {
    receivers: Mutex<HashMap<String, Arc<Transport>>>,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    /// Callbacks scheduled or under way.
    pending: AtomicU64,
    /// Woken when `pending` falls to zero.
    settled: Notify,
}

/// How many callbacks were delivered, failed, or dropped by the `callback_drop` fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallbackCounts {
    pub delivered: u64,
    pub failed: u64,
    pub dropped: u64,
}

impl Callbacks {
    pub fn counts(&self) -> CallbackCounts {
        CallbackCounts {
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    /// Counts a callback the `callback_drop` fault swallowed.
    pub fn drop_one(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Delivers `body` to `url` once `after` has passed, on a task of its own.
    pub fn schedule(self: &Arc<Self>, url: CallbackUrl, body: Bytes, after: Duration) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        let callbacks = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            callbacks.deliver(&url, body).await;
            if callbacks.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
                callbacks.settled.notify_waiters();
            }
        });
    }

    /// Waits until no callback is scheduled or under way, or `limit` has passed.
    pub async fn settle(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, async {
            loop {
                let settled = self.settled.notified();
                tokio::pin!(settled);
                settled.as_mut().enable();
                if self.pending.load(Ordering::Acquire) == 0 {
                    return;
                }
                settled.await;
            }
        })
        .await;
    }

    /// POSTs `body` to `url`, within the delivery time limit; counts and reports the outcome.
    pub async fn deliver(&self, url: &CallbackUrl, body: Bytes) {
        let outcome = match tokio::time::timeout(DELIVERY_TIMEOUT, self.post(url, body)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(DeliveryError::Timeout),
        };
        match outcome {
            Ok(()) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err(why) => {
                let failures = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
                if is_power_of_ten(failures) {
                    let more = if failures == 1 {
                        "; later failures are counted and reported at 10, 100, ...".to_owned()
                    } else {
                        format!(" ({failures} callback failures so far)")
                    };
                    eprintln!(
                        "agentload simulator: a callback to {} failed: {why}{more}",
                        url.shown()
                    );
                }
            }
        }
    }

    async fn post(&self, url: &CallbackUrl, body: Bytes) -> Result<(), DeliveryError> {
        let transport = self.receiver(url)?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(
                transport
                    .uri(&url.path_and_query)
                    .map_err(DeliveryError::Path)?,
            )
            .header(HOST, transport.endpoint().authority.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static("agentload-simulator"))
            .body(Full::new(body))
            .map_err(DeliveryError::Request)?;
        let (response, lease) = transport
            .send(Box::new(request))
            .await
            .map_err(DeliveryError::Send)?;
        let status = response.status();
        let answer = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await;
        if answer.is_ok() {
            transport.release(lease);
        }
        if !status.is_success() {
            return Err(DeliveryError::Status(status));
        }
        Ok(())
    }

    /// The pooled connections to `url`'s origin, made on first use.
    fn receiver(&self, url: &CallbackUrl) -> Result<Arc<Transport>, DeliveryError> {
        let mut receivers = self
            .receivers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(transport) = receivers.get(&url.origin) {
            return Ok(transport.clone());
        }
        let endpoint = Endpoint::parse(&url.origin).map_err(DeliveryError::Endpoint)?;
        let transport = Arc::new(Transport::new(endpoint, CONNECT_TIMEOUT, 16));
        if receivers.len() < MAX_RECEIVERS {
            receivers.insert(url.origin.clone(), transport.clone());
        }
        Ok(transport)
    }
}

fn is_power_of_ten(mut n: u64) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_are_http_with_a_host() {
        let url = CallbackUrl::parse("http://127.0.0.1:9000/hooks/run?key=s3cret#frag").unwrap();
        assert_eq!(url.origin, "http://127.0.0.1:9000");
        assert_eq!(url.path_and_query, "/hooks/run?key=s3cret");
        assert_eq!(url.shown(), "http://127.0.0.1:9000/hooks/run");
        let bare = CallbackUrl::parse("https://example.com").unwrap();
        assert_eq!(
            (bare.origin.as_str(), bare.path_and_query.as_str()),
            ("https://example.com", "/")
        );
        for bad in ["", "not a url", "ftp://x/y", "mailto:a@b", "http://u:p@h/x"] {
            let err = CallbackUrl::parse(bad).unwrap_err().to_string();
            assert!(!err.contains(bad) || bad.is_empty(), "{err}");
        }
    }

    #[test]
    fn failures_are_reported_at_powers_of_ten() {
        let reported: Vec<u64> = (1..=1000).filter(|n| is_power_of_ten(*n)).collect();
        assert_eq!(reported, [1, 10, 100, 1000]);
    }

    #[tokio::test]
    async fn settling_waits_for_scheduled_callbacks_within_a_limit() {
        let callbacks = Arc::new(Callbacks::default());
        callbacks.settle(Duration::from_secs(5)).await;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = CallbackUrl::parse(&format!("http://{}/", listener.local_addr().unwrap()));
        drop(listener);
        callbacks.schedule(url.unwrap(), Bytes::new(), Duration::from_millis(50));
        callbacks.settle(Duration::from_secs(5)).await;
        assert_eq!(
            callbacks.counts().failed,
            1,
            "delivered (and failed) before settling"
        );

        let url = CallbackUrl::parse("http://127.0.0.1:9/").unwrap();
        callbacks.schedule(url, Bytes::new(), Duration::from_secs(3600));
        let started = std::time::Instant::now();
        callbacks.settle(Duration::from_millis(50)).await;
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_receiver_that_is_not_there_is_a_counted_failure() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let callbacks = Callbacks::default();
        let url = CallbackUrl::parse(&format!("http://{addr}/hook")).unwrap();
        callbacks.deliver(&url, Bytes::from_static(b"{}")).await;
        assert_eq!(
            callbacks.counts(),
            CallbackCounts {
                delivered: 0,
                failed: 1,
                dropped: 0
            }
        );
    }
}
