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
            Err(ApiError::Network) => crate::local::household(id).await,
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

    use crate::auth::ssr::Caller;
    use crate::domain::{CivilDate, Gender, KeyGroup, Outcome, RegistrationType, VisitType, mask_id_number};
    use crate::error::ApiError;
    use crate::model::{HouseholdDetail, ResidentSummary, VisitSummary};
    use crate::state::{DAY_MS, now_ms};

    #[derive(sqlx::FromRow)]
    struct HouseholdRow {
        id: String,
        building_id: String,
        building_name: String,
        grid_id: String,
        grid_name: String,
        unit: i64,
        floor: i64,
        door_number: String,
    }

    #[derive(sqlx::FromRow)]
    pub(crate) struct ResidentRow {
        pub id: String,
        pub household_id: String,
        pub name: String,
        pub gender: String,
        pub birth_date: String,
        pub id_number: Option<String>,
        pub phone: Option<String>,
        pub registration_type: String,
        pub moved_out: i64,
    }

    pub(crate) const RESIDENT_COLUMNS: &str =
        "r.id, r.household_id, r.name, r.gender, r.birth_date, r.id_number, r.phone, r.registration_type, r.moved_out";

    /// A row that breaks the schema's CHECKs can only come from a bug; log it.
    fn corrupt(what: &str, value: &str) -> ApiError {
        tracing::error!(%what, %value, "unexpected value in database");
        ApiError::Internal
    }

    impl ResidentRow {
        pub(crate) fn summary(&self, tags: Vec<KeyGroup>, today: CivilDate) -> Result<ResidentSummary, ApiError> {
            let birth = CivilDate::parse(&self.birth_date).ok_or_else(|| corrupt("birth_date", &self.birth_date))?;
            Ok(ResidentSummary {
                id: self.id.clone(),
                name: self.name.clone(),
                gender: Gender::parse(&self.gender).ok_or_else(|| corrupt("gender", &self.gender))?,
                age: birth.age_on(today),
                registration_type: RegistrationType::parse(&self.registration_type)
                    .ok_or_else(|| corrupt("registration_type", &self.registration_type))?,
                tags,
                id_number_masked: self.id_number.as_deref().map(mask_id_number),
                moved_out: self.moved_out != 0,
            })
        }
    }

    pub async fn household(caller: &Caller, id: &str) -> Result<HouseholdDetail, ApiError> {
        let row: HouseholdRow = sqlx::query_as(
            "SELECT h.id, h.building_id, b.name AS building_name, b.grid_id, g.name AS grid_name,
                    h.unit, h.floor, h.door_number
             FROM households h JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
             WHERE h.id = $1",
        )
        .bind(id)
        .fetch_optional(&caller.pool)
        .await?
        .ok_or_else(ApiError::not_found)?;
        caller.require_grid(&row.grid_id, "household", id).await?;

        let residents: Vec<ResidentRow> = sqlx::query_as(&format!(
            "SELECT {RESIDENT_COLUMNS} FROM residents r WHERE r.household_id = $1
             ORDER BY r.moved_out, r.birth_date, r.id"
        ))
        .bind(id)
        .fetch_all(&caller.pool)
        .await?;
        let mut tags: HashMap<String, Vec<KeyGroup>> = HashMap::new();
        let tag_rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT t.resident_id, t.tag FROM resident_tags t JOIN residents r ON r.id = t.resident_id
             WHERE r.household_id = $1",
        )
        .bind(id)
        .fetch_all(&caller.pool)
        .await?;
        for (resident_id, tag) in tag_rows {
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
                r.summary(tags, today)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let visits = recent_visits(caller, id, now).await?;
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

    async fn recent_visits(caller: &Caller, household_id: &str, now: i64) -> Result<Vec<VisitSummary>, ApiError> {
        type Row = (String, i64, String, String, String, String, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT v.id, v.visited_at, v.visit_type, v.outcome, u.display_name, v.notes,
                    (SELECT group_concat(photo) FROM
                        (SELECT photo FROM visit_photos WHERE visit_id = v.id ORDER BY position)) AS photos
             FROM visits v JOIN users u ON u.id = v.worker_id
             WHERE v.household_id = $1 ORDER BY v.visited_at DESC LIMIT 10",
        )
        .bind(household_id)
        .fetch_all(&caller.pool)
        .await?;
        rows.into_iter()
            .map(|(id, visited_at, visit_type, outcome, worker_name, notes, photos)| {
                Ok(VisitSummary {
                    id,
                    visited_at,
                    days_ago: (now - visited_at).max(0) / DAY_MS,
                    visit_type: VisitType::parse(&visit_type).ok_or_else(|| corrupt("visit_type", &visit_type))?,
                    outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
                    worker_name,
                    notes,
                    photos: photos
                        .map(|p| p.split(',').map(str::to_owned).collect())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}
