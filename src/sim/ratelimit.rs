//! The per-organization rate limit the API's plans impose (requests per minute), as a fixed
//! one-minute window per organization: the simulator treats each `teamId` as its own
//! organization. The clock is passed in, so the rule is tested without waiting a minute.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::faults::RateLimit;

/// The window a limit counts requests in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Organizations tracked before expired windows are swept away.
const SWEEP_ABOVE: usize = 10_000;

/// A window opens with an organization's first request and lasts a minute; the first
/// `per_minute` requests in it pass, the rest are refused until it ends, and the next request
/// after that opens a new one.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: HashMap<u64, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    used: u32,
}

impl RateLimiter {
    /// Counts a request of `organization` at `now`; `Err` holds how long until its window
    /// frees (what `Retry-After` says) when the limit is used up. Refused requests are not
    /// counted.
    pub fn admit(
        &mut self,
        organization: u64,
        limit: RateLimit,
        now: Instant,
    ) -> Result<(), Duration> {
        if self.windows.len() > SWEEP_ABOVE {
            self.windows
                .retain(|_, window| now.saturating_duration_since(window.opened) < WINDOW);
        }
        let window = self.windows.entry(organization).or_insert(Window {
            opened: now,
            used: 0,
        });
        if now.saturating_duration_since(window.opened) >= WINDOW {
            *window = Window {
                opened: now,
                used: 0,
            };
        }
        if window.used < limit.per_minute {
            window.used += 1;
            Ok(())
        } else {
            Err((window.opened + WINDOW).saturating_duration_since(now))
        }
    }
}

/// `Retry-After` in whole seconds: rounded up, and at least 1 (0 would invite a retry storm).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit { per_minute: 3 };

    #[test]
    fn the_first_requests_of_a_window_pass_and_the_rest_wait_for_it_to_end() {
        let mut limiter = RateLimiter::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        assert_eq!(limiter.admit(1, LIMIT, at(0)), Ok(()));
        assert_eq!(limiter.admit(1, LIMIT, at(10_000)), Ok(()));
        assert_eq!(limiter.admit(1, LIMIT, at(20_000)), Ok(()));
        assert_eq!(
            limiter.admit(1, LIMIT, at(20_500)),
            Err(Duration::from_millis(39_500))
        );
        assert_eq!(
            limiter.admit(1, LIMIT, at(59_999)),
            Err(Duration::from_millis(1)),
            "refused requests do not count and do not move the window"
        );
        assert_eq!(limiter.admit(1, LIMIT, at(60_000)), Ok(()), "a new window");
        assert_eq!(limiter.admit(1, LIMIT, at(60_001)), Ok(()));
        assert_eq!(limiter.admit(1, LIMIT, at(60_002)), Ok(()));
        assert_eq!(
            limiter.admit(1, LIMIT, at(60_003)),
            Err(Duration::from_millis(59_997))
        );
    }

    #[test]
    fn each_organization_has_its_own_window() {
        let mut limiter = RateLimiter::default();
        let now = Instant::now();
        let one = RateLimit { per_minute: 1 };
        assert_eq!(limiter.admit(1, one, now), Ok(()));
        assert!(limiter.admit(1, one, now).is_err());
        assert_eq!(limiter.admit(2, one, now), Ok(()));
        assert!(limiter.admit(2, one, now).is_err());
    }

    #[test]
    fn expired_windows_are_swept_when_many() {
        let mut limiter = RateLimiter::default();
        let start = Instant::now();
        for team in 0..=SWEEP_ABOVE as u64 {
            limiter.admit(team, LIMIT, start).unwrap();
        }
        let later = start + WINDOW + Duration::from_secs(1);
        limiter.admit(u64::MAX, LIMIT, later).unwrap();
        assert_eq!(limiter.windows.len(), 1);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(39_500)), 40);
        assert_eq!(retry_after_secs(Duration::from_secs(12)), 12);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
