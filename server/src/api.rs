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
use crate::photos::{self, PhotoStore};
use crate::routes::{Routes, get, post, put};

/// `sync`: the sync routes (`sync::routes`), with this instance's gate.
pub fn routes(photos: Arc<PhotoStore>, sync: Routes) -> Routes {
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

/// The protocol as OpenAPI 3.1. Public: it documents, it holds no data.
async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
}

async fn me(Api(caller): Api) -> Json<Me> {
    Json(caller.user.me())
}

async fn my_grids(Api(caller): Api) -> Result<Json<Vec<GridSummary>>, ApiError> {
    grids::ssr::my_grids(&caller).await.map(Json)
}

async fn grid(
    Api(caller): Api,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<GridDetail>, ApiError> {
    let q = query.get("q").map(String::as_str).unwrap_or_default();
    grids::ssr::grid(&caller, &parse_id(&id)?, q).await.map(Json)
}

async fn building(Api(caller): Api, Path(id): Path<String>) -> Result<Json<BuildingDetail>, ApiError> {
    buildings::ssr::building(&caller, &parse_id(&id)?).await.map(Json)
}

async fn household(Api(caller): Api, Path(id): Path<String>) -> Result<Json<HouseholdDetail>, ApiError> {
    households::ssr::household(&caller, &parse_id(&id)?).await.map(Json)
}

async fn resident(Api(caller): Api, Path(id): Path<String>) -> Result<Json<ResidentDetail>, ApiError> {
    residents::ssr::resident(&caller, &parse_id(&id)?).await.map(Json)
}
