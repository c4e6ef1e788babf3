//! `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched) that
//! opens offline in any browser: the run's header and verdict, per-op and per-agent tables,
//! thresholds, top errors and the charts of [`super::charts`].

use std::fmt::Write;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use super::charts::{self, Line, PALETTE, RED};
use super::history::{History, RunData, SecondPoint};
use super::ordered_ops;
use crate::model::Metric;
use crate::model::Op;
use crate::model::units::trim_number;
use crate::store::StoreError;
use crate::store::names::REPORT_HTML;
use crate::summary::OpSummary;
use crate::summary::Summary;

/// Points drawn per line at most; longer runs are drawn per bucket of seconds.
const MAX_POINTS: usize = 900;

/// Error rows shown at most.
const TOP_ERRORS: usize = 10;

/// Bars of a frequency histogram.
const BUCKETS: usize = 40;

/// One chart of the page.
pub struct Chart {
    /// Unique in the page: `chart-<id>`.
    pub id: String,
    pub svg: Result<String, charts::ChartError>,
}

/// Writes `dir/report.html` through the store.
pub fn write(dir: &Path, data: &RunData<'_>) -> Result<PathBuf, StoreError> {
    crate::store::write(dir, REPORT_HTML, render(data).as_bytes())
}

pub fn render(data: &RunData<'_>) -> String {
    let summary = data.summary;
    let mut out = String::new();
    let verdict = summary.verdict.outcome.name();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>agentload: {} ({verdict})</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&summary.scenario)
    );
    header(&mut out, summary);
    section_requests(&mut out, summary);
    section_thresholds(&mut out, summary);
    if let Some(comparison) = &summary.comparison {
        out.push_str(&super::baseline::html(comparison));
    }
    section_errors(&mut out, summary);
    let _ = writeln!(out, "<section id=\"charts\">\n<h2>Charts</h2>");
    let charts = charts(data);
    if charts.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">No second of load was completed: nothing to draw.</p>"
        );
    }
    let _ = writeln!(out, "<div class=\"charts\">");
    for chart in &charts {
        let _ = write!(
            out,
            "<figure class=\"chart\" id=\"chart-{}\" style=\"width:{}px;height:{}px\">",
            chart.id,
            charts::WIDTH,
            charts::HEIGHT
        );
        match &chart.svg {
            Ok(svg) => out.push_str(svg),
            Err(err) => {
                let _ = write!(out, "<p class=\"note\">{}</p>", escape(&err.to_string()));
            }
        }
        out.push_str("</figure>\n");
    }
    let _ = writeln!(out, "</div>\n</section>");
    let _ = writeln!(
        out,
        "<footer>agentload {} · run {} · summary.json, timeseries.csv and histograms.hlog hold every number drawn here</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        escape(&summary.run_id)
    );
    out
}

pub(crate) const STYLE: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1d1d1f;
       margin: 0 auto; padding: 24px; max-width: 1600px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 28px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
.verdict { display: inline-block; font-weight: 600; padding: 3px 10px; border-radius: 4px; }
.verdict.passed { background: #e3f4e1; color: #17631a; }
.verdict.failed { background: #fbe3e1; color: #a1140c; }
dl.run { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 12px 0; }
dl.run dt { color: #666; }
dl.run dd { margin: 0; }
table { border-collapse: collapse; margin: 6px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5e5; text-align: right; }
th { background: #f5f5f7; font-weight: 600; }
th:first-child, td:first-child, td.text { text-align: left; }
td.bad { color: #a1140c; font-weight: 600; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { margin: 0; border: 1px solid #e5e5e5; overflow: hidden; flex: none; }
.note { color: #666; }
footer { margin-top: 32px; color: #888; font-size: 13px; }
";

fn header(out: &mut String, summary: &Summary) {
    let verdict = &summary.verdict;
    let class = if verdict.passed() { "passed" } else { "failed" };
    let _ = writeln!(
        out,
        "<header>\n<h1>agentload: {}</h1>\n<p class=\"verdict {class}\">{}</p>",
        escape(&summary.scenario),
        escape(&verdict.headline(summary.thresholds.len()))
    );
    if !verdict.passed() {
        out.push_str("<ul class=\"reasons\">\n");
        for reason in &verdict.reasons {
            let _ = write!(out, "<li>{}", escape(&reason.message));
            if !reason.items.is_empty() {
                out.push_str("<ul>");
                for item in &reason.items {
                    let _ = write!(out, "<li><code>{}</code></li>", escape(item));
                }
                out.push_str("</ul>");
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    let load = &summary.load;
    let model = match (load.target_rate, load.vus) {
        (Some(rate), _) => format!(
            "open: {}/s planned{}",
            trim_number(rate),
            load.max_in_flight
                .map_or_else(String::new, |n| format!(", at most {n} in flight"))
        ),
        (None, Some(vus)) => format!("closed: {vus} virtual user(s)"),
        (None, None) => load.model.clone(),
    };
    let dropped = if load.dropped_iterations > 0 {
        format!(", <strong>{} dropped</strong>", load.dropped_iterations)
    } else {
        String::new()
    };
    let rows = [
        (
            "target",
            format!("<code>{}</code>", escape(&summary.target)),
        ),
        ("load model", escape(&model)),
        ("started", escape(&summary.started_at)),
        ("duration", format!("{:.1} s", summary.duration_s)),
        (
            "iterations",
            format!(
                "{} at {:.1}/s{dropped}",
                load.iterations, load.achieved_rate
            ),
        ),
        (
            "requests",
            format!(
                "{} with {} error(s) ({})",
                summary.total_requests(),
                summary.total_errors(),
                percent(summary.total_errors(), summary.total_requests())
            ),
        ),
        (
            "run id",
            format!("<code>{}</code>", escape(&summary.run_id)),
        ),
    ];
    out.push_str("<dl class=\"run\">\n");
    for (name, value) in rows {
        let _ = writeln!(out, "<dt>{name}</dt><dd>{value}</dd>");
    }
    out.push_str("</dl>\n</header>\n");
}

fn section_requests(out: &mut String, summary: &Summary) {
    let _ = writeln!(out, "<section id=\"requests\">\n<h2>Requests</h2>");
    if summary.ops.is_empty() {
        let _ = writeln!(out, "<p class=\"note\">No request was made.</p>");
    } else {
        op_table(
            out,
            ordered_ops(summary).map(|(name, op)| (format!("<code>{name}</code>"), op)),
        );
    }
    if summary.variants.len() > 1 {
        let _ = writeln!(out, "<h3>By agent</h3>");
        let rows = summary.variants.iter().flat_map(|(variant, ops)| {
            Op::ALL.into_iter().filter_map(move |op| {
                let s = ops.get(op.name())?;
                Some((
                    format!("{}: <code>{}</code>", escape(variant), op.name()),
                    s,
                ))
            })
        });
        op_table(out, rows);
    }
    out.push_str("</section>\n");
}

fn op_table<'a>(out: &mut String, rows: impl Iterator<Item = (String, &'a OpSummary)>) {
    out.push_str(
        "<table>\n<tr><th>op</th><th>requests</th><th>errors</th><th>latency p50</th><th>p90</th>\
         <th>p95</th><th>p99</th><th>max</th><th>service p99</th><th>ttfs p50</th><th>ttfs p99</th>\
         <th>inter-step p50</th></tr>\n",
    );
    for (name, op) in rows {
        let ms = |metric: &str, pick: fn(&crate::metrics::stats::Stats) -> f64| {
            op.metrics
                .get(metric)
                .map_or_else(|| "–".to_owned(), |s| format!("{:.1} ms", pick(s)))
        };
        let errors = if op.errors > 0 {
            format!(
                "<td class=\"bad\">{} ({})</td>",
                op.errors,
                percent(op.errors, op.requests)
            )
        } else {
            "<td>0</td>".to_owned()
        };
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td>{}</td>{errors}<td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            op.requests,
            ms("latency", |s| s.p50),
            ms("latency", |s| s.p90),
            ms("latency", |s| s.p95),
            ms("latency", |s| s.p99),
            ms("latency", |s| s.max),
            ms("service_time", |s| s.p99),
            ms("ttfs", |s| s.p50),
            ms("ttfs", |s| s.p99),
            ms("inter_step", |s| s.p50),
        );
    }
    out.push_str("</table>\n");
}

fn section_thresholds(out: &mut String, summary: &Summary) {
    if summary.thresholds.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section id=\"thresholds\">\n<h2>Thresholds</h2>\n<table>\n<tr><th>result</th><th>threshold</th><th>actual</th></tr>"
    );
    for t in &summary.thresholds {
        let actual = t.actual.map_or_else(|| "no data".to_owned(), trim_number);
        let (class, word) = if t.ok {
            ("text", "held")
        } else {
            ("text bad", "failed")
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"{class}\">{word}</td><td class=\"text\"><code>{}</code></td><td>{actual}</td></tr>",
            escape(&t.expr)
        );
    }
    out.push_str("</table>\n</section>\n");
}

fn section_errors(out: &mut String, summary: &Summary) {
    let mut errors: Vec<(&str, &String, u64, Option<&String>)> = ordered_ops(summary)
        .flat_map(|(name, op)| {
            op.error_classes.iter().map(move |(class, n)| {
                let first = op.error_messages.get(class).and_then(|m| m.first());
                (name, class, *n, first)
            })
        })
        .collect();
    if errors.is_empty() {
        return;
    }
    errors.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(b.1)));
    let _ = writeln!(
        out,
        "<section id=\"errors\">\n<h2>Top errors</h2>\n<table>\n<tr><th>op</th><th>class</th><th>count</th><th>first message</th></tr>"
    );
    for (name, class, count, first) in errors.iter().take(TOP_ERRORS) {
        let _ = writeln!(
            out,
            "<tr><td><code>{name}</code></td><td class=\"text\"><code>{}</code></td><td>{count}</td><td class=\"text\">{}</td></tr>",
            escape(class),
            first.map_or_else(String::new, |m| escape(m))
        );
    }
    out.push_str("</table>\n");
    if errors.len() > TOP_ERRORS {
        let rest: u64 = errors[TOP_ERRORS..].iter().map(|e| e.2).sum();
        let _ = writeln!(
            out,
            "<p class=\"note\">…and {rest} more in {} other op/class pairs (see summary.json).</p>",
            errors.len() - TOP_ERRORS
        );
    }
    out.push_str("</section>\n");
}

/// How the seconds of a bucket combine into one point.
#[derive(Clone, Copy)]
enum Combine {
    Mean,
    Max,
}

/// One point per bucket of seconds (one second per bucket unless the run is long); seconds
/// where `value` has nothing are skipped.
fn points(
    history: &History,
    combine: Combine,
    value: impl Fn(&SecondPoint) -> Option<f64>,
) -> Vec<(f64, f64)> {
    let bucket = history.seconds.len().div_ceil(MAX_POINTS).max(1);
    history
        .seconds
        .chunks(bucket)
        .filter_map(|chunk| {
            let values: Vec<f64> = chunk.iter().filter_map(&value).collect();
            if values.is_empty() {
                return None;
            }
            let combined = match combine {
                Combine::Mean => values.iter().sum::<f64>() / chunk.len() as f64,
                Combine::Max => values.iter().copied().fold(f64::MIN, f64::max),
            };
            Some((f64::from(chunk[0].second), combined))
        })
        .collect()
}

/// `(log10(1/(1-p)), value in ms)` along the percentile axis, up to where the count still
/// tells percentiles apart.
fn percentile_points(histogram: &Histogram<u64>, scale: f64) -> Vec<(f64, f64)> {
    let count = histogram.len().max(1) as f64;
    let right = count.log10().clamp(1.0, 6.0);
    let steps = (right * 40.0) as usize;
    let mut points: Vec<(f64, f64)> = (0..=steps)
        .map(|i| {
            let x = right * i as f64 / steps as f64;
            let quantile = 1.0 - 10f64.powf(-x);
            (x, histogram.value_at_quantile(quantile) as f64 / scale)
        })
        .collect();
    points.push((right, histogram.max() as f64 / scale));
    points
}

/// Linear buckets from 0 to the 99.9th percentile (the last bucket holds everything above).
fn frequency_buckets(histogram: &Histogram<u64>, scale: f64) -> Vec<(f64, f64, u64)> {
    let upper = (histogram.value_at_quantile(0.999) as f64 / scale).max(0.001) * 1.02;
    let width = upper / BUCKETS as f64;
    let mut counts = vec![0u64; BUCKETS];
    for value in histogram.iter_recorded() {
        let at = value.value_iterated_to() as f64 / scale;
        let index = ((at / width) as usize).min(BUCKETS - 1);
        counts[index] += value.count_at_value();
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, n)| (i as f64 * width, (i + 1) as f64 * width, n))
        .collect()
}

/// Every chart the run has data for, in page order.
pub fn charts(data: &RunData<'_>) -> Vec<Chart> {
    let history = data.history;
    let mut charts = Vec::new();
    let seconds = history
        .seconds
        .last()
        .map_or(0.0, |s| f64::from(s.second) + 1.0);
    if !history.seconds.is_empty() {
        let lines = [
            Line::new(
                "requests/s",
                PALETTE[0],
                points(history, Combine::Mean, |s| Some(s.requests as f64)),
            ),
            Line::new(
                "errors/s",
                RED,
                points(history, Combine::Mean, |s| Some(s.errors as f64)),
            ),
        ];
        charts.push(Chart {
            id: "throughput".into(),
            svg: charts::over_time(
                "Throughput and errors",
                "requests per second",
                seconds,
                &lines,
            ),
        });
    }
    let ops: Vec<Op> = Op::ALL
        .into_iter()
        .filter(|op| history.seconds.iter().any(|s| s.ops.contains_key(op)))
        .collect();
    let names = ["p50", "p90", "p99"];
    for (metric, label) in [
        (Metric::Latency, "Latency"),
        (Metric::Ttfs, "Time to first step"),
    ] {
        for op in &ops {
            let lines: Vec<Line> = names
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    let pick = |s: &SecondPoint| {
                        let point = s.ops.get(op)?;
                        let values = if metric == Metric::Latency {
                            point.latency
                        } else {
                            point.ttfs
                        };
                        values[index]
                    };
                    Line::new(*name, PALETTE[index], points(history, Combine::Max, pick))
                })
                .collect();
            if lines.iter().all(|l| l.points.is_empty()) {
                continue;
            }
            charts.push(Chart {
                id: format!(
                    "{}-{}",
                    metric.name().replace('_', "-"),
                    op.name().replace('_', "-")
                ),
                svg: charts::over_time(
                    &format!("{label} of {} over time", op.name()),
                    &format!("{} (ms)", metric_words(metric)),
                    seconds,
                    &lines,
                ),
            });
        }
    }
    let curves: Vec<Line> = ops
        .iter()
        .enumerate()
        .filter_map(|(index, op)| {
            let histogram = history.distributions.get(&(*op, Metric::Latency))?;
            Some(Line::new(
                op.name(),
                PALETTE[index % PALETTE.len()],
                percentile_points(histogram, 1000.0),
            ))
        })
        .collect();
    if !curves.is_empty() {
        charts.push(Chart {
            id: "latency-distribution".into(),
            svg: charts::percentile_curves(
                "Latency by percentile",
                "latency (ms, log scale)",
                &curves,
            ),
        });
    }
    for (metric, color) in [(Metric::Ttfs, PALETTE[4]), (Metric::InterStep, PALETTE[2])] {
        for op in &ops {
            let Some(histogram) = history.distributions.get(&(*op, metric)) else {
                continue;
            };
            charts.push(Chart {
                id: format!(
                    "{}-histogram-{}",
                    metric.name().replace('_', "-"),
                    op.name().replace('_', "-")
                ),
                svg: charts::frequency(
                    &format!(
                        "{} of {}: distribution ({} values)",
                        capitalised(metric_words(metric)),
                        op.name(),
                        histogram.len()
                    ),
                    &format!("{} (ms)", metric_words(metric)),
                    color,
                    &frequency_buckets(histogram, 1000.0),
                ),
            });
        }
    }
    if !history.seconds.is_empty() {
        let lines = [
            Line::new(
                "in flight",
                PALETTE[0],
                points(history, Combine::Max, |s| Some(s.in_flight as f64)),
            ),
            Line::new(
                "dropped/s",
                RED,
                points(history, Combine::Mean, |s| Some(s.dropped as f64)),
            ),
        ];
        charts.push(Chart {
            id: "in-flight".into(),
            svg: charts::over_time(
                "In flight and dropped arrivals",
                "in flight; dropped per second",
                seconds,
                &lines,
            ),
        });
    }
    charts.extend(variant_charts(data.summary));
    charts
}

/// Per op that two or more agents ran: their latency percentiles side by side.
fn variant_charts(summary: &Summary) -> Vec<Chart> {
    if summary.variants.len() < 2 {
        return Vec::new();
    }
    Op::ALL
        .into_iter()
        .filter_map(|op| {
            let groups: Vec<(String, Vec<f64>)> = summary
                .variants
                .iter()
                .filter_map(|(variant, ops)| {
                    let stats = ops.get(op.name())?.metrics.get("latency")?;
                    Some((variant.clone(), vec![stats.p50, stats.p90, stats.p99]))
                })
                .collect();
            (groups.len() >= 2).then(|| Chart {
                id: format!("variants-{}", op.name().replace('_', "-")),
                svg: charts::grouped_bars(
                    &format!("Latency of {} by agent", op.name()),
                    "latency (ms)",
                    &["p50", "p90", "p99"],
                    &groups,
                ),
            })
        })
        .collect()
}

fn metric_words(metric: Metric) -> &'static str {
    match metric {
        Metric::Ttfs => "time to first step",
        Metric::InterStep => "gap between steps",
        _ => "latency",
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// [`super::percent`], escaped for HTML.
fn percent(part: u64, whole: u64) -> String {
    escape(&super::percent(part, whole))
}

/// Text safe in HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::series::{OpSecond, SecondRecord};
    use crate::report::fixture::summary;
    use crate::report::history::History;

    fn history() -> History {
        let mut history = History::new(std::time::Duration::ZERO);
        for second in 0..5 {
            let mut record = SecondRecord::default();
            let mut op = OpSecond {
                requests: 10 + u64::from(second),
                errors: u64::from(second % 2),
                in_flight: 3,
                ..OpSecond::default()
            };
            for i in 0..20u64 {
                op.histograms.record(Metric::Latency, 100_000 + i * 5_000);
                op.histograms.record(Metric::Ttfs, 40_000 + i * 1_000);
                op.histograms.record(Metric::InterStep, 2_000 + i * 100);
            }
            record.ops.insert(Op::RunStream, op);
            history.add(second, &record);
        }
        history
    }

    #[test]
    fn the_page_is_self_contained_and_has_every_chart() {
        let mut summary = summary();
        // Both agents ran `get`: the comparison chart appears.
        let get = summary.variants["b"]["get"].clone();
        summary
            .variants
            .get_mut("a")
            .unwrap()
            .insert("get".into(), get);
        let history = history();
        let html = render(&RunData {
            summary: &summary,
            history: &history,
        });
        assert!(html.starts_with("<!DOCTYPE html>"));
        for forbidden in ["<script", "http://", "https://", "<link", "@import", "url("] {
            let outside_target = html
                .replace(&summary.target, "")
                .replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            assert!(
                !outside_target.contains(forbidden),
                "{forbidden} in the page"
            );
        }
        assert!(
            html.contains(
                "<p class=\"verdict failed\">failed: 1 of 1 threshold(s) did not hold</p>"
            )
        );
        assert!(html.contains("429 Too Many Requests: slow down (SC429)"));
        let ids: Vec<&str> = html
            .match_indices("<figure class=\"chart\" id=\"chart-")
            .map(|(at, m)| {
                let rest = &html[at + m.len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert_eq!(
            ids,
            [
                "throughput",
                "latency-run-stream",
                "ttfs-run-stream",
                "latency-distribution",
                "ttfs-histogram-run-stream",
                "inter-step-histogram-run-stream",
                "in-flight",
                "variants-get",
            ]
        );
        assert_eq!(html.matches("<svg").count(), ids.len());
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn long_runs_are_drawn_in_buckets() {
        let mut history = History::new(std::time::Duration::ZERO);
        for second in 0..2000 {
            let mut record = SecondRecord::default();
            record.ops.insert(
                Op::Get,
                OpSecond {
                    requests: 2,
                    ..OpSecond::default()
                },
            );
            history.add(second, &record);
        }
        let drawn = points(&history, Combine::Mean, |s| Some(s.requests as f64));
        assert_eq!(drawn.len(), 667);
        assert_eq!(drawn[1], (3.0, 2.0));
    }
}
