//! Who is asking, and which grids they may see. The scope is always computed on
//! the server from the user's rows; the UI hiding a link is not access control.

pub const SESSION_COOKIE: &str = "gw_session";

/// The cookie the page's own scripts read to know whose copy to open: the
/// phone keeps one IndexedDB store per user (public/phone.js), so a phone
/// passed to a colleague never shows or sends the first user's records. It
/// holds the user's id and display name, nothing a session could be taken with.
pub const USER_COOKIE: &str = "gw_user";

#[cfg(feature = "ssr")]
pub mod ssr {
    use http::HeaderMap;
    use sha2::{Digest, Sha256};
    use store::Store;
    use store::scope::{Reach, Scope};

    use super::SESSION_COOKIE;
    use crate::domain::Role;
    use crate::error::ApiError;
    use crate::model::Me;
    use crate::state::{AppState, now_ms};

    #[derive(Debug, Clone)]
    pub struct CurrentUser {
        pub id: String,
        pub username: String,
        pub display_name: String,
        pub role: Role,
        pub community_id: Option<String>,
        /// Signed in with a password someone else set: only the password
        /// page and sign-out serve them until they choose their own.
        pub must_change_password: bool,
        /// The session's token hash (a person ends their other sessions).
        pub token_hash: String,
    }

    impl CurrentUser {
        /// Refuses a session that may only change its password, and a party
        /// member's account on any route but the phone's own (`route`: the
        /// router's path, `/api/households/{id}`, or a page's, `/households/…`).
        pub fn ready_for(self, method: &http::Method, route: &str) -> Result<Self, ApiError> {
            if self.must_change_password {
                return Err(ApiError::Account("请先修改初始密码，再开始工作".into()));
            }
            if self.role == Role::Member && !member_route(method, route) {
                return Err(ApiError::Forbidden);
            }
            Ok(self)
        }

        pub fn me(&self) -> Me {
            Me {
                id: self.id.clone(),
                username: self.username.clone(),
                display_name: self.display_name.clone(),
                role: self.role,
            }
        }

        /// Whose grids this user sees, from their role. `None`: a lead bound
        /// to no community, who sees no grid.
        pub fn scope(&self) -> Option<Scope<'_>> {
            match self.role {
                Role::Admin => Some(Scope::All),
                Role::Lead => self.community_id.as_deref().map(Scope::Community),
                Role::Worker => Some(Scope::Assigned(&self.id)),
                Role::Member => Some(Scope::Member(&self.id)),
            }
        }

        /// The ids of the grids this user may see now, by grid name.
        pub async fn visible_grids(&self, store: &Store) -> Result<Vec<String>, ApiError> {
            match self.scope() {
                Some(scope) => Ok(store.visible_grids(scope).await?),
                None => Ok(Vec::new()),
            }
        }
    }

    /// What a party member's account may use: the phone, which shows their
    /// linked households (narrowed by `Caller::reach`) and sends their visits.
    /// Everything else (the desk, photos, requests, attendance) is refused
    /// here, once, rather than by each route remembering a fourth role.
    fn member_route(method: &http::Method, route: &str) -> bool {
        const ROUTES: [&str; 11] = [
            "/",
            "/sync",
            "/overdue",
            "/api/me",
            "/api/grids",
            "/api/grids/{id}",
            "/api/buildings/{id}",
            "/api/households/{id}",
            "/api/residents/{id}",
            "/api/sync/pull",
            "/api/sync/push",
        ];
        const PAGES: [&str; 4] = ["/grids/", "/buildings/", "/households/", "/residents/"];
        // A visit's photos go up; they are never read back from the server
        // (the phone shows its own copy).
        if route == "/api/photos/{hash}" {
            return method == http::Method::PUT;
        }
        ROUTES.contains(&route) || PAGES.iter().any(|p| route.starts_with(p))
    }

    /// One authenticated request: who, through which route, against which database.
    pub struct Caller {
        pub store: store::Store,
        pub user: CurrentUser,
        pub route: String,
    }

    impl Caller {
        /// Fails with "not found" rather than "forbidden", so ids of other grids
        /// cannot be probed; the refusal is still written to the audit log.
        pub async fn require_grid(&self, grid_id: &str, entity: &str, entity_id: &str) -> Result<(), ApiError> {
            if self.user.visible_grids(&self.store).await?.iter().any(|g| g == grid_id) {
                return Ok(());
            }
            self.audit("denied", entity, entity_id).await?;
            Err(ApiError::not_found())
        }

        /// What a party member's account reaches; `None` for staff, whose
        /// grids are their whole scope.
        pub async fn reach(&self) -> Result<Option<Reach>, ApiError> {
            match self.user.role {
                Role::Member => Ok(Some(self.store.member_reach(&self.user.id).await?)),
                _ => Ok(None),
            }
        }

        /// `require_grid` for a household's records; a party member's account
        /// also only for the households linked to the member (404, audited).
        pub async fn require_household(
            &self,
            (grid_id, household_id): (&str, &str),
            entity: &str,
            entity_id: &str,
        ) -> Result<(), ApiError> {
            self.require_grid(grid_id, entity, entity_id).await?;
            match self.reach().await? {
                Some(reach) if !reach.has_household(household_id) => {
                    self.audit("denied", entity, entity_id).await?;
                    Err(ApiError::not_found())
                }
                _ => Ok(()),
            }
        }

        /// Writes the access log of resident data required by PIPL.
        pub async fn audit(&self, action: &str, entity: &str, entity_id: &str) -> Result<(), ApiError> {
            self.store
                .audit(self.audit_entry(now_ms(), action, entity, entity_id))
                .await?;
            Ok(())
        }

        /// An access-log row of this caller's, for a write to put in its own
        /// transaction (`Tx::audit`): the row commits with what it records.
        pub fn audit_entry<'a>(
            &'a self,
            at: i64,
            action: &'a str,
            entity: &'a str,
            entity_id: &'a str,
        ) -> store::audit::Entry<'a> {
            store::audit::Entry {
                at,
                user_id: &self.user.id,
                action,
                entity,
                entity_id,
                route: &self.route,
            }
        }
    }

    pub fn hash_token(token: &str) -> String {
        Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn session_token(headers: &HeaderMap) -> Option<&str> {
        cookie_value(headers, SESSION_COOKIE)
    }

    /// The value of the request's cookie `name`.
    pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(cookie, _)| *cookie == name)
            .map(|(_, value)| value)
    }

    /// The user behind the request's session cookie, if the session is live.
    pub async fn user_from_headers(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, ApiError> {
        user_from_token(state, session_token(headers).ok_or(ApiError::Unauthorized)?).await
    }

    /// Sessions note their use this often, not on every request.
    const TOUCH_EVERY_MS: i64 = 5 * 60_000;

    /// The user of a live session: not expired, used within the idle period,
    /// its account not disabled (a disabled account's phone is told so).
    pub async fn user_from_token(state: &AppState, token: &str) -> Result<CurrentUser, ApiError> {
        let now = now_ms();
        let token_hash = hash_token(token);
        let row = state
            .store
            .session_user(&token_hash, now, now - state.auth.session_idle_ms)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if let Some(at) = row.disabled_at {
            let when = match at {
                0 => String::new(),
                at => format!("于 {} ", crate::domain::CivilDate::from_epoch_ms(at + 8 * 3_600_000)),
            };
            return Err(ApiError::Account(format!(
                "此账号已{when}停用：停用前同步的记录都已保存，之后的记录无法上传，请联系网格长"
            )));
        }
        if now - row.last_seen_at > TOUCH_EVERY_MS {
            state.store.touch_session(&token_hash, now).await?;
        }
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
            must_change_password: row.must_change_password,
            token_hash,
        })
    }
}
