//! Adding and correcting residents at the door, offline. The form checks with
//! the same Rust types the server uses (`sync::ResidentInput::validate`), shows
//! each message beside its field, and saves the change to the outbox before it
//! says "saved". Its code is a WASM chunk loaded on the first tap.

use leptos::prelude::*;

use crate::clock::{new_id, now_ms};
use crate::domain::{CivilDate, Gender, IdCardNumber, KeyGroup, RegistrationType};
use crate::model::{ResidentDetail, ResidentSummary};
use crate::phone::status::use_sync_status;
use crate::sync::{Change, FieldChange, FieldErrors, ResidentEdit, ResidentField, ResidentInput};
use crate::ui::FormOpener;
use crate::ui::{Toggle, toggle};

/// Which record the form writes.
#[derive(Debug, Clone)]
enum Target {
    /// A new resident (moving in, newly registered) of this household.
    New {
        household_id: String,
    },
    Existing(Box<ResidentDetail>),
}

/// "新增居民" on the household page.
#[component]
pub fn AddResident(household_id: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let saved = RwSignal::new(false);
    view! {
        {move || saved.get().then(|| view! {
            <p class="saved-note" role="status">"居民信息已保存到本机，有信号时自动同步"</p>
        })}
        <FormOpener label="＋ 新增居民（迁入）" class="btn btn-block btn-plain" open load=move || {
            let on_done = Callback::new(move |ok| { open.set(false); saved.set(ok) });
            Box::pin(resident_form(Target::New { household_id: household_id.clone() }, on_done))
        }/>
    }
}

/// "修改信息" on the resident page: corrections, moved out or back.
#[component]
pub fn EditResident(detail: ResidentDetail) -> impl IntoView {
    let open = RwSignal::new(false);
    let saved = RwSignal::new(false);
    view! {
        {move || saved.get().then(|| view! {
            <p class="saved-note" role="status">"修改已保存到本机，有信号时自动同步"</p>
        })}
        <FormOpener label="修改信息 / 标记迁出" class="btn btn-block btn-plain" open load=move || {
            let on_done = Callback::new(move |ok| { open.set(false); saved.set(ok) });
            Box::pin(resident_form(Target::Existing(Box::new(detail.clone())), on_done))
        }/>
    }
}

/// "整户迁出": every resident still living here marked moved out, in one
/// outbox transaction. Two taps, the second one a confirmation.
#[component]
pub fn MoveOutHousehold(household_id: String, residents: Vec<(String, String)>) -> impl IntoView {
    let open = RwSignal::new(false);
    let saved = RwSignal::new(false);
    view! {
        {move || saved.get().then(|| view! {
            <p class="saved-note" role="status">"整户迁出已保存到本机，有信号时自动同步"</p>
        })}
        {(!residents.is_empty()).then(|| view! {
            <FormOpener label="整户迁出" class="btn btn-block btn-plain" open load=move || {
                let on_done = Callback::new(move |ok| { open.set(false); saved.set(ok) });
                Box::pin(move_out_form(household_id.clone(), residents.clone(), on_done))
            }/>
        })}
    }
}

#[lazy]
fn move_out_form(household_id: String, residents: Vec<(String, String)>, on_done: Callback<bool>) -> AnyView {
    view! { <MoveOutConfirm household_id residents on_done/> }.into_any()
}

#[component]
fn MoveOutConfirm(household_id: String, residents: Vec<(String, String)>, on_done: Callback<bool>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let count = residents.len();
    let status = use_sync_status();
    let confirm = move |_| {
        let changes: Vec<_> = residents
            .iter()
            .map(|(id, name)| {
                let edit = ResidentEdit {
                    id: id.clone(),
                    changes: vec![FieldChange {
                        field: ResidentField::MovedOut,
                        base: Some("false".into()),
                        value: Some("true".into()),
                    }],
                };
                (Change::EditResident(edit), format!("迁出 · {name}"))
            })
            .collect();
        let _ = (&changes, &household_id, status);
        #[cfg(feature = "hydrate")]
        {
            let household_id = household_id.clone();
            leptos::task::spawn_local(async move {
                match crate::phone::engine::save_changes(status, changes, household_id).await {
                    Ok(()) => on_done.run(true),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    view! {
        <div class="card confirm" role="alertdialog" aria-label="确认整户迁出">
            <p>"将本户 "{count}" 位在住居民全部标记为已迁出？"</p>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="form-actions">
                <button type="button" class="btn btn-plain" on:click=move |_| on_done.run(false)>"取消"</button>
                <button type="button" class="btn grow-btn" on:click=confirm>"确认迁出"</button>
            </div>
        </div>
    }
}

#[lazy]
fn resident_form(target: Target, on_done: Callback<bool>) -> AnyView {
    view! { <ResidentForm target on_done/> }.into_any()
}

#[component]
fn ResidentForm(target: Target, on_done: Callback<bool>) -> impl IntoView {
    let original = match &target {
        Target::Existing(d) => Some((**d).clone()),
        Target::New { .. } => None,
    };
    let o = original.as_ref();
    let name = RwSignal::new(o.map(|d| d.resident.name.clone()).unwrap_or_default());
    let gender = RwSignal::new(o.map(|d| d.resident.gender));
    // The phone holds the birth year only: an edit starts empty, and left
    // empty keeps the stored date.
    let birth_date = RwSignal::new(String::new());
    let id_number = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let registration = RwSignal::new(o.map_or(RegistrationType::Registered, |d| d.resident.registration_type));
    let tags: RwSignal<Vec<KeyGroup>> = RwSignal::new(Vec::new());
    let moved_out = RwSignal::new(o.is_some_and(|d| d.resident.moved_out));
    let errors: RwSignal<FieldErrors> = RwSignal::new(Vec::new());
    let saving = RwSignal::new(false);
    let status = use_sync_status();
    let is_new = original.is_none();

    // A valid ID number already says the birth date and gender.
    let on_id_input = move |ev| {
        let text = event_target_value(&ev);
        if let Ok(id) = IdCardNumber::parse(&text) {
            if birth_date.get_untracked().is_empty() {
                birth_date.set(id.birth_date());
            }
            if gender.get_untracked().is_none() {
                gender.set(Some(id.gender()));
            }
        }
        id_number.set(text);
    };

    let save = move |_| {
        if saving.get_untracked() {
            return;
        }
        let draft = ResidentInput {
            id: String::new(),
            household_id: String::new(),
            name: name.get_untracked().trim().to_owned(),
            gender: gender.get_untracked().unwrap_or(Gender::Female),
            birth_date: birth_date.get_untracked().trim().to_owned(),
            id_number: Some(id_number.get_untracked().trim().to_uppercase()).filter(|s| !s.is_empty()),
            phone: Some(phone.get_untracked().trim().to_owned()).filter(|s| !s.is_empty()),
            registration_type: registration.get_untracked(),
            tags: tags.get_untracked(),
        };
        let mut found = check(&draft, is_new, CivilDate::from_epoch_ms(now_ms()));
        if gender.get_untracked().is_none() {
            found.push(("gender", "请选择性别".into()));
        }
        if !found.is_empty() {
            return errors.set(found);
        }
        let (change, label, household_id) = match &target {
            Target::New { household_id } => {
                let label = format!("新增居民 · {}", draft.name);
                let input = ResidentInput {
                    id: new_id(),
                    household_id: household_id.clone(),
                    ..draft
                };
                (Change::AddResident(input), label, household_id.clone())
            }
            Target::Existing(d) => {
                let changes = edits(d, &draft, moved_out.get_untracked());
                if changes.is_empty() {
                    return errors.set(vec![("form", "没有改动".into())]);
                }
                let fields: Vec<&str> = changes.iter().map(|c| c.field.label()).collect();
                let label = format!("修改居民 · {} · {}", d.resident.name, fields.join("、"));
                let edit = ResidentEdit {
                    id: d.resident.id.clone(),
                    changes,
                };
                (Change::EditResident(edit), label, d.household_id.clone())
            }
        };
        errors.set(Vec::new());
        let _ = (&change, &label, &household_id, status);
        #[cfg(feature = "hydrate")]
        {
            saving.set(true);
            leptos::task::spawn_local(async move {
                let saved = crate::phone::engine::save_change(status, change, label, household_id).await;
                // Before the form closes and disposes the signal (see visits.rs).
                saving.set(false);
                match saved {
                    Ok(()) => on_done.run(true),
                    Err(e) => errors.set(vec![("form", e)]),
                }
            });
        }
    };

    let error_for = move |field: &'static str| {
        move || {
            errors.with(|e| {
                e.iter()
                    .find(|(f, _)| *f == field)
                    .map(|(_, m)| view! { <span class="field-error" role="alert">{m.clone()}</span> })
            })
        }
    };
    let (id_hint, phone_hint, birth_label) = match o {
        Some(d) => (
            d.resident
                .id_number_masked
                .clone()
                .map(|m| format!("现为 {m}，不改请留空")),
            d.phone_masked.clone().map(|m| format!("现为 {m}，不改请留空")),
            format!("出生日期（现为{}年生，不改请留空）", d.birth_year),
        ),
        None => (None, None, "出生日期".to_owned()),
    };

    view! {
        <section class="card resident-form" aria-label="居民信息">
            <h2 class="form-title">{if is_new { "新增居民" } else { "修改居民信息" }}</h2>
            <label class="field">
                <span>"姓名"</span>
                <input name="name" maxlength="30" autocomplete="off" prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev))/>
                {error_for("name")}
            </label>
            <label class="field">
                <span>"身份证号（可选）"</span>
                <input name="id_number" maxlength="18" autocomplete="off" inputmode="text"
                    placeholder=id_hint.unwrap_or_else(|| "18位，填写后自动带出生日期".into())
                    prop:value=id_number on:input=on_id_input/>
                {error_for("id_number")}
            </label>
            <fieldset>
                <legend>"性别"</legend>
                <div class="segmented">
                    {Gender::ALL.iter().map(|&g| view! {
                        <Toggle label=g.label() on=Signal::derive(move || gender.get() == Some(g))
                            toggle=Callback::new(move |()| gender.set(Some(g)))/>
                    }).collect_view()}
                </div>
                {error_for("gender")}
            </fieldset>
            <label class="field">
                <span>{birth_label}</span>
                <input name="birth_date" type="date" prop:value=birth_date
                    on:input=move |ev| birth_date.set(event_target_value(&ev))/>
                {error_for("birth_date")}
            </label>
            <label class="field">
                <span>"手机号（可选）"</span>
                <input name="phone" type="tel" maxlength="11" inputmode="numeric" autocomplete="off"
                    placeholder=phone_hint.unwrap_or_default()
                    prop:value=phone on:input=move |ev| phone.set(event_target_value(&ev))/>
                {error_for("phone")}
            </label>
            <fieldset>
                <legend>"户籍类型"</legend>
                <div class="segmented">
                    {RegistrationType::ALL.iter().map(|&t| view! {
                        <Toggle label=t.label() on=Signal::derive(move || registration.get() == t)
                            toggle=Callback::new(move |()| registration.set(t))/>
                    }).collect_view()}
                </div>
            </fieldset>
            {is_new.then(|| view! {
                <fieldset>
                    <legend>"重点人群（可多选）"</legend>
                    <div class="chips-toggle">
                        {KeyGroup::ALL.iter().map(|&k| view! {
                            <Toggle label=k.label() on=Signal::derive(move || tags.get().contains(&k))
                                toggle=Callback::new(move |()| tags.update(|s| toggle(s, k)))/>
                        }).collect_view()}
                    </div>
                </fieldset>
            })}
            {(!is_new).then(|| view! {
                <fieldset>
                    <legend>"居住状态"</legend>
                    <div class="segmented">
                        <Toggle label="在住" on=Signal::derive(move || !moved_out.get())
                            toggle=Callback::new(move |()| moved_out.set(false))/>
                        <Toggle label="已迁出" on=Signal::derive(move || moved_out.get())
                            toggle=Callback::new(move |()| moved_out.set(true))/>
                    </div>
                </fieldset>
            })}
            {error_for("form")}
            <div class="form-actions">
                <button type="button" class="btn btn-plain" on:click=move |_| on_done.run(false)>"取消"</button>
                <button type="button" class="btn grow-btn" on:click=save disabled=move || saving.get()>"保存"</button>
            </div>
        </section>
    }
}

/// The server's rules for a new resident, on the spot (a whole ID number: its
/// check character, the birth date in it); an edit may leave the birth date
/// empty, which keeps the stored one.
fn check(draft: &ResidentInput, is_new: bool, today: CivilDate) -> FieldErrors {
    let mut found = draft.validate(today).err().unwrap_or_default();
    if !is_new && draft.birth_date.is_empty() {
        found.retain(|(field, _)| *field != "birth_date");
    }
    found
}

/// The fields that differ from the record, each with the value the worker saw
/// (the server's conflict rule needs it). ID and phone numbers are shown
/// masked and the birth date as its year, so a typed one always travels, with
/// what the phone holds as its base.
fn edits(before: &ResidentDetail, after: &ResidentInput, moved_out: bool) -> Vec<FieldChange> {
    let r: &ResidentSummary = &before.resident;
    let mut changes = Vec::new();
    let mut push = |field, base: Option<String>, value: Option<String>| {
        if base != value {
            changes.push(FieldChange { field, base, value });
        }
    };
    push(ResidentField::Name, Some(r.name.clone()), Some(after.name.clone()));
    push(
        ResidentField::Gender,
        Some(r.gender.as_str().into()),
        Some(after.gender.as_str().into()),
    );
    push(
        ResidentField::RegistrationType,
        Some(r.registration_type.as_str().into()),
        Some(after.registration_type.as_str().into()),
    );
    push(
        ResidentField::MovedOut,
        Some(r.moved_out.to_string()),
        Some(moved_out.to_string()),
    );
    if !after.birth_date.is_empty() {
        changes.push(FieldChange {
            field: ResidentField::BirthDate,
            base: Some(before.birth_year.to_string()),
            value: Some(after.birth_date.clone()),
        });
    }
    if after.id_number.is_some() {
        changes.push(FieldChange {
            field: ResidentField::IdNumber,
            base: r.id_number_masked.clone(),
            value: after.id_number.clone(),
        });
    }
    if after.phone.is_some() {
        changes.push(FieldChange {
            field: ResidentField::Phone,
            base: before.phone_masked.clone(),
            value: after.phone.clone(),
        });
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Gender, RegistrationType};

    fn before() -> ResidentDetail {
        ResidentDetail {
            resident: ResidentSummary {
                id: "r1".into(),
                name: "王秀英".into(),
                gender: Gender::Female,
                age: 76,
                registration_type: RegistrationType::Registered,
                tags: vec![],
                id_number_masked: Some("**************002X".into()),
                moved_out: false,
            },
            birth_year: 1949,
            phone_masked: Some("138****5678".into()),
            household_id: "h1".into(),
            household_label: "1号楼1单元101".into(),
            last_visit_days: None,
            photo: None,
            photo_history: vec![],
            conflicts: vec![],
        }
    }

    fn unchanged(d: &ResidentDetail) -> ResidentInput {
        ResidentInput {
            id: String::new(),
            household_id: String::new(),
            name: d.resident.name.clone(),
            gender: d.resident.gender,
            birth_date: String::new(),
            id_number: None,
            phone: None,
            registration_type: d.resident.registration_type,
            tags: vec![],
        }
    }

    #[test]
    fn only_changed_fields_travel_with_what_the_worker_saw() {
        let d = before();
        assert!(edits(&d, &unchanged(&d), false).is_empty());
        let mut after = unchanged(&d);
        after.phone = Some("13900001111".into());
        after.registration_type = RegistrationType::Floating;
        let changes = edits(&d, &after, true);
        let fields: Vec<_> = changes.iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            vec![
                ResidentField::RegistrationType,
                ResidentField::MovedOut,
                ResidentField::Phone
            ]
        );
        assert_eq!(changes[1].base.as_deref(), Some("false"));
        assert_eq!(changes[1].value.as_deref(), Some("true"));
        // The masked phone is the base: the server accepts it as "what I saw".
        assert_eq!(changes[2].base.as_deref(), Some("138****5678"));
    }

    #[test]
    fn an_edit_checks_a_whole_new_id_number_and_sends_its_birth_date() {
        let today = CivilDate::parse("2026-11-25").unwrap();
        let d = before();
        // Nothing typed but a name: the stored birth date stays.
        let mut after = unchanged(&d);
        after.name = "王秀兰".into();
        assert!(check(&after, false, today).is_empty());
        assert!(
            !check(&after, true, today).is_empty(),
            "a new resident needs a birth date"
        );
        // A wrong check character is refused before anything is saved.
        after.id_number = Some("110105194912310021".into());
        assert_eq!(
            check(&after, false, today),
            vec![("id_number", "身份证号校验位不正确，请核对".to_owned())]
        );
        // A good one travels whole, with the birth date the form read from it
        // (its base the year the phone holds).
        after.id_number = Some(
            IdCardNumber::with_check_char("11010519500101002")
                .unwrap()
                .as_str()
                .into(),
        );
        assert_eq!(
            check(&after, false, today),
            vec![("id_number", crate::sync::ID_BIRTH_DATE_MISMATCH.to_owned())],
            "the form fills the birth date from the number; cleared, it is missed"
        );
        after.birth_date = "1950-01-01".into();
        assert!(check(&after, false, today).is_empty());
        let changes = edits(&d, &after, false);
        let birth = changes.iter().find(|c| c.field == ResidentField::BirthDate).unwrap();
        assert_eq!(birth.base.as_deref(), Some("1949"));
        assert_eq!(birth.value.as_deref(), Some("1950-01-01"));
        assert!(changes.iter().any(|c| c.field == ResidentField::IdNumber));
    }
}
