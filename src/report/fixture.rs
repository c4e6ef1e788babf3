//! One summary with every part filled (ops, agents, turns, streams, retries, errors,
//! thresholds, goodput), built from fixed timings so every format's rendering of it is the same on
//! every run: the input of the formats' tests and snapshots.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metrics::Recorder;
use crate::metrics::goodput::GoodputContext;
use crate::metrics::slo::{Objective, Objectives};
use crate::metrics::threshold::Threshold;
use crate::model::sample::{StepRole, StreamCounts};
use crate::model::{ErrorClass, Failure, Op};
use crate::model::{Sample, Timeline};
use crate::summary::RunInfo;
use crate::summary::Summary;

pub fn summary() -> Summary {
    let objectives = Arc::new(Objectives::new(vec![
        Objective::parse_expr("ttfs <= 150ms").unwrap(),
        Objective::parse_expr("latency <= 100ms").unwrap(),
    ]));
    let mut recorder = Recorder::new(2).judging(objectives.clone());
    let now = Instant::now();
    for (op, variant, ms) in [
        (Op::RunStream, 0, 200),
        (Op::List, 0, 3),
        (Op::Get, 1, 4),
        (Op::Create, 1, 5),
    ] {
        let mut timeline = Timeline::starting(now, now);
        timeline.end = now + Duration::from_millis(ms);
        let variant = (op != Op::List).then_some(variant);
        let mut sample = Sample::new(op, variant, timeline, Ok(()));
        if op == Op::RunStream {
            sample.timeline.first_step = Some(now + Duration::from_millis(120));
            let mut counts = StreamCounts::default();
            for role in [StepRole::System, StepRole::User, StepRole::Assistant] {
                counts.count_step(role);
            }
            counts.other_events = 2;
            sample.stream = Some(counts);
            sample.turn = Some(1);
            recorder.record(&sample);
            sample.turn = Some(2);
            sample.retries = 2;
            sample.retry_wait = Duration::from_secs(2);
        }
        recorder.record(&sample);
    }
    let failure = Failure::new(
        ErrorClass::Http(429),
        "429 Too Many Requests: slow down (SC429)",
    );
    recorder.record(&Sample::new(
        Op::Get,
        Some(1),
        Timeline::starting(now, now),
        Err(failure),
    ));
    let thresholds = [Threshold::parse("errors.rate", "< 1%").unwrap()];
    let mut info = RunInfo::for_tests();
    info.goodput = Some(GoodputContext {
        objectives,
        window_s: 2.0,
    });
    Summary::build(
        info,
        &recorder,
        &["a".to_owned(), "b".to_owned()],
        &thresholds,
    )
}

/// Three variants of one streamed op, for the comparison's rendering: `fast` and `near` a
/// couple of milliseconds apart (noise), `slow` 100 ms behind with one failed request.
pub fn comparison() -> Summary {
    let mut recorder = Recorder::new(3);
    let now = Instant::now();
    for (variant, base) in [(0u16, 100u64), (1, 102), (2, 200)] {
        for i in 0..80 {
            let ttfs = base + (i * 37) % 40;
            let mut timeline = Timeline::starting(now, now);
            timeline.first_step = Some(now + Duration::from_millis(ttfs));
            timeline.end = now + Duration::from_millis(ttfs + 150 + i % 7);
            let mut sample = Sample::new(Op::RunStream, Some(variant), timeline, Ok(()));
            let mut counts = StreamCounts::default();
            for role in [StepRole::System, StepRole::User, StepRole::Assistant] {
                counts.count_step(role);
            }
            sample.stream = Some(counts);
            recorder.record(&sample);
        }
    }
    recorder.record(&Sample::new(
        Op::RunStream,
        Some(2),
        Timeline::starting(now, now),
        Err(Failure::new(
            ErrorClass::StreamCut,
            "the stream ended early",
        )),
    ));
    Summary::build(
        RunInfo::for_tests(),
        &recorder,
        &["fast".to_owned(), "near".to_owned(), "slow".to_owned()],
        &[],
    )
}
