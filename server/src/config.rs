//! Typed, layered configuration: defaults that just work, then `gridwalk.toml`
//! (or the file named by `GRIDWALK_CONFIG`), then `GRIDWALK_*` environment
//! variables. cargo-leptos' `LEPTOS_SITE_ADDR` / `LEPTOS_SITE_ROOT` are honoured.

use std::path::PathBuf;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// `sqlite://path/to/file.db` (the file and its folder are created on first
    /// start) or `postgres://user:password@host/database`.
    pub database_url: String,
    /// A PostgreSQL read replica for reports (coverage, ledgers, public
    /// notices); unset, they read the primary.
    pub database_replica_url: Option<String>,
    /// Database connections per pool of this instance.
    pub database_max_connections: u32,
    /// SQLite: sync every commit to disk (`synchronous = FULL`), so that what
    /// a phone was told is saved survives a power cut. `false` trades that
    /// for cheaper writes (NORMAL: safe across a crash of the process only).
    pub sqlite_full_sync: bool,
    /// Where photos and notice attachments are stored: a local folder, or
    /// `s3://bucket/prefix` on S3-compatible storage (endpoint and
    /// credentials from the `AWS_*` environment, see `photos::open_objects`).
    pub photo_store: String,
    /// `host:port` to listen on; port 0 picks a free port (tests).
    pub addr: String,
    /// The built site (`/pkg`, icons, service worker): cargo-leptos' `target/site`.
    pub site_root: String,
    /// Seed the demo street when the database is empty. Off unless asked
    /// (scripts/run.sh asks); `server seed` does it once, as a command.
    pub demo_data: bool,
    /// Pushes and pulls one instance runs at once (back-pressure: more wait
    /// up to `sync_queue_ms`, then are asked to retry after
    /// `sync_retry_after_secs`, with 503 and Retry-After).
    pub sync_max_concurrent: u32,
    pub sync_queue_ms: u64,
    pub sync_retry_after_secs: u64,
    /// Memory for first-sync pages shared by the phones that ask for them
    /// (built and compressed once per change in their grids); 0 turns the
    /// sharing off.
    pub sync_snapshot_mb: usize,
    /// Long: a worker may be offline for days and must not lose the session mid-walk.
    pub session_ttl_hours: i64,
    /// A session not used for this long ends before its expiry (a lost or
    /// shelved phone). Long: workers walk offline for days.
    pub session_idle_hours: i64,
    /// Mark the session cookie `Secure`; always so when `public_url` is https.
    pub secure_cookie: bool,
    /// Proxies in front of this instance (comma-separated addresses or
    /// networks, e.g. `127.0.0.1, 10.0.0.0/8`): only their
    /// `Forwarded` / `X-Forwarded-For` headers name the client's address.
    /// Empty: the connection's own address, whatever the headers say.
    pub trusted_proxies: String,
    /// Failed logins allowed per user name and per client address in `login_window_secs`.
    pub login_max_failures: u32,
    pub login_window_secs: i64,
    /// Requests per minute one address may make to the public notice pages
    /// (generous: whole estates share one carrier address).
    pub public_requests_per_minute: u32,
    /// Largest photo upload accepted. Phones send about 300 KB after
    /// compressing; this leaves room for a photo sent uncompressed.
    pub photo_max_bytes: usize,
    /// New photos one user may upload in 24 hours (re-uploads of a stored
    /// photo do not count); 0: no limit.
    pub photo_daily_quota: u32,
    /// Largest photo accepted, in pixels, read from the header before decoding
    /// (a small file can declare an enormous image).
    pub photo_max_pixels: u64,
    /// The address people reach the server by (`https://…`), for the links
    /// in the notice feed and on the QR posters, and the site cross-site checks
    /// compare with; https turns on HSTS and the `Secure` cookie. Unset: the
    /// feed and posters work only when reached as localhost (a local install).
    pub public_url: Option<String>,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// SQLite: a folder for scheduled copies of the database
    /// (`gridwalk-20261207T030000Z.db`, named by UTC time). Unset: none
    /// (`server backup PATH` still makes one by hand). PostgreSQL is backed
    /// up with its own tools, so it refuses this setting.
    pub backup_dir: Option<String>,
    /// A new copy when the newest in `backup_dir` is this old (checked every
    /// ten minutes, so a restart does not postpone it).
    pub backup_every_hours: u64,
    /// Copies kept in `backup_dir`; older ones (only files named like a
    /// copy) are deleted.
    pub backup_keep: usize,
    /// Seconds a request may take from arrival to answer (then 408).
    pub request_timeout_secs: u64,
    /// Uploads (photos, notice files, spreadsheets) may take longer while
    /// their body keeps arriving: 408 only after this many seconds without
    /// a byte (a phone on weak 3G sends a 2 MB photo in about 40 s).
    pub upload_idle_secs: u64,
    /// Photos and notice files no record names are removed once this old
    /// (`server::sweep`): long enough for a record still waiting in a
    /// phone's outbox (a worker offline for days, or fixing a rejected
    /// record) to arrive and name its photo. At least 1.
    pub sweep_grace_hours: u64,
    /// How often the server sweeps (one instance of several does, whichever
    /// finds it due); 0: never on its own (`server sweep` still does).
    pub sweep_every_hours: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://data/gridwalk.db".into(),
            database_replica_url: None,
            database_max_connections: 8,
            sqlite_full_sync: true,
            photo_store: "data/photos".into(),
            addr: "127.0.0.1:3000".into(),
            site_root: "target/site".into(),
            demo_data: false,
            sync_max_concurrent: 16,
            sync_queue_ms: 2_000,
            sync_retry_after_secs: 5,
            sync_snapshot_mb: 32,
            session_ttl_hours: 24 * 30,
            session_idle_hours: 24 * 10,
            secure_cookie: false,
            trusted_proxies: String::new(),
            login_max_failures: 5,
            login_window_secs: 15 * 60,
            public_requests_per_minute: 600,
            photo_max_bytes: 8 * 1024 * 1024,
            photo_max_pixels: 25_000_000,
            photo_daily_quota: 300,
            public_url: None,
            log_format: "text".into(),
            backup_dir: None,
            backup_every_hours: 24,
            backup_keep: 7,
            request_timeout_secs: 30,
            upload_idle_secs: 20,
            sweep_grace_hours: 7 * 24,
            sweep_every_hours: 24,
        }
    }
}

impl Settings {
    pub fn load() -> Result<Self, Box<figment::Error>> {
        let file = std::env::var("GRIDWALK_CONFIG").unwrap_or_else(|_| "gridwalk.toml".into());
        let mut figment = Figment::from(Serialized::defaults(Settings::default())).merge(Toml::file(file));
        if let Ok(addr) = std::env::var("LEPTOS_SITE_ADDR") {
            figment = figment.merge(Serialized::default("addr", addr));
        }
        if let Ok(root) = std::env::var("LEPTOS_SITE_ROOT") {
            figment = figment.merge(Serialized::default("site_root", root));
        }
        figment
            .merge(Env::prefixed("GRIDWALK_").ignore(&["config"]))
            .extract()
            .map_err(Box::new)
    }

    /// The SQLite file behind `database_url`, if it is a file.
    pub fn database_file(&self) -> Option<PathBuf> {
        store::sqlite_file(&self.database_url)
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn database_file_from_url() {
        let mut s = Settings::default();
        assert_eq!(s.database_file().unwrap().to_str(), Some("data/gridwalk.db"));
        s.database_url = "sqlite:/tmp/x.db?mode=rwc".into();
        assert_eq!(s.database_file().unwrap().to_str(), Some("/tmp/x.db"));
        s.database_url = "sqlite::memory:".into();
        assert!(s.database_file().is_none());
    }
}
