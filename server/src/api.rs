//! The JSON API the phone talks to. Every handler takes [`Api`], the signed-in
//! caller, and calls the same query functions SSR uses, where the grid scope is
//! checked.

use std::collections::HashMap;
use std::sync::Arc;

use app::api::parse_id;
use app::error::ApiError;
use app::model::{BuildingDetail, GridDetail, GridSummary, HouseholdDetail, Me, ResidentDetail};
use app::{buildings, grids, households, residents};
use axum::Json;
use axum::extract::{Extension, Path, Query};

use crate::auth::{Api, login_json};
use crate::openapi::{BadRequest, Busy, Internal, NotFound, Timeout, UUID_PARAM, Unauthorized};
use crate::photos::{self, PhotoStore};
use crate::routes::{Routes, get, post, put};

/// `sync`: the sync routes (`sync::routes`), with this instance's gate.
pub fn routes(photos: Arc<PhotoStore>, sync: Routes) -> Routes {
    // Built now: a document that cannot be built stops the start, not a request.
    std::sync::LazyLock::force(&crate::openapi::DOCUMENT);
    Routes::new()
        .route("/login", post(login_json))
        .route("/me", get(me))
        .route("/grids", get(my_grids))
        .route("/grids/{id}", get(grid))
        .route("/buildings/{id}", get(building))
        .route("/households/{id}", get(household))
        .route("/residents/{id}", get(resident))
        .merge(sync)
        .route("/users/{username}/grids", put(crate::staff::users::assign_grids))
        .route(
            "/photos/{hash}",
            put(photos::upload)
                .layer(axum::middleware::from_fn(crate::deadline::allow_slow_body))
                .get(photos::photo),
        )
        .route("/photos/{hash}/thumb", get(photos::thumb))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { ApiError::NotFound("没有这个接口".into()) })
        .layer(Extension(photos))
}

/// The protocol as OpenAPI 3.1 (`crate::openapi`). Public: it documents, it
/// holds no data.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", operation_id = "openapi", summary = "This document",
    security(()),
    responses(
        (status = 200, description = "OpenAPI 3.1 document.", body = Object, content_type = "application/json"),
        (status = 408, response = Timeout),
    ))]
async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT.as_str(),
    )
}

#[utoipa::path(get, path = "/api/me", tag = "auth", operation_id = "me", summary = "The signed-in user",
    responses(
        (status = 200, description = "The caller.", body = Me),
        (status = 401, response = Unauthorized),
        (status = 408, response = Timeout),
        (status = 500, response = Internal),
        (status = 503, response = Busy),
    ))]
async fn me(Api(caller): Api) -> Json<Me> {
    Json(caller.user.me())
}

#[utoipa::path(get, path = "/api/grids", tag = "browse", operation_id = "myGrids",
    summary = "The caller's grids with counts",
    responses(
        (status = 200, description = "Grids the caller may see.", body = Vec<GridSummary>),
        (status = 401, response = Unauthorized),
        (status = 408, response = Timeout),
        (status = 500, response = Internal),
        (status = 503, response = Busy),
    ))]
async fn my_grids(Api(caller): Api) -> Result<Json<Vec<GridSummary>>, ApiError> {
    grids::ssr::my_grids(&caller).await.map(Json)
}

#[utoipa::path(get, path = "/api/grids/{id}", tag = "browse", operation_id = "grid",
    summary = "One grid's buildings, with door-number search",
    params(
        ("id" = String, Path, format = Uuid, description = UUID_PARAM),
        ("q" = Option<String>, Query, description = "Search by building or door number, e.g. `3`, `3-502`, \
            `3-2-502`, `3号楼2单元502`; trimmed, first 40 characters used. Matches fill `household_hits`."),
    ),
    responses(
        (status = 200, description = "The grid.", body = GridDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 408, response = Timeout),
        (status = 500, response = Internal),
        (status = 503, response = Busy),
    ))]
async fn grid(
    Api(caller): Api,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<GridDetail>, ApiError> {
    let q = query.get("q").map(String::as_str).unwrap_or_default();
    grids::ssr::grid(&caller, &parse_id(&id)?, q).await.map(Json)
}

#[utoipa::path(get, path = "/api/buildings/{id}", tag = "browse", operation_id = "building", summary = "One building and its household grid",
    params(("id" = String, Path, format = Uuid, description = UUID_PARAM)),
    responses(
        (status = 200, description = "Found, in the caller's grids.", body = BuildingDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 408, response = Timeout),
        (status = 500, response = Internal),
        (status = 503, response = Busy),
    ))]
async fn building(Api(caller): Api, Path(id): Path<String>) -> Result<Json<BuildingDetail>, ApiError> {
    buildings::ssr::building(&caller, &parse_id(&id)?).await.map(Json)
}

#[utoipa::path(get, path = "/api/households/{id}", tag = "browse", operation_id = "household", summary = "One household: residents and visits",
    params(("id" = String, Path, format = Uuid, description = UUID_PARAM)),
    responses(
        (status = 200, description = "Found, in the caller's grids.", body = HouseholdDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 408, response = Timeout),
        (status = 500, response = Internal),
        (status = 503, response = Busy),
    ))]
async fn household(Api(caller): Api, Path(id): Path<String>) -> Result<Json<HouseholdDetail>, ApiError> {
    households::ssr::household(&caller, &parse_id(&id)?).await.map(Json)
}

#[utoipa::path(get, path = "/api/residents/{id}", tag = "browse", operation_id = "resident", summary = "One resident (masked)",
    params(("id" = String, Path, format = Uuid, description = UUID_PARAM)),
    responses(
        (status = 200, description = "Found, in the caller's grids.", body = ResidentDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 408, response = Timeout),
        (status = 500, response = Internal),
        (status = 503, response = Busy),
    ))]
async fn resident(Api(caller): Api, Path(id): Path<String>) -> Result<Json<ResidentDetail>, ApiError> {
    residents::ssr::resident(&caller, &parse_id(&id)?).await.map(Json)
}
