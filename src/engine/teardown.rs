//! The end of every run, however it ended: delete every agent the run created, within short
//! per-request limits so a stalled server cannot hold the harness, and stop at once when the
//! user interrupts a second time, naming what was left.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::fixtures::{self, Registry, Teardown};
use crate::api::{ApiClient, ClientOptions};

/// The longest one teardown request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What teardown works with.
pub struct Cleanup<'a> {
    /// The client's settings for the run; teardown shortens its total timeout.
    pub options: &'a ClientOptions,
    /// Every agent the run created (or may have created).
    pub registry: &'a Arc<Registry>,
    /// The name prefix of the run's agents.
    pub prefix: &'a str,
    /// Also list the team's agents for leftovers the registry never saw (lost responses).
    pub sweep: bool,
    /// Cancelled by a second interrupt: skip what is left.
    pub skip: &'a CancellationToken,
}

/// Deletes what the run created; a second interrupt leaves the rest, named.
pub async fn run(cleanup: Cleanup<'_>) -> Teardown {
    let mut options = cleanup.options.clone();
    options.timeouts.total = options.timeouts.total.min(REQUEST_TIMEOUT);
    let client = match ApiClient::new(options) {
        Ok(client) => client,
        Err(err) => return left_behind(cleanup.registry, &format!("no client: {err}")),
    };
    tokio::select! {
        report = fixtures::teardown(&client, cleanup.registry, cleanup.prefix, cleanup.sweep) => report,
        _ = cleanup.skip.cancelled() => left_behind(cleanup.registry, "teardown skipped by a second interrupt"),
    }
}

/// Every agent still registered, left for the reason given.
fn left_behind(registry: &Registry, why: &str) -> Teardown {
    Teardown {
        left: registry
            .pending()
            .into_iter()
            .map(|id| (id, why.to_owned()))
            .collect(),
        ..Teardown::default()
    }
}
