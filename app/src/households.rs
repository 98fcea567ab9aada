//! One household: who lives there (ID numbers masked) and the recent visits.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::error::ApiError;
use crate::model::{HouseholdDetail, ResidentSummary, VisitSummary, days_ago_label};
use crate::resident_form::{AddResident, MoveOutHousehold};
use crate::ui::{DataPage, PageParts, TagChips};

pub async fn fetch_household(id: String) -> Result<HouseholdDetail, ApiError> {
    let id = crate::api::parse_id(&id)?;
    #[cfg(feature = "ssr")]
    {
        ssr::household(&crate::api::caller().await?, &id).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        // Offline (or the server unreachable): the phone's own copy.
        match crate::api::get_json(format!("/api/households/{id}"), vec![]).await {
            Err(ApiError::Network) => crate::phone::local::household(id).await,
            other => other,
        }
    }
}

#[component]
pub fn HouseholdPage() -> impl IntoView {
    let params = use_params_map();
    let household = Resource::new(move || params.read().get("id").unwrap_or_default(), fetch_household);
    view! {
        <DataPage resource=household loading_title="住户" render=|h: HouseholdDetail| PageParts {
            title: h.label(),
            back: Some(format!("/buildings/{}", h.building_id)),
            body: view! { <HouseholdBody household=h/> }.into_any(),
            wide: false,
        }/>
    }
}

#[component]
fn HouseholdBody(household: HouseholdDetail) -> impl IntoView {
    let last = household.visits.first().map(|v| days_ago_label(v.days_ago));
    let living = household.residents.iter().filter(|r| !r.moved_out).count();
    view! {
        <section class="card summary">
            <p class="muted small">{household.grid_name.clone()}" · "{household.floor}"层"</p>
            <p>
                <strong>{living}" 人在住"</strong>
                " · 上次走访："{last.unwrap_or_else(|| "暂无记录".into())}
            </p>
        </section>
        <crate::visits::VisitPanel household=household.clone()/>
        <h2 class="section-title">"居民"</h2>
        {
            let living = household.residents.iter().filter(|r| !r.moved_out).map(|r| (r.id.clone(), r.name.clone())).collect();
            view! {
                <AddResident household_id=household.id.clone()/>
                <MoveOutHousehold household_id=household.id.clone() residents=living/>
            }
        }
        {if household.residents.is_empty() {
            view! { <p class="empty">"暂无居民信息（空置或待登记）。"</p> }.into_any()
        } else {
            view! {
                <ul class="list residents">
                    {household.residents.into_iter().map(|r| view! { <ResidentRow resident=r/> }).collect_view()}
                </ul>
            }.into_any()
        }}
        <h2 class="section-title">"走访记录"</h2>
        {if household.visits.is_empty() {
            view! { <p class="empty">"还没有走访记录。"</p> }.into_any()
        } else {
            view! {
                <ul class="list visits">
                    {household.visits.into_iter().map(|v| view! { <VisitRow visit=v/> }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

#[component]
fn ResidentRow(resident: ResidentSummary) -> impl IntoView {
    let class = if resident.moved_out {
        "row resident moved-out"
    } else {
        "row resident"
    };
    view! {
        <li>
            <a class=class href=format!("/residents/{}", resident.id)>
                <span class="avatar" aria-hidden="true">{resident.name.chars().next().map(String::from)}</span>
                <span class="grow">
                    <span class="name">{resident.name.clone()}</span>
                    <span class="muted small">
                        " "{resident.gender.label()}" · "{resident.age}"岁 · "{resident.registration_type.label()}
                        {resident.moved_out.then_some(" · 已迁出")}
                    </span>
                    <span class="idno small">{resident.id_number_masked.clone().unwrap_or_else(|| "未登记身份证".into())}</span>
                    <TagChips tags=resident.tags.clone()/>
                </span>
            </a>
        </li>
    }
}

#[component]
fn VisitRow(visit: VisitSummary) -> impl IntoView {
    view! {
        <li class="row visit">
            <span class="grow">
                <strong>{visit.visit_type.label()}</strong>
                <span class="muted small">" · "{visit.outcome.label()}" · "{visit.worker_name}</span>
                {(!visit.notes.is_empty()).then(|| view! { <span class="small notes">{visit.notes.clone()}</span> })}
                {(!visit.photos.is_empty()).then(|| view! {
                    <span class="photo-strip">
                        {visit.photos.iter().map(|h| view! { <crate::photos::PhotoImg hash=h.clone() class="photo-thumb"/> }).collect_view()}
                    </span>
                })}
            </span>
            <span class="muted small">{days_ago_label(visit.days_ago)}</span>
        </li>
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::collections::HashMap;

    use store::households::RecentVisitRow;
    use store::residents::ResidentRow;

    use crate::auth::ssr::Caller;
    use crate::domain::{
        CivilDate, Gender, KeyGroup, Outcome, RegistrationType, VisitType, age_this_year, mask_id_number,
    };
    use crate::error::ApiError;
    use crate::model::{HouseholdDetail, ResidentSummary, VisitSummary};
    use crate::state::{DAY_MS, now_ms};

    /// Visits shown on a household page, newest first.
    const RECENT_VISITS: i64 = 10;

    /// A row that breaks the schema's CHECKs can only come from a bug; log it.
    fn corrupt(what: &str, value: &str) -> ApiError {
        tracing::error!(%what, %value, "unexpected value in database");
        ApiError::Internal
    }

    /// The year of a stored birth date, all of it that leaves the server.
    pub(crate) fn birth_year(row: &ResidentRow) -> Result<i32, ApiError> {
        CivilDate::parse(&row.birth_date)
            .map(CivilDate::year)
            .ok_or_else(|| corrupt("birth_date", &row.birth_date))
    }

    /// A resident as the pages list them: ID number masked, age from the birth
    /// year (as the phone works it out offline).
    pub(crate) fn resident_summary(
        row: &ResidentRow,
        tags: Vec<KeyGroup>,
        today: CivilDate,
    ) -> Result<ResidentSummary, ApiError> {
        Ok(ResidentSummary {
            id: row.id.clone(),
            name: row.name.clone(),
            gender: Gender::parse(&row.gender).ok_or_else(|| corrupt("gender", &row.gender))?,
            age: age_this_year(birth_year(row)?, today),
            registration_type: RegistrationType::parse(&row.registration_type)
                .ok_or_else(|| corrupt("registration_type", &row.registration_type))?,
            tags,
            id_number_masked: row.id_number.as_deref().map(mask_id_number),
            moved_out: row.moved_out,
        })
    }

    pub async fn household(caller: &Caller, id: &str) -> Result<HouseholdDetail, ApiError> {
        let row = caller
            .store
            .household_heading(id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        caller.require_household((&row.grid_id, id), "household", id).await?;

        let residents = caller.store.household_residents(id).await?;
        let mut tags: HashMap<String, Vec<KeyGroup>> = HashMap::new();
        for (resident_id, tag) in caller.store.household_resident_tags(id).await? {
            tags.entry(resident_id)
                .or_default()
                .push(KeyGroup::parse(&tag).ok_or_else(|| corrupt("tag", &tag))?);
        }
        let now = now_ms();
        let today = CivilDate::from_epoch_ms(now);
        let residents = residents
            .iter()
            .map(|r| {
                let mut tags = tags.remove(&r.id).unwrap_or_default();
                tags.sort();
                resident_summary(r, tags, today)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let visits = caller
            .store
            .recent_visits(id, RECENT_VISITS)
            .await?
            .into_iter()
            .map(|v| visit_summary(v, now))
            .collect::<Result<Vec<_>, _>>()?;
        caller.audit("read", "household", id).await?;
        Ok(HouseholdDetail {
            id: row.id,
            building_id: row.building_id,
            building_name: row.building_name,
            grid_name: row.grid_name,
            unit: row.unit,
            floor: row.floor,
            door_number: row.door_number,
            residents,
            visits,
        })
    }

    fn visit_summary(row: RecentVisitRow, now: i64) -> Result<VisitSummary, ApiError> {
        Ok(VisitSummary {
            days_ago: (now - row.visited_at).max(0) / DAY_MS,
            visit_type: VisitType::parse(&row.visit_type).ok_or_else(|| corrupt("visit_type", &row.visit_type))?,
            outcome: Outcome::parse(&row.outcome).ok_or_else(|| corrupt("outcome", &row.outcome))?,
            id: row.id,
            visited_at: row.visited_at,
            worker_name: row.worker_name,
            notes: row.notes,
            photos: row.photos,
        })
    }
}
