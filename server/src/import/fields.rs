//! The columns of each kind of ledger, and the names people give them. Every
//! street office heads its columns a little differently (楼号 or 楼栋名称,
//! 电话 or 手机号, "身份证号（18位）*"), so a header is normalised first and
//! then looked up among a field's aliases: exact matches only, so that the
//! mapping shown before an import is never a guess.

use super::Kind;
use super::cells::half_width;

/// A column the importer understands. One vocabulary for all kinds: 社区 or
/// 姓名 mean the same wherever they appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Community,
    Grid,
    Building,
    Address,
    UnitCount,
    FloorCount,
    DoorsPerFloor,
    Unit,
    /// Optional in a territory ledger: derived from the door number (302 → 3).
    Floor,
    Door,
    /// A resident's name, or a staff member's display name.
    Name,
    Gender,
    BirthDate,
    IdNumber,
    Phone,
    RegistrationType,
    /// Several, separated by 、 , ; / or spaces.
    KeyGroups,
    Username,
    Role,
    /// An in-service party member's employer, its party organisation, their
    /// rank class (县级领导干部 / 党委(党组)成员 / 其他党员) and work phone.
    WorkUnit,
    PartyOrg,
    Rank,
    WorkPhone,
    Branch,
    PartyGroup,
    /// When they registered with the community (报到).
    RegisteredOn,
}

impl Field {
    /// The header our template writes.
    pub fn header(self) -> &'static str {
        self.names()[0]
    }

    /// The header first, then the aliases seen in real ledgers, all in
    /// normalised form (see [`normalise_header`]).
    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Community => &["社区", "社区名称", "所属社区", "居委会"],
            Field::Grid => &["网格", "网格名称", "所属网格", "负责网格", "管辖网格"],
            Field::Building => &["楼栋", "楼栋名称", "楼号", "楼宇", "楼栋号", "楼幢", "栋号"],
            Field::Address => &["地址", "楼栋地址", "详细地址"],
            Field::UnitCount => &["单元数", "单元数量", "总单元数"],
            Field::FloorCount => &["层数", "楼层数", "总层数", "地上层数"],
            Field::DoorsPerFloor => &["每层户数", "每层住户数", "每层套数"],
            Field::Unit => &["单元", "单元号", "所在单元"],
            Field::Floor => &["楼层", "所在楼层"],
            Field::Door => &["门牌号", "户号", "房号", "门牌", "房间号", "室号", "门牌号码"],
            Field::Name => &["姓名", "居民姓名", "名字", "真实姓名", "人员姓名"],
            Field::Gender => &["性别"],
            Field::BirthDate => &["出生日期", "出生年月日", "生日", "出生年月"],
            Field::IdNumber => &["身份证号", "公民身份号码", "身份证号码", "证件号码", "身份证", "证件号"],
            Field::Phone => &["联系电话", "电话", "手机", "手机号", "联系方式", "手机号码", "电话号码"],
            Field::RegistrationType => &["户籍类型", "人员类型", "居住类型", "人口类型"],
            Field::KeyGroups => &["重点人群", "人群类别", "标签", "重点人群类别", "人员标签", "特殊人群"],
            Field::Username => &["用户名", "账号", "登录名", "登录账号", "账户"],
            Field::Role => &["角色", "职务", "岗位"],
            Field::WorkUnit => &["工作单位", "单位", "所在单位", "单位名称"],
            Field::PartyOrg => &["单位党组织", "所在党组织", "单位党组织名称", "党组织"],
            Field::Rank => &["职级类别", "职级", "党员类别", "职务级别"],
            Field::WorkPhone => &["工作电话", "办公电话", "单位电话", "联系电话"],
            Field::Branch => &["党支部", "所属党支部", "所在党支部", "支部"],
            Field::PartyGroup => &["党小组", "所属党小组", "所在党小组"],
            Field::RegisteredOn => &["报到日期", "报到时间", "双报到日期"],
        }
    }
}

/// A field of a kind, and whether a file without its column is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub field: Field,
    pub required: bool,
}

const fn required(field: Field) -> Spec {
    Spec { field, required: true }
}

const fn optional(field: Field) -> Spec {
    Spec { field, required: false }
}

const TERRITORY: &[Spec] = &[
    required(Field::Community),
    required(Field::Grid),
    required(Field::Building),
    optional(Field::Address),
    optional(Field::UnitCount),
    optional(Field::FloorCount),
    optional(Field::DoorsPerFloor),
    optional(Field::Unit),
    optional(Field::Floor),
    optional(Field::Door),
];

// Gender and birth date are in every ID number, so neither column is required
// (a row with neither an ID number nor them is refused by the importer).
const RESIDENTS: &[Spec] = &[
    required(Field::Name),
    optional(Field::Gender),
    optional(Field::BirthDate),
    optional(Field::IdNumber),
    optional(Field::Phone),
    optional(Field::RegistrationType),
    optional(Field::KeyGroups),
    optional(Field::Community),
    optional(Field::Grid),
    required(Field::Building),
    optional(Field::Unit),
    required(Field::Door),
];

const STAFF: &[Spec] = &[
    required(Field::Username),
    required(Field::Name),
    required(Field::Role),
    optional(Field::Community),
    optional(Field::Grid),
];

// Resident members are registered on the roster page, from their record.
const PARTY: &[Spec] = &[
    required(Field::Name),
    required(Field::WorkUnit),
    optional(Field::PartyOrg),
    required(Field::Rank),
    required(Field::WorkPhone),
    required(Field::Branch),
    optional(Field::PartyGroup),
    optional(Field::RegisteredOn),
    optional(Field::Community),
];

impl Kind {
    /// The kind's fields in template order.
    pub fn fields(self) -> &'static [Spec] {
        match self {
            Kind::Territory => TERRITORY,
            Kind::Residents => RESIDENTS,
            Kind::Staff => STAFF,
            Kind::Party => PARTY,
        }
    }

    pub fn required(self) -> impl Iterator<Item = Field> {
        self.fields().iter().filter(|spec| spec.required).map(|spec| spec.field)
    }

    /// The field a header names in this kind of ledger, if any.
    pub fn field_for(self, header: &str) -> Option<Field> {
        let header = normalise_header(header);
        self.fields()
            .iter()
            .map(|spec| spec.field)
            .find(|field| field.names().contains(&header.as_str()))
    }
}

/// A header as compared: full-width to half-width, no spaces or line breaks,
/// no remarks in brackets ("身份证号（18位）"), no `*` marking it required.
pub fn normalise_header(text: &str) -> String {
    let mut depth = 0u32;
    let mut out = String::new();
    for c in half_width(text).chars() {
        match c {
            '(' | '[' | '【' | '〔' => depth += 1,
            ')' | ']' | '】' | '〕' => depth = depth.saturating_sub(1),
            c if depth > 0 || c.is_whitespace() => {}
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out.trim_matches('*').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_normalised_before_matching() {
        assert_eq!(normalise_header(" 身份证号（18位）* "), "身份证号");
        assert_eq!(normalise_header("联系\n电话"), "联系电话");
        assert_eq!(normalise_header("＊姓　名"), "姓名");
        assert_eq!(normalise_header("门牌号【必填】"), "门牌号");
        assert_eq!(Kind::Residents.field_for("公民身份号码"), Some(Field::IdNumber));
        assert_eq!(Kind::Residents.field_for("手机号(选填)"), Some(Field::Phone));
        assert_eq!(Kind::Territory.field_for("楼号*"), Some(Field::Building));
        assert_eq!(Kind::Territory.field_for("总层数"), Some(Field::FloorCount));
        assert_eq!(Kind::Territory.field_for("楼层"), Some(Field::Floor));
        // A resident ledger has no usernames; a staff list has no ID numbers.
        assert_eq!(Kind::Residents.field_for("账号"), None);
        assert_eq!(Kind::Staff.field_for("身份证号"), None);
        assert_eq!(Kind::Staff.field_for("备注"), None);
        // 联系电话 is a resident's phone, and an in-service member's work phone.
        assert_eq!(Kind::Party.field_for("联系电话"), Some(Field::WorkPhone));
        assert_eq!(Kind::Party.field_for("工作单位*"), Some(Field::WorkUnit));
    }

    #[test]
    fn no_alias_names_two_fields_of_a_kind() {
        for kind in Kind::ALL {
            let mut seen = Vec::new();
            for spec in kind.fields() {
                for name in spec.field.names() {
                    assert_eq!(normalise_header(name), *name, "aliases are stored normalised");
                    assert!(!seen.contains(name), "{name} twice in {kind:?}");
                    seen.push(*name);
                }
            }
            assert!(
                kind.required().count() >= 2,
                "a header is recognised by two required fields"
            );
        }
    }
}
