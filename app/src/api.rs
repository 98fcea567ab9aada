//! How a page gets its data: during SSR straight from the database as the
//! logged-in caller; in the browser over the JSON API. Both paths end in the same
//! query functions, so access checks live in one place.

use crate::error::ApiError;

/// Ids are UUIDs; anything else is refused before it reaches a URL or a query.
pub fn parse_id(text: &str) -> Result<String, ApiError> {
    uuid::Uuid::try_parse(text)
        .map(|id| id.to_string())
        .map_err(|_| ApiError::bad_id())
}

#[cfg(feature = "ssr")]
pub async fn caller() -> Result<crate::auth::ssr::Caller, ApiError> {
    use leptos::prelude::use_context;

    let state = use_context::<crate::state::AppState>().ok_or(ApiError::Internal)?;
    let parts = use_context::<http::request::Parts>().ok_or(ApiError::Internal)?;
    let user = crate::auth::ssr::user_from_headers(&state, &parts.headers)
        .await?
        .ready_for(&parts.method, parts.uri.path())?;
    Ok(crate::auth::ssr::Caller {
        store: state.store,
        user,
        route: parts.uri.path().to_owned(),
    })
}

#[cfg(not(feature = "ssr"))]
pub use client::*;

/// A small fetch over web-sys: gloo-net would bring the `http` crate into the
/// WASM, and the bundle has a size budget.
#[cfg(not(feature = "ssr"))]
mod client {
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{RequestCache, RequestInit, Response};

    use crate::error::{ApiError, ErrorBody};

    /// A finished HTTP exchange: status and body text. The text stays a
    /// JavaScript string until Rust asks for it: a pull page of 5,000 records
    /// goes straight to the browser's JSON parser, without two copies through
    /// WASM memory on the way.
    pub struct Reply {
        pub status: u16,
        pub text: JsValue,
    }

    impl Reply {
        pub fn ok(&self) -> bool {
            (200..300).contains(&self.status)
        }

        pub fn body(&self) -> String {
            self.text.as_string().unwrap_or_default()
        }
    }

    /// `Err` only when no answer came back (offline, connection cut).
    pub async fn fetch(method: &str, url: &str, json_body: Option<String>) -> Result<Reply, JsValue> {
        // gloo/web-sys futures are not Send; the browser is single-threaded.
        send_wrapper::SendWrapper::new(async move {
            let init = RequestInit::new();
            init.set_method(method);
            init.set_cache(RequestCache::NoStore);
            if let Some(body) = json_body {
                let headers = web_sys::Headers::new()?;
                headers.set("content-type", "application/json")?;
                init.set_headers(&headers);
                init.set_body(&JsValue::from_str(&body));
            }
            let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
            let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
                .await?
                .dyn_into()?;
            let text = JsFuture::from(response.text()?).await?;
            Ok(Reply {
                status: response.status(),
                text,
            })
        })
        .await
    }

    pub async fn get_json<T>(path: String, query: Vec<(&'static str, String)>) -> Result<T, ApiError>
    where
        T: serde::de::DeserializeOwned + 'static,
    {
        let mut url = path;
        for (i, (key, value)) in query.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            url.push_str(&format!(
                "{sep}{key}={}",
                String::from(js_sys::encode_uri_component(value))
            ));
        }
        let reply = fetch("GET", &url, None).await.map_err(|_| ApiError::Network)?;
        let body = reply.body();
        if reply.ok() {
            return serde_json::from_str(&body).map_err(|_| ApiError::Internal);
        }
        let message = serde_json::from_str::<ErrorBody>(&body)
            .map(|b| b.message)
            .unwrap_or_default();
        Err(match reply.status {
            400 => ApiError::BadRequest(message),
            401 => ApiError::Unauthorized,
            403 => ApiError::Forbidden,
            404 => ApiError::NotFound(message),
            413 => ApiError::TooLarge,
            429 => ApiError::RateLimited(60),
            502..=504 => ApiError::Network,
            _ => ApiError::Internal,
        })
    }
}
