//! `sweep.html`: the sweep on one self-contained page (inline CSS and SVG, nothing fetched):
//! the capacity answer, offered against achieved and goodput rate, the main op's percentiles
//! per step, and the step table, drawn with the charts of `report.html`.

use std::fmt::Write;

use super::report::{SweepReport, percent};
use super::step::{Percentiles, trim};
use crate::report::charts::{self, Line, PALETTE};
use crate::report::html::{STYLE, escape};

/// The page.
pub fn render(report: &SweepReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>agentload sweep: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>agentload sweep: {}</h1>\n<p class=\"verdict {}\">{}</p>\n",
        escape(&report.scenario),
        escape(&report.scenario),
        if report.capacity.rate.is_some() {
            "passed"
        } else {
            "failed"
        },
        escape(&report.capacity.answer)
    );
    let _ = writeln!(
        out,
        "<p>{} steps of {} s after {} s of warmup, started {}. A step passes with {}.</p>",
        report.steps.len(),
        trim(report.step_duration_s),
        trim(report.warmup_s),
        escape(&report.started_at),
        escape(&report.criterion)
    );
    if report.interrupted {
        let _ = writeln!(
            out,
            "<p class=\"note\">Interrupted: the page holds the steps that ran.</p>"
        );
    }
    let _ = writeln!(
        out,
        "<section id=\"charts\">\n<h2>Charts</h2>\n<div class=\"charts\">"
    );
    for (id, svg) in sweep_charts(report) {
        let _ = write!(
            out,
            "<figure class=\"chart\" id=\"chart-{id}\" style=\"width:{}px;height:{}px\">",
            charts::WIDTH,
            charts::HEIGHT
        );
        match svg {
            Ok(svg) => out.push_str(&svg),
            Err(err) => {
                let _ = write!(out, "<p class=\"note\">{}</p>", escape(&err.to_string()));
            }
        }
        out.push_str("</figure>\n");
    }
    let _ = writeln!(out, "</div>\n</section>");
    table(&mut out, report);
    let _ = writeln!(
        out,
        "<footer>agentload {} · sweep.json holds every number drawn here; each step's folder has its own report.html</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// Rates against the offered rate, and the main op's percentiles against it.
fn sweep_charts(report: &SweepReport) -> Vec<(&'static str, Result<String, charts::ChartError>)> {
    let steps = report.sorted_steps();
    let op = report.main_op_name();
    let lo = steps.first().map_or(0.0, |s| s.rate);
    let hi = steps.last().map_or(1.0, |s| s.rate);
    let pad = ((hi - lo) * 0.05).max(hi * 0.05).max(0.5);
    let x = ((lo - pad).max(0.0), hi + pad);
    let rate_line = |name: &str, color, value: fn(&super::step::StepResult) -> f64| {
        Line::new(
            name,
            color,
            steps.iter().map(|s| (s.rate, value(s))).collect(),
        )
    };
    let rates = charts::marked_lines(
        "Achieved and goodput rate",
        "offered rate (/s)",
        "rate (/s)",
        x,
        &[
            rate_line("offered", PALETTE[5], |s| s.rate),
            rate_line("achieved", PALETTE[0], |s| s.achieved_rate),
            rate_line("goodput", PALETTE[2], |s| s.goodput_rate),
        ],
    );
    let mut lines = Vec::new();
    for (index, metric) in ["latency", "ttfs"].into_iter().enumerate() {
        for (pick, name) in ["p50", "p95"].into_iter().enumerate() {
            let points: Vec<(f64, f64)> = steps
                .iter()
                .filter_map(|s| {
                    let op = s.ops.get(&op)?;
                    let p = if metric == "latency" {
                        op.latency
                    } else {
                        op.ttfs
                    }?;
                    Some((s.rate, if pick == 0 { p.p50 } else { p.p95 }))
                })
                .collect();
            if !points.is_empty() {
                let color = PALETTE[(index * 2 + pick) % PALETTE.len()];
                lines.push(Line::new(format!("{metric} {name}"), color, points));
            }
        }
    }
    let latency = charts::marked_lines(
        &format!("{op}: latency and time to first step"),
        "offered rate (/s)",
        "milliseconds (ms)",
        x,
        &lines,
    );
    vec![("rates", rates), ("latency", latency)]
}

fn table(out: &mut String, report: &SweepReport) {
    let op = escape(&report.main_op_name());
    let _ = writeln!(
        out,
        "<section id=\"steps\">\n<h2>Steps</h2>\n<table>\n<tr><th>offered</th><th>achieved</th>\
         <th>goodput</th><th>attainment</th><th>errors</th><th>dropped</th>\
         <th><code>{op}</code> latency p50 / p95 / p99</th><th><code>{op}</code> ttfs p50 / p95 / p99</th>\
         <th>verdict</th><th>report</th></tr>"
    );
    for step in report.sorted_steps() {
        let main = step.ops.get(&report.main_op_name());
        let ms = |p: Option<Percentiles>| {
            p.map_or_else(
                || "–".to_owned(),
                |p| format!("{:.1} / {:.1} / {:.1} ms", p.p50, p.p95, p.p99),
            )
        };
        let (class, verdict) = if step.passed {
            ("text", "pass".to_owned())
        } else {
            ("text bad", step.failures.join("; "))
        };
        let _ = writeln!(
            out,
            "<tr><td>{}/s</td><td>{:.1}/s</td><td>{:.1}/s</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"{class}\">{}</td>\
             <td class=\"text\"><a href=\"{}/report.html\">{}</a></td></tr>",
            trim(step.rate),
            step.achieved_rate,
            step.goodput_rate,
            percent(step.attainment),
            step.errors,
            step.dropped_iterations,
            ms(main.and_then(|o| o.latency)),
            ms(main.and_then(|o| o.ttfs)),
            escape(&verdict),
            escape(&step.report),
            escape(&step.report),
        );
    }
    let _ = writeln!(out, "</table>\n</section>");
}
