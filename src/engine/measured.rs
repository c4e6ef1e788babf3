//! What a run measured, ready for the summary: the merged recorder and the facts the summary
//! states about the run (scenario, id, start, duration, target, load, goodput window).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::phase;
use super::shard::Shard;
use crate::metrics::Recorder;
use crate::metrics::goodput::GoodputContext;
use crate::metrics::threshold::Quantity;
use crate::scenario::Plan;
use crate::summary::RunInfo;

/// The measurements of one run, credentials scrubbed.
pub struct Measured {
    pub info: RunInfo,
    pub recorder: Recorder,
}

/// The load phase's figures, as the engine ends with them.
pub struct Window {
    /// Wall time of the load phase.
    pub duration: Duration,
    /// From the plan's start to the end of the measured window.
    pub end: Duration,
}

impl Measured {
    /// The summary's facts about a run of `plan`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plan: &Plan,
        run_id: &str,
        started_at: SystemTime,
        target: &str,
        shard: Shard,
        goodput: bool,
        recorder: Recorder,
        window: Window,
    ) -> Measured {
        let info = RunInfo {
            scenario: plan.name.clone(),
            run_id: run_id.to_owned(),
            started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
            duration_s: (window.duration.as_secs_f64() * 1000.0).round() / 1000.0,
            target: target.to_owned(),
            load: phase::load_summary(plan, shard, &recorder, window.end),
            goodput: reports_goodput(plan, goodput).then(|| GoodputContext {
                objectives: Arc::new(plan.objectives.clone()),
                window_s: window.end.saturating_sub(plan.load.warmup).as_secs_f64(),
            }),
        };
        Measured { info, recorder }
    }
}

/// Whether the summary reports goodput: the plan has objectives or a goodput threshold, or the
/// caller asks.
fn reports_goodput(plan: &Plan, asked: bool) -> bool {
    asked
        || !plan.objectives.is_empty()
        || plan
            .thresholds
            .iter()
            .any(|t| matches!(t.quantity, Quantity::GoodputRate(_)))
}
