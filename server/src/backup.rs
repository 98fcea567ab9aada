//! Copies of the embedded SQLite database and putting one back:
//! `server backup PATH` while the server runs, `server restore PATH` while it
//! does not, and the optional schedule (`backup_dir`) that keeps the newest
//! `backup_keep` copies. PostgreSQL and S3 are backed up with their own tools
//! (README, "Backups").
//!
//! A copy is written under a temporary name, checked as a restore would check
//! it, synced and only then renamed to its name: a file with a copy's name is
//! a whole copy. A running server holds a shared lock on `<database>.lock`;
//! a restore takes it exclusively, so neither starts while the other runs.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use store::Store;
use store::backup::{CopyError, CopyReport};

use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the database is PostgreSQL: back it up with `pg_dump -Fc` and restore with `pg_restore` \
         (or use base backups with WAL archiving); README, \"Backups\""
    )]
    Postgres,
    /// (The URL itself is not repeated: it may hold a password.)
    #[error("database_url names no SQLite file (an in-memory database, or another engine)")]
    NoFile,
    #[error("there is no database at {}", .0.display())]
    NoDatabase(PathBuf),
    #[error("{} already exists: a backup never overwrites a file, choose a new name", .0.display())]
    Exists(PathBuf),
    #[error(
        "a Gridwalk server is running on {}: stop it first (a restore replaces the file under it)",
        .0.display()
    )]
    ServerRunning(PathBuf),
    #[error("a restore is replacing {}: start the server when it has finished", .0.display())]
    Restoring(PathBuf),
    #[error("{} is the database itself", .0.display())]
    SameFile(PathBuf),
    #[error("{what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("copying the database: {0}")]
    Copy(#[from] store::Error),
    #[error("{} cannot be used: {problem}", .path.display())]
    Check { path: PathBuf, problem: CopyError },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_owned();
    move |source| BackupError::Io { what, path, source }
}

/// The SQLite file the settings name.
fn database_file(settings: &Settings) -> Result<PathBuf, BackupError> {
    let url = &settings.database_url;
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(BackupError::Postgres);
    }
    settings.database_file().ok_or(BackupError::NoFile)
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// An advisory lock on `<database>.lock`, held until dropped.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

fn open_lock(database: &Path) -> Result<File, BackupError> {
    if let Some(folder) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(io("creating", folder))?;
    }
    let path = beside(database, ".lock");
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io("opening", &path))
}

/// The lock a server holds on its SQLite file for as long as it runs.
/// Shared: several instances on one file are allowed; a restore is not.
/// `None` on PostgreSQL and for an in-memory database.
pub fn hold_for_serving(settings: &Settings) -> Result<Option<DatabaseLock>, BackupError> {
    let database = match database_file(settings) {
        Ok(database) => database,
        Err(BackupError::Postgres | BackupError::NoFile) => return Ok(None),
        Err(e) => return Err(e),
    };
    let file = open_lock(&database)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(DatabaseLock { _file: file })),
        Err(TryLockError::WouldBlock) => Err(BackupError::Restoring(database)),
        Err(TryLockError::Error(e)) => Err(io("locking", &beside(&database, ".lock"))(e)),
    }
}

/// The lock a restore holds: refused while any server runs on the file.
fn hold_for_restoring(database: &Path) -> Result<DatabaseLock, BackupError> {
    let file = open_lock(database)?;
    match file.try_lock() {
        Ok(()) => Ok(DatabaseLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(BackupError::ServerRunning(database.to_owned())),
        Err(TryLockError::Error(e)) => Err(io("locking", &beside(database, ".lock"))(e)),
    }
}

/// A copy that was written and checked.
#[derive(Debug)]
pub struct Backup {
    pub database: PathBuf,
    pub copy: PathBuf,
    pub report: CopyReport,
}

impl std::fmt::Display for Backup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "backed up {} to {}: {}",
            self.database.display(),
            self.copy.display(),
            describe(&self.report)
        )
    }
}

fn describe(report: &CopyReport) -> String {
    format!(
        "{:.1} MB, schema version {}, {} households, {} visits; integrity checked",
        report.bytes as f64 / 1_000_000.0,
        report.schema_version,
        report.households,
        report.visits
    )
}

/// Where a copy comes from: the server's own store (the schedule), or the
/// database file beside a server that may be running (`server backup`).
enum Source<'a> {
    Store(&'a Store),
    File(&'a Path),
}

/// `server backup PATH`: a consistent copy of the configured SQLite database
/// at `target`, while a server runs on it or not. Never overwrites a file;
/// the copy is checked before it gets its name.
pub async fn backup(settings: &Settings, target: &Path) -> Result<Backup, BackupError> {
    let database = database_file(settings)?;
    if !database.is_file() {
        return Err(BackupError::NoDatabase(database));
    }
    let report = write_copy(Source::File(&database), target).await?;
    Ok(Backup {
        database,
        copy: target.to_owned(),
        report,
    })
}

/// Checks the SQLite file at `path` as a restore would.
pub async fn check(path: &Path) -> Result<CopyReport, BackupError> {
    store::backup::check_copy(path)
        .await
        .map_err(|problem| BackupError::Check {
            path: path.to_owned(),
            problem,
        })
}

/// A copy being written.
const PARTIAL_SUFFIX: &str = ".partial";

/// Copies into `<target>.partial`, checks, syncs, renames to `target`.
async fn write_copy(source: Source<'_>, target: &Path) -> Result<CopyReport, BackupError> {
    if target.symlink_metadata().is_ok() {
        return Err(BackupError::Exists(target.to_owned()));
    }
    let partial = beside(target, PARTIAL_SUFFIX);
    // Left by a copy that was cut off: never a whole copy.
    remove_if_present(&partial)?;
    let written = async {
        match source {
            Source::Store(store) => store.backup_into(&partial).await?,
            Source::File(database) => store::backup::backup_file(database, &partial).await?,
        }
        let report = check(&partial).await?;
        // Syncing a large file takes a while: off the server's threads.
        let (from, to) = (partial.clone(), target.to_owned());
        tokio::task::spawn_blocking(move || {
            sync_file(&from)?;
            if to.symlink_metadata().is_ok() {
                return Err(BackupError::Exists(to));
            }
            std::fs::rename(&from, &to).map_err(io("naming the copy", &to))?;
            sync_folder_of(&to)
        })
        .await
        .map_err(|e| io("syncing", target)(std::io::Error::other(e)))??;
        Ok(report)
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

fn remove_if_present(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("removing", path)(e)),
        _ => Ok(()),
    }
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    File::open(path).and_then(|f| f.sync_all()).map_err(io("syncing", path))
}

/// A rename is durable once the folder holding it is synced.
fn sync_folder_of(path: &Path) -> Result<(), BackupError> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    sync_file(folder)
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub database: PathBuf,
    pub copy: PathBuf,
    pub report: CopyReport,
    /// Where the database that was replaced now is, if there was one.
    pub kept: Option<PathBuf>,
    /// Its write-ahead log or rollback journal, moved along with it.
    pub kept_journals: Vec<PathBuf>,
}

impl std::fmt::Display for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "checked {}: {}", self.copy.display(), describe(&self.report))?;
        if let Some(kept) = &self.kept {
            writeln!(f, "kept the database it replaces as {}", kept.display())?;
        }
        for journal in &self.kept_journals {
            writeln!(f, "kept its log, not yet in the file, as {}", journal.display())?;
        }
        write!(
            f,
            "restored {} to {}; the server migrates it, if it is older, on its next start",
            self.copy.display(),
            self.database.display()
        )
    }
}

/// `server restore PATH`: puts the copy at `copy` in place of the
/// configured SQLite database. Refused while a server runs on it; the copy is
/// checked before anything is touched; the database it replaces is kept
/// beside it as `<database>.before-restore-<UTC time>`.
pub async fn restore(settings: &Settings, copy: &Path) -> Result<Restored, BackupError> {
    let database = database_file(settings)?;
    let _lock = hold_for_restoring(&database)?;
    if let (Ok(a), Ok(b)) = (copy.canonicalize(), database.canonicalize())
        && a == b
    {
        return Err(BackupError::SameFile(database));
    }
    let report = check(copy).await?;

    // The whole copy beside the database first, so the swap below is renames.
    let incoming = beside(&database, ".restoring");
    remove_if_present(&incoming)?;
    std::fs::copy(copy, &incoming).map_err(io("copying into", &incoming))?;
    sync_file(&incoming)?;

    let old = beside(
        &database,
        &format!(".before-restore-{}", utc_stamp(app::state::now_ms())),
    );
    let mut kept = None;
    if database.symlink_metadata().is_ok() {
        std::fs::rename(&database, &old).map_err(io("keeping the database as", &old))?;
        kept = Some(old.clone());
    }
    // Its log holds commits not yet in the file: it goes with it (SQLite
    // finds `<name>-wal` beside `<name>`), and must never meet the copy.
    let mut kept_journals = Vec::new();
    for suffix in ["-wal", "-journal"] {
        let journal = beside(&database, suffix);
        // Empty (a read-only reader leaves one behind): nothing to keep.
        if journal.metadata().is_ok_and(|m| m.len() == 0) {
            remove_if_present(&journal)?;
        } else if journal.symlink_metadata().is_ok() {
            let moved = beside(&old, suffix);
            std::fs::rename(&journal, &moved).map_err(io("keeping the log as", &moved))?;
            kept_journals.push(moved);
        }
    }
    // The shared-memory index describes the old log; SQLite rebuilds it.
    remove_if_present(&beside(&database, "-shm"))?;
    std::fs::rename(&incoming, &database).map_err(io("putting the copy in place at", &database))?;
    sync_folder_of(&database)?;
    Ok(Restored {
        database,
        copy: copy.to_owned(),
        report,
        kept,
        kept_journals,
    })
}

/// `20261207T030000Z`: an instant in UTC, in ISO 8601's basic form.
fn utc_stamp(epoch_ms: i64) -> String {
    let date = app::domain::CivilDate::from_epoch_ms(epoch_ms);
    let seconds = epoch_ms.rem_euclid(86_400_000) / 1000;
    format!(
        "{}T{:02}{:02}{:02}Z",
        date.to_compact(),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

const COPY_PREFIX: &str = "gridwalk-";
const COPY_SUFFIX: &str = ".db";

/// The name of a scheduled copy taken at `epoch_ms`.
pub fn copy_name(epoch_ms: i64) -> String {
    format!("{COPY_PREFIX}{}{COPY_SUFFIX}", utc_stamp(epoch_ms))
}

/// When the copy named `name` was taken (to the second), if it is a
/// copy's name; nothing else in the folder is ever touched.
fn copy_time(name: &str) -> Option<i64> {
    let stamp = name.strip_prefix(COPY_PREFIX)?.strip_suffix(COPY_SUFFIX)?;
    let (date, time) = stamp.strip_suffix('Z')?.split_once('T')?;
    if date.len() != 8 || time.len() != 6 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = app::domain::CivilDate::parse(&format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]))?;
    let (h, m, s): (i64, i64, i64) = (
        time[..2].parse().ok()?,
        time[2..4].parse().ok()?,
        time[4..].parse().ok()?,
    );
    (h < 24 && m < 60 && s < 60).then(|| ((day.epoch_day() * 24 + h) * 60 + m) * 60_000 + s * 1000)
}

/// Scheduled copies of the server's SQLite database into a folder.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

/// How often the schedule looks whether a copy is due.
const CHECK_EVERY: Duration = Duration::from_secs(10 * 60);

impl Schedule {
    /// The schedule `backup_dir` asks for, or a sentence saying why it cannot run.
    pub fn from_settings(settings: &Settings) -> Result<Option<Schedule>, String> {
        let Some(dir) = settings.backup_dir.as_deref().filter(|d| !d.is_empty()) else {
            return Ok(None);
        };
        match database_file(settings) {
            Ok(_) => {}
            Err(BackupError::Postgres) => {
                return Err(
                    "backup_dir is for the embedded SQLite database; back PostgreSQL up with \
                            pg_dump or base backups with WAL archiving (README, \"Backups\")"
                        .into(),
                );
            }
            Err(e) => return Err(format!("backup_dir: {e}")),
        }
        if settings.backup_every_hours == 0 || settings.backup_keep == 0 {
            return Err("backup_every_hours and backup_keep must be at least 1".into());
        }
        Ok(Some(Schedule {
            dir: PathBuf::from(dir),
            every: Duration::from_secs(settings.backup_every_hours * 3600),
            keep: settings.backup_keep,
        }))
    }

    /// Runs for as long as the server does: every ten minutes, one `step`.
    pub async fn run(self, store: Store) {
        tracing::info!(dir = %self.dir.display(), every = ?self.every, keep = self.keep, "scheduled backups");
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            match self.step(&store, app::state::now_ms()).await {
                Ok(Some(copy)) => tracing::info!(copy = %copy.display(), "backup written"),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, dir = %self.dir.display(), "scheduled backup failed"),
            }
        }
    }

    /// One turn of the schedule at `now_ms`: a copy if the newest is `every`
    /// old (or there is none), then the oldest copies beyond `keep` deleted.
    /// Answers the new copy's path, if one was taken.
    pub async fn step(&self, store: &Store, now_ms: i64) -> Result<Option<PathBuf>, BackupError> {
        std::fs::create_dir_all(&self.dir).map_err(io("creating", &self.dir))?;
        // Copies cut off by a crash or a shutdown (an hour leaves any copy
        // still being written alone).
        for (at, partial) in self.named(PARTIAL_SUFFIX)? {
            if now_ms - at > 3_600_000 {
                remove_if_present(&partial)?;
            }
        }
        let newest = self.copies()?.into_iter().map(|(at, _)| at).max();
        let due = newest.is_none_or(|at| now_ms - at >= self.every.as_millis() as i64);
        let mut taken = None;
        if due {
            let copy = self.dir.join(copy_name(now_ms));
            write_copy(Source::Store(store), &copy).await?;
            taken = Some(copy);
        }
        let mut copies = self.copies()?;
        copies.sort_unstable_by_key(|(at, _)| std::cmp::Reverse(*at));
        for (_, old) in copies.into_iter().skip(self.keep) {
            std::fs::remove_file(&old).map_err(io("deleting the old copy", &old))?;
            tracing::info!(copy = %old.display(), "old backup deleted");
        }
        Ok(taken)
    }

    /// The copies in the folder, each with the time in its name.
    fn copies(&self) -> Result<Vec<(i64, PathBuf)>, BackupError> {
        self.named("")
    }

    /// The files named like a copy followed by `suffix`, with their times.
    fn named(&self, suffix: &str) -> Result<Vec<(i64, PathBuf)>, BackupError> {
        let entries = std::fs::read_dir(&self.dir).map_err(io("listing", &self.dir))?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io("listing", &self.dir))?;
            if let Some(at) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.strip_suffix(suffix))
                .and_then(copy_time)
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                found.push((at, entry.path()));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::{copy_name, copy_time, utc_stamp};

    #[test]
    fn copies_are_named_by_utc_time_and_read_back() {
        // 2026-12-07 03:00:15 UTC.
        let at = 1_796_612_415_000;
        assert_eq!(utc_stamp(at), "20261207T030015Z");
        assert_eq!(copy_name(at), "gridwalk-20261207T030015Z.db");
        assert_eq!(copy_time(&copy_name(at)), Some(at));
        for other in [
            "gridwalk.db",
            "gridwalk-20261207T030015Z.db.partial",
            "gridwalk-20261207T030015Z.db-wal",
            "gridwalk-20261307T030015Z.db",
            "gridwalk-20261207T250015Z.db",
            "gridwalk-2026127T030015Z.db",
            "notes-20261207T030015Z.db",
        ] {
            assert_eq!(copy_time(other), None, "{other}");
        }
    }
}
