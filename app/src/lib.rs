#![recursion_limit = "256"]
//! Gridwalk's UI and the types it shares with the server. Compiled twice: with
//! `ssr` into the server (pages rendered on the server, queries included), with
//! `hydrate` into the WASM the phone runs.

pub mod api;
pub mod auth;
pub mod buildings;
pub mod check_in;
pub mod clock;
pub mod domain;
pub mod error;
pub mod grids;
pub mod households;
pub mod login;
pub mod model;
pub mod outbox;
pub mod overdue;
pub mod phone;
pub mod photos;
pub mod policy;
pub mod request_list;
pub mod requests;
pub mod resident_form;
pub mod residents;
pub mod search;
#[cfg(feature = "ssr")]
pub mod state;
pub mod sync;
pub mod ui;
pub mod visits;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The head every app page shares: manifest, icons, the WASM, the stylesheet.
fn shell_head(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let stylesheet = use_context::<state::AppState>().map(|s| s.stylesheet.to_string());
    #[cfg(not(feature = "ssr"))]
    let stylesheet: Option<String> = None;
    view! {
        <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover"/>
            <meta name="theme-color" content="#1f6f5c"/>
            <link rel="manifest" href="/manifest.webmanifest"/>
            <link rel="icon" href="/icons/icon.svg" type="image/svg+xml"/>
            <link rel="apple-touch-icon" href="/icons/icon-192.png"/>
            // Before the WASM: it names the user's store the WASM opens.
            <script src="/phone.js"></script>
            <HydrationScripts options/>
            <link rel="stylesheet" href=stylesheet/>
            <title>"网格通"</title>
        </head>
    }
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            {shell_head(options)}
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page the service worker answers with for an app page it has no copy of,
/// offline: the same head, an empty body. The WASM then renders the route for
/// the address in the bar from the phone's own copy of its grids instead of
/// hydrating server HTML.
pub fn offline_shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            {shell_head(options)}
            <body data-offline-shell="1"></body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let sync = phone::status::SyncStatus::new();
    provide_context(sync);
    // Effects run only in the browser: the outbox sync starts after hydration.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        phone::engine::start(sync);
        let _ = sync;
    });
    view! {
        // Data pages render whole on the server (SsrMode::Async): right status
        // codes, and readable before (or without) the WASM.
        <Router>
            <Routes fallback=ui::NotFound>
                <Route path=path!("/login") view=login::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/") view=grids::MyGridsPage ssr=SsrMode::Async/>
                <Route path=path!("/grids/:id") view=grids::GridPage ssr=SsrMode::Async/>
                <Route path=path!("/buildings/:id") view=buildings::BuildingPage ssr=SsrMode::Async/>
                <Route path=path!("/households/:id") view=households::HouseholdPage ssr=SsrMode::Async/>
                <Route path=path!("/residents/:id") view=residents::ResidentPage ssr=SsrMode::Async/>
                <Route path=path!("/sync") view=|| view! { <ui::PhonePage title="同步" body=outbox::body/> }/>
                <Route path=path!("/overdue") view=|| view! { <ui::PhonePage title="逾期重点户" body=overdue::body/> }/>
                <Route path=path!("/requests") view=|| view! { <ui::PhonePage title="诉求" body=request_list::body/> }/>
                <Route path=path!("/check-in") view=|| view! { <ui::PhonePage title="活动签到" body=check_in::body/> }/>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic in a development build says what and where in the console; a
    // release build (panic = abort) only traps, to keep the WASM small.
    #[cfg(debug_assertions)]
    std::panic::set_hook(Box::new(|info| leptos::logging::error!("{info}")));
    // The module has just been compiled and instantiated, a long stretch on a
    // cheap phone's main thread; hydrating in the same task would add to it.
    // The page is hydrated in the next task, so a paint or a tap can come
    // between the two. (wasm-bindgen's own executor: Leptos' is set up only
    // by the hydration itself.)
    wasm_bindgen_futures::spawn_local(async {
        gloo_timers::future::sleep(std::time::Duration::ZERO).await;
        let offline_shell = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
            .is_some_and(|b| b.has_attribute("data-offline-shell"));
        if offline_shell {
            leptos::mount::mount_to_body(App);
        } else {
            leptos::mount::hydrate_body(App);
        }
        // A flag for the browser tests (and for debugging on a phone): the WASM is live.
        if let Some(window) = web_sys::window() {
            let _ = js_sys::Reflect::set(&window, &"__gridwalk_hydrated".into(), &true.into());
        }
    });
}
