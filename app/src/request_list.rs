//! The worker's requests (诉求) on the phone, offline: what waits (overdue
//! first), a progress note, start, resolve, a patrol's report with photos, the
//! one-time rating QR code, and the follow-up at the door (offered inside the
//! visit form). Everything is an outbox operation, saved on the phone first;
//! the page is a WASM chunk fetched once it runs.

use leptos::prelude::*;

use crate::phone::photo_queue::Taken;
use crate::phone::requests::{RequestItem, RequestList};
use crate::photos::PhotoPicker;
use crate::requests::{Action, FollowUp, RequestStatus, Satisfaction, Source, next_status};
use crate::sync::RequestRecord;
use crate::ui::Toggle;
use crate::ui::{ErrorView, Loading};

/// The page's body, fetched once it runs (`ui::tool`).
pub fn body() -> crate::ui::LazyView {
    crate::ui::tool(crate::ui::Tool::Requests)
}

#[cfg(feature = "hydrate")]
async fn load() -> Result<RequestList, crate::error::ApiError> {
    crate::phone::requests::request_list().await
}

/// Never rendered on the server (`Deferred`), but compiled there.
#[cfg(not(feature = "hydrate"))]
async fn load() -> Result<RequestList, crate::error::ApiError> {
    Ok(RequestList::default())
}

/// "12-10": a deadline's last day, Beijing time.
fn due_day(due: i64) -> String {
    let date = crate::domain::CivilDate::from_epoch_ms(due - 1 + crate::policy::BEIJING_OFFSET_MS).to_string();
    date[5..].to_owned()
}

#[component]
pub(crate) fn RequestsBody() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        version.track();
        load()
    });
    let reporting = RwSignal::new(false);
    let changed = Callback::new(move |()| version.update(|v| *v += 1));
    view! {
        <p class="muted small">"本机同步的诉求（离线可用）。办理、办结、回访都先存本机，有信号时自动同步。"</p>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => {
                        let RequestList { items, categories, buildings } = list;
                        let (open, rest): (Vec<_>, Vec<_>) = items.into_iter().partition(|i| i.record.status.is_open());
                        let (waiting, done): (Vec<_>, Vec<_>) =
                            rest.into_iter().partition(|i| i.record.status == RequestStatus::Resolved);
                        view! {
                            <Show when=move || reporting.get() fallback=move || view! {
                                <button class="btn btn-block" on:click=move |_| reporting.set(true)>"上报问题 / 登记诉求"</button>
                            }>
                                <RaiseForm categories=categories.clone() buildings=buildings.clone()
                                    done=Callback::new(move |saved: bool| { reporting.set(false); if saved { changed.run(()) } })/>
                            </Show>
                            <Section title="待办理" items=open changed/>
                            <Section title="待回访" items=waiting changed/>
                            <Section title="已办结" items=done.into_iter().take(30).collect() changed/>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Section(title: &'static str, items: Vec<RequestItem>, changed: Callback<()>) -> impl IntoView {
    view! {
        <h2 class="section-title">{title}" · "{items.len()}</h2>
        {items.is_empty().then(|| view! { <p class="empty">"没有。"</p> })}
        <ul class="list requests">
            {items.into_iter().map(|item| view! { <Card item changed/> }).collect_view()}
        </ul>
    }
}

/// Which form a card has open.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    None,
    Note,
    Resolve,
    Qr,
}

#[component]
fn Card(item: RequestItem, changed: Callback<()>) -> impl IntoView {
    let open = RwSignal::new(Open::None);
    let r = item.record.clone();
    let status = r.status;
    let can = move |a: Action| next_status(status, a, None).is_ok();
    let record = StoredValue::new(r.clone());
    view! {
        <li class="card request">
            <p class="row">
                <strong class="grow">{item.category.clone()}" · "{status.label()}</strong>
                {item.overdue.then(|| view! { <span class="late">"逾期"</span> })}
            </p>
            <p>{r.text.clone()}</p>
            <p class="muted small">
                {item.place.clone()}
                {status.is_open().then(|| format!(" · 办结期限 {}", due_day(r.resolve_due)))}
                {r.assignee.clone().map(|a| format!(" · 承办：{a}"))}
                {(r.reopen_count > 0).then(|| format!(" · 重新办理{}次", r.reopen_count))}
            </p>
            {r.resolution.clone().map(|t| view! { <p class="small">"办理结果："{t}</p> })}
            <div class="row">
                {can(Action::Start).then(|| view! {
                    <button class="btn btn-small" on:click=move |_| act(record.get_value(), Action::Start, String::new(), Vec::new(), None, changed)>"开始办理"</button>
                })}
                {can(Action::Note).then(|| view! {
                    <button class="btn btn-small btn-plain" on:click=move |_| open.set(Open::Note)>"记录进展"</button>
                })}
                {can(Action::Resolve).then(|| view! {
                    <button class="btn btn-small btn-plain" on:click=move |_| open.set(Open::Resolve)>"办结"</button>
                })}
                {matches!(status, RequestStatus::Resolved | RequestStatus::FollowedUp).then(|| view! {
                    <button class="btn btn-small btn-plain" on:click=move |_| open.set(Open::Qr)>"评价二维码"</button>
                })}
            </div>
            {move || match open.get() {
                Open::None => ().into_any(),
                Open::Note => view! { <TextAction record=record.get_value() action=Action::Note open changed/> }.into_any(),
                Open::Resolve => view! { <TextAction record=record.get_value() action=Action::Resolve open changed/> }.into_any(),
                Open::Qr => view! { <RatingCode record=record.get_value() open/> }.into_any(),
            }}
        </li>
    }
}

/// A note or a resolution: what was done, in the worker's words.
#[component]
fn TextAction(record: RequestRecord, action: Action, open: RwSignal<Open>, changed: Callback<()>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let photos: RwSignal<Vec<Taken>> = RwSignal::new(Vec::new());
    let error = RwSignal::new(None::<String>);
    let placeholder = if action == Action::Resolve {
        "办理结果：做了什么（居民会看到）"
    } else {
        "办理进展"
    };
    let save = move |_| {
        let what = if action == Action::Resolve {
            "办理结果"
        } else {
            "办理进展"
        };
        if let Err(e) = crate::requests::check_text(&text.get_untracked(), what) {
            error.set(Some(e));
            return;
        }
        let hashes = photos.get_untracked().into_iter().map(|p| p.hash).collect();
        act(record.clone(), action, text.get_untracked(), hashes, None, changed);
        open.set(Open::None);
    };
    view! {
        <div class="field">
            <textarea rows="3" maxlength="1000" placeholder=placeholder aria-label=placeholder
                prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <div class="photo-strip">
                {move || photos.get().into_iter().map(|p| view! { <img class="photo-thumb" src=p.url alt="照片"/> }).collect_view()}
            </div>
            <Show when=move || photos.with(Vec::len) < crate::sync::MAX_VISIT_PHOTOS>
                <PhotoPicker label="照片 · 诉求办理" on_photo=Callback::new(move |p: Taken| {
                    photos.update(|list| if !list.iter().any(|q| q.hash == p.hash) { list.push(p) })
                })/>
            </Show>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="form-actions">
                <button type="button" class="btn btn-plain" on:click=move |_| open.set(Open::None)>"取消"</button>
                <button type="button" class="btn grow-btn" on:click=save>{action.label()}</button>
            </div>
        </div>
    }
}

/// Queues an action on the phone, and shows it on the card until the server
/// answers (a refusal then shows on the sync page, with the reason).
fn act(
    record: RequestRecord,
    action: Action,
    note: String,
    photos: Vec<String>,
    follow_up: Option<FollowUp>,
    changed: Callback<()>,
) {
    let _ = (&record, action, &note, &photos, follow_up, changed);
    #[cfg(feature = "hydrate")]
    {
        let status = crate::phone::status::use_sync_status();
        leptos::task::spawn_local(async move {
            let Ok(next) = next_status(record.status, action, follow_up) else {
                return;
            };
            let label = format!("诉求 · {} · {}", action.label(), short(&record.text));
            let household = record.household_id.clone().unwrap_or_default();
            let change = crate::sync::Change::RequestAction(crate::sync::RequestActionInput {
                request_id: record.id.clone(),
                action,
                note: note.clone(),
                photos,
                follow_up,
            });
            if crate::phone::engine::save_change(status, change, label, household)
                .await
                .is_ok()
            {
                let resolution = (action == Action::Resolve).then_some(note);
                let kept = crate::phone::requests::after_action(record, next, resolution);
                let _ = crate::phone::requests::keep(&kept).await;
                changed.run(());
            }
        });
    }
}

pub(crate) fn short(text: &str) -> String {
    let mut out: String = text.chars().take(12).collect();
    if text.chars().count() > 12 {
        out.push('…');
    }
    out
}

/// A one-time rating code: made here, shown as a QR code the resident scans
/// with their own phone, registered with the next sync (it works before).
#[component]
fn RatingCode(record: RequestRecord, open: RwSignal<Open>) -> impl IntoView {
    let svg = RwSignal::new(None::<String>);
    let link = RwSignal::new(String::new());
    let _ = &record;
    #[cfg(feature = "hydrate")]
    {
        let status = crate::phone::status::use_sync_status();
        let token = uuid::Uuid::new_v4().simple().to_string();
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        let url = format!("{origin}/rate/{token}");
        svg.set(Some(qr_svg(&url)));
        link.set(url);
        let change = crate::sync::Change::RatingToken(crate::sync::RatingTokenInput {
            request_id: record.id.clone(),
            token,
        });
        let label = format!("诉求 · 评价码 · {}", short(&record.text));
        let household = record.household_id.clone().unwrap_or_default();
        leptos::task::spawn_local(async move {
            let _ = crate::phone::engine::save_change(status, change, label, household).await;
        });
    }
    view! {
        <div class="card center">
            <p>"请居民用自己的手机扫码评价（14天内有效，只能评价一次）"</p>
            <div class="qr" style="max-width:280px;margin:0 auto" inner_html=move || svg.get().unwrap_or_default()></div>
            // For a resident who cannot scan: the link, to type or to be sent.
            <p class="muted small rating-link" style="word-break:break-all">{link}</p>
            <button type="button" class="btn btn-plain" on:click=move |_| open.set(Open::None)>"关闭"</button>
        </div>
    }
}

/// The QR code of `text` as SVG, one square per dark module, a quiet zone of 4.
#[cfg(feature = "hydrate")]
fn qr_svg(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else {
        return String::new();
    };
    let size = qr.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    let full = size + 8;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" role=\"img\" aria-label=\"评价二维码\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

/// A request taken on the phone: a patrol's report about a building or a
/// public place (隐患上报), or one a resident brought to the worker.
#[component]
fn RaiseForm(
    categories: Vec<crate::requests::Category>,
    buildings: Vec<(String, String)>,
    done: Callback<bool>,
) -> impl IntoView {
    let source = RwSignal::new(Source::Patrol);
    let category = RwSignal::new(categories.first().map(|c| c.code.clone()).unwrap_or_default());
    let building = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let photos: RwSignal<Vec<Taken>> = RwSignal::new(Vec::new());
    let error = RwSignal::new(None::<String>);
    let save = move |_| {
        if let Err(e) = crate::requests::check_text(&text.get_untracked(), "问题描述") {
            error.set(Some(e));
            return;
        }
        if building.get_untracked().is_empty() && place.get_untracked().trim().is_empty() {
            error.set(Some("请选择楼栋，或填写地点".into()));
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let status = crate::phone::status::use_sync_status();
            let id = crate::clock::new_id();
            let input = crate::sync::RaiseRequestInput {
                id: id.clone(),
                source: source.get_untracked(),
                household_id: None,
                building_id: Some(building.get_untracked()).filter(|b| !b.is_empty()),
                place: place.get_untracked().trim().to_owned(),
                contact_phone: None,
                category: category.get_untracked(),
                text: text.get_untracked().trim().to_owned(),
                photos: photos.get_untracked().into_iter().map(|p| p.hash).collect(),
                receipt: None,
            };
            let record = RequestRecord {
                id,
                // Shown in the phone's lists until the pull brings the server's copy.
                grid_id: String::new(),
                household_id: None,
                building_id: input.building_id.clone(),
                place: input.place.clone(),
                source: input.source,
                category: input.category.clone(),
                text: input.text.clone(),
                status: RequestStatus::Received,
                first_contact: None,
                assignee_id: None,
                assignee: None,
                created_at: crate::clock::now_ms(),
                resolve_due: crate::requests::due_after_working_days(crate::clock::now_ms(), 7),
                resolution: None,
                reopen_count: 0,
            };
            let label = format!("诉求 · {} · {}", input.source.label(), short(&input.text));
            leptos::task::spawn_local(async move {
                let change = crate::sync::Change::RaiseRequest(input);
                match crate::phone::engine::save_change(status, change, label, String::new()).await {
                    Ok(()) => {
                        let _ = crate::phone::requests::keep(&record).await;
                        done.run(true);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (source, category, photos, done);
    };
    view! {
        <section class="card visit-form" aria-label="上报问题">
            <h2 class="form-title">"上报问题 / 登记诉求"</h2>
            <div class="segmented">
                {[Source::Patrol, Source::WalkIn, Source::Phone].into_iter().map(|s| view! {
                    <Toggle label=s.label() on=Signal::derive(move || source.get() == s) toggle=Callback::new(move |()| source.set(s))/>
                }).collect_view()}
            </div>
            <label class="field"><span>"类别"</span>
                <select on:change=move |ev| category.set(event_target_value(&ev))>
                    {categories.into_iter().map(|c| view! { <option value=c.code>{c.label}</option> }).collect_view()}
                </select>
            </label>
            <label class="field"><span>"楼栋"</span>
                <select on:change=move |ev| building.set(event_target_value(&ev))>
                    <option value="">"（公共区域，不选楼栋）"</option>
                    {buildings.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
            </label>
            <label class="field"><span>"地点"</span>
                <input maxlength="100" placeholder="如：2单元楼道、小区北门" prop:value=place on:input=move |ev| place.set(event_target_value(&ev))/>
            </label>
            <label class="field"><span>"问题描述"</span>
                <textarea rows="3" maxlength="1000" prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <div class="photo-strip">
                {move || photos.get().into_iter().map(|p| view! { <img class="photo-thumb" src=p.url alt="照片"/> }).collect_view()}
            </div>
            <Show when=move || photos.with(Vec::len) < crate::sync::MAX_VISIT_PHOTOS>
                <PhotoPicker label="照片 · 上报问题" on_photo=Callback::new(move |p: Taken| {
                    photos.update(|list| if !list.iter().any(|q| q.hash == p.hash) { list.push(p) })
                })/>
            </Show>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="form-actions">
                <button type="button" class="btn btn-plain" on:click=move |_| done.run(false)>"取消"</button>
                <button type="button" class="btn grow-btn" on:click=save>"保存"</button>
            </div>
        </section>
    }
}

/// The resident's verdict on one resolved request, at the door: large buttons
/// they can tap on the worker's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    pub solved: Option<bool>,
    pub satisfaction: Option<Satisfaction>,
}

impl Verdict {
    pub fn complete(self) -> Option<FollowUp> {
        Some(FollowUp {
            solved: self.solved?,
            satisfaction: self.satisfaction?,
        })
    }
}

/// The household's resolved requests, each with 是否解决 and 满意度, inside
/// the visit form. `verdicts` holds the answers by request.
#[component]
pub fn FollowUps(requests: Vec<RequestRecord>, verdicts: RwSignal<Vec<(RequestRecord, Verdict)>>) -> impl IntoView {
    verdicts.set(requests.into_iter().map(|r| (r, Verdict::default())).collect());
    let set = move |i: usize, f: &dyn Fn(&mut Verdict)| verdicts.update(|v| f(&mut v[i].1));
    view! {
        {move || (!verdicts.with(Vec::is_empty)).then(|| view! {
            <fieldset class="follow-ups">
                <legend>"回访已办结的诉求"</legend>
                {verdicts.get_untracked().into_iter().enumerate().map(|(i, (r, _))| {
                    let solved = move |v: bool| Signal::derive(move || verdicts.with(|l| l[i].1.solved == Some(v)));
                    view! {
                        <div class="card">
                            <p><strong>{short(&r.text)}</strong></p>
                            {r.resolution.clone().map(|t| view! { <p class="muted small">"办理结果："{t}</p> })}
                            <p class="small">"是否解决"</p>
                            <div class="segmented">
                                <Toggle label="已解决" on=solved(true) toggle=Callback::new(move |()| set(i, &|v| v.solved = Some(true)))/>
                                <Toggle label="未解决" on=solved(false) toggle=Callback::new(move |()| set(i, &|v| v.solved = Some(false)))/>
                            </div>
                            <p class="small">"满意度"</p>
                            <div class="segmented">
                                {Satisfaction::ALL.iter().map(|&s| view! {
                                    <Toggle label=s.label() on=Signal::derive(move || verdicts.with(|l| l[i].1.satisfaction == Some(s)))
                                        toggle=Callback::new(move |()| set(i, &|v| v.satisfaction = Some(s)))/>
                                }).collect_view()}
                            </div>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
        })}
    }
}
