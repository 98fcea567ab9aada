//! Limits on guessing passwords and on the public routes, counted in the
//! database (`store::limits`) so that every instance behind a proxy shares
//! them: a lockout earned on one instance holds on the others.

use std::net::IpAddr;

use store::Store;
use store::limits::FailureCount;

const MINUTE_MS: i64 = 60_000;

/// Failed logins per user name and per client address within a sliding
/// window. An address gets more tries than a name, since a whole office may
/// share one address.
pub struct LoginLimiter {
    max_failures: i64,
    window_ms: i64,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window_secs: i64) -> Self {
        LoginLimiter {
            max_failures: i64::from(max_failures),
            window_ms: window_secs * 1000,
        }
    }

    /// The keys a login attempt counts against.
    pub fn keys(username: &str, client: IpAddr) -> [String; 2] {
        [Self::user_key(username), format!("ip:{client}")]
    }

    pub fn user_key(username: &str) -> String {
        format!("user:{username}")
    }

    /// Seconds to wait if any key is over its limit.
    pub async fn blocked_for(&self, store: &Store, keys: &[String], now: i64) -> Result<Option<u64>, store::Error> {
        let counts = store.login_failures(keys, now - self.window_ms).await?;
        Ok(self.wait(&counts, now))
    }

    pub async fn record_failure(&self, store: &Store, keys: &[String], now: i64) -> Result<(), store::Error> {
        store.record_login_failure(keys, now, now - self.window_ms).await
    }

    /// The rule on the counts: a key at its limit waits until its oldest
    /// counted failure leaves the window.
    fn wait(&self, counts: &[FailureCount], now: i64) -> Option<u64> {
        counts
            .iter()
            .filter_map(|count| {
                let max = if count.key.starts_with("ip:") {
                    self.max_failures * 4
                } else {
                    self.max_failures
                };
                (count.failures >= max).then(|| ((count.first_at + self.window_ms - now) / 1000 + 1) as u64)
            })
            .max()
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

    #[test]
    fn a_name_is_blocked_at_its_limit_until_its_oldest_failure_leaves_the_window() {
        let limiter = LoginLimiter::new(3, 60);
        assert_eq!(limiter.wait(&[count("user:a", 2, 0)], 3_000), None);
        assert_eq!(limiter.wait(&[count("user:a", 3, 0)], 3_000), Some(58));
        assert_eq!(limiter.wait(&[], 61_000), None);
    }

    #[test]
    fn an_address_gets_four_times_the_tries_of_a_name() {
        let limiter = LoginLimiter::new(3, 60);
        assert_eq!(limiter.wait(&[count("ip:10.0.0.1", 11, 0)], 1_000), None);
        assert_eq!(
            limiter.wait(&[count("ip:10.0.0.1", 12, 0), count("user:a", 3, 30_000)], 1_000),
            Some(90)
        );
    }
}
