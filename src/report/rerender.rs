//! `agentload report DIR`: every file of the report folder rendered again from the stored data
//! alone (`summary.json`, `timeseries.csv`, `histograms.hlog`), through the same writers a run
//! uses, so the numbers are the run's own.

use std::path::{Path, PathBuf};

use super::history::{History, RunData};
use super::stored::{SUMMARY_FILE, StoredRun};
use super::{formats, hlog, html, log_comment, timeseries, write_atomically};
use crate::metrics::series::SeriesSink;

/// Renders `run` into `out`. When `out` is the run's own folder, the three stored files are
/// left as they are and only the derived ones (`summary.md`, `report.html`) are written.
pub fn rerender(run: &StoredRun, out: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let in_place = same_folder(&run.dir, out);
    let mut written = Vec::new();
    for format in formats() {
        if in_place && format.file_name() == SUMMARY_FILE {
            continue;
        }
        let path = out.join(format.file_name());
        write_atomically(&path, &format.render(&run.summary))?;
        written.push(path);
    }

    let warmup = run.warmup();
    let mut history = History::new(warmup);
    let mut sinks: Vec<Box<dyn SeriesSink>> = Vec::new();
    if !in_place {
        let mut series = timeseries::TimeseriesCsv::create(out, warmup)?;
        if let Some(start) = run.series_start() {
            series.begin(start)?;
        }
        let about = log_comment(&run.summary.run_id, &run.summary.scenario);
        let mut log = hlog::HistogramLog::create(out, &about)?;
        if let Some(start) = run.log_start {
            log.begin(start)?;
        }
        sinks.push(Box::new(series));
        sinks.push(Box::new(log));
        written.push(out.join(timeseries::FILE_NAME));
        written.push(out.join(hlog::FILE_NAME));
    }
    for (second, record) in run.seconds() {
        history.add(second, &record);
        for sink in &mut sinks {
            sink.second(second, &record)?;
        }
    }
    for sink in &mut sinks {
        sink.finish()?;
    }
    let data = RunData {
        summary: &run.summary,
        history: &history,
    };
    written.push(html::write(out, &data)?);
    Ok(written)
}

/// Writes `report.html` of a stored run into its own folder, leaving every other file as it
/// is: what `agentload merge` uses once the merged folder's stored files are written.
pub fn html_only(run: &StoredRun) -> std::io::Result<PathBuf> {
    let mut history = History::new(run.warmup());
    for (second, record) in run.seconds() {
        history.add(second, &record);
    }
    let data = RunData {
        summary: &run.summary,
        history: &history,
    };
    html::write(&run.dir, &data)
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
