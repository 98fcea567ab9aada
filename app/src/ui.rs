//! Small pieces every page uses.

use leptos::prelude::*;

use crate::domain::KeyGroup;
use crate::error::ApiError;

/// The bar on top of every signed-in page: back link, title, who is signed in.
#[component]
pub fn AppBar(#[prop(into)] title: TextProp, #[prop(optional, into)] back: Option<TextProp>) -> impl IntoView {
    view! {
        <header class="appbar">
            {back.map(|href| view! { <a class="appbar-back" href=move || href.get() aria-label="返回">"‹"</a> })}
            <h1 class="appbar-title">{move || title.get()}</h1>
            <crate::outbox::SyncBadge/>
        </header>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <div class="skeleton"></div>
            <div class="skeleton"></div>
            <div class="skeleton short"></div>
            <span class="sr-only">"加载中…"</span>
        </div>
    }
}

/// Shows an error as a person can act on it, and gives SSR the right status.
#[component]
pub fn ErrorView(error: ApiError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(error.status())
    {
        response.set_status(status);
    }
    let action = match error {
        ApiError::Unauthorized => view! { <a class="btn" href="/login" rel="external">"去登录"</a> }.into_any(),
        _ => view! { <a class="btn btn-plain" href="/">"回到我的网格"</a> }.into_any(),
    };
    view! {
        <section class="error-card" role="alert">
            <h2>"出错了"</h2>
            <p>{error.to_string()}</p>
            {action}
        </section>
    }
}

#[component]
pub fn TagChips(tags: Vec<KeyGroup>) -> impl IntoView {
    view! {
        <span class="chips">
            {tags.into_iter().map(|t| view! { <span class="chip chip-key">{t.label()}</span> }).collect_view()}
        </span>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <AppBar title="页面不存在"/>
        <main class="page">
            <section class="error-card">
                <h2>"404 · 找不到这个页面"</h2>
                <p>"链接可能有误，或该页面已被移除。"</p>
                <a class="btn" href="/">"回到我的网格"</a>
            </section>
        </main>
    }
}

/// Renders a resource's result: the view on success, [`ErrorView`] otherwise.
pub fn show<T, V>(result: Result<T, ApiError>, render: impl FnOnce(T) -> V) -> AnyView
where
    V: IntoView + 'static,
{
    match result {
        Ok(value) => render(value).into_any(),
        Err(error) => view! { <ErrorView error/> }.into_any(),
    }
}
