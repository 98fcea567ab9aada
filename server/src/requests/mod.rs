//! Requests (诉求) tracked to the end. One rule applies every action, whoever
//! takes it and however it arrives (a lead's form, a phone's outbox, a
//! resident's rating): it reads the request under lock, checks who may act
//! and whether the action is allowed from the state it finds, and writes the
//! new state with a line of the timeline in the same transaction.
//!
//! - `ops`: the phone's operations (raise, work, rating codes);
//! - `manage`: the ledger (诉求台账) and a request's page, for leads;
//! - `intake`: the desk intake form (接待登记); `categories`: their deadlines;
//! - `figures`: received / on time / resolved / satisfied, and their exports;
//! - `public`: what residents see without an account.

mod categories;
mod figures;
mod intake;
mod manage;
pub mod ops;
mod public;

use std::collections::HashSet;

use app::auth::ssr::CurrentUser;
use app::auth::ssr::hash_token;
use app::domain::Role;
use app::error::ApiError;
use app::requests::{
    Action, Category, FollowUp, RequestStatus, Source, check_text, due_after_working_days, next_status,
};
use store::Tx;
use store::requests::{NewEvent, NewRequest, RequestState};

use crate::routes::Routes;

pub(crate) use figures::Quarter;
pub use public::PublicRoutes;
pub(crate) use public::private_page;

pub fn routes(public: PublicRoutes, photos: std::sync::Arc<crate::photos::PhotoStore>) -> Routes {
    manage::routes()
        .merge(intake::routes(photos))
        .merge(categories::routes())
        .merge(figures::routes())
        .merge(public::routes(public))
}

/// Why an action was not taken: the API's errors, and the two the request
/// workflow adds, 409 (not from the request's current state, named in the
/// message) and 410 (a rating code used or expired). Kept here rather than in
/// the shared `ApiError`, whose every variant the phone's shell carries (it
/// deserialises page errors on hydration) and has no byte left for.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    Api(ApiError),
    Conflict(String),
    Gone(String),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<store::Error> for Refusal {
    fn from(e: store::Error) -> Self {
        Refusal::Api(e.into())
    }
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Api(e) => e.status(),
            Refusal::Conflict(_) => 409,
            Refusal::Gone(_) => 410,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Api(e) => e.to_string(),
            Refusal::Conflict(m) | Refusal::Gone(m) => m.clone(),
        }
    }
}

/// The categories as offered, enabled ones only.
pub async fn categories(store: &store::Store) -> Result<Vec<Category>, ApiError> {
    Ok(store
        .request_categories()
        .await?
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| Category {
            code: c.code,
            label: c.label,
            respond_days: c.respond_days,
            resolve_days: c.resolve_days,
        })
        .collect())
}

/// Who acts: a signed-in user with the grids they see, or a resident (no
/// account) spending a rating code.
pub enum Actor<'a> {
    User {
        user: &'a CurrentUser,
        scope: &'a HashSet<String>,
    },
    Resident,
}

impl Actor<'_> {
    fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User { user, .. } => Some(&user.id),
            Actor::Resident => None,
        }
    }
}

/// Whether a user may see (and work on) a request: an admin any; a lead those
/// of their community; a worker those of their grids, and those assigned to
/// them or taken by them (首问负责: the taker stays on it).
pub fn may_see(user: &CurrentUser, scope: &HashSet<String>, r: &RequestState) -> bool {
    match user.role {
        Role::Admin => true,
        Role::Lead => user.community_id.as_deref() == Some(r.community_id.as_str()),
        Role::Worker => {
            r.grid_id.as_ref().is_some_and(|g| scope.contains(g))
                || r.assignee_id.as_deref() == Some(user.id.as_str())
                || r.first_contact.as_deref() == Some(user.id.as_str())
        }
        // Requests are not a member account's (`member_route`).
        Role::Member => false,
    }
}

/// To whom a lead sends a request.
#[derive(Debug, Clone)]
pub enum Assignee {
    /// A worker (or lead), with the grid the request then lives in.
    Worker { id: String, grid: String },
    /// An outside unit (物业、城管、房管), named.
    Unit(String),
}

/// One action with what it carries.
pub struct Act<'a> {
    /// The timeline line's id: the op id for a phone's action, so a retry
    /// cannot write it twice.
    pub event_id: &'a str,
    pub action: Action,
    pub note: &'a str,
    pub photos: &'a [String],
    pub follow_up: Option<FollowUp>,
    pub assignee: Option<Assignee>,
    /// A deadline the lead set with the assignment (epoch ms).
    pub resolve_due: Option<i64>,
    pub merge_into: Option<&'a str>,
    pub at: i64,
}

impl<'a> Act<'a> {
    pub fn new(event_id: &'a str, action: Action, note: &'a str, at: i64) -> Self {
        Act {
            event_id,
            action,
            note,
            photos: &[],
            follow_up: None,
            assignee: None,
            resolve_due: None,
            merge_into: None,
            at,
        }
    }
}

/// Applies one action to a request inside `tx`, or says why not: 404 for a
/// request the actor may not see (as for any record), 403 for a lead's action
/// taken by a worker, 409 naming the state when the action is not allowed
/// from it (a lead closed it meanwhile), 400 for what the action lacks.
/// Every check runs before the first write. Returns the new state.
pub async fn act(tx: &mut Tx, actor: &Actor<'_>, request_id: &str, act: &Act<'_>) -> Result<RequestStatus, Refusal> {
    let Some(mut state) = tx.lock_request(request_id).await? else {
        return Err(ApiError::not_found().into());
    };
    if let Actor::User { user, scope } = actor {
        if !may_see(user, scope, &state) {
            return Err(ApiError::not_found().into());
        }
        if act.action.is_leads() && user.role == Role::Worker {
            return Err(ApiError::Forbidden.into());
        }
    } else if act.action != Action::Rate {
        return Err(ApiError::Forbidden.into());
    }
    let status = RequestStatus::parse(&state.status).ok_or_else(|| {
        tracing::error!(request = request_id, status = %state.status, "unknown request status");
        ApiError::Internal
    })?;
    let next = next_status(status, act.action, act.follow_up).map_err(Refusal::Conflict)?;
    check_what_it_carries(act)?;
    let left_grid = state.grid_id.clone();
    match act.action {
        Action::Assign => match &act.assignee {
            Some(Assignee::Worker { id, grid }) => {
                state.assignee_id = Some(id.clone());
                state.assignee_unit = None;
                state.grid_id = Some(grid.clone());
            }
            Some(Assignee::Unit(unit)) => {
                state.assignee_id = None;
                state.assignee_unit = Some(unit.clone());
            }
            None => return Err(ApiError::BadRequest("请选择派给哪位网格员或哪个单位".into()).into()),
        },
        Action::Resolve => {
            state.resolved_at = Some(act.at);
            state.resolution = Some(act.note.trim().to_owned());
        }
        Action::FollowUp | Action::Rate => {
            if let Some(verdict) = act.follow_up {
                state.satisfaction = Some(verdict.satisfaction.as_str().to_owned());
                if act.action == Action::FollowUp {
                    state.followed_up_at = Some(act.at);
                }
                if verdict.reopens() {
                    state.reopen_count += 1;
                }
            }
        }
        Action::Decline => state.decline_reason = Some(act.note.trim().to_owned()),
        Action::Merge => {
            let target = act.merge_into.unwrap_or_default();
            let Some(into) = tx.lock_request(target).await? else {
                return Err(ApiError::BadRequest("要合并到的诉求不存在".into()).into());
            };
            let ended = matches!(
                RequestStatus::parse(&into.status),
                Some(RequestStatus::Merged | RequestStatus::Declined)
            );
            if into.id == state.id || into.community_id != state.community_id || ended {
                return Err(ApiError::BadRequest("只能合并到本社区另一条未被合并或退回的诉求".into()).into());
            }
            state.merged_into = Some(into.id);
        }
        Action::Raise | Action::Start | Action::Note | Action::Close => {}
    }
    if let Some(due) = act.resolve_due {
        state.resolve_due = due;
    }
    if next == RequestStatus::Closed {
        state.closed_at = Some(act.at);
    }
    // The first thing a person does about it is its response (响应).
    if state.responded_at.is_none() && !matches!(act.action, Action::Raise | Action::Rate) {
        state.responded_at = Some(act.at);
    }
    state.status = next.as_str().to_owned();
    tx.save_request(&state, left_grid.as_deref(), act.at).await?;
    tx.insert_request_event(&NewEvent {
        id: act.event_id,
        request_id: &state.id,
        at: act.at,
        user_id: actor.user_id(),
        action: act.action.as_str(),
        from_status: Some(status.as_str()),
        to_status: next.as_str(),
        note: act.note.trim(),
        photos: act.photos,
    })
    .await?;
    Ok(next)
}

/// The text an action must carry: a note says what happened, a resolution what
/// was done, a refusal why (the resident is told).
fn check_what_it_carries(act: &Act<'_>) -> Result<(), ApiError> {
    let required = match act.action {
        Action::Note => Some("办理进展"),
        Action::Resolve => Some("办理结果"),
        Action::Decline => Some("不予受理的理由"),
        _ => None,
    };
    let checked = match required {
        Some(what) => check_text(act.note, what),
        None if act.note.chars().count() > app::requests::MAX_TEXT => {
            Err(format!("备注不能超过{}字", app::requests::MAX_TEXT))
        }
        None => Ok(()),
    };
    checked.map_err(ApiError::BadRequest)?;
    if act.photos.len() > app::sync::MAX_VISIT_PHOTOS || !act.photos.iter().all(|p| app::sync::is_photo_hash(p)) {
        return Err(ApiError::BadRequest(format!(
            "照片最多{}张，且须由本应用拍摄",
            app::sync::MAX_VISIT_PHOTOS
        )));
    }
    Ok(())
}

/// Where a new request lives: its community, grid, household or building.
pub struct Place<'a> {
    pub community_id: String,
    /// None: a community-wide matter, on no phone until assigned.
    pub grid_id: Option<String>,
    pub household_id: Option<&'a str>,
    pub building_id: Option<&'a str>,
    pub visit_id: Option<&'a str>,
}

/// A new request with its deadlines from its category, and the first line of
/// its timeline, taken by a worker or lead (首问) or by nobody (a resident's
/// own). `false`: it was on file already (a re-sent op).
pub async fn insert_request(
    tx: &mut Tx,
    taken_by: Option<&str>,
    at: i64,
    place: &Place<'_>,
    request: NewRequestText<'_>,
    category: &Category,
) -> Result<bool, ApiError> {
    let receipt_hash = request.receipt.map(hash_token);
    let new = NewRequest {
        id: request.id,
        source: request.source.as_str(),
        community_id: &place.community_id,
        grid_id: place.grid_id.as_deref(),
        household_id: place.household_id,
        building_id: place.building_id,
        visit_id: place.visit_id,
        place: request.place.trim(),
        contact_phone: request.contact_phone,
        category: &category.code,
        text: request.text.trim(),
        first_contact: taken_by,
        created_at: at,
        respond_due: due_after_working_days(at, category.respond_days),
        resolve_due: due_after_working_days(at, category.resolve_days),
        receipt_hash: receipt_hash.as_deref(),
        submitter_key: request.submitter_key,
    };
    if !tx.insert_request(&new).await? {
        return Ok(false);
    }
    tx.insert_request_event(&NewEvent {
        id: &store::new_id(),
        request_id: request.id,
        at,
        user_id: taken_by,
        action: Action::Raise.as_str(),
        from_status: None,
        to_status: "received",
        note: "",
        photos: request.photos,
    })
    .await?;
    if let Some(grid) = &place.grid_id {
        tx.record_change("request", request.id, grid, at);
    }
    Ok(true)
}

/// What a new request says, and the codes that come with it.
pub struct NewRequestText<'a> {
    pub id: &'a str,
    pub source: Source,
    pub place: &'a str,
    pub contact_phone: Option<&'a str>,
    pub text: &'a str,
    pub photos: &'a [String],
    /// The receipt code the resident holds (its hash is kept).
    pub receipt: Option<&'a str>,
    /// See `requests.submitter_key`.
    pub submitter_key: Option<&'a str>,
}

/// A fresh receipt or rating code: a UUIDv4's 122 random bits as 32 hex digits.
pub fn new_code() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Codes are shown in groups of four, and read back with or without the
/// hyphens, in either case.
pub fn format_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

pub fn read_code(text: &str) -> Option<String> {
    let code: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    app::sync::is_code(&code).then_some(code)
}
