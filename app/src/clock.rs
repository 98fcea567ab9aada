//! Time and new ids, the same on the server and on the phone (where std's
//! clock is absent and the browser's is used).

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}

/// A UUIDv7 (time-ordered) for a record or an operation made on this device.
pub fn new_id() -> String {
    let ms = now_ms();
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, (ms / 1000) as u64, ((ms % 1000) * 1_000_000) as u32);
    uuid::Uuid::new_v7(ts).to_string()
}

pub const DAY_MS: i64 = 86_400_000;
