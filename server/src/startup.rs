//! Wiring: database, demo data, routes and layers, the listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::state::{AppState, AuthSettings};
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, file_and_error_handler_with_context, generate_route_list};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::assets::Assets;
use crate::auth::{login_form, logout, require_login_for_pages};
use crate::client::TrustedProxies;
use crate::config::Settings;
use crate::limits::{LoginLimiter, RateLimiter};
use crate::photos::PhotoStore;
use crate::photos::check::Rules;
use crate::routes::{Route, Routes, get, post};
use crate::same_site::{SiteAuthority, refuse_cross_site};
use crate::sync;
use crate::{
    activities, api, backup, coverage, db, deadline, demo, import, notices, party, requests, staff, sweep, telemetry,
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] store::Error),
    #[error("listening on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("photo store: {0}")]
    PhotoStore(#[from] object_store::Error),
    #[error("demo data: {0}")]
    Demo(#[from] demo::SeedError),
    #[error("settings: {0}")]
    Settings(String),
    #[error("{0}")]
    Backup(#[from] backup::BackupError),
}

pub struct Server {
    listener: TcpListener,
    router: Router,
    routes: Vec<Route>,
    state: AppState,
    /// Scheduled copies of the SQLite file (`backup_dir`), run alongside.
    backups: Option<backup::Schedule>,
    /// Sweeps of photos and files no record names, run alongside.
    sweeps: Option<(sweep::Schedule, Arc<dyn object_store::ObjectStore>)>,
    /// Held while the server lives: `server restore` refuses to replace the
    /// file under it.
    _database_lock: Option<backup::DatabaseLock>,
}

/// Everything up to accepting connections: the caller learns the bound address
/// (port 0 in tests) before the server runs.
pub async fn build(settings: Settings) -> Result<Server, StartupError> {
    let backups = backup::Schedule::from_settings(&settings).map_err(StartupError::Settings)?;
    let sweeps = sweep::Schedule::from_settings(&settings).map_err(StartupError::Settings)?;
    if settings.request_timeout_secs == 0 || settings.upload_idle_secs == 0 {
        return Err(StartupError::Settings(
            "request_timeout_secs and upload_idle_secs must be at least 1".into(),
        ));
    }
    // Before the migrations: a restore in progress must not be migrated under.
    let database_lock = backup::hold_for_serving(&settings)?;
    let store = db::connect(&settings).await?;
    let photos = Arc::new(
        PhotoStore::open(
            &settings.photo_store,
            Rules {
                max_bytes: settings.photo_max_bytes,
                max_pixels: settings.photo_max_pixels,
            },
        )
        .await?
        .with_daily_quota(settings.photo_daily_quota),
    );
    if settings.demo_data {
        demo::seed(&store, &photos).await?;
    }
    let listener = TcpListener::bind(&settings.addr)
        .await
        .map_err(|source| StartupError::Bind {
            addr: settings.addr.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartupError::Bind {
        addr: settings.addr.clone(),
        source,
    })?;
    let assets = Arc::new(Assets::load(std::path::Path::new(&settings.site_root), "gridwalk"));
    let leptos_options = LeptosOptions::builder()
        .output_name("gridwalk")
        .hash_files(assets.hashed)
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let https = settings
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    if !https && !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "!!! 未使用 HTTPS: serving plain HTTP beyond this machine. Passwords, session cookies and \
             residents' data cross the network unencrypted. Put an HTTPS proxy in front (README, \
             \"Behind a reverse proxy\") and set public_url = \"https://…\" !!!"
        );
    }
    let state = AppState {
        store,
        leptos_options,
        auth: Arc::new(AuthSettings {
            session_ttl_ms: settings.session_ttl_hours * 3_600_000,
            session_idle_ms: settings.session_idle_hours * 3_600_000,
            secure_cookie: settings.secure_cookie || https,
        }),
        stylesheet: assets.stylesheet.clone().into(),
    };
    let edge = Edge {
        login: Arc::new(LoginLimiter::new(
            settings.login_max_failures,
            settings.login_window_secs,
        )),
        public: Arc::new(RateLimiter::new(
            settings.public_requests_per_minute,
            state.store.clone(),
        )),
        proxies: Arc::new(TrustedProxies::parse(&settings.trusted_proxies).map_err(StartupError::Settings)?),
        site: Arc::new(SiteAuthority::from_public_url(settings.public_url.as_deref())),
        deadline: deadline::Limits {
            request: Duration::from_secs(settings.request_timeout_secs),
            upload_idle: Duration::from_secs(settings.upload_idle_secs),
        },
        public_url: settings.public_url.clone(),
        https,
    };
    let sweeps = sweeps.map(|schedule| (schedule, photos.objects().clone()));
    let (router, routes) = router(state.clone(), assets, sync::routes(&settings), photos, edge);
    Ok(Server {
        listener,
        router,
        routes,
        state,
        backups,
        sweeps,
        _database_lock: database_lock,
    })
}

/// How this instance meets the outside world: its limits, the proxies it
/// trusts, the address people reach it by.
struct Edge {
    login: Arc<LoginLimiter>,
    public: Arc<RateLimiter>,
    proxies: Arc<TrustedProxies>,
    site: Arc<SiteAuthority>,
    deadline: deadline::Limits,
    public_url: Option<String>,
    https: bool,
}

/// The router, and every route it answers besides its fallback (static files).
fn router(
    state: AppState,
    assets: Arc<Assets>,
    sync: Routes,
    photos: Arc<PhotoStore>,
    edge: Edge,
) -> (Router, Vec<Route>) {
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let app_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    // Photos set their own (private, revalidated) policy.
    let api = api::routes(photos.clone(), sync).layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    let (router, routes) = Routes::new()
        .route("/healthz", get(healthz))
        .route("/sw.js", get(move || service_worker(assets.clone())))
        .route("/shell", get(offline_shell))
        .route("/login", post(login_form))
        .route("/logout", post(logout))
        .nest("/api", api)
        .merge(requests::routes(
            requests::PublicRoutes {
                limiter: edge.public.clone(),
            },
            photos.clone(),
        ))
        .merge(activities::routes(edge.public.clone()))
        .merge(notices::routes(edge.public, edge.public_url, photos.clone()))
        .merge(coverage::routes())
        .merge(staff::routes())
        .merge(party::routes())
        .merge(import::page::routes())
        .leptos_routes(&state, page_routes(), context.clone(), app_shell)
        .into_parts();
    let router = router
        .fallback(file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_login_for_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(edge.site, refuse_cross_site))
        .layer(axum::Extension(edge.login))
        .layer(axum::Extension(edge.proxies))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(axum::middleware::map_response(cache_policy))
        .layer(axum::middleware::map_response(page_policy))
        // Static assets come precompressed (cargo leptos --precompress); dynamic
        // answers are compressed at a level that costs well under a millisecond.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
        .layer(axum::middleware::from_fn_with_state(edge.deadline, deadline::enforce))
        .layer(telemetry::trace_layer())
        .layer(CatchPanicLayer::new())
        .with_state(state);
    // Over https, browsers are told never to try plain http here again.
    let router = if edge.https {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    };
    (router, routes)
}

/// For answers whose handler did not say (public pages, photos, files and
/// ledgers set their own): files under /pkg/ have content-hashed names and
/// never change; pages, and whatever else /manage and /account answer, carry
/// residents' data and are kept by no cache and written to no disk by the
/// browser; the rest (icons, scripts, redirects) is revalidated.
///
/// Offline, the service worker opens app pages from the precached `/shell`
/// and never keeps a page (sw.js).
async fn cache_policy(uri: axum::http::Uri, mut response: axum::response::Response) -> axum::response::Response {
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        let path = uri.path();
        let policy = if path.starts_with("/pkg/") && response.status().is_success() {
            "public, max-age=31536000, immutable"
        } else if is_html(&response) || path.starts_with("/manage/") || path.starts_with("/account") {
            "private, no-store"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

fn is_html(response: &axum::response::Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// What every page allows besides its scripts and styles: images from here,
/// from `data:` and from `blob:` (photos shown from the phone's own store);
/// requests to this site only; no plugins, no `<base>`, forms posting here,
/// never framed.
macro_rules! shared_page_policy {
    () => {
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    };
}

/// A page rendered by Leptos (the app's pages, the login page, the offline
/// shell). Its inline scripts are the WASM loader and the data of resources
/// rendered on the server. They carry a per-answer nonce, but the policy
/// cannot name it reliably: leptos_axum applies the headers of some renders
/// (seen: the home page of a session created by a browser) without the one
/// the app's context set, and a policy without the nonce stops the app. So
/// inline scripts are allowed on these pages; every other source of script,
/// and of everything else, is this site only. `wasm-unsafe-eval` lets the
/// loader compile the WASM. The stylesheet is a file, so no `<style>`
/// element; `style` attributes are allowed (progress-bar widths).
const APP_PAGE_POLICY: &str = concat!(
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; ",
    "style-src 'self' 'unsafe-inline'; style-src-elem 'self'; ",
    shared_page_policy!()
);

/// Every other page (management, coverage, account, the static offline page):
/// no inline script at all; inline styles, as these pages bring their CSS in
/// the page (html.rs).
const SERVER_PAGE_POLICY: &str = concat!(
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; ",
    shared_page_policy!()
);

/// Every HTML answer without a policy of its own gets one: the server's own
/// pages (management, account) the one without inline scripts, the app's
/// pages theirs.
async fn page_policy(uri: axum::http::Uri, mut response: axum::response::Response) -> axum::response::Response {
    if is_html(&response) && !response.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        let path = uri.path();
        let server_page = path.starts_with("/manage/") || path.starts_with("/account") || path.ends_with(".html");
        let policy = if server_page {
            SERVER_PAGE_POLICY
        } else {
            APP_PAGE_POLICY
        };
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    response
}

/// The empty app page the service worker falls back to offline (see sw.js).
async fn offline_shell(State(state): State<AppState>) -> axum::response::Html<String> {
    use leptos::prelude::{Owner, RenderHtml};
    let owner = Owner::new();
    let html = owner.with(|| {
        provide_context(state.clone());
        app::offline_shell(state.leptos_options.clone()).to_html()
    });
    axum::response::Html(html)
}

async fn service_worker(assets: Arc<Assets>) -> impl axum::response::IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        assets.service_worker.clone(),
    )
}

/// 200 when the database answers; the sync client and load balancers probe it.
#[utoipa::path(get, path = "/healthz", tag = "meta", operation_id = "healthz",
    summary = "Liveness and database check", security(()),
    responses(
        (status = 200, description = "The database answers.", body = String, content_type = "text/plain",
            example = "ok"),
        (status = 408, response = crate::openapi::Timeout),
        (status = 503, description = "The database does not answer.", body = String, content_type = "text/plain",
            example = "database unavailable"),
    ))]
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.ping().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

impl Server {
    pub fn local_addr(&self) -> SocketAddr {
        self.state.leptos_options.site_addr
    }

    /// Every method and path the router answers (the access matrix checks each).
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening");
        let backups = self
            .backups
            .map(|schedule| tokio::spawn(schedule.run(self.state.store.clone())));
        let sweeps = self
            .sweeps
            .map(|(schedule, objects)| tokio::spawn(schedule.run(self.state.store.clone(), objects)));
        let served = axum::serve(
            self.listener,
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        for task in [backups, sweeps].into_iter().flatten() {
            task.abort();
        }
        // Closing checkpoints SQLite's WAL into the file, before the
        // database lock goes with `self` and a restore may replace the file.
        self.state.store.close().await;
        served
    }

    /// The URL and the demo accounts, for a newcomer's first start.
    pub async fn print_banner(&self) {
        println!("\n  网格通 Gridwalk 已启动: http://{}\n", self.local_addr());
        let store = &self.state.store;
        // The demo's accounts and their published password, only where the
        // demo was seeded: a real install has no known password to print.
        let demo = matches!(store.install_fact("demo_seeded").await, Ok(Some(_)));
        match store.demo_accounts().await {
            Ok(accounts) if demo && !accounts.is_empty() => {
                println!("  演示账号 (密码均为 {}):", demo::DEMO_PASSWORD);
                for a in accounts {
                    let role = app::domain::Role::parse(&a.role).map_or("?", |r| r.label());
                    let scope = a.scope.as_deref().unwrap_or("全部");
                    println!("    {:<10} {role:<6} {} · {scope}", a.username, a.display_name);
                }
                println!();
            }
            Ok(accounts) if accounts.is_empty() => println!(
                "  还没有任何账号。创建第一个管理员：\n    server user add --role admin <用户名>\n  \
                 （初始密码只显示一次，首次登录后须修改）\n"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not list demo accounts"),
        }
    }
}

/// The app's pages, listed once per process. Listing renders the app with every
/// data load held back by a flag the whole process shares (leptos_server's
/// `SuppressResourceLoad`, leptos#4773): a page that another server of the same
/// process (tests, instances side by side) rendered meanwhile waited for its
/// data for ever and ended in the request timeout. Once listed, no server
/// lists again, so nothing renders while the flag is up.
fn page_routes() -> Vec<AxumRouteListing> {
    static PAGES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    PAGES.get_or_init(|| generate_route_list(App)).clone()
}
