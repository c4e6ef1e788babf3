//! The summary printed at the end of a run: a per-op table of requests, errors, latency and
//! time to first step, then variants, errors with their first messages, and thresholds.

use std::fmt::Write;

use super::{comparison, ordered_ops};
use crate::model::Op;
use crate::model::units::trim_number;
use crate::summary::OpSummary;
use crate::summary::Summary;
use crate::summary::verdict::{Outcome, ReasonKind, Verdict};

/// Renders the summary for a terminal (plain text, no colour codes).
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    let load = &summary.load;
    let planned = load
        .target_rate
        .map_or_else(String::new, |rate| format!(" of {rate:.1}/s planned"));
    let dropped = if load.dropped_iterations > 0 {
        format!(" · {} dropped", load.dropped_iterations)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\n{} · {} · {:.1}s · {} iterations ({:.1}/s{planned}){dropped}{}",
        summary.scenario,
        summary.load.model,
        summary.duration_s,
        load.iterations,
        load.achieved_rate,
        load.vus.map_or_else(String::new, |v| format!(" · {v} VUs"))
    );
    let _ = writeln!(out, "target {}\n", summary.target);
    table(
        &mut out,
        "op",
        summary.ops.iter().map(|(name, op)| (name.clone(), op)),
    );
    if summary.variants.len() > 1 {
        let _ = writeln!(out);
        let rows = summary.variants.iter().flat_map(|(variant, ops)| {
            ops.iter()
                .map(move |(op, s)| (format!("{variant}:{op}"), s))
        });
        table(&mut out, "agent:op", rows);
    }
    comparisons(&mut out, summary);
    let turn_rows: Vec<(String, &OpSummary)> = ordered_ops(summary)
        .flat_map(|(name, op)| {
            let mut turns: Vec<(u32, &OpSummary)> = op
                .turns
                .iter()
                .filter_map(|(turn, s)| Some((turn.parse().ok()?, s)))
                .collect();
            turns.sort_by_key(|(turn, _)| *turn);
            turns
                .into_iter()
                .map(move |(turn, s)| (format!("{name} turn {turn}"), s))
        })
        .collect();
    if !turn_rows.is_empty() {
        let _ = writeln!(out, "\nby turn of the conversation");
        table(&mut out, "op turn", turn_rows.into_iter());
    }
    streams(&mut out, summary);
    extras(&mut out, summary);
    goodput(&mut out, summary);
    if !summary.errors.is_empty() {
        let _ = writeln!(out, "\nerrors");
        for (name, op) in ordered_ops(summary) {
            for (class, count) in &op.error_classes {
                let first = op
                    .error_messages
                    .get(class)
                    .and_then(|m| m.first())
                    .map_or("", String::as_str);
                let _ = writeln!(
                    out,
                    "  {name:<11} {class:<19} {count:>7}  {}",
                    truncate(first, 90)
                );
            }
        }
    }
    if !summary.thresholds.is_empty() {
        let _ = writeln!(out, "\nthresholds");
        for t in &summary.thresholds {
            let actual = t.actual.map_or_else(
                || "no data".to_owned(),
                |v| format!("actual {}", trim_number(v)),
            );
            let _ = writeln!(
                out,
                "  {} {}  ({actual})",
                if t.ok { "pass" } else { "FAIL" },
                t.expr
            );
        }
    }
    if let Some(comparison) = &summary.comparison {
        out.push_str(&crate::report::baseline::terminal(comparison));
    }
    if let Some(aborted) = &summary.aborted_by {
        let _ = writeln!(
            out,
            "\nstopped early after {} s: `{}` failed on the run so far (actual {}; abort_on_fail)",
            trim_number(aborted.at_s),
            aborted.expr,
            trim_number(aborted.actual)
        );
    }
    out
}

/// The verdict's reasons, one line each (with what each is made of, indented), for stderr
/// after the summary table.
pub fn verdict(verdict: &Verdict) -> String {
    let mut out = String::new();
    for reason in &verdict.reasons {
        let line = match (verdict.outcome, reason.kind) {
            (_, ReasonKind::Interrupted) => reason.message.clone(),
            (_, ReasonKind::SetupFailed | ReasonKind::BaselineUnusable) => {
                format!("error: {}", reason.message)
            }
            (_, ReasonKind::Incomplete) => format!(
                "error: {} (this is a bug in agentload; please report it)",
                reason.message
            ),
            (Outcome::Failed, _) => format!("failed: {}", reason.message),
            (_, _) => format!("note: {}", reason.message),
        };
        let _ = writeln!(out, "{line}");
        for item in &reason.items {
            let _ = writeln!(out, "  {item}");
        }
    }
    out
}

/// The variants of each op side by side, ranked, with intervals and where differences are
/// significant.
fn comparisons(out: &mut String, summary: &Summary) {
    for table in comparison::tables(summary) {
        let _ = writeln!(out, "\n{}", table.title.replace('`', ""));
        let widths: Vec<usize> = (0..table.header.len())
            .map(|column| {
                table
                    .rows
                    .iter()
                    .map(|row| row[column].chars().count())
                    .chain([table.header[column].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut text = String::new();
            for (column, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                let pad = width - cell.chars().count();
                // The agent's name reads from the left, the figures from the right.
                if column == 2 {
                    text.push_str(&format!("  {cell}{}", " ".repeat(pad)));
                } else {
                    text.push_str(&format!("  {}{cell}", " ".repeat(pad)));
                }
            }
            text.trim_end().to_owned()
        };
        let _ = writeln!(out, "{}", line(&table.header));
        for row in &table.rows {
            let _ = writeln!(out, "{}", line(row));
        }
        let _ = writeln!(out, "  {}", table.chain);
    }
}

/// What streams carried: steps, their gaps, the first assistant step, steps by role and
/// events that were not steps.
fn streams(out: &mut String, summary: &Summary) {
    let rows: Vec<_> = ordered_ops(summary)
        .filter_map(|(name, op)| Some((name, op, op.steps_by_role.as_ref()?)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nstreams");
    for (name, op, roles) in rows {
        let ms = |metric: &str, pick: fn(&crate::metrics::stats::Stats) -> f64| {
            op.metrics
                .get(metric)
                .map_or_else(|| "-".to_owned(), |s| format!("{:.1}", pick(s)))
        };
        let by_role: Vec<String> = ["system", "user", "tool", "assistant", "other"]
            .into_iter()
            .filter_map(|role| Some(format!("{role} {}", roles.get(role)?)))
            .collect();
        let _ = writeln!(
            out,
            "  {name:<11} steps p50 {} · inter-step p50 {} p99 {} ms · first assistant p50 {} ms",
            ms("steps", |s| s.p50),
            ms("inter_step", |s| s.p50),
            ms("inter_step", |s| s.p99),
            ms("first_assistant", |s| s.p50),
        );
        let _ = writeln!(
            out,
            "  {:<11} steps by role: {} · other events {}",
            "",
            by_role.join(", "),
            op.other_events.unwrap_or(0)
        );
    }
}

/// Callbacks and 429 retries, for the ops that had them.
fn extras(out: &mut String, summary: &Summary) {
    let stat = |op: &OpSummary, metric: &str| {
        op.metrics
            .get(metric)
            .map(|s| format!("p50 {:.1} p99 {:.1} ms", s.p50, s.p99))
    };
    let callbacks: Vec<_> = ordered_ops(summary)
        .filter_map(|(name, op)| Some((name, stat(op, "callback")?)))
        .collect();
    if !callbacks.is_empty() {
        let _ = writeln!(out, "\ncallbacks (send to result received)");
        for (name, line) in callbacks {
            let _ = writeln!(out, "  {name:<11} {line}");
        }
    }
    let retried: Vec<_> = ordered_ops(summary)
        .filter(|(_, op)| op.retries > 0)
        .collect();
    if !retried.is_empty() {
        let _ = writeln!(out, "\n429s waited out and sent again");
        for (name, op) in retried {
            let waited = stat(op, "retry_wait").unwrap_or_default();
            let _ = writeln!(out, "  {name:<11} {} retries, waits {waited}", op.retries);
        }
    }
}

/// Good requests per second and how often each objective held, overall and per op.
fn goodput(out: &mut String, summary: &Summary) {
    let Some(total) = &summary.goodput else {
        return;
    };
    let slos = if total.objectives.is_empty() {
        "no SLO: every success is good".to_owned()
    } else {
        format!("slo {}", total.objectives.join(", "))
    };
    let _ = writeln!(
        out,
        "
goodput {:.1}/s · {} of {} requests good ({}) · {slos}",
        total.rate,
        total.good,
        total.requests,
        percent(total.attainment),
    );
    for (name, op) in ordered_ops(summary) {
        let Some(slo) = &op.slo else { continue };
        let objectives: Vec<String> = slo
            .objectives
            .iter()
            .map(|(metric, o)| format!("{metric} {} {}", o.condition, percent(o.attainment)))
            .collect();
        let _ = writeln!(
            out,
            "  {name:<11} {:.1}/s good {} ({}){}{}",
            slo.goodput_rate,
            slo.good,
            percent(slo.attainment),
            if objectives.is_empty() { "" } else { " · " },
            objectives.join(" · ")
        );
    }
}

fn percent(fraction: Option<f64>) -> String {
    fraction.map_or_else(|| "-".to_owned(), |f| format!("{:.1}%", f * 100.0))
}

fn table<'a>(out: &mut String, label: &str, rows: impl Iterator<Item = (String, &'a OpSummary)>) {
    let mut rows: Vec<(String, &OpSummary)> = rows.collect();
    // Grouped by agent (for `agent:op` rows), ops in the API's order within each group.
    rows.sort_by_key(|(name, _)| {
        let (group, op) = name.rsplit_once(':').unwrap_or(("", name));
        (
            group.to_owned(),
            Op::from_name(op).map_or(usize::MAX, Op::index),
        )
    });
    let width = rows
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0)
        .max(label.len())
        .max(10);
    let _ = writeln!(
        out,
        "{:width$} {:>9} {:>7}   {:<26}   {:<17}   {:<26}",
        "", "", "", "latency (ms)", "p99 (ms)", "time to first step (ms)"
    );
    let _ = writeln!(
        out,
        "{label:<width$} {:>9} {:>7}   {:>8} {:>8} {:>8}   {:>8} {:>8}   {:>8} {:>8} {:>8}",
        "requests", "errors", "p50", "p90", "p99", "service", "wait", "p50", "p90", "p99"
    );
    for (name, op) in rows {
        let stat = |metric: &str, pick: fn(&crate::metrics::stats::Stats) -> f64| {
            op.metrics
                .get(metric)
                .map_or_else(|| "-".to_owned(), |s| format!("{:.1}", pick(s)))
        };
        let _ = writeln!(
            out,
            "{name:<width$} {:>9} {:>7}   {:>8} {:>8} {:>8}   {:>8} {:>8}   {:>8} {:>8} {:>8}",
            op.requests,
            op.errors,
            stat("latency", |s| s.p50),
            stat("latency", |s| s.p90),
            stat("latency", |s| s.p99),
            stat("service_time", |s| s.p99),
            stat("wait", |s| s.p99),
            stat("ttfs", |s| s.p50),
            stat("ttfs", |s| s.p90),
            stat("ttfs", |s| s.p99),
        );
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::summary;

    #[test]
    fn ops_come_in_the_apis_order_with_errors_and_thresholds() {
        let text = render(&summary());
        let order: Vec<&str> = text
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|word| Op::from_name(word).is_some() || word.contains(':'))
            .collect();
        // The op table, the agent:op table (header first), the turns, streams and retries,
        // goodput, then the error rows.
        let expected = [
            "list",
            "create",
            "get",
            "run_stream",
            "agent:op",
            "a:run_stream",
            "b:create",
            "b:get",
            "run_stream",
            "run_stream",
            "run_stream",
            "run_stream",
            "list",
            "create",
            "get",
            "run_stream",
            "get",
        ];
        assert_eq!(order, expected, "{text}");
        assert!(text.contains("\nby turn of the conversation\n"), "{text}");
        assert!(text.contains("\nrun_stream turn 1 "), "{text}");
        assert!(text.contains("\nrun_stream turn 2 "), "{text}");
        assert!(
            text.contains(
                "steps by role: system 2, user 2, tool 0, assistant 2, other 0 · other events 4"
            ),
            "{text}"
        );
        assert!(
            text.contains("  run_stream  2 retries, waits p50 2000.9 p99 2000.9 ms"),
            "{text}"
        );
        assert!(
            text.contains(
                "get         http_429                  1  429 Too Many Requests: slow down (SC429)"
            ),
            "{text}"
        );
        assert!(
            text.contains("FAIL errors.rate < 1%  (actual 0.1667)"),
            "{text}"
        );
        let stream = text.lines().find(|l| l.starts_with("run_stream")).unwrap();
        // 120 ms reads 120.1: HdrHistogram's highest equivalent value at 3 significant digits.
        assert!(
            stream.contains("   120.1"),
            "ttfs p50 in the stream row: {stream}"
        );
    }

    #[test]
    fn variants_are_compared_side_by_side_with_their_significance() {
        let text = render(&crate::report::fixture::comparison());
        insta::assert_snapshot!(text);
        let chain = text
            .lines()
            .find(|l| l.trim_start().starts_with("fast "))
            .unwrap();
        assert!(chain.starts_with("  fast ≈ near (p "), "{text}");
        assert!(chain.contains(" < slow (p <0.001, +"), "{text}");
    }

    #[test]
    fn the_terminal_summary_reads_as_it_did() {
        insta::assert_snapshot!(render(&summary()));
    }
}
