//! Pass/fail criteria over the summary (`"run_stream.ttfs.p95" = "< 1500ms"`): parsed and checked
//! before a run starts, evaluated on the finished summary, and the source of exit code 1. A
//! threshold marked `abort_on_fail` is also judged while the run goes, on the run so far.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::series::{OpSecond, SecondRecord};
use super::stats::{STAT_NAMES, Stats};
use crate::model::Metric;
use crate::model::{ErrorClass, Op};

/// A parsed threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The expression as the user wrote it, normalised to `key cmp value`.
    pub expr: String,
    pub variant: Option<String>,
    pub quantity: Quantity,
    pub cmp: Comparison,
    /// In the unit the summary uses: ms for times, a fraction for rates, per second for throughput.
    pub limit: f64,
    /// Judged during the run too, and stops it when it fails (`abort_on_fail = true`).
    pub abort: Option<AbortRule>,
}

/// When a threshold may stop a run: once `delay` of the load phase has passed, it is judged on
/// the run so far after every second, and the first failure stops the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortRule {
    pub delay: Duration,
}

/// The threshold that stopped a run early, as `summary.json` records it (`aborted_by`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbortedBy {
    pub expr: String,
    /// The value that failed, on the run so far.
    pub actual: f64,
    /// Seconds into the load phase at the end of the second it failed on.
    pub at_s: f64,
}

/// What a threshold measures.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantity {
    /// Failed requests / requests, over all ops or one.
    ErrorRate(Option<Op>),
    /// Failed requests, over all ops or one, of every class or one.
    ErrorCount {
        op: Option<Op>,
        class: Option<ErrorClass>,
    },
    /// Requests sent by one op.
    Requests(Op),
    /// A statistic of a metric of one op.
    Stat {
        op: Op,
        metric: Metric,
        stat: String,
    },
    AchievedRate,
    DroppedIterations,
    Iterations,
    /// Good requests per second (`goodput.rate`), over all ops or one (`<op>.goodput.rate`).
    GoodputRate(Option<Op>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
        }
    }

    pub fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Comparison::Less => actual < limit,
            Comparison::LessOrEqual => actual <= limit,
            Comparison::Greater => actual > limit,
            Comparison::GreaterOrEqual => actual >= limit,
            Comparison::Equal => actual == limit,
            Comparison::NotEqual => actual != limit,
        }
    }
}

/// The outcome of one threshold, as `summary.json` records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    pub expr: String,
    /// The measured value (same unit as the limit); null when nothing was measured.
    pub actual: Option<f64>,
    pub ok: bool,
}

/// What kind of number a quantity is, to check the unit a limit is written in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Time,
    Fraction,
    PerSecond,
    Count,
}

const KEY_HELP: &str = "write `<op>.<metric>.<stat>` (e.g. `run_stream.ttfs.p95`), `errors.rate`, \
`<op>.errors.rate`, `errors.<class>.count`, `<op>.requests`, `load.achieved_rate`, \
`load.dropped_iterations` or `load.iterations`, optionally prefixed by `<agent name>:`";

impl Threshold {
    /// Parses a key and its condition, e.g. `("run_stream.ttfs.p95", "< 1500ms")`.
    /// The error says what is wrong and how to write it instead.
    pub fn parse(key: &str, condition: &str) -> Result<Threshold, ThresholdError> {
        let (variant, path) = match key.split_once(':') {
            Some((variant, path)) if !variant.trim().is_empty() => {
                (Some(variant.trim().to_owned()), path.trim())
            }
            Some(_) => {
                return Err(ThresholdError::EmptyAgent(key.to_owned()));
            }
            None => (None, key.trim()),
        };
        let (quantity, kind) = parse_quantity(path)?;
        let (cmp, rest) = parse_comparison(condition.trim())
            .ok_or_else(|| ThresholdError::NoComparison(condition.to_owned()))?;
        let limit = parse_limit(rest.trim(), kind)?;
        Ok(Threshold {
            expr: format!("{key} {} {}", cmp.symbol(), rest.trim()),
            variant,
            quantity,
            cmp,
            limit,
            abort: None,
        })
    }

    /// Marks the threshold `abort_on_fail`, judged after `delay`; refused (with the reason) for a
    /// quantity the run so far cannot tell.
    pub fn abort_on_fail(mut self, delay: Duration) -> Result<Threshold, ThresholdError> {
        if let Some(why) = self.not_live() {
            return Err(ThresholdError::CannotAbort {
                expr: self.expr,
                why: why.to_owned(),
            });
        }
        self.abort = Some(AbortRule { delay });
        Ok(self)
    }

    /// Why this threshold cannot be judged during the run, if so. The per-second series has
    /// per-op requests, errors and histograms, and dropped arrivals; error classes, agents and
    /// iterations are known only at the end. A new quantity that the series can carry (e.g.
    /// `goodput.rate`) gets an arm here and in [`Threshold::actual_so_far`].
    fn not_live(&self) -> Option<&'static str> {
        if self.variant.is_some() {
            return Some("a single agent's figures are known only at the end");
        }
        match &self.quantity {
            Quantity::ErrorRate(_)
            | Quantity::ErrorCount { class: None, .. }
            | Quantity::Requests(_)
            | Quantity::Stat { .. }
            | Quantity::DroppedIterations => None,
            Quantity::ErrorCount { class: Some(_), .. } => {
                Some("error classes are counted only at the end")
            }
            Quantity::AchievedRate | Quantity::Iterations => {
                Some("iterations are counted only at the end")
            }
            Quantity::GoodputRate(_) => Some("goodput is counted only at the end"),
        }
    }

    /// The measured value on the run so far (the per-second series' seconds after the warmup,
    /// merged); `None` while there is nothing to judge (no data yet, or a quantity only the end
    /// can tell).
    pub fn actual_so_far(&self, so_far: &SecondRecord) -> Option<f64> {
        if self.not_live().is_some() {
            return None;
        }
        let per_op = |op: &Option<Op>| -> OpSecond {
            let mut total = OpSecond::default();
            for (_, second) in so_far
                .ops
                .iter()
                .filter(|(o, _)| op.is_none_or(|op| op == **o))
            {
                total.requests += second.requests;
                total.errors += second.errors;
            }
            total
        };
        match &self.quantity {
            Quantity::ErrorRate(op) => {
                let total = per_op(op);
                (total.requests > 0).then(|| total.errors as f64 / total.requests as f64)
            }
            Quantity::ErrorCount { op, .. } => Some(per_op(op).errors as f64),
            Quantity::Requests(op) => Some(per_op(&Some(*op)).requests as f64),
            Quantity::Stat { op, metric, stat } => {
                let histogram = so_far.ops.get(op)?.histograms.get(*metric)?;
                Stats::from_histogram(histogram, *metric).get(stat)
            }
            Quantity::DroppedIterations => Some(so_far.dropped as f64),
            Quantity::AchievedRate | Quantity::Iterations | Quantity::GoodputRate(_) => None,
        }
    }

    /// The expression with how it may stop the run, for `validate`.
    pub fn describe(&self) -> String {
        match self.abort {
            Some(rule) => format!(
                "{}  (abort_on_fail, judged during the run from {})",
                self.expr,
                humantime::format_duration(rule.delay)
            ),
            None => self.expr.clone(),
        }
    }

    /// Whether `actual` meets the threshold.
    pub fn holds(&self, actual: f64) -> bool {
        self.cmp.holds(actual, self.limit)
    }

    /// Parses a whole expression, e.g. `run_stream.ttfs.p95 < 1500ms`.
    pub fn parse_expr(expr: &str) -> Result<Threshold, ThresholdError> {
        let split = expr
            .find(['<', '>', '=', '!'])
            .ok_or_else(|| ThresholdError::NoComparisonInExpr(expr.to_owned()))?;
        Threshold::parse(expr[..split].trim(), &expr[split..])
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

fn parse_quantity(path: &str) -> Result<(Quantity, Kind), ThresholdError> {
    let parts: Vec<&str> = path.split('.').collect();
    let op = |name: &str| {
        Op::from_name(name).ok_or_else(|| ThresholdError::NotAnOp {
            name: name.to_owned(),
            path: path.to_owned(),
        })
    };
    let class = |name: &str| {
        ErrorClass::from_name(name).ok_or_else(|| ThresholdError::NotAClass {
            name: name.to_owned(),
            path: path.to_owned(),
        })
    };
    Ok(match parts.as_slice() {
        ["errors", "rate"] => (Quantity::ErrorRate(None), Kind::Fraction),
        ["errors", "count"] => (
            Quantity::ErrorCount {
                op: None,
                class: None,
            },
            Kind::Count,
        ),
        ["errors", name, "count"] => (
            Quantity::ErrorCount {
                op: None,
                class: Some(class(name)?),
            },
            Kind::Count,
        ),
        ["load", "achieved_rate"] => (Quantity::AchievedRate, Kind::PerSecond),
        ["load", "dropped_iterations"] => (Quantity::DroppedIterations, Kind::Count),
        ["load", "iterations"] => (Quantity::Iterations, Kind::Count),
        ["goodput", "rate"] => (Quantity::GoodputRate(None), Kind::PerSecond),
        [name, "goodput", "rate"] => (Quantity::GoodputRate(Some(op(name)?)), Kind::PerSecond),
        [name, "requests"] => (Quantity::Requests(op(name)?), Kind::Count),
        [name, "errors", "rate"] => (Quantity::ErrorRate(Some(op(name)?)), Kind::Fraction),
        [name, "errors", "count"] => (
            Quantity::ErrorCount {
                op: Some(op(name)?),
                class: None,
            },
            Kind::Count,
        ),
        [name, "errors", class_name, "count"] => (
            Quantity::ErrorCount {
                op: Some(op(name)?),
                class: Some(class(class_name)?),
            },
            Kind::Count,
        ),
        [name, metric_name, stat] => {
            let op = op(name)?;
            let metric =
                Metric::from_name(metric_name).ok_or_else(|| ThresholdError::NotAMetric {
                    name: (*metric_name).to_owned(),
                    path: path.to_owned(),
                })?;
            if !STAT_NAMES.contains(stat) {
                return Err(ThresholdError::NotAStat {
                    stat: (*stat).to_owned(),
                    path: path.to_owned(),
                });
            }
            let kind = if *stat == "count" || !metric.is_time() {
                Kind::Count
            } else {
                Kind::Time
            };
            (
                Quantity::Stat {
                    op,
                    metric,
                    stat: (*stat).to_owned(),
                },
                kind,
            )
        }
        _ => return Err(ThresholdError::NotAKey(path.to_owned())),
    })
}

fn parse_comparison(text: &str) -> Option<(Comparison, &str)> {
    [
        ("<=", Comparison::LessOrEqual),
        (">=", Comparison::GreaterOrEqual),
        ("==", Comparison::Equal),
        ("!=", Comparison::NotEqual),
        ("<", Comparison::Less),
        (">", Comparison::Greater),
    ]
    .into_iter()
    .find_map(|(symbol, cmp)| text.strip_prefix(symbol).map(|rest| (cmp, rest)))
}

fn parse_limit(text: &str, kind: Kind) -> Result<f64, ThresholdError> {
    let number_end = text
        .find(|c: char| {
            !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')
        })
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_end);
    let value: f64 = number
        .parse()
        .map_err(|_| ThresholdError::NotANumber(text.to_owned()))?;
    let unit = unit.trim();
    let scaled = match (kind, unit) {
        (Kind::Time, "" | "ms") => value,
        (Kind::Time, "s") => value * 1000.0,
        (Kind::Time, "us" | "µs") => value / 1000.0,
        (Kind::Fraction, "") => value,
        (Kind::Fraction, "%") => value / 100.0,
        (Kind::PerSecond, "" | "/s") => value,
        (Kind::PerSecond, "/min") => value / 60.0,
        (Kind::Count, "") => value,
        (kind, unit) => {
            let expected = match kind {
                Kind::Time => "a time in ms or s, e.g. \"1500ms\"",
                Kind::Fraction => "a percentage such as \"1%\" or a fraction such as 0.01",
                Kind::PerSecond => "a rate such as \"20/s\"",
                Kind::Count => "a plain number",
            };
            return Err(ThresholdError::WrongUnit {
                unit: unit.to_owned(),
                expected,
            });
        }
    };
    if !scaled.is_finite() {
        return Err(ThresholdError::NotFinite(text.to_owned()));
    }
    Ok(scaled)
}

/// Why a threshold cannot be read, and how to write it instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("`{0}` has an empty agent name before `:`; {KEY_HELP}")]
    EmptyAgent(String),
    #[error(
        "condition {0:?} does not start with a comparison; write e.g. \"< 1500ms\", \"<= 1%\" or \">= 10/s\""
    )]
    NoComparison(String),
    #[error("{0:?} has no comparison; write e.g. \"run_stream.ttfs.p95 < 1500ms\"")]
    NoComparisonInExpr(String),
    #[error("`{expr}` cannot abort a run: {why}; keep it as a plain threshold (judged at the end)")]
    CannotAbort { expr: String, why: String },
    #[error("`{name}` in `{path}` is not an op; ops are {ops}", ops = Op::ALL.map(Op::name).join(", "))]
    NotAnOp { name: String, path: String },
    #[error(
        "`{name}` in `{path}` is not an error class (e.g. http_429, timeout_total, stream_cut; the README lists them)"
    )]
    NotAClass { name: String, path: String },
    #[error("`{name}` in `{path}` is not a metric; metrics are {metrics}", metrics = Metric::ALL.map(Metric::name).join(", "))]
    NotAMetric { name: String, path: String },
    #[error("`{stat}` in `{path}` is not a statistic; use one of {stats}", stats = STAT_NAMES.join(", "))]
    NotAStat { stat: String, path: String },
    #[error("`{0}` is not a threshold key; {KEY_HELP}")]
    NotAKey(String),
    #[error("{0:?} does not start with a number; write e.g. \"1500ms\", \"1%\" or \"20/s\"")]
    NotANumber(String),
    #[error("unit {unit:?} does not fit this key; write {expected}")]
    WrongUnit {
        unit: String,
        expected: &'static str,
    },
    #[error("{0:?} is not a finite number")]
    NotFinite(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let t = Threshold::parse("run_stream.ttfs.p95", "< 1500ms").unwrap();
        assert_eq!(
            t.quantity,
            Quantity::Stat {
                op: Op::RunStream,
                metric: Metric::Ttfs,
                stat: "p95".into()
            }
        );
        assert_eq!((t.cmp, t.limit), (Comparison::Less, 1500.0));
        assert_eq!(t.expr, "run_stream.ttfs.p95 < 1500ms");

        let t = Threshold::parse("errors.rate", "< 1%").unwrap();
        assert_eq!((t.quantity, t.limit), (Quantity::ErrorRate(None), 0.01));

        let t = Threshold::parse_expr("fast:run.latency.p99 <= 2s").unwrap();
        assert_eq!(t.variant.as_deref(), Some("fast"));
        assert_eq!((t.cmp, t.limit), (Comparison::LessOrEqual, 2000.0));

        let t = Threshold::parse("errors.http_429.count", "== 0").unwrap();
        assert_eq!(
            t.quantity,
            Quantity::ErrorCount {
                op: None,
                class: Some(ErrorClass::Http(429))
            }
        );

        let t = Threshold::parse("load.achieved_rate", ">= 10/s").unwrap();
        assert_eq!((t.quantity, t.limit), (Quantity::AchievedRate, 10.0));
    }

    #[test]
    fn bad_expressions_say_what_to_write() {
        let err = Threshold::parse("run_strem.ttfs.p95", "< 1s")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`run_strem`") && err.contains("run_stream"),
            "{err}"
        );
        let err = Threshold::parse("run.ttfs.p42", "< 1s")
            .unwrap_err()
            .to_string();
        assert!(err.contains("p42") && err.contains("p95"), "{err}");
        let err = Threshold::parse("run.latency.p95", "1s")
            .unwrap_err()
            .to_string();
        assert!(err.contains("comparison"), "{err}");
        let err = Threshold::parse("run.latency.p95", "< 1%")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unit \"%\""), "{err}");
        let err = Threshold::parse("errors.rate", "< fast")
            .unwrap_err()
            .to_string();
        assert!(err.contains("number"), "{err}");
        assert!(Threshold::parse_expr("errors.rate").is_err());
        assert!(
            Threshold::parse("nonsense", "< 1")
                .unwrap_err()
                .to_string()
                .contains("errors.rate")
        );
    }
}
