//! The simulator as a running server: bound to an address, served on the current tokio runtime,
//! stopped gracefully. Used by `agentload mock`, by runs without a target, and by tests.

use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{SimConfig, SimState, app};

/// Pending connections the listener queues, so a burst of thousands of streams is not refused.
const LISTEN_BACKLOG: u32 = 4096;

/// Longest `shutdown` waits for callbacks still scheduled or under way.
const CALLBACK_GRACE: Duration = Duration::from_secs(2);

/// A running simulator. Dropping it stops the server too, without waiting; `shutdown` waits.
pub struct SimServer {
    /// The bound address (the real port when started on port 0).
    pub addr: SocketAddr,
    pub state: Arc<SimState>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl SimServer {
    /// Binds `addr` (`127.0.0.1:0` for an ephemeral port) and serves the simulator on the
    /// current tokio runtime.
    pub async fn start(config: SimConfig, addr: SocketAddr) -> io::Result<SimServer> {
        let listener = bind(addr)?;
        let addr = listener.local_addr()?;
        // Steps are small writes spaced in time: without NODELAY, Nagle's algorithm can hold
        // one back and distort the very latencies the harness measures.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let state = SimState::new(config);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = axum::serve(listener, app(state.clone())).with_graceful_shutdown(async move {
            // Resolves on `shutdown` and when the handle is dropped.
            let _ = stopped.await;
        });
        let task = tokio::spawn(server.into_future());
        Ok(SimServer {
            addr,
            state,
            stop,
            task,
        })
    }

    /// The base URL clients use, e.g. `http://127.0.0.1:40123/api/v2`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v2", self.addr)
    }

    /// Stops accepting connections, lets requests in flight (streams included) finish, waits
    /// for the server task to end, then a little (2 s at most) for callbacks still under way.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        // The task only ends with Ok (axum's serve never errors) or by panicking; either way
        // the server is gone.
        let _ = self.task.await;
        self.state.callbacks.settle(CALLBACK_GRACE).await;
    }
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
