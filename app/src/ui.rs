//! Small pieces every page uses.

use leptos::prelude::*;

use crate::domain::KeyGroup;
use crate::error::ApiError;

/// The bar on top of every signed-in page: back link, title, sync state.
#[component]
pub fn AppBar(#[prop(into)] title: TextProp, #[prop(optional, into)] back: Option<TextProp>) -> impl IntoView {
    view! {
        <header class="appbar">
            {back.map(|href| view! { <a class="appbar-back" href=move || href.get() aria-label="返回">"‹"</a> })}
            <h1 class="appbar-title">{move || title.get()}</h1>
            <crate::phone::status::SyncBadge/>
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

/// What a loaded page shows: its bar and its body.
pub struct PageParts {
    pub title: String,
    pub back: Option<String>,
    pub body: AnyView,
    /// Use the full width (the building matrix).
    pub wide: bool,
}

/// A page whose bar and body come from one loaded value, so the title is known
/// when the page renders (server and browser agree) and errors get a bar too.
#[component]
pub fn DataPage<T, F>(resource: Resource<Result<T, ApiError>>, loading_title: &'static str, render: F) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(T) -> PageParts + Clone + Send + Sync + 'static,
{
    let fallback = move || {
        // Suspense builds its fallback when it hydrates, even though the
        // server sent the page whole (tachys' `EitherKeepAlive`): a cheap phone
        // paid ~40 ms at every first load for a bar it never showed. Then a
        // plain bar, without the sync badge, is enough.
        let hydrating = Owner::current_shared_context().is_some_and(|context| context.during_hydration());
        if hydrating {
            view! {
                <header class="appbar"><h1 class="appbar-title">{loading_title}</h1></header>
                <main class="page"><Loading/></main>
            }
            .into_any()
        } else {
            view! {
                <AppBar title=loading_title/>
                <main class="page"><Loading/></main>
            }
            .into_any()
        }
    };
    view! {
        <Suspense fallback=fallback>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => {
                            let PageParts { title, back, body, wide } = render(value);
                            let class = if wide { "page page-wide" } else { "page" };
                            let bar = match back {
                                Some(back) => view! { <AppBar title back/> }.into_any(),
                                None => view! { <AppBar title/> }.into_any(),
                            };
                            view! { {bar} <main class=class>{body}</main> }.into_any()
                        }
                        Err(error) => view! {
                            <AppBar title=loading_title back="/"/>
                            <main class="page"><ErrorView error/></main>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// A button that opens a form. The form's code is a WASM chunk (`#[lazy]`)
/// fetched on the first tap and precached by the service worker, so the first
/// page load stays small and the form still opens offline.
#[component]
pub fn FormOpener(
    #[prop(into)] label: String,
    #[prop(into)] class: String,
    open: RwSignal<bool>,
    load: impl Fn() -> LazyView + Send + Sync + 'static,
) -> impl IntoView {
    // Only this line is compiled once per form; the opener itself once in all.
    form_opener(label, class, open, std::sync::Arc::new(load))
}

fn form_opener(
    label: String,
    class: String,
    open: RwSignal<bool>,
    load: std::sync::Arc<dyn Fn() -> LazyView + Send + Sync>,
) -> AnyView {
    let form = std::sync::Arc::new(move || {
        let form = load();
        view! {
            <Suspense fallback=|| view! { <p class="muted">"正在加载…"</p> }>
                {Suspend::new(form)}
            </Suspense>
        }
        .into_any()
    });
    view! {
        <Show when=move || open.get() fallback=move || (!label.is_empty()).then(|| view! {
            <button class=class.clone() on:click=move |_| open.set(true)>{label.clone()}</button>
        })>
            {let form = form.clone(); move || form()}
        </Show>
    }
    .into_any()
}

/// A part of a page that exists only on the phone (the sync page's lists): its
/// code is a WASM chunk fetched once the page runs; the server renders nothing.
/// A form opener without a button, opened as soon as the page runs.
#[component]
pub fn Deferred(load: impl Fn() -> LazyView + Send + Sync + 'static) -> impl IntoView {
    let open = RwSignal::new(false);
    Effect::new(move |_| open.set(true));
    form_opener(String::new(), String::new(), open, std::sync::Arc::new(load))
}

/// A page that exists only on the phone (the sync page, the overdue list, the
/// requests): the server renders its bar; its body is a WASM chunk fetched
/// once the page runs. One component for all of them keeps the shell small.
#[component]
pub fn PhonePage(title: &'static str, body: fn() -> LazyView) -> impl IntoView {
    view! {
        <AppBar title back="/"/>
        <main class="page">
            <Deferred load=body/>
        </main>
    }
}

/// The phone's offline tools share one WASM chunk: a chunk of its own costs
/// the first page load its entry in the split loader and the exports it
/// needs (measured: ~600 B brotli each).
#[derive(Debug, Clone, Copy)]
pub enum Tool {
    Requests,
    CheckIn,
    Overdue,
}

/// A tool's page body (see `PhonePage`).
pub fn tool(tool: Tool) -> LazyView {
    Box::pin(tool_body(tool))
}

#[lazy]
fn tool_body(tool: Tool) -> AnyView {
    match tool {
        Tool::Requests => view! { <crate::request_list::RequestsBody/> }.into_any(),
        Tool::CheckIn => view! { <crate::check_in::CheckInBody/> }.into_any(),
        Tool::Overdue => view! { <crate::overdue::OverdueBody/> }.into_any(),
    }
}

/// A view whose code is still to be fetched: what a `#[lazy]` form returns, boxed
/// so that one `FormOpener` serves every form.
pub type LazyView = std::pin::Pin<Box<dyn Future<Output = AnyView> + Send>>;

/// One button of a choice group; one component for all groups keeps the
/// WASM small.
#[component]
pub(crate) fn Toggle(#[prop(into)] label: String, on: Signal<bool>, toggle: Callback<()>) -> impl IntoView {
    view! {
        <button type="button" class=move || if on.get() { "on" } else { "" }
            aria-pressed=move || if on.get() { "true" } else { "false" }
            on:click=move |_| toggle.run(())>{label}</button>
    }
}

pub(crate) fn toggle<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if let Some(i) = list.iter().position(|x| *x == item) {
        list.remove(i);
    } else {
        list.push(item);
    }
}

/// Text for markup written by hand (HTML, SVG, XML): the five characters that
/// could end a text or an attribute value become references.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
