//! Party members in the grid (党建引领): a community's roster of party members
//! — residents and in-service members from outside units (双报到) — their
//! 联系户 and 楼栋党员 links, and each member's 联系卡. Plain server pages for
//! the community's lead (an admin: every community); every change audited in
//! its own transaction. A member may have a phone account (`account`) that
//! reaches their linked households: linking and unlinking put the household
//! in the change feed again.

mod account;
mod card;
mod hours;
mod member;
mod roster;
mod service;

use std::collections::HashMap;

use app::api::parse_id;
use app::auth::ssr::Caller;
use app::domain::{CivilDate, PhoneNumber};
use app::error::ApiError;
use app::policy::BEIJING_OFFSET_MS;
use app::state::now_ms;
use axum::http::StatusCode;
use axum::response::Response;
use leptos::prelude::*;
use store::party::MemberRow;

use crate::routes::Routes;
use crate::staff::{administered, field, page};

pub fn routes() -> Routes {
    roster::routes()
        .merge(member::routes())
        .merge(account::routes())
        .merge(card::routes())
        .merge(service::routes())
        .merge(hours::routes())
}

/// Rank classes, whose visit cadence is data (`party_cadences`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rank {
    CountyLeader,
    Committee,
    Member,
}

impl Rank {
    pub const ALL: [Rank; 3] = [Rank::CountyLeader, Rank::Committee, Rank::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Rank::CountyLeader => "county_leader",
            Rank::Committee => "committee",
            Rank::Member => "member",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Rank::CountyLeader => "县级领导干部",
            Rank::Committee => "党委(党组)成员",
            Rank::Member => "其他党员",
        }
    }

    pub fn parse(text: &str) -> Option<Rank> {
        Rank::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

fn rank_label(rank: &str) -> &'static str {
    Rank::parse(rank).map_or("未知", Rank::label)
}

/// "每两个月1次" for a cadence in months.
fn cadence_label(months: i64) -> String {
    match months {
        1 => "每月1次".into(),
        3 => "每季度1次".into(),
        12 => "每年1次".into(),
        n => format!("每{n}个月1次"),
    }
}

fn link_kind_label(kind: &str) -> &'static str {
    match kind {
        "hardship" => "困难/重点户",
        "ordinary" => "普通户",
        _ => "楼栋党员",
    }
}

/// The 001 rule: an active member has at least one hardship / key-group and
/// one ordinary household. Shown, not enforced.
fn links_short(m: &MemberRow) -> bool {
    m.status == "active" && (m.hardship_links == 0 || m.ordinary_links == 0)
}

/// A work phone as entered: a mobile (`PhoneNumber`) or a landline with its
/// area code (`0571-87654321`), kept as digits with the area code's dash.
pub(crate) fn work_phone(text: &str) -> Result<String, String> {
    if let Ok(mobile) = PhoneNumber::parse(text) {
        return Ok(mobile.as_str().to_owned());
    }
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let landline =
        digits.starts_with('0') && (10..=12).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    if landline {
        // Three-digit area codes (010, 020–029) keep 8 digits after them.
        let split = if digits.as_bytes()[1] <= b'2' { 3 } else { 4 };
        Ok(format!("{}-{}", &digits[..split], &digits[split..]))
    } else {
        Err("工作电话应为11位手机号，或带区号的固定电话（如 0571-87654321）".into())
    }
}

/// Short one-line text of at most `max` characters.
/// Why a member's visit dated before they registered is refused.
pub(crate) const BEFORE_REGISTRATION: &str = "走访时间不能早于该党员的报到日期";

/// The first instant of a member's registration day (`YYYY-MM-DD`), Beijing
/// time; 0 for a date that does not read.
pub(crate) fn registered_from(registered_on: &str) -> i64 {
    CivilDate::parse(registered_on).map_or(0, CivilDate::epoch_day) * app::clock::DAY_MS - BEIJING_OFFSET_MS
}

pub(crate) fn check_text(text: &str, what: &str, min: usize, max: usize) -> Result<(), String> {
    let n = text.chars().count();
    if n < min || n > max || text.contains(['\n', '\r']) {
        return Err(if min == 0 {
            format!("{what}最多{max}个字")
        } else {
            format!("请填写{what}（{min}到{max}个字）")
        });
    }
    Ok(())
}

/// Today in Beijing, as a form writes dates.
fn today() -> CivilDate {
    CivilDate::from_epoch_ms(now_ms() + BEIJING_OFFSET_MS)
}

/// A member's fields as a form gives them, checked.
struct Fields {
    name: String,
    unit: String,
    unit_party_org: String,
    rank: Rank,
    work_phone: Option<String>,
    branch: String,
    group: String,
    registered_on: String,
}

impl Fields {
    /// `in_service`: the unit and work phone are required (the member is
    /// reached through them); a resident member's name comes from the record.
    fn parse(form: &HashMap<String, String>, in_service: bool, name: Option<&str>) -> Result<Fields, String> {
        // A resident's name is the record's, checked when it was entered.
        let name = match name {
            Some(name) => name,
            None => {
                let name = field(form, "name");
                check_text(name, "姓名", 1, 20)?;
                name
            }
        };
        let unit = field(form, "unit");
        check_text(unit, "工作单位", usize::from(in_service), 50)?;
        let unit_party_org = field(form, "unit_party_org");
        check_text(unit_party_org, "单位党组织", 0, 50)?;
        let rank = Rank::parse(field(form, "rank")).ok_or("请选择职级类别")?;
        let work_phone = match field(form, "work_phone") {
            "" if in_service => return Err("请填写工作电话".into()),
            "" => None,
            phone => Some(work_phone(phone)?),
        };
        let branch = field(form, "branch");
        check_text(branch, "党支部", 1, 30)?;
        let group = field(form, "group");
        check_text(group, "党小组", 0, 30)?;
        let registered_on = match field(form, "registered_on") {
            "" => today(),
            text => CivilDate::parse(text).ok_or("报到日期请按 年-月-日 填写")?,
        };
        if registered_on > today() {
            return Err("报到日期不能晚于今天".into());
        }
        Ok(Fields {
            name: name.to_owned(),
            unit: unit.to_owned(),
            unit_party_org: unit_party_org.to_owned(),
            rank,
            work_phone,
            branch: branch.to_owned(),
            group: group.to_owned(),
            registered_on: registered_on.to_string(),
        })
    }

    /// Finds or makes the branch and group named, in `tx`.
    async fn write<'a>(
        &'a self,
        tx: &mut store::Tx,
        community: &str,
        ids: &'a mut (String, Option<String>),
    ) -> Result<store::party::MemberFields<'a>, ApiError> {
        ids.0 = tx.party_branch(community, &self.branch).await?;
        ids.1 = match self.group.as_str() {
            "" => None,
            group => Some(tx.party_group(&ids.0, group).await?),
        };
        Ok(store::party::MemberFields {
            name: &self.name,
            unit: &self.unit,
            unit_party_org: &self.unit_party_org,
            rank: self.rank.as_str(),
            work_phone: self.work_phone.as_deref(),
            branch_id: &ids.0,
            group_id: ids.1.as_deref(),
            registered_on: &self.registered_on,
        })
    }
}

/// The member if the caller runs their community; else 404, audited.
async fn run_member(caller: &Caller, id: &str) -> Result<MemberRow, ApiError> {
    let scope = administered(caller, "party_member").await?;
    let id = parse_id(id)?;
    match caller.store.party_member(&id).await? {
        Some(m) if scope.as_deref().is_none_or(|own| own == m.community_id) => Ok(m),
        _ => {
            caller.audit("denied", "party_member", &id).await?;
            Err(ApiError::not_found())
        }
    }
}

/// 409: this person is registered already, with the way to their record.
fn already_registered(existing: &str) -> Response {
    let body = view! {
        <p><a class="btn" href=format!("/manage/party/members/{existing}")>"查看已登记的记录"</a></p>
    }
    .into_any();
    page(
        "重复登记",
        "/manage/party",
        Some("此人已登记为本社区党员，不能重复登记"),
        StatusCode::CONFLICT,
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_phones() {
        assert_eq!(work_phone("138 1234 5678").as_deref(), Ok("13812345678"));
        assert_eq!(work_phone("0571-87654321").as_deref(), Ok("0571-87654321"));
        assert_eq!(work_phone("01087654321").as_deref(), Ok("010-87654321"));
        assert!(work_phone("12345").is_err());
        assert!(work_phone("0571-8765abcd").is_err());
    }

    #[test]
    fn ranks_round_trip() {
        for rank in Rank::ALL {
            assert_eq!(Rank::parse(rank.as_str()), Some(rank));
        }
        assert_eq!(Rank::parse("secretary"), None);
        assert_eq!(cadence_label(2), "每2个月1次");
        assert_eq!(cadence_label(3), "每季度1次");
    }
}
