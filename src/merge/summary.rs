//! The merged summary: counters summed over the shards' `summary.json`, statistics recomputed
//! from the shards' histograms added together (`shard.hlog`), the load block of the whole run,
//! and the thresholds evaluated again on the result.

use std::collections::BTreeMap;

use super::{MergeError, Shard};
use crate::metrics::goodput::Goodput;
use crate::metrics::recorder::MESSAGES_PER_CLASS;
use crate::metrics::stats::Stats;
use crate::metrics::threshold::Threshold;
use crate::model::Metric;
use crate::model::Op;
use crate::store::shard::{self as part, Cells, Scope};
use crate::summary::Summary;
use crate::summary::{LoadSummary, OpSummary, SCHEMA};

/// The summary of the whole run. `shards` is sorted by index and checked to be one run.
pub fn merge(shards: &[Shard]) -> Result<Summary, MergeError> {
    let first = &shards[0];
    let mut cells = Cells::new();
    for shard in shards {
        for (key, histogram) in &shard.cells {
            part::add(&mut cells, *key, histogram);
        }
    }
    let mut ops: BTreeMap<String, OpSummary> = BTreeMap::new();
    let mut variants: BTreeMap<String, BTreeMap<String, OpSummary>> = BTreeMap::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for shard in shards {
        let summary = &shard.run.summary;
        for (name, op) in &summary.ops {
            add_op(ops.entry(name.clone()).or_insert_with(empty_op), op);
        }
        for (variant, by_op) in &summary.variants {
            let merged = variants.entry(variant.clone()).or_default();
            for (name, op) in by_op {
                add_op(merged.entry(name.clone()).or_insert_with(empty_op), op);
            }
        }
        for (class, n) in &summary.errors {
            *errors.entry(class.clone()).or_default() += n;
        }
    }
    for (name, op) in &mut ops {
        let op_id = Op::from_name(name).ok_or_else(|| MergeError::UnknownOp(name.clone()))?;
        op.metrics = stats(&cells, Scope::Op, op_id);
        for (turn, turn_summary) in &mut op.turns {
            let turn: u32 = turn.parse().map_err(|_| MergeError::BadTurn {
                turn: turn.clone(),
                op: name.clone(),
            })?;
            turn_summary.metrics = stats(&cells, Scope::Turn(turn), op_id);
        }
    }
    for (variant, by_op) in &mut variants {
        let index = first
            .meta
            .variants
            .iter()
            .position(|name| name == variant)
            .ok_or_else(|| MergeError::UnknownVariant(variant.clone()))?;
        for (name, op) in by_op {
            let op_id = Op::from_name(name).ok_or_else(|| MergeError::UnknownOp(name.clone()))?;
            op.metrics = stats(&cells, Scope::Variant(index), op_id);
        }
    }

    let loads: Vec<&LoadSummary> = shards.iter().map(|s| &s.run.summary.load).collect();
    let iterations: u64 = loads.iter().map(|l| l.iterations).sum();
    let measured = shards.iter().map(|s| s.meta.measured_s).fold(0.0, f64::max);
    let sum_option = |get: fn(&LoadSummary) -> Option<f64>| {
        loads
            .iter()
            .map(|l| get(l))
            .sum::<Option<f64>>()
            .map(round3)
    };
    let load = LoadSummary {
        model: first.run.summary.load.model.clone(),
        target_rate: sum_option(|l| l.target_rate),
        achieved_rate: if measured > 0.0 {
            round3(iterations as f64 / measured)
        } else {
            0.0
        },
        iterations,
        dropped_iterations: loads.iter().map(|l| l.dropped_iterations).sum(),
        max_in_flight: loads.iter().map(|l| l.max_in_flight).sum(),
        vus: loads.iter().map(|l| l.vus).sum(),
    };
    let started_at = shards
        .iter()
        .map(|s| s.run.summary.started_at.clone())
        .min()
        .unwrap_or_default();
    let mut summary = Summary {
        schema: SCHEMA.to_owned(),
        scenario: first.run.summary.scenario.clone(),
        run_id: first.run.summary.run_id.clone(),
        started_at,
        duration_s: shards
            .iter()
            .map(|s| s.run.summary.duration_s)
            .fold(0.0, f64::max),
        target: first.run.summary.target.clone(),
        load,
        ops,
        variants,
        errors,
        thresholds: Vec::new(),
        passed: true,
        verdict: Default::default(),
        // Ranking needs each variant's samples compared pairwise; merged runs report the
        // per-variant tables without it.
        ranking: BTreeMap::new(),
        goodput: None,
        // A shard stopped by an abort_on_fail threshold says so in its own summary.
        aborted_by: shards.iter().find_map(|s| s.run.summary.aborted_by.clone()),
        comparison: None,
    };
    if let Some(objectives) = first
        .run
        .summary
        .goodput
        .as_ref()
        .map(|g| g.objectives.clone())
    {
        let window_s = shards
            .iter()
            .filter_map(|s| s.run.summary.goodput.as_ref().map(|g| g.window_s))
            .fold(0.0, f64::max);
        for op in summary.ops.values_mut() {
            let requests = op.requests;
            if let Some(slo) = op.slo.as_mut() {
                slo.settle(requests, window_s);
            }
        }
        summary.goodput = Some(Goodput::merged(
            objectives,
            window_s,
            summary
                .ops
                .values()
                .filter_map(|op| op.slo.as_ref().map(|slo| (op.requests, slo))),
        ));
    }
    let thresholds = first
        .run
        .summary
        .thresholds
        .iter()
        .map(|t| Threshold::parse_expr(&t.expr))
        .collect::<Result<Vec<_>, _>>()
        .map_err(MergeError::Threshold)?;
    summary.thresholds = thresholds.iter().map(|t| t.evaluate(&summary)).collect();
    summary.judge(&Default::default());
    Ok(summary)
}

fn empty_op() -> OpSummary {
    OpSummary {
        requests: 0,
        ok: 0,
        errors: 0,
        error_classes: BTreeMap::new(),
        error_messages: BTreeMap::new(),
        metrics: BTreeMap::new(),
        steps_by_role: None,
        other_events: None,
        retries: 0,
        turns: BTreeMap::new(),
        ci: None,
        slo: None,
    }
}

/// Adds one shard's counters into the merged op (its statistics are recomputed apart).
fn add_op(merged: &mut OpSummary, op: &OpSummary) {
    merged.requests += op.requests;
    merged.ok += op.ok;
    merged.errors += op.errors;
    merged.retries += op.retries;
    if let Some(slo) = &op.slo {
        match merged.slo.as_mut() {
            Some(mine) => mine.add(slo),
            None => merged.slo = Some(slo.clone()),
        }
    }
    for (class, n) in &op.error_classes {
        *merged.error_classes.entry(class.clone()).or_default() += n;
    }
    for (class, messages) in &op.error_messages {
        let kept = merged.error_messages.entry(class.clone()).or_default();
        for message in messages {
            if kept.len() < MESSAGES_PER_CLASS && !kept.contains(message) {
                kept.push(message.clone());
            }
        }
    }
    if let Some(roles) = &op.steps_by_role {
        let merged_roles = merged.steps_by_role.get_or_insert_default();
        for (role, n) in roles {
            *merged_roles.entry(role.clone()).or_default() += n;
        }
    }
    if let Some(events) = op.other_events {
        *merged.other_events.get_or_insert(0) += events;
    }
    for (turn, turn_op) in &op.turns {
        add_op(
            merged.turns.entry(turn.clone()).or_insert_with(empty_op),
            turn_op,
        );
    }
}

/// The statistics of every metric recorded for `op` in `scope`.
fn stats(cells: &Cells, scope: Scope, op: Op) -> BTreeMap<String, Stats> {
    Metric::ALL
        .into_iter()
        .filter_map(|metric| {
            let histogram = cells.get(&(scope, op, metric))?;
            (!histogram.is_empty()).then(|| {
                (
                    metric.name().to_owned(),
                    Stats::from_histogram(histogram, metric),
                )
            })
        })
        .collect()
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
