//! One resident's record, as much as the worker needs and no more.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::error::ApiError;
use crate::model::{ResidentDetail, days_ago_label};
use crate::ui::{DataPage, PageParts, TagChips};

pub async fn fetch_resident(id: String) -> Result<ResidentDetail, ApiError> {
    let id = crate::api::parse_id(&id)?;
    #[cfg(feature = "ssr")]
    {
        ssr::resident(&crate::api::caller().await?, &id).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        // Offline (or the server unreachable): the phone's own copy.
        match crate::api::get_json(format!("/api/residents/{id}"), vec![]).await {
            Err(ApiError::Network) => crate::phone::local::resident(id).await,
            other => other,
        }
    }
}

#[component]
pub fn ResidentPage() -> impl IntoView {
    let params = use_params_map();
    let resident = Resource::new(move || params.read().get("id").unwrap_or_default(), fetch_resident);
    view! {
        <DataPage resource=resident loading_title="居民" render=|r: ResidentDetail| PageParts {
            title: r.resident.name.clone(),
            back: Some(format!("/households/{}", r.household_id)),
            body: view! { <ResidentBody detail=r/> }.into_any(),
            wide: false,
        }/>
    }
}

#[component]
fn ResidentBody(detail: ResidentDetail) -> impl IntoView {
    let mut edit = detail.clone();
    let conflicts = std::mem::take(&mut edit.conflicts);
    let photo_detail = edit.clone();
    let r = detail.resident;
    view! {
        <section class="card profile">
            <crate::photos::ResidentPhoto detail=photo_detail/>
            <div>
                <h2 class="profile-name">{r.name.clone()}</h2>
                <p class="muted">{r.gender.label()}" · "{r.age}"岁"{r.moved_out.then_some(" · 已迁出")}</p>
                <TagChips tags=r.tags.clone()/>
            </div>
        </section>
        <dl class="fields card">
            <div><dt>"住址"</dt><dd><a href=format!("/households/{}", detail.household_id)>{detail.household_label}</a></dd></div>
            <div><dt>"出生年份"</dt><dd>{detail.birth_year}"年"</dd></div>
            <div><dt>"身份证号"</dt><dd class="idno">{r.id_number_masked.unwrap_or_else(|| "未登记".into())}</dd></div>
            <div><dt>"手机号"</dt><dd>{detail.phone_masked.unwrap_or_else(|| "未登记".into())}</dd></div>
            <div><dt>"户籍类型"</dt><dd>{r.registration_type.label()}</dd></div>
            <div><dt>"上次走访"</dt><dd>{detail.last_visit_days.map(days_ago_label).unwrap_or_else(|| "暂无记录".into())}</dd></div>
        </dl>
        {(!conflicts.is_empty()).then(|| view! {
            <h2 class="section-title">"修改冲突（供网格长核对）"</h2>
            <ul class="list conflicts">
                {conflicts.into_iter().map(|c| view! {
                    <li class="row conflict">
                        <span class="grow">
                            <strong>{c.field.label()}</strong>
                            " 保留「"{c.kept.unwrap_or_else(|| "空".into())}"」，被覆盖「"{c.lost.unwrap_or_else(|| "空".into())}"」"
                            <span class="muted small">" · "{c.by}" · "{days_ago_label((crate::clock::now_ms() - c.at).max(0) / crate::clock::DAY_MS)}</span>
                        </span>
                    </li>
                }).collect_view()}
            </ul>
        })}
        <crate::resident_form::EditResident detail=edit/>
        <p class="muted small privacy">"居民信息属于敏感个人信息，仅限本网格工作使用；每次查看均留有记录。"</p>
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use store::residents::ConflictRow;

    use crate::auth::ssr::Caller;
    use crate::domain::{CivilDate, KeyGroup, Role, mask_phone};
    use crate::error::ApiError;
    use crate::households::ssr::{birth_year, resident_summary};
    use crate::model::{ConflictEntry, ResidentDetail};
    use crate::state::{DAY_MS, now_ms};
    use crate::sync::ResidentField;

    /// Earlier photos offered on the resident page.
    const PHOTO_HISTORY: i64 = 20;
    /// Conflicting edits shown to a lead.
    const CONFLICTS: i64 = 50;

    pub async fn resident(caller: &Caller, id: &str) -> Result<ResidentDetail, ApiError> {
        let row = caller.store.resident(id).await?.ok_or_else(ApiError::not_found)?;
        let home = caller
            .store
            .household_heading(&row.household_id)
            .await?
            .ok_or(ApiError::Internal)?;
        caller
            .require_household((&home.grid_id, &row.household_id), "resident", id)
            .await?;

        let mut tags: Vec<KeyGroup> = caller
            .store
            .resident_tags(id)
            .await?
            .iter()
            .filter_map(|t| KeyGroup::parse(t))
            .collect();
        tags.sort();
        let now = now_ms();
        let last_visit = caller.store.last_visit(&row.household_id).await?;
        let summary = resident_summary(&row, tags, CivilDate::from_epoch_ms(now))?;
        // Every photo ever set, newest first: the first is the current one
        // unless a later edit removed it (then `residents.photo` is empty).
        let photo_history = caller
            .store
            .resident_photo_history(id, PHOTO_HISTORY)
            .await?
            .into_iter()
            .filter(|h| Some(h) != row.photo.as_ref())
            .collect();
        caller.audit("read", "resident", id).await?;
        Ok(ResidentDetail {
            resident: summary,
            birth_year: birth_year(&row)?,
            phone_masked: row.phone.as_deref().map(mask_phone),
            household_label: format!("{}{}单元{}", home.building_name, home.unit, home.door_number),
            household_id: row.household_id,
            last_visit_days: last_visit.map(|at| (now - at).max(0) / DAY_MS),
            photo: row.photo,
            photo_history,
            conflicts: if caller.user.role == Role::Worker {
                Vec::new()
            } else {
                conflicts(caller, id).await?
            },
        })
    }

    /// The overwritten values of this resident, newest first, masked as the
    /// record itself is.
    async fn conflicts(caller: &Caller, id: &str) -> Result<Vec<ConflictEntry>, ApiError> {
        let rows = caller.store.resident_conflicts(id, CONFLICTS).await?;
        Ok(rows.into_iter().filter_map(conflict_entry).collect())
    }

    /// In history a `server` winner means the incoming value lost, `incoming`
    /// that it won. `None`: a field this version does not know. Values shown
    /// as the record shows them (a birth date as its year).
    fn conflict_entry(row: ConflictRow) -> Option<ConflictEntry> {
        let field = ResidentField::parse(&row.field)?;
        let mask = |v: Option<String>| v.map(|v| field.shown(&v));
        let (kept, lost) = if row.winner == "server" {
            (row.old_value, row.new_value)
        } else {
            (row.new_value, row.old_value)
        };
        Some(ConflictEntry {
            field,
            kept: mask(kept),
            lost: mask(lost),
            by: row.by_name,
            at: row.at,
        })
    }
}
