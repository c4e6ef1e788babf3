//! The report folder's per-second files from real runs: `timeseries.csv` adds up to
//! `summary.json`, and `histograms.hlog` decodes (with the hdrhistogram crate's own reader) to
//! the same counts, tagged by op and metric.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

use crate::util::*;

/// Every interval of the log, merged per tag.
fn hlog_totals(path: &std::path::Path) -> BTreeMap<String, Histogram<u64>> {
    let bytes = std::fs::read(path).unwrap();
    let mut totals: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(&bytes) {
        let LogEntry::Interval(interval) = entry.expect("a well-formed log") else {
            continue;
        };
        let tag = interval
            .tag()
            .expect("every interval is tagged")
            .as_str()
            .to_owned();
        let decoded = base64_decode(interval.encoded_histogram());
        let histogram: Histogram<u64> = deserializer
            .deserialize(&mut decoded.as_slice())
            .expect("a V2 histogram");
        totals
            .entry(tag)
            .or_insert_with(|| Histogram::new(3).unwrap())
            .add(&histogram)
            .unwrap();
    }
    totals
}

/// Standard base64 (the log's encoding), without a crate for it.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|c| *c == byte).expect("base64") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn the_series_adds_up_to_the_summary() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text = one_op("run_stream", None, 60, 3) + "[[mix]]\nop = \"get\"\n[[mix]]\nop = \"run\"\n";
    let path = scenario(dir.path(), "s.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let summary = summary(&out);

    let mut reader = csv::Reader::from_path(out.join("timeseries.csv")).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header[..8],
        [
            "second",
            "unix_time",
            "warmup",
            "op",
            "requests",
            "errors",
            "in_flight",
            "dropped"
        ]
    );
    let rows: Vec<BTreeMap<String, String>> = reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect();
    let sum = |op: &str| -> u64 {
        rows.iter()
            .filter(|r| r["op"] == op)
            .map(|r| r["requests"].parse::<u64>().unwrap())
            .sum()
    };
    let total: u64 = ["get", "run", "run_stream"]
        .iter()
        .map(|op| summary["ops"][*op]["requests"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(sum("all"), total, "{rows:?}");
    for op in ["get", "run", "run_stream"] {
        assert_eq!(
            sum(op),
            summary["ops"][op]["requests"].as_u64().unwrap_or(0),
            "{op}"
        );
    }
    let seconds: Vec<u64> = rows
        .iter()
        .filter(|r| r["op"] == "all")
        .map(|r| r["second"].parse().unwrap())
        .collect();
    assert_eq!(
        seconds,
        (0..seconds.len() as u64).collect::<Vec<_>>(),
        "one row per second, none skipped"
    );

    let totals = hlog_totals(&out.join("histograms.hlog"));
    for (op, metric) in [
        ("run_stream", "ttfs"),
        ("run_stream", "latency"),
        ("get", "latency"),
        ("run", "server_time"),
    ] {
        let stats = &summary["ops"][op]["metrics"][metric];
        let histogram = &totals[&format!("{op}.{metric}")];
        assert_eq!(
            histogram.len(),
            stats["count"].as_u64().unwrap(),
            "{op}.{metric}"
        );
        let p99_ms = histogram.value_at_quantile(0.99) as f64 / 1000.0;
        assert!(
            (p99_ms - stats["p99"].as_f64().unwrap()).abs() < 0.01,
            "{op}.{metric}: {p99_ms} vs {stats}"
        );
    }
    assert_eq!(
        totals["run_stream.steps"].len(),
        summary["ops"]["run_stream"]["ok"].as_u64().unwrap()
    );
}

#[test]
fn log_requests_writes_one_row_per_request() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    let text =
        one_op("run_stream", Some("alpha"), 40, 4) + "[[mix]]\nop = \"get\"\nagent = \"beta\"\n";
    let path = scenario(dir.path(), "s.toml", &text);
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &["--log-requests"]), 0);
    let summary = summary(&out);
    let mut reader = csv::Reader::from_path(out.join("requests.csv")).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<BTreeMap<String, String>> = reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect();
    let total: u64 = ["get", "run_stream"]
        .iter()
        .map(|op| summary["ops"][*op]["requests"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(rows.len() as u64, total);
    for row in &rows {
        match row["op"].as_str() {
            "run_stream" => {
                assert_eq!(
                    (row["agent"].as_str(), row["status"].as_str()),
                    ("alpha", "200"),
                    "{row:?}"
                );
                assert!(row["steps"].parse::<u32>().unwrap() >= 3, "{row:?}");
                let first_step: f64 = row["first_step_ms"].parse().unwrap();
                let end: f64 = row["end_ms"].parse().unwrap();
                assert!(
                    first_step <= end && first_step >= row["sent_ms"].parse().unwrap(),
                    "{row:?}"
                );
            }
            "get" => assert_eq!(
                (
                    row["agent"].as_str(),
                    row["status"].as_str(),
                    row["steps"].as_str()
                ),
                ("beta", "200", ""),
                "{row:?}"
            ),
            other => panic!("unexpected op {other}"),
        }
        assert_eq!(row["error_class"], "");
    }
    assert!(!out.join("requests.csv").with_extension("partial").exists());
    // Without the flag there is no such file.
    let plain = dir.path().join("plain");
    assert_code(&sim.run(&path, &plain, &[]), 0);
    assert!(!plain.join("requests.csv").exists());
}

#[test]
fn metrics_addr_serves_prometheus_text_during_the_run() {
    let sim = Sim::start(fast_profile());
    let dir = tempfile::tempdir().unwrap();
    // Long enough to be scraped while it runs.
    let scenario_text =
        one_op("run_stream", None, 1, 2).replace("iterations = 1", "duration = \"3s\"");
    let path = scenario(dir.path(), "s.toml", &scenario_text);
    let out = dir.path().join("out");
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let mut child = run_command(&path, &out, &sim.base_url(), TOKEN)
        .args(["--metrics-addr", &addr])
        .spawn()
        .unwrap();
    let mut scraped = String::new();
    // Scrape until the histograms show up or the run ends.
    while child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if let Some(body) = http_get(&addr, "/metrics")
            && body.contains("agentload_latency_seconds_bucket{op=\"run_stream\"")
        {
            scraped = body;
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(
        scraped.contains("# TYPE agentload_requests_total counter"),
        "{scraped}"
    );
    assert!(
        scraped.contains("agentload_ttfs_seconds_count{op=\"run_stream\"}"),
        "{scraped}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().to_string();
    let output = sim.run(&path, &dir.path().join("busy"), &["--metrics-addr", &busy]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--metrics-addr"), "{stderr}");
}

/// A plain HTTP/1.0 GET on loopback; the body, or `None` if nothing answers yet.
fn http_get(addr: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some(body.to_owned())
}
