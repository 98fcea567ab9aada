//! The database, from the settings: SQLite by default, PostgreSQL when
//! `database_url` says `postgres://`. Migrated on start.

use store::{Options, Store};

use crate::config::Settings;

pub async fn connect(settings: &Settings) -> Result<Store, store::Error> {
    Store::connect(&Options {
        database_url: settings.database_url.clone(),
        replica_url: settings.database_replica_url.clone(),
        max_connections: settings.database_max_connections,
        sqlite_full_sync: settings.sqlite_full_sync,
    })
    .await
}
