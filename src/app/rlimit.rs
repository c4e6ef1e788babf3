//! Raises the process's open-file limit so thousands of concurrent streams work without the user
//! running `ulimit -n` first, and says so when even the hard limit is too low for the plan.
//!
//! Every connection is a file descriptor, and most systems start processes with a soft limit of
//! 1024 while allowing far more: the soft limit is raised to the hard one (Unix only) at the
//! start of `run` and `mock`.

use crate::scenario::{Pacing, Plan};

/// File descriptors a process needs beyond its connections: the runtime, the report files,
/// the listening sockets, stdio.
const HEADROOM: u64 = 64;

/// The open-file limit before and after [`raise`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nofile {
    /// The soft limit the process started with (`None`: unlimited).
    pub before: Option<u64>,
    /// The soft limit now.
    pub now: Option<u64>,
    /// The hard limit, which only a privileged process may raise.
    pub hard: Option<u64>,
}

/// Raises the soft open-file limit to the hard limit, and returns both. Where the hard limit is
/// unlimited but the system refuses that as a soft limit (macOS caps it at `OPEN_MAX`), the
/// largest value accepted of a few is kept. Never fails: a limit that cannot be raised stays.
#[cfg(unix)]
pub fn raise() -> Nofile {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let before = limit.current;
    // Unlimited (None) counts as the largest.
    let below_hard = match (limit.current, limit.maximum) {
        (Some(current), Some(hard)) => current < hard,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if below_hard {
        for candidate in [limit.maximum, Some(1 << 20), Some(10_240)] {
            // Only ever raise.
            if let (Some(candidate), Some(before)) = (candidate, before)
                && candidate <= before
            {
                continue;
            }
            let wanted = Rlimit {
                current: candidate,
                maximum: limit.maximum,
            };
            if setrlimit(Resource::Nofile, wanted).is_ok() {
                break;
            }
        }
    }
    let after = getrlimit(Resource::Nofile);
    Nofile {
        before,
        now: after.current,
        hard: after.maximum,
    }
}

/// Elsewhere there is no such limit to raise.
#[cfg(not(unix))]
pub fn raise() -> Nofile {
    Nofile {
        before: None,
        now: None,
        hard: None,
    }
}

/// The most file descriptors `plan` may hold at once: a connection per request in flight (peak
/// virtual users, or `max_in_flight` in the open model), as many again on the server's side when
/// the simulator runs in this process, two more per request for callbacks (the server's post and
/// the receiver's accept), plus headroom.
pub fn needed(plan: &Plan) -> u64 {
    let concurrent = match &plan.load.pacing {
        Pacing::Closed { vus, .. } => u64::from(vus.peak()),
        Pacing::Open { max_in_flight, .. } => u64::from(*max_in_flight),
    };
    let mut per_request = 1;
    if plan.target.base_url.is_none() {
        per_request += 1;
    }
    if plan.mix.iter().any(|entry| entry.callback) {
        per_request += 2;
    }
    concurrent * per_request + HEADROOM
}

/// A warning for stderr when the open-file limit is below what the run needs, `None` when it is
/// enough (or unlimited).
pub fn shortfall(limit: Nofile, needed: u64) -> Option<String> {
    let now = limit.now?;
    if now >= needed {
        return None;
    }
    let hard = limit
        .hard
        .map_or_else(|| "unlimited".to_owned(), |hard| hard.to_string());
    Some(format!(
        "warning: this run may hold up to {needed} open files (connections at its peak concurrency), but the open-file limit is {now} (hard limit {hard}); \
         requests past it fail as `connect` errors. Raise the hard limit (e.g. `ulimit -Hn {needed}` as root, or nofile in /etc/security/limits.conf), \
         or lower vus / max_in_flight"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_reaches_the_hard_one() {
        let limit = raise();
        if cfg!(unix) {
            // Never lowered; and at the hard limit, unless the system refused it as a soft limit.
            assert!(limit.now.unwrap_or(u64::MAX) >= limit.before.unwrap_or(u64::MAX));
            if cfg!(target_os = "linux") {
                assert_eq!(limit.now, limit.hard, "{limit:?}");
            }
            // A second call changes nothing.
            assert_eq!(raise().now, limit.now);
        }
    }

    #[test]
    fn a_shortfall_is_reported_only_when_it_matters() {
        let limit = |now, hard| Nofile {
            before: Some(1024),
            now,
            hard,
        };
        assert_eq!(shortfall(limit(Some(524_288), Some(524_288)), 20_064), None);
        assert_eq!(shortfall(limit(None, None), 1_000_000), None);
        assert_eq!(shortfall(limit(Some(4096), Some(4096)), 4096), None);
        let warning = shortfall(limit(Some(4096), Some(4096)), 20_064).unwrap();
        assert!(warning.contains("up to 20064 open files"), "{warning}");
        assert!(
            warning.contains("limit is 4096 (hard limit 4096)"),
            "{warning}"
        );
        assert!(warning.contains("ulimit -Hn 20064"), "{warning}");
    }

    #[test]
    fn the_need_follows_the_plans_concurrency_and_where_the_server_is() {
        let text = |target: &str, load: &str| {
            format!(
                "{target}[[agents]]\nname = \"a\"\nid = \"agent-1\"\n[load]\n{load}\nduration = \"1s\"\n[[mix]]\nop = \"run_stream\"\n"
            )
        };
        let plan = |target: &str, load: &str| {
            crate::scenario::parse("s.toml", text(target, load).as_bytes(), "s").unwrap()
        };
        // 10,000 users on the embedded simulator: both ends of each connection are ours.
        assert_eq!(needed(&plan("", "vus = 10000")), 20_064);
        let remote = "[target]\nbase_url = \"http://127.0.0.1:9/api/v2\"\nteam_id = 1\n";
        assert_eq!(needed(&plan(remote, "vus = 10000")), 10_064);
        assert_eq!(
            needed(&plan(
                remote,
                "model = \"open\"\nrate = \"5/s\"\nmax_in_flight = 500"
            )),
            564
        );
    }
}
