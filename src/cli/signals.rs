//! Ctrl-C and SIGTERM: what `run`, `mock` and `sweep` wait for to stop.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::engine::Control;

/// Ctrl-C or SIGTERM once: stop and clean up. Twice: skip the cleanup.
pub(super) async fn watch_signals(control: Arc<Control>, second: CancellationToken) {
    let mut seen = 0;
    loop {
        wait_for_signal().await;
        seen += 1;
        if seen == 1 {
            eprintln!("\ninterrupted: stopping; in-flight requests are cancelled");
            control.interrupt();
        } else {
            second.cancel();
            return;
        }
    }
}

#[cfg(unix)]
pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
pub(crate) async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
