//! The server side of the sync protocol (`app::sync`): `POST /api/sync/push`
//! applies a device's outbox exactly once, `GET /api/sync/pull` hands out what
//! changed after the device's cursor in the grids the caller may see now.

use std::collections::{HashMap, HashSet};

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::{
    CivilDate, Gender, IdCardNumber, KeyGroup, Outcome, PhoneNumber, RegistrationType, VisitType, mask_id_number,
    mask_phone,
};
use app::error::ApiError;
use app::state::now_ms;
use app::sync::{
    BuildingRecord, Change, FieldChange, GridRef, HouseholdRecord, MAX_BATCH, OpResult, OpStatus, Operation,
    PullResponse, PushRequest, PushResponse, Record, ResidentEdit, ResidentField, ResidentInput, ResidentRecord,
    VisitInput, VisitRecord, check_birth_date, describe, is_photo_hash,
};
use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::JsonRejection;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{FromRow, Sqlite, SqliteConnection};

use crate::auth::Api;

const HOUSEHOLD_OUT_OF_SCOPE: &str = "该住户不在您负责的网格";
const RESIDENT_OUT_OF_SCOPE: &str = "该居民不在您负责的网格";
const BAD_RECORD_ID: &str = "记录编号格式不正确，请删除后重新填写";
const FOREIGN_PHOTO: &str = "照片不属于您负责的网格，不能在这条记录中引用";

// ---------------------------------------------------------------------------
// Push
// ---------------------------------------------------------------------------

/// `POST /api/sync/push`: every operation in order, each in its own transaction
/// together with its `applied_ops` row, so a crash mid-batch leaves each op
/// either applied and remembered or untouched; the retry finishes the rest.
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
    let scope: HashSet<String> = caller.user.visible_grids(&caller.pool).await?.into_iter().collect();
    let mut results = Vec::with_capacity(op_ids.len());
    for (op, op_id) in request.operations.iter().zip(&op_ids) {
        let ctx = OpContext {
            caller: &caller,
            scope: &scope,
            op_id,
            created_at: op.created_at,
            now: now_ms(),
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

/// What one operation needs to know about its surroundings.
struct OpContext<'a> {
    caller: &'a Caller,
    scope: &'a HashSet<String>,
    /// Normalised (lower-case hyphenated) op id.
    op_id: &'a str,
    /// Device clock of the op: orders concurrent edits of one field.
    created_at: i64,
    /// Server clock: stored times, validation against "today".
    now: i64,
}

impl OpContext<'_> {
    fn grid_in_scope(&self, grid: Option<String>) -> Option<String> {
        grid.filter(|g| self.scope.contains(g))
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Verdict {
    status: OpStatus,
    reason: Option<String>,
}

fn applied() -> Verdict {
    Verdict {
        status: OpStatus::Applied,
        reason: None,
    }
}

fn rejected(reason: impl Into<String>) -> Verdict {
    Verdict {
        status: OpStatus::Rejected,
        reason: Some(reason.into()),
    }
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
    }
}

/// A row that breaks the schema's rules can only come from a bug; log it.
fn corrupt(what: &str, value: &str) -> ApiError {
    tracing::error!(%what, %value, "unexpected value in database");
    ApiError::Internal
}

/// One op, exactly once. The `applied_ops` row is claimed first: that insert
/// takes SQLite's write lock (waiting out any other writer), so two concurrent
/// pushes of one op serialise here and the second one finds the first's row and
/// its stored result. (On PostgreSQL the same `ON CONFLICT DO NOTHING` blocks on
/// the other transaction's uncommitted key the same way.) Every check that can
/// reject an op runs before its first write, so a rejection writes nothing but
/// its `applied_ops` row.
async fn push_one(ctx: &OpContext<'_>, device_id: &str, op: &Operation) -> Result<Verdict, ApiError> {
    let mut tx = ctx.caller.pool.begin().await?;
    let claimed = sqlx::query(
        "INSERT INTO applied_ops (op_id, user_id, device_id, kind, status, reason, applied_at)
         VALUES ($1, $2, $3, $4, 'applied', NULL, $5) ON CONFLICT (op_id) DO NOTHING",
    )
    .bind(ctx.op_id)
    .bind(&ctx.caller.user.id)
    .bind(device_id)
    .bind(kind(&op.change))
    .bind(ctx.now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        let (status, reason): (String, Option<String>) =
            sqlx::query_as("SELECT status, reason FROM applied_ops WHERE op_id = $1")
                .bind(ctx.op_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.rollback().await?;
        return Ok(Verdict {
            status: parse_status(&status)?,
            reason,
        });
    }
    let verdict = match &op.change {
        Change::RecordVisit(visit) => record_visit(&mut tx, ctx, visit).await?,
        Change::AddResident(resident) => add_resident(&mut tx, ctx, resident).await?,
        Change::EditResident(edit) => edit_resident(&mut tx, ctx, edit).await?,
    };
    if verdict != applied() {
        sqlx::query("UPDATE applied_ops SET status = $2, reason = $3 WHERE op_id = $1")
            .bind(ctx.op_id)
            .bind(status_str(verdict.status))
            .bind(&verdict.reason)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(verdict)
}

/// The grid a household belongs to, if the household exists.
async fn household_grid(conn: &mut SqliteConnection, household_id: &str) -> Result<Option<String>, ApiError> {
    Ok(sqlx::query_scalar(
        "SELECT b.grid_id FROM households h JOIN buildings b ON b.id = h.building_id WHERE h.id = $1",
    )
    .bind(household_id)
    .fetch_optional(conn)
    .await?)
}

/// Appends to the pull sequence.
async fn record_change(
    conn: &mut SqliteConnection,
    entity: &str,
    entity_id: &str,
    grid_id: &str,
    at: i64,
) -> Result<(), ApiError> {
    sqlx::query("INSERT INTO changes (entity, entity_id, grid_id, at) VALUES ($1, $2, $3, $4)")
        .bind(entity)
        .bind(entity_id)
        .bind(grid_id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The PIPL access log, inside the op's transaction (`Caller::audit` writes
/// through the pool, which would wait on this transaction's write lock).
async fn audit(
    conn: &mut SqliteConnection,
    ctx: &OpContext<'_>,
    action: &str,
    resident_id: &str,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, user_id, action, entity, entity_id, route)
         VALUES ($1, $2, $3, $4, 'resident', $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(ctx.now)
    .bind(&ctx.caller.user.id)
    .bind(action)
    .bind(resident_id)
    .bind(&ctx.caller.route)
    .execute(conn)
    .await?;
    Ok(())
}

// --- RecordVisit -----------------------------------------------------------

/// Visits are append-only facts: the same visit id twice (a re-sent visit under
/// a new op id) keeps the first and reports success.
async fn record_visit(
    conn: &mut SqliteConnection,
    ctx: &OpContext<'_>,
    visit: &VisitInput,
) -> Result<Verdict, ApiError> {
    if let Err(errors) = visit.validate(ctx.now) {
        return Ok(rejected(describe(&errors)));
    }
    let Ok(household_id) = parse_id(&visit.household_id) else {
        return Ok(rejected(HOUSEHOLD_OUT_OF_SCOPE));
    };
    let Some(grid_id) = ctx.grid_in_scope(household_grid(conn, &household_id).await?) else {
        return Ok(rejected(HOUSEHOLD_OUT_OF_SCOPE));
    };
    let (Ok(visit_id), Ok(request_ids), Ok(seen)) = (
        parse_id(&visit.id),
        visit
            .requests
            .iter()
            .map(|r| parse_id(&r.id))
            .collect::<Result<Vec<_>, _>>(),
        visit
            .residents_seen
            .iter()
            .map(|r| parse_id(r))
            .collect::<Result<Vec<_>, _>>(),
    ) else {
        return Ok(rejected(BAD_RECORD_ID));
    };
    let photos: Vec<&str> = visit.photos.iter().map(String::as_str).collect();
    if !may_name_photos(conn, ctx, &photos).await? {
        return Ok(rejected(FOREIGN_PHOTO));
    }
    for resident_id in &seen {
        let home: Option<String> = sqlx::query_scalar("SELECT household_id FROM residents WHERE id = $1")
            .bind(resident_id)
            .fetch_optional(&mut *conn)
            .await?;
        if home.as_deref() != Some(household_id.as_str()) {
            return Ok(rejected("走访记录中的居民不属于该住户"));
        }
    }

    let inserted = sqlx::query(
        "INSERT INTO visits (id, household_id, worker_id, visited_at, visit_type, outcome, notes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&visit_id)
    .bind(&household_id)
    .bind(&ctx.caller.user.id)
    .bind(visit.visited_at)
    .bind(visit.visit_type.as_str())
    .bind(visit.outcome.as_str())
    .bind(&visit.notes)
    .bind(ctx.now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(applied());
    }
    for resident_id in &seen {
        sqlx::query("INSERT INTO visit_residents (visit_id, resident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&visit_id)
            .bind(resident_id)
            .execute(&mut *conn)
            .await?;
    }
    for (position, photo) in visit.photos.iter().enumerate() {
        sqlx::query("INSERT INTO visit_photos (visit_id, photo, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(&visit_id)
            .bind(photo)
            .bind(position as i64)
            .execute(&mut *conn)
            .await?;
    }
    for concern in &visit.concerns {
        sqlx::query("INSERT INTO visit_concerns (visit_id, concern) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&visit_id)
            .bind(concern.as_str())
            .execute(&mut *conn)
            .await?;
    }
    for (request, request_id) in visit.requests.iter().zip(&request_ids) {
        sqlx::query(
            "INSERT INTO requests (id, visit_id, household_id, category, text, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(request_id)
        .bind(&visit_id)
        .bind(&household_id)
        .bind(request.category.trim())
        .bind(request.text.trim())
        .bind(&ctx.caller.user.id)
        .bind(ctx.now)
        .execute(&mut *conn)
        .await?;
    }
    record_change(conn, "visit", &visit_id, &grid_id, ctx.now).await?;
    Ok(applied())
}

// --- AddResident -----------------------------------------------------------

async fn add_resident(
    conn: &mut SqliteConnection,
    ctx: &OpContext<'_>,
    resident: &ResidentInput,
) -> Result<Verdict, ApiError> {
    if let Err(errors) = resident.validate(CivilDate::from_epoch_ms(ctx.now)) {
        return Ok(rejected(describe(&errors)));
    }
    let Ok(household_id) = parse_id(&resident.household_id) else {
        return Ok(rejected(HOUSEHOLD_OUT_OF_SCOPE));
    };
    let Some(grid_id) = ctx.grid_in_scope(household_grid(conn, &household_id).await?) else {
        return Ok(rejected(HOUSEHOLD_OUT_OF_SCOPE));
    };
    let Ok(resident_id) = parse_id(&resident.id) else {
        return Ok(rejected(BAD_RECORD_ID));
    };
    // The same resident re-sent under a new op id is already there; an id that
    // belongs to someone elsewhere is refused rather than silently ignored.
    let existing: Option<String> = sqlx::query_scalar("SELECT household_id FROM residents WHERE id = $1")
        .bind(&resident_id)
        .fetch_optional(&mut *conn)
        .await?;
    match existing {
        Some(home) if home == household_id => return Ok(applied()),
        Some(_) => return Ok(rejected("该居民编号已被占用，请删除后重新填写")),
        None => {}
    }
    // validate() accepted these, so the parses succeed; store the canonical form.
    let id_number = non_blank(resident.id_number.as_deref())
        .and_then(|s| IdCardNumber::parse(s).ok())
        .map(|id| id.as_str().to_owned());
    let phone = non_blank(resident.phone.as_deref())
        .and_then(|s| PhoneNumber::parse(s).ok())
        .map(|p| p.as_str().to_owned());
    sqlx::query(
        "INSERT INTO residents (id, household_id, name, gender, birth_date, id_number, phone,
                                registration_type, moved_out, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)",
    )
    .bind(&resident_id)
    .bind(&household_id)
    .bind(resident.name.trim())
    .bind(resident.gender.as_str())
    .bind(&resident.birth_date)
    .bind(id_number)
    .bind(phone)
    .bind(resident.registration_type.as_str())
    .bind(ctx.now)
    .execute(&mut *conn)
    .await?;
    for tag in &resident.tags {
        sqlx::query("INSERT INTO resident_tags (resident_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&resident_id)
            .bind(tag.as_str())
            .execute(&mut *conn)
            .await?;
    }
    // Every field starts with this op's clock, so a later edit made offline
    // before the device saw this resident still orders correctly against it.
    for &field in ResidentField::ALL {
        set_clock(conn, ctx, &resident_id, field).await?;
    }
    record_change(conn, "resident", &resident_id, &grid_id, ctx.now).await?;
    audit(conn, ctx, "create", &resident_id).await?;
    Ok(applied())
}

fn non_blank(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|s| !s.is_empty())
}

/// Sets a field's clock to this op's (created_at, op_id), never moving it back.
async fn set_clock(
    conn: &mut SqliteConnection,
    ctx: &OpContext<'_>,
    resident_id: &str,
    field: ResidentField,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO resident_field_clock (resident_id, field, updated_at, op_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (resident_id, field) DO UPDATE SET updated_at = excluded.updated_at, op_id = excluded.op_id
         WHERE (excluded.updated_at, excluded.op_id) > (resident_field_clock.updated_at, resident_field_clock.op_id)",
    )
    .bind(resident_id)
    .bind(field.as_str())
    .bind(ctx.created_at)
    .bind(ctx.op_id)
    .execute(conn)
    .await?;
    Ok(())
}

// --- EditResident ----------------------------------------------------------

/// A resident as stored, with its current grid.
#[derive(FromRow)]
struct ResidentState {
    household_id: String,
    name: String,
    gender: String,
    birth_date: String,
    id_number: Option<String>,
    phone: Option<String>,
    registration_type: String,
    moved_out: i64,
    photo: Option<String>,
    grid_id: String,
}

impl ResidentState {
    /// The field in the protocol's text form (`FieldChange` values and bases).
    fn text(&self, field: ResidentField) -> Option<String> {
        match field {
            ResidentField::Name => Some(self.name.clone()),
            ResidentField::Gender => Some(self.gender.clone()),
            ResidentField::BirthDate => Some(self.birth_date.clone()),
            ResidentField::IdNumber => self.id_number.clone(),
            ResidentField::Phone => self.phone.clone(),
            ResidentField::RegistrationType => Some(self.registration_type.clone()),
            ResidentField::MovedOut => Some(if self.moved_out != 0 { "true" } else { "false" }.into()),
            ResidentField::HouseholdId => Some(self.household_id.clone()),
            ResidentField::Photo => self.photo.clone(),
        }
    }
}

/// How one field edit lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// No concurrent edit: the device saw the current value (or sets the same one).
    Apply,
    /// Concurrent edit, this op is later by (created_at, op_id): it overwrites.
    Won,
    /// Concurrent edit, the stored value is later: it stays.
    Lost,
}

/// The conflict rule. Pure and deterministic: two concurrent edits of a field
/// end with the value of the later (created_at, op_id), whichever reaches the
/// server first. Phones hold phone numbers masked, so a masked base counts as
/// having seen the number; ID numbers have no usable base and always apply.
fn decide(
    field: ResidentField,
    current: Option<&str>,
    base: Option<&str>,
    value: Option<&str>,
    clock: (i64, &str),
    op: (i64, &str),
) -> Decision {
    let saw_current = base == current
        || (field == ResidentField::Phone && base.is_some() && base.map(str::to_owned) == current.map(mask_phone));
    if field == ResidentField::IdNumber || saw_current || current == value {
        Decision::Apply
    } else if op > clock {
        Decision::Won
    } else {
        Decision::Lost
    }
}

/// A pushed value checked and put in its stored text form, or the reason not.
fn normalize(field: ResidentField, value: Option<&str>, today: CivilDate) -> Result<Option<String>, String> {
    let required = || non_blank(value).ok_or_else(|| format!("请填写{}", field.label()));
    match field {
        ResidentField::Name => {
            let name = required()?;
            if name.chars().count() > 30 {
                return Err("姓名不能超过30个字".into());
            }
            Ok(Some(name.to_owned()))
        }
        ResidentField::Gender => Gender::parse(required()?)
            .map(|g| Some(g.as_str().to_owned()))
            .ok_or_else(|| "性别不正确".into()),
        ResidentField::BirthDate => check_birth_date(required()?, today).map(|d| Some(d.to_string())),
        ResidentField::IdNumber => non_blank(value)
            .map(|s| IdCardNumber::parse(s).map(|id| id.as_str().to_owned()))
            .transpose(),
        ResidentField::Phone => non_blank(value)
            .map(|s| PhoneNumber::parse(s).map(|p| p.as_str().to_owned()))
            .transpose(),
        ResidentField::RegistrationType => RegistrationType::parse(required()?)
            .map(|r| Some(r.as_str().to_owned()))
            .ok_or_else(|| "户籍类型不正确".into()),
        ResidentField::MovedOut => match required()? {
            flag @ ("true" | "false") => Ok(Some(flag.to_owned())),
            _ => Err("迁出状态不正确".into()),
        },
        ResidentField::HouseholdId => parse_id(required()?)
            .map(Some)
            .map_err(|_| HOUSEHOLD_OUT_OF_SCOPE.into()),
        ResidentField::Photo => match non_blank(value) {
            Some(hash) if is_photo_hash(hash) => Ok(Some(hash.to_owned())),
            Some(_) => Err("照片编号不正确，请重新拍照".into()),
            None => Ok(None),
        },
    }
}

/// The statement that stores one field; column names come from this fixed list,
/// never from the request.
fn update_sql(field: ResidentField) -> &'static str {
    match field {
        ResidentField::Name => "UPDATE residents SET name = $1 WHERE id = $2",
        ResidentField::Gender => "UPDATE residents SET gender = $1 WHERE id = $2",
        ResidentField::BirthDate => "UPDATE residents SET birth_date = $1 WHERE id = $2",
        ResidentField::IdNumber => "UPDATE residents SET id_number = $1 WHERE id = $2",
        ResidentField::Phone => "UPDATE residents SET phone = $1 WHERE id = $2",
        ResidentField::RegistrationType => "UPDATE residents SET registration_type = $1 WHERE id = $2",
        ResidentField::MovedOut => {
            "UPDATE residents SET moved_out = CASE WHEN $1 = 'true' THEN 1 ELSE 0 END WHERE id = $2"
        }
        ResidentField::HouseholdId => "UPDATE residents SET household_id = $1 WHERE id = $2",
        ResidentField::Photo => "UPDATE residents SET photo = $1 WHERE id = $2",
    }
}

async fn load_resident(conn: &mut SqliteConnection, id: &str) -> Result<Option<ResidentState>, ApiError> {
    Ok(sqlx::query_as(
        "SELECT r.household_id, r.name, r.gender, r.birth_date, r.id_number, r.phone, r.registration_type,
                r.moved_out, r.photo, b.grid_id
         FROM residents r JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
         WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Checks every change of an edit before anything is written: one bad value
/// rejects the whole op, with the field named.
async fn check_edit(
    conn: &mut SqliteConnection,
    ctx: &OpContext<'_>,
    changes: &[FieldChange],
) -> Result<Result<Vec<Option<String>>, String>, ApiError> {
    let today = CivilDate::from_epoch_ms(ctx.now);
    let mut seen = HashSet::new();
    let mut values = Vec::with_capacity(changes.len());
    for change in changes {
        if !seen.insert(change.field) {
            return Ok(Err(format!("{}在一次修改中出现了两次", change.field.label())));
        }
        let value = match normalize(change.field, change.value.as_deref(), today) {
            Ok(value) => value,
            Err(message) => return Ok(Err(format!("{}：{message}", change.field.label()))),
        };
        if change.field == ResidentField::HouseholdId {
            let grid = household_grid(conn, value.as_deref().unwrap_or_default()).await?;
            if ctx.grid_in_scope(grid).is_none() {
                return Ok(Err(HOUSEHOLD_OUT_OF_SCOPE.into()));
            }
        }
        values.push(value);
    }
    Ok(Ok(values))
}

async fn field_clocks(
    conn: &mut SqliteConnection,
    resident_id: &str,
) -> Result<HashMap<String, (i64, String)>, ApiError> {
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT field, updated_at, op_id FROM resident_field_clock WHERE resident_id = $1")
            .bind(resident_id)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(|(f, at, op)| (f, (at, op))).collect())
}

/// Keeps the value that did not end up in the record, for a lead to review.
async fn keep_history(
    conn: &mut SqliteConnection,
    ctx: &OpContext<'_>,
    resident_id: &str,
    field: ResidentField,
    (old_value, new_value): (Option<&str>, Option<&str>),
    winner: &str,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO resident_history (id, resident_id, field, old_value, new_value, winner, op_id, user_id, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(resident_id)
    .bind(field.as_str())
    .bind(old_value)
    .bind(new_value)
    .bind(winner)
    .bind(ctx.op_id)
    .bind(&ctx.caller.user.id)
    .bind(ctx.now)
    .execute(conn)
    .await?;
    Ok(())
}

async fn edit_resident(
    conn: &mut SqliteConnection,
    ctx: &OpContext<'_>,
    edit: &ResidentEdit,
) -> Result<Verdict, ApiError> {
    let Ok(resident_id) = parse_id(&edit.id) else {
        return Ok(rejected(RESIDENT_OUT_OF_SCOPE));
    };
    let Some(state) = load_resident(conn, &resident_id).await? else {
        return Ok(rejected(RESIDENT_OUT_OF_SCOPE));
    };
    if !ctx.scope.contains(&state.grid_id) {
        return Ok(rejected(RESIDENT_OUT_OF_SCOPE));
    }
    let values = match check_edit(conn, ctx, &edit.changes).await? {
        Ok(values) => values,
        Err(reason) => return Ok(rejected(reason)),
    };
    // The photos this edit sets, in their checked form.
    let photos: Vec<&str> = edit
        .changes
        .iter()
        .zip(&values)
        .filter(|(c, _)| c.field == ResidentField::Photo)
        .filter_map(|(_, v)| v.as_deref())
        .collect();
    if !may_name_photos(conn, ctx, &photos).await? {
        return Ok(rejected(FOREIGN_PHOTO));
    }
    keep_photos(conn, ctx, &resident_id, &photos).await?;
    let clocks = field_clocks(conn, &resident_id).await?;
    let (mut won, mut lost, mut written) = (Vec::new(), Vec::new(), false);
    for (change, value) in edit.changes.iter().zip(&values) {
        let field = change.field;
        let current = state.text(field);
        let clock = clocks
            .get(field.as_str())
            .map_or((0, ""), |(at, op)| (*at, op.as_str()));
        let decision = decide(
            field,
            current.as_deref(),
            change.base.as_deref(),
            value.as_deref(),
            clock,
            (ctx.created_at, ctx.op_id),
        );
        let values = (current.as_deref(), value.as_deref());
        match decision {
            Decision::Lost => {
                keep_history(conn, ctx, &resident_id, field, values, "server").await?;
                lost.push(field.label());
                continue;
            }
            Decision::Won => {
                keep_history(conn, ctx, &resident_id, field, values, "incoming").await?;
                won.push(field.label());
            }
            Decision::Apply => {}
        }
        sqlx::query(update_sql(field))
            .bind(value)
            .bind(&resident_id)
            .execute(&mut *conn)
            .await?;
        set_clock(conn, ctx, &resident_id, field).await?;
        written = true;
    }
    if written {
        finish_edit(conn, ctx, &resident_id).await?;
    }
    Ok(edit_verdict(&won, &lost))
}

/// A record may name a photo not uploaded yet, or one the caller may see
/// already; never a stored photo of someone else's grid (naming it would
/// grant its view to everyone in the caller's grid).
async fn may_name_photos(conn: &mut SqliteConnection, ctx: &OpContext<'_>, photos: &[&str]) -> Result<bool, ApiError> {
    for photo in photos {
        if crate::photos::may_see_stored(conn, photo, &ctx.caller.user.id, ctx.scope).await? == Some(false) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Every profile photo set stays on file, also one replaced later or one that
/// lost to a concurrent edit: the resident's photo history.
async fn keep_photos(
    conn: &mut SqliteConnection,
    ctx: &OpContext<'_>,
    resident_id: &str,
    photos: &[&str],
) -> Result<(), ApiError> {
    for photo in photos {
        sqlx::query(
            "INSERT INTO resident_photos (resident_id, photo, set_by, taken_at, op_id) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
        )
        .bind(resident_id)
        .bind(photo)
        .bind(&ctx.caller.user.id)
        .bind(ctx.created_at)
        .bind(ctx.op_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The bookkeeping of a written edit: updated_at, the pull sequence (in the
/// resident's grid after the edit, which a household move may have changed),
/// the audit log.
async fn finish_edit(conn: &mut SqliteConnection, ctx: &OpContext<'_>, resident_id: &str) -> Result<(), ApiError> {
    sqlx::query("UPDATE residents SET updated_at = $1 WHERE id = $2")
        .bind(ctx.now)
        .bind(resident_id)
        .execute(&mut *conn)
        .await?;
    let state = load_resident(conn, resident_id).await?.ok_or(ApiError::Internal)?;
    record_change(conn, "resident", resident_id, &state.grid_id, ctx.now).await?;
    audit(conn, ctx, "update", resident_id).await
}

fn edit_verdict(won: &[&str], lost: &[&str]) -> Verdict {
    let mut reasons = Vec::new();
    if !lost.is_empty() {
        reasons.push(format!(
            "{}已被他人改为更新的值，您的修改未采用，已留存供网格长核对",
            lost.join("、")
        ));
    }
    if !won.is_empty() {
        reasons.push(format!(
            "{}同时被他人修改，已采用您较新的修改，原值已留存",
            won.join("、")
        ));
    }
    if reasons.is_empty() {
        applied()
    } else {
        Verdict {
            status: OpStatus::Conflict,
            reason: Some(reasons.join("；")),
        }
    }
}

// ---------------------------------------------------------------------------
// Pull
// ---------------------------------------------------------------------------

const DEFAULT_PAGE: i64 = 1000;
const MAX_PAGE: i64 = 5000;

/// `GET /api/sync/pull?cursor=N&limit=M[&grid=ID]`. `scope` always lists every
/// grid the caller may see now (a device drops data of grids not listed), also
/// when `grid` narrows the records to one of them.
pub async fn pull(
    Api(caller): Api,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<PullResponse>, ApiError> {
    let cursor = int_param(&params, "cursor", 0, 0, i64::MAX)?;
    let limit = int_param(&params, "limit", DEFAULT_PAGE, 1, MAX_PAGE)?;
    let grid = params.get("grid").map(|g| parse_id(g)).transpose()?;
    let scope = grid_refs(&caller).await?;
    let grids: Vec<String> = match grid {
        Some(grid) if scope.iter().any(|g| g.id == grid) => vec![grid],
        Some(_) => return Err(ApiError::not_found()),
        None => scope.iter().map(|g| g.id.clone()).collect(),
    };
    let page = load_page(&caller.pool, &grids, cursor, limit).await?;
    // PIPL access log: one row per page (not per resident), naming the range
    // of the change sequence, which says exactly which records were read.
    if !page.records.is_empty() {
        let range = format!("seq {cursor}..={}", page.next_cursor);
        caller.audit("read", "sync_pull", &range).await?;
    }
    let policies = sqlx::query_as("SELECT tag, cadence_days FROM visit_policies ORDER BY tag")
        .fetch_all(&caller.pool)
        .await?;
    Ok(Json(PullResponse {
        scope,
        policies,
        records: page.records,
        next_cursor: page.next_cursor,
        more: page.more,
    }))
}

fn int_param(params: &HashMap<String, String>, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    let Some(text) = params.get(name) else {
        return Ok(default);
    };
    text.parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| ApiError::BadRequest(format!("参数 {name} 应为 {min} 到 {max} 之间的整数")))
}

/// The caller's grids with their names, in the order `visible_grids` gives.
async fn grid_refs(caller: &Caller) -> Result<Vec<GridRef>, ApiError> {
    let ids = caller.user.visible_grids(&caller.pool).await?;
    let names: HashMap<String, String> = sqlx::query_as("SELECT id, name FROM grids")
        .fetch_all(&caller.pool)
        .await?
        .into_iter()
        .collect();
    Ok(ids
        .into_iter()
        .filter_map(|id| names.get(&id).cloned().map(|name| GridRef { id, name }))
        .collect())
}

struct Page {
    records: Vec<Record>,
    next_cursor: i64,
    more: bool,
}

/// One page: the seq range first (one indexed query), then one joined query
/// per entity type over that range, not one query per record.
async fn load_page(pool: &sqlx::SqlitePool, grids: &[String], cursor: i64, limit: i64) -> Result<Page, ApiError> {
    let empty = Page {
        records: Vec::new(),
        next_cursor: cursor,
        more: false,
    };
    if grids.is_empty() {
        return Ok(empty);
    }
    let in_grids = placeholders(3, grids.len());
    // One row past the page tells whether more wait.
    let sql = format!("SELECT seq FROM changes WHERE seq > $1 AND grid_id IN ({in_grids}) ORDER BY seq LIMIT $2");
    let mut seqs: Vec<i64> = scoped_scalar(&sql, cursor, limit + 1, grids).fetch_all(pool).await?;
    let more = seqs.len() as i64 > limit;
    seqs.truncate(limit as usize);
    let Some(&upper) = seqs.last() else {
        return Ok(empty);
    };
    let scope: HashSet<&str> = grids.iter().map(String::as_str).collect();
    let range = Range {
        lo: cursor,
        hi: upper,
        grids,
        in_grids: &in_grids,
    };
    let mut records: Vec<(i64, Record)> = Vec::new();
    records.extend(buildings(pool, &range).await?);
    records.extend(households(pool, &range).await?);
    records.extend(residents(pool, &range).await?);
    records.extend(visits(pool, &range).await?);
    // The current grid, not the one at change time, decides: a resident moved
    // to another grid must not reach the old grid's phones.
    records.retain(|(_, r)| scope.contains(record_grid(r)));
    Ok(Page {
        records: latest_only(records),
        next_cursor: upper,
        more,
    })
}

/// `$first, $first+1, …` for an `IN` list of grid ids.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Range<'a> {
    lo: i64,
    hi: i64,
    grids: &'a [String],
    in_grids: &'a str,
}

impl Range<'_> {
    /// The join of `changes` in this range and scope to one entity's table.
    fn sql(&self, entity: &str, select: &str, joins: &str) -> String {
        format!(
            "SELECT c.seq, {select} FROM changes c {joins}
             WHERE c.entity = '{entity}' AND c.seq > $1 AND c.seq <= $2 AND c.grid_id IN ({})",
            self.in_grids
        )
    }

    fn query<'q, O>(&'q self, sql: &'q str) -> sqlx::query::QueryAs<'q, Sqlite, O, SqliteArguments<'q>>
    where
        O: for<'r> FromRow<'r, SqliteRow>,
    {
        let mut query = sqlx::query_as(sql).bind(self.lo).bind(self.hi);
        for grid in self.grids {
            query = query.bind(grid);
        }
        query
    }
}

/// `$1`, `$2`, then the grid ids from `$3` on.
fn scoped_scalar<'q>(
    sql: &'q str,
    first: i64,
    second: i64,
    grids: &'q [String],
) -> sqlx::query::QueryScalar<'q, Sqlite, i64, SqliteArguments<'q>> {
    let mut query = sqlx::query_scalar(sql).bind(first).bind(second);
    for grid in grids {
        query = query.bind(grid);
    }
    query
}

/// An entity changed twice in one page is sent once, at its last position.
fn latest_only(mut records: Vec<(i64, Record)>) -> Vec<Record> {
    records.sort_by_key(|(seq, _)| *seq);
    let mut seen = HashSet::new();
    let mut out: Vec<Record> = records
        .into_iter()
        .rev()
        .filter(|(_, r)| seen.insert(record_key(r)))
        .map(|(_, r)| r)
        .collect();
    out.reverse();
    out
}

fn record_key(record: &Record) -> (u8, String) {
    match record {
        Record::Building(b) => (0, b.id.clone()),
        Record::Household(h) => (1, h.id.clone()),
        Record::Resident(r) => (2, r.id.clone()),
        Record::Visit(v) => (3, v.id.clone()),
    }
}

fn record_grid(record: &Record) -> &str {
    match record {
        Record::Building(b) => &b.grid_id,
        Record::Household(h) => &h.grid_id,
        Record::Resident(r) => &r.grid_id,
        Record::Visit(v) => &v.grid_id,
    }
}

/// A pulled row: the change's sequence number and the record as sent.
#[derive(FromRow)]
struct BuildingRow {
    seq: i64,
    #[sqlx(flatten)]
    record: BuildingRecord,
}

async fn buildings(pool: &sqlx::SqlitePool, range: &Range<'_>) -> Result<Vec<(i64, Record)>, ApiError> {
    let sql = range.sql(
        "building",
        "b.id, b.grid_id, b.number, b.name, b.address, b.units, b.floors, b.doors_per_floor",
        "JOIN buildings b ON b.id = c.entity_id",
    );
    let rows: Vec<BuildingRow> = range.query(&sql).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.seq, Record::Building(row.record)))
        .collect())
}

#[derive(FromRow)]
struct HouseholdRow {
    seq: i64,
    #[sqlx(flatten)]
    record: HouseholdRecord,
}

async fn households(pool: &sqlx::SqlitePool, range: &Range<'_>) -> Result<Vec<(i64, Record)>, ApiError> {
    let sql = range.sql(
        "household",
        "h.id, b.grid_id, h.building_id, h.unit, h.floor, h.door_number",
        "JOIN households h ON h.id = c.entity_id JOIN buildings b ON b.id = h.building_id",
    );
    let rows: Vec<HouseholdRow> = range.query(&sql).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.seq, Record::Household(row.record)))
        .collect())
}

#[derive(FromRow)]
struct ResidentRow {
    seq: i64,
    id: String,
    grid_id: String,
    household_id: String,
    name: String,
    gender: String,
    birth_date: String,
    id_number: Option<String>,
    phone: Option<String>,
    registration_type: String,
    moved_out: i64,
    photo: Option<String>,
}

/// Residents leave masked, as on every other route, with their tags (one more
/// query for the page's tags).
async fn residents(pool: &sqlx::SqlitePool, range: &Range<'_>) -> Result<Vec<(i64, Record)>, ApiError> {
    let joins = "JOIN residents r ON r.id = c.entity_id
                 JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id";
    let sql = range.sql(
        "resident",
        "r.id, b.grid_id, r.household_id, r.name, r.gender, r.birth_date, r.id_number, r.phone,
         r.registration_type, r.moved_out, r.photo",
        joins,
    );
    let rows: Vec<ResidentRow> = range.query(&sql).fetch_all(pool).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let tag_sql = range.sql(
        "resident",
        "t.resident_id, t.tag",
        "JOIN resident_tags t ON t.resident_id = c.entity_id",
    );
    let mut tags: HashMap<String, Vec<KeyGroup>> = HashMap::new();
    let tag_rows: Vec<(i64, String, String)> = range.query(&tag_sql).fetch_all(pool).await?;
    for (_, resident_id, tag) in tag_rows {
        let tag = KeyGroup::parse(&tag).ok_or_else(|| corrupt("tag", &tag))?;
        let list = tags.entry(resident_id).or_default();
        if !list.contains(&tag) {
            list.push(tag);
        }
    }
    rows.into_iter()
        .map(|r| {
            let mut resident_tags = tags.get(&r.id).cloned().unwrap_or_default();
            resident_tags.sort();
            let record = Record::Resident(ResidentRecord {
                gender: Gender::parse(&r.gender).ok_or_else(|| corrupt("gender", &r.gender))?,
                registration_type: RegistrationType::parse(&r.registration_type)
                    .ok_or_else(|| corrupt("registration_type", &r.registration_type))?,
                id_number_masked: r.id_number.as_deref().map(mask_id_number),
                phone_masked: r.phone.as_deref().map(mask_phone),
                tags: resident_tags,
                moved_out: r.moved_out != 0,
                id: r.id,
                grid_id: r.grid_id,
                household_id: r.household_id,
                name: r.name,
                birth_date: r.birth_date,
                photo: r.photo,
            });
            Ok((r.seq, record))
        })
        .collect()
}

#[derive(FromRow)]
struct VisitRow {
    seq: i64,
    id: String,
    grid_id: String,
    household_id: String,
    visited_at: i64,
    visit_type: String,
    outcome: String,
    worker_name: String,
    notes: String,
    photos: Option<String>,
}

async fn visits(pool: &sqlx::SqlitePool, range: &Range<'_>) -> Result<Vec<(i64, Record)>, ApiError> {
    let sql = range.sql(
        "visit",
        "v.id, b.grid_id, v.household_id, v.visited_at, v.visit_type, v.outcome,
         u.display_name AS worker_name, v.notes,
         (SELECT group_concat(photo) FROM
             (SELECT photo FROM visit_photos WHERE visit_id = v.id ORDER BY position)) AS photos",
        "JOIN visits v ON v.id = c.entity_id JOIN users u ON u.id = v.worker_id
         JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id",
    );
    let rows: Vec<VisitRow> = range.query(&sql).fetch_all(pool).await?;
    rows.into_iter()
        .map(|v| {
            let record = Record::Visit(VisitRecord {
                visit_type: VisitType::parse(&v.visit_type).ok_or_else(|| corrupt("visit_type", &v.visit_type))?,
                outcome: Outcome::parse(&v.outcome).ok_or_else(|| corrupt("outcome", &v.outcome))?,
                id: v.id,
                grid_id: v.grid_id,
                household_id: v.household_id,
                visited_at: v.visited_at,
                worker_name: v.worker_name,
                notes: v.notes,
                photos: v
                    .photos
                    .map(|p| p.split(',').map(str::to_owned).collect())
                    .unwrap_or_default(),
            });
            Ok((v.seq, record))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: ResidentField = ResidentField::Name;

    #[test]
    fn an_edit_of_the_value_the_device_saw_applies() {
        let d = decide(NAME, Some("王"), Some("王"), Some("李"), (9, "z"), (1, "a"));
        assert_eq!(d, Decision::Apply);
    }

    #[test]
    fn concurrent_edits_resolve_by_time_then_op_id() {
        assert_eq!(
            decide(NAME, Some("李"), Some("王"), Some("张"), (5, "b"), (6, "a")),
            Decision::Won
        );
        assert_eq!(
            decide(NAME, Some("李"), Some("王"), Some("张"), (5, "b"), (5, "a")),
            Decision::Lost
        );
        assert_eq!(
            decide(NAME, Some("李"), Some("王"), Some("张"), (5, "b"), (5, "c")),
            Decision::Won
        );
        assert_eq!(
            decide(NAME, Some("李"), Some("王"), Some("李"), (9, "b"), (1, "c")),
            Decision::Apply
        );
    }

    #[test]
    fn a_masked_phone_base_counts_as_seen_and_id_numbers_always_apply() {
        let phone = ResidentField::Phone;
        let d = decide(
            phone,
            Some("13812345678"),
            Some("138****5678"),
            Some("13900000000"),
            (9, "z"),
            (1, "a"),
        );
        assert_eq!(d, Decision::Apply);
        let id = ResidentField::IdNumber;
        assert_eq!(
            decide(id, Some("x"), None, Some("y"), (9, "z"), (1, "a")),
            Decision::Apply
        );
    }

    #[test]
    fn values_are_checked_and_normalised() {
        let today = CivilDate::parse("2026-11-25").unwrap();
        assert_eq!(normalize(NAME, Some(" 王五 "), today), Ok(Some("王五".into())));
        assert!(normalize(NAME, Some(" "), today).is_err());
        assert!(normalize(ResidentField::MovedOut, Some("yes"), today).is_err());
        assert_eq!(
            normalize(ResidentField::MovedOut, Some(" true"), today),
            Ok(Some("true".into()))
        );
        assert_eq!(normalize(ResidentField::Phone, None, today), Ok(None));
        assert!(normalize(ResidentField::IdNumber, Some("110105194912310021"), today).is_err());
        assert!(normalize(ResidentField::BirthDate, Some("2030-01-01"), today).is_err());
    }

    #[test]
    fn stored_forms_match_the_wire_form() {
        for &field in ResidentField::ALL {
            assert_eq!(serde_json::to_value(field).unwrap(), field.as_str());
        }
        for &concern in app::sync::Concern::ALL {
            assert_eq!(serde_json::to_value(concern).unwrap(), concern.as_str());
        }
    }

    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(placeholders(3, 2), "$3, $4");
    }
}
