//! The phone's IndexedDB: whose it is, its version and the upgrade that brings any
//! older copy to it, and the names of its stores. Whatever keeps something on
//! the phone opens it here, so the schema has one home. Browser only.

use idb::{Database, DatabaseEvent, Factory, KeyPath, ObjectStoreParams};

/// Bump with an upgrade step in `open`; stores are only ever added, so an
/// app update never drops the outbox. v1: outbox. v2: the local copy of the
/// worker's grids and meta. Visits are kept one record per household
/// (`{id: household_id, grid_id, visits: [...]}`): a first sync writes a few
/// hundred records instead of thousands, which is most of its time.
/// v3: photos waiting for upload (`photos`, keyed by hash).
/// v4: requests (诉求) of the worker's grids (`requests`); the copy is then
/// pulled again from the start (`LocalState::schema`), since the cursor of an
/// older copy stands past requests it never kept.
const DB_VERSION: u32 = 4;
pub(crate) const PHOTOS: &str = "photos";
pub(crate) const OUTBOX: &str = "outbox";
pub(crate) const META: &str = "meta";
/// Stores of pulled records; each is keyed by `id` and indexed by `grid_id`.
pub const RECORD_STORES: [&str; 5] = ["buildings", "households", "residents", "visits", "requests"];
/// Indexes besides `grid_id`.
const RECORD_INDEXES: [(&str, &str); 3] = [
    ("households", "building_id"),
    ("residents", "household_id"),
    ("requests", "household_id"),
];

#[derive(Debug)]
pub struct StoreError(pub String);

impl From<idb::Error> for StoreError {
    fn from(_: idb::Error) -> Self {
        // idb's own messages are English and large to format; this is enough.
        StoreError("IndexedDB 不可用（隐私模式或空间已满？）".into())
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "本机存储出错：{}", self.0)
    }
}

/// The signed-in user's store, as public/phone.js named it before the WASM
/// ran: one per user, so a shared phone never mixes two people's records.
fn store_name() -> Option<String> {
    js_sys::Reflect::get(&web_sys::window()?.into(), &"gridwalkStore".into())
        .ok()?
        .as_string()
}

pub(crate) async fn open() -> Result<Database, StoreError> {
    let name = store_name().ok_or_else(|| StoreError("未登录或页面未加载完整，请刷新后重试".into()))?;
    let factory = Factory::new()?;
    let mut request = factory.open(&name, Some(DB_VERSION))?;
    request.on_upgrade_needed(|event| {
        let Ok(db) = event.database() else { return };
        let names = db.store_names();
        let missing = |name: &str| !names.iter().any(|n| n == name);
        if missing(OUTBOX) {
            let _ = db.create_object_store(OUTBOX, ObjectStoreParams::new());
        }
        if missing(META) {
            let _ = db.create_object_store(META, ObjectStoreParams::new());
        }
        if missing(PHOTOS) {
            let _ = db.create_object_store(PHOTOS, ObjectStoreParams::new());
        }
        for name in RECORD_STORES.into_iter().filter(|n| missing(n)) {
            let mut params = ObjectStoreParams::new();
            params.key_path(Some(KeyPath::new_single("id")));
            let Ok(store) = db.create_object_store(name, params) else {
                continue;
            };
            let _ = store.create_index("grid_id", KeyPath::new_single("grid_id"), None);
            for (_, index) in RECORD_INDEXES.iter().filter(|(store, _)| *store == name) {
                let _ = store.create_index(index, KeyPath::new_single(index), None);
            }
        }
    });
    Ok(request.await?)
}
