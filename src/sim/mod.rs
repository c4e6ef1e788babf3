//! The embedded simulator of the AI Agents API: an axum app with an in-memory store that
//! `agentload mock` serves, that a scenario without a base URL runs against, and that the tests
//! use, so the harness can be tried and tested without a Make account.
//!
//! Every route is served both under `/api/v2` (as on `https://eu1.make.com/api/v2`) and at the
//! root. All randomness comes from the configured seed and the request's position in the
//! sequence of requests, so a run is repeatable without one locked generator on the hot path.
//! Faults are drawn from a second generator derived from the same two, so turning faults on
//! changes no latency or id.

mod agents;
mod auth;
mod body;
mod callback;
mod config;
mod error;
mod fault_plan;
pub mod faults;
mod ratelimit;
mod runs;
mod server;
mod store;
mod stream;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use uuid::Uuid;

pub use callback::CallbackCounts;
pub use config::{Profile, SimConfig};
pub use error::RATE_LIMIT_MESSAGE;
pub use server::SimServer;

use callback::Callbacks;
use error::{json_errors, method_not_allowed, unknown_route};
use ratelimit::RateLimiter;
use store::Store;

/// The simulator's shared state: configuration, the store, the request counter, the rate
/// limit's windows and the callbacks' connections.
pub struct SimState {
    config: SimConfig,
    store: Mutex<Store>,
    requests: AtomicU64,
    limiter: Mutex<RateLimiter>,
    callbacks: Arc<Callbacks>,
}

impl SimState {
    /// A simulator with an empty store, shared by every handler.
    pub fn new(config: SimConfig) -> Arc<Self> {
        Arc::new(SimState {
            config,
            store: Mutex::new(Store::default()),
            requests: AtomicU64::new(0),
            limiter: Mutex::new(RateLimiter::default()),
            callbacks: Arc::new(Callbacks::default()),
        })
    }

    /// The configuration the simulator was started with.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Agents stored, all teams together.
    pub fn agent_count(&self) -> usize {
        self.store().len()
    }

    /// Names of the stored agents, all teams together, oldest first.
    pub fn agent_names(&self) -> Vec<String> {
        self.store().names()
    }

    /// Requests received so far, whatever their outcome (unknown routes and rejected ones too).
    pub fn requests_served(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Callbacks delivered, failed and dropped so far.
    pub fn callbacks(&self) -> CallbackCounts {
        self.callbacks.counts()
    }

    /// The store, locked. Never hold the guard across an `.await`.
    fn store(&self) -> MutexGuard<'_, Store> {
        // A handler that panicked cannot leave the store half-written (each change is one
        // call), so a poisoned lock is still safe to use.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The generator of the request at position `index`: a function of the seed and the index
    /// alone, so concurrent requests share nothing.
    fn rng_for(&self, index: u64) -> SmallRng {
        SmallRng::seed_from_u64(self.config.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The generator of the faults of the request at position `index`: like `rng_for`, a
    /// function of the seed and the index alone, but a stream of its own, so that drawing
    /// faults leaves the request's latencies and ids as they would be without.
    fn fault_rng_for(&self, index: u64) -> SmallRng {
        let mixed = (self.config.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)).rotate_left(29);
        SmallRng::seed_from_u64(mixed ^ 0xD1B5_4A32_D192_ED03)
    }
}

/// A request's position in the sequence of requests, set by `count_request`.
#[derive(Clone, Copy, Debug, Default)]
struct RequestIndex(u64);

/// A random (version 4) UUID drawn from `rng`.
fn new_uuid(rng: &mut SmallRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// The simulator's routes, under `/api/v2` and at the root; anything else is a 404 error body.
/// Every error, axum's own rejections included, answers with the documented JSON error body.
pub fn app(state: Arc<SimState>) -> Router {
    let api = Router::new()
        .route(
            "/ai-agents/v1/agents",
            get(agents::list)
                .post(agents::create)
                .fallback(method_not_allowed),
        )
        .route(
            "/ai-agents/v1/agents/{agent_id}",
            get(agents::get)
                .patch(agents::update)
                .delete(agents::delete)
                .fallback(method_not_allowed),
        )
        .route(
            "/ai-agents/v1/agents/{agent_id}/run",
            post(runs::run).fallback(method_not_allowed),
        )
        .route(
            "/ai-agents/v1/agents/{agent_id}/run/stream",
            post(runs::run_stream).fallback(method_not_allowed),
        );
    Router::new()
        .nest("/api/v2", api.clone())
        .merge(api)
        .fallback(unknown_route)
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// Counts every request and tags it with its position, from which its generator is derived.
async fn count_request(
    State(state): State<Arc<SimState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let index = state.requests.fetch_add(1, Ordering::Relaxed);
    request.extensions_mut().insert(RequestIndex(index));
    next.run(request).await
}
