//! Turns a parsed scenario file into a checked [`Plan`]: every rule a file can break that serde
//! cannot see (ranges, cross references, bodies), each reported at its position. One file per
//! section of the file, each turning its raw table into plan types; this one runs them in order.

mod agents;
mod body;
mod callback;
mod load;
mod mix;
mod simulator;
mod slo;
mod target;
mod thresholds;
mod variants;

use toml::Spanned;

pub(super) use body::check_body;
pub use body::{default_run_body, toml_table_to_json};
pub use target::normalize_base_url;
pub(super) use thresholds::unmeasurable;

use super::diag::{Diagnostic, Source};
use super::plan::{AgentTemplate, Plan, Variants};
use super::raw::RawScenario;
use agents::check_agents;
use callback::check_callback;
use load::check_load;
use mix::check_mix;
use simulator::check_simulator;
use slo::check_slo;
use target::check_target;
use thresholds::check_thresholds;
use variants::check_variants;

pub fn check(
    raw: RawScenario,
    source: &Source<'_>,
    origin: &str,
    default_name: &str,
) -> Result<Plan, Diagnostic> {
    let name = match &raw.name {
        Some(name) if name.get_ref().trim().is_empty() => {
            return Err(source.at_value(
                name,
                "the scenario name is empty",
                "give it a short name, e.g. name = \"smoke\"",
            ));
        }
        Some(name) => name.get_ref().trim().to_owned(),
        None => default_name.to_owned(),
    };
    let target = check_target(&raw.target, source)?;
    let mut fixtures = check_agents(&raw.agents, source)?;
    let template = AgentTemplate::default();
    let variants = match &raw.variants {
        Some(table) => {
            let (variants, matrix) = check_variants(table, &fixtures, &template, source)?;
            fixtures.extend(matrix);
            variants
        }
        None => Variants::default(),
    };
    let load = check_load(&raw.load, source)?;
    let mix = check_mix(&raw.mix, &fixtures, source)?;
    let thresholds = check_thresholds(&raw.thresholds, &fixtures, &mix, source)?;
    let objectives = check_slo(&raw.slo, &mix, source)?;
    let simulator = check_simulator(raw.simulator.as_ref(), source)?;
    let callback = check_callback(raw.callback.as_ref(), &mix, source)?;
    Ok(Plan {
        name,
        description: raw.description.clone(),
        origin: origin.to_owned(),
        seed: raw.seed.unwrap_or(1),
        target,
        fixtures,
        load,
        mix,
        thresholds,
        objectives,
        simulator,
        template,
        callback,
        variants,
    })
}

fn positive(
    value: &Spanned<i64>,
    source: &Source<'_>,
    what: &str,
    example: &str,
) -> Result<u64, Diagnostic> {
    u64::try_from(*value.get_ref())
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            source.at_value(
                value,
                format!("{what} must be a whole number of 1 or more"),
                format!("e.g. {example}"),
            )
        })
}
