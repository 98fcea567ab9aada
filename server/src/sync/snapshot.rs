//! Pull pages shared by phones. Every new phone of a grid reads the same
//! first-sync pages, so a large page is built once, compressed once (brotli
//! and gzip) and then served as bytes to every phone that asks, until a write
//! in its grids makes it stale.
//!
//! Why that is safe: the change rows of a page never change once it is full
//! (rows are only added, numbered in commit order), and the records it carries
//! change only with a new change row in their grid, which raises the grids'
//! head (`Store::grids_head`). A page is therefore keyed by everything its
//! answer depends on (the envelope: the caller's scope and the visit
//! policies; the grids; cursor and page size) and kept with the head it was
//! built at. Built from a head read *before* the page, its content is never
//! older than its head says; anything newer reaches the phone on its next
//! pages anyway, as every change after the page has a larger seq.
//!
//! Phones arriving together for one page wait for a single build. The cache
//! is bounded in bytes (`sync_snapshot_mb`; 0 turns it off) and drops the
//! least recently served pages first.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use app::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};

/// Pages with fewer changes than this are built per request: a phone pulling
/// from a current cursor gets a handful, cheaper to build than to keep.
pub const SHARED_FROM: usize = 200;

/// What one pull answer depends on besides the database's records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The caller's scope and the visit policies, as sent (JSON).
    pub envelope: String,
    pub grids: Vec<String>,
    pub cursor: i64,
    pub limit: i64,
}

/// One page's answer, compressed both ways.
pub struct Snapshot {
    etag: HeaderValue,
    brotli: Bytes,
    gzip: Bytes,
    /// For the access log: the page's range and whether it sent anything.
    pub next_cursor: i64,
    pub records: usize,
}

struct Slot {
    head: i64,
    page: OnceCell<Arc<Snapshot>>,
    /// When it was last served, on the cache's own clock (for eviction).
    used: AtomicU64,
    /// What it counts against the budget (set and read under the state lock).
    bytes: AtomicUsize,
}

pub struct Snapshots {
    budget: usize,
    state: Mutex<State>,
    /// One compression per core at a time: more would not finish sooner, and
    /// each holds a compressor's buffers.
    compressing: Semaphore,
}

#[derive(Default)]
struct State {
    slots: HashMap<Key, Arc<Slot>>,
    bytes: usize,
    clock: u64,
}

impl Snapshots {
    pub fn new(budget_bytes: usize) -> Self {
        Snapshots {
            budget: budget_bytes,
            state: Mutex::default(),
            compressing: Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        }
    }

    pub fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// The page for `key` at `head`: the kept one if it is as new, else the
    /// one `build` makes (the answer's JSON, with its range), kept for the
    /// next phone. Callers asking at once share one build.
    pub async fn page<F, Fut>(&self, key: Key, head: i64, build: F) -> Result<Arc<Snapshot>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Vec<u8>, i64, usize), ApiError>>,
    {
        let slot = self.slot(key.clone(), head);
        let page = slot
            .page
            .get_or_try_init(|| async {
                let (json, next_cursor, records) = build().await?;
                let _turn = self.compressing.acquire().await.map_err(|_| ApiError::Internal)?;
                let page = tokio::task::spawn_blocking(move || Snapshot::compress(&json, next_cursor, records))
                    .await
                    .map_err(|_| ApiError::Internal)?;
                self.account(&key, &slot, page.brotli.len() + page.gzip.len());
                Ok::<_, ApiError>(Arc::new(page))
            })
            .await?;
        Ok(page.clone())
    }

    /// The slot for `key`: the kept one unless it is older than `head`.
    fn slot(&self, key: Key, head: i64) -> Arc<Slot> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.clock += 1;
        let now = state.clock;
        if let Some(slot) = state.slots.get(&key).filter(|s| s.head >= head) {
            slot.used.store(now, Ordering::Relaxed);
            return slot.clone();
        }
        let slot = Arc::new(Slot {
            head,
            page: OnceCell::new(),
            used: AtomicU64::new(now),
            bytes: AtomicUsize::new(0),
        });
        if let Some(stale) = state.slots.insert(key, slot.clone()) {
            state.bytes -= stale.bytes.load(Ordering::Relaxed);
        }
        slot
    }

    /// Counts a newly built page (unless a newer one replaced it meanwhile)
    /// and drops the least recently served pages while over budget. The new
    /// page may go too, if it alone is too large: it is still served to the
    /// phones waiting for it, just not kept.
    fn account(&self, key: &Key, slot: &Arc<Slot>, size: usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.slots.get(key).is_some_and(|kept| Arc::ptr_eq(kept, slot)) {
            return;
        }
        slot.bytes.store(size, Ordering::Relaxed);
        state.bytes += size;
        while state.bytes > self.budget {
            let oldest = state
                .slots
                .iter()
                .filter(|(_, slot)| slot.bytes.load(Ordering::Relaxed) > 0)
                .min_by_key(|(_, slot)| slot.used.load(Ordering::Relaxed))
                .map(|(key, _)| key.clone());
            let Some(key) = oldest else { break };
            if let Some(slot) = state.slots.remove(&key) {
                state.bytes -= slot.bytes.load(Ordering::Relaxed);
            }
        }
    }
}

impl Snapshot {
    fn compress(json: &[u8], next_cursor: i64, records: usize) -> Snapshot {
        let mut brotli = Vec::with_capacity(json.len() / 6);
        {
            // Quality 5: built once, served many times. The window just
            // covers the page: the compressor's ring buffer is the window's
            // size, and up to `sync_max_concurrent` builds run at once.
            let window = json.len().clamp(1 << 16, 1 << 22).next_power_of_two().trailing_zeros();
            let mut writer = brotli::CompressorWriter::new(&mut brotli, 64 * 1024, 5, window);
            writer.write_all(json).expect("writing to memory");
        }
        let mut gzip =
            flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 5), flate2::Compression::default());
        gzip.write_all(json).expect("writing to memory");
        let gzip = gzip.finish().expect("writing to memory");
        let digest = Sha256::digest(json);
        let etag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etag = format!("\"{etag}\"");
        Snapshot {
            etag: HeaderValue::from_str(&etag).expect("hex is a valid header value"),
            brotli: brotli.into(),
            gzip: gzip.into(),
            next_cursor,
            records,
        }
    }

    /// The answer in the encoding the client takes, or 304 if it already
    /// holds this page (`If-None-Match`).
    pub fn response(&self, request: &HeaderMap) -> Response {
        let common = [
            (header::ETAG, self.etag.clone()),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ];
        if request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| tag.trim() == self.etag || tag.trim() == "*")
        {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        let json = HeaderValue::from_static("application/json");
        let (encoding, body) = match preferred_encoding(request) {
            Some(Encoding::Brotli) => (Some("br"), Body::from(self.brotli.clone())),
            Some(Encoding::Gzip) => (Some("gzip"), Body::from(self.gzip.clone())),
            None => (None, Body::from(self.plain())),
        };
        let mut response = (common, [(header::CONTENT_TYPE, json)], body).into_response();
        if let Some(encoding) = encoding {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    }

    /// For the rare client that takes neither encoding: unpacked per request
    /// rather than kept a third time.
    fn plain(&self) -> Vec<u8> {
        let mut json = Vec::with_capacity(self.gzip.len() * 5);
        flate2::read::GzDecoder::new(&self.gzip[..])
            .read_to_end(&mut json)
            .expect("our own gzip");
        json
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
}

/// Brotli if the client takes it, else gzip, else none (`Accept-Encoding`,
/// where `;q=0` refuses).
fn preferred_encoding(request: &HeaderMap) -> Option<Encoding> {
    let accepted: Vec<&str> = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next()?;
            let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
            (!refused).then_some(name)
        })
        .collect();
    let takes = |name: &str| accepted.iter().any(|a| a.eq_ignore_ascii_case(name) || *a == "*");
    if takes("br") {
        Some(Encoding::Brotli)
    } else if takes("gzip") {
        Some(Encoding::Gzip)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn key(cursor: i64) -> Key {
        Key {
            envelope: "{}".into(),
            grids: vec!["g".into()],
            cursor,
            limit: 1000,
        }
    }

    /// A page whose JSON does not compress much (so its size is predictable),
    /// counting its builds.
    async fn page(cache: &Snapshots, builds: &AtomicUsize, cursor: i64, head: i64) -> Arc<Snapshot> {
        cache
            .page(key(cursor), head, || async {
                builds.fetch_add(1, Ordering::SeqCst);
                let noise: String = (0..4000u32)
                    .map(|i| format!("{:x}", i.wrapping_mul(2_654_435_761)))
                    .collect();
                Ok((
                    format!("{{\"head\":{head},\"noise\":\"{noise}\"}}").into_bytes(),
                    cursor + 1,
                    1,
                ))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn phones_asking_at_once_share_one_build_until_the_head_moves() {
        let cache = Snapshots::new(1 << 20);
        let builds = AtomicUsize::new(0);
        let pages = futures_util::future::join_all((0..10).map(|_| page(&cache, &builds, 0, 7))).await;
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert!(pages.iter().all(|p| p.etag == pages[0].etag));
        // A caller that read an older head takes the newer page as it is.
        page(&cache, &builds, 0, 6).await;
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        let newer = page(&cache, &builds, 0, 8).await;
        assert_eq!(builds.load(Ordering::SeqCst), 2);
        assert_ne!(newer.etag, pages[0].etag);
    }

    #[tokio::test]
    async fn the_least_recently_served_page_goes_first_and_the_budget_holds() {
        let probe = Snapshots::new(1 << 20);
        let probed = page(&probe, &AtomicUsize::new(0), 0, 1).await;
        let size = probed.brotli.len() + probed.gzip.len();
        let cache = Snapshots::new(size * 5 / 2);
        let builds = AtomicUsize::new(0);
        page(&cache, &builds, 1, 1).await;
        page(&cache, &builds, 2, 1).await;
        page(&cache, &builds, 1, 1).await; // served again: now the newer
        page(&cache, &builds, 3, 1).await; // over budget: page 2 goes
        assert_eq!(builds.load(Ordering::SeqCst), 3);
        page(&cache, &builds, 1, 1).await;
        assert_eq!(builds.load(Ordering::SeqCst), 3, "page 1 was kept");
        page(&cache, &builds, 2, 1).await;
        assert_eq!(builds.load(Ordering::SeqCst), 4, "page 2 was dropped");
        let state = cache.state.lock().unwrap();
        assert!(state.bytes <= cache.budget, "{} > {}", state.bytes, cache.budget);
        let counted: usize = state.slots.values().map(|s| s.bytes.load(Ordering::Relaxed)).sum();
        assert_eq!(counted, state.bytes);
    }

    #[test]
    fn brotli_when_taken_else_gzip_else_none() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            preferred_encoding(&headers)
        };
        assert_eq!(with("gzip, deflate, br, zstd"), Some(Encoding::Brotli));
        assert_eq!(with("gzip, br;q=0"), Some(Encoding::Gzip));
        assert_eq!(with("br; q=0, GZIP"), Some(Encoding::Gzip));
        assert_eq!(with("identity"), None);
        assert_eq!(with("*"), Some(Encoding::Brotli));
        assert_eq!(preferred_encoding(&HeaderMap::new()), None);
    }
}
