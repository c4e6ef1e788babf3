//! `[callback]`: where the receiver of run results listens, the URL the server is given, and
//! how long a result may take, checked into the plan's [`CallbackSettings`].

use toml::Spanned;

use crate::scenario::diag::{Diagnostic, Source};
use crate::scenario::plan::{CallbackSettings, MixEntry};
use crate::scenario::raw::RawCallback;

/// The `[callback]` table: where run results are received, and how long they may take.
pub(super) fn check_callback(
    table: Option<&Spanned<RawCallback>>,
    mix: &[MixEntry],
    source: &Source<'_>,
) -> Result<CallbackSettings, Diagnostic> {
    let defaults = CallbackSettings::default();
    let Some(table) = table else {
        return Ok(defaults);
    };
    if !mix.iter().any(|entry| entry.callback) {
        return Err(source.at_value(
            table,
            "[callback] is set but no [[mix]] entry asks for a callback",
            "add callback = true to a run or run_stream entry, or remove [callback]",
        ));
    }
    let callback = table.get_ref();
    let listen = match &callback.listen {
        Some(addr) => addr.get_ref().trim().parse().map_err(|_| {
            source.at_value(
                addr,
                format!("listen = {:?} is not an address and port", addr.get_ref()),
                "write e.g. listen = \"127.0.0.1:0\" (any free port) or \"0.0.0.0:9090\"",
            )
        })?,
        None => defaults.listen,
    };
    let public_url = match &callback.public_url {
        Some(url) => {
            let parsed = url::Url::parse(url.get_ref().trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if parsed.is_none() {
                return Err(source.at_value(
                    url,
                    "public_url is not an http(s) URL",
                    "write the URL the server reaches the receiver at, e.g. public_url = \"https://loadgen.example.com:9090\"",
                ));
            }
            Some(url.get_ref().trim().trim_end_matches('/').to_owned())
        }
        None => None,
    };
    let timeout = match &callback.timeout {
        Some(t) if t.get_ref().0.is_zero() => {
            return Err(source.at_value(
                t,
                "callback.timeout is zero",
                "give it a positive duration, e.g. timeout = \"60s\"",
            ));
        }
        Some(t) => t.get_ref().0,
        None => defaults.timeout,
    };
    Ok(CallbackSettings {
        listen,
        public_url,
        timeout,
    })
}
