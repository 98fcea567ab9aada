//! Limits on guessing passwords and on the public routes, counted in the
//! database (`store::limits`) so that every instance behind a proxy shares
//! them: a lockout earned on one instance holds on the others.

use std::net::IpAddr;

use store::Store;
use store::limits::FailureCount;

const MINUTE_MS: i64 = 60_000;

/// Failed logins within a sliding window, counted three ways:
/// - per user name and address: that address is refused for that name after
///   `max_failures` (a guesser at one address stops there);
/// - per address: refused after four times as many, whatever the names (one
///   address trying many names; a whole office may share one address);
/// - per user name from anywhere: never refused, since a correct password
///   must not be refused because someone else guessed wrong, but each try
///   past `max_failures` waits twice as long as the last, up to `MAX_DELAY_MS`
///   (guessing from many addresses becomes slow, the owner still gets in).
pub struct LoginLimiter {
    max_failures: i64,
    window_ms: i64,
}

/// What a login attempt may do, given the failures counted against it.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginGate {
    /// Refused: retry after this many seconds.
    Wait(u64),
    /// Checked after this many milliseconds.
    Proceed { delay_ms: u64 },
}

/// The longest a correct password waits: well inside the request timeout.
const MAX_DELAY_MS: u64 = 8_000;
const FIRST_DELAY_MS: u64 = 500;

/// The keys one attempt counts against: user name, name at address, address.
pub struct LoginKeys([String; 3]);

impl LoginKeys {
    pub fn new(username: &str, client: IpAddr) -> Self {
        LoginKeys([
            format!("user:{username}"),
            format!("user@ip:{username}@{client}"),
            format!("ip:{client}"),
        ])
    }

    /// The keys a successful login forgives: not the address's, which may
    /// hold other names' failures.
    pub fn forgiven_on_success(&self) -> &[String] {
        &self.0[..2]
    }
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window_secs: i64) -> Self {
        LoginLimiter {
            max_failures: i64::from(max_failures),
            window_ms: window_secs * 1000,
        }
    }

    pub async fn gate(&self, store: &Store, keys: &LoginKeys, now: i64) -> Result<LoginGate, store::Error> {
        let counts = store.login_failures(&keys.0, now - self.window_ms).await?;
        Ok(self.judge(&counts, now))
    }

    pub async fn record_failure(&self, store: &Store, keys: &LoginKeys, now: i64) -> Result<(), store::Error> {
        store.record_login_failure(&keys.0, now, now - self.window_ms).await
    }

    /// The rule on the counts: a refused key waits until its oldest counted
    /// failure leaves the window; the name's own count only slows.
    fn judge(&self, counts: &[FailureCount], now: i64) -> LoginGate {
        let refused = counts
            .iter()
            .filter_map(|count| {
                let max = if count.key.starts_with("ip:") {
                    self.max_failures * 4
                } else if count.key.starts_with("user@ip:") {
                    self.max_failures
                } else {
                    return None;
                };
                (count.failures >= max).then(|| ((count.first_at + self.window_ms - now) / 1000 + 1) as u64)
            })
            .max();
        if let Some(wait) = refused {
            return LoginGate::Wait(wait);
        }
        let past_limit = counts
            .iter()
            .find(|count| count.key.starts_with("user:"))
            .map_or(-1, |count| count.failures - self.max_failures);
        let delay_ms = match u32::try_from(past_limit) {
            Ok(doublings) => FIRST_DELAY_MS
                .saturating_mul(1u64 << doublings.min(16))
                .min(MAX_DELAY_MS),
            Err(_) => 0,
        };
        LoginGate::Proceed { delay_ms }
    }
}

/// Requests per address per minute on the public routes, which have no
/// account to limit by. Fixed windows aligned on the minute, so that every
/// instance counts into the same window.
pub struct RateLimiter {
    per_minute: i64,
    store: Store,
}

impl RateLimiter {
    pub fn new(per_minute: u32, store: Store) -> Self {
        RateLimiter {
            per_minute: i64::from(per_minute),
            store,
        }
    }

    /// `Ok(Err(seconds to wait))` once the address used up its minute.
    pub async fn check(&self, ip: IpAddr, now: i64) -> Result<Result<(), u64>, store::Error> {
        let window_start = now - now.rem_euclid(MINUTE_MS);
        let hits = self.store.hit(&format!("public:{ip}"), window_start).await?;
        Ok(if hits > self.per_minute {
            Err(((window_start + MINUTE_MS - now) / 1000 + 1) as u64)
        } else {
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(key: &str, failures: i64, first_at: i64) -> FailureCount {
        FailureCount {
            key: key.into(),
            failures,
            first_at,
        }
    }

    const GO: LoginGate = LoginGate::Proceed { delay_ms: 0 };

    #[test]
    fn a_name_at_one_address_is_refused_at_its_limit_until_its_oldest_failure_leaves_the_window() {
        let limiter = LoginLimiter::new(3, 60);
        assert_eq!(limiter.judge(&[count("user@ip:a@10.0.0.1", 2, 0)], 3_000), GO);
        assert_eq!(
            limiter.judge(&[count("user@ip:a@10.0.0.1", 3, 0)], 3_000),
            LoginGate::Wait(58)
        );
        assert_eq!(limiter.judge(&[], 61_000), GO);
    }

    #[test]
    fn an_address_gets_four_times_the_tries_of_a_name() {
        let limiter = LoginLimiter::new(3, 60);
        assert_eq!(limiter.judge(&[count("ip:10.0.0.1", 11, 0)], 1_000), GO);
        assert_eq!(
            limiter.judge(
                &[count("ip:10.0.0.1", 12, 0), count("user@ip:a@10.0.0.1", 3, 30_000)],
                1_000
            ),
            LoginGate::Wait(90)
        );
    }

    #[test]
    fn a_name_guessed_from_everywhere_is_slowed_never_refused() {
        let limiter = LoginLimiter::new(3, 60);
        let delay = |failures| match limiter.judge(&[count("user:a", failures, 0)], 1_000) {
            LoginGate::Proceed { delay_ms } => delay_ms,
            LoginGate::Wait(_) => panic!("refused after {failures} failures"),
        };
        assert_eq!([2, 3, 4, 5].map(delay), [0, 500, 1_000, 2_000]);
        assert_eq!(delay(10_000), MAX_DELAY_MS);
    }
}
