//! The checked `[variants]`: the matrix of models and system prompts the compared agents were
//! made from, and the metric variants are ranked by.

use crate::model::Metric;

/// What the plan knows about its variants beyond the fixtures themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variants {
    /// The matrix the scenario declared, if any; its agents are in `Plan::fixtures`.
    pub matrix: Option<Matrix>,
    /// The metric the comparison ranks by; `None`: ttfs for streams, latency otherwise.
    pub rank_by: Option<Metric>,
}

/// A matrix of models and system prompts: one agent per combination, models major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub models: Vec<String>,
    pub system_prompts: Vec<String>,
    /// The name pattern the agents were named by.
    pub pattern: String,
    /// The agents' names, models major: `names[m * system_prompts.len() + p]`.
    pub names: Vec<String>,
}

impl Matrix {
    /// The (model, prompt) indexes of the agent named `name`, if it is one of the matrix's.
    pub fn cell(&self, name: &str) -> Option<(usize, usize)> {
        let index = self.names.iter().position(|n| n == name)?;
        let prompts = self.system_prompts.len();
        Some((index / prompts, index % prompts))
    }
}
