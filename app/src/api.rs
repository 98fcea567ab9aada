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
    let user = crate::auth::ssr::user_from_headers(&state.pool, &parts.headers).await?;
    Ok(crate::auth::ssr::Caller {
        pool: state.pool,
        user,
        route: parts.uri.path().to_owned(),
    })
}

#[cfg(not(feature = "ssr"))]
pub async fn get_json<T>(path: String, query: Vec<(&'static str, String)>) -> Result<T, ApiError>
where
    T: serde::de::DeserializeOwned + 'static,
{
    use crate::error::ErrorBody;

    // gloo futures are not Send; the browser is single-threaded, so this is sound.
    send_wrapper::SendWrapper::new(async move {
        let response = gloo_net::http::Request::get(&path)
            .query(query.iter().map(|(k, v)| (*k, v.as_str())))
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        if response.ok() {
            return response.json::<T>().await.map_err(|_| ApiError::Internal);
        }
        let status = response.status();
        let message = response
            .json::<ErrorBody>()
            .await
            .map(|b| b.message)
            .unwrap_or_default();
        Err(match status {
            400 => ApiError::BadRequest(message),
            401 => ApiError::Unauthorized,
            403 => ApiError::Forbidden,
            404 => ApiError::NotFound(message),
            413 => ApiError::TooLarge,
            429 => ApiError::RateLimited(60),
            502..=504 => ApiError::Network,
            _ => ApiError::Internal,
        })
    })
    .await
}
