//! Outputs of a run: one module per format, each rendering the same [`Summary`] into bytes,
//! written into the report folder through the store ([`crate::store`]).

pub mod baseline;
pub mod charts;
pub mod comparison;
#[cfg(test)]
mod fixture;
pub mod history;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod prometheus;
pub mod rerender;
pub mod terminal;

use std::path::{Path, PathBuf};

use crate::model::Op;
use crate::store::StoreError;
use crate::store::names::FileName;
use crate::summary::OpSummary;
use crate::summary::Summary;

/// A file format written into the report folder.
pub trait Format {
    /// The file's name inside the folder.
    fn file_name(&self) -> FileName;
    /// The file's contents.
    fn render(&self, summary: &Summary) -> Vec<u8>;
}

/// Every file format, in the order they are written.
pub fn formats() -> Vec<Box<dyn Format>> {
    vec![
        Box::new(json::SummaryJson),
        Box::new(markdown::SummaryMarkdown),
        Box::new(junit::JunitXml),
    ]
}

/// The summary's ops in the API's order (list, get, create, patch, delete, run, run_stream).
pub(crate) fn ordered_ops(summary: &Summary) -> impl Iterator<Item = (&'static str, &OpSummary)> {
    Op::ALL
        .into_iter()
        .filter_map(|op| summary.ops.get(op.name()).map(|s| (op.name(), s)))
}

/// `part` of `whole` as a percentage with one decimal; `<0.1%` for a small non-zero share.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".to_owned();
    }
    let value = 100.0 * part as f64 / whole as f64;
    if value > 0.0 && value < 0.1 {
        "<0.1%".to_owned()
    } else {
        format!("{value:.1}%")
    }
}

/// Writes every format into `dir`, returning the paths written.
pub fn write_all(dir: &Path, summary: &Summary) -> Result<Vec<PathBuf>, StoreError> {
    formats()
        .iter()
        .map(|format| crate::store::write(dir, format.file_name(), &format.render(summary)))
        .collect()
}
