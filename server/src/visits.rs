//! The write rule of a pushed visit (`Change::RecordVisit`).

use app::api::parse_id;
use app::error::ApiError;
use app::sync::{VisitInput, describe};
use store::Tx;
use store::visits::{NewRequest, NewVisit};

use crate::sync::op::{BAD_RECORD_ID, FOREIGN_PHOTO, HOUSEHOLD_OUT_OF_SCOPE, OpContext, Verdict};

/// Visits are append-only facts: the same visit id twice (a re-sent visit under
/// a new op id) keeps the first and reports success.
pub async fn record_visit(tx: &mut Tx, ctx: &OpContext<'_>, visit: &VisitInput) -> Result<Verdict, ApiError> {
    if let Err(errors) = visit.validate(ctx.now) {
        return Ok(Verdict::rejected(describe(&errors)));
    }
    let Ok(household_id) = parse_id(&visit.household_id) else {
        return Ok(Verdict::rejected(HOUSEHOLD_OUT_OF_SCOPE));
    };
    let Some(grid_id) = ctx.household_in_scope(tx, &household_id).await? else {
        return Ok(Verdict::rejected(HOUSEHOLD_OUT_OF_SCOPE));
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
    let photos: Vec<&str> = visit.photos.iter().map(String::as_str).collect();
    if !ctx.may_name_photos(tx, &photos).await? {
        return Ok(Verdict::rejected(FOREIGN_PHOTO));
    }
    for resident_id in &seen {
        if tx.resident_household(resident_id).await?.as_deref() != Some(household_id.as_str()) {
            return Ok(Verdict::rejected("走访记录中的居民不属于该住户"));
        }
    }
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
        requests: visit
            .requests
            .iter()
            .zip(&request_ids)
            .map(|(request, id)| NewRequest {
                id,
                category: request.category.trim(),
                text: request.text.trim(),
            })
            .collect(),
    };
    if tx.insert_visit(&new).await? {
        tx.record_change("visit", &visit_id, &grid_id, ctx.now);
    }
    Ok(Verdict::applied())
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
