//! The write rules of pushed residents: a new resident (`Change::AddResident`)
//! and a field-level edit (`Change::EditResident`), with the conflict rule that
//! settles concurrent edits of one field the same whatever order they arrive.

use std::collections::{HashMap, HashSet};

use app::api::parse_id;
use app::domain::{CivilDate, Gender, IdCardNumber, PhoneNumber, RegistrationType};
use app::error::ApiError;
use app::sync::{
    FieldChange, ID_BIRTH_DATE_MISMATCH, OpStatus, ResidentEdit, ResidentField, ResidentInput, check_birth_date,
    describe, is_photo_hash,
};
use store::Tx;
use store::photos::RecordKind;
use store::residents::{Column, HistoryEntry, NewResident, PhotoSet, ResidentState};

use crate::photos::Naming;
use crate::sync::op::{BAD_RECORD_ID, HOUSEHOLD_OUT_OF_SCOPE, OpContext, Verdict};

const RESIDENT_OUT_OF_SCOPE: &str = "该居民不在您负责的网格";

// --- AddResident -----------------------------------------------------------

pub async fn add_resident(tx: &mut Tx, ctx: &OpContext<'_>, resident: &ResidentInput) -> Result<Verdict, ApiError> {
    if let Err(errors) = resident.validate(CivilDate::from_epoch_ms(ctx.now)) {
        return Ok(Verdict::rejected(describe(&errors)));
    }
    let Ok(household_id) = parse_id(&resident.household_id) else {
        return Ok(Verdict::rejected(HOUSEHOLD_OUT_OF_SCOPE));
    };
    let Some(grid_id) = ctx.household_in_scope(tx, &household_id).await? else {
        return Ok(Verdict::rejected(HOUSEHOLD_OUT_OF_SCOPE));
    };
    let Ok(resident_id) = parse_id(&resident.id) else {
        return Ok(Verdict::rejected(BAD_RECORD_ID));
    };
    // validate() accepted these, so the parses succeed; store the canonical form.
    let id_number = non_blank(resident.id_number.as_deref())
        .and_then(|s| IdCardNumber::parse(s).ok())
        .map(|id| id.as_str().to_owned());
    let phone = non_blank(resident.phone.as_deref())
        .and_then(|s| PhoneNumber::parse(s).ok())
        .map(|p| p.as_str().to_owned());
    let new = NewResident {
        id: &resident_id,
        household_id: &household_id,
        name: resident.name.trim(),
        gender: resident.gender.as_str(),
        birth_date: &resident.birth_date,
        id_number: id_number.as_deref(),
        phone: phone.as_deref(),
        registration_type: resident.registration_type.as_str(),
        tags: resident.tags.iter().map(|t| t.as_str()).collect(),
        at: ctx.now,
    };
    if !tx.insert_resident(&new).await? {
        // The same resident re-sent under a new op id is already there; an id
        // that belongs to someone elsewhere is refused rather than silently
        // ignored. (Nothing was written.)
        let home = tx.resident_household(&resident_id).await?;
        return Ok(if home.as_deref() == Some(household_id.as_str()) {
            Verdict::applied()
        } else {
            Verdict::rejected("该居民编号已被占用，请删除后重新填写")
        });
    }
    // Every field starts with this op's clock, so a later edit made offline
    // before the device saw this resident still orders correctly against it.
    for &field in ResidentField::ALL {
        tx.set_field_clock(&resident_id, field.as_str(), ctx.created_at, ctx.op_id)
            .await?;
    }
    tx.record_change("resident", &resident_id, &grid_id, ctx.now);
    audit(tx, ctx, "create", &resident_id).await?;
    Ok(Verdict::applied())
}

fn non_blank(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|s| !s.is_empty())
}

/// The PIPL access log, inside the op's transaction.
async fn audit(tx: &mut Tx, ctx: &OpContext<'_>, action: &str, resident_id: &str) -> Result<(), ApiError> {
    tx.audit(ctx.caller.audit_entry(ctx.now, action, "resident", resident_id))
        .await?;
    Ok(())
}

// --- EditResident ----------------------------------------------------------

/// The field in the protocol's text form (`FieldChange` values and bases).
fn current_text(state: &ResidentState, field: ResidentField) -> Option<String> {
    let resident = &state.resident;
    match field {
        ResidentField::Name => Some(resident.name.clone()),
        ResidentField::Gender => Some(resident.gender.clone()),
        ResidentField::BirthDate => Some(resident.birth_date.clone()),
        ResidentField::IdNumber => resident.id_number.clone(),
        ResidentField::Phone => resident.phone.clone(),
        ResidentField::RegistrationType => Some(resident.registration_type.clone()),
        ResidentField::MovedOut => Some(resident.moved_out.to_string()),
        ResidentField::HouseholdId => Some(resident.household_id.clone()),
        ResidentField::Photo => resident.photo.clone(),
    }
}

/// How one field edit lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// No concurrent edit: the device saw the current value (or sets the same one).
    Apply,
    /// Concurrent edit, this op is later by (created_at, op_id): it overwrites.
    Won,
    /// Concurrent edit, the stored value is later: it stays.
    Lost,
}

/// The conflict rule. Pure and deterministic: two concurrent edits of a field
/// end with the value of the later (created_at, op_id), whichever reaches the
/// server first. Phones hold phone numbers masked and birth dates as the year,
/// so a base that is the current value as shown (`ResidentField::shown`)
/// counts as having seen it; ID numbers have no usable base and always apply.
fn decide(
    field: ResidentField,
    current: Option<&str>,
    base: Option<&str>,
    value: Option<&str>,
    clock: (i64, &str),
    op: (i64, &str),
) -> Decision {
    let saw_current = base == current || (base.is_some() && base.map(str::to_owned) == current.map(|c| field.shown(c)));
    if field == ResidentField::IdNumber || saw_current || current == value {
        Decision::Apply
    } else if op > clock {
        Decision::Won
    } else {
        Decision::Lost
    }
}

/// A pushed value checked and put in its stored text form, or the reason not.
fn normalize(field: ResidentField, value: Option<&str>, today: CivilDate) -> Result<Option<String>, String> {
    let required = || non_blank(value).ok_or_else(|| format!("请填写{}", field.label()));
    match field {
        ResidentField::Name => {
            let name = required()?;
            if name.chars().count() > 30 {
                return Err("姓名不能超过30个字".into());
            }
            Ok(Some(name.to_owned()))
        }
        ResidentField::Gender => Gender::parse(required()?)
            .map(|g| Some(g.as_str().to_owned()))
            .ok_or_else(|| "性别不正确".into()),
        ResidentField::BirthDate => check_birth_date(required()?, today).map(|d| Some(d.to_string())),
        ResidentField::IdNumber => non_blank(value)
            .map(|s| IdCardNumber::parse(s).map(|id| id.as_str().to_owned()))
            .transpose(),
        ResidentField::Phone => non_blank(value)
            .map(|s| PhoneNumber::parse(s).map(|p| p.as_str().to_owned()))
            .transpose(),
        ResidentField::RegistrationType => RegistrationType::parse(required()?)
            .map(|r| Some(r.as_str().to_owned()))
            .ok_or_else(|| "户籍类型不正确".into()),
        ResidentField::MovedOut => match required()? {
            flag @ ("true" | "false") => Ok(Some(flag.to_owned())),
            _ => Err("迁出状态不正确".into()),
        },
        ResidentField::HouseholdId => parse_id(required()?)
            .map(Some)
            .map_err(|_| HOUSEHOLD_OUT_OF_SCOPE.into()),
        ResidentField::Photo => match non_blank(value) {
            Some(hash) if is_photo_hash(hash) => Ok(Some(hash.to_owned())),
            Some(_) => Err("照片编号不正确，请重新拍照".into()),
            None => Ok(None),
        },
    }
}

/// Stores one field's value, checked and in text form (see `normalize`).
async fn write_field(
    tx: &mut Tx,
    resident_id: &str,
    field: ResidentField,
    value: Option<&str>,
) -> Result<(), ApiError> {
    let column = match field {
        ResidentField::MovedOut => return Ok(tx.set_resident_moved_out(resident_id, value == Some("true")).await?),
        ResidentField::Name => Column::Name,
        ResidentField::Gender => Column::Gender,
        ResidentField::BirthDate => Column::BirthDate,
        ResidentField::IdNumber => Column::IdNumber,
        ResidentField::Phone => Column::Phone,
        ResidentField::RegistrationType => Column::RegistrationType,
        ResidentField::HouseholdId => Column::HouseholdId,
        ResidentField::Photo => Column::Photo,
    };
    Ok(tx.set_resident_text(resident_id, column, value).await?)
}

/// Checks every change of an edit before anything is written: one bad value
/// rejects the whole op, with the field named.
async fn check_edit(
    tx: &mut Tx,
    ctx: &OpContext<'_>,
    changes: &[FieldChange],
) -> Result<Result<Vec<Option<String>>, String>, ApiError> {
    let today = CivilDate::from_epoch_ms(ctx.now);
    let mut seen = HashSet::new();
    let mut values = Vec::with_capacity(changes.len());
    for change in changes {
        if !seen.insert(change.field) {
            return Ok(Err(format!("{}在一次修改中出现了两次", change.field.label())));
        }
        let value = match normalize(change.field, change.value.as_deref(), today) {
            Ok(value) => value,
            Err(message) => return Ok(Err(format!("{}：{message}", change.field.label()))),
        };
        if change.field == ResidentField::HouseholdId
            && ctx
                .household_in_scope(tx, value.as_deref().unwrap_or_default())
                .await?
                .is_none()
        {
            return Ok(Err(HOUSEHOLD_OUT_OF_SCOPE.into()));
        }
        values.push(value);
    }
    Ok(Ok(values))
}

/// A new ID number must hold the birth date the record will have: the edit's
/// own, or the stored one. The phone cannot compare with the stored date (it
/// holds the year only), so its form sends the date read from a typed number.
fn id_matches_birth_date(state: &ResidentState, changes: &[FieldChange], values: &[Option<String>]) -> bool {
    let value_of = |field| {
        changes
            .iter()
            .zip(values)
            .find(|(c, _)| c.field == field)
            .map(|(_, v)| v.as_deref())
    };
    let Some(Some(id)) = value_of(ResidentField::IdNumber) else {
        return true;
    };
    let birth_date = value_of(ResidentField::BirthDate)
        .flatten()
        .unwrap_or(&state.resident.birth_date);
    IdCardNumber::parse(id).is_ok_and(|id| id.birth_date() == birth_date)
}

/// Each field's clock by field name; a field never edited is at (0, "").
async fn field_clocks(tx: &mut Tx, resident_id: &str) -> Result<HashMap<String, (i64, String)>, ApiError> {
    let clocks = tx.field_clocks(resident_id).await?;
    Ok(clocks.into_iter().map(|c| (c.field, (c.updated_at, c.op_id))).collect())
}

/// Keeps the value that did not end up in the record, for a lead to review.
async fn keep_history(
    tx: &mut Tx,
    ctx: &OpContext<'_>,
    resident_id: &str,
    field: ResidentField,
    (old_value, new_value): (Option<&str>, Option<&str>),
    winner: &str,
) -> Result<(), ApiError> {
    tx.keep_history(HistoryEntry {
        resident_id,
        field: field.as_str(),
        old_value,
        new_value,
        winner,
        op_id: ctx.op_id,
        user_id: &ctx.caller.user.id,
        at: ctx.now,
    })
    .await?;
    Ok(())
}

pub async fn edit_resident(tx: &mut Tx, ctx: &OpContext<'_>, edit: &ResidentEdit) -> Result<Verdict, ApiError> {
    let Ok(resident_id) = parse_id(&edit.id) else {
        return Ok(Verdict::rejected(RESIDENT_OUT_OF_SCOPE));
    };
    // Locked from here to commit: the decisions below hold when written.
    let Some(state) = tx.lock_resident(&resident_id).await? else {
        return Ok(Verdict::rejected(RESIDENT_OUT_OF_SCOPE));
    };
    if !ctx.scope.contains(&state.grid_id) {
        return Ok(Verdict::rejected(RESIDENT_OUT_OF_SCOPE));
    }
    let values = match check_edit(tx, ctx, &edit.changes).await? {
        Ok(values) => values,
        Err(reason) => return Ok(Verdict::rejected(reason)),
    };
    if !id_matches_birth_date(&state, &edit.changes, &values) {
        return Ok(Verdict::rejected(ID_BIRTH_DATE_MISMATCH));
    }
    // The photos this edit sets, in their checked form.
    let photos: Vec<&str> = edit
        .changes
        .iter()
        .zip(&values)
        .filter(|(c, _)| c.field == ResidentField::Photo)
        .filter_map(|(_, v)| v.as_deref())
        .collect();
    let naming = Naming {
        kind: RecordKind::Resident,
        id: &resident_id,
        grid: Some(&state.grid_id),
    };
    if let Err(reason) = ctx.may_name_photos(tx, &photos, naming).await? {
        return Ok(Verdict::rejected(reason));
    }
    keep_photos(tx, ctx, &resident_id, &photos).await?;
    let clocks = field_clocks(tx, &resident_id).await?;
    let (mut won, mut lost, mut written) = (Vec::new(), Vec::new(), false);
    for (change, value) in edit.changes.iter().zip(&values) {
        let field = change.field;
        let current = current_text(&state, field);
        let clock = clocks
            .get(field.as_str())
            .map_or((0, ""), |(at, op)| (*at, op.as_str()));
        let decision = decide(
            field,
            current.as_deref(),
            change.base.as_deref(),
            value.as_deref(),
            clock,
            (ctx.created_at, ctx.op_id),
        );
        let values = (current.as_deref(), value.as_deref());
        match decision {
            Decision::Lost => {
                keep_history(tx, ctx, &resident_id, field, values, "server").await?;
                lost.push(field.label());
                continue;
            }
            Decision::Won => {
                keep_history(tx, ctx, &resident_id, field, values, "incoming").await?;
                won.push(field.label());
            }
            Decision::Apply => {}
        }
        write_field(tx, &resident_id, field, value.as_deref()).await?;
        tx.set_field_clock(&resident_id, field.as_str(), ctx.created_at, ctx.op_id)
            .await?;
        written = true;
    }
    if written {
        finish_edit(tx, ctx, &resident_id, &state.grid_id).await?;
    }
    Ok(edit_verdict(&won, &lost))
}

/// Every profile photo set stays on file, also one replaced later or one that
/// lost to a concurrent edit: the resident's photo history.
async fn keep_photos(tx: &mut Tx, ctx: &OpContext<'_>, resident_id: &str, photos: &[&str]) -> Result<(), ApiError> {
    for photo in photos {
        tx.keep_resident_photo(PhotoSet {
            resident_id,
            photo,
            set_by: &ctx.caller.user.id,
            taken_at: ctx.created_at,
            op_id: ctx.op_id,
        })
        .await?;
    }
    Ok(())
}

/// The bookkeeping of a written edit: updated_at, the pull sequence (in the
/// resident's grid after the edit, and in `left` if a household move changed
/// it), the audit log.
async fn finish_edit(tx: &mut Tx, ctx: &OpContext<'_>, resident_id: &str, left: &str) -> Result<(), ApiError> {
    tx.touch_resident(resident_id, ctx.now).await?;
    let grid_id = tx.resident_grid(resident_id).await?.ok_or(ApiError::Internal)?;
    tx.record_move("resident", resident_id, left, &grid_id, ctx.now);
    audit(tx, ctx, "update", resident_id).await
}

fn edit_verdict(won: &[&str], lost: &[&str]) -> Verdict {
    let mut reasons = Vec::new();
    if !lost.is_empty() {
        reasons.push(format!(
            "{}已被他人改为更新的值，您的修改未采用，已留存供网格长核对",
            lost.join("、")
        ));
    }
    if !won.is_empty() {
        reasons.push(format!(
            "{}同时被他人修改，已采用您较新的修改，原值已留存",
            won.join("、")
        ));
    }
    if reasons.is_empty() {
        Verdict::applied()
    } else {
        Verdict {
            status: OpStatus::Conflict,
            reason: Some(reasons.join("；")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: ResidentField = ResidentField::Name;

    #[test]
    fn an_edit_of_the_value_the_device_saw_applies() {
        let d = decide(NAME, Some("王"), Some("王"), Some("李"), (9, "z"), (1, "a"));
        assert_eq!(d, Decision::Apply);
    }

    #[test]
    fn concurrent_edits_resolve_by_time_then_op_id() {
        assert_eq!(
            decide(NAME, Some("李"), Some("王"), Some("张"), (5, "b"), (6, "a")),
            Decision::Won
        );
        assert_eq!(
            decide(NAME, Some("李"), Some("王"), Some("张"), (5, "b"), (5, "a")),
            Decision::Lost
        );
        assert_eq!(
            decide(NAME, Some("李"), Some("王"), Some("张"), (5, "b"), (5, "c")),
            Decision::Won
        );
        assert_eq!(
            decide(NAME, Some("李"), Some("王"), Some("李"), (9, "b"), (1, "c")),
            Decision::Apply
        );
    }

    #[test]
    fn a_base_as_shown_counts_as_seen_and_id_numbers_always_apply() {
        let phone = ResidentField::Phone;
        let d = decide(
            phone,
            Some("13812345678"),
            Some("138****5678"),
            Some("13900000000"),
            (9, "z"),
            (1, "a"),
        );
        assert_eq!(d, Decision::Apply);
        let id = ResidentField::IdNumber;
        assert_eq!(
            decide(id, Some("x"), None, Some("y"), (9, "z"), (1, "a")),
            Decision::Apply
        );
        // The phone holds the birth year: that year as the base has seen the date…
        let birth = ResidentField::BirthDate;
        let d = decide(
            birth,
            Some("1949-12-31"),
            Some("1949"),
            Some("1950-01-01"),
            (9, "z"),
            (1, "a"),
        );
        assert_eq!(d, Decision::Apply);
        // …another year is a concurrent edit, settled by the rule.
        let d = decide(
            birth,
            Some("1951-02-03"),
            Some("1949"),
            Some("1950-01-01"),
            (9, "z"),
            (1, "a"),
        );
        assert_eq!(d, Decision::Lost);
    }

    #[test]
    fn a_new_id_number_must_hold_the_birth_date() {
        let state = ResidentState {
            resident: store::residents::ResidentRow {
                id: "r".into(),
                household_id: "h".into(),
                name: "王".into(),
                gender: "female".into(),
                birth_date: "1949-12-31".into(),
                id_number: None,
                phone: None,
                registration_type: "registered".into(),
                moved_out: false,
                photo: None,
            },
            grid_id: "g".into(),
        };
        let change = |field, value: &str| FieldChange {
            field,
            base: None,
            value: Some(value.into()),
        };
        let id_1949 = "11010519491231002X".to_owned();
        let id_1950 = IdCardNumber::with_check_char("11010519500101002")
            .unwrap()
            .as_str()
            .to_owned();
        let id_only = |id: &str| (vec![change(ResidentField::IdNumber, id)], vec![Some(id.to_owned())]);
        let (changes, values) = id_only(&id_1949);
        assert!(id_matches_birth_date(&state, &changes, &values));
        let (changes, values) = id_only(&id_1950);
        assert!(
            !id_matches_birth_date(&state, &changes, &values),
            "the stored date is 1949-12-31"
        );
        let changes = vec![
            change(ResidentField::BirthDate, "1950-01-01"),
            change(ResidentField::IdNumber, &id_1950),
        ];
        let values = vec![Some("1950-01-01".to_owned()), Some(id_1950.clone())];
        assert!(id_matches_birth_date(&state, &changes, &values));
        // Clearing the number, or not touching it, needs no date.
        let changes = vec![FieldChange {
            field: ResidentField::IdNumber,
            base: None,
            value: None,
        }];
        assert!(id_matches_birth_date(&state, &changes, &[None]));
        assert!(id_matches_birth_date(&state, &[], &[]));
    }

    #[test]
    fn values_are_checked_and_normalised() {
        let today = CivilDate::parse("2026-11-25").unwrap();
        assert_eq!(normalize(NAME, Some(" 王五 "), today), Ok(Some("王五".into())));
        assert!(normalize(NAME, Some(" "), today).is_err());
        assert!(normalize(ResidentField::MovedOut, Some("yes"), today).is_err());
        assert_eq!(
            normalize(ResidentField::MovedOut, Some(" true"), today),
            Ok(Some("true".into()))
        );
        assert_eq!(normalize(ResidentField::Phone, None, today), Ok(None));
        assert!(normalize(ResidentField::IdNumber, Some("110105194912310021"), today).is_err());
        assert!(normalize(ResidentField::BirthDate, Some("2030-01-01"), today).is_err());
    }

    #[test]
    fn stored_forms_match_the_wire_form() {
        for &field in ResidentField::ALL {
            assert_eq!(serde_json::to_value(field).unwrap(), field.as_str());
        }
    }

    #[test]
    fn moved_out_reads_back_in_its_wire_form() {
        use store::residents::ResidentRow;

        let mut state = ResidentState {
            resident: ResidentRow {
                id: "r".into(),
                household_id: "h".into(),
                name: "王".into(),
                gender: "male".into(),
                birth_date: "1950-01-01".into(),
                id_number: None,
                phone: None,
                registration_type: "registered".into(),
                moved_out: true,
                photo: None,
            },
            grid_id: "g".into(),
        };
        assert_eq!(current_text(&state, ResidentField::MovedOut).as_deref(), Some("true"));
        state.resident.moved_out = false;
        assert_eq!(current_text(&state, ResidentField::MovedOut).as_deref(), Some("false"));
    }
}
