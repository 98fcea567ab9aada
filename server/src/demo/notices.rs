//! Notices for the demo street: each community's lead has published a few of
//! every category over the last months (the quarter's finance table with a
//! chart attached, a pinned reminder, guides, events), so the public pages a
//! newcomer opens are not empty. Drawn from a random stream of their own, so
//! adding them changed no other demo record.

use app::domain::CivilDate;
use app::policy::BEIJING_OFFSET_MS;
use app::state::DAY_MS;
use store::bulk::{NoticeRevisionRow, NoticeRow};

use super::rng::Rng;

const HOUR_MS: i64 = 3_600_000;

/// The community the notices are for, and its lead, who wrote them.
pub struct Community<'a> {
    pub id: &'a str,
    /// Its name without 社区 (春华).
    pub place: &'a str,
    pub lead_id: &'a str,
}

/// A picture to attach to a notice, as the lead would upload it (a PNG).
pub struct DemoFile {
    pub notice_id: String,
    pub name: String,
    pub png: Vec<u8>,
    pub added_by: String,
    pub added_at: i64,
}

#[derive(Default)]
pub struct Notices {
    pub notices: Vec<NoticeRow>,
    pub revisions: Vec<NoticeRevisionRow>,
    pub files: Vec<DemoFile>,
}

/// One notice before it is dated: its category, title and body.
struct Text {
    category: &'static str,
    title: String,
    body: String,
}

/// A Beijing calendar day.
#[derive(Clone, Copy)]
struct Day(i64);

impl Day {
    fn of(at: i64) -> Day {
        Day((at + BEIJING_OFFSET_MS).div_euclid(DAY_MS))
    }

    fn date(self) -> CivilDate {
        CivilDate::from_epoch_ms(self.0 * DAY_MS)
    }

    fn day_of_month(self) -> i64 {
        let date = self.date();
        let first = CivilDate::new(date.year(), date.month(), 1).map_or(self.0, CivilDate::epoch_day);
        self.0 - first + 1
    }

    /// 12月10日
    fn month_day(self) -> String {
        format!("{}月{}日", self.date().month(), self.day_of_month())
    }

    /// 2026年12月10日
    fn full(self) -> String {
        format!("{}年{}", self.date().year(), self.month_day())
    }

    /// 12月10日（星期四）
    fn with_weekday(self) -> String {
        const WEEKDAYS: [&str; 7] = ["日", "一", "二", "三", "四", "五", "六"];
        // 1970-01-01 was a Thursday.
        format!(
            "{}（星期{}）",
            self.month_day(),
            WEEKDAYS[(self.0 + 4).rem_euclid(7) as usize]
        )
    }

    /// This day at `minutes` past midnight, Beijing time, in epoch ms.
    fn at(self, minutes: i64) -> i64 {
        self.0 * DAY_MS - BEIJING_OFFSET_MS + minutes * 60_000
    }
}

/// Fen in a yuan.
const FEN: i64 = 100;

const QUARTERS: [&str; 4] = ["一", "二", "三", "四"];

/// Yuan from fen, as a finance table writes them: 41,236.18
fn yuan(fen: i64) -> String {
    let whole = (fen / FEN).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped}.{:02}", fen % FEN)
}

/// A quarter's money: income and spending by line, and by month for the chart.
struct Quarter {
    year: i32,
    /// 0 to 3.
    index: usize,
    opening: i64,
    income: Vec<(&'static str, i64)>,
    spending: Vec<(&'static str, i64)>,
}

impl Quarter {
    fn draw(rng: &mut Rng, year: i32, index: usize, opening: i64) -> Quarter {
        // Yuan from `low` to `high`, in fen.
        let mut amount = |low: i64, high: i64| rng.range((low * FEN) as u64, (high * FEN) as u64) as i64;
        let income = vec![
            ("区财政拨付办公经费", 30_000 * FEN),
            ("为民服务专项经费", 50_000 * FEN),
            ("党组织服务群众经费", 25_000 * FEN),
            ("公益性用房租金收入", amount(8_000, 12_000) / FEN * FEN),
            ("银行存款利息", amount(20, 90)),
        ];
        let spending = vec![
            ("办公费用（水电、网络、耗材）", amount(6_000, 11_000)),
            ("为民服务项目（助老助餐、“四点半课堂”）", amount(28_000, 45_000)),
            ("党员教育及组织活动", amount(8_000, 16_000)),
            ("环境整治及绿化养护", amount(12_000, 22_000)),
            ("走访慰问困难群众", amount(6_000, 12_000)),
            ("志愿服务及误餐补贴", amount(3_000, 7_000)),
        ];
        Quarter {
            year,
            index,
            opening,
            income,
            spending,
        }
    }

    fn income_total(&self) -> i64 {
        self.income.iter().map(|(_, v)| v).sum()
    }

    fn spending_total(&self) -> i64 {
        self.spending.iter().map(|(_, v)| v).sum()
    }

    fn closing(&self) -> i64 {
        self.opening + self.income_total() - self.spending_total()
    }

    fn name(&self) -> String {
        format!("{}年第{}季度", self.year, QUARTERS[self.index])
    }

    /// The first day of the quarter after this one.
    fn end(&self) -> Day {
        let (year, month) = if self.index == 3 {
            (self.year + 1, 1)
        } else {
            (self.year, self.index as u8 * 3 + 4)
        };
        Day(CivilDate::new(year, month, 1).map_or(0, CivilDate::epoch_day))
    }

    fn previous(year: i32, index: usize) -> (i32, usize) {
        if index == 0 { (year - 1, 3) } else { (year, index - 1) }
    }

    fn body(&self, place: &str, published: Day, chart: bool) -> String {
        let first_month = self.index * 3 + 1;
        let mut table = String::from("| 项目 | 金额（元） |\n|---|---:|\n");
        let mut line = |name: &str, fen: i64, strong: bool| {
            let (s, e) = if strong { ("**", "**") } else { ("", "") };
            table.push_str(&format!("| {s}{name}{e} | {s}{}{e} |\n", yuan(fen)));
        };
        line("上期结余", self.opening, false);
        line("本期收入合计", self.income_total(), true);
        for (name, fen) in &self.income {
            line(name, *fen, false);
        }
        line("本期支出合计", self.spending_total(), true);
        for (name, fen) in &self.spending {
            line(name, *fen, false);
        }
        line("期末结余", self.closing(), true);
        let chart = if chart {
            "附图：本季度各月收入（绿色）与支出（橙色）。\n\n"
        } else {
            ""
        };
        format!(
            "根据村（居）务公开有关规定，现将{place}社区{}（{}月—{}月）财务收支情况公布如下：\n\n{table}\n\
             各项支出均经社区“两委”联席会议研究、居务监督委员会审核。居民如有疑问，可在公布之日起7日内\
             到社区党群服务中心财务室查阅凭证，或拨打社区服务电话咨询。\n\n{chart}\
             {place}社区居民委员会　{place}社区居务监督委员会\n\n{}",
            self.name(),
            first_month,
            first_month + 2,
            published.full()
        )
    }

    /// Each month's income and spending, for the chart: the totals split
    /// unevenly, as money comes and goes.
    fn by_month(&self, rng: &mut Rng) -> [(i64, i64); 3] {
        let mut split = |total: i64| {
            let weights = [
                rng.range(20, 50) as i64,
                rng.range(20, 50) as i64,
                rng.range(20, 50) as i64,
            ];
            let sum: i64 = weights.iter().sum();
            let first = total * weights[0] / sum;
            let second = total * weights[1] / sum;
            [first, second, total - first - second]
        };
        let income = split(self.income_total());
        let spending = split(self.spending_total());
        [0, 1, 2].map(|m| (income[m], spending[m]))
    }
}

/// A bar chart of a quarter's months, income green beside spending orange,
/// on a light grid: a picture without words (the notice says what it shows).
pub fn chart(months: &[(i64, i64); 3]) -> Vec<u8> {
    const WIDTH: u32 = 720;
    const HEIGHT: u32 = 420;
    // The plot area.
    const LEFT: u32 = 60;
    const RIGHT: u32 = 690;
    const TOP: u32 = 30;
    const BOTTOM: u32 = 370;
    let most = months.iter().map(|(i, s)| (*i).max(*s)).max().unwrap_or(1).max(1);
    // The scale's top: the next round 10,000 yuan above the tallest bar.
    let top = (most / 1_000_000 + 1) * 1_000_000;
    let height = |fen: i64| ((fen as f64 / top as f64) * f64::from(BOTTOM - TOP)) as u32;
    let mut image = image::RgbImage::from_pixel(WIDTH, HEIGHT, image::Rgb([255, 255, 255]));
    let mut fill = |x0: u32, y0: u32, x1: u32, y1: u32, colour: [u8; 3]| {
        for x in x0..x1 {
            for y in y0..y1 {
                image.put_pixel(x, y, image::Rgb(colour));
            }
        }
    };
    // A grid line every 10,000 yuan, then the bars, then the axes.
    for step in 0..=(top / 1_000_000) {
        let y = BOTTOM - height(step * 1_000_000);
        fill(LEFT, y, RIGHT, y + 1, [221, 227, 230]);
    }
    let group = (RIGHT - LEFT) / 3;
    for (m, (income, spending)) in months.iter().enumerate() {
        let x = LEFT + m as u32 * group + group / 2;
        fill(x - 70, BOTTOM - height(*income), x - 4, BOTTOM, [46, 158, 106]);
        fill(x + 4, BOTTOM - height(*spending), x + 70, BOTTOM, [230, 140, 60]);
    }
    fill(LEFT - 2, TOP, LEFT, BOTTOM + 2, [91, 106, 112]);
    fill(LEFT - 2, BOTTOM, RIGHT, BOTTOM + 2, [91, 106, 112]);
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("a PNG in memory");
    png.into_inner()
}

/// A notice's texts that need the time or the numbers.
struct Context<'a> {
    place: &'a str,
}

impl Context<'_> {
    fn party_day(&self, rng: &mut Rng, published: Day) -> Text {
        let day = Day(published.0 + rng.range(3, 7) as i64);
        let month = day.date().month();
        Text {
            category: "party",
            title: format!("{month}月主题党日活动安排"),
            body: format!(
                "各党支部、全体党员：\n\n本月主题党日活动安排如下：\n\n\
                 - **时间**：{} 上午9:00\n- **地点**：社区党群服务中心二楼会议室\n\
                 - **内容**：集中学习党的创新理论；重温入党誓词；开展“我为群众办实事”志愿服务，\
                 为辖区独居老人上门检查燃气、电路安全\n\n\
                 请各支部做好签到和记录，行动不便的老党员由所在网格党小组送学上门。\n\n{}社区党委\n\n{}",
                day.with_weekday(),
                self.place,
                published.full()
            ),
        }
    }

    fn candidates(&self, rng: &mut Rng, published: Day) -> Text {
        const PEOPLE: [(&str, &str, &str, &str); 4] = [
            ("张某某", "女", "大学本科", "社区志愿服务队队员"),
            ("李某", "男", "硕士研究生", "辖区企业技术人员"),
            ("王某某", "女", "大学专科", "小区业主委员会委员"),
            ("陈某", "男", "大学本科", "退役军人"),
        ];
        let count = rng.range(2, 4) as usize;
        let list: String = PEOPLE[..count]
            .iter()
            .map(|(name, gender, school, role)| {
                let born = 1985 + rng.range(0, 12);
                format!("- {name}，{gender}，{born}年出生，{school}，{role}\n")
            })
            .collect();
        let end = Day(published.0 + 7);
        Text {
            category: "party",
            title: format!("关于确定{}名发展对象的公示", ["两", "三"][count - 2]),
            body: format!(
                "经党支部委员会研究、社区党委审查，拟确定以下同志为发展对象：\n\n{list}\n\
                 公示期为{}至{}（5个工作日）。党员和群众如有意见，可通过来访、来电、来信等方式向社区党委反映。\
                 反映情况应实事求是，以个人名义反映的请署真实姓名。\n\n{}社区党委\n\n{}",
                published.month_day(),
                end.month_day(),
                self.place,
                published.full()
            ),
        }
    }

    fn meetings(&self, published: Day) -> Text {
        Text {
            category: "party",
            title: "“三会一课”开展情况公开".into(),
            body: format!(
                "{}社区党委所属各党支部本季度“三会一课”开展情况如下：\n\n\
                 | 支部 | 支部党员大会 | 支委会 | 党小组会 | 党课 |\n|---|---:|---:|---:|---:|\n\
                 | 第一党支部 | 1 | 3 | 3 | 1 |\n| 第二党支部 | 1 | 3 | 3 | 1 |\n\
                 | 离退休党支部 | 1 | 3 | 6 | 1 |\n\n\
                 离退休党支部为行动不便的党员送学上门12人次。欢迎党员群众监督。\n\n{}",
                self.place,
                published.full()
            ),
        }
    }

    fn assistance(&self, rng: &mut Rng, published: Day) -> Text {
        let reviewed = rng.range(28, 46);
        let stopped = rng.range(1, 4);
        let changed = rng.range(2, 6);
        let end = Day(published.0 + 7);
        Text {
            category: "affairs",
            title: format!("{}年度最低生活保障家庭动态复核结果公示", published.date().year()),
            body: format!(
                "根据民政部门要求，社区对辖区最低生活保障家庭开展了年度动态复核，经入户调查、\
                 居民代表评议，结果如下：\n\n\
                 - 参加复核 **{reviewed}** 户\n- 继续享受、保障金额不变 **{}** 户\n\
                 - 家庭收入变化、调整保障金额 **{changed}** 户\n- 不再符合条件、停止保障 **{stopped}** 户\n\n\
                 为保护当事人隐私，名单在社区党群服务中心公示栏张贴，不在网上公开。\
                 公示期：{}至{}。如有异议，请在公示期内向社区居委会或街道社会事务办反映。\n\n\
                 {}社区居民委员会\n\n{}",
                reviewed - stopped - changed,
                published.month_day(),
                end.month_day(),
                self.place,
                published.full()
            ),
        }
    }

    fn lift(&self, rng: &mut Rng, published: Day) -> Text {
        let building = rng.range(3, 12);
        let total = 18 * rng.range(1, 3);
        let agreed = total - rng.range(1, 4);
        Text {
            category: "affairs",
            title: format!("{building}号楼1单元加装电梯意见征集结果公示"),
            body: format!(
                "{building}号楼1单元加装电梯意见征集已结束，结果如下：\n\n\
                 | 项目 | 户数 |\n|---|---:|\n| 本单元总户数 | {total} |\n| 同意 | {agreed} |\n\
                 | 不同意 | 0 |\n| 未表态 | {} |\n\n\
                 同意户数已达到本单元专有部分面积和人数“双三分之二”以上参与、“双四分之三”以上同意的要求。\
                 下一步将由业主代表委托设计单位出具方案，方案确定后再行公示。\n\n\
                 {}社区居民委员会\n\n{}",
                total - agreed,
                self.place,
                published.full()
            ),
        }
    }

    fn council(&self, published: Day) -> Text {
        Text {
            category: "affairs",
            title: "居民议事会会议决议公开".into(),
            body: format!(
                "社区居民议事会于{}召开会议，到会议事代表23名，就“小区夜间停车秩序”议题形成决议如下：\n\n\
                 1. 晚8点后，消防通道、单元门前禁止停车，由物业每晚巡查劝离；\n\
                 2. 北门临时停车区划线增加车位40个，优先满足老年人接送就医车辆；\n\
                 3. 电动自行车一律在集中充电棚停放充电，严禁“飞线充电”、入户充电。\n\n\
                 决议自公布之日起执行，请居民共同遵守、相互监督。\n\n{}社区居民委员会\n\n{}",
                Day(published.0 - 3).month_day(),
                self.place,
                published.full()
            ),
        }
    }

    fn projects(&self, rng: &mut Rng, published: Day) -> Text {
        let meals = rng.range(18_000, 26_000) as i64 * FEN;
        let repairs = rng.range(30_000, 60_000) as i64 * FEN;
        let lights = rng.range(8_000, 15_000) as i64 * FEN;
        Text {
            category: "finance",
            title: format!("{}年社区惠民项目资金使用情况公示", published.date().year()),
            body: format!(
                "经居民代表会议议定，今年社区惠民项目资金使用情况如下：\n\n\
                 | 项目 | 金额（元） | 进度 |\n|---|---:|---|\n\
                 | 老年助餐点运营补贴 | {} | 已完成 |\n| 老旧楼道扶手、防滑条维修 | {} | 已完成 |\n\
                 | 小区路灯更换为节能灯 | {} | 施工中 |\n\n\
                 项目验收由居务监督委员会和居民代表参加。欢迎居民监督。\n\n{}社区居民委员会\n\n{}",
                yuan(meals),
                yuan(repairs),
                yuan(lights),
                self.place,
                published.full()
            ),
        }
    }

    fn residence_permit(&self, published: Day) -> Text {
        Text {
            category: "guide",
            title: "居住证办理指南".into(),
            body: format!(
                "**申领条件**：离开常住户口所在地，在本市居住半年以上，有合法稳定就业、稳定住所或连续就读之一。\n\n\
                 **所需材料**：\n\n- 居民身份证原件\n- 近期一寸白底证件照1张（现场可拍）\n\
                 - 居住证明：房屋租赁合同或房产证明；单位宿舍由单位出具证明\n\n\
                 **办理地点**：{}社区党群服务中心一楼便民服务窗口（工作日 8:30—12:00，13:30—17:30）\n\n\
                 **办理时限**：材料齐全的当场受理，15个工作日内可领证。\n\n{}",
                self.place,
                published.full()
            ),
        }
    }

    fn old_age_allowance(&self, published: Day) -> Text {
        Text {
            category: "guide",
            title: "高龄津贴申领指南".into(),
            body: format!(
                "**对象**：具有本市户籍、年满80周岁的老年人。\n\n\
                 **标准**：80—89周岁每人每月100元，90—99周岁每人每月300元，100周岁以上每人每月600元。\n\n\
                 **材料**：身份证、户口簿、本人社保卡（或银行卡）；代办的另带代办人身份证。\n\n\
                 **办理**：到社区党群服务中心便民服务窗口申请；行动不便的，可联系所在网格的网格员上门代办。\
                 审核通过后从次月起按月发放。\n\n{}社区居民委员会\n\n{}",
                self.place,
                published.full()
            ),
        }
    }

    fn medical_insurance(&self, published: Day) -> Text {
        let date = published.date();
        let year = date.year() + i32::from(date.month() >= 9);
        Text {
            category: "guide",
            title: format!("{year}年度城乡居民医保参保缴费提醒"),
            body: format!(
                "{year}年度城乡居民基本医疗保险集中缴费期为{}年9月1日至12月31日，请尚未缴费的居民抓紧办理。\n\n\
                 **缴费方式**：\n\n- 手机：通过“国家医保服务平台”App或支付宝、微信搜索“医保缴费”\n\
                 - 线下：到社区党群服务中心便民服务窗口，或合作银行网点\n\n\
                 **特殊群体**：低保、特困、重度残疾等人员个人缴费部分由政府资助，请到社区确认资助身份。\n\n\
                 错过集中缴费期的，次年享受待遇将有等待期。如需帮助，请联系所在网格的网格员。\n\n{}",
                year - 1,
                published.full()
            ),
        }
    }

    fn festival(&self, rng: &mut Rng, published: Day) -> Text {
        let day = Day(published.0 + rng.range(6, 10) as i64);
        Text {
            category: "event",
            title: "“邻里节”社区文艺汇演邀您来".into(),
            body: format!(
                "一年一度的“邻里节”就要到了！社区文艺汇演邀请各位居民参加：\n\n\
                 - **时间**：{} 下午2:30\n- **地点**：小区中心广场（雨天改在党群服务中心多功能厅）\n\
                 - **节目**：社区合唱团、广场舞队、少儿才艺展示，还有百家宴和邻里跳蚤市场\n\n\
                 想上台表演或摆摊的居民，请在{}前到社区服务窗口或向网格员报名。\n\n{}社区居民委员会\n\n{}",
                day.with_weekday(),
                Day(day.0 - 3).month_day(),
                self.place,
                published.full()
            ),
        }
    }

    fn fire_safety(&self, rng: &mut Rng, published: Day) -> Text {
        let day = Day(published.0 + rng.range(4, 8) as i64);
        Text {
            category: "event",
            title: "消防安全知识讲座及灭火器使用演练".into(),
            body: format!(
                "为提高居民防火意识，社区联合辖区消防救援站举办消防安全知识讲座：\n\n\
                 - **时间**：{} 上午9:30\n- **地点**：社区党群服务中心多功能厅及门前空地\n\
                 - **内容**：家庭用火用电用气安全、电动自行车充电安全、灭火器和逃生面罩的使用\n\n\
                 现场可免费检测家用灭火器。欢迎居民，特别是老年人家庭参加。\n\n{}社区居民委员会\n\n{}",
                day.with_weekday(),
                self.place,
                published.full()
            ),
        }
    }

    fn phone_class(&self, rng: &mut Rng, published: Day) -> Text {
        let day = Day(published.0 + rng.range(5, 9) as i64);
        Text {
            category: "event",
            title: "老年人智能手机使用培训班报名".into(),
            body: format!(
                "社区联合志愿者开办老年人智能手机培训班，手把手教您：\n\n\
                 1. 微信视频通话、发语音；\n2. 出示健康码、预约挂号；\n3. 医保电子凭证和手机缴费；\n\
                 4. 识别电信诈骗。\n\n\
                 **首次上课**：{} 下午2:00，社区党群服务中心二楼活动室，共4次课，免费。\n\n\
                 名额30个，请携带本人手机到社区服务窗口报名，或请网格员代为报名。\n\n{}社区居民委员会\n\n{}",
                day.with_weekday(),
                self.place,
                published.full()
            ),
        }
    }
}

/// Writes a notice's text for the day it is published.
type Write = fn(&Context<'_>, &mut Rng, Day) -> Text;

/// When a notice was published: `days` ago, in office hours.
fn published_at(rng: &mut Rng, now: i64, days: (u64, u64)) -> i64 {
    let day = Day(Day::of(now).0 - rng.range(days.0, days.1 + 1) as i64);
    day.at(rng.range(9 * 60, 17 * 60) as i64)
}

/// The last two quarters whose figures were out by now: each published a
/// week or two into the next quarter. (year, 0-based quarter, published at)
fn finance_quarters(rng: &mut Rng, now: i64) -> [(i32, usize, i64); 2] {
    let today = Day::of(now).date();
    let (mut year, mut index) = Quarter::previous(today.year(), (today.month() as usize - 1) / 3);
    let mut out = Vec::new();
    while out.len() < 2 {
        let end = Quarter {
            year,
            index,
            opening: 0,
            income: Vec::new(),
            spending: Vec::new(),
        }
        .end();
        let at = Day(end.0 + rng.range(7, 15) as i64).at(rng.range(9 * 60, 17 * 60) as i64);
        if at < now - DAY_MS {
            out.push((year, index, at));
        }
        (year, index) = Quarter::previous(year, index);
    }
    out.reverse();
    [out[0], out[1]]
}

/// A community's notices over the last months, each created as a draft a
/// day or two before its lead published it; one pinned.
pub fn generate(rng: &mut Rng, community: &Community<'_>, now: i64) -> Notices {
    let context = Context { place: community.place };
    let mut out = Notices::default();

    // The finance tables first: the older quarter's closing balance is the
    // newer one's opening.
    let [(year0, index0, at0), (year1, index1, at1)] = finance_quarters(rng, now);
    let opening = rng.range(30_000 * FEN as u64, 60_000 * FEN as u64) as i64;
    let older = Quarter::draw(rng, year0, index0, opening);
    let newer = Quarter::draw(rng, year1, index1, older.closing());
    let months = newer.by_month(rng);

    let mut dated: Vec<(Text, i64)> = vec![
        (
            Text {
                category: "finance",
                title: format!("{}财务收支公开", older.name()),
                body: older.body(community.place, Day::of(at0), false),
            },
            at0,
        ),
        (
            Text {
                category: "finance",
                title: format!("{}财务收支公开", newer.name()),
                body: newer.body(community.place, Day::of(at1), true),
            },
            at1,
        ),
    ];
    // Each text, and how many days ago it was published (fewest, most).
    let plans: [(Write, (u64, u64)); 13] = [
        (|c, r, d| c.party_day(r, d), (3, 9)),
        (|c, r, d| c.candidates(r, d), (25, 45)),
        (|c, _, d| c.meetings(d), (60, 90)),
        (|c, r, d| c.assistance(r, d), (12, 20)),
        (|c, r, d| c.lift(r, d), (40, 60)),
        (|c, _, d| c.council(d), (80, 110)),
        (|c, r, d| c.projects(r, d), (20, 35)),
        (|c, _, d| c.residence_permit(d), (100, 120)),
        (|c, _, d| c.old_age_allowance(d), (50, 70)),
        (|c, _, d| c.medical_insurance(d), (10, 25)),
        (|c, r, d| c.festival(r, d), (2, 5)),
        (|c, r, d| c.fire_safety(r, d), (20, 30)),
        (|c, r, d| c.phone_class(r, d), (30, 45)),
    ];
    for (text, days) in plans {
        let at = published_at(rng, now, days);
        dated.push((text(&context, rng, Day::of(at)), at));
    }

    for (n, (text, published)) in dated.into_iter().enumerate() {
        let created = published - rng.range(20, 60) as i64 * HOUR_MS;
        let id = rng.uuid_v7(created);
        // The reminder to pay for health insurance before the year ends.
        let pinned = text.category == "guide" && text.title.contains("医保");
        let pinned_at = published + rng.range(1, 30) as i64 * 60_000;
        let mut revision = |action: &str, at: i64| NoticeRevisionRow {
            id: rng.uuid_v7(at),
            notice_id: id.clone(),
            action: action.into(),
            title: text.title.clone(),
            body: text.body.clone(),
            category: text.category.into(),
            user_id: community.lead_id.into(),
            at,
        };
        out.revisions.push(revision("create", created));
        out.revisions.push(revision("publish", published));
        if pinned {
            out.revisions.push(revision("pin", pinned_at));
        }
        // The newest quarter's figures carry their chart.
        if n == 1 {
            out.files.push(DemoFile {
                notice_id: id.clone(),
                name: format!("{}各月收支.png", newer.name()),
                png: chart(&months),
                added_by: community.lead_id.into(),
                added_at: published - HOUR_MS,
            });
        }
        out.notices.push(NoticeRow {
            id,
            community_id: community.id.into(),
            category: text.category.into(),
            title: text.title,
            body: text.body,
            status: "published".into(),
            pinned,
            published_at: Some(published),
            created_by: community.lead_id.into(),
            created_at: created,
            updated_at: if pinned { pinned_at } else { published },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_published_in_the_past_with_one_pinned_and_a_chart() {
        let now = 1_796_000_000_000; // 2026-11-30
        let community = Community {
            id: "c",
            place: "春华",
            lead_id: "l",
        };
        let notices = generate(&mut Rng::new(9), &community, now);
        for (code, _) in crate::notices::CATEGORIES {
            let count = notices.notices.iter().filter(|n| n.category == code).count();
            assert!(count >= 3, "{code}: {count}");
        }
        assert!(
            notices.notices.iter().all(|n| n
                .published_at
                .is_some_and(|at| { at < now && at > now - 190 * DAY_MS && n.created_at < at && n.updated_at <= now }))
        );
        assert_eq!(notices.notices.iter().filter(|n| n.pinned).count(), 1);
        let body = |title: &str| {
            crate::notices::markdown::to_html(&notices.notices.iter().find(|n| n.title.contains(title)).unwrap().body)
        };
        // The third quarter's figures, and the second's before them.
        let third = body("2026年第三季度财务收支公开");
        assert!(third.contains("<table>") && third.contains("期末结余"), "{third}");
        assert!(body("2026年第二季度财务收支公开").contains("<table>"));
        assert_eq!(notices.files.len(), 1);
        assert!(notices.files[0].png.starts_with(b"\x89PNG"));
        assert!(notices.revisions.iter().all(|r| r.at <= now));
    }

    #[test]
    fn money_adds_up() {
        assert_eq!(yuan(4_123_618), "41,236.18");
        assert_eq!(yuan(5_237), "52.37");
        assert_eq!(yuan(100_000_000), "1,000,000.00");
        let q = Quarter::draw(&mut Rng::new(1), 2026, 2, 40_000 * FEN);
        assert_eq!(q.closing(), 40_000 * FEN + q.income_total() - q.spending_total());
        let months = q.by_month(&mut Rng::new(2));
        assert_eq!(months.iter().map(|m| m.0).sum::<i64>(), q.income_total());
        assert_eq!(months.iter().map(|m| m.1).sum::<i64>(), q.spending_total());
    }
}
