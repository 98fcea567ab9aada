//! `POST /api/sync/push`: a device's outbox, each op applied exactly once.

use std::collections::HashSet;

use app::api::parse_id;
use app::error::ApiError;
use app::state::now_ms;
use app::sync::{Change, MAX_BATCH, OpResult, OpStatus, Operation, PushRequest, PushResponse};
use axum::Json;
use axum::extract::rejection::JsonRejection;

use super::corrupt;
use super::op::{MEMBER_VISITS_ONLY, OpContext, Verdict};
use crate::auth::Api;
use crate::{activities, requests, resident_edits, visits};

/// How far ahead of the server a phone's clock is believed: beyond, its edit
/// counts as made when it arrived.
const MAX_CLOCK_AHEAD_MS: i64 = 5 * 60_000;

/// Every operation in order, each in its own transaction together with its
/// `applied_ops` row, so a crash mid-batch leaves each op either applied and
/// remembered or untouched; the retry finishes the rest.
#[utoipa::path(post, path = "/api/sync/push", tag = "sync", operation_id = "syncPush",
    summary = "Apply outbox operations exactly once",
    description = "Applies every operation in order, each in its own transaction together with a record of its op \
        id, so a retry of an op the server already has answers `applied` without applying it again. Per-op \
        refusals (validation, scope such as 该住户不在您负责的网格) come back as `rejected` results with HTTP 200; \
        only a malformed batch gets a 4xx. Body limit 1 MiB.",
    request_body = PushRequest,
    responses(
        (status = 200, description = "One result per operation.", body = PushResponse),
        (status = 400, description = "Malformed batch (bad_request): 同步数据格式不正确：…, \
            一次最多同步200条记录，请分批提交, 设备编号不正确, 操作编号格式不正确.", body = app::error::ErrorBody,
            example = json!({"error": "bad_request", "message": "一次最多同步200条记录，请分批提交"})),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::CrossSite),
        (status = 408, response = crate::openapi::Timeout),
        (status = 413, response = crate::openapi::TooLarge),
        (status = 500, response = crate::openapi::Internal),
        (status = 503, response = crate::openapi::Busy),
    ))]
pub async fn push(
    Api(caller): Api,
    body: Result<Json<PushRequest>, JsonRejection>,
) -> Result<Json<PushResponse>, ApiError> {
    let Json(request) = body.map_err(|e| match e.status() {
        http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::BadRequest(format!("同步数据格式不正确：{}", e.body_text())),
    })?;
    if request.operations.len() > MAX_BATCH {
        return Err(ApiError::BadRequest(format!(
            "一次最多同步{MAX_BATCH}条记录，请分批提交"
        )));
    }
    let device_id = request.device_id.trim();
    if device_id.is_empty() || device_id.chars().count() > 100 {
        return Err(ApiError::BadRequest("设备编号不正确".into()));
    }
    // Op ids are the idempotency keys: refuse the whole batch before touching
    // anything if one is not a UUID, rather than remembering a garbled key.
    let op_ids = request
        .operations
        .iter()
        .map(|op| parse_id(&op.op_id).map_err(|_| ApiError::BadRequest("操作编号格式不正确".into())))
        .collect::<Result<Vec<_>, _>>()?;
    // Scope is read once per batch: a reassignment mid-batch takes effect on
    // the next push.
    let scope: HashSet<String> = caller.user.visible_grids(&caller.store).await?.into_iter().collect();
    let reach = caller.reach().await?;
    let mut results = Vec::with_capacity(op_ids.len());
    for (op, op_id) in request.operations.iter().zip(&op_ids) {
        let now = now_ms();
        let ctx = OpContext {
            caller: &caller,
            scope: &scope,
            reach: reach.as_ref(),
            op_id,
            // A phone whose clock runs ahead (set to 2099) would otherwise win
            // every later edit of the fields it touched, for ever.
            created_at: if op.created_at > now + MAX_CLOCK_AHEAD_MS {
                now
            } else {
                op.created_at
            },
            now,
        };
        let verdict = push_one(&ctx, device_id, op).await?;
        results.push(OpResult {
            op_id: op.op_id.clone(),
            status: verdict.status,
            reason: verdict.reason,
        });
    }
    Ok(Json(PushResponse { results }))
}

fn status_str(status: OpStatus) -> &'static str {
    match status {
        OpStatus::Applied => "applied",
        OpStatus::Conflict => "conflict",
        OpStatus::Rejected => "rejected",
    }
}

fn parse_status(text: &str) -> Result<OpStatus, ApiError> {
    match text {
        "applied" => Ok(OpStatus::Applied),
        "conflict" => Ok(OpStatus::Conflict),
        "rejected" => Ok(OpStatus::Rejected),
        _ => Err(corrupt("applied_ops.status", text)),
    }
}

fn kind(change: &Change) -> &'static str {
    match change {
        Change::RecordVisit(_) => "record_visit",
        Change::AddResident(_) => "add_resident",
        Change::EditResident(_) => "edit_resident",
        Change::RaiseRequest(_) => "raise_request",
        Change::RequestAction(_) => "request_action",
        Change::RatingToken(_) => "rating_token",
        Change::CheckIn(_) => "check_in",
    }
}

/// One op, exactly once. The `applied_ops` row is claimed first: that insert
/// takes SQLite's write lock (waiting out any other writer), so two concurrent
/// pushes of one op serialise here and the second one finds the first's row and
/// its stored result. (On PostgreSQL the same `ON CONFLICT DO NOTHING` blocks on
/// the other transaction's uncommitted key the same way.) Every check that can
/// reject an op runs before its first write, so a rejection writes nothing but
/// its `applied_ops` row.
async fn push_one(ctx: &OpContext<'_>, device_id: &str, op: &Operation) -> Result<Verdict, ApiError> {
    let mut tx = ctx.caller.store.begin().await?;
    let claim = store::ops::Claim {
        op_id: ctx.op_id,
        user_id: &ctx.caller.user.id,
        device_id,
        kind: kind(&op.change),
        at: ctx.now,
    };
    if !tx.claim_op(claim).await? {
        let stored = tx.op_result(ctx.op_id).await?;
        tx.rollback().await?;
        // Op ids are random: another user's id here is a replay, and must not
        // learn that op's answer (nor is anything applied).
        if stored.user_id != ctx.caller.user.id {
            tracing::warn!(op = ctx.op_id, "an op id pushed by another user");
            return Ok(Verdict::rejected("操作编号重复，请删除这条记录后重新填写"));
        }
        return Ok(Verdict {
            status: parse_status(&stored.status)?,
            reason: stored.reason,
        });
    }
    let verdict = match &op.change {
        // A member's phone records visits (and what was asked at the door).
        _ if ctx.reach.is_some() && !matches!(op.change, Change::RecordVisit(_)) => {
            Verdict::rejected(MEMBER_VISITS_ONLY)
        }
        Change::RecordVisit(visit) => visits::record_visit(&mut tx, ctx, visit).await?,
        Change::AddResident(resident) => resident_edits::add_resident(&mut tx, ctx, resident).await?,
        Change::EditResident(edit) => resident_edits::edit_resident(&mut tx, ctx, edit).await?,
        Change::RaiseRequest(input) => requests::ops::raise(&mut tx, ctx, input).await?,
        Change::RequestAction(input) => requests::ops::work(&mut tx, ctx, input).await?,
        Change::RatingToken(input) => requests::ops::rating_token(&mut tx, ctx, input).await?,
        Change::CheckIn(input) => activities::check_in(&mut tx, ctx, input).await?,
    };
    if verdict != Verdict::applied() {
        tx.set_op_result(ctx.op_id, status_str(verdict.status), verdict.reason.as_deref())
            .await?;
    }
    // A refused op is on record with who sent it, like any denied access.
    if verdict.status == OpStatus::Rejected {
        tx.audit(ctx.caller.audit_entry(ctx.now, "denied", claim.kind, ctx.op_id))
            .await?;
    }
    tx.commit().await?;
    Ok(verdict)
}
