//! Server-side state handed to handlers (axum) and to SSR (Leptos context).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

#[derive(Clone)]
pub struct AppState {
    /// The database, on either engine: every query goes through it.
    pub store: store::Store,
    pub leptos_options: LeptosOptions,
    pub auth: Arc<AuthSettings>,
    /// The stylesheet's URL (its name is content-hashed in release builds).
    pub stylesheet: Arc<str>,
}

/// How sessions behave; from the server's configuration.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub session_ttl_ms: i64,
    /// A session unused this long ends (a lost phone stops working).
    pub session_idle_ms: i64,
    /// Set the cookie's `Secure` flag (behind HTTPS in production).
    pub secure_cookie: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub use crate::clock::{DAY_MS, now_ms};
