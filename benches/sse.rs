//! Measures the SSE decoder on a stream shaped like the API's: step events of ~300 bytes of JSON,
//! fed whole and in 64-byte reads (the hot path of every simulated agent).

use std::fmt::Write as _;
use std::hint::black_box;

use agentload::api::sse::{SseDecoder, SseEvent};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Step events per stream.
const EVENTS: usize = 10;

/// Bytes per network read in the chunked case.
const READ_BYTES: usize = 64;

/// `EVENTS` step events as the API sends them: `event`, `id` and one JSON `data` line, no space
/// after the colons.
fn step_stream() -> Vec<u8> {
    let mut stream = String::new();
    for step in 0..EVENTS {
        write!(
            stream,
            "event:step\n\
             id:4ebb9c59-ab75-41d5-8146-{step:012x}\n\
             data:{{\"role\":\"assistant\",\"content\":\"step {step}: calling tool \
             search_docs with query \\\"quarterly revenue by region\\\" (attempt 1 of 3, \
             cached: false)\\nCurrent time (ISO): 2025-06-26T01:42:30.080-06:00\",\
             \"id\":\"445431dd-c20e-4a58-a043-{step:012x}\",\
             \"agentIterationId\":\"a132ced5-4afd-4444-ac9d-330cc99c4986\"}}\n\n"
        )
        .expect("writing to a String cannot fail");
    }
    stream.into_bytes()
}

/// Decodes one stream delivered as `reads`, returning its events.
fn decode<'a>(reads: impl IntoIterator<Item = &'a [u8]>) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::default();
    let mut events = Vec::with_capacity(EVENTS);
    for read in reads {
        decoder
            .feed(black_box(read), &mut events)
            .expect("the stream is well within the limit");
    }
    black_box(decoder.finish());
    events
}

fn bench_sse(c: &mut Criterion) {
    let stream = step_stream();
    // Check the input once, outside the measurements.
    let events = decode([stream.as_slice()]);
    assert_eq!(events.len(), EVENTS);
    assert_eq!(decode(stream.chunks(READ_BYTES)), events);
    assert!(events.iter().all(|e| e.event == "step" && e.id.is_some()));

    let mut group = c.benchmark_group("sse_decode");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("whole", |b| {
        b.iter(|| decode([black_box(stream.as_slice())]))
    });
    group.bench_function("reads_64b", |b| {
        b.iter(|| decode(black_box(stream.as_slice()).chunks(READ_BYTES)))
    });
    group.finish();
}

criterion_group!(benches, bench_sse);
criterion_main!(benches);
