//! Copies of the embedded SQLite database, and the checks a copy must pass
//! before it may replace one. PostgreSQL is copied with its own tools
//! (`pg_dump`, or base backups with WAL archiving), never from here: a copy
//! made row by row would be neither consistent nor complete.

use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::engine::Pool;
use crate::{Result, Store};

/// The migrations this binary knows: a copy that has run others was made
/// by another (newer) build, whose schema this one must not serve.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Tables every Gridwalk database has had since its first migration.
const CORE_TABLES: &[&str] = &[
    "communities",
    "grids",
    "buildings",
    "households",
    "residents",
    "users",
    "visits",
];

impl Store {
    /// A consistent copy of the database in a new file at `path`, taken while
    /// it serves: `VACUUM INTO` reads one snapshot, and under WAL the writers
    /// carry on meanwhile. SQLite does not sync the new file; the caller
    /// syncs it before trusting it. On PostgreSQL: an error naming its tools.
    pub async fn backup_into(&self, path: &Path) -> Result<()> {
        match self.primary() {
            Pool::Sqlite(pool) => vacuum_into(pool, path).await,
            Pool::Postgres(_) => Err(postgres_has_its_own_tools()),
        }
    }
}

/// `Store::backup_into` for a database file this process has not opened (the
/// `backup` command, beside a running server): opened read-only, as it is,
/// never created or migrated.
pub async fn backup_file(database: &Path, path: &Path) -> Result<()> {
    let options = SqliteConnectOptions::new()
        .filename(database)
        .read_only(true)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let copied = vacuum_into(&pool, path).await;
    pool.close().await;
    copied
}

/// SQLite refuses an existing, non-empty target: a copy never overwrites.
async fn vacuum_into(pool: &SqlitePool, path: &Path) -> Result<()> {
    let path = path
        .to_str()
        .ok_or_else(|| sqlx::Error::Configuration(format!("{} is not a UTF-8 path", path.display()).into()))?;
    sqlx::query("VACUUM INTO $1").bind(path).execute(pool).await?;
    Ok(())
}

fn postgres_has_its_own_tools() -> sqlx::Error {
    sqlx::Error::Configuration(
        "a PostgreSQL database is backed up with its own tools (pg_dump, or base backups with WAL archiving)".into(),
    )
}

/// What a checked copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The last migration the copy has run.
    pub schema_version: i64,
    pub households: i64,
    pub visits: i64,
    pub bytes: u64,
}

/// Why a copy may not replace the database.
#[derive(Debug)]
pub enum CopyError {
    Unreadable(std::io::Error),
    NotSqlite,
    Truncated { expected: u64, actual: u64 },
    Damaged(String),
    Unopenable(sqlx::Error),
    NotGridwalk(String),
    Newer { version: i64, known: i64 },
    OtherBuild { version: i64 },
    HalfMigrated { version: i64 },
}

impl std::fmt::Display for CopyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CopyError::Unreadable(e) => write!(f, "it cannot be read ({e})"),
            CopyError::NotSqlite => write!(f, "it is not an SQLite database"),
            CopyError::Truncated { expected, actual } => write!(
                f,
                "it is cut short ({actual} of the {expected} bytes its header announces): an unfinished copy"
            ),
            CopyError::Damaged(found) => write!(f, "it is damaged (integrity check: {found})"),
            CopyError::Unopenable(e) => write!(f, "it cannot be opened as a database ({e})"),
            CopyError::NotGridwalk(what) => write!(f, "it is not a Gridwalk database ({what})"),
            CopyError::Newer { version, known } => write!(
                f,
                "it was made by a newer Gridwalk (schema version {version}; this one knows up to {known}): \
                 restore it with that version"
            ),
            CopyError::OtherBuild { version } => write!(
                f,
                "its migration {version} differs from this Gridwalk's migration {version}: it was made by another build"
            ),
            CopyError::HalfMigrated { version } => {
                write!(f, "an upgrade to schema version {version} failed part-way in it")
            }
        }
    }
}

impl std::error::Error for CopyError {}

/// Whether the SQLite file at `path` may replace the database: it is whole
/// (`PRAGMA integrity_check`), it is Gridwalk's, and its schema is one this
/// binary can serve (an older schema is migrated on the next start; a newer
/// one is refused). Opened read-only: the copy is not changed.
pub async fn check_copy(path: &Path) -> Result<CopyReport, CopyError> {
    let bytes = check_header(path)?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(CopyError::Unopenable)?;
    let report = check_open_copy(&pool, bytes).await;
    pool.close().await;
    report
}

/// The 100-byte header: SQLite's magic string, and a size no larger than
/// the file (a copy cut short by a full disk or an interrupted transfer).
fn check_header(path: &Path) -> Result<u64, CopyError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(CopyError::Unreadable)?;
    let bytes = file.metadata().map_err(CopyError::Unreadable)?.len();
    let mut header = [0u8; 100];
    if file.read_exact(&mut header).is_err() || !header.starts_with(b"SQLite format 3\0") {
        return Err(CopyError::NotSqlite);
    }
    let be32 = |at: usize| u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    // A page size of 1 stands for 65,536.
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        size => u64::from(size),
    };
    // The size in the header counts only when written by the same change as
    // the file (bytes 92..96 match the change counter at 24..28).
    if be32(92) == be32(24) {
        let expected = u64::from(be32(28)) * page_size;
        if expected > bytes {
            return Err(CopyError::Truncated {
                expected,
                actual: bytes,
            });
        }
    }
    Ok(bytes)
}

async fn check_open_copy(pool: &SqlitePool, bytes: u64) -> Result<CopyReport, CopyError> {
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(pool)
        .await
        .map_err(CopyError::Unopenable)?;
    if integrity != ["ok"] {
        let mut found: Vec<String> = integrity.into_iter().take(3).collect();
        found.dedup();
        return Err(CopyError::Damaged(found.join("; ")));
    }
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(pool)
        .await
        .map_err(CopyError::Unopenable)?;
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(CopyError::NotGridwalk("it records no schema version".into()));
    }
    if let Some(missing) = CORE_TABLES.iter().find(|t| !tables.iter().any(|have| have == *t)) {
        return Err(CopyError::NotGridwalk(format!("it has no {missing} table")));
    }
    let applied: Vec<(i64, bool, Vec<u8>)> =
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await
            .map_err(CopyError::Unopenable)?;
    check_versions(&SQLITE_MIGRATIONS, &applied)?;
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .map_err(CopyError::Unopenable)
    };
    Ok(CopyReport {
        schema_version: applied.last().map_or(0, |(version, ..)| *version),
        households: count("households").await?,
        visits: count("visits").await?,
        bytes,
    })
}

/// Every migration the copy ran must be one of `migrator`'s, unchanged and
/// complete: what the server itself would insist on when it starts on it.
fn check_versions(migrator: &Migrator, applied: &[(i64, bool, Vec<u8>)]) -> Result<(), CopyError> {
    let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some((version, ..)) = applied.iter().rev().find(|(v, ..)| *v > known) {
        return Err(CopyError::Newer {
            version: *version,
            known,
        });
    }
    for (version, success, checksum) in applied {
        if !success {
            return Err(CopyError::HalfMigrated { version: *version });
        }
        match migrator
            .iter()
            .find(|m| m.version == *version && !m.migration_type.is_down_migration())
        {
            Some(m) if *m.checksum == **checksum => {}
            // Unknown below the newest, or the same number with other SQL.
            _ => return Err(CopyError::OtherBuild { version: *version }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{CopyError, SQLITE_MIGRATIONS, check_versions};

    fn applied() -> Vec<(i64, bool, Vec<u8>)> {
        SQLITE_MIGRATIONS
            .iter()
            .map(|m| (m.version, true, m.checksum.to_vec()))
            .collect()
    }

    #[test]
    fn a_copy_of_this_or_an_older_schema_passes() {
        let all = applied();
        assert!(check_versions(&SQLITE_MIGRATIONS, &all).is_ok());
        assert!(check_versions(&SQLITE_MIGRATIONS, &all[..1]).is_ok());
    }

    #[test]
    fn a_newer_changed_or_half_done_schema_is_refused() {
        let mut newer = applied();
        let known = newer.last().unwrap().0;
        newer.push((known + 1, true, vec![0; 48]));
        assert!(matches!(
            check_versions(&SQLITE_MIGRATIONS, &newer),
            Err(CopyError::Newer { version, .. }) if version == known + 1
        ));

        let mut changed = applied();
        changed[0].2[0] ^= 1;
        assert!(matches!(
            check_versions(&SQLITE_MIGRATIONS, &changed),
            Err(CopyError::OtherBuild { .. })
        ));

        let mut failed = applied();
        failed.last_mut().unwrap().1 = false;
        assert!(matches!(
            check_versions(&SQLITE_MIGRATIONS, &failed),
            Err(CopyError::HalfMigrated { .. })
        ));
    }
}
