//! Attendance at an activity taken on a worker's phone, offline (issue 18 #6):
//! the community's activities of the coming days with the names to tick,
//! fetched while there is signal and kept on the phone; each tick is an
//! outbox operation (`Change::CheckIn`), saved on the phone first, and the
//! server credits the activity's hours once per person however often the
//! tick arrives. The page is fetched once it runs, with the other phone tools.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::phone::engine::{EntryState, OutboxEntry};
use crate::sync::{Change, Operation};
use crate::ui::{ErrorView, Loading};

/// An activity as the phone's attendance list shows it
/// (`GET /api/activities/check-in`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivitySheet {
    pub id: String,
    pub title: String,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// Hours each attendee is credited, in minutes.
    pub credit_minutes: i64,
    pub team: Option<String>,
    /// The team's people first, then the community's other active members.
    pub people: Vec<Attendee>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Attendee {
    /// `member:ID` or `resident:ID` (`sync::attendee_key`).
    pub key: String,
    pub name: String,
    /// A resident volunteer, not a party member.
    pub volunteer: bool,
    /// Checked in on the server when the list was fetched.
    pub checked: bool,
}

/// The lists as the phone keeps them: when they were fetched, and whether
/// this showing is that copy because the server could not be reached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeptSheets {
    pub fetched_at: i64,
    pub activities: Vec<ActivitySheet>,
    #[serde(skip)]
    pub offline: bool,
}

/// Where a person stands on the phone's sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Tick {
    Open,
    /// In the outbox (pending, sent or refused with the reason).
    Queued(EntryState, Option<String>),
    /// On the server's sheet.
    Checked,
}

/// The ticks waiting in the outbox, by (activity, attendee key).
pub type Ticks = HashMap<(String, String), Tick>;

/// The ticks waiting in the outbox, by (activity, attendee); the newest
/// entry of a person wins (a refused tick, then a new one).
pub fn queued(entries: &[OutboxEntry]) -> Ticks {
    entries
        .iter()
        .filter_map(
            |entry| match serde_json::from_str::<Operation>(&entry.operation).ok()?.change {
                Change::CheckIn(input) => Some((
                    (input.activity_id, input.attendee),
                    Tick::Queued(entry.state, entry.reason.clone()),
                )),
                _ => None,
            },
        )
        .collect()
}

/// A person's standing: the server's word once it has it, else the outbox's.
pub fn tick_of(activity: &str, person: &Attendee, queued: &Ticks) -> Tick {
    if person.checked {
        return Tick::Checked;
    }
    queued
        .get(&(activity.to_owned(), person.key.clone()))
        .cloned()
        .unwrap_or(Tick::Open)
}

/// "12-08 09:30–11:00" in Beijing time.
fn when(a: &ActivitySheet) -> String {
    let day = crate::domain::CivilDate::from_epoch_ms(a.starts_at + crate::policy::BEIJING_OFFSET_MS).to_string();
    let (start, end) = (
        crate::outbox::time_of_day(a.starts_at),
        crate::outbox::time_of_day(a.ends_at),
    );
    format!("{} {start}–{end}", &day[5..])
}

/// The page's body, fetched once it runs (`ui::tool`).
pub fn body() -> crate::ui::LazyView {
    crate::ui::tool(crate::ui::Tool::CheckIn)
}

#[cfg(feature = "hydrate")]
async fn load() -> Result<KeptSheets, crate::error::ApiError> {
    crate::phone::activities::sheets().await
}

/// Never rendered on the server (`Deferred`), but compiled there.
#[cfg(not(feature = "hydrate"))]
async fn load() -> Result<KeptSheets, crate::error::ApiError> {
    Ok(KeptSheets::default())
}

#[component]
pub(crate) fn CheckInBody() -> impl IntoView {
    // Fetched again after each sync: a tick the outbox has delivered leaves
    // it, and the server's list then shows the person checked in.
    // (A memo: the signal is set again, unchanged, whenever the outbox is counted.)
    let status = crate::phone::status::use_sync_status();
    let synced = Memo::new(move |_| status.last_sync.get());
    let sheets = LocalResource::new(move || {
        synced.track();
        load()
    });
    // Read once per change of the outbox, not once per name on the list.
    let entries = crate::outbox::outbox_entries(None);
    let ticks = Memo::new(move |_| queued(&entries.get()));
    let open = RwSignal::new(None::<String>);
    view! {
        <p class="muted small">"本社区近几天的活动：点姓名即签到，先存本机，有信号时自动同步；每人每次活动只计一次服务时长。"</p>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match sheets.await {
                    Ok(kept) => {
                        let fetched = format!(
                            "{}名单更新于 {}",
                            if kept.offline { "无信号，使用本机保存的名单 · " } else { "" },
                            crate::outbox::time_of_day(kept.fetched_at),
                        );
                        view! {
                            <p class="muted small">{(kept.fetched_at > 0).then_some(fetched)}</p>
                            {kept.activities.is_empty().then(|| view! {
                                <p class="empty">{if kept.fetched_at > 0 {
                                    "近几天没有活动。"
                                } else {
                                    "本机还没有活动名单：请在有信号时打开本页一次。"
                                }}</p>
                            })}
                            {kept.activities.into_iter().map(|a| view! { <Activity a open ticks/> }).collect_view()}
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
fn Activity(a: ActivitySheet, open: RwSignal<Option<String>>, ticks: Memo<Ticks>) -> impl IntoView {
    let summary = format!(
        "{} · {} · 每人计{}",
        when(&a),
        a.place,
        crate::sync::hours_label(a.credit_minutes)
    );
    let ActivitySheet {
        id,
        title,
        people,
        team,
        ..
    } = a;
    let filter = RwSignal::new(String::new());
    let (toggled, shown) = (id.clone(), id.clone());
    let people = people
        .into_iter()
        .map(|person| {
            let name = person.name.clone();
            let hidden = Signal::derive(move || !name.contains(filter.get().trim()));
            view! { <Person activity=id.clone() title=title.clone() person ticks hidden/> }
        })
        .collect_view();
    view! {
        <section class="card activity">
            <button type="button" class="row btn-plain activity-title"
                on:click=move |_| open.update(|o| {
                    *o = if o.as_ref() == Some(&toggled) { None } else { Some(toggled.clone()) }
                })>
                <strong class="grow">{title.clone()}</strong>
                <span class="muted small">{team}</span>
            </button>
            <p class="muted small">{summary}</p>
            <div hidden=move || open.get().as_ref() != Some(&shown)>
                <input type="search" placeholder="查找姓名" aria-label="查找姓名"
                    on:input=move |ev| filter.set(event_target_value(&ev))/>
                <ul class="list attendees">{people}</ul>
            </div>
        </section>
    }
}

/// One name to tick. A tap saves the check-in in the outbox and pushes it.
#[component]
fn Person(
    activity: String,
    title: String,
    person: Attendee,
    ticks: Memo<Ticks>,
    hidden: Signal<bool>,
) -> impl IntoView {
    let status = crate::phone::status::use_sync_status();
    let error = RwSignal::new(None::<String>);
    let tick = {
        let (activity, person) = (activity.clone(), person.clone());
        Memo::new(move |_| ticks.with(|ticks| tick_of(&activity, &person, ticks)))
    };
    let key = person.key.clone();
    let label = format!("签到 · {title} · {}", person.name);
    let check_in = move |_| {
        if tick.get_untracked() != Tick::Open {
            return;
        }
        let _ = (&activity, &key, &label, status, error);
        #[cfg(feature = "hydrate")]
        {
            let change = Change::CheckIn(crate::sync::CheckInInput {
                activity_id: activity.clone(),
                attendee: key.clone(),
            });
            let label = label.clone();
            leptos::task::spawn_local(async move {
                if let Err(e) = crate::phone::engine::save_change(status, change, label, String::new()).await {
                    error.set(Some(e));
                }
            });
        }
    };
    view! {
        <li hidden=move || hidden.get()>
            <button type="button" class="row attendee" data-tick=move || match tick.get() {
                Tick::Open => "open",
                Tick::Queued(state, _) => state.code(),
                Tick::Checked => "checked",
            } on:click=check_in>
                <strong class="grow">{person.name.clone()}{person.volunteer.then_some("（居民志愿者）")}</strong>
                <span class="small">{move || match tick.get() {
                    Tick::Open => "点此签到".to_owned(),
                    Tick::Queued(EntryState::Rejected, reason) => format!("被退回：{}", reason.unwrap_or_default()),
                    Tick::Queued(state, _) => format!("已签到 · {}", state.label()),
                    Tick::Checked => "已签到".to_owned(),
                }}</span>
            </button>
            {move || error.get().map(|e| view! { <p class="form-error small" role="alert">{e}</p> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{AttendeeKind, CheckInInput, attendee_key};

    fn entry(op_id: &str, activity: &str, attendee: &str, state: EntryState) -> OutboxEntry {
        let op = Operation {
            op_id: op_id.into(),
            created_at: 0,
            change: Change::CheckIn(CheckInInput {
                activity_id: activity.into(),
                attendee: attendee.into(),
            }),
        };
        OutboxEntry {
            op_id: op_id.into(),
            operation: serde_json::to_string(&op).unwrap(),
            state,
            reason: (state == EntryState::Rejected).then(|| "不在名单".into()),
            label: String::new(),
            household_id: String::new(),
        }
    }

    fn person(key: &str, checked: bool) -> Attendee {
        Attendee {
            key: key.into(),
            name: "张三".into(),
            volunteer: false,
            checked,
        }
    }

    #[test]
    fn a_tick_reads_the_server_first_then_the_outbox() {
        let (zhang, li) = (
            attendee_key(AttendeeKind::Member, "m1"),
            attendee_key(AttendeeKind::Resident, "r1"),
        );
        let entries = vec![
            entry("1", "a1", &zhang, EntryState::Pending),
            entry("2", "a1", &li, EntryState::Rejected),
            entry("3", "a2", &li, EntryState::Sent),
        ];
        let queued = queued(&entries);
        assert_eq!(
            tick_of("a1", &person(&zhang, false), &queued),
            Tick::Queued(EntryState::Pending, None)
        );
        assert_eq!(
            tick_of("a1", &person(&li, false), &queued),
            Tick::Queued(EntryState::Rejected, Some("不在名单".into()))
        );
        assert_eq!(
            tick_of("a2", &person(&li, false), &queued),
            Tick::Queued(EntryState::Sent, None)
        );
        assert_eq!(
            tick_of("a2", &person(&zhang, false), &queued),
            Tick::Open,
            "another activity's tick"
        );
        assert_eq!(
            tick_of("a1", &person(&zhang, true), &queued),
            Tick::Checked,
            "the server's word wins"
        );
    }
}
