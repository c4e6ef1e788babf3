//! `report.html` in a real browser: headless Chromium opens the page of a real run with no
//! console message, lays out every chart in its own box, and each box's screenshot shows
//! drawn series (coloured pixels), not just a white square or bare axes.
//!
//! Chromium is Debian's `chromium` package; `.ci/run` installs it. Without it this test fails
//! and says how to install it: a browser test that passes without a browser proves nothing.
//!
//! A test binary of its own (not a module of `tests/it`): Chromium takes both cores for
//! seconds, and cargo runs test binaries one after another, so it never runs beside the
//! timing-sensitive load tests.

#[allow(dead_code)]
#[path = "it/util.rs"]
mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::*;

/// Width of the browser window; the page lays out two charts per row at this width.
const WINDOW_WIDTH: u32 = 1600;

/// Coloured (series) pixels a chart must show at least: a line across the plot is ~1000, a legend alone under 500.
const MIN_INK: usize = 1000;

fn chromium() -> PathBuf {
    let candidates = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    if let Some(path) = std::env::var_os("AGENTLOAD_CHROMIUM") {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .flat_map(|dir| candidates.map(|name| dir.join(name)))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "headless Chromium is needed to test report.html and none was found on PATH \
             (tried {candidates:?}). Install it: `sudo apt-get install -y chromium` on Debian \
             (.ci/run does this), or point AGENTLOAD_CHROMIUM at a Chromium binary."
        )
    })
}

/// Runs headless Chromium on `page` with `args`; returns (stdout, stderr).
fn browse(profile: &Path, page: &Path, args: &[String]) -> (String, String) {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        // Files, not pipes: a page's DOM outgrows a pipe's buffer while nobody reads it.
        .stdout(std::fs::File::create(profile.with_extension("stdout")).unwrap())
        .stderr(std::fs::File::create(profile.with_extension("stderr")).unwrap())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium did not finish within 90 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let read = |extension| text(&std::fs::read(profile.with_extension(extension)).unwrap());
    (read("stdout"), read("stderr"))
}

/// Console messages in Chromium's log.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .collect()
}

#[derive(Debug)]
struct Region {
    id: String,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    svg: bool,
}

/// The charts' boxes, as the page lays them out at the test's window width: measured by a
/// copy of the page with a script added at its end (the report itself has none).
fn chart_regions(dir: &Path, page: &Path) -> Vec<Region> {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = html.replace(
        "</body>",
        "<script>document.title = JSON.stringify([...document.querySelectorAll('figure.chart')]\
         .map(f => { const r = f.getBoundingClientRect(); \
         return [f.id, r.x, r.y + window.scrollY, r.width, r.height, !!f.querySelector('svg')]; }));\
         </script></body>",
    );
    let probe_path = dir.join("probe.html");
    std::fs::write(&probe_path, probe).unwrap();
    let (dom, _) = browse(
        &dir.join("profile-probe"),
        &probe_path,
        &[
            format!("--window-size={WINDOW_WIDTH},1000"),
            "--dump-dom".to_owned(),
        ],
    );
    let start = dom.find("<title>").expect("a dumped DOM") + "<title>".len();
    let end = dom[start..].find("</title>").unwrap() + start;
    let json = dom[start..end].replace("&quot;", "\"");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json)
        .unwrap_or_else(|err| panic!("the probe's title is not JSON ({err}): {json}"));
    rows.iter()
        .map(|row| Region {
            id: row[0].as_str().unwrap().to_owned(),
            x: row[1].as_f64().unwrap().round() as u32,
            y: row[2].as_f64().unwrap().round() as u32,
            width: row[3].as_f64().unwrap().round() as u32,
            height: row[4].as_f64().unwrap().round() as u32,
            svg: row[5].as_bool().unwrap(),
        })
        .collect()
}

struct Image {
    width: u32,
    height: u32,
    /// RGB, row by row.
    rgb: Vec<u8>,
}

fn decode_png(path: &Path) -> Image {
    let bytes = std::fs::read(path).unwrap();
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let mut rgb = Vec::with_capacity((info.width * info.height * 3) as usize);
    for row in buffer.chunks(info.line_size).take(info.height as usize) {
        for pixel in row.chunks(channels).take(info.width as usize) {
            match channels {
                1 | 2 => rgb.extend([pixel[0]; 3]),
                _ => rgb.extend(&pixel[..3]),
            }
        }
    }
    Image {
        width: info.width,
        height: info.height,
        rgb,
    }
}

impl Image {
    /// Pixels of the region that are clearly coloured (series), not white, grey or black
    /// (background, grid, axes, text).
    fn ink(&self, region: &Region) -> usize {
        let mut ink = 0;
        for y in region.y..(region.y + region.height).min(self.height) {
            for x in region.x..(region.x + region.width).min(self.width) {
                let at = ((y * self.width + x) * 3) as usize;
                let [r, g, b] = [self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]];
                let spread = r.max(g).max(b) - r.min(g).min(b);
                if spread > 60 {
                    ink += 1;
                }
            }
        }
        ink
    }
}

#[test]
fn the_report_renders_in_chromium_with_every_chart_drawn() {
    let chromium = chromium();
    let dir = tempfile::tempdir().unwrap();

    // The console check must be able to fail: a page that logs is seen to log.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('agentload-control')</script></body></html>",
    )
    .unwrap();
    let (_, stderr) = browse(
        &dir.path().join("profile-control"),
        &control,
        &["--dump-dom".to_owned()],
    );
    assert!(
        console_lines(&stderr)
            .iter()
            .any(|l| l.contains("agentload-control")),
        "{} logs no console message with --enable-logging=stderr, so the check below would \
         prove nothing; its log:\n{stderr}",
        chromium.display()
    );

    let sim = Sim::start(fast_profile());
    let path = scenario(dir.path(), "s.toml", &smoke_like());
    let out = dir.path().join("out");
    assert_code(&sim.run(&path, &out, &[]), 0);
    let page = out.join("report.html");

    let regions = chart_regions(dir.path(), &page);
    let ids: Vec<&str> = regions.iter().map(|r| r.id.as_str()).collect();
    for expected in [
        "chart-throughput",
        "chart-latency-run-stream",
        "chart-latency-run",
        "chart-latency-get",
        "chart-latency-list",
        "chart-ttfs-run-stream",
        "chart-latency-distribution",
        "chart-ttfs-histogram-run-stream",
        "chart-inter-step-histogram-run-stream",
        "chart-in-flight",
        "chart-variants-run-stream",
    ] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    let bottom = regions.iter().map(|r| r.y + r.height).max().unwrap() + 40;

    let shot = dir.path().join("report.png");
    let (_, stderr) = browse(
        &dir.path().join("profile-shot"),
        &page,
        &[
            format!("--window-size={WINDOW_WIDTH},{bottom}"),
            format!("--screenshot={}", shot.display()),
        ],
    );
    let console = console_lines(&stderr);
    assert!(console.is_empty(), "console messages: {console:#?}");
    let image = decode_png(&shot);
    assert_eq!(image.width, WINDOW_WIDTH);
    assert!(image.height >= bottom - 40, "{} < {bottom}", image.height);

    for region in &regions {
        assert!(region.svg, "{} has no <svg>", region.id);
        assert_eq!(
            (region.width, region.height),
            (762, 332),
            "{}: a 760x330 chart and its border",
            region.id
        );
        let ink = image.ink(region);
        eprintln!("{}: {ink} coloured pixels", region.id);
        assert!(
            ink >= MIN_INK,
            "{} shows {ink} coloured pixels (at least {MIN_INK} expected): a blank chart",
            region.id
        );
    }
    // And the check can fail: a region of plain page (below the last chart) has no ink.
    let blank = Region {
        id: "below the charts".into(),
        x: 0,
        y: bottom - 30,
        width: WINDOW_WIDTH,
        height: 20,
        svg: false,
    };
    assert!(image.ink(&blank) < MIN_INK, "{}", image.ink(&blank));
}
