//! The sync protocol shared by the phone and the server. A device records
//! changes as [`Operation`]s in a durable outbox; `POST /api/sync/push` applies
//! them exactly once (the server remembers op ids) and answers each with an
//! [`OpResult`]. Validation lives here so the form and the server refuse the
//! same input with the same Chinese message.

use serde::{Deserialize, Serialize};

use crate::domain::{
    CivilDate, Gender, IdCardNumber, KeyGroup, Outcome, PhoneNumber, RegistrationType, VisitType, mask_id_number,
    mask_phone, text_enum,
};
use crate::requests::{Action, Category, FollowUp, RequestStatus, Source};

/// Most operations one push may carry; the client sends its outbox in batches.
pub const MAX_BATCH: usize = 200;

/// Most photos one visit may carry.
pub const MAX_VISIT_PHOTOS: usize = 6;

/// Records name photos by the SHA-256 of their bytes, in lower-case hex: the
/// phone knows the name before the photo is uploaded.
pub fn is_photo_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Operation {
    /// UUIDv7 made on the device; the idempotency key.
    pub op_id: String,
    /// Device clock (epoch ms) when the worker saved; orders concurrent edits.
    pub created_at: i64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
// Externally tagged (`{"record_visit": {…}}`): no buffering deserializer in the WASM.
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Visits are append-only facts: never edited, so never in conflict.
    RecordVisit(VisitInput),
    AddResident(ResidentInput),
    /// Field-level edit: each field carries the value the device last saw.
    EditResident(ResidentEdit),
    /// A request taken at the desk or by phone, or a patrol's report.
    RaiseRequest(RaiseRequestInput),
    /// Work on a request: a note, start, resolve, the follow-up at the door.
    /// Checked against the request as it stands when it arrives.
    RequestAction(RequestActionInput),
    /// A one-time rating code the worker showed as a QR code.
    RatingToken(RatingTokenInput),
    /// Someone ticked present at an activity: credits its hours once, however
    /// often it (or another phone's tick of the same person) arrives.
    CheckIn(CheckInInput),
}

text_enum!(
    /// Concerns noted during a visit.
    Concern {
        Health = "health" / "健康",
        Safety = "safety" / "安全",
        Hardship = "hardship" / "生活困难",
        Housing = "housing" / "住房",
        Dispute = "dispute" / "矛盾纠纷",
        Other = "other" / "其他",
    }
);

/// A request (诉求) raised at the door: its own record, for the request workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestInput {
    pub id: String,
    pub category: String,
    pub text: String,
}

/// A request raised away from a visit form: at the desk (`walk_in`, `phone`)
/// or on patrol about a building, a stairwell or a public place (`patrol`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RaiseRequestInput {
    pub id: String,
    pub source: Source,
    #[serde(default)]
    pub household_id: Option<String>,
    #[serde(default)]
    pub building_id: Option<String>,
    /// Where, when no household is named (楼道、小区北门).
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub contact_phone: Option<String>,
    pub category: String,
    pub text: String,
    #[serde(default)]
    pub photos: Vec<String>,
    /// A receipt code made on the phone and handed to the resident.
    #[serde(default)]
    pub receipt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestActionInput {
    pub request_id: String,
    pub action: Action,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub photos: Vec<String>,
    /// The resident's verdict, for a follow-up.
    #[serde(default)]
    pub follow_up: Option<FollowUp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RatingTokenInput {
    pub request_id: String,
    /// Random, made on the phone; the server keeps only its hash.
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CheckInInput {
    pub activity_id: String,
    /// `member:ID` (a party member) or `resident:ID` (a resident volunteer).
    pub attendee: String,
}

/// Who an attendance tick names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendeeKind {
    Member,
    Resident,
}

impl AttendeeKind {
    pub fn code(self) -> &'static str {
        match self {
            AttendeeKind::Member => "member",
            AttendeeKind::Resident => "resident",
        }
    }
}

/// `member:ID` or `resident:ID`, the id as written; `None` for anything else.
pub fn parse_attendee(value: &str) -> Option<(AttendeeKind, &str)> {
    match value.split_once(':')? {
        ("member", id) => Some((AttendeeKind::Member, id)),
        ("resident", id) => Some((AttendeeKind::Resident, id)),
        _ => None,
    }
}

/// An attendance key: what `parse_attendee` reads back.
pub fn attendee_key(kind: AttendeeKind, id: &str) -> String {
    format!("{}:{id}", kind.code())
}

/// A receipt or rating code: 32 lower-case hex digits of randomness (a UUIDv4
/// without hyphens), unguessable and free of personal data.
pub fn is_code(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VisitInput {
    pub id: String,
    pub household_id: String,
    pub visited_at: i64,
    pub visit_type: VisitType,
    pub outcome: Outcome,
    #[serde(default)]
    pub residents_seen: Vec<String>,
    #[serde(default)]
    pub concerns: Vec<Concern>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub requests: Vec<RequestInput>,
    /// Photo hashes; the photos themselves travel in their own queue.
    #[serde(default)]
    pub photos: Vec<String>,
    /// A party member's time at the door, in minutes (their account's visits
    /// only; none: `DEFAULT_SERVICE_MINUTES`), for their hours ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_minutes: Option<i64>,
    /// A worker recording the visit of a party member linked to the
    /// household, on the member's behalf: it counts as the member's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_member_id: Option<String>,
}

/// A party member's service time on one visit, in minutes: 0.1 to 12 hours.
pub const SERVICE_MINUTES: std::ops::RangeInclusive<i64> = 6..=720;
/// What a member's visit from the phone counts when it carries no time.
pub const DEFAULT_SERVICE_MINUTES: i64 = 60;
/// Service time as a person writes it in hours ("1", "0.5"), in minutes;
/// `None` unless a number within `SERVICE_MINUTES`.
pub fn service_minutes(hours: &str) -> Option<i64> {
    let hours: f64 = hours.trim().parse().ok()?;
    let minutes = (hours * 60.0).round();
    // Bounded before the cast: a huge or NaN number saturates, never wraps.
    (hours.is_finite() && SERVICE_MINUTES.contains(&(minutes as i64))).then_some(minutes as i64)
}

/// "1.5小时", to a tenth of an hour.
pub fn hours_label(minutes: i64) -> String {
    let tenths = (minutes * 10 + 30) / 60;
    if tenths % 10 == 0 {
        format!("{}小时", tenths / 10)
    } else {
        format!("{}.{}小时", tenths / 10, tenths % 10)
    }
}

/// The refusal of a service time out of `SERVICE_MINUTES`.
pub const SERVICE_MINUTES_REFUSED: &str = "服务时长请填写0.1到12之间的小时数（如 1 或 0.5）";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResidentInput {
    pub id: String,
    pub household_id: String,
    pub name: String,
    pub gender: Gender,
    pub birth_date: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub registration_type: RegistrationType,
    #[serde(default)]
    pub tags: Vec<KeyGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResidentEdit {
    pub id: String,
    pub changes: Vec<FieldChange>,
}

text_enum!(
    /// The fields a worker may change on a resident. ID numbers are never sent to
    /// the phone whole, so `IdNumber` has no meaningful base: it always overwrites.
    /// A base may be the value as the phone holds it ([`ResidentField::shown`]).
    ResidentField {
        Name = "name" / "姓名",
        Gender = "gender" / "性别",
        BirthDate = "birth_date" / "出生日期",
        IdNumber = "id_number" / "身份证号",
        Phone = "phone" / "手机号",
        RegistrationType = "registration_type" / "户籍类型",
        MovedOut = "moved_out" / "迁出",
        HouseholdId = "household_id" / "住户",
        Photo = "photo" / "照片",
    }
);

impl ResidentField {
    /// A stored value as phones and pages get it: ID numbers with the last four
    /// characters only, phone numbers with the middle hidden, birth dates as
    /// the year. The whole value stays on the server.
    pub fn shown(self, value: &str) -> String {
        match self {
            ResidentField::IdNumber => mask_id_number(value),
            ResidentField::Phone => mask_phone(value),
            ResidentField::BirthDate => value.chars().take(4).collect(),
            _ => value.to_owned(),
        }
    }
}

/// Values travel as text (`"true"`/`"false"` for moved-out, enum codes for
/// enums, `null` for empty) so one history table holds any field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub field: ResidentField,
    pub base: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Applied now, or earlier (a retry of an op the server already has).
    Applied,
    /// Applied, but a field was also changed elsewhere; the rule decided and
    /// the losing value is kept in history for a lead.
    Conflict,
    /// Refused; stays on the device with the reason until fixed or discarded.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OpResult {
    pub op_id: String,
    pub status: OpStatus,
    /// Why it was rejected, or which fields lost a conflict, in Chinese.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub device_id: String,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<OpResult>,
}

/// A whole ID number holds the birth date; the form and the server refuse
/// one that says another.
pub const ID_BIRTH_DATE_MISMATCH: &str = "身份证号中的出生日期与出生日期不一致，请核对";

/// Field-level messages, keyed by form field, shown next to the input.
pub type FieldErrors = Vec<(&'static str, String)>;

impl ResidentInput {
    /// Checks a new resident as the form and the server both must.
    pub fn validate(&self, today: CivilDate) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(("name", "请填写姓名".into()));
        } else if name.chars().count() > 30 {
            errors.push(("name", "姓名不能超过30个字".into()));
        }
        if let Err(e) = check_birth_date(&self.birth_date, today) {
            errors.push(("birth_date", e));
        }
        if let Some(id) = self.id_number.as_deref().filter(|s| !s.trim().is_empty()) {
            match IdCardNumber::parse(id) {
                Ok(id)
                    if CivilDate::parse(&id.birth_date()).map(|d| d.to_string()) != Some(self.birth_date.clone()) =>
                {
                    errors.push(("id_number", ID_BIRTH_DATE_MISMATCH.into()))
                }
                Ok(_) => {}
                Err(e) => errors.push(("id_number", e)),
            }
        }
        if let Some(phone) = self.phone.as_deref().filter(|s| !s.trim().is_empty())
            && let Err(e) = PhoneNumber::parse(phone)
        {
            errors.push(("phone", e));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// A birth date must be a real date, not in the future, and a living age.
pub fn check_birth_date(text: &str, today: CivilDate) -> Result<CivilDate, String> {
    let date = CivilDate::parse(text).ok_or_else(|| "请按 年-月-日 填写出生日期，如 1950-03-15".to_string())?;
    if date > today {
        return Err("出生日期不能晚于今天".into());
    }
    if date.age_on(today) > 120 {
        return Err("出生日期过早，请核对".into());
    }
    Ok(date)
}

impl VisitInput {
    pub fn validate(&self, now_ms: i64) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        // A phone's clock may be off, but not by more than a day ahead.
        if self.visited_at > now_ms + 86_400_000 {
            errors.push(("visited_at", "走访时间晚于当前时间，请检查手机时间".into()));
        }
        if self.notes.chars().count() > 2000 {
            errors.push(("notes", "备注不能超过2000字".into()));
        }
        for request in &self.requests {
            if request.text.trim().is_empty() {
                errors.push(("requests", "请填写诉求内容".into()));
            } else if request.text.chars().count() > 1000 {
                errors.push(("requests", "诉求内容不能超过1000字".into()));
            }
        }
        if self.photos.len() > MAX_VISIT_PHOTOS {
            errors.push(("photos", format!("一次走访最多附{MAX_VISIT_PHOTOS}张照片")));
        } else if !self.photos.iter().all(|h| is_photo_hash(h)) {
            errors.push(("photos", "照片编号不正确，请删除照片后重拍".into()));
        }
        if self.service_minutes.is_some_and(|m| !SERVICE_MINUTES.contains(&m)) {
            errors.push(("service_minutes", SERVICE_MINUTES_REFUSED.into()));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// One line for a rejected operation: the messages joined.
pub fn describe(errors: &FieldErrors) -> String {
    errors.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("；")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> CivilDate {
        CivilDate::parse("2026-11-25").unwrap()
    }

    fn resident() -> ResidentInput {
        ResidentInput {
            id: "0190a000-0000-7000-8000-000000000001".into(),
            household_id: "0190a000-0000-7000-8000-000000000002".into(),
            name: "王秀英".into(),
            gender: Gender::Female,
            birth_date: "1949-12-31".into(),
            id_number: Some("11010519491231002X".into()),
            phone: Some("13812345678".into()),
            registration_type: RegistrationType::Registered,
            tags: vec![KeyGroup::ElderlyAlone],
        }
    }

    #[test]
    fn a_good_resident_passes() {
        assert_eq!(resident().validate(today()), Ok(()));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut r = resident();
        r.name = " ".into();
        r.id_number = Some("110105194912310021".into());
        r.phone = Some("123".into());
        let errors = r.validate(today()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, vec!["name", "id_number", "phone"]);
        assert!(describe(&errors).contains("校验位"));
    }

    #[test]
    fn birth_dates_must_be_plausible_and_match_the_id() {
        let mut r = resident();
        r.birth_date = "1950-01-01".into();
        assert_eq!(r.validate(today()).unwrap_err()[0].0, "id_number");
        assert!(check_birth_date("2027-01-01", today()).is_err());
        assert!(check_birth_date("1890-01-01", today()).is_err());
        assert!(check_birth_date("1950/01/01", today()).is_err());
    }

    #[test]
    fn fields_are_shown_as_phones_hold_them() {
        assert_eq!(
            ResidentField::IdNumber.shown("11010519491231002X"),
            "**************002X"
        );
        assert_eq!(ResidentField::BirthDate.shown("1949-12-31"), "1949");
        assert_eq!(ResidentField::Phone.shown("13812345678"), "138****5678");
        assert_eq!(ResidentField::Name.shown("王秀英"), "王秀英");
    }

    #[test]
    fn hours_read_to_a_tenth_and_attendees_by_kind() {
        assert_eq!(hours_label(90), "1.5小时");
        assert_eq!(hours_label(120), "2小时");
        assert_eq!(hours_label(0), "0小时");
        let key = attendee_key(AttendeeKind::Resident, "r1");
        assert_eq!(parse_attendee(&key), Some((AttendeeKind::Resident, "r1")));
        assert_eq!(parse_attendee("member:m1"), Some((AttendeeKind::Member, "m1")));
        assert_eq!(parse_attendee("worker:w1"), None);
        assert_eq!(parse_attendee("m1"), None);
    }

    #[test]
    fn operations_have_a_stable_wire_form() {
        let op = Operation {
            op_id: "op".into(),
            created_at: 1,
            change: Change::EditResident(ResidentEdit {
                id: "r".into(),
                changes: vec![FieldChange {
                    field: ResidentField::Phone,
                    base: None,
                    value: Some("13800000000".into()),
                }],
            }),
        };
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(
            json,
            r#"{"op_id":"op","created_at":1,"change":{"edit_resident":{"id":"r","changes":[{"field":"phone","base":null,"value":"13800000000"}]}}}"#
        );
        assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), op);
    }
}

/// `GET /api/sync/pull?cursor=N&limit=M[&grid=ID]`: what changed after the
/// device's cursor, in the grids the caller may see now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// The grids the caller may see now. Data of any other grid must leave
    /// the device (a grid reassigned away).
    pub scope: Vec<GridRef>,
    pub records: Vec<Record>,
    /// The visit policies now: the phone works out due and overdue offline.
    #[serde(default)]
    pub policies: Vec<crate::policy::Policy>,
    /// The request categories offered now.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// A party member's account: whose visits are theirs, and how often.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberDuty>,
    /// Pass back as `cursor` for the next page.
    pub next_cursor: i64,
    /// More pages wait after `next_cursor`.
    pub more: bool,
}

/// What a party member's phone needs for their due list offline: their id
/// (their visits carry it) and their rank's cadence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberDuty {
    pub member_id: String,
    /// One visit per calendar block of this many months (`policy::period_start`).
    pub cadence_months: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GridRef {
    pub id: String,
    pub name: String,
}

/// The current state of one changed record. Residents travel masked, as on
/// every other route: the phone never holds a whole ID or phone number, nor a
/// birth date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum Record {
    Building(BuildingRecord),
    Household(HouseholdRecord),
    Resident(ResidentRecord),
    Visit(VisitRecord),
    Request(RequestRecord),
    /// A record that left the caller's grids (its building moved to a grid
    /// they do not hold, a resident to a household there): the phone deletes
    /// its copy. Sent for every change of it the page covers, so also to a
    /// phone that never held it (a delete of nothing).
    Removed(Removal),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Removal {
    pub record: Removable,
    pub id: String,
}

/// The records a removal names. Visits leave with their household, under
/// whose id the phone keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Removable {
    Building,
    Household,
    Resident,
    Request,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BuildingRecord {
    pub id: String,
    pub grid_id: String,
    pub number: i64,
    pub name: String,
    pub address: String,
    pub units: i64,
    pub floors: i64,
    pub doors_per_floor: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HouseholdRecord {
    pub id: String,
    pub grid_id: String,
    pub building_id: String,
    pub unit: i64,
    pub floor: i64,
    pub door_number: String,
    /// The party members linked to the household (联系户), for a worker
    /// recording a visit on a member's behalf. Only the visit form reads it,
    /// from the phone's copy (`phone::local::linked_members`): the pages'
    /// parse skips it, which keeps it out of the first page load.
    #[serde(default, skip_deserializing, skip_serializing_if = "Vec::is_empty")]
    pub party_members: Vec<LinkedMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkedMember {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResidentRecord {
    pub id: String,
    pub grid_id: String,
    pub household_id: String,
    pub name: String,
    pub gender: Gender,
    /// The year only (see [`crate::domain::age_this_year`]); a copy from before
    /// has none and is pulled again (`SCHEMA` in `phone::local`).
    #[serde(default)]
    pub birth_year: i32,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub registration_type: RegistrationType,
    pub tags: Vec<KeyGroup>,
    pub moved_out: bool,
    /// Hash of the profile photo, which may not have reached the server yet.
    #[serde(default)]
    pub photo: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VisitRecord {
    pub id: String,
    pub grid_id: String,
    pub household_id: String,
    pub visited_at: i64,
    pub visit_type: VisitType,
    pub outcome: Outcome,
    pub worker_name: String,
    pub notes: String,
    #[serde(default)]
    pub photos: Vec<String>,
    /// The party member whose visit this was (issue 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_member_id: Option<String>,
}

/// A request as the phones of its grid hold it: what a worker needs to work
/// on it and follow it up; no contact phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestRecord {
    pub id: String,
    pub grid_id: String,
    pub household_id: Option<String>,
    pub building_id: Option<String>,
    pub place: String,
    pub source: Source,
    pub category: String,
    pub text: String,
    pub status: RequestStatus,
    pub first_contact: Option<String>,
    pub assignee_id: Option<String>,
    /// The worker's name, or the outside unit (物业、城管) it went to.
    pub assignee: Option<String>,
    pub created_at: i64,
    pub resolve_due: i64,
    pub resolution: Option<String>,
    pub reopen_count: i64,
}
