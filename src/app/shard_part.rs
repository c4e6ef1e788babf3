//! What a shard leaves in its report folder for `agentload merge`, beside its normal report:
//! its `shard.json` and `shard.hlog` (shapes and files are the store's, [`crate::store::shard`]),
//! made here from the plan and what the run measured.

use std::time::SystemTime;

use crate::engine::RunOutput;
use crate::engine::shard::Shard;
use crate::metrics::Recorder;
use crate::metrics::recorder::Cell;
use crate::model::Metric;
use crate::model::Op;
use crate::scenario::Plan;
use crate::store::StoreError;
use crate::store::shard::{
    Cells, PlanPart, SCHEMA, ScenarioId, Scope, ShardMeta, write_histograms, write_meta,
};

/// What the run knows of its part, besides the engine's output.
pub struct PartInfo<'a> {
    pub shard: Shard,
    pub run_id: &'a str,
    pub scenario_hash: String,
    pub start_at: Option<SystemTime>,
}

/// Writes `shard.json` and `shard.hlog` into `dir` after a shard's run.
pub fn write(
    dir: &std::path::Path,
    info: PartInfo<'_>,
    plan: &Plan,
    output: &RunOutput,
) -> Result<(), StoreError> {
    let load = &output.measured.info.load;
    let meta = ShardMeta {
        schema: SCHEMA.to_owned(),
        shard: info.shard.into(),
        run_id: info.run_id.to_owned(),
        scenario: ScenarioId {
            name: plan.name.clone(),
            hash: info.scenario_hash,
        },
        start_at: info
            .start_at
            .map(|at| humantime::format_rfc3339_millis(at).to_string()),
        started: output
            .load_started
            .map(|at| humantime::format_rfc3339_millis(at).to_string()),
        measured_s: output.measured_window.as_secs_f64(),
        warmup_s: plan.load.warmup.as_secs_f64(),
        plan: PlanPart {
            load: plan.load.to_string(),
            model: load.model.clone(),
            duration_s: plan.load.stop.duration.map(|d| d.as_secs_f64()),
            iterations: plan.load.stop.iterations,
            max_in_flight: load.max_in_flight,
        },
        variants: plan.variant_names(),
    };
    write_meta(dir, &meta)?;
    let about = format!(
        "agentload {} run {} shard {} of scenario {}",
        env!("CARGO_PKG_VERSION"),
        info.run_id,
        info.shard,
        plan.name
    );
    let start = output.load_started.unwrap_or_else(SystemTime::now);
    let window_start = start + plan.load.warmup;
    write_histograms(
        dir,
        &cells(&output.measured.recorder),
        window_start,
        output.measured_window,
        &about,
    )
}

/// FNV-1a, 64 bits: a hash that is the same in every process and build.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The recorder's histograms by scope.
pub fn cells(recorder: &Recorder) -> Cells {
    let mut cells = Cells::new();
    let mut put = |scope: Scope, op: Op, cell: &Cell| {
        for metric in Metric::ALL {
            if let Some(histogram) = cell.histogram(metric) {
                cells.insert((scope, op, metric), histogram.clone());
            }
        }
    };
    for op in Op::ALL {
        if let Some(total) = recorder.op_total(op) {
            put(Scope::Op, op, &total);
        }
        for variant in 0..recorder.variant_count() {
            if let Some(cell) = recorder.cell(op, Some(variant as u16)) {
                put(Scope::Variant(variant), op, cell);
            }
        }
        for (turn, cell) in recorder.turns(op) {
            put(Scope::Turn(turn), op, cell);
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fingerprint(&[b"a", b"b"]), fingerprint(&[b"a", b"b"]));
        assert_ne!(fingerprint(&[b"ab"]), fingerprint(&[b"a", b"b"]));
        assert_eq!(fingerprint(&[]), "cbf29ce484222325");
    }
}
