//! The activity lists for attendance (`crate::check_in`), kept on the phone:
//! fetched whenever the page opens with signal, and read back from the
//! phone's `meta` store when it opens without. Browser only.

use idb::TransactionMode;
use wasm_bindgen::JsValue;

use crate::check_in::{ActivitySheet, KeptSheets};
use crate::error::ApiError;
use crate::phone::idb::{META, StoreError, open};
use crate::phone::local::store_error;

const KEY: &str = "activities";

async fn keep(kept: &KeptSheets) -> Result<(), StoreError> {
    let text = serde_json::to_string(kept).map_err(|e| StoreError(e.to_string()))?;
    let db = open().await?;
    let tx = db.transaction(&[META], TransactionMode::ReadWrite)?;
    tx.object_store(META)?
        .put(&JsValue::from_str(&text), Some(&JsValue::from_str(KEY)))?
        .await?;
    tx.commit()?.await?;
    Ok(())
}

async fn kept() -> Result<KeptSheets, StoreError> {
    let db = open().await?;
    let tx = db.transaction(&[META], TransactionMode::ReadOnly)?;
    let value = tx.object_store(META)?.get(JsValue::from_str(KEY))?.await?;
    tx.await?;
    Ok(value
        .and_then(|v| v.as_string())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// The server's lists, kept for the stairwell; without signal, the copy.
pub async fn sheets() -> Result<KeptSheets, ApiError> {
    match crate::api::get_json::<Vec<ActivitySheet>>("/api/activities/check-in".into(), Vec::new()).await {
        Ok(activities) => {
            let fresh = KeptSheets {
                fetched_at: crate::clock::now_ms(),
                activities,
                offline: false,
            };
            keep(&fresh).await.map_err(store_error)?;
            Ok(fresh)
        }
        Err(ApiError::Network | ApiError::Internal) => Ok(KeptSheets {
            offline: true,
            ..kept().await.map_err(store_error)?
        }),
        Err(e) => Err(e),
    }
}
