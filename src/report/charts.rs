//! The charts of `report.html`, drawn with plotters' SVG backend into strings: lines over time,
//! HdrHistogram percentile-distribution curves on a log axis, frequency histograms and grouped
//! bars. Text stays `<text>` elements, so no font file is needed to draw or to view them.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Every chart's size in pixels; the page gives each a box of exactly this size.
pub const WIDTH: u32 = 760;
pub const HEIGHT: u32 = 330;

/// Colours for series, in order (saturated, so a test can tell them from axes and grid).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];

/// Red, for errors and drops.
pub const RED: RGBColor = PALETTE[3];

const FONT: &str = "sans-serif";

/// One named series of points.
pub struct Line {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

impl Line {
    pub fn new(name: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            color,
            points,
        }
    }
}

/// A chart plotters could not draw, with its reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct ChartError(String);

type Result<T> = std::result::Result<T, ChartError>;

fn failed(err: impl std::fmt::Display) -> ChartError {
    ChartError(err.to_string())
}

/// Draws into an SVG string of the standard size.
fn svg(draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>) -> Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        draw(&root)?;
        root.present().map_err(failed)?;
    }
    Ok(text)
}

/// The top of a y axis holding `values`: headroom for the legend above the data, never empty.
fn y_top<'a>(values: impl Iterator<Item = &'a f64>) -> f64 {
    let max = values.copied().fold(0.0_f64, f64::max);
    if max > 0.0 { max * 1.3 } else { 1.0 }
}

/// Compact axis numbers: `1500` → `1.5k`, `0.25` → `0.25`.
pub fn axis_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 10_000.0 {
        format!("{}k", trim(value / 1000.0, 1))
    } else if magnitude >= 100.0 || value == value.round() {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        trim(value, 1)
    } else {
        trim(value, 3)
    }
}

fn trim(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Lines over the seconds of the run.
pub fn over_time(title: &str, y_desc: &str, seconds: f64, lines: &[Line]) -> Result<String> {
    let x_desc = "time since the start of the load (s)";
    xy(title, x_desc, y_desc, (0.0, seconds.max(1.0)), lines, false)
}

/// Lines over any x axis from `x.0` to `x.1`, each point marked (for a few points, such as the
/// steps of a sweep).
pub fn marked_lines(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    x: (f64, f64),
    lines: &[Line],
) -> Result<String> {
    xy(title, x_desc, y_desc, x, lines, true)
}

fn xy(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    x: (f64, f64),
    lines: &[Line],
    markers: bool,
) -> Result<String> {
    let top = y_top(lines.iter().flat_map(|l| l.points.iter().map(|(_, y)| y)));
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(x.0..x.1, 0.0..top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&|x| axis_number(*x))
            .y_label_formatter(&|y| axis_number(*y))
            .light_line_style(RGBColor(238, 238, 238))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(failed)?;
        if markers {
            for line in lines {
                let color = line.color;
                chart
                    .draw_series(
                        line.points
                            .iter()
                            .map(|&point| Circle::new(point, 4, color.filled())),
                    )
                    .map_err(failed)?;
            }
        }
        draw_lines(&mut chart, lines, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

fn draw_lines<'a, 'b: 'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>,
    lines: &[Line],
    legend: SeriesLabelPosition,
) -> Result<()> {
    for line in lines {
        let color = line.color;
        chart
            .draw_series(LineSeries::new(
                line.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(failed)?
            .label(line.name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font((FONT, 15))
        .draw()
        .map_err(failed)
}

/// A percentile on the log axis `x = log10(1 / (1 - p))`: 0 → 0%, 1 → 90%, 2 → 99%, ...
pub fn percentile_label(x: f64) -> String {
    let percent = 100.0 * (1.0 - 10f64.powf(-x));
    let decimals = if x <= 1.0 { 0 } else { x.ceil() as usize - 1 };
    format!("{}%", trim(percent, decimals.min(6)))
}

/// The classic HdrHistogram plot: value (y) by percentile (x, on a 1/(1-p) log scale), one
/// curve per line, whose points are `(log10(1/(1-p)), value)`.
pub fn percentile_curves(title: &str, y_desc: &str, lines: &[Line]) -> Result<String> {
    // Ops far apart (1 ms lists, 1 s streams) share the chart: values on a log scale too.
    let values = || lines.iter().flat_map(|l| l.points.iter().map(|(_, y)| *y));
    let top = values().fold(0.0_f64, f64::max).max(0.01) * 1.5;
    let bottom = values().filter(|y| *y > 0.0).fold(top / 1.5, f64::min) / 1.5;
    // A zero has no place on a log scale: drawn at the bottom.
    let lines: Vec<Line> = lines
        .iter()
        .map(|l| {
            let points = l.points.iter().map(|(x, y)| (*x, y.max(bottom))).collect();
            Line::new(l.name.clone(), l.color, points)
        })
        .collect();
    let right = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(x, _)| *x))
        .fold(2.0_f64, f64::max)
        .ceil();
    // An empty strip to the right of the last percentile holds the legend.
    let edge = right * 1.3;
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..edge, (bottom..top).log_scale())
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc("percentile (log scale of 1/(1-p))")
            .y_desc(y_desc)
            .x_labels(right as usize + 1)
            .x_label_formatter(&|x| {
                if *x <= right {
                    percentile_label(*x)
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| axis_number(*y))
            .light_line_style(RGBColor(238, 238, 238))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(failed)?;
        // Fast ops sit low on the right: the legend goes there, clear of the slow ones.
        draw_lines(&mut chart, &lines, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
}

/// A frequency histogram: `(bucket start, bucket end, count)` bars.
pub fn frequency(
    title: &str,
    x_desc: &str,
    color: RGBColor,
    buckets: &[(f64, f64, u64)],
) -> Result<String> {
    let right = buckets.last().map_or(1.0, |b| b.1).max(f64::MIN_POSITIVE);
    let counts: Vec<f64> = buckets.iter().map(|b| b.2 as f64).collect();
    let top = y_top(counts.iter());
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..right, 0.0..top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("count")
            .x_label_formatter(&|x| axis_number(*x))
            .y_label_formatter(&|y| axis_number(*y))
            .light_line_style(RGBColor(238, 238, 238))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(failed)?;
        chart
            .draw_series(buckets.iter().map(|(lo, hi, n)| {
                Rectangle::new([(*lo, 0.0), (*hi, *n as f64)], color.mix(0.85).filled())
            }))
            .map_err(failed)?;
        Ok(())
    })
}

/// Groups of bars side by side: one group per label, one bar per series name.
pub fn grouped_bars(
    title: &str,
    y_desc: &str,
    series: &[&str],
    groups: &[(String, Vec<f64>)],
) -> Result<String> {
    let top = y_top(groups.iter().flat_map(|(_, values)| values.iter()));
    let count = groups.len().max(1);
    let width = 0.8 / series.len().max(1) as f64;
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..count as f64 - 0.5, 0.0..top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(count)
            .x_label_formatter(&|x| {
                let index = x.round();
                if (x - index).abs() < 0.05 && index >= 0.0 {
                    groups
                        .get(index as usize)
                        .map_or_else(String::new, |(label, _)| label.clone())
                } else {
                    String::new()
                }
            })
            .y_desc(y_desc)
            .y_label_formatter(&|y| axis_number(*y))
            .light_line_style(RGBColor(238, 238, 238))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(failed)?;
        for (index, name) in series.iter().enumerate() {
            let color = PALETTE[index % PALETTE.len()];
            let bars = groups
                .iter()
                .enumerate()
                .filter_map(move |(group, (_, values))| {
                    let value = *values.get(index)?;
                    let left = group as f64 - 0.4 + width * index as f64;
                    Some(Rectangle::new(
                        [(left, 0.0), (left + width * 0.9, value)],
                        color.filled(),
                    ))
                });
            chart
                .draw_series(bars)
                .map_err(failed)?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT, 15))
            .draw()
            .map_err(failed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels_read_as_percentiles() {
        assert_eq!(percentile_label(0.0), "0%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(3.0), "99.9%");
        assert_eq!(percentile_label(4.0), "99.99%");
        assert_eq!(axis_number(12_500.0), "12.5k");
        assert_eq!(axis_number(0.25), "0.25");
        assert_eq!(axis_number(3.0), "3");
    }

    #[test]
    fn a_chart_is_an_svg_with_its_labels_as_text() {
        let line = Line::new("p99", PALETTE[0], vec![(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)]);
        let svg = over_time("Latency", "latency (ms)", 3.0, &[line]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains(">\nLatency\n</text>"), "{svg}");
        assert!(svg.contains(">\nlatency (ms)\n</text>"), "{svg}");
        assert!(svg.contains(">\np99\n</text>"), "{svg}");
        assert!(svg.contains("<polyline"), "{svg}");
        assert!(svg.contains("stroke=\"#1F77B4\""), "{svg}");
    }
}
