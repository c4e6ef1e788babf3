//! Reading `summary.json` back: JSON, of this version of the contract
//! (`agentload/summary/v1`), in the shape of a [`Summary`]. Writing it is the JSON format's
//! (`report::json`), through [`super::write`].

use std::path::Path;

use super::StoreError;
use super::error::Problem;
use crate::summary::{SCHEMA, Summary};

/// The summary at `path`, checked.
pub fn read(path: &Path) -> Result<Summary, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|err| StoreError::read(path, err))?;
    let fail = |problem| StoreError::invalid(path, problem);
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|err| fail(Problem::NotJson(err)))?;
    let schema = value.get("schema").and_then(serde_json::Value::as_str);
    if schema != Some(SCHEMA) {
        return Err(fail(Problem::Schema {
            found: schema.map(str::to_owned),
            expected: SCHEMA,
        }));
    }
    serde_json::from_value(value).map_err(|err| fail(Problem::NotASummary(err)))
}
