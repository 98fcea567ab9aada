//! The API document served at `/api/openapi.json`, generated from the
//! handlers' `#[utoipa::path]` attributes and the wire types' schemas, so it
//! cannot describe a route or a field the server does not have.
//! `tests/openapi.rs` checks it against the router's own list of routes and
//! sends every operation good and bad requests built from it.

use std::sync::LazyLock;

use app::error::ErrorBody;
use serde_json::json;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToResponse};

/// The document as JSON, built once. [`crate::api::routes`] builds it at
/// start, so a document that cannot be built stops the server, never a request.
pub static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().expect("the API document serializes"));

#[derive(OpenApi)]
#[openapi(
    info(title = "Gridwalk API", version = "1", description = include_str!("openapi/description.md")),
    paths(
        crate::auth::login_json,
        crate::api::me,
        crate::api::my_grids,
        crate::api::grid,
        crate::api::building,
        crate::api::household,
        crate::api::resident,
        crate::sync::push::push,
        crate::sync::pull::pull,
        crate::activities::phone::lists,
        crate::staff::users::assign_grids,
        crate::api::openapi,
        crate::photos::upload,
        crate::photos::photo,
        crate::photos::thumb,
        crate::startup::healthz,
    ),
    components(
        schemas(ErrorBody),
        responses(BadRequest, Unauthorized, NotFound, TooLarge, RateLimited, Timeout, Internal, Busy, CrossSite)
    ),
    modifiers(&SessionCookie, &Examples),
    security(("session" = [])),
    tags(
        (name = "auth", description = "Signing in."),
        (name = "browse", description = "Read-only views, already masked and counted."),
        (name = "sync", description = "The offline sync protocol."),
        (name = "meta", description = "Health and this document."),
        (name = "admin", description = "User administration (admins only)."),
        (name = "photos", description = "Photos of residents and visits: uploaded once by hash, served to those allowed."),
    )
)]
struct ApiDoc;

/// The `gw_session` cookie, the one credential of the API.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                app::auth::SESSION_COOKIE,
                "Session token set by POST /api/login (HttpOnly, SameSite=Lax).",
            ))),
        );
    }
}

/// Examples of the sync protocol's messages, kept as data beside this file
/// (`tests/openapi.rs` reads each through its Rust type).
struct Examples;

impl Modify for Examples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let examples: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(include_str!("openapi/examples.json")).expect("examples.json is a JSON object");
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (name, example) in examples {
            if let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(schema))) = components.schemas.get_mut(&name) {
                schema.examples = vec![example];
            }
        }
    }
}

/// Path parameters shared by several routes.
pub const UUID_PARAM: &str = "A UUID; anything else gives 400 编号格式不正确.";
pub const HASH_PARAM: &str = "SHA-256 of the photo's bytes as uploaded, in hex (upper case is read as lower); \
                              anything else gives 400 照片编号应为64位十六进制的SHA-256.";

/// An error answer: its meaning, and an example body.
fn error(description: &str, code: &str, message: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .example(Some(json!({ "error": code, "message": message })))
            .build(),
    )
}

fn retry_after(response: ResponseBuilder) -> ResponseBuilder {
    response.header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::Integer))
            .description(Some("Seconds to wait."))
            .build(),
    )
}

/// A response component (`#/components/responses/Name`) described by its
/// doc comment, with an example `ErrorBody`.
macro_rules! error_response {
    ($(#[doc = $doc:literal])* $name:ident = $code:literal, $message:literal $(, $with:ident)?) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let response = error(concat!($($doc),*).trim(), $code, $message);
                $(let response = $with(response);)?
                (stringify!($name), response.build().into())
            }
        }
    };
}

error_response!(
    /// Bad input (bad_request). E.g. 编号格式不正确 for an id that is not a
    /// UUID, 请求格式不正确：… for malformed JSON.
    BadRequest = "bad_request", "编号格式不正确"
);
error_response!(
    /// No valid session (unauthorized): 请先登录. Or a session whose account
    /// cannot work now (account), with the reason: disabled (此账号已于 … 停用 …;
    /// the phone keeps what it has not sent) or a one-time password not yet
    /// changed (请先修改初始密码，再开始工作).
    Unauthorized = "unauthorized", "请先登录"
);
error_response!(
    /// Not found, or not in the caller's grids (not_found): 没有找到，可能已被删除或不在您负责的网格.
    /// An unknown /api path gives 没有这个接口.
    NotFound = "not_found", "没有找到，可能已被删除或不在您负责的网格"
);
error_response!(
    /// Body over the limit (too_large): 提交的内容过大. 64 KiB, except 1 MiB for /api/sync/push.
    TooLarge = "too_large", "提交的内容过大"
);
error_response!(
    /// Too many failed logins (rate_limited): 尝试次数过多，请N秒后再试.
    RateLimited = "rate_limited", "尝试次数过多，请60秒后再试", retry_after
);
error_response!(
    /// The answer took longer than `request_timeout_secs` (30 s) (timeout).
    /// Nothing was left half done: the request may simply be sent again.
    Timeout = "timeout", "服务器处理超时，请稍后再试"
);
error_response!(
    /// Server error (internal): 服务器出错了，请稍后再试. The cause is logged, never sent.
    Internal = "internal", "服务器出错了，请稍后再试"
);
error_response!(
    /// The browser says the request comes from another site (`Sec-Fetch-Site`,
    /// else `Origin` / `Referer` not this host or `public_url`) (cross_site):
    /// refused before anything happens.
    CrossSite = "cross_site", "请求来自其他网站，已拒绝。请在网格通的页面中重新操作"
);

/// 503 with `Retry-After`, in the body too (`ApiError::Busy`).
pub struct Busy;

impl<'r> ToResponse<'r> for Busy {
    fn response() -> (&'r str, RefOr<Response>) {
        let body = AllOfBuilder::new().item(Ref::from_schema_name("ErrorBody")).item(
            ObjectBuilder::new()
                .property("retry_after", ObjectBuilder::new().schema_type(Type::Integer))
                .required("retry_after"),
        );
        let response = ResponseBuilder::new()
            .description(
                "Busy (busy): the sync gate is full, or the database stayed locked past its wait. Retry-After \
                 says when to come back, and so does `retry_after` in the body, which the phone honours. The \
                 same request is simply sent again: a push's ops applied before the wait are answered from the \
                 record.",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(body))
                    .example(Some(json!({
                        "error": "busy",
                        "message": "服务器繁忙，5秒后自动重试",
                        "retry_after": 5,
                    })))
                    .build(),
            );
        ("Busy", retry_after(response).build().into())
    }
}
