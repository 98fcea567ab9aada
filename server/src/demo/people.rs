//! Plausible residents: names, ages, households of the shapes found in a Chinese
//! residential compound, and key-group tags in realistic proportions.

use app::domain::{CivilDate, Gender, IdCardNumber, KeyGroup, RegistrationType};

use super::rng::Rng;

/// The commonest surnames, roughly in order of frequency.
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡",
    "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "沈", "钱",
];

// Given names differ by generation; these pools follow the fashions of each.
const OLD_MALE: &[&str] = &[
    "建国", "国华", "德明", "志强", "学文", "振华", "永福", "保国", "长林", "福生", "光明", "树森", "金山", "文忠",
];
const OLD_FEMALE: &[&str] = &[
    "秀英", "桂兰", "玉兰", "淑珍", "凤英", "桂英", "秀兰", "玉珍", "素芬", "美华", "月娥", "翠花", "金凤", "丽华",
];
const MID_MALE: &[&str] = &[
    "伟", "强", "军", "磊", "勇", "杰", "涛", "斌", "海峰", "建军", "志刚", "晓东", "立新", "永刚", "卫东", "鹏",
];
const MID_FEMALE: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "霞", "红梅", "晓燕", "丽娟", "慧", "婷", "雪梅", "春燕", "海燕", "琳",
];
const YOUNG_MALE: &[&str] = &[
    "浩然", "子轩", "宇航", "俊杰", "博文", "梓豪", "一鸣", "天佑", "睿", "子墨", "思远", "明轩", "嘉豪", "晨阳",
];
const YOUNG_FEMALE: &[&str] = &[
    "欣怡", "梓涵", "诗琪", "雨桐", "可馨", "子涵", "一诺", "思彤", "佳怡", "梦瑶", "若汐", "语嫣", "婉清", "雨萱",
];

/// Where people's ID numbers were issued: locals, and the provinces migrants
/// to an eastern city typically come from.
const LOCAL_AREAS: &[&str] = &["330106", "330105", "330102"];
const MIGRANT_AREAS: &[&str] = &["410102", "340104", "510107", "420106", "362201", "522101"];

#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub gender: Gender,
    pub birth_date: CivilDate,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub registration_type: RegistrationType,
    pub tags: Vec<KeyGroup>,
}

impl Person {
    pub fn age_on(&self, today: CivilDate) -> i64 {
        self.birth_date.age_on(today)
    }
}

/// One household's members. `today` anchors ages.
pub fn household(rng: &mut Rng, today: CivilDate) -> Vec<Person> {
    let registration = registration(rng);
    let surname = pick_surname(rng);
    // Shapes and shares: vacant, elderly alone, elderly couple, young single,
    // couple, family with children, three generations.
    let shape = rng.weighted(&[5, 6, 12, 10, 17, 35, 15]);
    let mut people = match shape {
        0 => Vec::new(),
        1 => {
            let gender = rng_gender_elderly(rng);
            vec![person(rng, today, &surname, gender, 70, 93, registration)]
        }
        2 => couple(rng, today, &surname, 62, 88, registration),
        3 => {
            let single_reg = if rng.chance(0.55) {
                RegistrationType::Tenant
            } else {
                registration
            };
            let gender = rng_gender(rng);
            let surname = pick_surname(rng);
            vec![person(rng, today, &surname, gender, 22, 36, single_reg)]
        }
        4 => couple(rng, today, &surname, 25, 60, registration),
        5 => {
            let mut family = couple(rng, today, &surname, 28, 50, registration);
            for _ in 0..rng.range(1, 3) {
                let gender = rng_gender(rng);
                family.push(person(rng, today, &surname, gender, 0, 17, registration));
            }
            family
        }
        _ => {
            let mut family = couple(rng, today, &surname, 60, 86, registration);
            family.extend(couple(rng, today, &surname, 30, 55, registration));
            let gender = rng_gender(rng);
            family.push(person(rng, today, &surname, gender, 1, 16, registration));
            family
        }
    };
    tag(rng, today, shape, &mut people);
    people
}

fn tag(rng: &mut Rng, today: CivilDate, shape: usize, people: &mut [Person]) {
    let household_low_income = rng.chance(0.025);
    let household_hardship = rng.chance(0.015);
    let household_military = rng.chance(0.008);
    for (i, p) in people.iter_mut().enumerate() {
        let age = p.age_on(today);
        if shape == 1 {
            p.tags.push(KeyGroup::ElderlyAlone);
            if rng.chance(0.04) {
                p.tags.push(KeyGroup::Wubao);
            }
        }
        if shape == 2 && age >= 60 {
            p.tags.push(KeyGroup::EmptyNest);
        }
        if rng.chance(0.025) {
            p.tags.push(KeyGroup::Disabled);
        }
        if rng.chance(if age >= 60 { 0.03 } else { 0.005 }) {
            p.tags.push(KeyGroup::SevereIllness);
        }
        if age >= 75 && rng.chance(0.02) {
            p.tags.push(KeyGroup::RetiredCadre);
        }
        // Household-level statuses sit on the head of household.
        if i == 0 {
            if household_low_income {
                p.tags.push(KeyGroup::LowIncome);
            }
            if household_hardship {
                p.tags.push(KeyGroup::Hardship);
            }
            if household_military {
                p.tags.push(KeyGroup::MilitaryFamily);
            }
        }
        // Children living with grandparents while parents work elsewhere.
        if shape == 6 && age < 16 && rng.chance(0.08) {
            p.tags.push(KeyGroup::LeftBehindChild);
        }
    }
}

fn registration(rng: &mut Rng) -> RegistrationType {
    [
        RegistrationType::Registered,
        RegistrationType::Permanent,
        RegistrationType::Floating,
        RegistrationType::Tenant,
    ][rng.weighted(&[62, 20, 10, 8])]
}

fn couple(
    rng: &mut Rng,
    today: CivilDate,
    surname: &str,
    min_age: i64,
    max_age: i64,
    reg: RegistrationType,
) -> Vec<Person> {
    let wife_surname = pick_surname(rng);
    let husband = person(rng, today, surname, Gender::Male, min_age, max_age, reg);
    let husband_age = husband.age_on(today);
    let wife_min = (husband_age - 5).max(min_age);
    let wife_max = (husband_age + 2).min(max_age).max(wife_min);
    let wife = person(rng, today, &wife_surname, Gender::Female, wife_min, wife_max, reg);
    vec![husband, wife]
}

fn person(
    rng: &mut Rng,
    today: CivilDate,
    surname: &str,
    gender: Gender,
    min_age: i64,
    max_age: i64,
    reg: RegistrationType,
) -> Person {
    let age = rng.range(min_age as u64, max_age as u64 + 1) as i64;
    let birth_year = today.year() - age as i32 - 1;
    let birth_date = CivilDate::new(birth_year, rng.range(1, 13) as u8, rng.range(1, 29) as u8).unwrap_or(today);
    let pool = match (age, gender) {
        (60.., Gender::Male) => OLD_MALE,
        (60.., Gender::Female) => OLD_FEMALE,
        (25..=59, Gender::Male) => MID_MALE,
        (25..=59, Gender::Female) => MID_FEMALE,
        (_, Gender::Male) => YOUNG_MALE,
        (_, Gender::Female) => YOUNG_FEMALE,
    };
    let name = format!("{surname}{}", rng.pick(pool));
    let migrant = matches!(reg, RegistrationType::Floating | RegistrationType::Tenant);
    // Some tenants will not give an ID number; the record stays valid without one.
    let id_number = (!migrant || rng.chance(0.8)).then(|| {
        let area = if migrant {
            rng.pick(MIGRANT_AREAS)
        } else {
            rng.pick(LOCAL_AREAS)
        };
        let sequence = rng.range(0, 500) * 2 + u64::from(gender == Gender::Male);
        let first17 = format!("{area}{}{sequence:03}", birth_date.to_compact());
        IdCardNumber::with_check_char(&first17)
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default()
    });
    let phone = (age >= 16 && rng.chance(if age >= 75 { 0.5 } else { 0.9 })).then(|| {
        let second = rng.pick(&["3", "5", "7", "8", "9"]);
        format!("1{second}{:09}", rng.range(0, 1_000_000_000))
    });
    Person {
        name,
        gender,
        birth_date,
        id_number,
        phone,
        registration_type: reg,
        tags: Vec::new(),
    }
}

fn pick_surname(rng: &mut Rng) -> String {
    // Skewed towards the front of the list, as real surname frequencies are.
    let i = (rng.unit() * rng.unit() * SURNAMES.len() as f64) as usize;
    SURNAMES[i.min(SURNAMES.len() - 1)].to_owned()
}

fn rng_gender(rng: &mut Rng) -> Gender {
    if rng.chance(0.5) { Gender::Male } else { Gender::Female }
}

/// Women outlive men: most elderly living alone are women.
fn rng_gender_elderly(rng: &mut Rng) -> Gender {
    if rng.chance(0.3) { Gender::Male } else { Gender::Female }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn households_are_plausible() {
        let today = CivilDate::parse("2026-11-25").unwrap();
        let mut rng = Rng::new(7);
        let mut people = 0;
        for _ in 0..2000 {
            let members = household(&mut rng, today);
            for p in &members {
                assert!((0..=95).contains(&p.age_on(today)), "age {}", p.age_on(today));
                if let Some(id) = &p.id_number {
                    let parsed = IdCardNumber::parse(id).expect("valid id");
                    assert_eq!(parsed.birth_date(), p.birth_date.to_string());
                }
                assert!(p.name.chars().count() >= 2);
            }
            people += members.len();
        }
        // About 2.6 people per household, as the generator is tuned for.
        assert!((4600..6200).contains(&people), "{people}");
    }
}
