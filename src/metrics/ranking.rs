//! Ranking variants (models, prompts, agents) against each other, op by op, and saying which
//! differences are significant: the order by the median of a key metric, each median with its
//! 95% interval, and pairwise Mann-Whitney U tests computed exactly from the histograms'
//! bucket counts, Holm-corrected for the number of pairs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ci::{CONFIDENCE, Interval, error_rate_interval, percentile_interval};
use super::recorder::{Cell, Recorder};
use crate::model::Metric;
use crate::model::Op;
use crate::stats::{Buckets, holm, mann_whitney};

/// The family-wise error rate of the pairwise tests.
pub const ALPHA: f64 = 0.05;

/// Samples each side needs before a difference is called significant: below this the normal
/// approximation of U is too rough to trust (and the exact test could hardly reach α anyway).
pub const MIN_SAMPLES: u64 = 8;

/// How the comparison was made, in words, for every output.
pub const METHOD: &str = "median with 95% order-statistic CI; pairwise Mann-Whitney U (normal approximation, tie-corrected) on the histogram buckets, Holm-corrected, alpha 0.05";

/// The comparison of the variants of one op.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// The metric ranked by (lower is better).
    pub metric: String,
    /// The statistic of it that orders the variants: `p50`.
    pub stat: String,
    pub confidence: f64,
    pub alpha: f64,
    pub method: String,
    /// Best first.
    pub order: Vec<Ranked>,
    /// Variants that sent this op but have no successful sample of the metric.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unranked: Vec<String>,
    /// Every pair, the better-ranked first.
    pub pairs: Vec<Pair>,
}

/// One variant's place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// 1 = best.
    pub rank: u32,
    /// Variants not significantly different from their tier's best share its tier (1 = best).
    pub tier: u32,
    pub variant: String,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    pub error_rate_ci: Option<Interval>,
    /// Successful samples of the metric.
    pub count: u64,
    pub p50: f64,
    pub p50_ci: Option<Interval>,
    pub p95: f64,
    pub p95_ci: Option<Interval>,
}

/// Two variants' distributions of the metric, compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// The better-ranked variant.
    pub better: String,
    pub worse: String,
    /// `worse`'s p50 minus `better`'s, in the metric's unit.
    pub difference: f64,
    /// P(a sample of `worse` exceeds one of `better`), ties counting half: 0.5 is no
    /// difference, 1 is every sample slower.
    pub superiority: f64,
    /// Two-sided p-value of the Mann-Whitney U test.
    pub p: f64,
    /// `p` after Holm's correction over every pair of this op.
    pub p_adjusted: f64,
    pub significant: bool,
}

impl Ranking {
    /// The pair of two variants, either way round.
    pub fn pair(&self, a: &str, b: &str) -> Option<&Pair> {
        self.pairs
            .iter()
            .find(|p| (p.better == a && p.worse == b) || (p.better == b && p.worse == a))
    }
}

/// The metric an op's variants are ranked by: `rank_by` where the op has it, else time to
/// first step for streams and latency for everything else.
pub fn key_metric(op: Op, rank_by: Option<Metric>) -> Metric {
    match rank_by {
        Some(metric) if metric.measured_for(op) => metric,
        _ if op == Op::RunStream => Metric::Ttfs,
        _ => Metric::Latency,
    }
}

/// Rankings of every op that at least two variants have data for, keyed by op name.
pub fn rank_all(
    recorder: &Recorder,
    variant_names: &[String],
    rank_by: Option<Metric>,
) -> BTreeMap<String, Ranking> {
    Op::ALL
        .into_iter()
        .filter_map(|op| {
            let cells: Vec<(&str, &Cell)> = variant_names
                .iter()
                .enumerate()
                .filter_map(|(i, name)| Some((name.as_str(), recorder.cell(op, Some(i as u16))?)))
                .collect();
            let ranking = rank(&cells, key_metric(op, rank_by))?;
            Some((op.name().to_owned(), ranking))
        })
        .collect()
}

/// Ranks variants' cells of one op by `metric`; `None` unless two or more have samples of it.
pub fn rank(cells: &[(&str, &Cell)], metric: Metric) -> Option<Ranking> {
    let scale = if metric.is_time() { 1e-3 } else { 1.0 };
    let mut measured: Vec<(Ranked, Buckets)> = Vec::new();
    let mut unranked = Vec::new();
    for (name, cell) in cells {
        let Some(histogram) = cell.histogram(metric).filter(|h| !h.is_empty()) else {
            unranked.push((*name).to_owned());
            continue;
        };
        let buckets = Buckets::from_histogram(histogram);
        let errors = cell.error_count();
        let ranked = Ranked {
            rank: 0,
            tier: 0,
            variant: (*name).to_owned(),
            requests: cell.requests,
            errors,
            error_rate: if cell.requests == 0 {
                0.0
            } else {
                errors as f64 / cell.requests as f64
            },
            error_rate_ci: error_rate_interval(errors, cell.requests),
            count: buckets.len(),
            p50: histogram.value_at_quantile(0.5) as f64 * scale,
            p50_ci: percentile_interval(&buckets, 0.5, scale),
            p95: histogram.value_at_quantile(0.95) as f64 * scale,
            p95_ci: percentile_interval(&buckets, 0.95, scale),
        };
        measured.push((ranked, buckets));
    }
    if measured.len() < 2 {
        return None;
    }
    measured.sort_by(|(a, _), (b, _)| {
        a.p50
            .total_cmp(&b.p50)
            .then(a.p95.total_cmp(&b.p95))
            .then_with(|| a.variant.cmp(&b.variant))
    });
    let mut pairs = Vec::new();
    for i in 0..measured.len() {
        for j in i + 1..measured.len() {
            let (better, better_buckets) = &measured[i];
            let (worse, worse_buckets) = &measured[j];
            // Both have samples (a variant without is unranked), so the test has a result.
            let Some(test) = mann_whitney(better_buckets, worse_buckets) else {
                continue;
            };
            pairs.push(Pair {
                better: better.variant.clone(),
                worse: worse.variant.clone(),
                difference: round6(worse.p50 - better.p50),
                superiority: round6(test.superiority),
                p: test.p,
                p_adjusted: test.p,
                significant: false,
            });
        }
    }
    let adjusted = holm(&pairs.iter().map(|p| p.p).collect::<Vec<_>>());
    for (pair, p_adjusted) in pairs.iter_mut().zip(adjusted) {
        let counts = |name: &str| {
            measured
                .iter()
                .find(|(r, _)| r.variant == name)
                .map_or(0, |(r, _)| r.count)
        };
        pair.p_adjusted = p_adjusted;
        pair.significant = p_adjusted < ALPHA
            && counts(&pair.better) >= MIN_SAMPLES
            && counts(&pair.worse) >= MIN_SAMPLES;
    }
    let mut order: Vec<Ranked> = measured.into_iter().map(|(ranked, _)| ranked).collect();
    let mut tier = 1;
    let mut leader = 0;
    for i in 0..order.len() {
        if i > 0 {
            let differs = pairs.iter().any(|p| {
                p.better == order[leader].variant && p.worse == order[i].variant && p.significant
            });
            if differs {
                tier += 1;
                leader = i;
            }
        }
        order[i].rank = i as u32 + 1;
        order[i].tier = tier;
    }
    Some(Ranking {
        metric: metric.name().to_owned(),
        stat: "p50".to_owned(),
        confidence: CONFIDENCE,
        alpha: ALPHA,
        method: METHOD.to_owned(),
        order,
        unranked,
        pairs,
    })
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::model::{Sample, Timeline};

    fn cell_of(ms: impl IntoIterator<Item = u64>, failures: u64) -> Cell {
        let mut recorder = Recorder::new(1);
        let now = Instant::now();
        for value in ms {
            let mut timeline = Timeline::starting(now, now);
            timeline.end = now + Duration::from_millis(value);
            recorder.record(&Sample::new(Op::Get, Some(0), timeline, Ok(())));
        }
        for _ in 0..failures {
            let failure = crate::model::Failure::new(crate::model::ErrorClass::Http(500), "boom");
            recorder.record(&Sample::new(
                Op::Get,
                Some(0),
                Timeline::starting(now, now),
                Err(failure),
            ));
        }
        recorder.cell(Op::Get, Some(0)).unwrap().clone()
    }

    #[test]
    fn the_slower_variant_ranks_last_and_noise_shares_a_tier() {
        // fast and same: 100..=199 ms; slow: 150..=249 ms, 100 samples each.
        let fast = cell_of(100..200, 0);
        let same = cell_of((100..200).rev(), 2);
        let slow = cell_of(150..250, 0);
        let ranking = rank(
            &[("slow", &slow), ("fast", &fast), ("same", &same)],
            Metric::Latency,
        )
        .unwrap();
        let names: Vec<&str> = ranking.order.iter().map(|r| r.variant.as_str()).collect();
        // fast and same have equal medians: the tie falls to the name.
        assert_eq!(names, ["fast", "same", "slow"]);
        assert_eq!(
            ranking.order.iter().map(|r| r.tier).collect::<Vec<_>>(),
            [1, 1, 2]
        );
        assert_eq!(ranking.order[2].rank, 3);
        let slow_vs_fast = ranking.pair("slow", "fast").unwrap();
        assert!(slow_vs_fast.significant, "{slow_vs_fast:?}");
        assert!(
            (slow_vs_fast.difference - 50.0).abs() < 0.5,
            "{slow_vs_fast:?}"
        );
        // P(slow > fast) for two shifted uniforms: 1 - 0.5 * 0.5^2 = 0.875.
        assert!(
            (slow_vs_fast.superiority - 0.875).abs() < 0.01,
            "{slow_vs_fast:?}"
        );
        let noise = ranking.pair("fast", "same").unwrap();
        assert!(!noise.significant && noise.p > 0.9, "{noise:?}");
        assert!(noise.p_adjusted >= noise.p);
        // The median's interval of 100..=199 is x(40)..x(61) = 139..160 ms.
        let ci = ranking.order[0].p50_ci.unwrap();
        assert!(
            (ci.lo() - 139.0).abs() < 0.2 && (ci.hi() - 160.0).abs() < 0.2,
            "{ci:?}"
        );
        let same = &ranking.order[1];
        assert_eq!((same.requests, same.errors, same.count), (102, 2, 100));
        assert!((same.error_rate - 2.0 / 102.0).abs() < 1e-12);
        assert!(same.error_rate_ci.unwrap().hi() > same.error_rate);
    }

    #[test]
    fn few_samples_are_never_significant_and_one_variant_is_no_ranking() {
        let fast = cell_of([10, 11, 12], 0);
        let slow = cell_of([500, 501, 502], 0);
        let ranking = rank(&[("fast", &fast), ("slow", &slow)], Metric::Latency).unwrap();
        assert!(
            !ranking.pairs[0].significant,
            "3 samples each: {:?}",
            ranking.pairs[0]
        );
        assert_eq!(ranking.order[1].tier, 1);
        assert!(
            ranking.order[0].p50_ci.is_none(),
            "3 samples cannot bracket a median"
        );
        assert!(rank(&[("fast", &fast)], Metric::Latency).is_none());
        let failed = cell_of([], 3);
        let ranking = rank(
            &[("fast", &fast), ("slow", &slow), ("failed", &failed)],
            Metric::Latency,
        )
        .unwrap();
        assert_eq!(ranking.unranked, ["failed"]);
    }

    /// `n` latencies in ms from a log-normal with median `median` (σ 0.5 on the log scale:
    /// skewed like real latencies), as a cell.
    fn lognormal_cell(rng: &mut rand::rngs::SmallRng, n: usize, median: f64) -> Cell {
        cell_of(lognormal_ms(rng, n, median), 0)
    }

    /// The latencies of [`lognormal_cell`].
    fn lognormal_ms(rng: &mut rand::rngs::SmallRng, n: usize, median: f64) -> Vec<u64> {
        crate::stats::samples::lognormal_from(rng, n, median)
    }

    #[test]
    fn the_methods_hold_their_error_rates_on_skewed_data() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(20);
        let trials = 300;
        let (mut covered, mut false_alarms, mut detected) = (0, 0, 0);
        for _ in 0..trials {
            // A/A: three variants of one distribution (true median 100 ms).
            let cells: Vec<Cell> = (0..3)
                .map(|_| lognormal_cell(&mut rng, 40, 100.0))
                .collect();
            let named: Vec<(&str, &Cell)> = ["a", "b", "c"].into_iter().zip(&cells).collect();
            let ranking = rank(&named, Metric::Latency).unwrap();
            if ranking.pairs.iter().any(|p| p.significant) {
                false_alarms += 1;
            }
            let ci_of_b = ranking
                .order
                .iter()
                .find(|r| r.variant == "b")
                .unwrap()
                .p50_ci
                .unwrap();
            if ci_of_b.lo() <= 100.0 && 100.0 <= ci_of_b.hi() + 0.1 {
                covered += 1;
            }
            // A/B: the second 30% slower (0.52 SD on the log scale).
            let fast = lognormal_cell(&mut rng, 100, 100.0);
            let slow = lognormal_cell(&mut rng, 100, 130.0);
            let ranking = rank(&[("fast", &fast), ("slow", &slow)], Metric::Latency).unwrap();
            if ranking.pairs[0].significant && ranking.order[1].variant == "slow" {
                detected += 1;
            }
        }
        let rate = |n: i32| f64::from(n) / f64::from(trials);
        // 95% intervals cover the true median about 95% of the time (at least: the ranks
        // are chosen conservatively); Holm keeps any false alarm among 3 pairs near or below
        // 5%; a 30% shift with 100 samples each is found nearly always (the test's power
        // there is about 95%).
        assert!(rate(covered) >= 0.92, "coverage {}", rate(covered));
        assert!(
            rate(false_alarms) <= 0.08,
            "false alarms {}",
            rate(false_alarms)
        );
        assert!(rate(detected) >= 0.85, "power {}", rate(detected));
        eprintln!(
            "coverage {:.3}, false alarms {:.3}, power {:.3}",
            rate(covered),
            rate(false_alarms),
            rate(detected)
        );
    }

    #[test]
    fn streams_rank_by_time_to_first_step_unless_told() {
        assert_eq!(key_metric(Op::RunStream, None), Metric::Ttfs);
        assert_eq!(key_metric(Op::Run, None), Metric::Latency);
        assert_eq!(
            key_metric(Op::Run, Some(Metric::ServerTime)),
            Metric::ServerTime
        );
        assert_eq!(
            key_metric(Op::Get, Some(Metric::ServerTime)),
            Metric::Latency
        );
        assert_eq!(
            key_metric(Op::RunStream, Some(Metric::Latency)),
            Metric::Latency
        );
    }

    fn pinned(actual: f64, expected: f64) {
        let tolerance = 1e-12 * expected.abs();
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual:?} is not the pinned {expected:?}"
        );
    }

    #[test]
    fn a_ranking_of_skewed_variants_is_pinned() {
        // Three log-normal variants (two close, one 40% slower; two with errors) and one with
        // only errors: today's ranks, tiers, intervals, superiorities and p-values, to 1e-12.
        use rand::SeedableRng;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(5);
        let a = cell_of(lognormal_ms(&mut rng, 60, 100.0), 0);
        let b = cell_of(lognormal_ms(&mut rng, 80, 104.0), 3);
        let c = cell_of(lognormal_ms(&mut rng, 50, 140.0), 1);
        let d = cell_of([], 4);
        let cells = [("a", &a), ("b", &b), ("c", &c), ("d", &d)];
        let ranking = rank(&cells, Metric::Latency).unwrap();
        assert_eq!(
            (ranking.metric.as_str(), ranking.stat.as_str()),
            ("latency", "p50")
        );
        assert_eq!(ranking.unranked, ["d"]);
        let order = [
            r#"{"count":60,"error_rate":0.0,"error_rate_ci":[0.0,0.060172],"errors":0,"p50":104.063,"p50_ci":[83.007,124.031],"p95":238.079,"p95_ci":null,"rank":1,"requests":60,"tier":1,"variant":"a"}"#,
            r#"{"count":80,"error_rate":0.03614457831325301,"error_rate_ci":[0.012368,0.100959],"errors":3,"p50":109.055,"p50_ci":[99.007,127.039],"p95":244.095,"p95_ci":[201.087,444.159],"rank":2,"requests":83,"tier":1,"variant":"b"}"#,
            r#"{"count":50,"error_rate":0.0196078431372549,"error_rate_ci":[0.00347,0.103046],"errors":1,"p50":147.071,"p50_ci":[119.039,168.063],"p95":356.095,"p95_ci":null,"rank":3,"requests":51,"tier":2,"variant":"c"}"#,
        ];
        let pairs = [
            r#"{"better":"a","difference":4.992,"p":0.4334787360788598,"p_adjusted":0.4334787360788598,"significant":false,"superiority":0.538854,"worse":"b"}"#,
            r#"{"better":"a","difference":43.008,"p":0.001403264291224176,"p_adjusted":0.004209792873672528,"significant":true,"superiority":0.6775,"worse":"c"}"#,
            r#"{"better":"b","difference":38.016,"p":0.002958836416152814,"p_adjusted":0.005917672832305628,"significant":true,"superiority":0.655375,"worse":"c"}"#,
        ];
        assert_eq!(ranking.order.len(), order.len());
        for (ranked, expected) in ranking.order.iter().zip(order) {
            let expected: Ranked = serde_json::from_str(expected).unwrap();
            assert_eq!(
                (
                    &ranked.variant,
                    ranked.rank,
                    ranked.tier,
                    ranked.requests,
                    ranked.errors,
                    ranked.count
                ),
                (
                    &expected.variant,
                    expected.rank,
                    expected.tier,
                    expected.requests,
                    expected.errors,
                    expected.count
                )
            );
            let ends = |i: Option<Interval>| i.map(|i| [i.lo(), i.hi()]);
            for (got, want) in [
                (ends(ranked.error_rate_ci), ends(expected.error_rate_ci)),
                (ends(ranked.p50_ci), ends(expected.p50_ci)),
                (ends(ranked.p95_ci), ends(expected.p95_ci)),
            ] {
                assert_eq!(got.is_some(), want.is_some(), "{ranked:?}");
                for (got, want) in got.into_iter().flatten().zip(want.into_iter().flatten()) {
                    pinned(got, want);
                }
            }
            for (got, want) in [
                (ranked.error_rate, expected.error_rate),
                (ranked.p50, expected.p50),
                (ranked.p95, expected.p95),
            ] {
                pinned(got, want);
            }
        }
        assert_eq!(ranking.pairs.len(), pairs.len());
        for (pair, expected) in ranking.pairs.iter().zip(pairs) {
            let expected: Pair = serde_json::from_str(expected).unwrap();
            assert_eq!(
                (&pair.better, &pair.worse, pair.significant),
                (&expected.better, &expected.worse, expected.significant)
            );
            pinned(pair.difference, expected.difference);
            pinned(pair.superiority, expected.superiority);
            pinned(pair.p, expected.p);
            pinned(pair.p_adjusted, expected.p_adjusted);
        }
    }
}
