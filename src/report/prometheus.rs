//! `--metrics-addr`: a Prometheus text endpoint (`GET /metrics`) with the run's live counters and
//! cumulative latency and time-to-first-step histograms per op, so a long soak test can be
//! watched in Grafana. The histograms follow the per-second series (a second or so behind).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::engine::control::{Control, LiveTotals};
use crate::metrics::series::{OpSecond, SecondRecord, SeriesSink};
use crate::model::Metric;
use crate::model::Op;

/// Bucket bounds of the exported histograms, in seconds.
const BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// Every second so far, per op, added up.
#[derive(Clone, Default)]
pub struct Cumulative(Arc<Mutex<BTreeMap<Op, OpSecond>>>);

impl SeriesSink for Cumulative {
    fn begin(&mut self, _wall: std::time::SystemTime) -> std::io::Result<()> {
        Ok(())
    }

    fn second(&mut self, _second: u32, record: &SecondRecord) -> std::io::Result<()> {
        let mut ops = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (op, second) in &record.ops {
            let total = ops.entry(*op).or_default();
            total.requests += second.requests;
            total.errors += second.errors;
            for metric in [Metric::Latency, Metric::Ttfs] {
                if let Some(histogram) = second.histograms.get(metric) {
                    total.histograms.merge_one(metric, histogram);
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Binds `addr` now (so a bad address fails before the run) and serves `/metrics` on the
/// current runtime until the process ends.
pub async fn serve(
    addr: SocketAddr,
    cumulative: Cumulative,
    control: Arc<Control>,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state((cumulative, control));
    tokio::spawn(axum::serve(listener, app).into_future());
    Ok(bound)
}

async fn metrics(
    State((cumulative, control)): State<(Cumulative, Arc<Control>)>,
) -> impl IntoResponse {
    let ops = cumulative
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        render(&control.totals(), &ops),
    )
}

/// The exposition text.
pub fn render(live: &LiveTotals, ops: &BTreeMap<Op, OpSecond>) -> String {
    let mut out = String::new();
    let mut gauge = |name: &str, kind: &str, help: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    gauge(
        "agentload_iterations_total",
        "counter",
        "Iterations started.",
        live.iterations.to_string(),
    );
    gauge(
        "agentload_requests_total",
        "counter",
        "Requests ended, all ops.",
        live.requests.to_string(),
    );
    gauge(
        "agentload_errors_total",
        "counter",
        "Requests that failed, all ops.",
        live.errors.to_string(),
    );
    gauge(
        "agentload_in_flight",
        "gauge",
        "Requests in flight now.",
        live.in_flight.max(0).to_string(),
    );
    gauge(
        "agentload_dropped_iterations_total",
        "counter",
        "Open-model arrivals that never started.",
        live.dropped.to_string(),
    );

    let _ = writeln!(
        out,
        "# HELP agentload_op_requests_total Requests ended, by op (from the per-second series).\n# TYPE agentload_op_requests_total counter"
    );
    for (op, total) in ops {
        let _ = writeln!(
            out,
            "agentload_op_requests_total{{op=\"{}\"}} {}",
            op.name(),
            total.requests
        );
    }
    let _ = writeln!(
        out,
        "# HELP agentload_op_errors_total Failed requests, by op.\n# TYPE agentload_op_errors_total counter"
    );
    for (op, total) in ops {
        let _ = writeln!(
            out,
            "agentload_op_errors_total{{op=\"{}\"}} {}",
            op.name(),
            total.errors
        );
    }
    for (metric, name, help) in [
        (
            Metric::Latency,
            "agentload_latency_seconds",
            "Latency of successful requests: end minus intended start.",
        ),
        (
            Metric::Ttfs,
            "agentload_ttfs_seconds",
            "Time to the first streamed step, from the send.",
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (op, total) in ops {
            let Some(histogram) = total.histograms.get(metric) else {
                continue;
            };
            let op = op.name();
            for bound in BUCKETS {
                let micros = (bound * 1e6) as u64;
                let count = histogram.count_between(0, micros);
                let _ = writeln!(out, "{name}_bucket{{op=\"{op}\",le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{op=\"{op}\",le=\"+Inf\"}} {}",
                histogram.len()
            );
            let sum = histogram.mean() * histogram.len() as f64 / 1e6;
            let _ = writeln!(out, "{name}_sum{{op=\"{op}\"}} {sum:.6}");
            let _ = writeln!(out, "{name}_count{{op=\"{op}\"}} {}", histogram.len());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::recorder::Histograms;

    #[test]
    fn the_exposition_has_counters_and_cumulative_buckets() {
        let mut histograms = Histograms::default();
        for ms in [3, 40, 40, 700] {
            histograms.record(Metric::Latency, ms * 1000);
        }
        let mut record = SecondRecord::default();
        record.ops.insert(
            Op::Get,
            OpSecond {
                requests: 5,
                errors: 1,
                in_flight: 0,
                histograms,
            },
        );
        let mut cumulative = Cumulative::default();
        cumulative.second(0, &record).unwrap();
        cumulative.second(1, &record).unwrap();
        let ops = cumulative.0.lock().unwrap().clone();
        let live = LiveTotals {
            iterations: 10,
            dropped: 2,
            requests: 10,
            errors: 2,
            in_flight: 3,
        };
        let text = render(&live, &ops);
        for line in [
            "agentload_requests_total 10",
            "agentload_in_flight 3",
            "agentload_dropped_iterations_total 2",
            "agentload_op_requests_total{op=\"get\"} 10",
            "agentload_op_errors_total{op=\"get\"} 2",
            "agentload_latency_seconds_bucket{op=\"get\",le=\"0.005\"} 2",
            "agentload_latency_seconds_bucket{op=\"get\",le=\"0.05\"} 6",
            "agentload_latency_seconds_bucket{op=\"get\",le=\"1\"} 8",
            "agentload_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 8",
            "agentload_latency_seconds_count{op=\"get\"} 8",
            "# TYPE agentload_latency_seconds histogram",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(
            !text.contains("agentload_ttfs_seconds_bucket"),
            "no stream, no ttfs"
        );
    }
}
