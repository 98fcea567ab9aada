//! The two engines behind one `Store`: the embedded SQLite file for one
//! community, PostgreSQL for a city. Native sqlx pools in an enum (not
//! `sqlx::Any`, which would lose each engine's own types): every portable query
//! is written once inside `on_pool!` / `on_tx!` and compiled for both.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::Result;

/// One engine's connection pool.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs `$body` on whichever engine `$pool` (a `&Pool`) holds, with `$c` bound
/// to that engine's native pool (`&SqlitePool` or `&PgPool`). The body is
/// compiled once per engine, so a query that is not portable fails to build or
/// fails the engine's tests, never silently.
macro_rules! on_pool {
    ($pool:expr, |$c:ident| $body:expr) => {
        match $pool {
            $crate::engine::Pool::Sqlite($c) => $body,
            $crate::engine::Pool::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_pool;

/// `on_pool!` for a transaction: `$c` is the engine's `&mut …Connection`;
/// reborrow it (`&mut *c`) for each query.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut $tx.conn {
            $crate::engine::TxConn::Sqlite(t) => {
                let $c: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::engine::TxConn::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct Options {
    /// `sqlite://path/file.db` or `postgres://user@host/db`.
    pub database_url: String,
    /// A PostgreSQL read replica for reports and pages that may lag the primary
    /// by a moment (coverage, ledgers, public notices). Never used for sessions
    /// or anything read back right after a write.
    pub replica_url: Option<String>,
    /// Connections per pool (per server instance).
    pub max_connections: u32,
    /// SQLite only: sync the WAL at every commit (`synchronous = FULL`).
    /// A phone drops what the server acknowledged, so an acknowledged commit
    /// must survive a power cut; NORMAL survives only a crash of the process.
    pub sqlite_full_sync: bool,
}

impl Options {
    pub fn new(database_url: impl Into<String>) -> Self {
        Options {
            database_url: database_url.into(),
            replica_url: None,
            max_connections: 8,
            sqlite_full_sync: true,
        }
    }
}

/// The database: a primary pool for writes and consistent reads, and a pool
/// for lag-tolerant reads (the replica, or the primary again).
#[derive(Clone, Debug)]
pub struct Store {
    primary: Pool,
    replica: Pool,
}

impl Store {
    /// Connects and brings the schema up to date. Several instances starting at
    /// once are safe: sqlx takes an advisory lock on PostgreSQL for the whole
    /// migration run, and SQLite has one writer.
    pub async fn connect(options: &Options) -> Result<Store> {
        let primary = open(&options.database_url, options).await?;
        match &primary {
            Pool::Sqlite(pool) => {
                let migrator = sqlx::migrate!("./migrations/sqlite");
                if let Some(file) = sqlite_file(&options.database_url) {
                    snapshot_before_migrating(pool, &migrator, &file).await?;
                }
                migrator.run(pool).await?;
            }
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        let replica = match &options.replica_url {
            Some(url) => {
                let replica = open(url, options).await?;
                if std::mem::discriminant(&replica) != std::mem::discriminant(&primary) {
                    return Err(sqlx::Error::Configuration(
                        "the read replica must run the same engine as the primary".into(),
                    ));
                }
                replica
            }
            None => primary.clone(),
        };
        Ok(Store { primary, replica })
    }

    pub fn engine(&self) -> Engine {
        match self.primary {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// Writes, and reads that must see them.
    pub(crate) fn primary(&self) -> &Pool {
        &self.primary
    }

    /// Reads that may lag a moment behind the primary.
    pub(crate) fn replica(&self) -> &Pool {
        &self.replica
    }

    /// For `/healthz`: the database answers a query.
    pub async fn ping(&self) -> bool {
        on_pool!(&self.primary, |c| sqlx::query("SELECT 1").execute(c).await.is_ok())
    }

    /// A write transaction. Changes recorded in it get their place in the
    /// pull sequence only at commit (see `Tx::commit`).
    pub async fn begin(&self) -> Result<Tx> {
        let conn = match &self.primary {
            Pool::Sqlite(pool) => TxConn::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            conn,
            changes: Vec::new(),
        })
    }

    pub async fn close(&self) {
        on_pool!(&self.primary, |c| c.close().await);
        on_pool!(&self.replica, |c| c.close().await);
    }

    /// A consistent copy of an SQLite database in one file (backups, test
    /// templates). Answers `false` on PostgreSQL, whose copies are made with
    /// its own tools (`pg_dump`, `CREATE DATABASE … TEMPLATE`).
    pub async fn vacuum_into(&self, path: &std::path::Path) -> Result<bool> {
        match &self.primary {
            Pool::Sqlite(pool) => {
                let path = path.display().to_string().replace('\'', "''");
                sqlx::query(&format!("VACUUM INTO '{path}'")).execute(pool).await?;
                Ok(true)
            }
            Pool::Postgres(_) => Ok(false),
        }
    }
}

/// A copy of an SQLite file that is about to be migrated, beside it
/// (`gridwalk.db.before-9.db`, named after the first migration to run): a
/// migration that goes wrong, or a new version that has to be rolled back,
/// must not cost the street's data. Nothing is copied for a new database or
/// one already up to date. (PostgreSQL is backed up with its own tools before
/// an upgrade: README, "What to back up".)
async fn snapshot_before_migrating(
    pool: &SqlitePool,
    migrator: &sqlx::migrate::Migrator,
    file: &std::path::Path,
) -> Result<()> {
    let migrated: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    if !migrated {
        return Ok(());
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(pool)
        .await?;
    if applied.is_empty() {
        return Ok(());
    }
    let Some(next) = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
        .map(|m| m.version)
        .min()
    else {
        return Ok(());
    };
    let mut copy = file.as_os_str().to_owned();
    copy.push(format!(".before-{next}.db"));
    let copy = std::path::PathBuf::from(copy);
    if copy.exists() {
        // A start that failed half-way already copied the same state.
        return Ok(());
    }
    tracing::info!(copy = %copy.display(), "copying the database before migrating it");
    let path = copy.display().to_string().replace('\'', "''");
    sqlx::query(&format!("VACUUM INTO '{path}'")).execute(pool).await?;
    Ok(())
}

async fn open(url: &str, settings: &Options) -> Result<Pool> {
    let max_connections = settings.max_connections;
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // JIT off: these are short OLTP queries, and PostgreSQL's JIT
        // compiled the household ledger for 300 ms of its 330 (measured).
        let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        return Ok(Pool::Postgres(pool));
    }
    if !url.starts_with("sqlite:") {
        return Err(sqlx::Error::Configuration(
            format!("database_url must start with sqlite:// or postgres:// (got {url:?})").into(),
        ));
    }
    if let Some(parent) = sqlite_file(url).as_deref().and_then(std::path::Path::parent)
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        // WAL: readers never wait for the writer. FULL syncs the WAL at each
        // commit (see `Options::sqlite_full_sync`; its cost is in BENCHMARKS.md).
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(if settings.sqlite_full_sync {
            SqliteSynchronous::Full
        } else {
            SqliteSynchronous::Normal
        })
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await?;
    Ok(Pool::Sqlite(pool))
}

/// The file behind a `sqlite:` URL, if it is a file.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

pub(crate) enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A change to appear in the pull sequence when its transaction commits.
struct PendingChange {
    entity: &'static str,
    entity_id: String,
    grid_id: String,
    at: i64,
}

/// A write transaction on either engine.
pub struct Tx {
    pub(crate) conn: TxConn,
    changes: Vec<PendingChange>,
}

const CHANGE_COLUMNS: &[&str] = &["seq", "entity", "entity_id", "grid_id", "at"];

impl Tx {
    pub fn engine(&self) -> Engine {
        match self.conn {
            TxConn::Sqlite(_) => Engine::Sqlite,
            TxConn::Postgres(_) => Engine::Postgres,
        }
    }

    /// Queues a row of the pull sequence (`changes`); it is numbered at commit.
    pub fn record_change(&mut self, entity: &'static str, entity_id: &str, grid_id: &str, at: i64) {
        self.changes.push(PendingChange {
            entity,
            entity_id: entity_id.to_owned(),
            grid_id: grid_id.to_owned(),
            at,
        });
    }

    /// Queues the change of a record that may have left grid `from` for `to`:
    /// in both when they differ, so the phones of `from` pull it too and learn
    /// (as a removal) that it left them.
    pub fn record_move(&mut self, entity: &'static str, entity_id: &str, from: &str, to: &str, at: i64) {
        self.record_change(entity, entity_id, to, at);
        if from != to {
            self.record_change(entity, entity_id, from, at);
        }
    }

    /// Numbers the queued changes and commits.
    ///
    /// Why the numbers are taken here, from a counter row, rather than from an
    /// identity column at insert time: on PostgreSQL a transaction that took
    /// seq 7 may commit after one that took seq 8; a phone pulling in between
    /// sees 8, moves its cursor past 7 and never gets it. Taking the numbers by
    /// `UPDATE change_counter … RETURNING` as the transaction's last statement
    /// holds the counter row's lock until commit, so the next writer gets its
    /// numbers only after this one is visible: numbering order is commit order.
    /// Writers queue on that one row only for the moment between their last
    /// statement and their commit. (The alternative, an xid8 snapshot cursor,
    /// exposes PostgreSQL internals in the phone's cursor and has no SQLite
    /// counterpart; this is one code path for both engines. On SQLite, with
    /// its single writer, the lock is free.)
    pub async fn commit(mut self) -> Result<()> {
        if !self.changes.is_empty() {
            let count = self.changes.len() as i64;
            let last: i64 = on_tx!(self, |c| sqlx::query_scalar(
                "UPDATE change_counter SET seq = seq + $1 WHERE id = 1 RETURNING seq"
            )
            .bind(count)
            .fetch_one(&mut *c)
            .await)?;
            let mut seq = last - count;
            let changes = std::mem::take(&mut self.changes);
            for chunk in changes.chunks(MAX_BINDS / CHANGE_COLUMNS.len()) {
                let sql = insert_values_sql(self.engine(), "changes", CHANGE_COLUMNS, chunk.len());
                on_tx!(self, |c| {
                    let mut query = sqlx::query(&sql);
                    for change in chunk {
                        seq += 1;
                        query = query
                            .bind(seq)
                            .bind(change.entity)
                            .bind(&change.entity_id)
                            .bind(&change.grid_id)
                            .bind(change.at);
                    }
                    query.execute(&mut *c).await.map(|r| r.rows_affected())
                })?;
            }
        }
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await,
            TxConn::Postgres(t) => t.commit().await,
        }
    }

    /// Undoes everything, queued changes included. (Dropping a `Tx` does too.)
    pub async fn rollback(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(t) => t.rollback().await,
            TxConn::Postgres(t) => t.rollback().await,
        }
    }
}

/// Most parameters one statement may bind on both engines: SQLite's limit
/// (PostgreSQL's is 65,535). Fewer, larger statements are what makes a bulk
/// load fast; one limit for both keeps one code path.
pub(crate) const MAX_BINDS: usize = 32_766;

/// `INSERT INTO table (a, b) VALUES ($1, $2), ($3, $4), …` for `rows` rows.
///
/// On SQLite the placeholders are plain `?` instead: its parser looks every
/// numbered or named parameter up in a list of those seen so far, which is
/// quadratic in a statement of thousands of them (seconds for the demo),
/// while `?` just takes the next number.
pub(crate) fn insert_values_sql(engine: Engine, table: &str, columns: &[&str], rows: usize) -> String {
    let width = columns.len();
    let placeholder = |i: usize| match engine {
        Engine::Sqlite => "?".to_owned(),
        Engine::Postgres => format!("${}", i + 1),
    };
    let tuples: Vec<String> = (0..rows)
        .map(|row| {
            let params: Vec<String> = (0..width).map(|col| placeholder(row * width + col)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        tuples.join(", ")
    )
}

/// SQL that binds a list as one parameter is written in PostgreSQL's form,
/// `col = ANY($n)` (one bind however long the list: a city-wide admin's grids
/// never meet a bind limit). SQLite has no arrays, so there the same query
/// reads the list from JSON: `col IN (SELECT value FROM json_each($n))`
/// (`Ids` binds JSON text on SQLite). The rewrite is done once per query text.
pub(crate) fn sql_for(engine: Engine, sql: &'static str) -> &'static str {
    static SQLITE: LazyLock<Mutex<HashMap<&'static str, &'static str>>> = LazyLock::new(Default::default);
    if engine == Engine::Postgres || !sql.contains("= ANY($") {
        return sql;
    }
    let mut cache = SQLITE.lock().unwrap_or_else(|e| e.into_inner());
    // Leaked once per distinct query text: a fixed set, like the statement cache.
    cache
        .entry(sql)
        .or_insert_with(|| Box::leak(rewrite_any(sql).into_boxed_str()))
}

fn rewrite_any(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut rest = sql;
    while let Some(at) = rest.find("= ANY($") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "= ANY(".len()..];
        let end = after.find(')').unwrap_or(after.len());
        out.push_str("IN (SELECT value FROM json_each(");
        out.push_str(&after[..end]);
        out.push_str("))");
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

impl Pool {
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// The query text for this engine (see `sql_for`).
    pub(crate) fn sql(&self, sql: &'static str) -> &'static str {
        sql_for(self.engine(), sql)
    }
}

impl Tx {
    /// The query text for this engine (see `sql_for`).
    pub(crate) fn sql(&self, sql: &'static str) -> &'static str {
        sql_for(self.engine(), sql)
    }
}

#[cfg(test)]
mod tests {
    use super::{Engine, insert_values_sql, rewrite_any};

    #[test]
    fn insert_sql_numbers_every_row() {
        assert_eq!(
            insert_values_sql(Engine::Postgres, "user_grids", &["user_id", "grid_id"], 2),
            "INSERT INTO user_grids (user_id, grid_id) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            insert_values_sql(Engine::Sqlite, "user_grids", &["user_id", "grid_id"], 2),
            "INSERT INTO user_grids (user_id, grid_id) VALUES (?, ?), (?, ?)"
        );
    }

    #[test]
    fn any_becomes_json_each_on_sqlite() {
        assert_eq!(
            rewrite_any("SELECT 1 FROM g WHERE id = ANY($1) AND x = ANY($12) ORDER BY y"),
            "SELECT 1 FROM g WHERE id IN (SELECT value FROM json_each($1)) AND x IN (SELECT value FROM json_each($12)) ORDER BY y"
        );
        assert_eq!(rewrite_any("SELECT 2"), "SELECT 2");
    }

    fn copies_in(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".before-"))
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn an_sqlite_file_is_copied_before_a_migration_changes_it_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("street.db").display());

        // A new database: nothing to keep.
        super::Store::connect(&super::Options::new(url.clone()))
            .await
            .unwrap()
            .close()
            .await;
        assert!(copies_in(dir.path()).is_empty());

        // An older version's database: every migration but the last.
        let all = sqlx::migrate!("./migrations/sqlite");
        let last = all.migrations.last().unwrap().version;
        let older_file = dir.path().join("older.db");
        let older_url = format!("sqlite://{}", older_file.display());
        let older = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(all.migrations[..all.migrations.len() - 1].to_vec()),
            ..sqlx::migrate!("./migrations/sqlite")
        };
        let pool = sqlx::SqlitePool::connect(&format!("{older_url}?mode=rwc"))
            .await
            .unwrap();
        older.run(&pool).await.unwrap();
        pool.close().await;

        super::Store::connect(&super::Options::new(older_url.clone()))
            .await
            .unwrap()
            .close()
            .await;
        assert_eq!(copies_in(dir.path()), [format!("older.db.before-{last}.db")]);
        let copy = sqlx::SqlitePool::connect(&format!(
            "sqlite://{}",
            dir.path().join(&copies_in(dir.path())[0]).display()
        ))
        .await
        .unwrap();
        let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&copy)
            .await
            .unwrap();
        assert_eq!(
            versions as usize,
            all.migrations.len() - 1,
            "the copy is the database as it was"
        );
        copy.close().await;

        // Up to date now: the next start copies nothing.
        super::Store::connect(&super::Options::new(older_url))
            .await
            .unwrap()
            .close()
            .await;
        assert_eq!(copies_in(dir.path()).len(), 1);
    }

    /// Migration 0020 rebuilds `users` (SQLite cannot widen a CHECK): on a
    /// database with accounts, sessions and audit rows naming them, every row
    /// stays, every reference still holds, and a member's account fits.
    #[tokio::test]
    async fn the_users_rebuild_keeps_every_account_and_every_reference() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("street.db").display());
        let all = sqlx::migrate!("./migrations/sqlite");
        let before = all
            .migrations
            .iter()
            .position(|m| m.version == 20)
            .expect("migration 0020");
        let older = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(all.migrations[..before].to_vec()),
            ..sqlx::migrate!("./migrations/sqlite")
        };
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
        let pool = sqlx::SqlitePool::connect_with(options.foreign_keys(true))
            .await
            .unwrap();
        older.run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO streets (id, name) VALUES ('s', '街道')",
            "INSERT INTO communities (id, street_id, name) VALUES ('c', 's', '社区')",
            "INSERT INTO users (id, username, display_name, role, community_id, password_hash, created_at,
                                must_change_password, work_phone)
             VALUES ('u', 'lead', '网格长', 'lead', 'c', 'h', 1, 1, '0571-1')",
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('t', 'u', 1, 2)",
            "INSERT INTO audit_log (id, at, user_id, action, entity, entity_id, route)
             VALUES ('a', 1, 'u', 'read', 'household', 'x', '/')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        all.run(&pool).await.unwrap();

        let kept: (String, String, bool, Option<String>) =
            sqlx::query_as("SELECT username, role, must_change_password, work_phone FROM users WHERE id = 'u'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(kept, ("lead".into(), "lead".into(), true, Some("0571-1".into())));
        let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(broken.is_empty(), "{broken:?}");
        // The session still finds its user (a join through the new table).
        let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(sessions, 1);
        sqlx::query(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at)
             VALUES ('m', 'member', '党员', 'member', 'h', 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        // Still refused: a role that does not exist.
        let bad = sqlx::query(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at)
             VALUES ('x', 'x', 'x', 'boss', 'h', 1)",
        )
        .execute(&pool)
        .await;
        assert!(bad.is_err());
        // A user that does not exist is still refused as a reference.
        let orphan = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('o', 'nobody', 1, 2)",
        )
        .execute(&pool)
        .await;
        assert!(orphan.is_err(), "foreign keys are on again");
        pool.close().await;
    }
}
