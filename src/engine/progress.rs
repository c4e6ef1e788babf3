//! The live progress line: on a terminal, one line redrawn every second; otherwise (CI logs) one
//! plain line every five seconds.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::control::Control;

/// Prints progress until `done` is cancelled.
pub async fn report(
    control: Arc<Control>,
    started: Instant,
    planned: Option<Duration>,
    done: CancellationToken,
) {
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(5)
    };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut last_requests = 0u64;
    let mut last_at = Instant::now();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = done.cancelled() => break,
        }
        let live = control.totals();
        let requests = live.requests;
        let now = Instant::now();
        let rate =
            (requests - last_requests) as f64 / now.duration_since(last_at).as_secs_f64().max(1e-9);
        (last_requests, last_at) = (requests, now);
        let elapsed = started.elapsed().as_secs_f64();
        let of = planned.map_or_else(String::new, |d| format!(" / {:.0}s", d.as_secs_f64()));
        let line = format!(
            "{elapsed:6.1}s{of}  iterations {}  requests {requests}  errors {}  in flight {}{}  {rate:.1} req/s",
            live.iterations,
            live.errors,
            live.in_flight.max(0),
            if live.dropped > 0 {
                format!("  dropped {}", live.dropped)
            } else {
                String::new()
            },
        );
        let mut err = std::io::stderr().lock();
        let _ = if terminal {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
    if terminal {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}
