//! What a run produces: its steps (system echo, user echo, tool calls, assistant answer) and
//! their timing, drawn from the model's profile; and the `text/event-stream` body that sends
//! them, framed exactly as the documented example (`event:step`, `id:`, `data:` without a space
//! after the colon, LF line ends, a blank line after each event), or broken as the run's
//! faults say (a malformed step, a connection closed mid-stream).

use std::io;
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use rand::RngExt;
use rand::rngs::SmallRng;
use serde::Serialize;

use super::config::Profile;
use super::fault_plan::FaultPlan;
use super::new_uuid;
use crate::model::units::MAX_DURATION;

/// Fewest steps a run has: the system echo, the user echo and the answer.
const MIN_STEPS: u32 = 3;

/// One step, as carried in an event's `data` and in a blocking run's `executionSteps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub role: &'static str,
    pub content: String,
    pub id: String,
    pub agent_iteration_id: String,
}

/// One run, fully drawn up front: the steps and when to send them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    pub iteration_id: String,
    pub steps: Vec<Step>,
    /// The SSE `id` of each step's event.
    pub event_ids: Vec<String>,
    /// Wait before each step: `ttfs` before the first, a `step_gap` before each later one.
    pub delays: Vec<Duration>,
    /// How long a blocking run takes.
    pub run_time: Duration,
    /// The assistant's answer (the last step's content).
    pub answer: String,
}

/// What a run is about: the agent's prompt and the conversation so far.
pub struct RunInput<'a> {
    pub system_prompt: &'a str,
    /// The content of the last user message (the last message, if none is from the user).
    pub last_user: &'a str,
    /// Turn number within the thread, 1 for a new thread.
    pub turn: u32,
}

/// What the turns of a thread before this one add to its time: `ttfs_per_turn` for each.
pub fn turn_cost(profile: &Profile, turn: u32) -> Duration {
    profile
        .ttfs_per_turn
        .saturating_mul(turn.saturating_sub(1))
        .min(MAX_DURATION)
}

/// Draws a run from `profile`. Everything random comes from `rng`, so the same generator state
/// gives the same ids and timings; only the "Current time" in the system step varies. Later
/// turns of a thread start later and take longer by [`turn_cost`].
pub fn plan_run(rng: &mut SmallRng, profile: &Profile, input: &RunInput<'_>) -> RunPlan {
    let iteration_id = new_uuid(rng).to_string();
    let count = profile.steps.sample(rng).max(MIN_STEPS);
    let cost = turn_cost(profile, input.turn);
    let mut delays = vec![profile.ttfs.sample(rng) + cost];
    delays.extend((1..count).map(|_| profile.step_gap.sample(rng)));
    let run_time = profile.run_time.sample(rng) + cost;

    let answer = format!(
        "Simulated answer (turn {}) to: {}",
        input.turn,
        excerpt(input.last_user, 80)
    );
    let now = humantime::format_rfc3339_millis(SystemTime::now());
    let tools = count - MIN_STEPS;
    let mut contents = vec![
        (
            "system",
            format!("{}\nCurrent time (ISO): {now}", input.system_prompt),
        ),
        ("user", input.last_user.to_owned()),
    ];
    for call in 1..=tools {
        let hits = rng.random_range(0..10u32);
        contents.push((
            "tool",
            format!(r#"{{"tool":"search","call":{call},"results":{hits}}}"#),
        ));
    }
    contents.push(("assistant", answer.clone()));

    let mut event_ids = Vec::with_capacity(contents.len());
    let steps = contents
        .into_iter()
        .map(|(role, content)| {
            event_ids.push(new_uuid(rng).to_string());
            Step {
                role,
                content,
                id: new_uuid(rng).to_string(),
                agent_iteration_id: iteration_id.clone(),
            }
        })
        .collect();
    RunPlan {
        iteration_id,
        steps,
        event_ids,
        delays,
        run_time,
        answer,
    }
}

/// At most `max` characters of `text`, with "..." if cut.
fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// One `step` event, blank line included. `serde_json` escapes newlines in the content, so
/// `data` stays on one line.
pub fn event(event_id: &str, step: &Step) -> String {
    let data = serde_json::to_string(step).expect("a step always serializes");
    format!("event:step\nid:{event_id}\ndata:{data}\n\n")
}

/// A `step` event whose data is the step's JSON cut in half: framed correctly, but not JSON
/// (it never has its closing brace).
pub fn malformed_event(event_id: &str, step: &Step) -> String {
    let data = serde_json::to_string(step).expect("a step always serializes");
    let mut half = data.len() / 2;
    while !data.is_char_boundary(half) {
        half -= 1;
    }
    format!("event:step\nid:{event_id}\ndata:{}\n\n", &data[..half])
}

/// The stream body: each event after its delay, then the end of the body as soon as the last
/// event is out. A cut stream stops after its steps and, when the next one would have come,
/// fails the body, so the connection is closed without the end of the chunked body: the client
/// sees a lost connection, not a clean end.
pub fn body(plan: &RunPlan, faults: &FaultPlan) -> Body {
    let mut frames: Vec<(Duration, Option<Bytes>)> = plan
        .delays
        .iter()
        .zip(plan.event_ids.iter().zip(&plan.steps))
        .enumerate()
        .map(|(index, (&delay, (event_id, step)))| {
            let text = if faults.malformed == Some(index) {
                malformed_event(event_id, step)
            } else {
                event(event_id, step)
            };
            (delay, Some(Bytes::from(text)))
        })
        .collect();
    if let Some((after, when)) = faults.cut {
        frames.truncate(after);
        frames.push((when, None));
    }
    // Each event is due at an absolute instant (the sum of the delays so far from now), so
    // timer rounding on one event never pushes back the ones after it: a 50 ms gap averages
    // 50 ms, not 50 ms plus a tick.
    let start = tokio::time::Instant::now();
    let mut due = Duration::ZERO;
    let frames: Vec<(tokio::time::Instant, Option<Bytes>)> = frames
        .into_iter()
        .map(|(delay, frame)| {
            due += delay;
            (start + due, frame)
        })
        .collect();
    let stream = futures::stream::unfold(frames.into_iter(), |mut frames| async move {
        let (at, frame) = frames.next()?;
        tokio::time::sleep_until(at).await;
        let item = frame.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the simulator cut this stream (cut_after fault)",
            )
        });
        Some((item, frames))
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::units::Spread;
    use rand::SeedableRng;

    fn input() -> RunInput<'static> {
        RunInput {
            system_prompt: "Be brief.",
            last_user: "What is 2+2?",
            turn: 1,
        }
    }

    #[test]
    fn a_run_has_system_user_tools_and_assistant_in_order() {
        let profile = Profile {
            steps: Spread::fixed(5),
            ..Profile::default()
        };
        let plan = plan_run(&mut SmallRng::seed_from_u64(1), &profile, &input());
        let roles: Vec<&str> = plan.steps.iter().map(|s| s.role).collect();
        assert_eq!(roles, ["system", "user", "tool", "tool", "assistant"]);
        assert!(
            plan.steps[0]
                .content
                .starts_with("Be brief.\nCurrent time (ISO): ")
        );
        assert_eq!(plan.steps[1].content, "What is 2+2?");
        assert_eq!(plan.steps[4].content, plan.answer);
        assert_eq!(plan.delays.len(), 5);
        assert_eq!(plan.event_ids.len(), 5);
        assert!(
            plan.steps
                .iter()
                .all(|s| s.agent_iteration_id == plan.iteration_id)
        );
    }

    #[test]
    fn fewer_than_three_steps_are_raised_to_three() {
        let profile = Profile {
            steps: Spread::fixed(1),
            ..Profile::default()
        };
        let plan = plan_run(&mut SmallRng::seed_from_u64(1), &profile, &input());
        let roles: Vec<&str> = plan.steps.iter().map(|s| s.role).collect();
        assert_eq!(roles, ["system", "user", "assistant"]);
    }

    #[test]
    fn the_same_generator_gives_the_same_run() {
        let profile = Profile::default();
        let a = plan_run(&mut SmallRng::seed_from_u64(9), &profile, &input());
        let b = plan_run(&mut SmallRng::seed_from_u64(9), &profile, &input());
        let c = plan_run(&mut SmallRng::seed_from_u64(10), &profile, &input());
        assert_eq!(a.event_ids, b.event_ids);
        assert_eq!(a.delays, b.delays);
        assert_eq!(
            a.steps[1..],
            b.steps[1..],
            "only the time in the system step may differ"
        );
        assert_ne!(a.iteration_id, c.iteration_id);
    }

    #[test]
    fn events_are_framed_as_documented() {
        let step = Step {
            role: "system",
            content: "do what user says\nnow".into(),
            id: "445431dd-c20e-4a58-a043-ca9c131d4010".into(),
            agent_iteration_id: "a132ced5-4afd-4444-ac9d-330cc99c4986".into(),
        };
        assert_eq!(
            event("4ebb9c59-ab75-41d5-8146-7407ce71f484", &step),
            "event:step\nid:4ebb9c59-ab75-41d5-8146-7407ce71f484\n\
             data:{\"role\":\"system\",\"content\":\"do what user says\\nnow\",\
             \"id\":\"445431dd-c20e-4a58-a043-ca9c131d4010\",\
             \"agentIterationId\":\"a132ced5-4afd-4444-ac9d-330cc99c4986\"}\n\n"
        );
    }

    #[test]
    fn later_turns_cost_ttfs_per_turn_each() {
        let profile = Profile {
            ttfs: Spread::fixed(Duration::from_millis(100)),
            run_time: Spread::fixed(Duration::from_millis(300)),
            ttfs_per_turn: Duration::from_millis(40),
            ..Profile::default()
        };
        let turn = |turn| {
            let input = RunInput { turn, ..input() };
            plan_run(&mut SmallRng::seed_from_u64(1), &profile, &input)
        };
        let (first, third) = (turn(1), turn(3));
        assert_eq!(first.delays[0], Duration::from_millis(100));
        assert_eq!(first.run_time, Duration::from_millis(300));
        assert_eq!(third.delays[0], Duration::from_millis(180));
        assert_eq!(third.run_time, Duration::from_millis(380));
        assert_eq!(first.delays[1..], third.delays[1..], "gaps do not change");
        assert_eq!(turn_cost(&profile, u32::MAX), MAX_DURATION);
        assert_eq!(turn_cost(&Profile::default(), 50), Duration::ZERO);
    }

    #[test]
    fn malformed_events_are_framed_but_not_json() {
        let step = Step {
            role: "assistant",
            content: "héllo wörld, a longer answer".into(),
            id: "s".into(),
            agent_iteration_id: "i".into(),
        };
        for content in ["héllo wörld, a longer answer", "éééééééééééééééééééééé", ""]
        {
            let step = Step {
                content: content.into(),
                ..step.clone()
            };
            let text = malformed_event("e1", &step);
            let data = text
                .strip_prefix("event:step\nid:e1\ndata:")
                .and_then(|rest| rest.strip_suffix("\n\n"))
                .expect(&text);
            assert!(!data.contains('\n'));
            assert!(data.starts_with("{\"role\":\"assistant\""), "{data}");
            assert!(
                serde_json::from_str::<serde_json::Value>(data).is_err(),
                "{data}"
            );
        }
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(excerpt("short", 80), "short");
        assert_eq!(excerpt("ééééé", 3), "ééé...");
    }
}
