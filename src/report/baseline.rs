//! A comparison with a baseline as text: an aligned table for the terminal, a Markdown table for
//! CI job summaries and an HTML section for report.html, each verdict first.

use std::fmt::Write;

use crate::model::units::trim_number;
use crate::summary::comparison::{Comparison, Row, RowVerdict, Side};

fn headline(comparison: &Comparison) -> String {
    let regressions = comparison
        .rows
        .iter()
        .filter(|r| r.verdict == RowVerdict::Regression)
        .count();
    if regressions > 0 {
        format!(
            "{regressions} regression(s) of {} compared",
            comparison.rows.len()
        )
    } else {
        format!("no regression in {} compared", comparison.rows.len())
    }
}

fn method(comparison: &Comparison) -> String {
    format!(
        "significant: Mann-Whitney U p < {} and the bootstrap {}% interval of the change leaves out 0 (error rates: two-proportion z-test); a regression is significantly worse by more than {}% and {} ms ({} pp for error rates)",
        trim_number(comparison.alpha),
        trim_number((1.0 - comparison.alpha) * 100.0),
        trim_number(comparison.tolerance_pct),
        trim_number(comparison.min_change_ms),
        trim_number(comparison.error_tolerance_pp),
    )
}

fn percentiles(side: Option<&Side>, row: &Row) -> String {
    match side {
        None => "-".to_owned(),
        Some(side) if row.metric == "errors" => {
            format!("{}% of {}", trim_number(side.value), side.count)
        }
        Some(side) => {
            let p = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
            format!("{} / {} / {}", p(side.p50), p(side.p95), p(side.p99))
        }
    }
}

fn change(row: &Row) -> String {
    row.change.map_or_else(
        || "-".to_owned(),
        |c| {
            format!(
                "{c:+.1}{}",
                if row.change_unit == "pp" { " pp" } else { "%" }
            )
        },
    )
}

fn interval(row: &Row) -> String {
    row.change_ci.map_or_else(
        || "-".to_owned(),
        |[lo, hi]| format!("[{lo:+.1}, {hi:+.1}]"),
    )
}

/// A row's figures in table order: baseline and current percentiles, change, its interval, p.
fn figures(row: &Row) -> [String; 5] {
    [
        percentiles(row.baseline.as_ref(), row),
        percentiles(row.current.as_ref(), row),
        change(row),
        interval(row),
        p_value(row),
    ]
}

fn p_value(row: &Row) -> String {
    match row.p_value {
        None => "-".to_owned(),
        Some(p) if p < 0.001 => "<0.001".to_owned(),
        Some(p) => format!("{p:.3}"),
    }
}

/// The comparison for a terminal.
pub fn terminal(comparison: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ncomparison with baseline {}: {}",
        comparison.baseline,
        headline(comparison)
    );
    let _ = writeln!(
        out,
        "{:<11} {:<13} {:<5} {:>24} {:>24} {:>9} {:>17} {:>7}  verdict",
        "op", "metric", "stat", "baseline p50/p95/p99", "current p50/p95/p99", "change", "CI", "p"
    );
    for row in &comparison.rows {
        let figures = figures(row);
        let verdict = match row.verdict {
            RowVerdict::Regression => "REGRESSION".to_owned(),
            other => other.name().to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<11} {:<13} {:<5} {:>24} {:>24} {:>9} {:>17} {:>7}  {verdict}",
            row.op,
            row.metric,
            row.stat,
            figures[0],
            figures[1],
            figures[2],
            figures[3],
            figures[4],
        );
    }
    let _ = writeln!(out, "({}; times in ms)", method(comparison));
    out
}

/// The comparison as Markdown (a `##` section).
pub fn markdown(comparison: &Comparison) -> String {
    let mut out = String::new();
    let icon = if comparison.regressed { "❌" } else { "✅" };
    let _ = writeln!(
        out,
        "\n## Comparison with the baseline\n\n{icon} **{}** against `{}`\n",
        headline(comparison),
        comparison.baseline.replace('`', "'")
    );
    let _ = writeln!(
        out,
        "| | op | metric | baseline p50 / p95 / p99 | current p50 / p95 / p99 | change | CI | p | verdict |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    for row in &comparison.rows {
        let figures = figures(row);
        let icon = match row.verdict {
            RowVerdict::Regression => "❌",
            RowVerdict::Improvement => "🚀",
            RowVerdict::WithinTolerance | RowVerdict::NoChange => "✅",
            RowVerdict::Missing => "➖",
        };
        let _ = writeln!(
            out,
            "| {icon} | `{}` | `{}` {} | {} | {} |",
            row.op,
            row.metric,
            row.stat,
            figures.join(" | "),
            row.verdict.name(),
        );
    }
    let _ = writeln!(out, "\n<sub>{}; times in ms</sub>", method(comparison));
    out
}

/// The comparison as a section of report.html.
pub fn html(comparison: &Comparison) -> String {
    use super::html::escape;
    let mut out = String::new();
    let class = if comparison.regressed { "bad" } else { "good" };
    let _ = writeln!(
        out,
        "<section id=\"baseline\">\n<h2>Comparison with the baseline</h2>\n<p class=\"{class}\"><strong>{}</strong> against <code>{}</code></p>",
        escape(&headline(comparison)),
        escape(&comparison.baseline)
    );
    out.push_str(
        "<table>\n<tr><th>verdict</th><th>op</th><th>metric</th><th>baseline p50 / p95 / p99</th><th>current p50 / p95 / p99</th><th>change</th><th>CI</th><th>p</th></tr>\n",
    );
    for row in &comparison.rows {
        let figures = figures(row);
        let class = if row.verdict == RowVerdict::Regression {
            "text bad"
        } else {
            "text"
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"{class}\">{}</td><td class=\"text\"><code>{}</code></td><td class=\"text\"><code>{}</code> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            row.verdict.name(),
            escape(&row.op),
            escape(&row.metric),
            escape(&row.stat),
            figures[0],
            figures[1],
            figures[2],
            figures[3],
            escape(&figures[4]),
        );
    }
    let _ = writeln!(
        out,
        "</table>\n<p class=\"note\">{}; times in ms</p>\n</section>",
        escape(&method(comparison))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::comparison::Side;

    fn comparison() -> Comparison {
        let side = |p95: f64| Side {
            count: 1000,
            value: p95,
            p50: Some(p95 - 5.0),
            p95: Some(p95),
            p99: Some(p95 + 5.0),
        };
        Comparison {
            baseline: "reports/base".into(),
            tolerance_pct: 10.0,
            error_tolerance_pp: 1.0,
            min_change_ms: 5.0,
            alpha: 0.01,
            rows: vec![
                Row {
                    op: "run_stream".into(),
                    metric: "ttfs".into(),
                    stat: "p95".into(),
                    baseline: Some(side(105.0)),
                    current: Some(side(168.0)),
                    change: Some(60.0),
                    change_unit: "%".into(),
                    change_ci: Some([57.5, 62.25]),
                    p_value: Some(1e-9),
                    p_current_higher: Some(0.99),
                    significant: true,
                    verdict: RowVerdict::Regression,
                },
                Row {
                    op: "run_stream".into(),
                    metric: "errors".into(),
                    stat: "rate".into(),
                    baseline: Some(Side {
                        count: 1000,
                        value: 0.5,
                        p50: None,
                        p95: None,
                        p99: None,
                    }),
                    current: None,
                    change: None,
                    change_unit: "pp".into(),
                    change_ci: None,
                    p_value: None,
                    p_current_higher: None,
                    significant: false,
                    verdict: RowVerdict::Missing,
                },
            ],
            regressed: true,
        }
    }

    #[test]
    fn the_terminal_table_reads_verdict_first() {
        let text = terminal(&comparison());
        assert!(
            text.contains("comparison with baseline reports/base: 1 regression(s) of 2 compared"),
            "{text}"
        );
        let line = text
            .lines()
            .find(|l| l.starts_with("run_stream  ttfs"))
            .unwrap();
        for part in [
            "100.0 / 105.0 / 110.0",
            "163.0 / 168.0 / 173.0",
            "+60.0%",
            "[+57.5, +62.2]",
            "<0.001",
            "REGRESSION",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
        assert!(text.contains("0.5% of 1000"), "{text}");
    }

    #[test]
    fn the_markdown_table_has_a_row_per_metric() {
        let text = markdown(&comparison());
        assert!(
            text.contains("❌ **1 regression(s) of 2 compared** against `reports/base`"),
            "{text}"
        );
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(rows.len(), 4, "a header, its rule and two rows: {rows:?}");
        assert!(
            rows[2].starts_with("| ❌ | `run_stream` | `ttfs` p95 |"),
            "{}",
            rows[2]
        );
        assert!(rows[3].contains("only in one run"), "{}", rows[3]);
    }
}
