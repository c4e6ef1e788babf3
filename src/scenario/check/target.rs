//! `[target]` and `[target.timeout]`: the base URL, team, token variable, timeouts and 429
//! handling, checked into the plan's [`Target`].

use toml::Spanned;

use super::positive;
use crate::model::Timeouts;
use crate::model::units::DurationValue;
use crate::scenario::diag::{Diagnostic, Source};
use crate::scenario::plan::{
    DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RETRIES, DEFAULT_TOKEN_ENV, RetryAfter, Target,
};
use crate::scenario::raw::{RawRetryAfter, RawTarget};

impl From<RawRetryAfter> for RetryAfter {
    fn from(raw: RawRetryAfter) -> Self {
        match raw {
            RawRetryAfter::Measure => RetryAfter::Measure,
            RawRetryAfter::Honour => RetryAfter::Honour,
        }
    }
}

pub(super) fn check_target(t: &RawTarget, source: &Source<'_>) -> Result<Target, Diagnostic> {
    let base_url = match &t.base_url {
        Some(url) => Some(
            normalize_base_url(url.get_ref())
                .map_err(|(message, help)| source.at_value(url, message, help))?,
        ),
        None => None,
    };
    let team_id = match &t.team_id {
        Some(id) => Some(positive(id, source, "team_id", "team_id = 123")?),
        None => None,
    };
    let token_env = match &t.token_env {
        Some(name) => {
            let valid = !name.get_ref().is_empty()
                && name
                    .get_ref()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.get_ref().starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(source.at_value(
                    name,
                    format!("{:?} is not an environment variable name", name.get_ref()),
                    "name the variable that holds the token, e.g. token_env = \"MAKE_API_TOKEN\"; never put the token itself in a scenario",
                ));
            }
            name.get_ref().clone()
        }
        None => DEFAULT_TOKEN_ENV.to_owned(),
    };
    let make_connection_id = match &t.make_connection_id {
        Some(id) => Some(positive(
            id,
            source,
            "make_connection_id",
            "make_connection_id = 456",
        )?),
        None => None,
    };
    let defaults = Timeouts::default();
    let timeout = |value: &Option<Spanned<DurationValue>>, name: &str, fallback| match value {
        Some(v) if v.get_ref().0.is_zero() => Err(source.at_value(
            v,
            format!("target.timeout.{name} is zero"),
            "give every timeout a positive duration, e.g. \"30s\"",
        )),
        Some(v) => Ok(v.get_ref().0),
        None => Ok(fallback),
    };
    let timeouts = Timeouts {
        connect: timeout(&t.timeout.connect, "connect", defaults.connect)?,
        first_step: timeout(&t.timeout.first_step, "first_step", defaults.first_step)?,
        idle: timeout(&t.timeout.idle, "idle", defaults.idle)?,
        total: timeout(&t.timeout.total, "total", defaults.total)?,
    };
    let retry_after = t
        .retry_after
        .as_ref()
        .map_or_else(RetryAfter::default, |v| RetryAfter::from(*v.get_ref()));
    let max_retries = match &t.max_retries {
        Some(n) if retry_after == RetryAfter::Measure => {
            return Err(source.at_value(
                n,
                "max_retries has no effect: 429s are only retried with retry_after = \"honour\"",
                "add retry_after = \"honour\" under [target], or remove max_retries",
            ));
        }
        Some(n) => u32::try_from(*n.get_ref())
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                source.at_value(
                    n,
                    "max_retries must be a whole number from 1 to 100",
                    "write e.g. max_retries = 3",
                )
            })?,
        None => DEFAULT_MAX_RETRIES,
    };
    Ok(Target {
        base_url,
        team_id,
        token_env,
        auth: t.auth_scheme.unwrap_or_default(),
        make_connection_id,
        timeouts,
        retry_after,
        max_retries,
        max_event_bytes: t
            .max_event_size
            .as_ref()
            .map_or(DEFAULT_MAX_EVENT_BYTES, |size| size.get_ref().0),
    })
}

/// Checks a base URL and returns it without a trailing slash. The error is (message, help).
pub fn normalize_base_url(text: &str) -> Result<String, (String, String)> {
    let help = "write the API's base URL, e.g. \"https://eu1.make.com/api/v2\" or \"http://127.0.0.1:8080/api/v2\"";
    // The text is never repeated in a message: it may hold credentials.
    let url = url::Url::parse(text.trim()).map_err(|err| {
        (
            format!("the base URL is not a URL ({err})"),
            help.to_owned(),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err((
            format!(
                "the base URL's scheme is {:?}, not http or https",
                url.scheme()
            ),
            help.to_owned(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err((
            "the base URL carries credentials".to_owned(),
            "remove them from the URL; the token is read from the environment variable named by token_env".to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err((
            "the base URL has a query or fragment".to_owned(),
            "give the base URL only; teamId is added to every call".to_owned(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}
