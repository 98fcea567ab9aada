//! The worker's own overdue list: key-group households past their due day in
//! the grids on this phone, worked out from the phone's copy by the same rule
//! as the leads' coverage page, so it is there in a stairwell with no signal.

use leptos::prelude::*;

use crate::error::ApiError;
use crate::phone::local::OverdueItem;
use crate::ui::{ErrorView, Loading};

/// The page's body, a WASM chunk (see `ui::PhonePage`).
pub fn body() -> crate::ui::LazyView {
    Box::pin(overdue_body())
}

#[lazy]
fn overdue_body() -> AnyView {
    view! { <OverdueBody/> }.into_any()
}

#[cfg(feature = "hydrate")]
async fn load() -> Result<Vec<(String, Vec<OverdueItem>)>, ApiError> {
    crate::phone::local::overdue_lists().await
}

/// Never rendered on the server (`Deferred`), but compiled there.
#[cfg(not(feature = "hydrate"))]
async fn load() -> Result<Vec<(String, Vec<OverdueItem>)>, ApiError> {
    Ok(Vec::new())
}

#[component]
fn OverdueBody() -> impl IntoView {
    let lists = LocalResource::new(load);
    view! {
        <p class="muted small">"按本机同步的数据计算（离线可用），从未走访的排在最前。"</p>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match lists.await {
                    Ok(lists) => lists.into_iter().map(|(grid, items)| view! {
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
