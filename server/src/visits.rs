//! The write rule of a pushed visit (`Change::RecordVisit`).

use app::api::parse_id;
use app::error::ApiError;
use app::sync::{DEFAULT_SERVICE_MINUTES, VisitInput, describe};
use store::Tx;
use store::photos::RecordKind;
use store::visits::NewVisit;

use crate::photos::Naming;
use crate::sync::op::{BAD_RECORD_ID, OpContext, Verdict};

/// No visit is older than grid management itself: an earlier date is a phone
/// clock that was never set (and broke the ledgers' date columns once).
const EARLIEST_VISIT_MS: i64 = 946_684_800_000; // 2000-01-01
/// More than any real visit carries; the app's form never gets near.
const MAX_REQUESTS: usize = 20;
const MAX_RESIDENTS_SEEN: usize = 60;
const MAX_CONCERNS: usize = 20;
const MAX_CATEGORY_CHARS: usize = 20;

/// What the phone's own validation does not bound, checked here: a request
/// written by hand must not store whatever it likes.
fn out_of_bounds(visit: &VisitInput) -> Option<&'static str> {
    if visit.visited_at < EARLIEST_VISIT_MS {
        Some("走访时间早于2000年，请检查手机的日期设置后重新填写")
    } else if visit.requests.len() > MAX_REQUESTS {
        Some("一次走访最多记录20条诉求")
    } else if visit.residents_seen.len() > MAX_RESIDENTS_SEEN || visit.concerns.len() > MAX_CONCERNS {
        Some("走访记录的内容过多，请核对后重新填写")
    } else if visit
        .requests
        .iter()
        .any(|r| r.category.chars().count() > MAX_CATEGORY_CHARS)
    {
        Some("诉求类别不正确")
    } else {
        None
    }
}

/// Visits are append-only facts: the same visit id twice (a re-sent visit under
/// a new op id) keeps the first and reports success.
pub async fn record_visit(tx: &mut Tx, ctx: &OpContext<'_>, visit: &VisitInput) -> Result<Verdict, ApiError> {
    if let Err(errors) = visit.validate(ctx.now) {
        return Ok(Verdict::rejected(describe(&errors)));
    }
    if let Some(reason) = out_of_bounds(visit) {
        return Ok(Verdict::rejected(reason));
    }
    let Ok(household_id) = parse_id(&visit.household_id) else {
        return Ok(Verdict::rejected(ctx.out_of_scope()));
    };
    let Some(grid_id) = ctx.household_in_scope(tx, &household_id).await? else {
        return Ok(Verdict::rejected(ctx.out_of_scope()));
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
        return Ok(Verdict::rejected(BAD_RECORD_ID));
    };
    for resident_id in &seen {
        if tx.resident_household(resident_id).await?.as_deref() != Some(household_id.as_str()) {
            return Ok(Verdict::rejected("走访记录中的居民不属于该住户"));
        }
    }
    let photos: Vec<&str> = visit.photos.iter().map(String::as_str).collect();
    let naming = Naming {
        kind: RecordKind::Visit,
        id: &visit_id,
        grid: Some(&grid_id),
    };
    if let Err(reason) = ctx.may_name_photos(tx, &photos, naming).await? {
        return Ok(Verdict::rejected(reason));
    }
    let member = match counted_for(ctx, visit, &household_id).await? {
        Ok(member) => member,
        Err(reason) => return Ok(Verdict::rejected(reason)),
    };
    let new = NewVisit {
        id: &visit_id,
        household_id: &household_id,
        worker_id: &ctx.caller.user.id,
        visited_at: visit.visited_at,
        visit_type: visit.visit_type.as_str(),
        outcome: visit.outcome.as_str(),
        notes: &visit.notes,
        created_at: ctx.now,
        residents_seen: &seen,
        photos: &visit.photos,
        concerns: visit.concerns.iter().map(|c| c.as_str()).collect(),
    };
    if tx.insert_visit(&new).await? {
        // A party member's visit counts on their hours ledger.
        if let Some(member) = member {
            let minutes = visit.service_minutes.unwrap_or(DEFAULT_SERVICE_MINUTES);
            tx.mark_party_visit(&visit_id, &member, minutes).await?;
        }
        tx.record_change("visit", &visit_id, &grid_id, ctx.now);
        let requests: Vec<_> = request_ids.into_iter().zip(&visit.requests).collect();
        crate::requests::ops::raise_at_door(tx, ctx, &visit_id, &household_id, &grid_id, &requests).await?;
    }
    Ok(Verdict::applied())
}

pub const NOT_THE_MEMBERS_HOUSEHOLD: &str = "该党员不是这户的联系党员（或已迁出），不能代其登记";
const ONLY_ONESELF: &str = "党员账号只能登记本人的走访";

/// The party member a visit counts for: a member's account, itself; a
/// worker's visit on behalf of a member linked to the household, that member;
/// else nobody. A member's visit is not dated before they registered.
async fn counted_for(
    ctx: &OpContext<'_>,
    visit: &VisitInput,
    household_id: &str,
) -> Result<Result<Option<String>, &'static str>, ApiError> {
    let member_id = match (ctx.reach, visit.party_member_id.as_deref()) {
        (None, None) => return Ok(Ok(None)),
        (Some(reach), None) => reach.member_id.clone(),
        (Some(reach), Some(named)) if named == reach.member_id => reach.member_id.clone(),
        (Some(_), Some(_)) => return Ok(Err(ONLY_ONESELF)),
        (None, Some(named)) => {
            let Ok(named) = parse_id(named) else {
                return Ok(Err(BAD_RECORD_ID));
            };
            let linked = ctx.caller.store.party_household_members(household_id).await?;
            if !linked.iter().any(|m| m.member_id == named && m.kind != "building") {
                return Ok(Err(NOT_THE_MEMBERS_HOUSEHOLD));
            }
            named
        }
    };
    let Some(member) = ctx.caller.store.party_member(&member_id).await? else {
        return Ok(Err(NOT_THE_MEMBERS_HOUSEHOLD));
    };
    if visit.visited_at < crate::party::registered_from(&member.registered_on) {
        return Ok(Err(crate::party::BEFORE_REGISTRATION));
    }
    Ok(Ok(Some(member_id)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_concerns_match_the_wire_form() {
        for &concern in app::sync::Concern::ALL {
            assert_eq!(serde_json::to_value(concern).unwrap(), concern.as_str());
        }
    }
}
