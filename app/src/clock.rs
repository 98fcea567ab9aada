//! Time and new ids, the same on the server and on the phone (where std's
//! clock is absent and the browser's is used).

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }
}

/// A UUIDv7 (time-ordered) for a record or an operation made on this device.
pub fn new_id() -> String {
    let ms = now_ms();
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, (ms / 1000) as u64, ((ms % 1000) * 1_000_000) as u32);
    uuid::Uuid::new_v7(ts).to_string()
}

pub const DAY_MS: i64 = 86_400_000;

/// Resolves when the browser has nothing more urgent to do (at the latest
/// after `within_ms`): work the first screen does not need waits here, so a
/// tap right after the page appears is answered at once. Browsers without
/// `requestIdleCallback` (Safari) wait a plain timeout instead. Built like
/// gloo's timers (a one-shot closure and a channel): `js_sys::Promise::new`
/// cost the shell 43 KB of WASM.
#[cfg(feature = "hydrate")]
pub async fn idle(within_ms: u32) {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else { return };
    let (done, waited) = futures::channel::oneshot::channel::<()>();
    let callback = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = done.send(());
    });
    let request = js_sys::Reflect::get(&window, &"requestIdleCallback".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let queued = match request {
        Some(request) => {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"timeout".into(), &within_ms.into());
            request.call2(&window, &callback, &options).is_ok()
        }
        None => window
            .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), within_ms.min(50) as i32)
            .is_ok(),
    };
    if queued {
        let _ = waited.await;
    }
}
