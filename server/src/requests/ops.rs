//! The phone's request operations, applied exactly once by the push: requests
//! raised at the door (with a visit), at the desk or on patrol; work on a
//! request (a note, start, resolve, the follow-up at the door); the rating
//! codes a worker showed. A work action no longer allowed when it arrives (a
//! lead closed the request meanwhile) is refused with the state named: it
//! stays on the phone with that reason, never lost and never applied.

use app::api::parse_id;
use app::auth::ssr::hash_token;
use app::domain::PhoneNumber;
use app::error::ApiError;
use app::requests::{Action, RATING_TOKEN_DAYS, Source, category_code, check_text};
use app::sync::{RaiseRequestInput, RatingTokenInput, RequestActionInput, RequestInput, is_code, is_photo_hash};
use store::Tx;
use store::photos::RecordKind;
use store::requests::NewToken;

use super::{Act, Actor, NewRequestText, Place, Refusal, act, categories, insert_request};
use crate::photos::Naming;
use crate::sync::op::{BAD_RECORD_ID, HOUSEHOLD_OUT_OF_SCOPE, OpContext, Verdict};

const MAX_PLACE_CHARS: usize = 100;
const UNKNOWN_CATEGORY: &str = "没有这个诉求类别，请同步后重新选择";

/// The requests a visit raised at the door, after the visit itself (same
/// transaction). Checked by the visit's rule before anything was written.
pub async fn raise_at_door(
    tx: &mut Tx,
    ctx: &OpContext<'_>,
    visit_id: &str,
    household_id: &str,
    grid_id: &str,
    requests: &[(String, &RequestInput)],
) -> Result<(), ApiError> {
    if requests.is_empty() {
        return Ok(());
    }
    let categories = categories(&ctx.caller.store).await?;
    let community_id = tx.grid_community(grid_id).await?.ok_or(ApiError::Internal)?;
    let place = Place {
        community_id,
        grid_id: Some(grid_id.to_owned()),
        household_id: Some(household_id),
        building_id: None,
        visit_id: Some(visit_id),
    };
    for (id, request) in requests {
        // An old phone's category label, or one since renamed: kept as 其他
        // rather than losing the request.
        let category = category_code(&categories, &request.category)
            .or_else(|| categories.iter().find(|c| c.code == "other"))
            .or(categories.first())
            .ok_or(ApiError::Internal)?;
        let text = NewRequestText {
            id,
            source: Source::Visit,
            place: "",
            contact_phone: None,
            text: &request.text,
            photos: &[],
            receipt: None,
            submitter_key: None,
        };
        insert_request(tx, Some(&ctx.caller.user.id), ctx.now, &place, text, category).await?;
    }
    Ok(())
}

/// `Change::RaiseRequest`: at the desk or on patrol, named by household,
/// building, or (a public place) the caller's grid and a free address.
pub async fn raise(tx: &mut Tx, ctx: &OpContext<'_>, input: &RaiseRequestInput) -> Result<Verdict, ApiError> {
    if matches!(input.source, Source::Visit | Source::Public) {
        return Ok(Verdict::rejected("入户走访和居民提交的诉求不从这里登记"));
    }
    if let Err(e) = check_text(&input.text, "诉求内容") {
        return Ok(Verdict::rejected(e));
    }
    if input.place.chars().count() > MAX_PLACE_CHARS {
        return Ok(Verdict::rejected("地点不能超过100字"));
    }
    let phone = match input.contact_phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => match PhoneNumber::parse(p) {
            Ok(p) => Some(p),
            Err(e) => return Ok(Verdict::rejected(e)),
        },
        None => None,
    };
    if input.photos.len() > app::sync::MAX_VISIT_PHOTOS || !input.photos.iter().all(|p| is_photo_hash(p)) {
        return Ok(Verdict::rejected("照片最多6张，请删除照片后重拍"));
    }
    if input.receipt.as_deref().is_some_and(|r| !is_code(r)) {
        return Ok(Verdict::rejected("回执码不正确，请重新生成"));
    }
    let Ok(id) = parse_id(&input.id) else {
        return Ok(Verdict::rejected(BAD_RECORD_ID));
    };
    let categories = categories(&ctx.caller.store).await?;
    let Some(category) = category_code(&categories, &input.category) else {
        return Ok(Verdict::rejected(UNKNOWN_CATEGORY));
    };
    let household_id = input.household_id.as_deref().map(parse_id).transpose();
    let building_id = input.building_id.as_deref().map(parse_id).transpose();
    let (Ok(household_id), Ok(building_id)) = (household_id, building_id) else {
        return Ok(Verdict::rejected(BAD_RECORD_ID));
    };
    let grid = match (&household_id, &building_id) {
        (Some(h), _) => ctx.household_in_scope(tx, h).await?,
        (None, Some(b)) => tx.building_grid(b).await?.filter(|g| ctx.scope.contains(g)),
        (None, None) if input.place.trim().is_empty() => {
            return Ok(Verdict::rejected("请选择住户、楼栋，或填写地点"));
        }
        // A public place: one of the caller's grids carries it.
        (None, None) => ctx.first_grid().map(str::to_owned),
    };
    let Some(grid_id) = grid else {
        return Ok(Verdict::rejected(HOUSEHOLD_OUT_OF_SCOPE));
    };
    let photos: Vec<&str> = input.photos.iter().map(String::as_str).collect();
    let naming = Naming {
        kind: RecordKind::Request,
        id: &id,
        grid: Some(&grid_id),
    };
    if let Err(reason) = ctx.may_name_photos(tx, &photos, naming).await? {
        return Ok(Verdict::rejected(reason));
    }
    let community_id = tx.grid_community(&grid_id).await?.ok_or(ApiError::Internal)?;
    let place = Place {
        community_id,
        grid_id: Some(grid_id),
        household_id: household_id.as_deref(),
        building_id: building_id.as_deref().filter(|_| household_id.is_none()),
        visit_id: None,
    };
    let text = NewRequestText {
        id: &id,
        source: input.source,
        place: &input.place,
        contact_phone: phone.as_ref().map(PhoneNumber::as_str),
        text: &input.text,
        photos: &input.photos,
        receipt: input.receipt.as_deref(),
        submitter_key: None,
    };
    insert_request(tx, Some(&ctx.caller.user.id), ctx.now, &place, text, category).await?;
    Ok(Verdict::applied())
}

/// `Change::RequestAction`: a worker's action, checked against the request as
/// it stands now. Only workers' actions travel this way; a lead's are taken
/// on the ledger, online.
pub async fn work(tx: &mut Tx, ctx: &OpContext<'_>, input: &RequestActionInput) -> Result<Verdict, ApiError> {
    if !matches!(
        input.action,
        Action::Start | Action::Note | Action::Resolve | Action::FollowUp
    ) {
        return Ok(Verdict::rejected("手机上不能进行这项操作，请在诉求台账办理"));
    }
    let Ok(request_id) = parse_id(&input.request_id) else {
        return Ok(Verdict::rejected(BAD_RECORD_ID));
    };
    // The request's row lock before the photos' object locks, the order an
    // edit of a resident takes its locks in too. A request not found is
    // answered by `act`.
    let grid = tx.lock_request(&request_id).await?.and_then(|r| r.grid_id);
    let photos: Vec<&str> = input.photos.iter().map(String::as_str).collect();
    let naming = Naming {
        kind: RecordKind::Request,
        id: &request_id,
        grid: grid.as_deref(),
    };
    if let Err(reason) = ctx.may_name_photos(tx, &photos, naming).await? {
        return Ok(Verdict::rejected(reason));
    }
    let actor = Actor::User {
        user: &ctx.caller.user,
        scope: ctx.scope,
    };
    let mut action = Act::new(ctx.op_id, input.action, &input.note, ctx.now);
    action.photos = &input.photos;
    action.follow_up = input.follow_up;
    match act(tx, &actor, &request_id, &action).await {
        Ok(_) => Ok(Verdict::applied()),
        Err(Refusal::Api(ApiError::Internal)) => Err(ApiError::Internal),
        Err(Refusal::Api(ApiError::NotFound(_))) => Ok(Verdict::rejected("该诉求不存在或已不在您负责的网格")),
        Err(Refusal::Conflict(reason)) => Ok(Verdict::rejected(format!("{reason}（已被他人处理，您的操作未生效）"))),
        Err(e) => Ok(Verdict::rejected(e.message())),
    }
}

/// `Change::RatingToken`: registers a code the phone made and showed as a QR
/// code, valid for 14 days from when it was made.
pub async fn rating_token(tx: &mut Tx, ctx: &OpContext<'_>, input: &RatingTokenInput) -> Result<Verdict, ApiError> {
    if !is_code(&input.token) {
        return Ok(Verdict::rejected("评价码不正确，请重新生成"));
    }
    let Ok(request_id) = parse_id(&input.request_id) else {
        return Ok(Verdict::rejected(BAD_RECORD_ID));
    };
    let visible = match tx.lock_request(&request_id).await? {
        Some(state) => super::may_see(&ctx.caller.user, ctx.scope, &state),
        None => false,
    };
    if !visible {
        return Ok(Verdict::rejected("该诉求不存在或已不在您负责的网格"));
    }
    let made_at = ctx.created_at.min(ctx.now);
    tx.insert_rating_token(NewToken {
        token_hash: &hash_token(&input.token),
        request_id: &request_id,
        created_by: &ctx.caller.user.id,
        created_at: made_at,
        expires_at: made_at + RATING_TOKEN_DAYS * app::clock::DAY_MS,
    })
    .await?;
    Ok(Verdict::applied())
}
