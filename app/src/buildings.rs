//! A building as the worker walks it: floors top to bottom, units left to right,
//! each household a cell coloured by its visit status under the visit policy
//! (visited / due soon / overdue / never visited).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::error::ApiError;
use crate::model::{BuildingDetail, HouseholdCell};
use crate::ui::{DataPage, PageParts, escape_html};

pub async fn fetch_building(id: String) -> Result<BuildingDetail, ApiError> {
    let id = crate::api::parse_id(&id)?;
    #[cfg(feature = "ssr")]
    {
        ssr::building(&crate::api::caller().await?, &id).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        // Offline (or the server unreachable): the phone's own copy.
        match crate::api::get_json(format!("/api/buildings/{id}"), vec![]).await {
            Err(ApiError::Network) => crate::phone::local::building(id).await,
            other => other,
        }
    }
}

#[component]
pub fn BuildingPage() -> impl IntoView {
    let params = use_params_map();
    let building = Resource::new(move || params.read().get("id").unwrap_or_default(), fetch_building);
    view! {
        <DataPage resource=building loading_title="楼栋" render=|b: BuildingDetail| PageParts {
            title: b.name.clone(),
            back: Some(format!("/grids/{}", b.grid_id)),
            body: view! { <Matrix building=b/> }.into_any(),
            wide: true,
        }/>
    }
}

#[component]
fn Matrix(building: BuildingDetail) -> impl IntoView {
    let BuildingDetail {
        address,
        units,
        floors,
        households,
        ..
    } = building;
    let total = households.len();
    let mut by_floor: BTreeMap<i64, BTreeMap<i64, Vec<HouseholdCell>>> = BTreeMap::new();
    for cell in households {
        by_floor
            .entry(cell.floor)
            .or_default()
            .entry(cell.unit)
            .or_default()
            .push(cell);
    }
    // The matrix is links only and never changes on the page: it is written
    // as one piece of HTML, so hydrating a building of a hundred homes or more
    // does not walk each of their elements on the phone's main thread.
    let mut table = String::from("<thead><tr><th></th>");
    for unit in 1..=units {
        table.push_str(&format!(r#"<th scope="col">{unit}单元</th>"#));
    }
    table.push_str("</tr></thead><tbody>");
    for (floor, by_unit) in by_floor.into_iter().rev() {
        table.push_str(&format!(r#"<tr><th scope="row" class="floor">{floor}层</th>"#));
        for unit in 1..=units {
            table.push_str(r#"<td class="unit-cells">"#);
            for cell in by_unit.get(&unit).into_iter().flatten() {
                push_cell(&mut table, cell);
            }
            table.push_str("</td>");
        }
        table.push_str("</tr>");
    }
    table.push_str("</tbody>");
    view! {
        <p class="muted small">{address}" · "{floors}"层 · "{total}"户"</p>
        <Legend/>
        <div class="matrix-scroll">
            <table class="matrix" inner_html=table></table>
        </div>
    }
}

/// One household's link in the matrix.
fn push_cell(html: &mut String, cell: &HouseholdCell) {
    let vacant = if cell.residents == 0 { " vacant" } else { "" };
    // A door number is what a worker typed.
    let door = escape_html(&cell.door_number);
    let seen = match cell.last_visit_days {
        Some(days) => crate::model::days_ago_label(days),
        None => "未走访".into(),
    };
    let key = if cell.key_group {
        r#"<span class="key-mark" title="重点户">★</span>"#
    } else {
        ""
    };
    html.push_str(&format!(
        r#"<a class="cell {status}{vacant}" href="/households/{id}" aria-label="{door}，{residents}人，{seen}"><span class="door">{door}</span><span class="cell-meta">{residents}人{key}</span></a>"#,
        status = escape_html(&cell.status),
        id = escape_html(&cell.id),
        residents = cell.residents,
    ));
}

#[component]
fn Legend() -> impl IntoView {
    view! {
        <ul class="legend">
            <li><span class="swatch covered"></span>"按时走访"</li>
            <li><span class="swatch due-soon"></span>"3天内到期"</li>
            <li><span class="swatch overdue"></span>"逾期"</li>
            <li><span class="swatch never"></span>"未走访"</li>
            <li><span class="key-mark">"★"</span>"重点户"</li>
        </ul>
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::collections::HashMap;

    use crate::auth::ssr::Caller;
    use crate::domain::KeyGroup;
    use crate::error::ApiError;
    use crate::model::{BuildingDetail, HouseholdCell};
    use crate::policy::{Policy, cadence, status};
    use crate::state::{DAY_MS, now_ms};

    pub async fn building(caller: &Caller, id: &str) -> Result<BuildingDetail, ApiError> {
        let row = caller.store.building(id).await?.ok_or_else(ApiError::not_found)?;
        caller.require_grid(&row.grid_id, "building", id).await?;
        let reach = caller.reach().await?;
        if reach.as_ref().is_some_and(|r| !r.has_building(id)) {
            caller.audit("denied", "building", id).await?;
            return Err(ApiError::not_found());
        }
        let now = now_ms();
        let policies = crate::policy::ssr::policies(&caller.store).await?;
        let mut tags: HashMap<String, Vec<KeyGroup>> = HashMap::new();
        for (household, tag) in caller.store.living_tags_in_building(id).await? {
            tags.entry(household).or_default().extend(KeyGroup::parse(&tag));
        }
        let households = caller
            .store
            .door_cells(id)
            .await?
            .into_iter()
            // A party member sees the doors of their linked households.
            .filter(|cell| reach.as_ref().is_none_or(|r| r.has_household(&cell.id)))
            .map(|cell| {
                let tags = tags.remove(&cell.id).unwrap_or_default();
                household_cell(cell, &policies, tags, now)
            })
            .collect();
        Ok(BuildingDetail {
            id: row.id,
            grid_id: row.grid_id,
            grid_name: row.grid_name,
            name: row.name,
            address: row.address,
            units: row.units,
            floors: row.floors,
            doors_per_floor: row.doors_per_floor,
            households,
        })
    }

    /// A door coloured by its visit status under the cadence of its residents' tags.
    fn household_cell(
        cell: store::households::DoorCellRow,
        policies: &[Policy],
        tags: Vec<KeyGroup>,
        now: i64,
    ) -> HouseholdCell {
        HouseholdCell {
            status: status(cell.last_visit, cadence(policies, tags), now).css().to_owned(),
            id: cell.id,
            unit: cell.unit,
            floor: cell.floor,
            door_number: cell.door_number,
            residents: cell.residents,
            key_group: cell.key_group,
            last_visit_days: cell.last_visit.map(|at| (now - at).max(0) / DAY_MS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_door_number_cannot_write_markup_into_the_matrix() {
        let cell = HouseholdCell {
            id: "h1".into(),
            unit: 1,
            floor: 5,
            door_number: r#"502"><script>alert('x')</script>&"#.into(),
            residents: 0,
            key_group: true,
            last_visit_days: None,
            status: "never".into(),
        };
        let mut html = String::new();
        push_cell(&mut html, &cell);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("502&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"),
            "{html}"
        );
        assert!(
            html.starts_with(r#"<a class="cell never vacant" href="/households/h1""#),
            "{html}"
        );
        assert!(html.contains("，0人，未走访"), "{html}");
        assert!(
            html.contains(r#"<span class="key-mark" title="重点户">★</span>"#),
            "{html}"
        );
    }
}
