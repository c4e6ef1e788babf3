//! `agentload sweep`: its flags, checked into the `SweepConfig` that `sweep::run` steps through.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::flags::{duration_flag, percent_flag, rate_flag, slo_flag};
use super::{Exit, invalid};
use crate::metrics::slo::Objective;
use crate::model::units::{Rate, parse_duration};
use crate::scenario::{Diagnostic, Overrides};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("rates_or_search").required(true).args(["rates", "search"])))]
pub struct SweepArgs {
    /// The scenario file (TOML); its load shape is replaced by each step's rate.
    pub scenario: PathBuf,
    /// The rates to run, comma-separated, e.g. 1/s,2/s,5/s,10/s (each once, lowest first).
    #[arg(long, value_name = "R,...", value_delimiter = ',', value_parser = rate_flag)]
    pub rates: Vec<Rate>,
    /// Search for the highest rate that passes: double from --min until a step fails, then
    /// bisect to --precision.
    #[arg(long)]
    pub search: bool,
    /// The search's first rate (default 1/s).
    #[arg(long, value_name = "R", value_parser = rate_flag)]
    pub min: Option<Rate>,
    /// The search's highest rate (default 1000/s).
    #[arg(long, value_name = "R", value_parser = rate_flag)]
    pub max: Option<Rate>,
    /// Stop searching when the highest pass and the lowest failure are this close, as a
    /// percentage of the pass (default 10%).
    #[arg(long, value_name = "PCT", value_parser = percent_flag)]
    pub precision: Option<f64>,
    /// The measured part of each step.
    #[arg(long, value_name = "D", default_value = "30s", value_parser = duration_flag)]
    pub step_duration: Duration,
    /// Load before each step's measured part, left out of it (default: the scenario's
    /// load.warmup, else 5s).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub warmup: Option<Duration>,
    /// Idle time between steps, e.g. to let a per-minute rate limit window or an autoscaler
    /// settle.
    #[arg(long, value_name = "D", default_value = "0s", value_parser = parse_duration)]
    pub pause: Duration,
    /// A service-level objective (repeatable; replaces the file's [slo]), e.g. --slo 'ttfs<=2s'.
    #[arg(long = "slo", value_name = "EXPR", value_parser = slo_flag)]
    pub slos: Vec<Objective>,
    /// SLO attainment (good / requests) a step needs to pass.
    #[arg(long, value_name = "PCT", default_value = "95%", value_parser = percent_flag)]
    pub goodput_target: f64,
    /// Sweep folder (default reports/<UTC timestamp>-<scenario>-sweep/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Base URL of the API (overrides target.base_url); without one, the embedded simulator.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Environment variable holding the API token (default MAKE_API_TOKEN).
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Team id sent as teamId on every call (overrides target.team_id).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub team_id: Option<u64>,
    /// Make connection used by the agents the sweep creates (overrides target.make_connection_id).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub make_connection_id: Option<u64>,
    /// Worker threads generating load (default as for run).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines; the table and errors are still printed.
    #[arg(long, short)]
    pub quiet: bool,
}

impl SweepArgs {
    /// The checked sweep these flags describe.
    pub fn config(&self) -> Result<crate::sweep::SweepConfig, Diagnostic> {
        use crate::sweep::{self, Rates};
        // clap counts a flag's default as present, so `requires = "search"` cannot say this.
        for (flag, given) in [
            ("--min", self.min.is_some()),
            ("--max", self.max.is_some()),
            ("--precision", self.precision.is_some()),
        ] {
            if given && !self.search {
                return Err(Diagnostic::flag(
                    flag,
                    format!("{flag} shapes a search, and --rates gives the rates"),
                    "add --search (and drop --rates), or drop the flag",
                ));
            }
        }
        let rates = if self.search {
            let min = self.min.map_or(sweep::DEFAULT_MIN, Rate::as_per_second);
            let max = self.max.map_or(sweep::DEFAULT_MAX, Rate::as_per_second);
            if max < min {
                return Err(Diagnostic::flag(
                    "--max",
                    format!("--max {max}/s is below --min {min}/s"),
                    "give a --max above --min, e.g. --min 1/s --max 500/s",
                ));
            }
            let precision = self.precision.unwrap_or(sweep::DEFAULT_PRECISION);
            if precision <= 0.0 {
                return Err(Diagnostic::flag(
                    "--precision",
                    "the precision must be above 0%",
                    "e.g. --precision 10%",
                ));
            }
            Rates::Search {
                min,
                max,
                precision,
            }
        } else {
            let mut rates: Vec<f64> = self.rates.iter().map(|r| r.as_per_second()).collect();
            rates.sort_by(f64::total_cmp);
            rates.dedup();
            Rates::Given(rates)
        };
        Ok(sweep::SweepConfig {
            scenario: self.scenario.clone(),
            rates,
            step: self.step_duration,
            warmup: self.warmup,
            pause: self.pause,
            goodput_target: self.goodput_target,
            out: self.out.clone(),
            overrides: Overrides {
                target: self.target.clone(),
                token_env: self.token_env.clone(),
                team_id: self.team_id,
                make_connection_id: self.make_connection_id,
                objectives: self.slos.clone(),
                ..Overrides::default()
            },
            threads: self.threads.map(usize::from),
            quiet: self.quiet,
        })
    }
}

/// `agentload sweep`
pub fn sweep(args: &SweepArgs) -> Exit {
    match args.config() {
        Ok(config) => crate::sweep::run(&config),
        Err(diagnostic) => invalid(diagnostic),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use crate::cli::{Cli, Command};
    use crate::sweep::{Rates, SweepConfig};

    // String: clap's and the config's errors side by side, as the text the tests look into.
    fn config(args: &[&str]) -> Result<SweepConfig, String> {
        let mut all = vec!["agentload", "sweep", "s.toml"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all).map_err(|e| e.to_string())?;
        let Command::Sweep(args) = cli.command else {
            panic!("sweep")
        };
        args.config().map_err(|d| d.to_string())
    }

    #[test]
    fn flags_make_the_sweep() {
        let c = config(&["--rates", "10/s,2/s,600/min,5/s", "--slo", "ttfs<=1s"]).unwrap();
        assert_eq!(
            c.rates,
            Rates::Given(vec![2.0, 5.0, 10.0]),
            "sorted, once each"
        );
        assert_eq!(c.step, Duration::from_secs(30));
        assert_eq!(c.goodput_target, 0.95);
        assert_eq!(c.overrides.objectives.len(), 1);
        let c = config(&["--search", "--max", "50/s", "--precision", "5%"]).unwrap();
        assert_eq!(
            c.rates,
            Rates::Search {
                min: 1.0,
                max: 50.0,
                precision: 0.05
            }
        );
        let c = config(&["--search", "--goodput-target", "0.99", "--warmup", "0s"]).unwrap();
        assert_eq!(c.goodput_target, 0.99);
        assert_eq!(c.warmup, Some(Duration::ZERO));
    }

    #[test]
    fn bad_flags_are_refused() {
        for (args, expect) in [
            (vec![], "--rates"),
            (vec!["--rates", "1/s", "--search"], "cannot be used with"),
            (vec!["--rates", "1/s", "--min", "1/s"], "--search"),
            (vec!["--search", "--goodput-target", "150%"], "outside"),
            (vec!["--search", "--precision", "0%"], "above 0%"),
            (
                vec!["--search", "--min", "10/s", "--max", "5/s"],
                "below --min",
            ),
            (vec!["--rates", "5"], "unit"),
            (
                vec!["--search", "--step-duration", "0s"],
                "longer than zero",
            ),
        ] {
            let err = config(&args).unwrap_err();
            assert!(err.contains(expect), "{args:?}: {err}");
        }
    }
}
