//! The server's routes, each recorded as it is registered. axum's router
//! cannot list what it answers, and the access matrix (tests/access.rs) must
//! check every route and method the server has, not a copy that goes stale.
//! So routes are added only through [`Routes`] and the method builders here
//! (`clippy.toml` forbids `Router::route` elsewhere), and the finished
//! router comes with its [`Route`] list.

use std::convert::Infallible;
use std::fmt;

use app::state::AppState;
use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route as AxumRoute};
use leptos::IntoView;
use leptos_axum::{AxumRouteListing, LeptosRoutes};
use tower::{Layer, Service};

/// One method on one path, as the router matches it (`/grids/{id}`). A GET
/// stands for HEAD too: axum answers HEAD with the GET handler.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    pub method: Method,
    pub path: String,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// A router and the routes it holds.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    listed: Vec<Route>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    #[expect(clippy::disallowed_methods, reason = "the one place routes are added")]
    pub fn route(mut self, path: &str, methods: Methods) -> Self {
        self.listed.extend(methods.methods.into_iter().map(|method| Route {
            method,
            path: path.to_owned(),
        }));
        self.router = self.router.route(path, methods.router);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.listed.extend(other.listed);
        self.router = self.router.merge(other.router);
        self
    }

    pub fn nest(mut self, prefix: &str, other: Routes) -> Self {
        self.listed.extend(other.listed.into_iter().map(|route| Route {
            path: format!("{prefix}{}", route.path),
            ..route
        }));
        self.router = self.router.nest(prefix, other.router);
        self
    }

    /// The app's pages and server functions, as leptos_axum registers them
    /// (`pages` from `generate_route_list`, which excludes none).
    pub fn leptos_routes<IV: IntoView + 'static>(
        mut self,
        state: &AppState,
        pages: Vec<AxumRouteListing>,
        context: impl Fn() + Clone + Send + Sync + 'static,
        app: impl Fn() -> IV + Clone + Send + Sync + 'static,
    ) -> Self {
        let server_fns = leptos::server_fn::axum::server_fn_paths().map(|(path, method)| Route {
            method,
            path: path.to_owned(),
        });
        let page_routes = pages.iter().flat_map(|page| {
            page.methods().map(|method| Route {
                method: match method {
                    leptos_router::Method::Get => Method::GET,
                    leptos_router::Method::Post => Method::POST,
                    leptos_router::Method::Put => Method::PUT,
                    leptos_router::Method::Delete => Method::DELETE,
                    leptos_router::Method::Patch => Method::PATCH,
                },
                path: page.path().to_owned(),
            })
        });
        self.listed.extend(server_fns.chain(page_routes).collect::<Vec<_>>());
        self.router = self.router.leptos_routes_with_context(state, pages, context, app);
        self
    }

    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<AxumRoute> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    pub fn route_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<AxumRoute> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.route_layer(layer);
        self
    }

    pub fn fallback<H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Self {
        self.router = self.router.fallback(handler);
        self
    }

    /// The router, to be layered further, and every route it answers.
    pub fn into_parts(self) -> (Router<AppState>, Vec<Route>) {
        (self.router, self.listed)
    }
}

/// The methods of one path: `get(page).post(save)`, as axum's builders.
pub struct Methods {
    router: MethodRouter<AppState>,
    methods: Vec<Method>,
}

pub fn get<H: Handler<T, AppState>, T: 'static>(handler: H) -> Methods {
    Methods {
        router: axum::routing::get(handler),
        methods: vec![Method::GET],
    }
}

pub fn post<H: Handler<T, AppState>, T: 'static>(handler: H) -> Methods {
    Methods {
        router: axum::routing::post(handler),
        methods: vec![Method::POST],
    }
}

pub fn put<H: Handler<T, AppState>, T: 'static>(handler: H) -> Methods {
    Methods {
        router: axum::routing::put(handler),
        methods: vec![Method::PUT],
    }
}

impl Methods {
    pub fn get<H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Self {
        self.router = self.router.get(handler);
        self.methods.push(Method::GET);
        self
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Self {
        self.router = self.router.post(handler);
        self.methods.push(Method::POST);
        self
    }

    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<AxumRoute> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }
}
