//! Domain values shared by the phone (WASM) and the server: parsed once, with a
//! message a worker can act on, so the same rule holds offline and online.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// An enumeration stored as snake_case text (database, JSON) and shown in Chinese.
macro_rules! text_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident = $text:literal / $label:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        // Through text: one shared string deserializer instead of a visitor
        // per enum, which keeps the WASM small.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($variant),+ }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(text: String) -> Result<Self, String> {
                Self::parse(&text).ok_or_else(|| format!("unknown {}: {text}", stringify!($name)))
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.as_str()
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The Chinese label shown in the UI.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        // The API document (server only) lists the codes as they travel, with
        // their labels: a derive would list the variants' Rust names.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::domain::text_enum_schema(&[$($doc),*], &[$(($text, $label)),+])
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}
    };
}

/// A [`text_enum!`]'s schema: a string of one of the codes, described by the
/// enum's doc comment and each code's Chinese label.
#[cfg(feature = "ssr")]
pub fn text_enum_schema(
    doc: &[&str],
    codes: &[(&str, &str)],
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let labels = codes.iter().map(|(code, label)| format!("{code} {label}"));
    let description = doc
        .iter()
        .map(|line| line.trim())
        .chain(std::iter::once("Chinese labels:"))
        .collect::<Vec<_>>()
        .join(" ")
        + " "
        + &labels.collect::<Vec<_>>().join(", ")
        + ".";
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|(code, _)| *code)))
        .description(Some(description.trim_start()))
        .into()
}

pub(crate) use text_enum;

text_enum!(Role {
    Admin = "admin" / "管理员",
    Lead = "lead" / "网格长",
    Worker = "worker" / "网格员",
    // A party member's light account (issue 18 #3): their linked households only.
    Member = "member" / "党员",
});

impl Role {
    /// Staff accounts' roles, which the staff pages, the staff import and
    /// `server user add` make; a member's account is opened from their entry
    /// in the party roster.
    pub const STAFF: &'static [Role] = &[Role::Admin, Role::Lead, Role::Worker];

    /// A staff role by its code.
    pub fn parse_staff(text: &str) -> Option<Role> {
        Role::parse(text).filter(|r| Role::STAFF.contains(r))
    }
}

text_enum!(Gender {
    Male = "male" / "男",
    Female = "female" / "女",
});

text_enum!(
    /// 户籍 / 常住 / 流动 / 租户.
    RegistrationType {
        Registered = "registered" / "户籍",
        Permanent = "permanent" / "常住",
        Floating = "floating" / "流动",
        Tenant = "tenant" / "租户",
    }
);

text_enum!(
    /// Key groups (重点人群) who are visited more often.
    KeyGroup {
        ElderlyAlone = "elderly_alone" / "独居老人",
        EmptyNest = "empty_nest" / "空巢老人",
        Disabled = "disabled" / "残疾人",
        SevereIllness = "severe_illness" / "重残重病",
        LowIncome = "low_income" / "低保户",
        Wubao = "wubao" / "五保户",
        Hardship = "hardship" / "困难家庭",
        MilitaryFamily = "military_family" / "军烈属",
        RetiredCadre = "retired_cadre" / "离休干部",
        LeftBehindChild = "left_behind_child" / "留守儿童",
    }
);

text_enum!(VisitType {
    Routine = "routine" / "常规走访",
    KeyCare = "key_care" / "重点关爱",
    FourDoors = "four_doors" / "四门行动",
    FollowUp = "follow_up" / "回访",
});

text_enum!(Outcome {
    Met = "met" / "已见面",
    NobodyHome = "nobody_home" / "无人在家",
    Refused = "refused" / "拒绝入户",
    MovedOut = "moved_out" / "已搬离",
});

/// A mainland resident ID-card number (GB 11643-1999): 17 digits and a check
/// character, with the birth date inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdCardNumber(String);

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

impl IdCardNumber {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim().to_ascii_uppercase();
        let bytes = text.as_bytes();
        if bytes.len() != 18 {
            return Err("身份证号应为18位".into());
        }
        if !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err("身份证号前17位应为数字".into());
        }
        if check_char(&bytes[..17]) != bytes[17] {
            return Err("身份证号校验位不正确，请核对".into());
        }
        if CivilDate::parse_compact(&text[6..14]).is_none() {
            return Err("身份证号中的出生日期无效".into());
        }
        Ok(Self(text))
    }

    /// Completes 17 digits with their check character (used by the demo generator).
    pub fn with_check_char(first17: &str) -> Result<Self, String> {
        let check = check_char(first17.as_bytes()) as char;
        Self::parse(&format!("{first17}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date written in the number, `YYYY-MM-DD`.
    pub fn birth_date(&self) -> String {
        let d = &self.0[6..14];
        format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
    }

    /// The 17th digit is odd for men, even for women.
    pub fn gender(&self) -> Gender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }
}

fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(digit, weight)| u32::from(digit.saturating_sub(b'0')) * weight)
        .sum();
    ID_CHECK[(sum % 11) as usize]
}

/// Shows the last four characters only (`**************002X`): enough for a
/// worker to confirm a card held up at the door. Beside a birth year, the
/// hidden fourteen leave the area code and every day of that year open: even a
/// guessed area code leaves some 33 numbers that pass the check character,
/// where the first four kept with the whole birth date left about 9.
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 0, 4)
}

/// The age a resident reaches this year: pages and phones get the birth year,
/// not the date (with it, a masked ID number could be rebuilt), and the phone's
/// offline pages must say what the server's say.
pub fn age_this_year(birth_year: i32, today: CivilDate) -> i64 {
    i64::from(today.year() - birth_year)
}

/// `138****5678`.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

fn mask_middle(text: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= chars.len() - keep_end {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// A mainland mobile number: 11 digits starting with 1[3-9].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let b = digits.as_bytes();
        if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' || b[1] < b'3' {
            return Err("手机号应为11位数字，以13–19开头".into());
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date without a time zone, as written on forms (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CivilDate(Date);

impl CivilDate {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = Month::try_from(month).ok()?;
        Date::from_calendar_date(year, month, day).ok().map(Self)
    }

    /// `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, '-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        Self::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    /// `YYYYMMDD`, as inside an ID-card number.
    fn parse_compact(text: &str) -> Option<Self> {
        if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Self::new(
            text[..4].parse().ok()?,
            text[4..6].parse().ok()?,
            text[6..].parse().ok()?,
        )
    }

    /// The UTC date of an epoch-milliseconds instant.
    pub fn from_epoch_ms(ms: i64) -> Self {
        const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;
        let julian = UNIX_EPOCH_JULIAN_DAY + ms.div_euclid(86_400_000);
        Self(Date::from_julian_day(julian as i32).unwrap_or(Date::MIN))
    }

    /// Days since 1970-01-01.
    pub fn epoch_day(self) -> i64 {
        i64::from(self.0.to_julian_day()) - 2_440_588
    }

    /// 1 to 12.
    pub fn month(self) -> u8 {
        self.0.month() as u8
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// Whole years from `self` (a birth date) to `today`.
    pub fn age_on(self, today: CivilDate) -> i64 {
        let had_birthday = (today.0.month() as u8, today.0.day()) >= (self.0.month() as u8, self.0.day());
        i64::from(today.0.year() - self.0.year()) - i64::from(!had_birthday)
    }

    pub fn to_compact(self) -> String {
        format!("{:04}{:02}{:02}", self.0.year(), self.0.month() as u8, self.0.day())
    }
}

impl std::fmt::Display for CivilDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month() as u8,
            self.0.day()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_card_check_digit() {
        // Published GB 11643 example.
        assert!(IdCardNumber::parse("11010519491231002X").is_ok());
        assert!(IdCardNumber::parse("11010519491231002x").is_ok());
        assert_eq!(
            IdCardNumber::parse("110105194912310021").unwrap_err(),
            "身份证号校验位不正确，请核对"
        );
        assert!(IdCardNumber::parse("1101051949123100").is_err());
        assert!(IdCardNumber::parse("11010519491331002X").is_err());
        let made = IdCardNumber::with_check_char("11010519491231002").unwrap();
        assert_eq!(made.as_str(), "11010519491231002X");
        assert_eq!(made.birth_date(), "1949-12-31");
        // "002": even, a woman (the published example is 王秀英's kind of number).
        assert_eq!(made.gender(), Gender::Female);
        assert_eq!(
            IdCardNumber::with_check_char("11010519491231001").unwrap().gender(),
            Gender::Male
        );
    }

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask_id_number("11010519491231002X"), "**************002X");
        assert_eq!(mask_id_number("1234"), "****");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
    }

    #[test]
    fn phone_numbers() {
        assert!(PhoneNumber::parse("138 1234 5678").is_ok());
        assert!(PhoneNumber::parse("12812345678").is_err());
        assert!(PhoneNumber::parse("1381234567").is_err());
    }

    #[test]
    fn dates_and_ages() {
        let birth = CivilDate::parse("1950-03-15").unwrap();
        assert_eq!(birth.age_on(CivilDate::parse("2026-03-14").unwrap()), 75);
        assert_eq!(birth.age_on(CivilDate::parse("2026-03-15").unwrap()), 76);
        // From the year alone, before and after the birthday alike.
        assert_eq!(age_this_year(1950, CivilDate::parse("2026-03-14").unwrap()), 76);
        assert_eq!(age_this_year(1950, CivilDate::parse("2026-12-31").unwrap()), 76);
        assert!(CivilDate::parse("2026-02-30").is_none());
        assert!(CivilDate::parse("26-02-01").is_none());
        assert_eq!(CivilDate::from_epoch_ms(0).to_string(), "1970-01-01");
        assert_eq!(CivilDate::from_epoch_ms(1_764_115_200_000).to_string(), "2025-11-26");
    }

    #[test]
    fn text_enums_round_trip() {
        for tag in KeyGroup::ALL {
            assert_eq!(KeyGroup::parse(tag.as_str()), Some(*tag));
        }
        assert_eq!(RegistrationType::Floating.label(), "流动");
        assert_eq!(Role::parse("root"), None);
    }
}
