//! Scenario tests of `[load]`: the open model with every key, stages in each model's unit, and
//! the keys of the other model refused.

use super::*;

#[test]
fn open_loads_parse_with_every_key() {
    let text = MINIMAL.replace(
        "[load]\nvus = 2\nduration = \"10s\"",
        "[load]\nmodel = \"open\"\nrate = \"300/min\"\narrival = \"poisson\"\nduration = \"1m\"\nmax_in_flight = 50\nsaturation = \"drop\"\nmax_queue = 7\nwarmup = \"10s\"\ngrace = \"5s\"",
    );
    let plan = parse_text(&text).unwrap();
    let Pacing::Open {
        rate,
        arrival,
        max_in_flight,
        saturation,
        max_queue,
    } = &plan.load.pacing
    else {
        panic!("open: {:?}", plan.load.pacing);
    };
    assert_eq!(rate.start.as_per_second(), 5.0);
    assert!(rate.stages.is_empty());
    assert_eq!(
        (*arrival, *max_in_flight, *saturation, *max_queue),
        (Arrival::Poisson, 50, Saturation::Drop, 7)
    );
    assert_eq!(plan.load.warmup, Duration::from_secs(10));
    assert_eq!(plan.load.grace, Duration::from_secs(5));
    assert_eq!(
        plan.load.to_string(),
        "open model, 5/s poisson arrivals; at most 50 in flight, then drop; the first 10s are warmup, left out of the summary"
    );
}

#[test]
fn stages_set_the_duration_and_take_the_models_unit() {
    let open = MINIMAL.replace(
        "[load]\nvus = 2\nduration = \"10s\"",
        "[load]\nmodel = \"open\"\nstages = [{ duration = \"30s\", target = \"50/s\" }, { duration = \"1m\", target = \"50/s\" }]",
    );
    let plan = parse_text(&open).unwrap();
    assert_eq!(plan.load.stop.duration, Some(Duration::from_secs(90)));
    let closed = MINIMAL.replace(
        "[load]\nvus = 2\nduration = \"10s\"",
        "[load]\nstages = [{ duration = \"10s\", target = 20 }]",
    );
    let plan = parse_text(&closed).unwrap();
    assert!(
        matches!(&plan.load.pacing, Pacing::Closed { vus, .. } if vus.start == 0 && vus.peak() == 20)
    );

    let e = error(&MINIMAL.replace(
        "[load]\nvus = 2\nduration = \"10s\"",
        "[load]\nstages = [{ duration = \"10s\", target = \"20/s\" }]",
    ));
    assert!(
        e.message.contains("targets a number of virtual users"),
        "{e}"
    );
    assert_eq!(e.key.as_deref(), Some("load.stages[0].target"));
    let e = error(&open.replace(
        "model = \"open\"\n",
        "model = \"open\"\nduration = \"1m\"\n",
    ));
    assert!(
        e.message.contains("`duration` and `stages` are both set"),
        "{e}"
    );
}

#[test]
fn keys_of_the_other_model_and_unitless_rates_are_refused() {
    let e = error(&MINIMAL.replace("vus = 2", "vus = 2\nrate = \"5/s\""));
    assert!(
        e.message.contains("`rate` belongs to the open model"),
        "{e}"
    );
    assert!(
        e.help.as_deref().unwrap().contains("model = \"open\""),
        "{e}"
    );
    let e = error(&MINIMAL.replace(
        "[load]\nvus = 2",
        "[load]\nmodel = \"open\"\nrate = \"5/s\"\nvus = 2",
    ));
    assert!(
        e.message.contains("`vus` belongs to the closed model"),
        "{e}"
    );
    let e = error(&MINIMAL.replace("[load]\nvus = 2", "[load]\nmodel = \"open\"\nrate = \"5\""));
    assert!(e.message.contains("a rate needs a unit"), "{e}");
    assert_eq!(e.key.as_deref(), Some("load.rate"));
    let e = error(&MINIMAL.replace("[load]\nvus = 2", "[load]\nmodel = \"open\""));
    assert!(e.message.contains("needs a `rate`"), "{e}");
    let e = error(&MINIMAL.replace("vus = 2", "vus = 2\nwarmup = \"10s\""));
    assert!(
        e.message.contains("warmup is as long as the whole run"),
        "{e}"
    );
}
