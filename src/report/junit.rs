//! `junit.xml`: the run's verdicts as JUnit test cases, which every CI system can show: one per
//! threshold (a failure element with the measured value when it fails, and when it stopped the
//! run early) and, after a comparison with a baseline, one per compared metric.

use std::fmt::Write;

use super::Format;
use crate::model::units::trim_number;
use crate::store::names::{FileName, JUNIT_XML};
use crate::summary::Summary;
use crate::summary::comparison::{Row, RowVerdict};

pub struct JunitXml;

impl Format for JunitXml {
    fn file_name(&self) -> FileName {
        JUNIT_XML
    }

    fn render(&self, summary: &Summary) -> Vec<u8> {
        render(summary).into_bytes()
    }
}

/// One test case: its name and, when it failed, the failure's message and details.
struct Case {
    name: String,
    failure: Option<(String, String)>,
}

pub fn render(summary: &Summary) -> String {
    let thresholds: Vec<Case> = summary
        .thresholds
        .iter()
        .map(|t| {
            let actual = t.actual.map_or_else(|| "no data".to_owned(), trim_number);
            let aborted = summary.aborted_by.as_ref().filter(|a| a.expr == t.expr);
            let failure = match aborted {
                Some(a) => Some((
                    format!(
                        "stopped the run after {} s: actual {} on the run so far",
                        trim_number(a.at_s),
                        trim_number(a.actual)
                    ),
                    format!(
                        "{} failed during the run (abort_on_fail) with {}; at the end: {actual}",
                        t.expr,
                        trim_number(a.actual)
                    ),
                )),
                None if t.ok => None,
                None => Some((
                    format!("actual {actual}"),
                    format!("{} does not hold: actual {actual}", t.expr),
                )),
            };
            Case {
                name: t.expr.clone(),
                failure,
            }
        })
        .collect();
    let comparison: Vec<Case> = summary
        .comparison
        .iter()
        .flat_map(|c| c.rows.iter())
        .map(comparison_case)
        .collect();

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all = thresholds.len() + comparison.len();
    let failures = thresholds
        .iter()
        .chain(&comparison)
        .filter(|c| c.failure.is_some())
        .count();
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{all}\" failures=\"{failures}\" time=\"{}\">",
        escape(&format!("agentload {}", summary.scenario)),
        summary.duration_s
    );
    suite(
        &mut out,
        "agentload.thresholds",
        &thresholds,
        summary.duration_s,
    );
    if summary.comparison.is_some() {
        suite(&mut out, "agentload.comparison", &comparison, 0.0);
    }
    out.push_str("</testsuites>\n");
    out
}

fn comparison_case(row: &Row) -> Case {
    let name = format!("{}.{}.{}", row.op, row.metric, row.stat);
    let change = row.change.map_or_else(
        || "-".to_owned(),
        |c| {
            format!(
                "{c:+.1}{}",
                if row.change_unit == "pp" { " pp" } else { "%" }
            )
        },
    );
    let value = |side: Option<&crate::summary::comparison::Side>| {
        side.map_or_else(|| "-".to_owned(), |s| trim_number(s.value))
    };
    let failure = (row.verdict == RowVerdict::Regression).then(|| {
        (
            format!(
                "regression: {change} (baseline {}, current {})",
                value(row.baseline.as_ref()),
                value(row.current.as_ref())
            ),
            format!(
                "{name}: baseline {}, current {}, change {change}, interval {}, p = {}",
                value(row.baseline.as_ref()),
                value(row.current.as_ref()),
                row.change_ci.map_or_else(
                    || "-".to_owned(),
                    |[lo, hi]| format!("[{lo:+.1}, {hi:+.1}]")
                ),
                row.p_value
                    .map_or_else(|| "-".to_owned(), |p| format!("{p:.3e}")),
            ),
        )
    });
    Case { name, failure }
}

fn suite(out: &mut String, name: &str, cases: &[Case], time: f64) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time}\">",
        cases.len()
    );
    for case in cases {
        let open = format!(
            "    <testcase classname=\"{name}\" name=\"{}\"",
            escape(&case.name)
        );
        match &case.failure {
            None => {
                let _ = writeln!(out, "{open}/>");
            }
            Some((message, details)) => {
                let _ = writeln!(
                    out,
                    "{open}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    escape(message),
                    if name.ends_with("comparison") {
                        "regression"
                    } else {
                        "threshold"
                    },
                    escape(details)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

/// Text made safe for XML content and attribute values; characters XML 1.0 cannot hold at
/// all become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::threshold::{AbortedBy, ThresholdResult};
    use crate::report::fixture;
    use crate::summary::comparison::{Comparison, Side};

    fn parse(xml: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(xml).unwrap_or_else(|err| panic!("{err}\n{xml}"))
    }

    #[test]
    fn one_case_per_threshold_with_failures_escaped() {
        let mut summary = fixture::summary();
        summary.scenario = "a <b> & \"c\"\u{1}".into();
        summary.thresholds = vec![
            ThresholdResult {
                expr: "errors.rate < 1%".into(),
                actual: Some(0.2),
                ok: false,
            },
            ThresholdResult {
                expr: "run_stream.ttfs.p95 < 1500ms".into(),
                actual: Some(120.5),
                ok: true,
            },
            ThresholdResult {
                expr: "get.latency.p99 <= 2s".into(),
                actual: None,
                ok: false,
            },
        ];
        let xml = render(&summary);
        let doc = parse(&xml);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        assert_eq!(
            root.attribute("name"),
            Some("agentload a <b> & \"c\"\u{FFFD}")
        );
        assert_eq!(
            (root.attribute("tests"), root.attribute("failures")),
            (Some("3"), Some("2"))
        );
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let names: Vec<_> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
        assert_eq!(
            names,
            [
                "errors.rate < 1%",
                "run_stream.ttfs.p95 < 1500ms",
                "get.latency.p99 <= 2s"
            ]
        );
        let failure = |i: usize| {
            cases[i]
                .children()
                .find(|n| n.has_tag_name("failure"))
                .map(|f| f.attribute("message").unwrap().to_owned())
        };
        assert_eq!(failure(0).as_deref(), Some("actual 0.2"));
        assert_eq!(failure(1), None);
        assert_eq!(failure(2).as_deref(), Some("actual no data"));
        assert!(
            !doc.descendants().any(|n| n.has_tag_name("testsuite")
                && n.attribute("name") == Some("agentload.comparison")),
            "no comparison suite without a baseline"
        );
    }

    #[test]
    fn an_aborting_threshold_fails_even_if_it_held_at_the_end() {
        let mut summary = fixture::summary();
        summary.thresholds = vec![ThresholdResult {
            expr: "errors.rate < 5%".into(),
            actual: Some(0.01),
            ok: true,
        }];
        summary.set_aborted(AbortedBy {
            expr: "errors.rate < 5%".into(),
            actual: 0.2,
            at_s: 12.0,
        });
        let xml = render(&summary);
        let doc = parse(&xml);
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("stopped the run after 12 s: actual 0.2 on the run so far")
        );
    }

    #[test]
    fn a_comparison_adds_one_case_per_metric() {
        let mut summary = fixture::summary();
        let side = |value| Side {
            count: 100,
            value,
            p50: None,
            p95: Some(value),
            p99: None,
        };
        let row = |metric: &str, verdict, current| Row {
            op: "run_stream".into(),
            metric: metric.into(),
            stat: "p95".into(),
            baseline: Some(side(100.0)),
            current: Some(side(current)),
            change: Some(current - 100.0),
            change_unit: "%".into(),
            change_ci: Some([50.0, 70.0]),
            p_value: Some(1e-9),
            p_current_higher: None,
            significant: true,
            verdict,
        };
        summary.set_comparison(Comparison {
            baseline: "base".into(),
            tolerance_pct: 10.0,
            error_tolerance_pp: 1.0,
            min_change_ms: 5.0,
            alpha: 0.01,
            rows: vec![
                row("ttfs", RowVerdict::Regression, 160.0),
                row("latency", RowVerdict::WithinTolerance, 105.0),
            ],
            regressed: true,
        });
        let xml = render(&summary);
        let doc = parse(&xml);
        let suite = doc
            .descendants()
            .find(|n| n.attribute("name") == Some("agentload.comparison"))
            .unwrap();
        assert_eq!(
            (suite.attribute("tests"), suite.attribute("failures")),
            (Some("2"), Some("1"))
        );
        let failed = suite
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap()
            .parent()
            .unwrap();
        assert_eq!(failed.attribute("name"), Some("run_stream.ttfs.p95"));
        let message = failed
            .first_element_child()
            .unwrap()
            .attribute("message")
            .unwrap();
        assert_eq!(message, "regression: +60.0% (baseline 100, current 160)");
    }
}
