//! Signing in and out, the session cookie, the login rate limit, and the
//! extractor every JSON route uses to know its caller.

use app::auth::ssr::{
    Caller, CurrentUser, cookie_value, hash_token, session_token, user_from_headers, user_from_token,
};
use app::auth::{SESSION_COOKIE, USER_COOKIE};
use app::error::ApiError;
use app::state::{AppState, now_ms};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use store::sessions::NewSession;

use crate::client::ClientIp;
use crate::limits::{LoginGate, LoginKeys, LoginLimiter};

const MAX_USERNAME_CHARS: usize = 64;
const MAX_PASSWORD_BYTES: usize = 1024;

/// Body of POST /api/login.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    /// User name; trimmed and compared case-insensitively.
    username: String,
    #[schema(format = Password)]
    password: String,
}

/// The user's session token and profile, or why not. A wrong user name and a
/// wrong password take the same time and give the same answer.
async fn authenticate(
    state: &AppState,
    limiter: &LoginLimiter,
    client: ClientIp,
    headers: &HeaderMap,
    route: &str,
    credentials: Credentials,
) -> Result<(CurrentUser, String), ApiError> {
    // Longer than any account could have: refused before a lookup, a limit
    // row or a password check is spent on it.
    if credentials.username.chars().count() > MAX_USERNAME_CHARS || credentials.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::BadRequest("用户名或密码过长".into()));
    }
    let username = credentials.username.trim().to_lowercase();
    let keys = LoginKeys::new(&username, client.0);
    let now = now_ms();
    match limiter.gate(&state.store, &keys, now).await? {
        LoginGate::Wait(wait) => {
            tracing::warn!(%username, client = %client.0, "login rate-limited");
            return Err(ApiError::RateLimited(wait));
        }
        LoginGate::Proceed { delay_ms } if delay_ms > 0 => {
            tracing::info!(%username, client = %client.0, delay_ms, "login slowed: failures on this name");
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        }
        LoginGate::Proceed { .. } => {}
    }
    let row = state.store.login_candidate(&username).await?;
    // Unknown users are checked against a fixed hash so timing does not tell.
    let (user_id, hash) = row.map_or_else(
        || (String::new(), unknown_user_hash().to_owned()),
        |row| (row.id, row.password_hash),
    );
    let verified = crate::passwords::verify(credentials.password, hash)
        .await
        .ok_or_else(|| {
            tracing::error!("no password-checking thread");
            ApiError::Internal
        })?;
    let address = client.0.to_string();
    let entry = |user_id, action| store::audit::Entry {
        at: now,
        user_id,
        action,
        entity: "session",
        entity_id: &address,
        route,
    };
    if !verified || user_id.is_empty() {
        limiter.record_failure(&state.store, &keys, now).await?;
        if !user_id.is_empty() {
            state.store.audit(entry(&user_id, "denied")).await?;
        }
        tracing::info!(%username, client = %client.0, "login failed");
        return Err(ApiError::Unauthorized);
    }
    state.store.clear_login_failures(keys.forgiven_on_success()).await?;

    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a session token");
        ApiError::Internal
    })?;
    let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    // What the owner will recognise the session by in their list.
    let user_agent: String = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let session = NewSession {
        token_hash: &hash_token(&token),
        expires_at: now + state.auth.session_ttl_ms,
        client: &address,
        user_agent: &user_agent,
    };
    state.store.open_session(session, entry(&user_id, "sign_in")).await?;
    let user = user_from_token(state, &token).await?;
    tracing::info!(user = %user.id, "login");
    Ok((user, token))
}

fn unknown_user_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password_auth::generate_hash("no such user"))
}

/// A cookie of the session's, `Max-Age=0` without a value (cleared).
fn cookie(state: &AppState, name: &str, value: Option<&str>, http_only: bool) -> HeaderValue {
    let secure = if state.auth.secure_cookie { "; Secure" } else { "" };
    let http_only = if http_only { "; HttpOnly" } else { "" };
    let max_age = value.map_or(0, |_| state.auth.session_ttl_ms / 1000);
    let value = value.unwrap_or_default();
    let cookie = format!("{name}={value}; Path=/; SameSite=Lax; Max-Age={max_age}{http_only}{secure}");
    // Tokens are hex, ids UUIDs and names percent-encoded: always a valid header.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("gw_session=; Path=/; Max-Age=0"))
}

/// `gw_user`'s value: the user's id, a dot, the display name percent-encoded.
fn user_cookie_value(user: &CurrentUser) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    format!(
        "{}.{}",
        user.id,
        utf8_percent_encode(&user.display_name, NON_ALPHANUMERIC)
    )
}

/// The session's two cookies: the token (never readable by scripts) and
/// `gw_user`, with the same lifetime; `None` clears both.
fn session_cookies(state: &AppState, session: Option<(&str, &CurrentUser)>) -> [HeaderValue; 2] {
    [
        cookie(state, SESSION_COOKIE, session.map(|(token, _)| token), true),
        cookie(
            state,
            USER_COOKIE,
            session.map(|(_, user)| user_cookie_value(user)).as_deref(),
            false,
        ),
    ]
}

fn with_cookies(mut response: Response, cookies: [HeaderValue; 2]) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /api/login` with JSON `{username, password}`.
#[utoipa::path(post, path = "/api/login", tag = "auth", operation_id = "login", summary = "Sign in",
    description = "Checks the credentials and starts a session. A wrong user name and a wrong password take the same \
        time and give the same answer (401). A name is refused (429) at the client address that failed it \
        `login_max_failures` times, and any address after four times as many failures; from other addresses the \
        name's failures only slow the answer (0.5 s, doubling, at most 8 s). The client address is the \
        connection's, or the one a trusted proxy forwards (`trusted_proxies`).",
    security(()),
    request_body(content = Credentials, example = json!({"username": "worker1", "password": "…"})),
    responses(
        (status = 200, description = "Signed in.", body = app::model::Me, headers(("Set-Cookie" = String,
            description = "`gw_session=<token>; Path=/; HttpOnly; SameSite=Lax; Max-Age=<ttl>` (plus `Secure` \
            when configured or when `public_url` is https)."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, description = "Wrong user name or password (unauthorized): 请先登录.",
            body = app::error::ErrorBody, example = json!({"error": "unauthorized", "message": "请先登录"})),
        (status = 403, response = crate::openapi::CrossSite),
        (status = 408, response = crate::openapi::Timeout),
        (status = 413, response = crate::openapi::TooLarge),
        (status = 429, response = crate::openapi::RateLimited),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Busy),
    ))]
pub async fn login_json(
    State(state): State<AppState>,
    axum::Extension(limiter): axum::Extension<std::sync::Arc<LoginLimiter>>,
    client: ClientIp,
    headers: HeaderMap,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(credentials) = body.map_err(|e| match e.status() {
        http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::BadRequest(format!("请求格式不正确：{}", e.body_text())),
    })?;
    let (user, token) = authenticate(&state, &limiter, client, &headers, "/api/login", credentials).await?;
    let cookies = session_cookies(&state, Some((&token, &user)));
    Ok(with_cookies(Json(user.me()).into_response(), cookies))
}

/// `POST /login` from the HTML form: redirects back with an error code, or home.
pub async fn login_form(
    State(state): State<AppState>,
    axum::Extension(limiter): axum::Extension<std::sync::Arc<LoginLimiter>>,
    client: ClientIp,
    headers: HeaderMap,
    form: Result<Form<Credentials>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(credentials)) = form else {
        return Redirect::to("/login?error=invalid").into_response();
    };
    match authenticate(&state, &limiter, client, &headers, "/login", credentials).await {
        Ok((user, token)) => with_cookies(
            // A one-time password is replaced before anything else.
            Redirect::to(if user.must_change_password { PASSWORD_PAGE } else { "/" }).into_response(),
            session_cookies(&state, Some((&token, &user))),
        ),
        Err(ApiError::RateLimited(_)) => Redirect::to("/login?error=limited").into_response(),
        // Too long to be anyone's is, to the person at the form, wrong.
        Err(ApiError::Unauthorized | ApiError::BadRequest(_)) => Redirect::to("/login?error=invalid").into_response(),
        Err(_) => Redirect::to("/login?error=server").into_response(),
    }
}

/// Where a person changes their own password (the first stop after signing
/// in with a one-time password).
pub const PASSWORD_PAGE: &str = "/account/password";

/// `POST /logout`: ends the session on the server, not just in the browser.
pub async fn logout(State(state): State<AppState>, client: ClientIp, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        let address = client.0.to_string();
        let sign_out = store::audit::Entry {
            at: now_ms(),
            user_id: "",
            action: "sign_out",
            entity: "session",
            entity_id: &address,
            route: "/logout",
        };
        state.store.close_session(&hash_token(token), sign_out).await?;
    }
    Ok(with_cookies(
        Redirect::to("/login").into_response(),
        session_cookies(&state, None),
    ))
}

/// The signed-in caller of a route, ready to work; 401 otherwise (with the
/// reason when the account itself is refused).
pub struct Api(pub Caller);

impl FromRequestParts<AppState> for Api {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let SignedIn(caller) = SignedIn::from_request_parts(parts, state).await?;
        let user = caller.user.ready_for(&parts.method, &caller.route)?;
        Ok(Api(Caller { user, ..caller }))
    }
}

/// Any signed-in caller, one who must still change a one-time password
/// included: the account pages serve them.
pub struct SignedIn(pub Caller);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = user_from_headers(state, &parts.headers).await?;
        let route = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| parts.uri.path().to_owned());
        Ok(SignedIn(Caller {
            store: state.store.clone(),
            user,
            route,
        }))
    }
}

/// Pages other than the login page need a live session: without one, go to
/// the login page instead of rendering an error.
pub async fn require_login_for_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_page = path == "/"
        || path == "/sync"
        || path == "/overdue"
        || path == "/requests"
        || path == "/check-in"
        || [
            "/grids/",
            "/buildings/",
            "/households/",
            "/residents/",
            "/manage/",
            "/account",
        ]
        .iter()
        .any(|p| path.starts_with(p));
    let is_login = path == "/login";
    if !(is_page || is_login) || request.method() != http::Method::GET {
        return next.run(request).await;
    }
    let user = match user_from_headers(&state, request.headers()).await {
        Ok(user) => Some(user),
        Err(ApiError::Unauthorized) => None,
        // A disabled account: the login page says so (and serves).
        Err(ApiError::Account(_)) if is_page => return Redirect::to("/login?error=disabled").into_response(),
        Err(ApiError::Account(_)) => None,
        Err(e) => return e.into_response(),
    };
    match (is_page, user) {
        (true, None) => Redirect::to("/login").into_response(),
        (_, Some(user)) if user.must_change_password && path != PASSWORD_PAGE => {
            Redirect::to(PASSWORD_PAGE).into_response()
        }
        (false, Some(_)) => Redirect::to("/").into_response(),
        (_, Some(user)) => {
            // Sessions opened before `gw_user` existed (or by the JSON login of
            // another client) get it with their next page.
            let value = user_cookie_value(&user);
            let named = cookie_value(request.headers(), USER_COOKIE) == Some(value.as_str());
            let mut response = next.run(request).await;
            if !named {
                let cookie = cookie(&state, USER_COOKIE, Some(&value), false);
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        (false, None) => next.run(request).await,
    }
}
