//! Who is asking, and which grids they may see. The scope is always computed on
//! the server from the user's rows; the UI hiding a link is not access control.

pub const SESSION_COOKIE: &str = "gw_session";

#[cfg(feature = "ssr")]
pub mod ssr {
    use http::HeaderMap;
    use sha2::{Digest, Sha256};
    use sqlx::SqlitePool;

    use super::SESSION_COOKIE;
    use crate::domain::Role;
    use crate::error::ApiError;
    use crate::model::Me;
    use crate::state::now_ms;

    #[derive(Debug, Clone)]
    pub struct CurrentUser {
        pub id: String,
        pub username: String,
        pub display_name: String,
        pub role: Role,
        pub community_id: Option<String>,
    }

    impl CurrentUser {
        pub fn me(&self) -> Me {
            Me {
                id: self.id.clone(),
                username: self.username.clone(),
                display_name: self.display_name.clone(),
                role: self.role,
            }
        }

        /// The ids of the grids this user may see now.
        pub async fn visible_grids(&self, pool: &SqlitePool) -> Result<Vec<String>, ApiError> {
            let rows: Vec<(String,)> = match self.role {
                Role::Admin => {
                    sqlx::query_as("SELECT id FROM grids ORDER BY name")
                        .fetch_all(pool)
                        .await?
                }
                Role::Lead => {
                    sqlx::query_as("SELECT id FROM grids WHERE community_id = $1 ORDER BY name")
                        .bind(&self.community_id)
                        .fetch_all(pool)
                        .await?
                }
                Role::Worker => {
                    sqlx::query_as(
                        "SELECT g.id FROM grids g JOIN user_grids ug ON ug.grid_id = g.id
                         WHERE ug.user_id = $1 ORDER BY g.name",
                    )
                    .bind(&self.id)
                    .fetch_all(pool)
                    .await?
                }
            };
            Ok(rows.into_iter().map(|(id,)| id).collect())
        }
    }

    /// One authenticated request: who, through which route, against which database.
    pub struct Caller {
        pub store: store::Store,
        pub pool: SqlitePool,
        pub user: CurrentUser,
        pub route: String,
    }

    impl Caller {
        /// Fails with "not found" rather than "forbidden", so ids of other grids
        /// cannot be probed; the refusal is still written to the audit log.
        pub async fn require_grid(&self, grid_id: &str, entity: &str, entity_id: &str) -> Result<(), ApiError> {
            if self.user.visible_grids(&self.pool).await?.iter().any(|g| g == grid_id) {
                return Ok(());
            }
            self.audit("denied", entity, entity_id).await?;
            Err(ApiError::not_found())
        }

        /// Writes the access log of resident data required by PIPL.
        pub async fn audit(&self, action: &str, entity: &str, entity_id: &str) -> Result<(), ApiError> {
            sqlx::query(
                "INSERT INTO audit_log (id, at, user_id, action, entity, entity_id, route)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(now_ms())
            .bind(&self.user.id)
            .bind(action)
            .bind(entity)
            .bind(entity_id)
            .bind(&self.route)
            .execute(&self.pool)
            .await?;
            Ok(())
        }
    }

    #[derive(sqlx::FromRow)]
    struct UserRow {
        id: String,
        username: String,
        display_name: String,
        role: String,
        community_id: Option<String>,
    }

    pub fn hash_token(token: &str) -> String {
        Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn session_token(headers: &HeaderMap) -> Option<&str> {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value)
    }

    /// The user behind the request's session cookie, if the session is live.
    pub async fn user_from_headers(pool: &SqlitePool, headers: &HeaderMap) -> Result<CurrentUser, ApiError> {
        user_from_token(pool, session_token(headers).ok_or(ApiError::Unauthorized)?).await
    }

    pub async fn user_from_token(pool: &SqlitePool, token: &str) -> Result<CurrentUser, ApiError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.role, u.community_id
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(hash_token(token))
        .bind(now_ms())
        .fetch_optional(pool)
        .await?;
        let row = row.ok_or(ApiError::Unauthorized)?;
        let role = Role::parse(&row.role).ok_or_else(|| {
            tracing::error!(user = %row.id, role = %row.role, "unknown role in database");
            ApiError::Internal
        })?;
        Ok(CurrentUser {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            role,
            community_id: row.community_id,
        })
    }
}
