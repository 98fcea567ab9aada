//! One household: who lives there (ID numbers masked) and the recent visits.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::error::ApiError;
use crate::model::{HouseholdDetail, ResidentSummary, VisitSummary, days_ago_label};
use crate::resident_form::{AddResident, MoveOutHousehold};
use crate::ui::{DataPage, PageParts, escape_html};

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
            view! { <ul class="list residents" inner_html=residents_html(&household.residents)></ul> }.into_any()
        }}
        <h2 class="section-title">"走访记录"</h2>
        {if household.visits.is_empty() {
            view! { <p class="empty">"还没有走访记录。"</p> }.into_any()
        } else {
            view! { <ul class="list visits" inner_html=visits_html(&household.visits)></ul> }.into_any()
        }}
    }
}

/// The residents as one piece of HTML. The rows are links and text that
/// never change on the page, so hydration adopts the list as one node instead
/// of walking every row's elements (on a cheap phone, a large part of the
/// page's first hydration). Names and ID numbers are what people typed.
fn residents_html(residents: &[ResidentSummary]) -> String {
    let mut html = String::new();
    for r in residents {
        let moved_out = if r.moved_out { " moved-out" } else { "" };
        let initial = r
            .name
            .chars()
            .next()
            .map(|c| escape_html(&c.to_string()))
            .unwrap_or_default();
        let id_number = r.id_number_masked.as_deref().unwrap_or("未登记身份证");
        let chips: String = r
            .tags
            .iter()
            .map(|t| format!(r#"<span class="chip chip-key">{}</span>"#, t.label()))
            .collect();
        html.push_str(&format!(
            r#"<li><a class="row resident{moved_out}" href="/residents/{id}"><span class="avatar" aria-hidden="true">{initial}</span><span class="grow"><span class="name">{name}</span><span class="muted small"> {gender} · {age}岁 · {registration}{moved_note}</span><span class="idno small">{id_number}</span><span class="chips">{chips}</span></span></a></li>"#,
            id = escape_html(&r.id),
            name = escape_html(&r.name),
            gender = r.gender.label(),
            age = r.age,
            registration = r.registration_type.label(),
            moved_note = if r.moved_out { " · 已迁出" } else { "" },
            id_number = escape_html(id_number),
        ));
    }
    html
}

/// The recent visits as one piece of HTML, for the same reason; notes and
/// names are what people typed.
fn visits_html(visits: &[VisitSummary]) -> String {
    let mut html = String::new();
    for v in visits {
        let notes = if v.notes.is_empty() {
            String::new()
        } else {
            format!(r#"<span class="small notes">{}</span>"#, escape_html(&v.notes))
        };
        let photos = if v.photos.is_empty() {
            String::new()
        } else {
            // As `PhotoImg` draws them: offline the service worker answers with the phone's copy.
            let thumbs: String = v
                .photos
                .iter()
                .map(|h| {
                    format!(
                        r#"<img class="photo-thumb" src="/api/photos/{}/thumb" alt="照片" loading="lazy">"#,
                        escape_html(h)
                    )
                })
                .collect();
            format!(r#"<span class="photo-strip">{thumbs}</span>"#)
        };
        html.push_str(&format!(
            r#"<li class="row visit"><span class="grow"><strong>{kind}</strong><span class="muted small"> · {outcome} · {worker}</span>{notes}{photos}</span><span class="muted small">{when}</span></li>"#,
            kind = v.visit_type.label(),
            outcome = v.outcome.label(),
            worker = escape_html(&v.worker_name),
            when = days_ago_label(v.days_ago),
        ));
    }
    html
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Gender, KeyGroup, Outcome, RegistrationType, VisitType};

    #[test]
    fn typed_names_and_notes_cannot_write_markup_into_the_household_page() {
        let resident = ResidentSummary {
            id: "r1".into(),
            name: "<b>张三".into(),
            gender: Gender::Male,
            age: 70,
            registration_type: RegistrationType::Registered,
            tags: vec![KeyGroup::ElderlyAlone],
            id_number_masked: None,
            moved_out: true,
        };
        let html = residents_html(&[resident]);
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.starts_with(r#"<li><a class="row resident moved-out" href="/residents/r1"><span class="avatar" aria-hidden="true">&lt;</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span class="name">&lt;b&gt;张三</span>"#), "{html}");
        assert!(html.contains("未登记身份证") && html.contains(" · 已迁出"), "{html}");
        assert!(html.contains(r#"<span class="chip chip-key">"#), "{html}");

        let visit = VisitSummary {
            id: "v1".into(),
            visited_at: 0,
            days_ago: 3,
            visit_type: VisitType::Routine,
            outcome: Outcome::Met,
            worker_name: "王芳".into(),
            notes: r#"门口有"<script>""#.into(),
            photos: vec!["abc".into()],
        };
        let html = visits_html(&[visit]);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("门口有&quot;&lt;script&gt;&quot;"), "{html}");
        assert!(html.contains(r#"src="/api/photos/abc/thumb""#), "{html}");
        assert!(html.contains("3天前"), "{html}");
    }
}
