//! The sweep of stored objects no record names: photos (`photos/`, `thumbs/`)
//! that no resident, visit or request names, and notice files (`notices/`)
//! that no notice lists, once older than a grace period (`sweep_grace_hours`).
//! A phone names a photo in a record and uploads it separately, in either
//! order, and an upload whose record still waits in a phone's outbox (offline
//! for days, or held back by a rejected record the worker has yet to fix)
//! must survive: the grace period is how long a record may take to follow.
//! What else leaves objects unnamed: a record the worker discarded, a file
//! taken off a notice, an upload cut off between its objects and its row.
//!
//! Runs in the server every `sweep_every_hours` (whichever instance finds the
//! newest row of `sweeps` that old) and as `server sweep [--dry-run]`.
//!
//! # Naming against sweeping, with several instances
//! Listing the bucket and asking the database are not one atomic step, so
//! every decision to remove is taken again, for one object at a time, under
//! that object's lock (`Tx::lock_object`: an advisory lock on PostgreSQL,
//! the single write lock on SQLite), and the objects are removed before that
//! lock is let go. Everything that names an object takes the same lock in
//! the transaction that writes the name: a pushed record naming a photo
//! (`OpContext::may_name_photos`), an upload recording its photo
//! (`Store::insert_photo`, `Store::touch_photo`), a file added to a notice
//! (`Store::add_notice_file`). So either the naming commits first, and the
//! sweep, asking afterwards under the lock, sees the name and keeps the
//! object; or the sweep holds the lock first, and the naming waits until the
//! removal is done, then finds no stored photo (a record may name a photo
//! not uploaded yet). An upload writes its objects before its row; if a sweep
//! removed them in between, the upload, looking once its row is committed
//! (when no sweep will remove them any more), puts them back. Two sweeps at
//! once take the same locks: the second finds the object gone or named.
//!
//! A photo uploaded longer ago than the grace period, whose record arrives
//! after a sweep removed it, is lost; its record stays and shows no photo.
//! That is what the grace period is chosen against.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use app::sync::is_photo_hash;
use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use store::Store;
use store::photos::SweepRecord;

use crate::config::Settings;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("database: {0}")]
    Database(#[from] store::Error),
    #[error("photo store: {0}")]
    Objects(#[from] object_store::Error),
    #[error("{0}")]
    Settings(String),
}

/// What a sweep removed, or would remove (a dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Hashes of photos (each a photo and its thumbnail).
    pub photos: Vec<String>,
    /// Locations of notice files.
    pub files: Vec<String>,
}

/// Who started a sweep (`sweeps.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Schedule,
    Command,
}

/// Removes (or, with `dry_run`, lists) the photos and notice files no record
/// names whose objects were last written before `cutoff` (epoch ms) and, for
/// photos, that were not uploaded again since. A real run is logged in
/// `sweeps` with its counts.
pub async fn sweep(
    store: &Store,
    objects: &Arc<dyn ObjectStore>,
    cutoff: i64,
    dry_run: bool,
    source: Source,
) -> Result<Swept, SweepError> {
    let started_at = app::state::now_ms();
    let mut photo_hashes = BTreeSet::new();
    for prefix in ["photos", "thumbs"] {
        for (hash, _) in old_objects(objects, prefix, cutoff).await? {
            photo_hashes.insert(hash);
        }
    }
    let mut swept = Swept::default();
    for hash in photo_hashes {
        let mut tx = store.begin().await?;
        tx.lock_object(&hash).await?;
        if tx.photo_sweepable(&hash, cutoff).await? {
            if !dry_run {
                for location in crate::photos::locations(&hash) {
                    remove(objects, &location).await?;
                }
                tx.forget_photo(&hash).await?;
            }
            swept.photos.push(hash);
        }
        tx.commit().await?;
    }
    for (hash, location) in old_objects(objects, "notices", cutoff).await? {
        let mut tx = store.begin().await?;
        tx.lock_object(&hash).await?;
        if !tx.notice_file_named(&hash).await? {
            if !dry_run {
                remove(objects, &location).await?;
            }
            swept.files.push(location.to_string());
        }
        tx.commit().await?;
    }
    if !dry_run {
        let record = SweepRecord {
            started_at,
            finished_at: app::state::now_ms(),
            photos_removed: swept.photos.len() as i64,
            files_removed: swept.files.len() as i64,
        };
        let source = match source {
            Source::Schedule => "schedule",
            Source::Command => "command",
        };
        store.record_sweep(record, source).await?;
        tracing::info!(
            photos = swept.photos.len(),
            files = swept.files.len(),
            source,
            "swept objects no record names"
        );
    }
    Ok(swept)
}

/// The objects under `prefix` last written before `cutoff`, with the hash
/// their name carries (anything else in the store is left alone).
async fn old_objects(
    objects: &Arc<dyn ObjectStore>,
    prefix: &str,
    cutoff: i64,
) -> Result<Vec<(String, Path)>, object_store::Error> {
    let listed: Vec<_> = objects.list(Some(&Path::from(prefix))).try_collect().await?;
    Ok(listed
        .into_iter()
        .filter(|meta| meta.last_modified.timestamp_millis() < cutoff)
        .filter_map(|meta| {
            let name = meta.location.filename()?;
            let hash = name.split_once('.')?.0.to_owned();
            is_photo_hash(&hash).then_some((hash, meta.location))
        })
        .collect())
}

/// Removes an object; one already gone (another instance's sweep) is fine.
async fn remove(objects: &Arc<dyn ObjectStore>, location: &Path) -> Result<(), object_store::Error> {
    match objects.delete(location).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `server sweep [--dry-run]`: one sweep now with the configured grace
/// period; what it removed (or, dry, would remove), one object a line, and
/// the count.
pub async fn command(settings: &Settings, dry_run: bool) -> Result<Report, SweepError> {
    let grace = grace(settings).map_err(SweepError::Settings)?;
    let store = crate::db::connect(settings).await?;
    let objects = crate::photos::open_objects(&settings.photo_store)?;
    let cutoff = app::state::now_ms() - grace.as_millis() as i64;
    let swept = sweep(&store, &objects, cutoff, dry_run, Source::Command).await;
    store.close().await;
    Ok(Report {
        swept: swept?,
        dry_run,
        grace_hours: settings.sweep_grace_hours,
    })
}

/// What `server sweep` prints.
pub struct Report {
    pub swept: Swept,
    pub dry_run: bool,
    pub grace_hours: u64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for hash in &self.swept.photos {
            writeln!(f, "photo {hash}")?;
        }
        for file in &self.swept.files {
            writeln!(f, "file {file}")?;
        }
        let verb = if self.dry_run { "would remove" } else { "removed" };
        write!(
            f,
            "{verb} {} photos and {} notice files no record names, older than {} hours",
            self.swept.photos.len(),
            self.swept.files.len(),
            self.grace_hours
        )
    }
}

/// The sweep the settings ask the server for.
pub struct Schedule {
    pub every: Duration,
    pub grace: Duration,
}

/// How often the schedule looks whether a sweep is due.
const CHECK_EVERY: Duration = Duration::from_secs(10 * 60);

impl Schedule {
    /// `None` when `sweep_every_hours` is 0; a sentence when the grace
    /// period is too short to be safe.
    pub fn from_settings(settings: &Settings) -> Result<Option<Schedule>, String> {
        let grace = grace(settings)?;
        Ok((settings.sweep_every_hours > 0).then(|| Schedule {
            every: Duration::from_secs(settings.sweep_every_hours * 3600),
            grace,
        }))
    }

    /// Runs for as long as the server does: every ten minutes, a sweep if
    /// none (on any instance) started within `every`. Two instances finding
    /// it due together both sweep, which is safe (see the module).
    pub async fn run(self, store: Store, objects: Arc<dyn ObjectStore>) {
        tracing::info!(every = ?self.every, grace = ?self.grace, "scheduled sweeps");
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            if let Err(e) = self.step(&store, &objects, app::state::now_ms()).await {
                tracing::error!(error = %e, "scheduled sweep failed");
            }
        }
    }

    /// One turn at `now`: a sweep if one is due.
    pub async fn step(&self, store: &Store, objects: &Arc<dyn ObjectStore>, now: i64) -> Result<(), SweepError> {
        let every = self.every.as_millis() as i64;
        if store.last_sweep().await?.is_some_and(|at| now - at < every) {
            return Ok(());
        }
        let cutoff = now - self.grace.as_millis() as i64;
        sweep(store, objects, cutoff, false, Source::Schedule).await?;
        Ok(())
    }
}

/// The grace period `sweep_grace_hours` sets: at least an hour, so that a
/// photo is never swept while its upload and its record are still on their
/// way together.
pub fn grace(settings: &Settings) -> Result<Duration, String> {
    if settings.sweep_grace_hours == 0 {
        return Err("sweep_grace_hours must be at least 1 (default 168, seven days)".into());
    }
    Ok(Duration::from_secs(settings.sweep_grace_hours * 3600))
}
