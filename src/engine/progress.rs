//! The live view while a run goes: on a terminal, a progress bar redrawn every second with the
//! elapsed and planned time, the current rate, what is in flight, errors, dropped arrivals, and
//! p95 latency and time to first step over the last few seconds; otherwise (CI logs) the same
//! as one plain line every five seconds.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::control::Control;
use crate::metrics::series::Recent;
use crate::model::Metric;

/// Shows progress until `done` is cancelled.
pub async fn report(
    control: Arc<Control>,
    recent: Recent,
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
    let bar = terminal.then(|| progress_bar(planned));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut last_requests = 0u64;
    let mut last_at = Instant::now();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = done.cancelled() => break,
        }
        let live = control.totals();
        let now = Instant::now();
        let rate = (live.requests - last_requests) as f64
            / now.duration_since(last_at).as_secs_f64().max(1e-9);
        (last_requests, last_at) = (live.requests, now);
        let p95 = |metric| {
            recent
                .percentile(metric, 0.95)
                .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0}ms"))
        };
        let stats = format!(
            "{rate:.1} req/s  in flight {}  requests {}  errors {}{}  p95 latency {} ttfs {}",
            live.in_flight.max(0),
            live.requests,
            live.errors,
            if live.dropped > 0 {
                format!("  dropped {}", live.dropped)
            } else {
                String::new()
            },
            p95(Metric::Latency),
            p95(Metric::Ttfs),
        );
        let elapsed = started.elapsed();
        match &bar {
            Some(bar) => {
                bar.set_position(elapsed.as_secs());
                bar.set_message(stats);
            }
            None => {
                let of =
                    planned.map_or_else(String::new, |d| format!(" / {:.0}s", d.as_secs_f64()));
                eprintln!("{:6.1}s{of}  {stats}", elapsed.as_secs_f64());
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

fn progress_bar(planned: Option<Duration>) -> ProgressBar {
    let bar = match planned {
        Some(total) => {
            let bar = ProgressBar::new(total.as_secs().max(1));
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:24}] {pos}/{len}s  {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        }
        None => {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} {spinner}  {msg}")
                    .expect("a valid template"),
            );
            bar
        }
    };
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(2));
    bar
}
