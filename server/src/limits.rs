//! A per-address request limit for the public routes, which have no account to
//! limit by. Fixed one-minute windows in memory: enough for one server (several
//! servers would keep the counts in a shared store).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

const WINDOW_MS: i64 = 60_000;

pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Mutex::default(),
        }
    }

    /// `Err(seconds to wait)` once the address used up its minute.
    pub fn check(&self, ip: IpAddr, now: i64) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now - *start < WINDOW_MS);
        }
        let (start, count) = windows.entry(ip).or_insert((now, 0));
        if now - *start >= WINDOW_MS {
            (*start, *count) = (now, 0);
        }
        *count += 1;
        if *count > self.per_minute {
            Err(((*start + WINDOW_MS - now) / 1000 + 1) as u64)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_allows_its_quota_then_refuses_until_it_ends() {
        let limiter = RateLimiter::new(3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check(ip, 1_000), Ok(()));
        }
        assert_eq!(limiter.check(ip, 31_000), Err(31));
        assert_eq!(limiter.check(other, 31_000), Ok(()));
        assert_eq!(limiter.check(ip, 61_000), Ok(()));
    }
}
