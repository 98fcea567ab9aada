//! The embedded database: one SQLite file in WAL mode, migrated on start.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::config::Settings;

pub async fn connect(settings: &Settings) -> Result<SqlitePool, sqlx::Error> {
    if let Some(parent) = settings.database_file().as_deref().and_then(std::path::Path::parent)
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let options = SqliteConnectOptions::from_str(&settings.database_url)?
        .create_if_missing(true)
        // WAL: readers never wait for the writer; NORMAL is durable in WAL mode
        // across application crashes (a power cut may lose the last commit).
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// For `/healthz`: the database answers a query.
pub async fn ping(pool: &SqlitePool) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(pool).await.is_ok()
}
