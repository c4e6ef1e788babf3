//! `summary.md`: the summary as Markdown that reads well as a CI job summary: the verdict first,
//! then the per-op table, the thresholds and the most frequent errors.

use std::fmt::Write;

use super::percent;
use crate::summary::verdict::ReasonKind;

use super::{Format, comparison, ordered_ops};
use crate::metrics::stats::Stats;
use crate::model::Op;
use crate::model::units::trim_number;
use crate::store::names::{FileName, SUMMARY_MD};
use crate::summary::OpSummary;
use crate::summary::Summary;

pub struct SummaryMarkdown;

/// Error rows shown at most; the rest are summed into one line.
const TOP_ERRORS: usize = 10;

impl Format for SummaryMarkdown {
    fn file_name(&self) -> FileName {
        SUMMARY_MD
    }

    fn render(&self, summary: &Summary) -> Vec<u8> {
        render(summary).into_bytes()
    }
}

pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    let headline = summary.verdict.headline(summary.thresholds.len());
    let (outcome, why) = headline.split_once(": ").unwrap_or((&headline, ""));
    let icon = if summary.verdict.passed() {
        "✅"
    } else {
        "❌"
    };
    let mut verdict = format!("{icon} **{outcome}**: {}", why.replace('|', "\\|"));
    if let Some(regressions) = summary.verdict.reason(ReasonKind::Regressions) {
        for item in &regressions.items {
            let _ = write!(verdict, "\n- a regression against the baseline: `{item}`");
        }
    }
    let _ = writeln!(
        out,
        "# agentload: {}\n\n{verdict}\n",
        escape(&summary.scenario)
    );
    let load = &summary.load;
    let planned = load.target_rate.map_or_else(String::new, |rate| {
        format!(" of {} planned", rate_text(rate))
    });
    let _ = writeln!(
        out,
        "{} · {} ({}) in {:.1} s · {} model, {} at {}{planned}{}{} · target `{}` · run `{}`, started {}\n",
        plural(summary.total_requests(), "request"),
        plural(summary.total_errors(), "error"),
        percent(summary.total_errors(), summary.total_requests()),
        summary.duration_s,
        load.model,
        plural(load.iterations, "iteration"),
        rate_text(load.achieved_rate),
        load.vus
            .map_or_else(String::new, |v| format!(", {}", plural(v, "virtual user"))),
        if load.dropped_iterations > 0 {
            format!(", **{} dropped**", load.dropped_iterations)
        } else {
            String::new()
        },
        summary.target,
        summary.run_id,
        summary.started_at,
    );

    let _ = writeln!(out, "## Requests\n");
    op_table(
        &mut out,
        ordered_ops(summary).map(|(name, op)| (format!("`{name}`"), op)),
    );
    if summary.variants.len() > 1 {
        let _ = writeln!(out, "\n### By agent\n");
        let rows = summary.variants.iter().flat_map(|(variant, ops)| {
            Op::ALL.into_iter().filter_map(move |op| {
                let s = ops.get(op.name())?;
                Some((format!("{}: `{}`", escape(variant), op.name()), s))
            })
        });
        op_table(&mut out, rows);
    }
    comparisons(&mut out, summary);

    if let Some(total) = &summary.goodput {
        let _ = writeln!(out, "\n## Goodput\n");
        let slos = if total.objectives.is_empty() {
            "no SLO: every success is good".to_owned()
        } else {
            total
                .objectives
                .iter()
                .map(|o| format!("`{}`", o.replace('|', "\\|")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "{} good of {} at {} ({} attainment) · {slos}\n",
            total.good,
            plural(total.requests, "request"),
            rate_text(total.rate),
            percent(total.good, total.requests),
        );
        let _ = writeln!(
            out,
            "| op | good | goodput | attainment | per objective |\n| --- | ---: | ---: | ---: | --- |"
        );
        for (name, op) in ordered_ops(summary) {
            let Some(slo) = &op.slo else { continue };
            let objectives: Vec<String> = slo
                .objectives
                .iter()
                .map(|(metric, o)| {
                    format!("`{metric} {}` {}", o.condition, percent(o.met, op.requests))
                })
                .collect();
            let _ = writeln!(
                out,
                "| `{name}` | {} | {} | {} | {} |",
                slo.good,
                rate_text(slo.goodput_rate),
                percent(slo.good, op.requests),
                objectives.join(", ")
            );
        }
    }

    if !summary.thresholds.is_empty() {
        let _ = writeln!(out, "\n## Thresholds\n");
        let _ = writeln!(out, "| | threshold | actual |\n| --- | --- | --- |");
        for t in &summary.thresholds {
            let actual = t.actual.map_or_else(|| "no data".to_owned(), trim_number);
            let _ = writeln!(
                out,
                "| {} | `{}` | {actual} |",
                if t.ok { "✅" } else { "❌" },
                t.expr.replace('|', "\\|")
            );
        }
    }

    if let Some(comparison) = &summary.comparison {
        out.push_str(&crate::report::baseline::markdown(comparison));
    }

    let mut errors: Vec<(&str, &String, u64, Option<&String>)> = ordered_ops(summary)
        .flat_map(|(name, op)| {
            op.error_classes.iter().map(move |(class, n)| {
                let first = op.error_messages.get(class).and_then(|m| m.first());
                (name, class, *n, first)
            })
        })
        .collect();
    if !errors.is_empty() {
        errors.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(b.1)));
        let _ = writeln!(out, "\n## Top errors\n");
        let _ = writeln!(
            out,
            "| op | class | count | first message |\n| --- | --- | ---: | --- |"
        );
        for (name, class, count, first) in errors.iter().take(TOP_ERRORS) {
            let _ = writeln!(
                out,
                "| `{name}` | `{class}` | {count} | {} |",
                first.map_or_else(String::new, |m| escape(m))
            );
        }
        if errors.len() > TOP_ERRORS {
            let rest: u64 = errors[TOP_ERRORS..].iter().map(|e| e.2).sum();
            let _ = writeln!(
                out,
                "\n…and {rest} more in {} other op/class pairs (see summary.json).",
                errors.len() - TOP_ERRORS
            );
        }
    }
    out
}

/// The variants of each op side by side, ranked, with where differences are significant.
fn comparisons(out: &mut String, summary: &Summary) {
    let tables = comparison::tables(summary);
    if tables.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Variants compared\n");
    for table in tables {
        let _ = writeln!(out, "{}\n", escape(&table.title));
        let _ = writeln!(
            out,
            "| {} |\n|{}",
            table
                .header
                .iter()
                .map(|h| escape(h))
                .collect::<Vec<_>>()
                .join(" | "),
            table
                .header
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 2 { " --- |" } else { " ---: |" })
                .collect::<String>()
        );
        for row in &table.rows {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    if i == 2 {
                        format!("`{}`", cell.replace('`', "'"))
                    } else {
                        escape(cell)
                    }
                })
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(out, "\n`{}`\n", table.chain.replace('`', "'"));
    }
    let _ = writeln!(
        out,
        "<sub>Intervals: 95%, order statistics of the histograms for percentiles, Wilson for error rates. \
         Significance: Mann-Whitney U on the histograms' buckets, Holm-corrected over the op's pairs; \
         a tier holds the variants not significantly different from its best.</sub>"
    );
}

fn op_table<'a>(out: &mut String, rows: impl Iterator<Item = (String, &'a OpSummary)>) {
    let _ = writeln!(
        out,
        "| op | requests | errors | latency p50 | p90 | p99 | service p99 | ttfs p50 | ttfs p99 | inter-step p50 |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (name, op) in rows {
        let ms = |metric: &str, pick: fn(&Stats) -> f64| {
            op.metrics
                .get(metric)
                .map_or_else(|| "–".to_owned(), |s| format!("{:.1} ms", pick(s)))
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            op.requests,
            if op.errors > 0 {
                format!("**{}** ({})", op.errors, percent(op.errors, op.requests))
            } else {
                "0".to_owned()
            },
            ms("latency", |s| s.p50),
            ms("latency", |s| s.p90),
            ms("latency", |s| s.p99),
            ms("service_time", |s| s.p99),
            ms("ttfs", |s| s.p50),
            ms("ttfs", |s| s.p99),
            ms("inter_step", |s| s.p50),
        );
    }
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn rate_text(per_second: f64) -> String {
    format!("{per_second:.1}/s")
}

/// Text safe inside a Markdown table cell: no pipes, no line breaks, no HTML.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::summary;

    #[test]
    fn the_verdict_comes_first_and_cells_are_escaped() {
        let text = render(&summary());
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], "# agentload: t");
        assert_eq!(lines[1], "❌ **failed**: 1 of 1 threshold(s) did not hold");
        assert!(
            text.contains("| ❌ | `errors.rate < 1%` | 0.1667 |"),
            "{text}"
        );
        assert!(
            text.contains("| `get` | `http_429` | 1 | 429 Too Many Requests: slow down (SC429) |"),
            "{text}"
        );
        assert_eq!(escape("a|b\nc<d>"), "a\\|b c&lt;d&gt;");
    }

    #[test]
    fn variants_are_compared_in_a_table_per_op() {
        let text = render(&crate::report::fixture::comparison());
        insta::assert_snapshot!(text);
        assert!(text.contains("\n## Variants compared\n"), "{text}");
        assert!(text.contains("| 3 | 2 | `slow` | 81 | 1.2% ["), "{text}");
    }

    #[test]
    fn the_markdown_summary_reads_as_it_did() {
        insta::assert_snapshot!(render(&summary()));
    }
}
