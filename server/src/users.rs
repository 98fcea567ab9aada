//! User administration: which grids a worker walks. Admins only. Taking a
//! grid away is what makes its data leave the worker's phone on the next sync.

use std::collections::HashMap;

use app::api::parse_id;
use app::domain::Role;
use app::error::ApiError;
use app::sync::GridRef;
use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;

use crate::auth::Api;

#[derive(Debug, Deserialize)]
pub struct GridAssignment {
    pub grids: Vec<String>,
}

/// `PUT /api/users/{username}/grids`: the worker's grids become exactly these.
pub async fn assign_grids(
    Api(caller): Api,
    Path(username): Path<String>,
    body: Result<Json<GridAssignment>, JsonRejection>,
) -> Result<Json<Vec<GridRef>>, ApiError> {
    if caller.user.role != Role::Admin {
        caller.audit("denied", "user_grids", &username).await?;
        return Err(ApiError::Forbidden);
    }
    let Json(request) = body.map_err(|e| ApiError::BadRequest(format!("分配数据格式不正确：{}", e.body_text())))?;
    let grid_ids = request
        .grids
        .iter()
        .map(|id| parse_id(id))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(user) = caller.store.user_role(&username).await? else {
        return Err(ApiError::NotFound("没有这个用户".into()));
    };
    if user.role != Role::Worker.as_str() {
        return Err(ApiError::BadRequest("只有网格员按网格分配；网格长按社区管理".into()));
    }
    let assigned = named_grids(&caller.store, &grid_ids).await?;
    caller.store.set_user_grids(&user.id, &grid_ids).await?;
    caller.audit("update", "user_grids", &username).await?;
    Ok(Json(assigned))
}

/// The grids with their names, in the order asked for; an unknown id is the
/// caller's mistake.
async fn named_grids(store: &store::Store, grid_ids: &[String]) -> Result<Vec<GridRef>, ApiError> {
    let names: HashMap<String, String> = store.grid_names(grid_ids).await?.into_iter().collect();
    grid_ids
        .iter()
        .map(|id| match names.get(id) {
            Some(name) => Ok(GridRef {
                id: id.clone(),
                name: name.clone(),
            }),
            None => Err(ApiError::BadRequest(format!("网格 {id} 不存在"))),
        })
        .collect()
}
