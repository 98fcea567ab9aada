//! Recording a visit at the door: two taps for a routine "met, all well" visit,
//! saved on the phone first, synced when the server can be reached.

use leptos::prelude::*;

use crate::domain::{Outcome, VisitType};
use crate::model::HouseholdDetail;
use crate::outbox::{EntryRow, outbox_entries};
use crate::phone::photo_queue::Taken;
use crate::phone::status::use_sync_status;
use crate::photos::PhotoPicker;
use crate::request_list::{FollowUps, Verdict};
use crate::requests::DEFAULT_CATEGORIES;
use crate::sync::{Concern, MAX_VISIT_PHOTOS, RequestRecord};
use crate::ui::{FormOpener, Toggle, toggle};

#[component]
pub fn VisitPanel(household: HouseholdDetail) -> impl IntoView {
    let open = RwSignal::new(false);
    let saved = RwSignal::new(0usize);
    let household_id = household.id.clone();
    view! {
        {move || (saved.get() > 0).then(|| view! {
            <p class="saved-note" role="status">"已保存到本机（"{saved.get()}"条），有信号时自动同步"</p>
        })}
        <FormOpener label="记录走访" class="btn btn-block btn-record" open load=move || {
            let on_done = Callback::new(move |ok| { open.set(false); if ok { saved.update(|n| *n += 1) } });
            Box::pin(visit_form(household.clone(), on_done))
        }/>
        <LocalVisits household_id/>
    }
}

/// The form's code is a separate WASM chunk, fetched on the first tap (and
/// precached by the service worker), so the first page load stays small.
#[lazy]
fn visit_form(household: HouseholdDetail, on_done: Callback<bool>) -> AnyView {
    view! { <VisitForm household on_done=move |ok| on_done.run(ok)/> }.into_any()
}

#[component]
fn VisitForm(household: HouseholdDetail, on_done: impl Fn(bool) + Clone + Send + Sync + 'static) -> impl IntoView {
    let visit_type = RwSignal::new(VisitType::Routine);
    let outcome = RwSignal::new(Outcome::Met);
    let seen: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let concerns: RwSignal<Vec<Concern>> = RwSignal::new(Vec::new());
    let notes = RwSignal::new(String::new());
    // A party member's phone asks for their time at the door (their hours);
    // so does a worker's visit on behalf of a member linked to the household.
    let member = RwSignal::new(false);
    let linked = RwSignal::new(Vec::<crate::sync::LinkedMember>::new());
    let on_behalf = RwSignal::new(None::<String>);
    let hours = RwSignal::new("1".to_owned());
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local({
        let id = household.id.clone();
        async move {
            let own = crate::phone::local::member_duty().await.is_some();
            member.set(own);
            if !own {
                linked.set(crate::phone::local::linked_members(id).await);
            }
        }
    });
    let counts_hours = move || member.get() || on_behalf.get().is_some();
    let request_category = RwSignal::new(DEFAULT_CATEGORIES[0].0.to_string());
    let verdicts: RwSignal<Vec<(RequestRecord, Verdict)>> = RwSignal::new(Vec::new());
    let awaiting = LocalResource::new({
        let id = household.id.clone();
        move || awaiting_follow_up(id.clone())
    });
    let request_text = RwSignal::new(String::new());
    let photos: RwSignal<Vec<Taken>> = RwSignal::new(Vec::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let status = use_sync_status();
    let photo_label = format!("照片 · 走访 · {}", household.label());
    let residents: Vec<(String, String)> = household
        .residents
        .iter()
        .filter(|r| !r.moved_out)
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    let label = household.label();
    let household_id = household.id.clone();

    let save = {
        let on_done = on_done.clone();
        move |_| {
            if saving.get_untracked() {
                return;
            }
            let _ = (&label, &household_id, &on_done, status);
            #[cfg(feature = "hydrate")]
            {
                use crate::clock::{new_id, now_ms};
                use crate::phone::engine::save_changes;
                use crate::sync::{Change, RequestInput, VisitInput};
                let text = request_text.get_untracked();
                let requests = if text.trim().is_empty() {
                    Vec::new()
                } else {
                    vec![RequestInput {
                        id: new_id(),
                        category: request_category.get_untracked(),
                        text,
                    }]
                };
                let visit = VisitInput {
                    id: new_id(),
                    household_id: household_id.clone(),
                    visited_at: now_ms(),
                    visit_type: visit_type.get_untracked(),
                    outcome: outcome.get_untracked(),
                    residents_seen: seen.get_untracked(),
                    concerns: concerns.get_untracked(),
                    notes: notes.get_untracked(),
                    requests,
                    photos: photos.get_untracked().into_iter().map(|p| p.hash).collect(),
                    // Unreadable: 0, which `validate` refuses with the reason.
                    service_minutes: counts_hours()
                        .then(|| crate::sync::service_minutes(&hours.get_untracked()).unwrap_or(0)),
                    party_member_id: on_behalf.get_untracked(),
                };
                if let Err(errors) = visit.validate(now_ms()) {
                    error.set(Some(crate::sync::describe(&errors)));
                    return;
                }
                let answered = verdicts.get_untracked();
                if answered
                    .iter()
                    .any(|(_, v)| v.complete().is_none() && *v != Verdict::default())
                {
                    error.set(Some("回访：请为每条诉求选好“是否解决”和“满意度”".into()));
                    return;
                }
                let follow_ups: Vec<_> = answered
                    .into_iter()
                    .filter_map(|(r, v)| v.complete().map(|f| (r, f)))
                    .collect();
                let label = format!("走访 · {label} · {}", visit.visit_type.label());
                let mut changes = vec![(Change::RecordVisit(visit), label)];
                for (r, f) in &follow_ups {
                    let input = crate::sync::RequestActionInput {
                        request_id: r.id.clone(),
                        action: crate::requests::Action::FollowUp,
                        note: String::new(),
                        photos: Vec::new(),
                        follow_up: Some(*f),
                    };
                    let label = format!("诉求 · 回访 · {}", crate::request_list::short(&r.text));
                    changes.push((Change::RequestAction(input), label));
                }
                saving.set(true);
                let on_done = on_done.clone();
                let household_id = household_id.clone();
                leptos::task::spawn_local(async move {
                    let saved = save_changes(status, changes, household_id).await;
                    // Before the form closes: closing disposes these signals,
                    // and an update queued after that would read a dead one.
                    saving.set(false);
                    match saved {
                        Ok(()) => {
                            for (r, f) in follow_ups {
                                if let Ok(next) =
                                    crate::requests::next_status(r.status, crate::requests::Action::FollowUp, Some(f))
                                {
                                    let _ = crate::phone::requests::keep(&crate::phone::requests::after_action(
                                        r, next, None,
                                    ))
                                    .await;
                                }
                            }
                            on_done(true)
                        }
                        Err(e) => error.set(Some(e)),
                    }
                });
            }
        }
    };
    // Photos taken in a form that is not saved do not go to the server.
    let cancel = move |_| {
        forget_fresh(photos.get_untracked());
        on_done(false)
    };

    view! {
        <section class="card visit-form" aria-label="走访记录">
            <h2 class="form-title">"记录走访"</h2>
            <fieldset>
                <legend>"走访类型"</legend>
                <div class="segmented">
                    {VisitType::ALL.iter().map(|&t| view! {
                        <Toggle label=t.label() on=Signal::derive(move || visit_type.get() == t)
                            toggle=Callback::new(move |()| visit_type.set(t))/>
                    }).collect_view()}
                </div>
            </fieldset>
            <fieldset>
                <legend>"结果"</legend>
                <div class="segmented">
                    {Outcome::ALL.iter().map(|&o| view! {
                        <Toggle label=o.label() on=Signal::derive(move || outcome.get() == o)
                            toggle=Callback::new(move |()| outcome.set(o))/>
                    }).collect_view()}
                </div>
            </fieldset>
            {(!residents.is_empty()).then(|| view! {
                <fieldset>
                    <legend>"见到的居民"</legend>
                    <div class="chips-toggle">
                        {residents.into_iter().map(|(id, name)| {
                            let key = id.clone();
                            view! {
                                <Toggle label=name on=Signal::derive(move || seen.get().contains(&key))
                                    toggle=Callback::new(move |()| seen.update(|s| toggle(s, id.clone())))/>
                            }
                        }).collect_view()}
                    </div>
                </fieldset>
            })}
            <fieldset>
                <legend>"发现的问题"</legend>
                <div class="chips-toggle">
                    {Concern::ALL.iter().map(|&c| view! {
                        <Toggle label=c.label() on=Signal::derive(move || concerns.get().contains(&c))
                            toggle=Callback::new(move |()| concerns.update(|s| toggle(s, c)))/>
                    }).collect_view()}
                </div>
            </fieldset>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let requests = awaiting.await;
                    view! { <FollowUps requests verdicts/> }
                })}
            </Suspense>
            {move || (!linked.get().is_empty()).then(|| view! {
                <label class="field">
                    <span>"代联系党员登记（可选）"</span>
                    <select name="party_member" on:change=move |ev| {
                        on_behalf.set(Some(event_target_value(&ev)).filter(|id| !id.is_empty()))
                    }>
                        <option value="">"不代登记（本人走访）"</option>
                        {linked.get().into_iter().map(|m| view! { <option value=m.id>{m.name}</option> }).collect_view()}
                    </select>
                </label>
            })}
            {move || counts_hours().then(|| view! {
                <label class="field">
                    <span>"服务时长（小时）"</span>
                    <input type="number" inputmode="decimal" min="0.1" max="12" step="0.1" name="hours"
                        prop:value=hours on:input=move |ev| hours.set(event_target_value(&ev))/>
                </label>
            })}
            <label class="field">
                <span>"备注"</span>
                <textarea rows="2" maxlength="2000" prop:value=notes on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
            </label>
            <fieldset>
                <legend>"居民诉求（可选）"</legend>
                <select aria-label="诉求类别" on:change=move |ev| request_category.set(event_target_value(&ev))>
                    {DEFAULT_CATEGORIES.iter().map(|(code, label)| view! { <option value=*code>{*label}</option> }).collect_view()}
                </select>
                <textarea rows="2" maxlength="1000" placeholder="居民反映的问题或需求" aria-label="诉求内容"
                    prop:value=request_text on:input=move |ev| request_text.set(event_target_value(&ev))></textarea>
            </fieldset>
            <fieldset>
                <legend>"照片（可选，最多"{MAX_VISIT_PHOTOS}"张）"</legend>
                <div class="photo-strip">
                    {move || photos.get().into_iter().map(|p| view! {
                        <button type="button" class="photo-remove" aria-label="移除这张照片"
                            on:click={
                                let p = p.clone();
                                move |_| {
                                    photos.update(|list| list.retain(|q| q.hash != p.hash));
                                    forget_fresh(vec![p.clone()]);
                                }
                            }>
                            <img class="photo-thumb" src=p.url.clone() alt="走访照片"/>
                        </button>
                    }).collect_view()}
                </div>
                // Show, not a closure: the picker keeps its warning while photos are added.
                <Show when=move || photos.with(Vec::len) < MAX_VISIT_PHOTOS>
                    <PhotoPicker label=photo_label.clone() on_photo=Callback::new(move |p: Taken| {
                        photos.update(|list| if !list.iter().any(|q| q.hash == p.hash) { list.push(p) })
                    })/>
                </Show>
            </fieldset>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="form-actions">
                <button type="button" class="btn btn-plain" on:click=cancel>"取消"</button>
                <button type="button" class="btn grow-btn" on:click=save disabled=move || saving.get()>"保存"</button>
            </div>
        </section>
    }
}

/// The household's requests waiting for their follow-up, from the phone's copy.
#[cfg(feature = "hydrate")]
async fn awaiting_follow_up(household_id: String) -> Vec<RequestRecord> {
    crate::phone::requests::awaiting_follow_up(household_id)
        .await
        .unwrap_or_default()
}

#[cfg(not(feature = "hydrate"))]
async fn awaiting_follow_up(_: String) -> Vec<RequestRecord> {
    Vec::new()
}

/// Deletes photos this form put on the phone and then dropped, so they are
/// never uploaded.
fn forget_fresh(photos: Vec<Taken>) {
    let _ = &photos;
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        for photo in photos.into_iter().filter(|p| p.fresh) {
            let _ = crate::phone::photo_queue::forget(photo.hash).await;
        }
    });
}

/// Visits saved on this phone and not yet confirmed by the server.
#[component]
fn LocalVisits(household_id: String) -> impl IntoView {
    let entries = outbox_entries(Some(household_id));
    view! {
        {move || (!entries.get().is_empty()).then(|| view! {
            <h2 class="section-title">"本机记录"</h2>
            <ul class="list local-visits">
                {entries.get().into_iter().map(|entry| view! { <EntryRow entry in_household=true/> }).collect_view()}
            </ul>
        })}
    }
}
