//! Photos (`photos`; `resident_photos`, `visit_photos` and `request_photos`
//! name them; `photo_bindings` ties each to the first record that named it),
//! the per-object lock that naming, uploading and the sweep share, and the
//! sweep's questions and its log (`sweeps`).

use crate::audit::Entry;
use crate::engine::{on_pool, on_tx};
use crate::{Engine, Result, Store, Tx, new_id};

/// A stored photo's size, as an upload answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct PhotoRow {
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
}

/// A photo whose objects (photo and thumbnail) are stored.
#[derive(Debug, Clone, Copy)]
pub struct NewPhoto<'a> {
    pub hash: &'a str,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub thumb_bytes: i64,
    pub uploaded_by: &'a str,
    pub at: i64,
}

/// The kinds of record that name photos (`photo_bindings.record_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Resident,
    Visit,
    Request,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Resident => "resident",
            RecordKind::Visit => "visit",
            RecordKind::Request => "request",
        }
    }
}

/// The record a photo was first named by, and that record's grid now (`None`
/// for a community-wide request, or a record not written yet in this
/// transaction).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PhotoBinding {
    pub record_kind: String,
    pub record_id: String,
    pub grid_id: Option<String>,
}

/// What deciding who may see or name a photo needs: its uploader (`None`:
/// not uploaded yet) and the record it is bound to (`None`: named by none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhotoState {
    pub uploaded_by: Option<String>,
    pub binding: Option<PhotoBinding>,
}

const PHOTO: &str = "SELECT bytes, width, height FROM photos WHERE hash = $1";
const INSERT_PHOTO: &str =
    "INSERT INTO photos (hash, bytes, width, height, thumb_bytes, uploaded_by, uploaded_at, seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (hash) DO UPDATE SET seen_at = excluded.seen_at";
const TOUCH_PHOTO: &str = "UPDATE photos SET seen_at = $2 WHERE hash = $1 RETURNING bytes, width, height";
// Served by the `photos_uploader` index.
const UPLOADED_SINCE: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM photos WHERE uploaded_by = $1 AND uploaded_at > $2";
const UPLOADER: &str = "SELECT uploaded_by FROM photos WHERE hash = $1";
/// The bound record's grid now: a resident's through its household (it may
/// have moved), a visit's through its household, a request's own.
const BINDING: &str = "SELECT pb.record_kind, pb.record_id, COALESCE(rb.grid_id, vb.grid_id, q.grid_id) AS grid_id
     FROM photo_bindings pb
     LEFT JOIN residents r ON pb.record_kind = 'resident' AND r.id = pb.record_id
     LEFT JOIN households rh ON rh.id = r.household_id
     LEFT JOIN buildings rb ON rb.id = rh.building_id
     LEFT JOIN visits v ON pb.record_kind = 'visit' AND v.id = pb.record_id
     LEFT JOIN households vh ON vh.id = v.household_id
     LEFT JOIN buildings vb ON vb.id = vh.building_id
     LEFT JOIN requests q ON pb.record_kind = 'request' AND q.id = pb.record_id
     WHERE pb.hash = $1";
const BIND: &str = "INSERT INTO photo_bindings (hash, record_kind, record_id, bound_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (hash) DO NOTHING";

/// Every place that names a photo. `photo_bindings` alone would do (each
/// naming row is written with its binding), but the naming rows are asked
/// too: a photo any record names is never swept, whatever became of its
/// binding. (`residents.photo` is always also in `resident_photos`.)
const PHOTO_SWEEPABLE: &str = "SELECT NOT (
        EXISTS (SELECT 1 FROM photo_bindings WHERE hash = $1)
     OR EXISTS (SELECT 1 FROM resident_photos WHERE photo = $1)
     OR EXISTS (SELECT 1 FROM visit_photos WHERE photo = $1)
     OR EXISTS (SELECT 1 FROM request_photos WHERE photo = $1)
     OR EXISTS (SELECT 1 FROM photos WHERE hash = $1 AND seen_at >= $2))";
const FORGET_PHOTO: &str = "DELETE FROM photos WHERE hash = $1";
const FILE_NAMED: &str = "SELECT EXISTS (SELECT 1 FROM notice_attachments WHERE hash = $1)";
/// PostgreSQL: the lock class of photo and file objects, so their keys never
/// meet other advisory locks (sqlx's migration lock uses the one-key form).
const OBJECT_LOCK_CLASS: i32 = 0x6777;

/// What one sweep removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepRecord {
    pub started_at: i64,
    pub finished_at: i64,
    pub photos_removed: i64,
    pub files_removed: i64,
}

impl Store {
    /// New photos a user uploaded after `since` (for the daily quota).
    pub async fn photos_uploaded_since(&self, user_id: &str, since: i64) -> Result<i64> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(UPLOADED_SINCE)
            .bind(user_id)
            .bind(since)
            .fetch_one(c)
            .await)
    }

    /// `None`: not uploaded (yet).
    pub async fn photo(&self, hash: &str) -> Result<Option<PhotoRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(PHOTO)
            .bind(hash)
            .fetch_optional(c)
            .await)
    }

    /// A stored photo uploaded again: it counts as new for the sweep (its
    /// record may be on its way), under the object's lock so that a sweep
    /// either removed it before (then `None`, and the upload stores it anew)
    /// or leaves it. `None`: not stored.
    pub async fn touch_photo(&self, hash: &str, at: i64) -> Result<Option<PhotoRow>> {
        let mut tx = self.begin().await?;
        tx.lock_object(hash).await?;
        let row = on_tx!(tx, |c| sqlx::query_as(TOUCH_PHOTO)
            .bind(hash)
            .bind(at)
            .fetch_optional(&mut *c)
            .await)?;
        tx.commit().await?;
        Ok(row)
    }

    /// Records a photo once its objects are stored, under the object's lock
    /// (see `Tx::lock_object`). The same photo uploaded twice at once is
    /// recorded once; the first uploader stays its uploader. `audit` commits
    /// with the row.
    pub async fn insert_photo(&self, photo: &NewPhoto<'_>, audit: Entry<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.lock_object(photo.hash).await?;
        on_tx!(tx, |c| sqlx::query(INSERT_PHOTO)
            .bind(photo.hash)
            .bind(photo.bytes)
            .bind(photo.width)
            .bind(photo.height)
            .bind(photo.thumb_bytes)
            .bind(photo.uploaded_by)
            .bind(photo.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.audit(audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who uploaded a photo and where it is bound, for serving it.
    pub async fn photo_state(&self, hash: &str) -> Result<PhotoState> {
        on_pool!(self.primary(), |c| {
            let uploaded_by = sqlx::query_scalar(UPLOADER).bind(hash).fetch_optional(c).await?;
            let binding = sqlx::query_as(BINDING).bind(hash).fetch_optional(c).await?;
            Ok(PhotoState { uploaded_by, binding })
        })
    }

    /// When the newest sweep started, if there was one.
    pub async fn last_sweep(&self) -> Result<Option<i64>> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(
            "SELECT MAX(started_at) FROM sweeps"
        )
        .fetch_one(c)
        .await)
    }

    /// Logs a sweep that ran (`source`: `schedule` or `command`).
    pub async fn record_sweep(&self, sweep: SweepRecord, source: &str) -> Result<()> {
        on_pool!(self.primary(), |c| sqlx::query(
            "INSERT INTO sweeps (id, started_at, finished_at, photos_removed, files_removed, source)
             VALUES ($1, $2, $3, $4, $5, $6)"
        )
        .bind(new_id())
        .bind(sweep.started_at)
        .bind(sweep.finished_at)
        .bind(sweep.photos_removed)
        .bind(sweep.files_removed)
        .bind(source)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    /// Holds the lock of one stored object (a photo or a notice file, by
    /// hash) until this transaction ends. Naming a photo, recording an
    /// upload, attaching a file and sweeping all take it, so a sweep's
    /// "nobody names it" holds until its removal is done (see
    /// `server::sweep`).
    ///
    /// The engines differ here. PostgreSQL takes a transaction-level advisory
    /// lock on the hash (two hashes sharing a key only wait for each other).
    /// SQLite has one writer: a write statement takes the database's write
    /// lock, held to commit; this one changes nothing. On SQLite it must come
    /// before the transaction's first read, or after a write.
    pub async fn lock_object(&mut self, hash: &str) -> Result<()> {
        match self.engine() {
            Engine::Postgres => {
                let key = hash
                    .get(..8)
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .unwrap_or_default()
                    .cast_signed();
                on_tx!(self, |c| sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                    .bind(OBJECT_LOCK_CLASS)
                    .bind(key)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected()))?;
            }
            Engine::Sqlite => {
                on_tx!(self, |c| sqlx::query(
                    "UPDATE photos SET seen_at = seen_at WHERE hash = $1"
                )
                .bind(hash)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
            }
        }
        Ok(())
    }

    /// As `Store::photo_state`, inside a write transaction.
    pub async fn photo_state(&mut self, hash: &str) -> Result<PhotoState> {
        on_tx!(self, |c| {
            let uploaded_by = sqlx::query_scalar(UPLOADER).bind(hash).fetch_optional(&mut *c).await?;
            let binding = sqlx::query_as(BINDING).bind(hash).fetch_optional(&mut *c).await?;
            Ok(PhotoState { uploaded_by, binding })
        })
    }

    /// Binds a photo to the record naming it, unless an earlier record has it.
    pub(crate) async fn bind_photo(&mut self, hash: &str, kind: RecordKind, record_id: &str, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(BIND)
            .bind(hash)
            .bind(kind.as_str())
            .bind(record_id)
            .bind(at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The sweep's question, under the object's lock: no record names the
    /// photo, and it was not uploaded at or after `cutoff` (a photo with no
    /// row, whose objects a cut-off upload left behind, qualifies).
    pub async fn photo_sweepable(&mut self, hash: &str, cutoff: i64) -> Result<bool> {
        on_tx!(self, |c| sqlx::query_scalar(PHOTO_SWEEPABLE)
            .bind(hash)
            .bind(cutoff)
            .fetch_one(&mut *c)
            .await)
    }

    /// A swept photo's row (if it had one).
    pub async fn forget_photo(&mut self, hash: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(FORGET_PHOTO)
            .bind(hash)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether any notice lists a file with this hash.
    pub async fn notice_file_named(&mut self, hash: &str) -> Result<bool> {
        on_tx!(self, |c| sqlx::query_scalar(FILE_NAMED)
            .bind(hash)
            .fetch_one(&mut *c)
            .await)
    }
}
