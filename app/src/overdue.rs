//! The worker's own overdue list: key-group households past their due day in
//! the grids on this phone, worked out from the phone's copy by the same rule
//! as the leads' coverage page, so it is there in a stairwell with no signal.
//! On a party member's phone: their households against their rank's period.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::phone::local::{MemberDue, OverdueItem};
use crate::ui::{ErrorView, Loading};

/// The page's body, fetched once it runs (`ui::tool`).
pub fn body() -> crate::ui::LazyView {
    crate::ui::tool(crate::ui::Tool::Overdue)
}

/// A member's list, or each grid's overdue households.
type Lists = Result<Result<MemberDue, Vec<(String, Vec<OverdueItem>)>>, ApiError>;

#[cfg(feature = "hydrate")]
async fn load() -> Lists {
    Ok(match crate::phone::local::member_due_list().await? {
        Some(due) => Ok(due),
        None => Err(crate::phone::local::overdue_lists().await?),
    })
}

/// Never rendered on the server (`Deferred`), but compiled there.
#[cfg(not(feature = "hydrate"))]
async fn load() -> Lists {
    Ok(Err(Vec::new()))
}

#[component]
pub(crate) fn OverdueBody() -> impl IntoView {
    let lists = LocalResource::new(load);
    view! {
        <p class="muted small">"按本机同步的数据计算（离线可用），从未走访的排在最前。"</p>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match lists.await {
                    Ok(Ok(due)) => view! { <MemberList due/> }.into_any(),
                    Ok(Err(lists)) => lists.into_iter().map(|(grid, items)| view! {
                        <h2 class="section-title">{grid}" · "{items.len()}"户"</h2>
                        {items.is_empty().then(|| view! { <p class="empty">"没有逾期的重点户。"</p> })}
                        <ul class="list">
                            {items.into_iter().map(|item| view! { <Item item/> }).collect_view()}
                        </ul>
                    }).collect_view().into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A party member's households this period, from the phone's copy.
#[component]
fn MemberList(due: MemberDue) -> impl IntoView {
    let start = crate::domain::CivilDate::from_epoch_ms(due.period_start + crate::policy::BEIJING_OFFSET_MS);
    view! {
        <h2 class="section-title">{format!("本期（{start}起，每{}个月走访一次）", due.cadence_months)}</h2>
        <p class=if due.done { "muted" } else { "late" }>
            {if due.done { "本期已走访联系户。" } else { "本期尚未走访联系户。" }}</p>
        {due.households.is_empty().then(|| view! { <p class="empty">"还没有联系户，请联系社区。"</p> })}
        <ul class="list">
            {due.households.into_iter().map(|(id, label, last)| view! {
                <li><a class="row overdue-item" href=format!("/households/{id}")>
                    <strong class="grow">{label}</strong>
                    <span class="muted small">{match last {
                        Some(at) if at >= due.period_start => "本期已走访".to_owned(),
                        Some(at) => format!("上次 {}", crate::domain::CivilDate::from_epoch_ms(at + crate::policy::BEIJING_OFFSET_MS)),
                        None => "从未走访".to_owned(),
                    }}</span>
                </a></li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn Item(item: OverdueItem) -> impl IntoView {
    let tags: Vec<&str> = item.tags.iter().map(|t| t.label()).collect();
    view! {
        <li>
            <a class="row overdue-item" href=format!("/households/{}", item.household_id)>
                <span class="grow">
                    <strong>{item.label}</strong>
                    <span class="muted small">" · "{tags.join("、")}</span>
                </span>
                <span class="late">{item.status.label()}</span>
            </a>
        </li>
    }
}
