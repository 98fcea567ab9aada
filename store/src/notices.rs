//! Public notices (`notices`, `notice_revisions`, `notice_attachments`): the
//! lead's authoring, and the public pages residents read without an account.
//!
//! The public reads (`public_…`, `published_notices`) may come from the read
//! replica: a notice published a moment ago may show a moment later. Authoring
//! reads its own writes back, so it reads the primary.

use crate::audit::Entry;
use crate::engine::{Pool, on_pool, on_tx};
use crate::{Result, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: String,
    pub community_id: String,
    pub category: String,
    pub title: String,
    pub body: String,
    /// `draft`, `published` or `withdrawn`.
    pub status: String,
    pub pinned: bool,
    /// Set at the first publication; a scheduled notice's is in the future.
    pub published_at: Option<i64>,
    pub updated_at: i64,
}

/// A community with its street's name, as the pages head it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommunityRow {
    pub id: String,
    pub name: String,
    pub street_name: String,
}

/// One line of a notice's edit history, with who did it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RevisionRow {
    pub action: String,
    pub title: String,
    pub by: String,
    pub at: i64,
}

/// A file attached to a notice.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub hash: String,
    /// `image` or `pdf`.
    pub kind: String,
    pub name: String,
    pub bytes: i64,
}

impl AttachmentRow {
    pub fn is_image(&self) -> bool {
        self.kind == "image"
    }
}

/// A new notice, saved as a draft.
#[derive(Debug, Clone, Copy)]
pub struct NewNotice<'a> {
    pub id: &'a str,
    pub community_id: &'a str,
    pub category: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub created_by: &'a str,
    pub at: i64,
}

/// A notice's text as saved by an edit (or as it stood at a status change).
#[derive(Debug, Clone, Copy)]
pub struct NoticeText<'a> {
    pub category: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// One row of a notice's history.
#[derive(Debug, Clone, Copy)]
pub struct Revision<'a> {
    pub notice_id: &'a str,
    /// `create`, `edit`, `publish`, `withdraw`, `pin` or `unpin`.
    pub action: &'a str,
    pub text: NoticeText<'a>,
    pub user_id: &'a str,
    pub at: i64,
}

/// The status changes an author may make at once (scheduling is
/// `Tx::schedule_notice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Publish,
    Withdraw,
    Pin,
    Unpin,
}

impl StatusChange {
    /// The revision action it is recorded as.
    pub fn action(self) -> &'static str {
        match self {
            StatusChange::Publish => "publish",
            StatusChange::Withdraw => "withdraw",
            StatusChange::Pin => "pin",
            StatusChange::Unpin => "unpin",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            // The publish date is the first publication; re-publishing keeps
            // it, and publishing a scheduled notice now brings it forward.
            StatusChange::Publish => {
                "UPDATE notices SET status = 'published', updated_at = $1,
                     published_at = CASE WHEN published_at IS NULL OR published_at > $1 THEN $1 ELSE published_at END
                 WHERE id = $2"
            }
            StatusChange::Withdraw => "UPDATE notices SET status = 'withdrawn', updated_at = $1 WHERE id = $2",
            StatusChange::Pin => "UPDATE notices SET pinned = TRUE, updated_at = $1 WHERE id = $2",
            StatusChange::Unpin => "UPDATE notices SET pinned = FALSE, updated_at = $1 WHERE id = $2",
        }
    }
}

/// A file to attach, already stored under its hash.
#[derive(Debug, Clone, Copy)]
pub struct NewAttachment<'a> {
    pub notice_id: &'a str,
    pub hash: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub bytes: i64,
    pub added_by: &'a str,
    pub at: i64,
}

const COMMUNITIES: &str = "SELECT c.id, c.name, s.name AS street_name
     FROM communities c JOIN streets s ON s.id = c.street_id ORDER BY c.name, c.id";
const COMMUNITY: &str = "SELECT c.id, c.name, s.name AS street_name
     FROM communities c JOIN streets s ON s.id = c.street_id WHERE c.id = $1";

const NOTICE: &str = "SELECT id, community_id, category, title, body, status, pinned, published_at, updated_at
     FROM notices WHERE id = $1";
/// Each community's 200 most recently changed, grouped by community in name
/// order, in one query however many communities an admin has.
const COMMUNITY_NOTICES: &str =
    "SELECT id, community_id, category, title, body, status, pinned, published_at, updated_at
     FROM (SELECT n.id, n.community_id, n.category, n.title, n.body, n.status, n.pinned, n.published_at,
                  n.updated_at, c.name AS community_name,
                  ROW_NUMBER() OVER (PARTITION BY n.community_id ORDER BY n.updated_at DESC, n.id DESC) AS nth
           FROM notices n JOIN communities c ON c.id = n.community_id
           WHERE n.community_id = ANY($1)) ranked
     WHERE nth <= 200
     ORDER BY community_name, community_id, updated_at DESC, id DESC";
/// Scheduled notices are `published` with a future `published_at`: the
/// comparison with the clock is what publishes them, nothing runs at that time.
const PUBLISHED: &str = "SELECT id, community_id, category, title, body, status, pinned, published_at, updated_at
     FROM notices WHERE community_id = $1 AND status = 'published' AND published_at <= $2
     ORDER BY pinned DESC, published_at DESC LIMIT 200";
const PUBLISHED_ONE: &str = "SELECT id, community_id, category, title, body, status, pinned, published_at, updated_at
     FROM notices WHERE id = $1 AND community_id = $2 AND status = 'published' AND published_at <= $3";
const HISTORY: &str = "SELECT r.action, r.title, u.display_name AS by, r.at
     FROM notice_revisions r JOIN users u ON u.id = r.user_id
     WHERE r.notice_id = $1 ORDER BY r.at DESC, r.id DESC";

const INSERT_NOTICE: &str = "INSERT INTO notices
         (id, community_id, category, title, body, status, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $7)";
const UPDATE_TEXT: &str = "UPDATE notices SET category = $1, title = $2, body = $3, updated_at = $4 WHERE id = $5";
const SCHEDULE: &str = "UPDATE notices SET status = 'published', published_at = $1, updated_at = $2 WHERE id = $3";
const INSERT_REVISION: &str = "INSERT INTO notice_revisions (id, notice_id, action, title, body, category, user_id, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const FILES: &str =
    "SELECT hash, kind, name, bytes FROM notice_attachments WHERE notice_id = $1 ORDER BY added_at, hash";
const FILE: &str = "SELECT hash, kind, name, bytes FROM notice_attachments WHERE notice_id = $1 AND hash = $2";
const PUBLIC_FILE: &str = "SELECT a.hash, a.kind, a.name, a.bytes
     FROM notice_attachments a JOIN notices n ON n.id = a.notice_id
     WHERE n.id = $1 AND n.community_id = $2 AND n.status = 'published' AND n.published_at <= $3
       AND a.hash = $4";
const FILE_COUNT: &str = "SELECT COUNT(*) FROM notice_attachments WHERE notice_id = $1";
/// A write as the transaction's first statement: the lock `add_notice_file`
/// counts under (see there). It changes nothing.
const LOCK_NOTICE: &str = "UPDATE notices SET updated_at = updated_at WHERE id = $1";
const INSERT_FILE: &str = "INSERT INTO notice_attachments (notice_id, hash, kind, name, bytes, added_by, added_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (notice_id, hash) DO NOTHING";
const DELETE_FILE: &str = "DELETE FROM notice_attachments WHERE notice_id = $1 AND hash = $2";

/// What became of a file offered to a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    /// Listed on the notice (or it already was).
    Added,
    /// The notice carries its limit of files already; nothing changed.
    Full,
}

impl Store {
    /// Every community with its street, by name: what an admin may publish for.
    pub async fn communities(&self) -> Result<Vec<CommunityRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(COMMUNITIES).fetch_all(c).await)
    }

    /// A community for authoring (a lead's own).
    pub async fn community(&self, id: &str) -> Result<Option<CommunityRow>> {
        community_on(self.primary(), id).await
    }

    /// A community for its public pages.
    pub async fn public_community(&self, id: &str) -> Result<Option<CommunityRow>> {
        community_on(self.replica(), id).await
    }

    /// A notice in any status, for its author.
    pub async fn notice(&self, id: &str) -> Result<Option<NoticeRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(NOTICE)
            .bind(id)
            .fetch_optional(c)
            .await)
    }

    /// The authoring list: drafts, scheduled and withdrawn ones too.
    pub async fn community_notices(&self, community_ids: &[String]) -> Result<Vec<NoticeRow>> {
        let pool = self.primary();
        on_pool!(pool, |c| sqlx::query_as(pool.sql(COMMUNITY_NOTICES))
            .bind(crate::Ids(community_ids))
            .fetch_all(c)
            .await)
    }

    /// What the public sees of a community at `now`, pinned first, newest first.
    pub async fn published_notices(&self, community_id: &str, now: i64) -> Result<Vec<NoticeRow>> {
        on_pool!(self.replica(), |c| sqlx::query_as(PUBLISHED)
            .bind(community_id)
            .bind(now)
            .fetch_all(c)
            .await)
    }

    /// One notice as the public sees it at `now`: `None` for drafts, withdrawn
    /// and scheduled ones, and other communities' notices.
    pub async fn published_notice(&self, community_id: &str, id: &str, now: i64) -> Result<Option<NoticeRow>> {
        on_pool!(self.replica(), |c| sqlx::query_as(PUBLISHED_ONE)
            .bind(id)
            .bind(community_id)
            .bind(now)
            .fetch_optional(c)
            .await)
    }

    /// A notice's saves and status changes, newest first.
    pub async fn notice_history(&self, notice_id: &str) -> Result<Vec<RevisionRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(HISTORY)
            .bind(notice_id)
            .fetch_all(c)
            .await)
    }

    /// A notice's files in the order added, for its author.
    pub async fn notice_files(&self, notice_id: &str) -> Result<Vec<AttachmentRow>> {
        files_on(self.primary(), notice_id).await
    }

    /// A published notice's files, for its public page.
    pub async fn public_notice_files(&self, notice_id: &str) -> Result<Vec<AttachmentRow>> {
        files_on(self.replica(), notice_id).await
    }

    /// One of a notice's files, whatever the notice's status: the author's preview.
    pub async fn notice_file(&self, notice_id: &str, hash: &str) -> Result<Option<AttachmentRow>> {
        on_pool!(self.primary(), |c| sqlx::query_as(FILE)
            .bind(notice_id)
            .bind(hash)
            .fetch_optional(c)
            .await)
    }

    /// One file of a notice that is public at `now`; `None` once it is withdrawn.
    pub async fn public_notice_file(
        &self,
        community_id: &str,
        notice_id: &str,
        hash: &str,
        now: i64,
    ) -> Result<Option<AttachmentRow>> {
        on_pool!(self.replica(), |c| sqlx::query_as(PUBLIC_FILE)
            .bind(notice_id)
            .bind(community_id)
            .bind(now)
            .bind(hash)
            .fetch_optional(c)
            .await)
    }

    /// How many files a notice carries now. Only a hint to refuse early
    /// (before decoding an upload): `add_notice_file` decides.
    pub async fn notice_file_count(&self, notice_id: &str) -> Result<i64> {
        on_pool!(self.primary(), |c| sqlx::query_scalar(FILE_COUNT)
            .bind(notice_id)
            .fetch_one(c)
            .await)
    }

    /// Lists a file on a notice unless the notice already has `max_files`.
    ///
    /// Counting and inserting without a lock would let two uploads at the
    /// same moment both count 9 and both insert. So the transaction's first
    /// statement is a no-op `UPDATE` of the notice row, and the count runs
    /// only once it holds that lock; one code path for both engines:
    /// - PostgreSQL: the `UPDATE` takes the row's lock until commit (as
    ///   `SELECT … FOR UPDATE` would); a second upload's `UPDATE` waits for it.
    ///   Under READ COMMITTED each statement takes a fresh snapshot, so the
    ///   second one's count, run after the first commits, sees its file.
    /// - SQLite: a write as the first statement takes the database's single
    ///   write lock at once (a second writer waits out `busy_timeout`), and
    ///   the transaction's snapshot starts there, after the previous writer's
    ///   commit. (Reading first and writing later would not do: in WAL mode
    ///   the later write fails with SQLITE_BUSY_SNAPSHOT when another writer
    ///   committed in between, without waiting.)
    ///
    /// `audit` is written with the file, in the same transaction; nothing is
    /// written when the notice is full.
    pub async fn add_notice_file(
        &self,
        file: &NewAttachment<'_>,
        max_files: i64,
        audit: Entry<'_>,
    ) -> Result<Attached> {
        let mut tx = self.begin().await?;
        on_tx!(tx, |c| sqlx::query(LOCK_NOTICE)
            .bind(file.notice_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        // Held to commit: a sweep deciding that no notice lists this file
        // waits for the listing (see `Tx::lock_object`).
        tx.lock_object(file.hash).await?;
        let count: i64 = on_tx!(tx, |c| sqlx::query_scalar(FILE_COUNT)
            .bind(file.notice_id)
            .fetch_one(&mut *c)
            .await)?;
        if count >= max_files {
            tx.rollback().await?;
            return Ok(Attached::Full);
        }
        on_tx!(tx, |c| sqlx::query(INSERT_FILE)
            .bind(file.notice_id)
            .bind(file.hash)
            .bind(file.kind)
            .bind(file.name)
            .bind(file.bytes)
            .bind(file.added_by)
            .bind(file.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.audit(audit).await?;
        tx.commit().await?;
        Ok(Attached::Added)
    }
}

impl Tx {
    /// Takes a file off a notice (the stored object may serve other notices).
    pub async fn delete_notice_file(&mut self, notice_id: &str, hash: &str) -> Result<()> {
        on_tx!(self, |c| sqlx::query(DELETE_FILE)
            .bind(notice_id)
            .bind(hash)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A new draft; its `create` revision goes with it (`insert_notice_revision`).
    pub async fn insert_notice(&mut self, notice: &NewNotice<'_>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_NOTICE)
            .bind(notice.id)
            .bind(notice.community_id)
            .bind(notice.category)
            .bind(notice.title)
            .bind(notice.body)
            .bind(notice.created_by)
            .bind(notice.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Saves an edit of a notice's text (its community never changes).
    pub async fn update_notice_text(&mut self, id: &str, text: NoticeText<'_>, at: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(UPDATE_TEXT)
            .bind(text.category)
            .bind(text.title)
            .bind(text.body)
            .bind(at)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Publishes a notice at a later time `publish_at`: it is `published` from
    /// now on but stays out of every public read until then.
    pub async fn schedule_notice(&mut self, id: &str, publish_at: i64, now: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(SCHEDULE)
            .bind(publish_at)
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn change_notice_status(&mut self, id: &str, change: StatusChange, now: i64) -> Result<()> {
        on_tx!(self, |c| sqlx::query(change.sql())
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every save and status change is kept, for the edit history.
    pub async fn insert_notice_revision(&mut self, revision: &Revision<'_>) -> Result<()> {
        on_tx!(self, |c| sqlx::query(INSERT_REVISION)
            .bind(crate::new_id())
            .bind(revision.notice_id)
            .bind(revision.action)
            .bind(revision.text.title)
            .bind(revision.text.body)
            .bind(revision.text.category)
            .bind(revision.user_id)
            .bind(revision.at)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

async fn community_on(pool: &Pool, id: &str) -> Result<Option<CommunityRow>> {
    on_pool!(pool, |c| sqlx::query_as(COMMUNITY).bind(id).fetch_optional(c).await)
}

async fn files_on(pool: &Pool, notice_id: &str) -> Result<Vec<AttachmentRow>> {
    on_pool!(pool, |c| sqlx::query_as(FILES).bind(notice_id).fetch_all(c).await)
}
