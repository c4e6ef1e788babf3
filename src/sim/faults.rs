//! The faults the simulator can inject on demand, and how each is written: the same text in a
//! scenario's `[simulator.faults]` and in `agentload mock` flags (`"5%"`, `"429=5%"`,
//! `"2@10%"`, `"5s@10%"`, `"60/min"`), parsed here once so both read alike and fail alike.
//!
//! Faults come in two kinds. Request faults (`RequestFaults`: error statuses and the rate limit)
//! are decided for every request before its handler runs, so they are the simulator's, not a
//! model's. Run faults (`RunFaults`: cut streams, stalls, malformed events, a wrong content type,
//! dropped callbacks) belong to a model's profile, so one model can misbehave alone.

use std::fmt;
use std::time::Duration;

use rand::{Rng, RngExt};

use crate::model::Op;
use crate::model::units::{Spread, UnitError};

/// Why a fault as written (`"5%"`, `"429=5%"`, `"2@10%"`, `"5s@10%"`, `"60/min"`, an endpoint
/// list) or a set of status faults was refused; each message says how to write it instead.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FaultSpecError {
    #[error("invalid probability {text:?}; {CHANCE_HELP}")]
    InvalidChance { text: String },
    #[error("invalid probability {text:?}: it must be between 0% and 100%; {CHANCE_HELP}")]
    ChanceOutOfRange { text: String },
    #[error("probability {text:?} is below the smallest supported, 0.0001%")]
    ChanceTooSmall { text: String },
    #[error("invalid status fault {text:?}: write CODE=PROBABILITY, e.g. 429=5% or 503=1%")]
    StatusFaultSyntax { text: String },
    #[error("{text:?} is not an error status; use a 4xx or 5xx code such as 429, 500 or 503")]
    NotAnErrorStatus { text: String },
    #[error("status {status} is given twice; give each status one probability")]
    StatusTwice { status: u16 },
    #[error(
        "the status probabilities add up to {}%, more than 100%; a request gets one status at most, so lower them",
        *.total_ppm as f64 / 10_000.0
    )]
    StatusesAboveCertainty { total_ppm: u64 },
    #[error("{name:?} is not an endpoint; choose among {}", op_names())]
    UnknownEndpoint { name: String },
    #[error("no endpoint is named; name at least one, e.g. run_stream")]
    NoEndpoint,
    #[error(
        "invalid rate limit {text:?}: the limit is per minute, as the API's plans are; {RATE_LIMIT_HELP}"
    )]
    RateLimitNotPerMinute { text: String },
    #[error("invalid rate limit {text:?}: {RATE_LIMIT_HELP}")]
    InvalidRateLimit { text: String },
    #[error("{0}; a cut is written STEPS[@PROBABILITY], e.g. \"2@10%\"")]
    CutSteps(UnitError),
    #[error("{0}; a stall is written DURATION[@PROBABILITY], e.g. \"5s@10%\"")]
    StallDuration(UnitError),
}

const CHANCE_HELP: &str = "write a percentage such as \"5%\" or a fraction such as \"0.05\"";
const RATE_LIMIT_HELP: &str =
    "write requests per minute, e.g. \"60/min\" (the plans have 60, 120, 240 and 1000)";

/// The endpoints' names, for messages.
fn op_names() -> String {
    let known: Vec<&str> = Op::ALL.iter().map(|op| op.name()).collect();
    known.join(", ")
}

/// A probability, kept exactly as parts per million so that `100%` always and `0%` never fire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chance(u32);

/// Parts per million in a certainty.
const PPM: u32 = 1_000_000;

impl Chance {
    pub const NEVER: Chance = Chance(0);
    pub const ALWAYS: Chance = Chance(PPM);

    /// A chance of `ppm` in a million; `None` above a million.
    pub fn from_ppm(ppm: u32) -> Option<Chance> {
        (ppm <= PPM).then_some(Chance(ppm))
    }

    pub fn ppm(self) -> u32 {
        self.0
    }

    pub fn is_never(self) -> bool {
        self.0 == 0
    }

    /// Parses a percentage (`"5%"`, `"0.5%"`, `"100%"`) or a fraction (`"0.05"`, `"1"`).
    pub fn parse(text: &str) -> Result<Chance, FaultSpecError> {
        let text = text.trim();
        let (number, scale) = match text.strip_suffix('%') {
            Some(number) => (number.trim(), 10_000.0),
            None => (text, f64::from(PPM)),
        };
        let value: f64 = number.parse().map_err(|_| FaultSpecError::InvalidChance {
            text: text.to_owned(),
        })?;
        let ppm = value * scale;
        if !ppm.is_finite() || ppm < 0.0 || ppm > f64::from(PPM) + 1e-6 {
            return Err(FaultSpecError::ChanceOutOfRange {
                text: text.to_owned(),
            });
        }
        let rounded = ppm.round() as u32;
        if rounded == 0 && ppm > 0.0 {
            return Err(FaultSpecError::ChanceTooSmall {
                text: text.to_owned(),
            });
        }
        Ok(Chance(rounded.min(PPM)))
    }

    /// One decision: true with this probability. Always takes exactly one value from `rng`,
    /// whatever the chance, so the decisions drawn after it do not depend on it.
    pub fn draw(self, rng: &mut impl Rng) -> bool {
        rng.random_range(0..PPM) < self.0
    }
}

impl fmt::Display for Chance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = f64::from(self.0) / 10_000.0;
        write!(f, "{percent}%")
    }
}

/// An error status answered instead of the real response, with its own probability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusFault {
    /// A 4xx or 5xx status.
    pub status: u16,
    pub chance: Chance,
}

impl StatusFault {
    /// Parses `CODE=P`, e.g. `429=5%` or `503=0.01`.
    pub fn parse(text: &str) -> Result<StatusFault, FaultSpecError> {
        let (code, chance) =
            text.split_once('=')
                .ok_or_else(|| FaultSpecError::StatusFaultSyntax {
                    text: text.to_owned(),
                })?;
        Ok(StatusFault {
            status: parse_status(code)?,
            chance: Chance::parse(chance)?,
        })
    }
}

/// Parses an error status: a whole number from 400 to 599.
pub fn parse_status(text: &str) -> Result<u16, FaultSpecError> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|code| (400..=599).contains(code))
        .ok_or_else(|| FaultSpecError::NotAnErrorStatus {
            text: text.trim().to_owned(),
        })
}

/// Checks a set of status faults: each status once, and their chances adding up to 100% at
/// most (a request gets one status or none). Returns them ordered by status, the order in
/// which a request's one draw is matched against them.
pub fn check_statuses(mut faults: Vec<StatusFault>) -> Result<Vec<StatusFault>, FaultSpecError> {
    faults.sort_by_key(|fault| fault.status);
    if let Some(pair) = faults
        .windows(2)
        .find(|pair| pair[0].status == pair[1].status)
    {
        return Err(FaultSpecError::StatusTwice {
            status: pair[0].status,
        });
    }
    let total: u64 = faults.iter().map(|f| u64::from(f.chance.ppm())).sum();
    if total > u64::from(PPM) {
        return Err(FaultSpecError::StatusesAboveCertainty { total_ppm: total });
    }
    Ok(faults)
}

/// The endpoints request faults apply to, as a set of [`Op`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoints(u8);

impl Endpoints {
    pub const ALL: Endpoints = Endpoints((1 << Op::ALL.len()) - 1);

    pub fn contains(self, op: Op) -> bool {
        self.0 & (1 << op.index()) != 0
    }

    /// The set of the named endpoints; the error names the first unknown one.
    pub fn from_names<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Endpoints, FaultSpecError> {
        let mut set = 0u8;
        for name in names {
            let op = Op::from_name(name.trim()).ok_or_else(|| FaultSpecError::UnknownEndpoint {
                name: name.trim().to_owned(),
            })?;
            set |= 1 << op.index();
        }
        if set == 0 {
            return Err(FaultSpecError::NoEndpoint);
        }
        Ok(Endpoints(set))
    }

    /// Parses a comma-separated list, e.g. `run,run_stream`.
    pub fn parse(text: &str) -> Result<Endpoints, FaultSpecError> {
        Endpoints::from_names(text.split(',').filter(|name| !name.trim().is_empty()))
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints::ALL
    }
}

impl fmt::Display for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Op::ALL
            .into_iter()
            .filter(|op| self.contains(*op))
            .map(Op::name)
            .collect();
        f.write_str(&names.join(","))
    }
}

/// A limit on requests per organization per minute, as the API's plans have (60, 120, 240,
/// 1000 and more).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
}

impl RateLimit {
    /// Parses `60` or `60/min` (also `/m`, `/minute`); a whole number of 1 or more.
    pub fn parse(text: &str) -> Result<RateLimit, FaultSpecError> {
        let text = text.trim();
        let number = match text
            .split_once('/')
            .map(|(n, unit)| (n.trim(), unit.trim()))
        {
            None => text,
            Some((number, "min" | "m" | "minute")) => number,
            Some(_) => {
                return Err(FaultSpecError::RateLimitNotPerMinute {
                    text: text.to_owned(),
                });
            }
        };
        number
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(|per_minute| RateLimit { per_minute })
            .ok_or_else(|| FaultSpecError::InvalidRateLimit {
                text: text.to_owned(),
            })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/min", self.per_minute)
    }
}

/// Streams closed mid-way: after `after` steps, with probability `chance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Steps sent before the connection is closed (0: right after the headers).
    pub after: Spread<u32>,
    pub chance: Chance,
}

impl Cut {
    /// Parses `N[@P]` or `A..B[@P]`, e.g. `2@10%`; without `@P` every stream is cut.
    pub fn parse(text: &str) -> Result<Cut, FaultSpecError> {
        let (after, chance) = split_at_chance(text)?;
        let after = Spread::parse_count(after).map_err(FaultSpecError::CutSteps)?;
        Ok(Cut { after, chance })
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.after, self.chance)
    }
}

/// Extra waiting, `duration` long, with probability `chance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    pub duration: Spread<Duration>,
    pub chance: Chance,
}

impl Stall {
    /// Parses `D[@P]` or `A..B[@P]`, e.g. `5s@10%`; without `@P` it always happens.
    pub fn parse(text: &str) -> Result<Stall, FaultSpecError> {
        let (duration, chance) = split_at_chance(text)?;
        let duration = Spread::parse_duration(duration).map_err(FaultSpecError::StallDuration)?;
        Ok(Stall { duration, chance })
    }
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.duration, self.chance)
    }
}

/// `VALUE@P` split into the value and its chance; `VALUE` alone has a chance of 100%.
fn split_at_chance(text: &str) -> Result<(&str, Chance), FaultSpecError> {
    match text.split_once('@') {
        Some((value, chance)) => Ok((value, Chance::parse(chance)?)),
        None => Ok((text, Chance::ALWAYS)),
    }
}

/// Faults decided per request, before its handler runs, on the endpoints they apply to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFaults {
    /// Error statuses, ordered by status, their chances adding up to 100% at most (see
    /// [`check_statuses`]).
    pub status: Vec<StatusFault>,
    /// Requests per organization (the request's `teamId`) per minute.
    pub rate_limit: Option<RateLimit>,
    /// Where `status` and `rate_limit` apply; requests to other endpoints are neither faulted
    /// nor counted against the limit.
    pub endpoints: Endpoints,
}

impl RequestFaults {
    /// The status a request answers with instead of its real response, if any. Takes exactly
    /// one value from `rng`: one draw is matched against the statuses in turn, so their
    /// chances add up.
    pub fn draw_status(&self, rng: &mut impl Rng) -> Option<u16> {
        let draw = rng.random_range(0..PPM);
        let mut below = 0;
        for fault in &self.status {
            below += fault.chance.ppm();
            if draw < below {
                return Some(fault.status);
            }
        }
        None
    }

    pub fn is_empty(&self) -> bool {
        self.status.is_empty() && self.rate_limit.is_none()
    }
}

impl fmt::Display for RequestFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.status.is_empty() {
            let statuses: Vec<String> = self
                .status
                .iter()
                .map(|fault| format!("{}={}", fault.status, fault.chance))
                .collect();
            parts.push(format!("status {}", statuses.join(" ")));
        }
        if let Some(limit) = self.rate_limit {
            parts.push(format!("rate_limit {limit}"));
        }
        if parts.is_empty() {
            return f.write_str("none");
        }
        if self.endpoints != Endpoints::ALL {
            parts.push(format!("on {}", self.endpoints));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Faults of a model's runs, decided for each run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunFaults {
    /// A stream's connection closed after some steps, without ending the body cleanly.
    pub cut_after: Option<Cut>,
    /// Waiting before the first step of a stream (or before a blocking run answers).
    pub stall_first: Option<Stall>,
    /// Waiting before a later step of a stream, decided for each gap.
    pub stall_between: Option<Stall>,
    /// One step of a stream carries data that is not JSON.
    pub malformed: Chance,
    /// A stream answered with 200 and `application/json` (the blocking run's body).
    pub wrong_content_type: Chance,
    /// The run's result is never POSTed to its `callbackUrl`.
    pub callback_drop: Chance,
}

impl RunFaults {
    pub fn is_empty(&self) -> bool {
        *self == RunFaults::default()
    }
}

impl fmt::Display for RunFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(cut) = self.cut_after {
            parts.push(format!("cut_after {cut}"));
        }
        if let Some(stall) = self.stall_first {
            parts.push(format!("stall_first {stall}"));
        }
        if let Some(stall) = self.stall_between {
            parts.push(format!("stall_between {stall}"));
        }
        for (name, chance) in [
            ("malformed", self.malformed),
            ("wrong_content_type", self.wrong_content_type),
            ("callback_drop", self.callback_drop),
        ] {
            if !chance.is_never() {
                parts.push(format!("{name} {chance}"));
            }
        }
        if parts.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn chances_are_percentages_or_fractions() {
        assert_eq!(Chance::parse("5%").unwrap().ppm(), 50_000);
        assert_eq!(Chance::parse(" 0.5 % ").unwrap().ppm(), 5_000);
        assert_eq!(Chance::parse("100%").unwrap(), Chance::ALWAYS);
        assert_eq!(Chance::parse("0%").unwrap(), Chance::NEVER);
        assert_eq!(Chance::parse("0.05").unwrap().ppm(), 50_000);
        assert_eq!(Chance::parse("1").unwrap(), Chance::ALWAYS);
        assert_eq!(Chance::parse("0.0001%").unwrap().ppm(), 1);
        assert_eq!(Chance::parse("12.5%").unwrap().to_string(), "12.5%");
        for bad in ["", "5", "101%", "-1%", "x%", "1.5", "NaN%", "inf"] {
            let err = Chance::parse(bad).unwrap_err().to_string();
            assert!(err.contains("probability"), "{bad}: {err}");
        }
        assert!(
            Chance::parse("0.00001%")
                .unwrap_err()
                .to_string()
                .contains("smallest supported")
        );
    }

    #[test]
    fn certain_and_impossible_chances_never_miss() {
        let mut rng = SmallRng::seed_from_u64(3);
        assert!((0..10_000).all(|_| Chance::ALWAYS.draw(&mut rng)));
        assert!((0..10_000).all(|_| !Chance::NEVER.draw(&mut rng)));
        let tenth = Chance::parse("10%").unwrap();
        let hits = (0..100_000).filter(|_| tenth.draw(&mut rng)).count();
        assert!((9_500..10_500).contains(&hits), "{hits}");
    }

    #[test]
    fn status_faults_name_a_status_and_a_chance() {
        assert_eq!(
            StatusFault::parse("429=5%").unwrap(),
            StatusFault {
                status: 429,
                chance: Chance::parse("5%").unwrap()
            }
        );
        assert!(
            StatusFault::parse("429")
                .unwrap_err()
                .to_string()
                .contains("CODE=")
        );
        assert!(
            StatusFault::parse("200=5%")
                .unwrap_err()
                .to_string()
                .contains("not an error status")
        );
        assert!(StatusFault::parse("abc=5%").is_err());
        assert!(
            StatusFault::parse("503=5")
                .unwrap_err()
                .to_string()
                .contains("probability")
        );
    }

    #[test]
    fn statuses_are_checked_as_a_set() {
        let fault = |status, text| StatusFault {
            status,
            chance: Chance::parse(text).unwrap(),
        };
        let ordered = check_statuses(vec![fault(503, "1%"), fault(429, "5%")]).unwrap();
        assert_eq!(ordered, [fault(429, "5%"), fault(503, "1%")]);
        let twice = check_statuses(vec![fault(503, "1%"), fault(503, "2%")])
            .unwrap_err()
            .to_string();
        assert!(twice.contains("503 is given twice"), "{twice}");
        let much = check_statuses(vec![fault(429, "60%"), fault(503, "50%")])
            .unwrap_err()
            .to_string();
        assert!(much.contains("more than 100%"), "{much}");
        assert!(check_statuses(vec![fault(429, "60%"), fault(503, "40%")]).is_ok());
    }

    #[test]
    fn one_draw_picks_at_most_one_status_in_proportion() {
        let faults = RequestFaults {
            status: check_statuses(vec![
                StatusFault::parse("429=20%").unwrap(),
                StatusFault::parse("503=30%").unwrap(),
            ])
            .unwrap(),
            ..RequestFaults::default()
        };
        let mut rng = SmallRng::seed_from_u64(11);
        let mut counts = [0u32; 3];
        for _ in 0..100_000 {
            match faults.draw_status(&mut rng) {
                Some(429) => counts[0] += 1,
                Some(503) => counts[1] += 1,
                None => counts[2] += 1,
                Some(other) => panic!("{other}"),
            }
        }
        assert!((19_000..21_000).contains(&counts[0]), "{counts:?}");
        assert!((29_000..31_000).contains(&counts[1]), "{counts:?}");
        assert!((49_000..51_000).contains(&counts[2]), "{counts:?}");
        let all = RequestFaults {
            status: vec![StatusFault::parse("500=100%").unwrap()],
            ..RequestFaults::default()
        };
        assert!((0..1000).all(|_| all.draw_status(&mut rng) == Some(500)));
        assert_eq!(RequestFaults::default().draw_status(&mut rng), None);
    }

    #[test]
    fn endpoints_are_named_like_the_ops() {
        let set = Endpoints::parse("run, run_stream").unwrap();
        assert!(set.contains(Op::Run) && set.contains(Op::RunStream));
        assert!(!set.contains(Op::List) && !set.contains(Op::Create));
        assert_eq!(set.to_string(), "run,run_stream");
        assert!(Op::ALL.into_iter().all(|op| Endpoints::ALL.contains(op)));
        assert_eq!(Endpoints::default(), Endpoints::ALL);
        let err = Endpoints::parse("run,stream").unwrap_err().to_string();
        assert!(
            err.contains("\"stream\" is not an endpoint") && err.contains("run_stream"),
            "{err}"
        );
        assert!(
            Endpoints::parse(",")
                .unwrap_err()
                .to_string()
                .contains("no endpoint")
        );
    }

    #[test]
    fn rate_limits_are_per_minute() {
        assert_eq!(RateLimit::parse("60").unwrap().per_minute, 60);
        assert_eq!(RateLimit::parse("1000/min").unwrap().per_minute, 1000);
        assert_eq!(RateLimit::parse(" 7 / minute").unwrap().per_minute, 7);
        assert_eq!(RateLimit::parse("120/min").unwrap().to_string(), "120/min");
        for bad in ["0", "-5", "1/s", "2/h", "x/min", "1.5/min", ""] {
            assert!(RateLimit::parse(bad).is_err(), "{bad}");
        }
        assert!(
            RateLimit::parse("1/s")
                .unwrap_err()
                .to_string()
                .contains("per minute")
        );
    }

    #[test]
    fn cuts_and_stalls_take_a_value_and_an_optional_chance() {
        let cut = Cut::parse("2@10%").unwrap();
        assert_eq!(cut.after, Spread::fixed(2));
        assert_eq!(cut.chance, Chance::parse("10%").unwrap());
        assert_eq!(Cut::parse("1..3").unwrap().after, Spread { lo: 1, hi: 3 });
        assert_eq!(Cut::parse("0").unwrap().chance, Chance::ALWAYS);
        assert_eq!(cut.to_string(), "2@10%");
        assert!(
            Cut::parse("two@10%")
                .unwrap_err()
                .to_string()
                .contains("\"2@10%\"")
        );
        assert!(
            Cut::parse("2@lots")
                .unwrap_err()
                .to_string()
                .contains("probability")
        );

        let stall = Stall::parse("5s@10%").unwrap();
        assert_eq!(stall.duration, Spread::fixed(Duration::from_secs(5)));
        assert_eq!(stall.chance.ppm(), 100_000);
        let range = Stall::parse("1s..2s").unwrap();
        assert_eq!(range.duration.hi, Duration::from_secs(2));
        assert_eq!(range.chance, Chance::ALWAYS);
        assert!(
            Stall::parse("5@10%")
                .unwrap_err()
                .to_string()
                .contains("\"5s@10%\"")
        );
        assert!(
            Stall::parse("2s..1s")
                .unwrap_err()
                .to_string()
                .contains("backwards")
        );
    }

    #[test]
    fn run_faults_describe_themselves() {
        assert_eq!(RunFaults::default().to_string(), "none");
        assert!(RunFaults::default().is_empty());
        let faults = RunFaults {
            cut_after: Some(Cut::parse("2@10%").unwrap()),
            malformed: Chance::parse("1%").unwrap(),
            ..RunFaults::default()
        };
        assert_eq!(faults.to_string(), "cut_after 2@10%, malformed 1%");
    }
}
