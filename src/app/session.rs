//! The one run pipeline: plan -> engine -> summary -> verdict -> store -> reports. `run` and
//! every step of `sweep` go through it; `merge` joins it at the summary.

use crate::engine::RunOutput;
use crate::scenario::Plan;
use crate::summary::Summary;

/// The summary of a finished run of `plan`: figures, thresholds judged, variants ranked (by
/// `rank_by` when the plan says so), and a first verdict from those.
pub fn summarize(plan: &Plan, output: &RunOutput) -> Summary {
    let variants = plan.variant_names();
    let measured = &output.measured;
    let mut summary = Summary::build(
        measured.info.clone(),
        &measured.recorder,
        &variants,
        &plan.thresholds,
    );
    if plan.variants.rank_by.is_some() {
        summary.rank_variants_by(&measured.recorder, &variants, plan.variants.rank_by);
    }
    summary
}
