//! Durations and spreads as users write them (`500ms`, `2m`, `100ms..300ms`, `3..6`), parsed once
//! at the edge so nothing past the scenario layer handles strings.

use std::fmt;
use std::time::Duration;

use rand::{Rng, RngExt};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Why a duration, rate, byte size or spread as users write it was refused. Each message says
/// what is wrong and how to write the value instead.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum UnitError {
    #[error("empty duration; {DURATION_HELP}")]
    EmptyDuration,
    #[error("invalid duration {text:?} ({reason}); {DURATION_HELP}")]
    InvalidDuration {
        text: String,
        reason: humantime::DurationError,
    },
    #[error("{text:?} is longer than the longest duration supported, 30 days")]
    DurationTooLong { text: String },
    #[error("invalid rate {text:?}: no unit; {RATE_HELP}")]
    RateWithoutUnit { text: String },
    #[error("invalid rate {text:?}: {number:?} is not a number; {RATE_HELP}")]
    RateNotANumber { text: String, number: String },
    #[error("invalid rate {text:?}: unknown unit {unit:?}; {RATE_HELP}")]
    RateUnknownUnit { text: String, unit: String },
    /// Negative, or not a finite number (`inf/s`).
    #[error("invalid rate {text:?}: it must be zero or more; {RATE_HELP}")]
    RateNegative { text: String },
    #[error("rate {text:?} is above the supported maximum of 10000000/s")]
    RateTooHigh { text: String },
    #[error("rate {text:?} is below one per 30 days, the longest gap supported; use 0/s for none")]
    RateTooLow { text: String },
    #[error("invalid size {text:?}: no number; {SIZE_HELP}")]
    SizeWithoutNumber { text: String },
    #[error(
        "invalid size {text:?}: {unit:?} is ambiguous; use binary units: B, KiB, MiB or GiB, e.g. \"1MiB\""
    )]
    SizeAmbiguousUnit { text: String, unit: String },
    #[error("invalid size {text:?}: unknown unit {unit:?}; {SIZE_HELP}")]
    SizeUnknownUnit { text: String, unit: String },
    #[error("size {text:?} is zero; an event needs at least a byte, e.g. \"1MiB\"")]
    SizeZero { text: String },
    #[error("size {text:?} is above the largest supported, 256MiB")]
    SizeTooLarge { text: String },
    #[error(
        "invalid count {text:?}; write a whole number such as \"5\" or a range such as \"3..6\""
    )]
    InvalidCount { text: String },
    #[error("range {text:?} runs backwards; put the smaller value first, e.g. \"100ms..300ms\"")]
    BackwardsRange { text: String },
}

// Equality is total: no variant holds a float (humantime's error only derives `PartialEq`).
impl Eq for UnitError {}

const DURATION_HELP: &str = "write a number with a unit, e.g. \"500ms\", \"30s\" or \"2m\"";
const RATE_HELP: &str = "write a number and a unit, e.g. \"20/s\", \"300/min\" or \"5000/h\"";
const SIZE_HELP: &str = "write a number and a unit, e.g. \"1MiB\", \"64KiB\" or \"4096B\"";

/// The longest duration accepted anywhere: long soaks fit, arithmetic on instants cannot overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Parses a duration with a unit: `500ms`, `30s`, `2m`, `1h 30m`; at most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UnitError::EmptyDuration);
    }
    let duration =
        humantime::parse_duration(text).map_err(|reason| UnitError::InvalidDuration {
            text: text.to_owned(),
            reason,
        })?;
    if duration > MAX_DURATION {
        return Err(UnitError::DurationTooLong {
            text: text.to_owned(),
        });
    }
    Ok(duration)
}

/// Events per second: arrivals, iterations. Written with a unit: `20/s`, `300/min`, `5000/h`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Rate(f64);

impl Rate {
    /// The highest rate accepted; far beyond what one machine can send.
    pub const MAX_PER_SECOND: f64 = 10_000_000.0;

    pub fn per_second(per_second: f64) -> Rate {
        Rate(per_second)
    }

    pub fn as_per_second(self) -> f64 {
        self.0
    }

    /// Parses `20/s`, `300/min`, `5000/h` (also `/sec`, `/m`, `/hour`); zero is allowed.
    pub fn parse(text: &str) -> Result<Rate, UnitError> {
        let owned = || text.to_owned();
        let (number, unit) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| UnitError::RateWithoutUnit { text: owned() })?;
        let count: f64 = number
            .trim()
            .parse()
            .map_err(|_| UnitError::RateNotANumber {
                text: owned(),
                number: number.trim().to_owned(),
            })?;
        let seconds = match unit.trim() {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            other => {
                return Err(UnitError::RateUnknownUnit {
                    text: owned(),
                    unit: other.to_owned(),
                });
            }
        };
        let per_second = count / seconds;
        if !per_second.is_finite() || per_second < 0.0 {
            return Err(UnitError::RateNegative { text: owned() });
        }
        if per_second > Rate::MAX_PER_SECOND {
            return Err(UnitError::RateTooHigh { text: owned() });
        }
        if per_second > 0.0 && 1.0 / per_second > MAX_DURATION.as_secs_f64() {
            return Err(UnitError::RateTooLow { text: owned() });
        }
        Ok(Rate(per_second))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded = (self.0 * 1000.0).round() / 1000.0;
        write!(f, "{rounded}/s")
    }
}

/// A rate in a scenario file, e.g. `"20/s"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateValue(pub Rate);

impl<'de> Deserialize<'de> for RateValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserializer.deserialize_any(TextVisitor("a rate such as \"20/s\""))?;
        if !text.contains('/') {
            return Err(de::Error::custom(format!(
                "a rate needs a unit: write \"{text}/s\", \"{text}/min\" or \"{text}/h\""
            )));
        }
        Rate::parse(&text).map(RateValue).map_err(de::Error::custom)
    }
}

/// The largest event size cap accepted (`max_event_size`): far beyond any event the API sends,
/// and small enough that thousands of streams buffering one each cannot exhaust a machine by
/// mistake.
pub const MAX_EVENT_SIZE: usize = 256 << 20;

/// Parses a size in bytes with a binary unit: `1MiB`, `512KiB`, `4096B` (or a bare number of
/// bytes); from 1 byte to [`MAX_EVENT_SIZE`].
pub fn parse_byte_size(text: &str) -> Result<usize, UnitError> {
    let owned = || text.to_owned();
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() {
        return Err(UnitError::SizeWithoutNumber { text: owned() });
    }
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "kb" | "mb" | "gb" | "k" | "m" | "g" => {
            return Err(UnitError::SizeAmbiguousUnit {
                text: owned(),
                unit: unit.trim().to_owned(),
            });
        }
        other => {
            return Err(UnitError::SizeUnknownUnit {
                text: owned(),
                unit: other.to_owned(),
            });
        }
    };
    let bytes = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .unwrap_or(u64::MAX);
    if bytes == 0 {
        return Err(UnitError::SizeZero { text: owned() });
    }
    if bytes > MAX_EVENT_SIZE as u64 {
        return Err(UnitError::SizeTooLarge { text: owned() });
    }
    Ok(bytes as usize)
}

/// A size in bytes as written back to users: `1MiB`, `64KiB`, or `1000B`.
pub fn format_byte_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{}MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{}KiB", b >> 10),
        b => format!("{b}B"),
    }
}

/// A byte size in a scenario file: `"1MiB"`, `"64KiB"`, or a number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSizeValue(pub usize);

impl<'de> Deserialize<'de> for ByteSizeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text =
            deserializer.deserialize_any(TextVisitor("a size such as \"1MiB\" or \"64KiB\""))?;
        parse_byte_size(&text)
            .map(ByteSizeValue)
            .map_err(de::Error::custom)
    }
}

/// A value drawn uniformly from `lo..=hi` each time it is used; `lo == hi` is a fixed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spread<T> {
    pub lo: T,
    pub hi: T,
}

impl<T: Copy> Spread<T> {
    /// A spread that always yields `value`.
    pub fn fixed(value: T) -> Self {
        Spread {
            lo: value,
            hi: value,
        }
    }
}

impl Spread<Duration> {
    /// Parses `"200ms"` (fixed) or `"100ms..300ms"` (uniform between the two, inclusive).
    pub fn parse_duration(text: &str) -> Result<Self, UnitError> {
        parse_spread(text, parse_duration)
    }

    /// Draws one value; a fixed spread never touches the generator.
    pub fn sample(&self, rng: &mut impl Rng) -> Duration {
        if self.lo == self.hi {
            return self.lo;
        }
        let lo = self.lo.as_micros() as u64;
        let hi = self.hi.as_micros() as u64;
        Duration::from_micros(rng.random_range(lo..=hi))
    }
}

impl Spread<u32> {
    /// Parses `"5"` (fixed) or `"3..6"` (uniform between the two, inclusive).
    pub fn parse_count(text: &str) -> Result<Self, UnitError> {
        parse_spread(text, |part| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| UnitError::InvalidCount {
                    text: part.to_owned(),
                })
        })
    }

    /// Draws one value; a fixed spread never touches the generator.
    pub fn sample(&self, rng: &mut impl Rng) -> u32 {
        if self.lo == self.hi {
            return self.lo;
        }
        rng.random_range(self.lo..=self.hi)
    }
}

fn parse_spread<T: PartialOrd + Copy>(
    text: &str,
    parse_one: impl Fn(&str) -> Result<T, UnitError>,
) -> Result<Spread<T>, UnitError> {
    match text.split_once("..") {
        None => parse_one(text).map(Spread::fixed),
        Some((lo, hi)) => {
            let hi = hi.strip_prefix('=').unwrap_or(hi);
            let (lo, hi) = (parse_one(lo)?, parse_one(hi)?);
            if lo > hi {
                return Err(UnitError::BackwardsRange {
                    text: text.to_owned(),
                });
            }
            Ok(Spread { lo, hi })
        }
    }
}

impl fmt::Display for Spread<Duration> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", humantime::format_duration(self.lo))
        } else {
            write!(
                f,
                "{}..{}",
                humantime::format_duration(self.lo),
                humantime::format_duration(self.hi)
            )
        }
    }
}

impl fmt::Display for Spread<u32> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lo == self.hi {
            write!(f, "{}", self.lo)
        } else {
            write!(f, "{}..{}", self.lo, self.hi)
        }
    }
}

/// A duration in a scenario file, e.g. `"30s"`. Parse errors carry the value's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

/// A duration spread in a scenario file, e.g. `"100ms..300ms"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationSpread(pub Spread<Duration>);

/// A count spread in a scenario file: `5`, `"5"` or `"3..6"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountSpread(pub Spread<u32>);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text =
            deserializer.deserialize_any(TextVisitor("a duration string such as \"30s\""))?;
        parse_duration(&text)
            .map(DurationValue)
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for DurationSpread {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserializer.deserialize_any(TextVisitor(
            "a duration such as \"200ms\" or a range such as \"100ms..300ms\"",
        ))?;
        Spread::parse_duration(&text)
            .map(DurationSpread)
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for CountSpread {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = deserializer
            .deserialize_any(TextVisitor("a count such as 5 or a range such as \"3..6\""))?;
        Spread::parse_count(&text)
            .map(CountSpread)
            .map_err(de::Error::custom)
    }
}

/// Accepts a string (or a non-negative integer, for counts) and hands back its text; any other
/// type is reported with what was expected.
struct TextVisitor(&'static str);

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
        if value < 0 {
            return Err(E::custom(format!(
                "{value} is negative; expected {}",
                self.0
            )));
        }
        Ok(value.to_string())
    }
}

/// A number with at most four decimals and no trailing zeros: `0.1667`, `2`.
pub fn trim_number(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration(" 30s ").unwrap(), Duration::from_secs(30));
        assert!(
            parse_duration("30")
                .unwrap_err()
                .to_string()
                .contains("\"500ms\"")
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("30days").is_ok());
        assert!(
            parse_duration("31days")
                .unwrap_err()
                .to_string()
                .contains("30 days")
        );
        assert!(parse_duration("500000000000y").is_err());
    }

    #[test]
    fn rates_take_units() {
        assert_eq!(Rate::parse("20/s").unwrap().as_per_second(), 20.0);
        assert_eq!(Rate::parse("300/min").unwrap().as_per_second(), 5.0);
        assert_eq!(
            Rate::parse("5000/h").unwrap().as_per_second(),
            5000.0 / 3600.0
        );
        assert_eq!(Rate::parse(" 0.5 / s ").unwrap().as_per_second(), 0.5);
        assert_eq!(Rate::parse("0/s").unwrap().as_per_second(), 0.0);
        assert!(
            Rate::parse("20")
                .unwrap_err()
                .to_string()
                .contains("no unit")
        );
        assert!(
            Rate::parse("20/day")
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        assert!(Rate::parse("-1/s").is_err());
        assert!(Rate::parse("fast/s").is_err());
        assert!(
            Rate::parse("1e12/s")
                .unwrap_err()
                .to_string()
                .contains("maximum")
        );
        assert!(
            Rate::parse("1e-300/s")
                .unwrap_err()
                .to_string()
                .contains("30 days")
        );
        assert_eq!(Rate::parse("300/min").unwrap().to_string(), "5/s");
    }

    #[test]
    fn byte_sizes_take_binary_units() {
        assert_eq!(parse_byte_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_byte_size(" 64 KiB "), Ok(64 << 10));
        assert_eq!(parse_byte_size("4096B"), Ok(4096));
        assert_eq!(parse_byte_size("4096"), Ok(4096));
        assert_eq!(parse_byte_size("2mib"), Ok(2 << 20));
        assert_eq!(parse_byte_size("256MiB"), Ok(MAX_EVENT_SIZE));
        assert!(
            parse_byte_size("0KiB")
                .unwrap_err()
                .to_string()
                .contains("zero")
        );
        assert!(
            parse_byte_size("257MiB")
                .unwrap_err()
                .to_string()
                .contains("256MiB")
        );
        assert!(
            parse_byte_size("1GiB")
                .unwrap_err()
                .to_string()
                .contains("256MiB")
        );
        assert!(
            parse_byte_size("99999999999999999999GiB")
                .unwrap_err()
                .to_string()
                .contains("256MiB")
        );
        assert!(
            parse_byte_size("1MB")
                .unwrap_err()
                .to_string()
                .contains("ambiguous")
        );
        assert!(
            parse_byte_size("1 furlong")
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        assert!(
            parse_byte_size("MiB")
                .unwrap_err()
                .to_string()
                .contains("no number")
        );
        assert!(
            parse_byte_size("-1MiB")
                .unwrap_err()
                .to_string()
                .contains("no number")
        );
        assert!(
            parse_byte_size("1.5MiB")
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        assert_eq!(format_byte_size(1 << 20), "1MiB");
        assert_eq!(format_byte_size(96 << 10), "96KiB");
        assert_eq!(format_byte_size(1000), "1000B");
    }

    #[test]
    fn spreads_parse_fixed_and_ranges() {
        let fixed = Spread::parse_duration("200ms").unwrap();
        assert_eq!(fixed, Spread::fixed(Duration::from_millis(200)));
        let range = Spread::parse_duration("100ms..300ms").unwrap();
        assert_eq!(range.lo, Duration::from_millis(100));
        assert_eq!(range.hi, Duration::from_millis(300));
        assert_eq!(
            Spread::parse_count("3..=6").unwrap(),
            Spread { lo: 3, hi: 6 }
        );
        assert!(
            Spread::parse_count("6..3")
                .unwrap_err()
                .to_string()
                .contains("backwards")
        );
        assert!(Spread::parse_count("x").is_err());
        assert_eq!(range.to_string(), "100ms..300ms");
    }

    #[test]
    fn samples_stay_inside_the_spread() {
        let mut rng = SmallRng::seed_from_u64(1);
        let range = Spread { lo: 3u32, hi: 6 };
        let mut seen = [false; 7];
        for _ in 0..200 {
            let v = range.sample(&mut rng);
            assert!((3..=6).contains(&v));
            seen[v as usize] = true;
        }
        assert!(seen[3] && seen[6], "both ends are reachable");
        let d = Spread {
            lo: Duration::from_millis(10),
            hi: Duration::from_millis(20),
        };
        for _ in 0..100 {
            let v = d.sample(&mut rng);
            assert!(v >= d.lo && v <= d.hi);
        }
    }
}
