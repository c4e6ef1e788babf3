//! Baseline against current: for each op and metric, the two runs' percentiles, the change at
//! the chosen percentile, whether it is statistically significant (a rank test over the whole
//! distributions and a bootstrap interval of the percentile's change, both from the
//! histograms), and a verdict. Behind `agentload compare` and `agentload run --baseline`.

pub mod distributions;
mod error;
pub mod run_data;

use std::fmt;

use crate::summary::comparison::{Comparison, Row, RowVerdict, Side};

use crate::model::Metric;
use crate::model::Op;
use crate::stats::{self, Buckets};
pub use distributions::{Distributions, DistributionsSink};
pub use error::{CompareError, SpecError};
pub use run_data::RunData;

/// The metrics compared when none are named: for every op that has them.
pub const DEFAULT_METRICS: [Metric; 4] = [
    Metric::Latency,
    Metric::Ttfs,
    Metric::InterStep,
    Metric::ServiceTime,
];

/// The percentile judged when a spec names none.
pub const DEFAULT_STAT: Stat = Stat(95);

/// Bootstrap replicates per compared metric.
const REPLICATES: usize = 2000;

/// How to judge.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// What to compare; empty: [`DEFAULT_METRICS`] and the error rate of every op.
    pub metrics: Vec<MetricSpec>,
    /// A significant change at the percentile smaller than this (in %) is not a regression.
    pub tolerance_pct: f64,
    /// A significant rise of the error rate smaller than this (in percentage points) is not a
    /// regression.
    pub error_tolerance_pp: f64,
    /// A change of a time smaller than this (ms) is not a regression, whatever its %.
    pub min_change_ms: f64,
    /// Significance level of both tests.
    pub alpha: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            metrics: Vec::new(),
            tolerance_pct: 10.0,
            error_tolerance_pp: 1.0,
            min_change_ms: 5.0,
            alpha: 0.01,
        }
    }
}

/// A percentile: p50, p90, p95, p99, or p999 (stored as 50, 90, 95, 99, 999).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat(pub u16);

impl Stat {
    pub const ALL: [&str; 5] = ["p50", "p90", "p95", "p99", "p999"];

    pub fn parse(text: &str) -> Option<Stat> {
        Stat::ALL
            .contains(&text)
            .then(|| Stat(text[1..].parse().expect("listed stats are numbers")))
    }

    pub fn quantile(self) -> f64 {
        if self.0 >= 100 {
            f64::from(self.0) / 1000.0
        } else {
            f64::from(self.0) / 100.0
        }
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

/// What a spec compares: a histogram metric, or the error rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Metric(Metric),
    ErrorRate,
}

/// `--metric`: `[OP.]METRIC[.STAT]` or `[OP.]errors[.rate]`, e.g. `run_stream.ttfs.p95`,
/// `ttfs` (every op, p95), `latency.p99`, `errors`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSpec {
    pub text: String,
    pub op: Option<Op>,
    pub measure: Measure,
    pub stat: Stat,
}

impl MetricSpec {
    pub fn parse(text: &str) -> Result<MetricSpec, SpecError> {
        let mut parts: Vec<&str> = text.trim().split('.').collect();
        let op = match parts.first().and_then(|p| Op::from_name(p)) {
            Some(op) => {
                parts.remove(0);
                Some(op)
            }
            None => None,
        };
        let (name, stat) = match parts.as_slice() {
            ["errors"] | ["errors", "rate"] => {
                return Ok(MetricSpec {
                    text: text.trim().to_owned(),
                    op,
                    measure: Measure::ErrorRate,
                    stat: DEFAULT_STAT,
                });
            }
            [name] => (*name, None),
            [name, stat] => (*name, Some(*stat)),
            _ => {
                return Err(SpecError::NotASpec(text.to_owned()));
            }
        };
        let metric = Metric::from_name(name).ok_or_else(|| SpecError::UnknownName {
            name: name.to_owned(),
            text: text.to_owned(),
        })?;
        let stat = match stat {
            Some(stat) => Stat::parse(stat).ok_or_else(|| SpecError::NotAPercentile {
                stat: stat.to_owned(),
                text: text.to_owned(),
            })?,
            None => DEFAULT_STAT,
        };
        let measure = Measure::Metric(metric);
        Ok(MetricSpec {
            text: text.trim().to_owned(),
            op,
            measure,
            stat,
        })
    }

    fn defaults() -> Vec<MetricSpec> {
        DEFAULT_METRICS
            .into_iter()
            .map(Measure::Metric)
            .chain([Measure::ErrorRate])
            .map(|measure| MetricSpec {
                text: String::new(),
                op: None,
                measure,
                stat: DEFAULT_STAT,
            })
            .collect()
    }
}

/// Compares `current` with `baseline`. Fails when a named metric is in neither run.
pub fn compare(
    baseline: &RunData,
    current: &RunData,
    options: &Options,
) -> Result<Comparison, CompareError> {
    let named = !options.metrics.is_empty();
    let specs = if named {
        options.metrics.clone()
    } else {
        MetricSpec::defaults()
    };
    let mut rows: Vec<Row> = Vec::new();
    for spec in &specs {
        let mut found = false;
        for op in Op::ALL
            .into_iter()
            .filter(|op| spec.op.is_none_or(|o| o == *op))
        {
            let row = match spec.measure {
                Measure::Metric(metric) => {
                    metric_row(baseline, current, op, metric, spec.stat, options)
                }
                Measure::ErrorRate => error_row(baseline, current, op, options),
            };
            if let Some(row) = row {
                found = true;
                if !rows
                    .iter()
                    .any(|r| (&r.op, &r.metric, &r.stat) == (&row.op, &row.metric, &row.stat))
                {
                    rows.push(row);
                }
            }
        }
        if named && !found {
            return Err(CompareError::NotInRuns(spec.text.clone()));
        }
    }
    // In the API's op order, then as the metrics were asked for.
    let op_index = |name: &str| Op::ALL.iter().position(|op| op.name() == name);
    rows.sort_by_key(|row| op_index(&row.op));
    Ok(Comparison {
        baseline: baseline.dir.display().to_string(),
        tolerance_pct: options.tolerance_pct,
        error_tolerance_pp: options.error_tolerance_pp,
        min_change_ms: options.min_change_ms,
        alpha: options.alpha,
        regressed: rows.iter().any(|row| row.verdict == RowVerdict::Regression),
        rows,
    })
}

fn metric_row(
    baseline: &RunData,
    current: &RunData,
    op: Op,
    metric: Metric,
    stat: Stat,
    options: &Options,
) -> Option<Row> {
    let tag = crate::store::hlog::tag(op, metric);
    let base = baseline.histograms.get(&tag).filter(|h| !h.is_empty());
    let cur = current.histograms.get(&tag).filter(|h| !h.is_empty());
    if base.is_none() && cur.is_none() {
        return None;
    }
    let scale = if metric.is_time() { 1000.0 } else { 1.0 };
    let side = |h: &hdrhistogram::Histogram<u64>| {
        let at = |q: f64| round3(h.value_at_quantile(q) as f64 / scale);
        Side {
            count: h.len(),
            value: at(stat.quantile()),
            p50: Some(at(0.5)),
            p95: Some(at(0.95)),
            p99: Some(at(0.99)),
        }
    };
    let mut row = Row {
        op: op.name().to_owned(),
        metric: metric.name().to_owned(),
        stat: stat.to_string(),
        baseline: base.map(side),
        current: cur.map(side),
        change: None,
        change_unit: "%".to_owned(),
        change_ci: None,
        p_value: None,
        p_current_higher: None,
        significant: false,
        verdict: RowVerdict::Missing,
    };
    let (Some(base), Some(cur)) = (base, cur) else {
        return Some(row);
    };
    let (b, c) = (row.baseline.as_ref()?.value, row.current.as_ref()?.value);
    row.change = (b > 0.0).then(|| round3((c - b) / b * 100.0));
    let (base_buckets, cur_buckets) = (Buckets::from_histogram(base), Buckets::from_histogram(cur));
    let test = stats::mann_whitney(&base_buckets, &cur_buckets)?;
    row.p_value = Some(test.p);
    row.p_current_higher = Some(round3(test.superiority));
    let seed = tag.bytes().fold(0xA6E7_u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    row.change_ci = stats::bootstrap_change(
        &base_buckets,
        &cur_buckets,
        stat.quantile(),
        options.alpha,
        REPLICATES,
        seed,
    )
    .map(|change| [round3(change.lo), round3(change.hi)]);
    // Both must agree: the distributions differ (rank test) and the percentile moved (its
    // interval leaves out zero).
    let interval_clear = row.change_ci.is_some_and(|[lo, hi]| lo > 0.0 || hi < 0.0);
    row.significant = test.p < options.alpha && interval_clear;
    row.verdict = judge(row.significant, row.change, options.tolerance_pct);
    // A few milliseconds at a percentile is scheduling noise on a busy machine, whatever % of
    // a small value it makes.
    if metric.is_time() && (c - b).abs() < options.min_change_ms {
        row.verdict = match row.verdict {
            RowVerdict::Regression | RowVerdict::Improvement => RowVerdict::WithinTolerance,
            other => other,
        };
    }
    Some(row)
}

fn error_row(baseline: &RunData, current: &RunData, op: Op, options: &Options) -> Option<Row> {
    let base = baseline.requests.get(op.name()).filter(|(n, _)| *n > 0);
    let cur = current.requests.get(op.name()).filter(|(n, _)| *n > 0);
    if base.is_none() && cur.is_none() {
        return None;
    }
    let side = |&(requests, errors): &(u64, u64)| Side {
        count: requests,
        value: round3(errors as f64 / requests as f64 * 100.0),
        p50: None,
        p95: None,
        p99: None,
    };
    let mut row = Row {
        op: op.name().to_owned(),
        metric: "errors".to_owned(),
        stat: "rate".to_owned(),
        baseline: base.map(side),
        current: cur.map(side),
        change: None,
        change_unit: "pp".to_owned(),
        change_ci: None,
        p_value: None,
        p_current_higher: None,
        significant: false,
        verdict: RowVerdict::Missing,
    };
    let (Some(&(nb, eb)), Some(&(nc, ec))) = (base, cur) else {
        return Some(row);
    };
    let change = (ec as f64 / nc as f64 - eb as f64 / nb as f64) * 100.0;
    row.change = Some(round3(change));
    let p = stats::two_proportions(eb, nb, ec, nc);
    row.p_value = Some(p);
    row.significant = p < options.alpha;
    row.verdict = judge(row.significant, row.change, options.error_tolerance_pp);
    Some(row)
}

fn judge(significant: bool, change: Option<f64>, tolerance: f64) -> RowVerdict {
    match change {
        _ if !significant => RowVerdict::NoChange,
        Some(change) if change > tolerance => RowVerdict::Regression,
        Some(change) if change < -tolerance => RowVerdict::Improvement,
        _ => RowVerdict::WithinTolerance,
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// `--min-change 5` or `5ms`: milliseconds, zero or more.
pub fn parse_ms(text: &str) -> Result<f64, SpecError> {
    let number = text.trim().trim_end_matches("ms").trim();
    match number.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(SpecError::NotMilliseconds(text.to_owned())),
    }
}

/// `--tolerance 10` or `10%`: a percentage, zero or more.
pub fn parse_percent(text: &str) -> Result<f64, SpecError> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(SpecError::NotAPercentage(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;

    fn run(dir: &str, tags: &[(&str, Vec<u64>)], requests: &[(&str, u64, u64)]) -> RunData {
        RunData {
            dir: dir.into(),
            histograms: tags
                .iter()
                .map(|(tag, values)| {
                    let mut h = Histogram::new(3).unwrap();
                    values.iter().for_each(|v| h.record(*v).unwrap());
                    ((*tag).to_owned(), h)
                })
                .collect(),
            requests: requests
                .iter()
                .map(|(op, n, e)| ((*op).to_owned(), (*n, *e)))
                .collect(),
        }
    }

    /// 2000 ttfs values spread 90..110 ms (µs), scaled by `factor`.
    fn ttfs(factor: f64) -> Vec<u64> {
        (0..2000u64)
            .map(|i| ((90_000 + (i * 7919) % 20_000) as f64 * factor) as u64)
            .collect()
    }

    #[test]
    fn specs_parse_with_and_without_op_and_stat() {
        let spec = MetricSpec::parse("run_stream.ttfs.p95").unwrap();
        assert_eq!(
            (spec.op, spec.measure, spec.stat),
            (Some(Op::RunStream), Measure::Metric(Metric::Ttfs), Stat(95))
        );
        let spec = MetricSpec::parse("latency.p999").unwrap();
        assert_eq!((spec.op, spec.stat.quantile()), (None, 0.999));
        let spec = MetricSpec::parse("get.errors").unwrap();
        assert_eq!((spec.op, spec.measure), (Some(Op::Get), Measure::ErrorRate));
        assert_eq!(MetricSpec::parse("ttfs").unwrap().stat, DEFAULT_STAT);
        for (bad, says) in [
            ("run_stream.ttfs.p42", "not a percentile"),
            (
                "run_strem.ttfs",
                "`run_strem` in `run_strem.ttfs` is not an op or a metric",
            ),
            ("speed", "not an op or a metric"),
            ("", "not an op or a metric"),
            ("get.latency.p95.x", "not [OP.]METRIC[.STAT]"),
        ] {
            let err = MetricSpec::parse(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn a_60_percent_slower_first_step_is_a_regression() {
        let base = run(
            "b",
            &[("run_stream.ttfs", ttfs(1.0))],
            &[("run_stream", 2000, 0)],
        );
        let cur = run(
            "c",
            &[("run_stream.ttfs", ttfs(1.6))],
            &[("run_stream", 2000, 0)],
        );
        let comparison = compare(&base, &cur, &Options::default()).unwrap();
        assert!(comparison.regressed);
        let row = &comparison.rows[0];
        assert_eq!(
            (row.op.as_str(), row.metric.as_str(), row.stat.as_str()),
            ("run_stream", "ttfs", "p95")
        );
        let change = row.change.unwrap();
        assert!((change - 60.0).abs() < 1.0, "{change}");
        assert!(row.p_value.unwrap() < 1e-12 && row.significant);
        assert_eq!(row.verdict, RowVerdict::Regression);
        assert_eq!(comparison.rows[1].metric, "errors");
        assert_eq!(comparison.rows[1].verdict, RowVerdict::NoChange);

        // The other way round it is an improvement, and no regression.
        let back = compare(&cur, &base, &Options::default()).unwrap();
        assert_eq!(back.rows[0].verdict, RowVerdict::Improvement);
        assert!(!back.regressed);
    }

    #[test]
    fn a_small_significant_drift_stays_within_the_tolerance() {
        // 3% slower everywhere: with 2000 values a side the tests see it, the tolerance forgives it.
        let base = run("b", &[("run.latency", ttfs(1.0))], &[]);
        let cur = run("c", &[("run.latency", ttfs(1.03))], &[]);
        let comparison = compare(&base, &cur, &Options::default()).unwrap();
        let row = &comparison.rows[0];
        assert!(row.significant, "{row:?}");
        assert_eq!(row.verdict, RowVerdict::WithinTolerance);
        assert!(!comparison.regressed);
    }

    #[test]
    fn a_change_of_a_few_milliseconds_is_never_a_regression() {
        // 20 ms steps becoming 24 ms: +20%, significant, but 4 ms is below the 5 ms floor.
        let steps = |factor: f64| -> Vec<u64> {
            (0..2000u64)
                .map(|i| ((19_000 + i % 2000) as f64 * factor) as u64)
                .collect()
        };
        let base = run("b", &[("run_stream.inter_step", steps(1.0))], &[]);
        let cur = run("c", &[("run_stream.inter_step", steps(1.2))], &[]);
        let comparison = compare(&base, &cur, &Options::default()).unwrap();
        assert!(comparison.rows[0].significant);
        assert_eq!(comparison.rows[0].verdict, RowVerdict::WithinTolerance);
        let strict = Options {
            min_change_ms: 0.0,
            ..Options::default()
        };
        let comparison = compare(&base, &cur, &strict).unwrap();
        assert_eq!(comparison.rows[0].verdict, RowVerdict::Regression);
    }

    #[test]
    fn error_rates_are_compared_in_percentage_points() {
        let base = run("b", &[], &[("get", 1000, 10)]);
        let cur = run("c", &[], &[("get", 1000, 40)]);
        let comparison = compare(&base, &cur, &Options::default()).unwrap();
        let row = &comparison.rows[0];
        assert_eq!((row.metric.as_str(), row.change), ("errors", Some(3.0)));
        assert_eq!(row.verdict, RowVerdict::Regression);
        let lenient = Options {
            error_tolerance_pp: 5.0,
            ..Options::default()
        };
        assert_eq!(
            compare(&base, &cur, &lenient).unwrap().rows[0].verdict,
            RowVerdict::WithinTolerance
        );
    }

    #[test]
    fn named_metrics_narrow_the_comparison_and_must_exist() {
        let base = run(
            "b",
            &[("run_stream.ttfs", ttfs(1.0)), ("get.latency", ttfs(1.0))],
            &[("get", 10, 0)],
        );
        let cur = run(
            "c",
            &[("run_stream.ttfs", ttfs(1.6)), ("get.latency", ttfs(1.6))],
            &[("get", 10, 0)],
        );
        let options = Options {
            metrics: vec![MetricSpec::parse("get.latency.p50").unwrap()],
            ..Options::default()
        };
        let comparison = compare(&base, &cur, &options).unwrap();
        assert_eq!(comparison.rows.len(), 1);
        assert_eq!(comparison.rows[0].stat, "p50");
        let options = Options {
            metrics: vec![MetricSpec::parse("run.server_time").unwrap()],
            ..Options::default()
        };
        let err = compare(&base, &cur, &options).unwrap_err().to_string();
        assert!(err.contains("run.server_time"), "{err}");
    }

    #[test]
    fn a_metric_in_one_run_only_is_shown_not_judged() {
        let base = run("b", &[("get.latency", ttfs(1.0))], &[]);
        let cur = run("c", &[], &[]);
        let comparison = compare(&base, &cur, &Options::default()).unwrap();
        assert_eq!(comparison.rows[0].verdict, RowVerdict::Missing);
        assert!(!comparison.regressed);
    }

    #[test]
    fn tolerances_parse_as_percentages() {
        assert_eq!(parse_percent("10"), Ok(10.0));
        assert_eq!(parse_percent("2.5%"), Ok(2.5));
        assert!(parse_percent("-1").is_err());
        assert!(parse_percent("ten").is_err());
        assert_eq!(parse_ms("5ms"), Ok(5.0));
        assert!(parse_ms("5s").is_err());
    }

    use crate::stats::samples::lognormal;

    /// Asserts `actual` serializes to the JSON `expected`, numbers to 1e-12 relative.
    fn assert_pinned_json(actual: &impl serde::Serialize, expected: &str) {
        fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
            use serde_json::Value;
            match (a, b) {
                (Value::Number(x), Value::Number(y)) => {
                    let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                    (x - y).abs() <= 1e-12 * y.abs()
                }
                (Value::Array(x), Value::Array(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y))
                }
                (Value::Object(x), Value::Object(y)) => {
                    x.len() == y.len()
                        && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
                }
                _ => a == b,
            }
        }
        let actual = serde_json::to_value(actual).unwrap();
        let expected: serde_json::Value = serde_json::from_str(expected).unwrap();
        assert!(
            close(&actual, &expected),
            "pinned:\n{expected}\nnow:\n{actual}"
        );
    }

    #[test]
    fn comparisons_of_skewed_runs_are_pinned() {
        // Skewed (log-normal) runs: a slower first step, a slight drift between steps, a faster
        // get, and error rates up and down. The outputs are today's, pinned (rank test p-values
        // and effects, bootstrap intervals, verdicts) so that moving the statistics cannot
        // change them unnoticed.
        let base = run(
            "b",
            &[
                ("run_stream.ttfs", lognormal(1, 1500, 200_000.0)),
                ("run_stream.inter_step", lognormal(2, 4000, 20_000.0)),
                ("get.latency", lognormal(3, 800, 30_000.0)),
            ],
            &[("run_stream", 1500, 12), ("get", 800, 3)],
        );
        let cur = run(
            "c",
            &[
                ("run_stream.ttfs", lognormal(4, 1200, 240_000.0)),
                ("run_stream.inter_step", lognormal(5, 3500, 20_500.0)),
                ("get.latency", lognormal(6, 900, 27_000.0)),
            ],
            &[("run_stream", 1200, 30), ("get", 900, 2)],
        );
        let comparison = compare(&base, &cur, &Options::default()).unwrap();
        assert!(comparison.regressed);
        assert_pinned_json(
            &comparison.rows,
            r#"[
{"baseline":{"count":800,"p50":29.535,"p95":68.671,"p99":98.559,"value":68.671},"change":-11.184,"change_ci":[-24.501,2.789],"change_unit":"%","current":{"count":900,"p50":27.151,"p95":60.991,"p99":79.039,"value":60.991},"metric":"latency","op":"get","p_current_higher":0.444,"p_value":0.00007380203008251272,"significant":false,"stat":"p95","verdict":"no_change"},
{"baseline":{"count":800,"value":0.375},"change":-0.153,"change_ci":null,"change_unit":"pp","current":{"count":900,"value":0.222},"metric":"errors","op":"get","p_value":0.5615064085308675,"significant":false,"stat":"rate","verdict":"no_change"},
{"baseline":{"count":1500,"p50":201.599,"p95":458.239,"p99":696.319,"value":458.239},"change":24.581,"change_ci":[10.324,36.023],"change_unit":"%","current":{"count":1200,"p50":241.279,"p95":570.879,"p99":775.167,"value":570.879},"metric":"ttfs","op":"run_stream","p_current_higher":0.604,"p_value":1.690775657774855e-20,"significant":true,"stat":"p95","verdict":"regression"},
{"baseline":{"count":4000,"p50":19.839,"p95":45.343,"p99":62.591,"value":45.343},"change":4.87,"change_ci":[-4.318,12.301],"change_unit":"%","current":{"count":3500,"p50":20.463,"p95":47.551,"p99":66.175,"value":47.551},"metric":"inter_step","op":"run_stream","p_current_higher":0.516,"p_value":0.0156343977381994,"significant":false,"stat":"p95","verdict":"no_change"},
{"baseline":{"count":1500,"value":0.8},"change":1.7,"change_ci":null,"change_unit":"pp","current":{"count":1200,"value":2.5},"metric":"errors","op":"run_stream","p_value":0.00038959952227463844,"significant":true,"stat":"rate","verdict":"regression"}
]"#,
        );
        let options = Options {
            metrics: vec![
                MetricSpec::parse("run_stream.ttfs.p50").unwrap(),
                MetricSpec::parse("latency.p99").unwrap(),
            ],
            ..Options::default()
        };
        let comparison = compare(&base, &cur, &options).unwrap();
        assert_pinned_json(
            &comparison.rows,
            r#"[
{"baseline":{"count":800,"p50":29.535,"p95":68.671,"p99":98.559,"value":98.559},"change":-19.805,"change_ci":[-36.851,14.156],"change_unit":"%","current":{"count":900,"p50":27.151,"p95":60.991,"p99":79.039,"value":79.039},"metric":"latency","op":"get","p_current_higher":0.444,"p_value":0.00007380203008251272,"significant":false,"stat":"p99","verdict":"no_change"},
{"baseline":{"count":1500,"p50":201.599,"p95":458.239,"p99":696.319,"value":201.599},"change":19.683,"change_ci":[12.981,29.03],"change_unit":"%","current":{"count":1200,"p50":241.279,"p95":570.879,"p99":775.167,"value":241.279},"metric":"ttfs","op":"run_stream","p_current_higher":0.604,"p_value":1.690775657774855e-20,"significant":true,"stat":"p50","verdict":"regression"}
]"#,
        );
    }
}
