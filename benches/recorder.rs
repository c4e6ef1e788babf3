//! Recording one request's sample into a worker's recorder: the per-request cost every op pays.

use std::hint::black_box;
use std::time::{Duration, Instant};

use agentload::metrics::Recorder;
use agentload::model::sample::{StepRole, StreamCounts};
use agentload::model::{ErrorClass, Failure, Op};
use agentload::model::{Sample, Timeline};
use criterion::{Criterion, criterion_group, criterion_main};

fn samples() -> (Sample, Sample, Sample) {
    let now = Instant::now();
    let mut timeline = Timeline::starting(now, now);
    timeline.headers = Some(now + Duration::from_micros(800));
    timeline.end = now + Duration::from_millis(3);
    let get = Sample::new(Op::Get, Some(0), timeline, Ok(()));

    let mut stream_timeline = timeline;
    stream_timeline.first_step = Some(now + Duration::from_millis(180));
    stream_timeline.first_assistant = Some(now + Duration::from_millis(420));
    stream_timeline.end = now + Duration::from_millis(430);
    let mut stream = Sample::new(Op::RunStream, Some(1), stream_timeline, Ok(()));
    let mut counts = StreamCounts::default();
    for role in [
        StepRole::System,
        StepRole::User,
        StepRole::Tool,
        StepRole::Tool,
    ] {
        counts.count_step(role);
    }
    counts.count_step(StepRole::Assistant);
    stream.stream = Some(counts);
    stream.step_gaps = vec![Duration::from_millis(60); 4];

    let failed = Sample::new(
        Op::Run,
        Some(0),
        timeline,
        Err(Failure::new(ErrorClass::Http(429), "429 Too Many Requests")),
    );
    (get, stream, failed)
}

fn record(c: &mut Criterion) {
    let (get, stream, failed) = samples();
    let mut group = c.benchmark_group("record");
    let mut recorder = Recorder::new(2);
    group.bench_function("get_ok", |b| b.iter(|| recorder.record(black_box(&get))));
    group.bench_function("run_stream_ok_5_steps", |b| {
        b.iter(|| recorder.record(black_box(&stream)))
    });
    group.bench_function("run_http_429", |b| {
        b.iter(|| recorder.record(black_box(&failed)))
    });
    group.finish();

    let mut a = Recorder::new(2);
    let mut other = Recorder::new(2);
    for _ in 0..1000 {
        other.record(&get);
        other.record(&stream);
    }
    c.bench_function("merge_two_workers", |b| {
        b.iter(|| a.merge(black_box(&other)))
    });
}

criterion_group!(benches, record);
criterion_main!(benches);
