//! Photos (`photos`, `resident_photos`, `visit_photos`; `request_photos` name them too).

use crate::audit::Entry;
use crate::engine::{on_pool, on_tx};
use crate::{Result, Store, Tx};

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

const PHOTO: &str = "SELECT bytes, width, height FROM photos WHERE hash = $1";
const INSERT_PHOTO: &str = "INSERT INTO photos (hash, bytes, width, height, thumb_bytes, uploaded_by, uploaded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING";

/// Who uploaded a stored photo, and the grids of every record that ever
/// named it: what deciding who may see it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoOwners {
    pub uploaded_by: String,
    pub named_in_grids: Vec<String>,
}

// Served by the `photos_uploader` index.
const UPLOADED_SINCE: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM photos WHERE uploaded_by = $1 AND uploaded_at > $2";
const UPLOADER: &str = "SELECT uploaded_by FROM photos WHERE hash = $1";
const NAMED_IN_GRIDS: &str = "SELECT b.grid_id FROM resident_photos rp JOIN residents r ON r.id = rp.resident_id
         JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
     WHERE rp.photo = $1
     UNION
     SELECT b.grid_id FROM visit_photos vp JOIN visits v ON v.id = vp.visit_id
         JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id
     WHERE vp.photo = $1
     UNION
     SELECT r.grid_id FROM request_photos rp JOIN requests r ON r.id = rp.request_id
     WHERE rp.photo = $1 AND r.grid_id IS NOT NULL";

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

    /// Records a photo once its objects are stored, so a row always means both
    /// exist. The same photo uploaded twice at once is recorded once; the
    /// first uploader stays its uploader. `audit` commits with the row.
    pub async fn insert_photo(&self, photo: &NewPhoto<'_>, audit: Entry<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
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

    /// `None`: no photo is stored under that hash (yet).
    pub async fn photo_owners(&self, hash: &str) -> Result<Option<PhotoOwners>> {
        on_pool!(self.primary(), |c| {
            let uploader: Option<String> = sqlx::query_scalar(UPLOADER).bind(hash).fetch_optional(c).await?;
            let Some(uploaded_by) = uploader else { return Ok(None) };
            let named_in_grids = sqlx::query_scalar(NAMED_IN_GRIDS).bind(hash).fetch_all(c).await?;
            Ok(Some(PhotoOwners {
                uploaded_by,
                named_in_grids,
            }))
        })
    }
}

impl Tx {
    /// As `Store::photo_owners`, inside a write transaction.
    pub async fn photo_owners(&mut self, hash: &str) -> Result<Option<PhotoOwners>> {
        on_tx!(self, |c| {
            let uploader: Option<String> = sqlx::query_scalar(UPLOADER).bind(hash).fetch_optional(&mut *c).await?;
            let Some(uploaded_by) = uploader else { return Ok(None) };
            let named_in_grids = sqlx::query_scalar(NAMED_IN_GRIDS).bind(hash).fetch_all(&mut *c).await?;
            Ok(Some(PhotoOwners {
                uploaded_by,
                named_in_grids,
            }))
        })
    }
}
