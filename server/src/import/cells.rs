//! One cell to one domain value, or a reason in Chinese that tells the person
//! what to change in their spreadsheet.
//!
//! An empty cell gives `Ok(None)` (or an empty list): whether a value must be
//! there is the importer's rule, not the cell's (a birth date and a gender can
//! come from the ID number). An error cell (`#N/A`, `#REF!`) is always refused:
//! a formula that broke in the ledger must not become a name or a number.

use std::ops::RangeInclusive;

use app::domain::{CivilDate, Gender, IdCardNumber, KeyGroup, PhoneNumber, RegistrationType, Role};

use super::Cell;
use crate::party::Rank;

/// Full-width ASCII (Ｕ+FF01–FF5E, as typed with a Chinese input method) to
/// its half-width form.
pub(super) fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// The cell as text: half-width, spaces (the ideographic one and NBSP too)
/// collapsed and trimmed, whole numbers without ".0", dates as `YYYY-MM-DD`.
pub fn text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(text) => half_width(text).split_whitespace().collect::<Vec<_>>().join(" "),
        Cell::Number(n) => number_text(*n),
        Cell::Date(serial) => from_serial(*serial).map_or_else(|_| number_text(*serial), |d| d.to_string()),
        Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Cell::Error(code) => code.clone(),
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Free text (a name, an address): [`text`], with error cells refused.
pub fn value(cell: &Cell) -> Result<Option<String>, String> {
    if let Cell::Error(code) = cell {
        return Err(format!("单元格是错误值 {code}（公式出错）：请改为实际内容"));
    }
    let text = text(cell);
    Ok((!text.is_empty()).then_some(text))
}

const ID_LOST_DIGITS: &str = "身份证号被 Excel 存成了数字，末几位已丢失：请把该列设为“文本”格式，重新填写后再导入";

/// An ID-card number. Excel turns a typed 18-digit number into a float that
/// keeps only 15 digits (shown as 1.10105E+17): that number cannot be
/// repaired, only typed again into a text column.
pub fn id_number(cell: &Cell) -> Result<Option<IdCardNumber>, String> {
    if let Cell::Number(n) = cell
        && n.abs() >= 1e15
    {
        return Err(ID_LOST_DIGITS.into());
    }
    let Some(text) = value(cell)? else {
        return Ok(None);
    };
    // A leading apostrophe is how people force text in Excel; some exports keep it.
    let text: String = text
        .trim_start_matches('\'')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let scientific = text
        .to_ascii_uppercase()
        .split_once('E')
        .is_some_and(|(mantissa, exponent)| {
            mantissa.parse::<f64>().is_ok() && exponent.trim_start_matches('+').parse::<u32>().is_ok()
        });
    if scientific {
        return Err(ID_LOST_DIGITS.into());
    }
    IdCardNumber::parse(&text).map(Some)
}

/// A mobile number, with spaces, dashes, brackets and a +86 prefix removed.
pub fn phone(cell: &Cell) -> Result<Option<PhoneNumber>, String> {
    let Some(text) = value(cell)? else {
        return Ok(None);
    };
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits);
    PhoneNumber::parse(digits).map(Some)
}

/// Days from 1899-12-30 to 1970-01-01: Excel's day 0 as the 1900 system
/// counts after its (nonexistent) 1900-02-29.
const EXCEL_EPOCH_OFFSET: i64 = 25_569;

/// An Excel serial day (1900 system, 1 = 1900-01-01) to a date.
fn from_serial(serial: f64) -> Result<CivilDate, String> {
    let day = serial.floor();
    if !(1.0..2_958_466.0).contains(&day) {
        return Err(format!("无法识别的日期 {}：请写成 1985-03-12", number_text(serial)));
    }
    let day = day as i64;
    // Excel counts 1900 as a leap year (Lotus 1-2-3's bug, kept for
    // compatibility): day 60 is 1900-02-29, which never was.
    if day == 60 {
        return Err("1900年2月29日不存在：请核对日期".into());
    }
    let epoch_day = if day < 60 {
        day - EXCEL_EPOCH_OFFSET + 1
    } else {
        day - EXCEL_EPOCH_OFFSET
    };
    Ok(CivilDate::from_epoch_ms(epoch_day * 86_400_000))
}

/// A date from a date cell (an Excel serial day) or written as 1985-03-12,
/// 1985/3/12, 1985.3.12, 1985年3月12日 or 19850312.
pub fn date(cell: &Cell) -> Result<Option<CivilDate>, String> {
    match cell {
        Cell::Date(serial) => from_serial(*serial).map(Some),
        Cell::Number(n) if n.fract() == 0.0 && (10_000_000.0..100_000_000.0).contains(n) => {
            date_text(&number_text(*n)).map(Some)
        }
        // A year alone would otherwise be read as a day in 1905.
        Cell::Number(n) if (1000.0..3000.0).contains(n) => {
            Err(format!("只填了年份 {}：请写完整日期，如 1985-03-12", number_text(*n)))
        }
        Cell::Number(n) => from_serial(*n).map(Some),
        _ => value(cell)?.map(|text| date_text(&text)).transpose(),
    }
}

fn date_text(text: &str) -> Result<CivilDate, String> {
    let unreadable = || format!("无法识别的日期“{text}”：请写成 1985-03-12、1985/3/12 或 1985年3月12日");
    // "1985-03-12 00:00:00" and "1985-03-12T00:00:00" as some systems export.
    let day = text.split([' ', 'T']).next().unwrap_or_default();
    let unified: String = day
        .chars()
        .filter(|c| *c != '日')
        .map(|c| if matches!(c, '年' | '月' | '/' | '.') { '-' } else { c })
        .collect();
    let parts: Vec<&str> = if unified.len() == 8 && unified.bytes().all(|b| b.is_ascii_digit()) {
        vec![&unified[..4], &unified[4..6], &unified[6..]]
    } else {
        unified.split('-').collect()
    };
    let [year, month, day] = parts[..] else {
        return Err(unreadable());
    };
    if ![year, month, day]
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(unreadable());
    }
    if year.len() != 4 || month.len() > 2 || day.len() > 2 {
        return Err(format!("日期“{text}”的年份请写四位，月、日各一到两位，如 1985-03-12"));
    }
    let (year, month, day) = (
        year.parse().map_err(|_| unreadable())?,
        month.parse().map_err(|_| unreadable())?,
        day.parse().map_err(|_| unreadable())?,
    );
    CivilDate::new(year, month, day).ok_or_else(|| format!("日期不存在：{year}年{month}月{day}日"))
}

pub fn gender(cell: &Cell) -> Result<Option<Gender>, String> {
    let Some(text) = value(cell)? else {
        return Ok(None);
    };
    match text.to_lowercase().as_str() {
        "男" | "男性" | "m" | "male" => Ok(Some(Gender::Male)),
        "女" | "女性" | "f" | "female" => Ok(Some(Gender::Female)),
        _ => Err(format!("性别应为 男 或 女（填写的是“{text}”）")),
    }
}

/// Finds a value by its label, its stored form, or a common variant.
fn lookup<T: Copy>(text: &str, all: &[T], names: impl Fn(T) -> [&'static str; 2], variants: &[(&str, T)]) -> Option<T> {
    all.iter()
        .copied()
        .find(|v| names(*v).contains(&text))
        .or_else(|| variants.iter().find(|(word, _)| *word == text).map(|(_, v)| *v))
}

fn labels<T: Copy>(all: &[T], label: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|v| label(*v)).collect::<Vec<_>>().join("、")
}

const REGISTRATION_VARIANTS: &[(&str, RegistrationType)] = &[
    ("户籍人口", RegistrationType::Registered),
    ("户籍人员", RegistrationType::Registered),
    ("户籍居民", RegistrationType::Registered),
    ("本地户籍", RegistrationType::Registered),
    ("常住人口", RegistrationType::Permanent),
    ("常住人员", RegistrationType::Permanent),
    ("流动人口", RegistrationType::Floating),
    ("流动人员", RegistrationType::Floating),
    ("外来人口", RegistrationType::Floating),
    ("暂住人口", RegistrationType::Floating),
    ("租住", RegistrationType::Tenant),
    ("租房", RegistrationType::Tenant),
    ("租住户", RegistrationType::Tenant),
];

pub fn registration_type(cell: &Cell) -> Result<Option<RegistrationType>, String> {
    let Some(text) = value(cell)? else {
        return Ok(None);
    };
    let all = RegistrationType::ALL;
    lookup(&text, all, |v| [v.label(), v.as_str()], REGISTRATION_VARIANTS)
        .map(Some)
        .ok_or_else(|| {
            format!(
                "不认识的户籍类型“{text}”，可填：{}",
                labels(all, RegistrationType::label)
            )
        })
}

const KEY_GROUP_VARIANTS: &[(&str, KeyGroup)] = &[
    ("独居", KeyGroup::ElderlyAlone),
    ("独居老年人", KeyGroup::ElderlyAlone),
    ("空巢", KeyGroup::EmptyNest),
    ("空巢老年人", KeyGroup::EmptyNest),
    ("残疾", KeyGroup::Disabled),
    ("残疾人员", KeyGroup::Disabled),
    ("残障人士", KeyGroup::Disabled),
    ("重残", KeyGroup::SevereIllness),
    ("重病", KeyGroup::SevereIllness),
    ("大病", KeyGroup::SevereIllness),
    ("低保", KeyGroup::LowIncome),
    ("低保对象", KeyGroup::LowIncome),
    ("低保家庭", KeyGroup::LowIncome),
    ("低保人员", KeyGroup::LowIncome),
    ("五保", KeyGroup::Wubao),
    ("五保对象", KeyGroup::Wubao),
    // 特困人员 is what 五保 has been called since 2014.
    ("特困", KeyGroup::Wubao),
    ("特困人员", KeyGroup::Wubao),
    ("特困供养", KeyGroup::Wubao),
    ("困难户", KeyGroup::Hardship),
    ("困难群众", KeyGroup::Hardship),
    ("军属", KeyGroup::MilitaryFamily),
    ("烈属", KeyGroup::MilitaryFamily),
    ("优抚对象", KeyGroup::MilitaryFamily),
    ("离休", KeyGroup::RetiredCadre),
    ("离休人员", KeyGroup::RetiredCadre),
    ("留守", KeyGroup::LeftBehindChild),
];

/// Separators people use between several values in one cell (after
/// [`text`], so full-width commas and semicolons are already half-width).
const SEPARATORS: [char; 6] = ['、', ',', ';', '/', '|', ' '];

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(SEPARATORS).filter(|part| !part.is_empty())
}

/// Key groups (重点人群), several in one cell; 无 means none.
pub fn tags(cell: &Cell) -> Result<Vec<KeyGroup>, String> {
    let Some(text) = value(cell)? else {
        return Ok(Vec::new());
    };
    let all = KeyGroup::ALL;
    let mut tags = Vec::new();
    for part in split(&text).filter(|part| !matches!(*part, "无" | "否" | "-")) {
        let tag = lookup(part, all, |v| [v.label(), v.as_str()], KEY_GROUP_VARIANTS)
            .ok_or_else(|| format!("不认识的重点人群“{part}”，可填：{}", labels(all, KeyGroup::label)))?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

const ROLE_VARIANTS: &[(&str, Role)] = &[
    ("专职网格员", Role::Worker),
    ("兼职网格员", Role::Worker),
    ("专兼职网格员", Role::Worker),
    ("社区网格员", Role::Worker),
    ("社区网格长", Role::Lead),
    ("系统管理员", Role::Admin),
    ("街道管理员", Role::Admin),
];

pub fn role(cell: &Cell) -> Result<Option<Role>, String> {
    let Some(text) = value(cell)? else {
        return Ok(None);
    };
    let all = Role::STAFF;
    lookup(&text, all, |v| [v.label(), v.as_str()], ROLE_VARIANTS)
        .map(Some)
        .ok_or_else(|| format!("不认识的角色“{text}”，可填：{}", labels(all, Role::label)))
}

const RANK_VARIANTS: &[(&str, Rank)] = &[
    ("县级领导", Rank::CountyLeader),
    ("县处级领导干部", Rank::CountyLeader),
    ("县处级干部", Rank::CountyLeader),
    ("党委（党组）成员", Rank::Committee),
    ("党委成员", Rank::Committee),
    ("党组成员", Rank::Committee),
    ("党委委员", Rank::Committee),
    ("党员", Rank::Member),
    ("普通党员", Rank::Member),
    ("一般党员", Rank::Member),
];

/// A party member's rank class.
pub fn rank(cell: &Cell) -> Result<Option<Rank>, String> {
    let Some(text) = value(cell)? else {
        return Ok(None);
    };
    let all = &Rank::ALL;
    lookup(&text, all, |v| [v.label(), v.as_str()], RANK_VARIANTS)
        .map(Some)
        .ok_or_else(|| format!("不认识的职级类别“{text}”，可填：{}", labels(all, Rank::label)))
}

/// A work phone: a mobile, or a landline with its area code.
pub fn work_phone(cell: &Cell) -> Result<Option<String>, String> {
    match value(cell)? {
        Some(text) => crate::party::work_phone(&text).map(Some),
        None => Ok(None),
    }
}

/// Several names in one cell (a staff member's grids), without repeats.
pub fn names_list(cell: &Cell) -> Result<Vec<String>, String> {
    let Some(text) = value(cell)? else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = Vec::new();
    for part in split(&text) {
        if !names.iter().any(|name| name == part) {
            names.push(part.to_owned());
        }
    }
    Ok(names)
}

/// A count or a position (units, floors, doors per floor): 3, "3", "3层",
/// "第3单元", "三单元". `what` names it in the reason ("层数").
pub fn positive_integer(cell: &Cell, what: &str, range: RangeInclusive<u32>) -> Result<Option<u32>, String> {
    let n = match cell {
        Cell::Number(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n) => *n as u32,
        Cell::Number(n) => return Err(format!("{what}应为整数（填写的是 {}）", number_text(*n))),
        _ => {
            let Some(text) = value(cell)? else {
                return Ok(None);
            };
            count(&text).ok_or_else(|| format!("{what}应为数字，如 3（填写的是“{text}”）"))?
        }
    };
    if !range.contains(&n) {
        return Err(format!(
            "{what}应在 {}–{} 之间（填写的是 {n}）",
            range.start(),
            range.end()
        ));
    }
    Ok(Some(n))
}

const CHINESE_DIGITS: &str = "零一二三四五六七八九";

fn count(text: &str) -> Option<u32> {
    let text = text.strip_prefix('第').unwrap_or(text);
    let split = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || CHINESE_DIGITS.contains(*c) || matches!(c, '十' | '两')))
        .map_or(text.len(), |(i, _)| i);
    let (number, unit) = text.split_at(split);
    if !matches!(
        unit,
        "" | "层" | "楼" | "单元" | "户" | "号" | "栋" | "个" | "套" | "间"
    ) {
        return None;
    }
    number.parse().ok().or_else(|| chinese_number(number))
}

/// 一 to 九十九, as units and floors are often written (三单元).
fn chinese_number(text: &str) -> Option<u32> {
    let digit = |c: char| match c {
        '两' => Some(2),
        c => CHINESE_DIGITS.chars().position(|d| d == c).map(|d| d as u32),
    };
    let single = |text: &str| {
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => digit(c),
            _ => None,
        }
    };
    let n = match text.split_once('十') {
        None => single(text)?,
        Some((tens, ones)) => {
            let tens = if tens.is_empty() { 1 } else { single(tens)? };
            let ones = if ones.is_empty() { 0 } else { single(ones)? };
            tens * 10 + ones
        }
    };
    (n > 0).then_some(n)
}

/// A door number as text: 302 typed as a number is "302"; a trailing 室 or
/// 号 is dropped so that "302室" in one ledger finds "302" in another.
pub fn door_number(cell: &Cell) -> Result<Option<String>, String> {
    match cell {
        // Excel reads "3-12" as 12 March: the door number is gone.
        Cell::Date(_) => {
            return Err(format!(
                "门牌号被 Excel 当成了日期（{}）：请把该列设为“文本”格式，重新填写后再导入",
                text(cell)
            ));
        }
        Cell::Number(n) if n.fract() != 0.0 || *n < 0.0 => {
            return Err(format!("门牌号应为 302 这样的号码（填写的是 {}）", number_text(*n)));
        }
        _ => {}
    }
    let Some(text) = value(cell)? else {
        return Ok(None);
    };
    let door = text
        .strip_suffix(['室', '号'])
        .filter(|rest| !rest.is_empty())
        .unwrap_or(&text);
    if door.chars().count() > 20 {
        return Err("门牌号不能超过20个字".into());
    }
    Ok(Some(door.to_owned()))
}

/// The floor a door number names: 302 → 3, 1502 → 15, "3-302" → 3.
pub fn floor_from_door(door: &str) -> Option<u32> {
    let digits = door.len() - door.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if !(3..=4).contains(&digits) {
        return None;
    }
    let number: u32 = door[door.len() - digits..].parse().ok()?;
    Some(number / 100).filter(|floor| *floor > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Cell {
        Cell::Text(text.into())
    }

    #[test]
    fn text_is_half_width_trimmed_and_collapsed() {
        assert_eq!(text(&t("　３号楼\u{A0}\u{A0} 东　")), "3号楼 东");
        assert_eq!(text(&Cell::Number(302.0)), "302");
        assert_eq!(text(&Cell::Number(2.5)), "2.5");
        assert_eq!(text(&Cell::Date(31118.0)), "1985-03-12");
        assert_eq!(value(&t("  ")), Ok(None));
        assert!(value(&Cell::Error("#N/A".into())).unwrap_err().contains("#N/A"));
    }

    #[test]
    fn id_numbers() {
        let id = id_number(&t("１１０１０５ １９４９１２３１００２ｘ")).unwrap().unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id_number(&t("'11010519491231002X")).unwrap().unwrap(), id);
        assert_eq!(id_number(&Cell::Empty), Ok(None));
        assert_eq!(
            id_number(&Cell::Number(1.10105194912310e17)).unwrap_err(),
            ID_LOST_DIGITS
        );
        assert_eq!(id_number(&t("1.10105E+17")).unwrap_err(), ID_LOST_DIGITS);
        assert_eq!(
            id_number(&t("110105194912310021")).unwrap_err(),
            "身份证号校验位不正确，请核对"
        );
    }

    #[test]
    fn phones() {
        assert_eq!(phone(&t("+86 138-1234-5678")).unwrap().unwrap().as_str(), "13812345678");
        assert_eq!(
            phone(&Cell::Number(13812345678.0)).unwrap().unwrap().as_str(),
            "13812345678"
        );
        assert_eq!(
            phone(&t("１３８１２３４５６７８")).unwrap().unwrap().as_str(),
            "13812345678"
        );
        assert!(phone(&t("010-12345678")).is_err());
        assert_eq!(phone(&Cell::Empty), Ok(None));
    }

    #[test]
    fn dates_in_every_form() {
        let expected = CivilDate::new(1985, 3, 12);
        for written in [
            "1985-03-12",
            "1985/3/12",
            "1985.3.12",
            "1985年3月12日",
            "19850312",
            "１９８５－０３－１２",
            "1985-03-12 00:00:00",
            "1985-03-12T00:00:00",
        ] {
            assert_eq!(date(&t(written)), Ok(expected), "{written}");
        }
        assert_eq!(date(&Cell::Date(31118.0)), Ok(expected));
        assert_eq!(date(&Cell::Number(19850312.0)), Ok(expected));
        // Both sides of Excel's phantom 1900-02-29.
        assert_eq!(date(&Cell::Date(1.0)), Ok(CivilDate::new(1900, 1, 1)));
        assert_eq!(date(&Cell::Date(59.0)), Ok(CivilDate::new(1900, 2, 28)));
        assert_eq!(date(&Cell::Date(61.0)), Ok(CivilDate::new(1900, 3, 1)));
        assert!(date(&Cell::Date(60.0)).is_err());
        assert!(date(&Cell::Number(1985.0)).unwrap_err().contains("只填了年份"));
        assert!(date(&t("1985-02-30")).unwrap_err().contains("日期不存在"));
        assert!(date(&t("85-3-12")).unwrap_err().contains("四位"));
        assert!(date(&t("三月")).unwrap_err().contains("无法识别"));
        assert_eq!(date(&Cell::Empty), Ok(None));
    }

    #[test]
    fn genders_registration_roles() {
        assert_eq!(gender(&t("男")), Ok(Some(Gender::Male)));
        assert_eq!(gender(&t("女性")), Ok(Some(Gender::Female)));
        assert_eq!(gender(&t("F")), Ok(Some(Gender::Female)));
        assert!(gender(&t("未知")).unwrap_err().contains("未知"));
        assert_eq!(registration_type(&t("流动人口")), Ok(Some(RegistrationType::Floating)));
        assert_eq!(registration_type(&t("户籍")), Ok(Some(RegistrationType::Registered)));
        assert!(
            registration_type(&t("外籍"))
                .unwrap_err()
                .contains("户籍、常住、流动、租户")
        );
        assert_eq!(role(&t("专职网格员")), Ok(Some(Role::Worker)));
        assert_eq!(role(&t("网格长")), Ok(Some(Role::Lead)));
        assert!(role(&t("书记")).is_err());
    }

    #[test]
    fn tags_and_lists() {
        assert_eq!(
            tags(&t("低保，残疾；独居老人、低保户")),
            Ok(vec![KeyGroup::LowIncome, KeyGroup::Disabled, KeyGroup::ElderlyAlone])
        );
        assert_eq!(tags(&t("无")), Ok(vec![]));
        let unknown = tags(&t("低保 退役军人")).unwrap_err();
        assert!(
            unknown.contains("退役军人") && unknown.contains("独居老人、空巢老人"),
            "{unknown}"
        );
        assert_eq!(
            names_list(&t("第一网格、第二网格/第一网格")),
            Ok(vec!["第一网格".to_owned(), "第二网格".to_owned()])
        );
    }

    #[test]
    fn counts_and_doors() {
        assert_eq!(positive_integer(&Cell::Number(3.0), "单元", 1..=20), Ok(Some(3)));
        assert_eq!(positive_integer(&t("3层"), "层数", 1..=120), Ok(Some(3)));
        assert_eq!(positive_integer(&t("第三单元"), "单元", 1..=20), Ok(Some(3)));
        assert_eq!(positive_integer(&t("十二层"), "层数", 1..=120), Ok(Some(12)));
        assert_eq!(positive_integer(&t("二十一"), "层数", 1..=120), Ok(Some(21)));
        assert!(positive_integer(&Cell::Number(2.5), "单元", 1..=20).is_err());
        assert!(positive_integer(&t("30"), "单元", 1..=20).unwrap_err().contains("1–20"));
        assert!(positive_integer(&t("3米"), "层数", 1..=120).is_err());
        assert_eq!(positive_integer(&Cell::Empty, "单元", 1..=20), Ok(None));
        assert_eq!(door_number(&Cell::Number(302.0)), Ok(Some("302".into())));
        assert_eq!(door_number(&t("302室")), Ok(Some("302".into())));
        assert_eq!(door_number(&t("号")), Ok(Some("号".into())));
        assert!(door_number(&Cell::Date(45363.0)).unwrap_err().contains("日期"));
        assert_eq!(floor_from_door("302"), Some(3));
        assert_eq!(floor_from_door("1502"), Some(15));
        assert_eq!(floor_from_door("3-302"), Some(3));
        assert_eq!(floor_from_door("12"), None);
        assert_eq!(floor_from_door("012"), None);
    }
}
