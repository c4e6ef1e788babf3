//! The receiver of run results posted to `callbackUrl`: an HTTP server the run hosts, and the
//! tickets that let an iteration wait for its own run's result and time its arrival.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::scenario::CallbackSettings;

/// Runs waiting for their results, by ticket number.
#[derive(Debug, Default)]
struct Waiters {
    pending: Mutex<HashMap<u64, oneshot::Sender<Instant>>>,
    next: AtomicU64,
}

impl Waiters {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Instant>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the workers share: how to make a ticket, and how long a result may take.
#[derive(Debug)]
pub struct Callbacks {
    waiters: Arc<Waiters>,
    /// `<public URL>/callbacks/<run id>/`; a ticket's number completes it.
    url_prefix: String,
    pub timeout: Duration,
}

/// One run's claim on its result: the URL to send as `callbackUrl`, and the moment the result
/// arrives. Dropping it forgets the run (a result arriving later is answered 404).
pub struct Ticket {
    pub url: String,
    number: u64,
    arrival: oneshot::Receiver<Instant>,
    waiters: Arc<Waiters>,
}

impl Callbacks {
    /// What every `callbackUrl` of the run starts with.
    pub fn url_prefix(&self) -> &str {
        &self.url_prefix
    }

    /// A ticket for one run; register it before the run is sent.
    pub fn ticket(&self) -> Ticket {
        let number = self.waiters.next.fetch_add(1, Ordering::Relaxed);
        let (sender, arrival) = oneshot::channel();
        self.waiters.lock().insert(number, sender);
        Ticket {
            url: format!("{}{number}", self.url_prefix),
            number,
            arrival,
            waiters: self.waiters.clone(),
        }
    }
}

impl Ticket {
    /// When the result arrived, waiting until `deadline` at most; `None`: it did not come.
    pub async fn arrival_by(&mut self, deadline: Instant) -> Option<Instant> {
        tokio::time::timeout_at(deadline.into(), &mut self.arrival)
            .await
            .ok()
            .and_then(Result::ok)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.waiters.lock().remove(&self.number);
    }
}

/// The running receiver. Dropping it stops the server.
pub struct Receiver {
    pub callbacks: Arc<Callbacks>,
    /// The address it listens on (the real port when asked for port 0).
    pub addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

impl Receiver {
    /// Binds `settings.listen` and serves on the current runtime.
    pub async fn start(settings: &CallbackSettings, run_id: &str) -> std::io::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind(settings.listen).await?;
        let addr = listener.local_addr()?;
        let public = match &settings.public_url {
            Some(url) => url.clone(),
            None => format!("http://{addr}"),
        };
        let waiters = Arc::new(Waiters::default());
        let app = Router::new()
            .route("/callbacks/{run}/{number}", post(receive))
            .with_state((waiters.clone(), run_id.to_owned()));
        let task = tokio::spawn(axum::serve(listener, app).into_future());
        Ok(Receiver {
            callbacks: Arc::new(Callbacks {
                waiters,
                url_prefix: format!("{public}/callbacks/{run_id}/"),
                timeout: settings.timeout,
            }),
            addr,
            task,
        })
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Stamps a result's arrival as soon as its request line and headers are in, before the body
/// is read, and hands it to the waiting run.
async fn receive(
    State((waiters, run_id)): State<(Arc<Waiters>, String)>,
    Path((run, number)): Path<(String, u64)>,
) -> StatusCode {
    let arrived = Instant::now();
    if run != run_id {
        return StatusCode::NOT_FOUND;
    }
    match waiters.lock().remove(&number) {
        Some(waiter) => {
            let _ = waiter.send(arrived);
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn post(url: &str) -> u16 {
        let endpoint = crate::api::transport::Endpoint::parse(url).unwrap();
        let transport = crate::api::transport::Transport::new(endpoint, Duration::from_secs(2), 1);
        let uri = transport.uri("").unwrap();
        let mut request = Box::new(http::Request::new(http_body_util::Full::new(
            bytes::Bytes::from_static(b"{}"),
        )));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri;
        request
            .headers_mut()
            .insert(http::header::HOST, transport.endpoint().authority.clone());
        let (response, _) = transport.send(request).await.unwrap();
        response.status().as_u16()
    }

    #[tokio::test]
    async fn a_result_reaches_its_ticket_once_and_strangers_get_404() {
        let receiver = Receiver::start(&CallbackSettings::default(), "run-1")
            .await
            .unwrap();
        let callbacks = receiver.callbacks.clone();
        let mut first = callbacks.ticket();
        let second = callbacks.ticket();
        assert_ne!(first.url, second.url);
        assert!(
            first
                .url
                .starts_with(&format!("http://{}/callbacks/run-1/", receiver.addr))
        );

        let sent = Instant::now();
        assert_eq!(post(&first.url).await, 204);
        let arrived = first.arrival_by(sent + Duration::from_secs(2)).await;
        assert!(arrived.is_some_and(|at| at >= sent));
        assert_eq!(post(&first.url).await, 404, "a second result for one run");

        let late = second.url.clone();
        drop(second);
        assert_eq!(post(&late).await, 404, "a result for a forgotten run");
        let other_run = first.url.replace("/run-1/", "/run-2/");
        assert_eq!(post(&other_run).await, 404);

        let mut never = callbacks.ticket();
        let waited = never.arrival_by(Instant::now() + Duration::from_millis(50));
        assert_eq!(waited.await, None);
    }
}
