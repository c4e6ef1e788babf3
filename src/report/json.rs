//! `summary.json`: the summary exactly as the v1 schema (`schema/summary.v1.json`) describes it.

use super::Format;
use crate::store::names::{FileName, SUMMARY_JSON};
use crate::summary::Summary;

pub struct SummaryJson;

impl Format for SummaryJson {
    fn file_name(&self) -> FileName {
        SUMMARY_JSON
    }

    fn render(&self, summary: &Summary) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(summary).expect("the summary serializes");
        bytes.push(b'\n');
        bytes
    }
}
