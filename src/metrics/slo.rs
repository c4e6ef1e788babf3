//! Service-level objectives (`[slo]` in a scenario, `--slo` on the command line): what makes a
//! request good. A request is good when it succeeded and every objective that applies to its op
//! holds for it. The recorder judges each request as it records it, so goodput and attainment
//! are exact counts, never estimates from percentiles.

use std::fmt;
use std::time::Duration;

use crate::model::Metric;
use crate::model::Op;

/// One objective: `ttfs <= 2s` for every op that has a ttfs, or `run_stream.ttfs < 1s` for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Objective {
    /// `None`: every op that has the metric.
    pub op: Option<Op>,
    pub metric: Metric,
    /// `<` rather than `<=`.
    pub strict: bool,
    pub limit: Duration,
}

const HOW: &str = "write e.g. ttfs <= 2s, latency < 20s or run_stream.ttfs <= 1s";

impl Objective {
    /// Parses a key (`ttfs`, `run_stream.ttfs`) and its condition (`<= 2s`; a bare `2s` means
    /// `<=`).
    pub fn parse(key: &str, condition: &str) -> Result<Objective, ObjectiveError> {
        let (op, metric_name) = match key.trim().split_once('.') {
            Some((op, metric)) => (Some(parse_op(op.trim())?), metric.trim()),
            None => (None, key.trim()),
        };
        let metric = parse_metric(metric_name)?;
        let condition = condition.trim();
        let (strict, rest) = if let Some(rest) = condition.strip_prefix("<=") {
            (false, rest)
        } else if let Some(rest) = condition.strip_prefix('<') {
            (true, rest)
        } else if condition.starts_with(['>', '=', '!']) {
            return Err(ObjectiveError::NotAnUpperBound(condition.to_owned()));
        } else {
            (false, condition)
        };
        let limit = crate::model::units::parse_duration(rest.trim()).map_err(|reason| {
            ObjectiveError::NotADuration {
                text: rest.trim().to_owned(),
                reason,
            }
        })?;
        if limit.is_zero() {
            return Err(ObjectiveError::Zero(key.to_owned()));
        }
        if let Some(op) = op
            && !metric.measured_for(op)
        {
            return Err(ObjectiveError::NotMeasured { op, metric });
        }
        Ok(Objective {
            op,
            metric,
            strict,
            limit,
        })
    }

    /// Parses a whole expression, e.g. `ttfs<=2s` or `run_stream.ttfs < 1s`.
    pub fn parse_expr(expr: &str) -> Result<Objective, ObjectiveError> {
        let split = expr
            .find(['<', '>', '=', '!'])
            .ok_or_else(|| ObjectiveError::NoComparison(expr.to_owned()))?;
        Objective::parse(&expr[..split], &expr[split..])
    }

    /// `ttfs` or `run_stream.ttfs`.
    pub fn key(&self) -> String {
        match self.op {
            Some(op) => format!("{op}.{}", self.metric),
            None => self.metric.name().to_owned(),
        }
    }

    /// `<= 2s`
    pub fn condition(&self) -> String {
        format!(
            "{} {}",
            if self.strict { "<" } else { "<=" },
            humantime::format_duration(self.limit)
        )
    }

    /// The largest value, in microseconds, that meets the objective.
    pub fn max_micros(&self) -> u64 {
        let micros = u64::try_from(self.limit.as_micros()).unwrap_or(u64::MAX);
        if self.strict {
            micros.saturating_sub(1)
        } else {
            micros
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key(), self.condition())
    }
}

fn parse_op(name: &str) -> Result<Op, ObjectiveError> {
    Op::from_name(name).ok_or_else(|| ObjectiveError::NotAnOp(name.to_owned()))
}

fn parse_metric(name: &str) -> Result<Metric, ObjectiveError> {
    Metric::from_name(name)
        .filter(|metric| metric.can_bound())
        .ok_or_else(|| ObjectiveError::NotBounded(name.to_owned()))
}

/// Why an objective cannot be read, and how to write it instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObjectiveError {
    #[error("{0:?}: an objective is an upper bound, `<=` or `<`; {HOW}")]
    NotAnUpperBound(String),
    #[error("{text:?} is not a duration ({reason}); {HOW}")]
    NotADuration {
        text: String,
        reason: crate::model::units::UnitError,
    },
    #[error("the limit of `{0}` is zero, which no request meets; {HOW}")]
    Zero(String),
    #[error("`{op}` has no `{metric}`; {has}", has = what_has(*metric))]
    NotMeasured { op: Op, metric: Metric },
    #[error("{0:?} has no comparison; {HOW}")]
    NoComparison(String),
    #[error("`{0}` is not an op; ops are {ops}", ops = Op::ALL.map(Op::name).join(", "))]
    NotAnOp(String),
    #[error("`{0}` is not a metric an objective can bound; use one of {names}", names = Metric::bounded().map(Metric::name).collect::<Vec<_>>().join(", "))]
    NotBounded(String),
}

fn what_has(metric: Metric) -> String {
    let ops: Vec<&str> = Op::ALL
        .into_iter()
        .filter(|op| metric.measured_for(*op))
        .map(Op::name)
        .collect();
    format!("`{metric}` is measured for {}", ops.join(", "))
}

/// The most a value of each metric may be, by `Metric::index`; `None`: no objective.
pub type Limits = [Option<u64>; Metric::COUNT];

/// A run's objectives, and for each op the limits that apply to it, as the recorder checks them:
/// an objective for one op replaces an objective for every op on the same metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Objectives {
    list: Vec<Objective>,
    by_op: [Limits; Op::ALL.len()],
}

impl Default for Objectives {
    fn default() -> Self {
        Objectives::new(Vec::new())
    }
}

impl Objectives {
    /// The objectives in the order given; a later one on the same key replaces an earlier one.
    pub fn new(objectives: Vec<Objective>) -> Objectives {
        let mut list: Vec<Objective> = Vec::with_capacity(objectives.len());
        for objective in objectives {
            match list.iter_mut().find(|o| o.key() == objective.key()) {
                Some(same) => *same = objective,
                None => list.push(objective),
            }
        }
        let mut by_op = [[None; Metric::COUNT]; Op::ALL.len()];
        for op in Op::ALL {
            for objective in Objectives::effective(&list, op) {
                by_op[op.index()][objective.metric.index()] = Some(objective.max_micros());
            }
        }
        Objectives { list, by_op }
    }

    fn effective(list: &[Objective], op: Op) -> impl Iterator<Item = &Objective> {
        list.iter().filter(move |o| match o.op {
            Some(only) => only == op,
            None => {
                o.metric.measured_for(op)
                    && !list
                        .iter()
                        .any(|other| other.op == Some(op) && other.metric == o.metric)
            }
        })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every objective, as given.
    pub fn list(&self) -> &[Objective] {
        &self.list
    }

    /// The objectives that apply to `op`, one per metric at most.
    pub fn for_op(&self, op: Op) -> impl Iterator<Item = &Objective> {
        Objectives::effective(&self.list, op)
    }

    /// The limits of `op`, by metric index.
    pub fn limits(&self, op: Op) -> &Limits {
        &self.by_op[op.index()]
    }

    /// Why an objective could never judge a request of this plan, if so.
    pub fn unmeasurable(objective: &Objective, sent: &[Op]) -> Option<String> {
        match objective.op {
            Some(op) if !sent.contains(&op) => Some(format!("the mix never sends `{op}`")),
            Some(_) => None,
            None if !sent.iter().any(|op| objective.metric.measured_for(*op)) => Some(format!(
                "no op of the mix has `{}` ({})",
                objective.metric,
                what_has(objective.metric)
            )),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let o = Objective::parse_expr("ttfs<=2s").unwrap();
        assert_eq!(
            (o.op, o.metric, o.strict, o.limit),
            (None, Metric::Ttfs, false, Duration::from_secs(2))
        );
        assert_eq!(o.to_string(), "ttfs <= 2s");
        let o = Objective::parse("run_stream.ttfs", "< 1500ms").unwrap();
        assert_eq!(o.op, Some(Op::RunStream));
        assert!(o.strict);
        assert_eq!(o.max_micros(), 1_499_999);
        assert_eq!(o.to_string(), "run_stream.ttfs < 1s 500ms");
        let o = Objective::parse("latency", "20s").unwrap();
        assert_eq!((o.strict, o.max_micros()), (false, 20_000_000));
    }

    #[test]
    fn bad_objectives_say_what_to_write() {
        for (expr, expect) in [
            ("ttfs >= 2s", "upper bound"),
            ("ttfs <= fast", "not a duration"),
            ("ttfs <= 0s", "zero"),
            ("steps <= 4", "can bound"),
            ("ttsf <= 2s", "ttfs"),
            ("run_strem.ttfs <= 1s", "not an op"),
            ("get.ttfs <= 1s", "`get` has no `ttfs`"),
            ("ttfs", "no comparison"),
        ] {
            let err = Objective::parse_expr(expr).unwrap_err().to_string();
            assert!(err.contains(expect), "{expr}: {err}");
        }
    }

    #[test]
    fn an_op_s_objective_replaces_the_general_one_on_its_metric() {
        let objectives = Objectives::new(vec![
            Objective::parse_expr("ttfs <= 2s").unwrap(),
            Objective::parse_expr("latency <= 20s").unwrap(),
            Objective::parse_expr("run_stream.ttfs <= 1s").unwrap(),
            Objective::parse_expr("latency <= 10s").unwrap(),
        ]);
        assert_eq!(
            objectives.list().len(),
            3,
            "the later latency replaced the first"
        );
        let stream = objectives.limits(Op::RunStream);
        assert_eq!(stream[Metric::Ttfs.index()], Some(1_000_000));
        assert_eq!(stream[Metric::Latency.index()], Some(10_000_000));
        let applied: Vec<String> = objectives
            .for_op(Op::RunStream)
            .map(ToString::to_string)
            .collect();
        assert_eq!(applied, ["latency <= 10s", "run_stream.ttfs <= 1s"]);
        let get = objectives.limits(Op::Get);
        assert_eq!(get[Metric::Ttfs.index()], None, "get has no ttfs");
        assert_eq!(get[Metric::Latency.index()], Some(10_000_000));

        let ttfs = Objective::parse_expr("ttfs <= 2s").unwrap();
        assert!(Objectives::unmeasurable(&ttfs, &[Op::Get]).is_some());
        assert!(Objectives::unmeasurable(&ttfs, &[Op::Get, Op::RunStream]).is_none());
        let run = Objective::parse_expr("run.latency <= 2s").unwrap();
        assert!(
            Objectives::unmeasurable(&run, &[Op::Get])
                .unwrap()
                .contains("never sends")
        );
    }
}
