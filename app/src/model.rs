//! What the server sends the pages: already masked, already counted, so the
//! phone never holds more personal data than the screen shows.

use serde::{Deserialize, Serialize};

use crate::domain::{Gender, KeyGroup, Outcome, RegistrationType, Role, VisitType};
use crate::sync::ResidentField;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// The home page: who is signed in and their grids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyGrids {
    pub me: Me,
    pub grids: Vec<GridSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GridSummary {
    pub id: String,
    pub name: String,
    pub community_name: String,
    pub buildings: i64,
    pub households: i64,
    pub residents: i64,
    pub key_households: i64,
    /// Households with at least one visit in the last 30 days.
    pub visited_30d: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GridDetail {
    pub id: String,
    pub name: String,
    pub community_name: String,
    pub buildings: Vec<BuildingSummary>,
    /// Households whose door number matched the search, if there was one.
    pub household_hits: Vec<HouseholdHit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BuildingSummary {
    pub id: String,
    pub number: i64,
    pub name: String,
    pub units: i64,
    pub floors: i64,
    pub households: i64,
    pub visited_30d: i64,
    pub key_households: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HouseholdHit {
    pub id: String,
    pub building_name: String,
    pub unit: i64,
    pub door_number: String,
    pub residents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BuildingDetail {
    pub id: String,
    pub grid_id: String,
    pub grid_name: String,
    pub name: String,
    pub address: String,
    pub units: i64,
    pub floors: i64,
    pub doors_per_floor: i64,
    pub households: Vec<HouseholdCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HouseholdCell {
    pub id: String,
    pub unit: i64,
    pub floor: i64,
    pub door_number: String,
    pub residents: i64,
    pub key_group: bool,
    pub last_visit_days: Option<i64>,
    /// By the visit policy, as `VisitStatus::css` names it: the cell's colour
    /// (a plain string, so the page's WASM needs no decoder for the enum).
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HouseholdDetail {
    pub id: String,
    pub building_id: String,
    pub building_name: String,
    pub grid_name: String,
    pub unit: i64,
    pub floor: i64,
    pub door_number: String,
    pub residents: Vec<ResidentSummary>,
    pub visits: Vec<VisitSummary>,
}

impl HouseholdDetail {
    pub fn label(&self) -> String {
        format!("{}{}单元{}", self.building_name, self.unit, self.door_number)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResidentSummary {
    pub id: String,
    pub name: String,
    pub gender: Gender,
    /// The age reached this year ([`crate::domain::age_this_year`]).
    pub age: i64,
    pub registration_type: RegistrationType,
    pub tags: Vec<KeyGroup>,
    /// The last four characters (`**************002X`).
    pub id_number_masked: Option<String>,
    pub moved_out: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResidentDetail {
    pub resident: ResidentSummary,
    /// The year only: with the date, the masked ID number could be rebuilt.
    pub birth_year: i32,
    pub phone_masked: Option<String>,
    pub household_id: String,
    pub household_label: String,
    pub last_visit_days: Option<i64>,
    /// Hash of the profile photo (served by `/api/photos/{hash}` once uploaded).
    #[serde(default)]
    pub photo: Option<String>,
    /// Earlier profile photos, newest first (the server's record only).
    #[serde(default)]
    pub photo_history: Vec<String>,
    /// Concurrent edits that overwrote a value, for leads to review; always
    /// empty for workers.
    #[serde(default)]
    pub conflicts: Vec<ConflictEntry>,
}

/// One field two phones changed at once: the value kept and the one lost, as
/// the record shows them (`ResidentField::shown`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConflictEntry {
    pub field: ResidentField,
    pub kept: Option<String>,
    pub lost: Option<String>,
    /// Who sent the edit that came second.
    pub by: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VisitSummary {
    pub id: String,
    pub visited_at: i64,
    pub days_ago: i64,
    pub visit_type: VisitType,
    pub outcome: Outcome,
    pub worker_name: String,
    pub notes: String,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// "今天", "3天前".
pub fn days_ago_label(days: i64) -> String {
    match days {
        i64::MIN..=0 => "今天".into(),
        1 => "昨天".into(),
        _ => format!("{days}天前"),
    }
}
