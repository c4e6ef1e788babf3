//! Scheduling one arrival: the planned instant of the next arrival of an open-model run, for a
//! constant rate, a ramp, and Poisson arrivals. The pacer pays this once per arrival.

use std::hint::black_box;
use std::time::Duration;

use agentload::engine::schedule::{Arrivals, Schedule};
use agentload::model::units::Rate;
use agentload::scenario::{Arrival, Ramp, Stage};
use criterion::{Criterion, criterion_group, criterion_main};

fn ramp() -> Ramp<Rate> {
    let stage = |secs, rate| Stage {
        duration: Duration::from_secs(secs),
        target: Rate::per_second(rate),
    };
    Ramp {
        start: Rate::per_second(0.0),
        stages: vec![stage(60, 5000.0), stage(36_000, 5000.0), stage(60, 0.0)],
    }
}

fn next_arrival(c: &mut Criterion) {
    let mut group = c.benchmark_group("next_arrival");
    let constant = Ramp::fixed(Rate::per_second(5000.0));
    for (name, rate, arrival) in [
        ("constant", constant.clone(), Arrival::Constant),
        ("poisson", constant, Arrival::Poisson),
        ("ramp_constant", ramp(), Arrival::Constant),
        ("ramp_poisson", ramp(), Arrival::Poisson),
    ] {
        let mut arrivals = Arrivals::new(Schedule::new(&rate), arrival, 1);
        group.bench_function(name, |b| b.iter(|| black_box(arrivals.next_offset())));
    }
    group.finish();
}

criterion_group!(benches, next_arrival);
criterion_main!(benches);
