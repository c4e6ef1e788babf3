//! Ctrl-C and SIGTERM, handled one way for every command that runs load: the first stops the
//! run in progress (and whatever would follow it, such as a sweep's next step) and lets it
//! write its report and delete its agents; the second skips the rest of the teardown.

use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::engine::Control;

/// The interrupts of one command, shared by the runs it makes one after another.
#[derive(Default)]
pub struct Interrupts {
    current: Mutex<Option<Arc<Control>>>,
    stop: CancellationToken,
    second: CancellationToken,
}

impl Interrupts {
    /// Starts watching for signals on the current runtime; `notice` is printed on the first.
    pub fn watch(notice: &'static str) -> Arc<Interrupts> {
        let interrupts = Arc::new(Interrupts::default());
        tokio::spawn(interrupts.clone().wait(notice));
        interrupts
    }

    /// The run now in progress: the first interrupt stops it (at once, if one came already).
    pub fn running(&self, control: Arc<Control>) {
        if self.stop.is_cancelled() {
            control.interrupt();
        }
        *self.current.lock().expect("never poisoned") = Some(control);
    }

    /// Whether the first interrupt came.
    pub fn stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Cancelled by the first interrupt.
    pub fn stop(&self) -> &CancellationToken {
        &self.stop
    }

    /// Cancelled by the second interrupt: skip the teardown.
    pub fn second(&self) -> CancellationToken {
        self.second.clone()
    }

    async fn wait(self: Arc<Self>, notice: &'static str) {
        wait_for_signal().await;
        eprintln!("{notice}");
        self.stop.cancel();
        if let Some(control) = self.current.lock().expect("never poisoned").as_ref() {
            control.interrupt();
        }
        wait_for_signal().await;
        self.second.cancel();
    }
}

/// Waits for Ctrl-C or SIGTERM (what Kubernetes, systemd and CI runners send).
#[cfg(unix)]
pub async fn wait_for_signal() {
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

/// Waits for Ctrl-C.
#[cfg(not(unix))]
pub async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
