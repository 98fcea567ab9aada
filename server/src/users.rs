//! User administration: which grids a worker walks. Admins only. Taking a
//! grid away is what makes its data leave the worker's phone on the next sync.

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
    let user: Option<(String, String)> = sqlx::query_as("SELECT id, role FROM users WHERE username = $1")
        .bind(&username)
        .fetch_optional(&caller.pool)
        .await?;
    let Some((user_id, role)) = user else {
        return Err(ApiError::NotFound("没有这个用户".into()));
    };
    if role != Role::Worker.as_str() {
        return Err(ApiError::BadRequest("只有网格员按网格分配；网格长按社区管理".into()));
    }
    let mut tx = caller.pool.begin().await?;
    let mut assigned = Vec::new();
    for id in &grid_ids {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM grids WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let name = name.ok_or_else(|| ApiError::BadRequest(format!("网格 {id} 不存在")))?;
        assigned.push(GridRef { id: id.clone(), name });
    }
    sqlx::query("DELETE FROM user_grids WHERE user_id = $1")
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    for grid in &assigned {
        sqlx::query("INSERT INTO user_grids (user_id, grid_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&user_id)
            .bind(&grid.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    caller.audit("update", "user_grids", &username).await?;
    Ok(Json(assigned))
}
