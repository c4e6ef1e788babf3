//! The variants comparison as cells of text, shared by the terminal and Markdown summaries: one
//! table per ranked op (rank, tier, the key metric's p50 and p95 with their intervals, errors
//! with theirs, the other metrics side by side) and the line that says where the differences
//! are significant.

use crate::metrics::ci::Interval;
use crate::metrics::ranking::Ranking;
use crate::summary::Summary;

/// A comparison ready to lay out: a header and rows of cells.
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// "a ≈ b (p 0.41) < c (p <0.001, +149.0 ms)": each variant against the next.
    pub chain: String,
}

/// Metrics shown beside the key one (its p50), where any variant has them.
const BESIDE: [(&str, &str); 5] = [
    ("latency", "latency p50"),
    ("ttfs", "ttfs p50"),
    ("inter_step", "inter-step p50"),
    ("steps", "steps p50"),
    ("server_time", "server p50"),
];

/// The comparison tables, in the API's order of ops.
pub fn tables(summary: &Summary) -> Vec<Table> {
    crate::model::Op::ALL
        .into_iter()
        .filter_map(|op| {
            let ranking = summary.ranking.get(op.name())?;
            Some(table(summary, op.name(), ranking))
        })
        .collect()
}

fn table(summary: &Summary, op: &str, ranking: &Ranking) -> Table {
    let unit = unit(&ranking.metric);
    let metric = &ranking.metric;
    let figures = |variant: &str| summary.variants.get(variant).and_then(|ops| ops.get(op));
    let beside: Vec<(&str, &str)> = BESIDE
        .into_iter()
        .filter(|(name, _)| *name != metric)
        .filter(|(name, _)| {
            ranking
                .order
                .iter()
                .any(|r| figures(&r.variant).is_some_and(|f| f.metrics.contains_key(*name)))
        })
        .collect();
    let mut header: Vec<String> = [
        "rank".to_owned(),
        "tier".to_owned(),
        "agent".to_owned(),
        "requests".to_owned(),
        "errors [95% CI]".to_owned(),
        format!("{metric} p50 [95% CI]{unit}"),
        format!("{metric} p95 [95% CI]{unit}"),
    ]
    .into();
    header.extend(
        beside
            .iter()
            .map(|(name, label)| format!("{label}{}", unit_of(name))),
    );
    let rows = ranking
        .order
        .iter()
        .map(|r| {
            let mut row = vec![
                r.rank.to_string(),
                r.tier.to_string(),
                r.variant.clone(),
                r.requests.to_string(),
                format!(
                    "{} {}",
                    percent(r.error_rate),
                    r.error_rate_ci.map_or_else(
                        || "[-]".to_owned(),
                        |ci| format!("[{}, {}]", percent_bare(ci.lo()), percent_bare(ci.hi()))
                    )
                ),
                format!("{:.1} {}", r.p50, interval(r.p50_ci)),
                format!("{:.1} {}", r.p95, interval(r.p95_ci)),
            ];
            for (name, _) in &beside {
                row.push(
                    figures(&r.variant)
                        .and_then(|f| f.metrics.get(*name))
                        .map_or_else(|| "-".to_owned(), |s| format!("{:.1}", s.p50)),
                );
            }
            row
        })
        .collect();
    let mut title = format!(
        "`{op}` variants ranked by {metric} p50 (lower is better); tiers by Mann-Whitney U, Holm-corrected, α {}",
        ranking.alpha
    );
    if !ranking.unranked.is_empty() {
        title.push_str(&format!(
            "; no successful {metric} sample: {}",
            ranking.unranked.join(", ")
        ));
    }
    Table {
        title,
        header,
        rows,
        chain: chain(ranking),
    }
}

/// Each variant against the next in the order: `<` where the difference is significant after
/// Holm's correction, `≈` where it is not.
pub fn chain(ranking: &Ranking) -> String {
    let unit = unit(&ranking.metric)
        .trim_start_matches(" (")
        .trim_end_matches(')')
        .to_owned();
    let mut text = ranking.order[0].variant.clone();
    for pair in ranking.order.windows(2) {
        let Some(test) = ranking.pair(&pair[0].variant, &pair[1].variant) else {
            continue;
        };
        let sign = if test.significant { "<" } else { "≈" };
        let difference = if test.significant {
            format!(
                ", +{:.1}{}",
                pair[1].p50 - pair[0].p50,
                if unit.is_empty() {
                    String::new()
                } else {
                    format!(" {unit}")
                }
            )
        } else {
            String::new()
        };
        text.push_str(&format!(
            " {sign} {} (p {}{difference})",
            pair[1].variant,
            p_text(test.p_adjusted)
        ));
    }
    text
}

/// A p-value as people read them: `<0.001`, `0.012`, `0.41`.
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_owned()
    } else if p < 0.1 {
        format!("{p:.3}")
    } else {
        format!("{p:.2}")
    }
}

fn interval(ci: Option<Interval>) -> String {
    ci.map_or_else(
        || "[-]".to_owned(),
        |ci| format!("[{:.1}, {:.1}]", ci.lo(), ci.hi()),
    )
}

fn percent(fraction: f64) -> String {
    format!("{}%", percent_bare(fraction))
}

fn percent_bare(fraction: f64) -> String {
    format!("{:.1}", fraction * 100.0)
}

fn unit(metric: &str) -> &'static str {
    unit_of(metric)
}

fn unit_of(metric: &str) -> &'static str {
    if metric == "steps" { "" } else { " (ms)" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_read_as_people_write_them() {
        assert_eq!(p_text(1e-20), "<0.001");
        assert_eq!(p_text(0.0123), "0.012");
        assert_eq!(p_text(0.412), "0.41");
        assert_eq!(interval(None), "[-]");
        assert_eq!(interval(Some(Interval(1.0, 2.26))), "[1.0, 2.3]");
    }
}
