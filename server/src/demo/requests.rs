//! Requests (诉求) for the demo street: a year of them in every state, so a
//! newcomer sees the ledger and the figures filled on first start. Older
//! requests have mostly gone the whole road (assigned, resolved, followed up,
//! closed; a few reopened, declined or merged), recent ones are still on it.
//! Drawn from a random stream of their own, so adding them changed no other
//! demo record.

use app::policy::BEIJING_OFFSET_MS;
use app::requests::{Action, RequestStatus, Satisfaction, Source, due_after_working_days};
use app::state::DAY_MS;
use store::bulk::{RequestEventRow, RequestRow};

use super::rng::Rng;

const HOUR_MS: i64 = 3_600_000;

/// (code, weight, respond days, resolve days, texts, resolutions): the default
/// categories as the migrations seed them.
type CategoryPlan = (
    &'static str,
    u32,
    i64,
    i64,
    &'static [&'static str],
    &'static [&'static str],
);

const CATEGORIES: &[CategoryPlan] = &[
    (
        "livelihood",
        30,
        1,
        7,
        &[
            "申请办理高龄津贴，不清楚需要哪些材料",
            "独居老人希望有人定期上门探望",
            "想了解社区助餐点的开放时间",
            "孩子入学需要开居住证明",
        ],
        &[
            "已上门讲解材料清单并协助提交申请",
            "已纳入志愿者结对探访名单",
            "已告知助餐点时间并帮助登记",
            "已在社区开具证明",
        ],
    ),
    (
        "property",
        30,
        1,
        7,
        &[
            "楼道灯坏了，晚上看不见",
            "电梯经常停运，老人上下楼困难",
            "楼顶漏水，雨天屋里滴水",
            "单元门禁坏了，陌生人随意进出",
        ],
        &[
            "物业已更换灯具",
            "已督促物业维修电梯并安排每日巡检",
            "物业已做防水处理",
            "已修复门禁并更换读卡器",
        ],
    ),
    (
        "safety",
        10,
        1,
        3,
        &[
            "楼道里堆放杂物，堵住消防通道",
            "有人在楼道给电动车充电",
            "小区北门路灯不亮，夜里不安全",
            "燃气管道有异味",
        ],
        &[
            "已联系住户清理杂物",
            "已劝导并告知集中充电点",
            "已报修，路灯恢复",
            "燃气公司已上门检修",
        ],
    ),
    (
        "environment",
        18,
        1,
        5,
        &[
            "垃圾桶满了没人清运",
            "楼下有人遛狗不牵绳、不清理粪便",
            "广场舞音响太吵，影响休息",
            "绿化带被占用种菜",
        ],
        &[
            "已协调环卫增加清运次数",
            "已张贴文明养犬提示并上门劝导",
            "已与舞蹈队协商降低音量、调整时间",
            "已劝导恢复绿化",
        ],
    ),
    (
        "party",
        4,
        2,
        10,
        &["退休党员组织关系想转到社区", "希望社区组织党员志愿服务活动"],
        &["已办理组织关系转接", "已纳入本月党员志愿服务计划"],
    ),
    (
        "discipline",
        2,
        2,
        15,
        &["反映低保评议过程不公开"],
        &["已核实并在居务公开栏公示评议结果"],
    ),
    (
        "other",
        6,
        1,
        7,
        &["想报名社区老年大学", "咨询快递柜安装位置"],
        &["已协助报名", "已与物业沟通安装位置并公示"],
    ),
];

const PLACES: &[&str] = &["小区北门", "3号楼楼道", "地下车库入口", "中心花园", "垃圾分类站"];
const UNITS: &[&str] = &["物业", "城管", "房管所", "供电所"];
const DECLINE_REASONS: &[&str] = &[
    "属于邻里私人纠纷，已建议通过人民调解解决",
    "不属于社区职责范围，已告知12345热线",
];

/// The people and places of one grid.
pub struct GridPeople<'a> {
    pub community_id: &'a str,
    pub grid_id: &'a str,
    pub worker_id: &'a str,
    pub lead_id: &'a str,
    pub households: &'a [String],
}

/// One request's road so far, step by step.
struct Road<'a> {
    rng: &'a mut Rng,
    request: RequestRow,
    events: Vec<RequestEventRow>,
    now: i64,
    /// When the last step was taken.
    at: i64,
}

impl Road<'_> {
    /// Takes a step `after` ms later, if that is still in the past.
    fn step(&mut self, after: i64, user: Option<&str>, action: Action, to: RequestStatus, note: &str) -> bool {
        let at = self.at + after;
        if at > self.now {
            return false;
        }
        self.events.push(RequestEventRow {
            id: self.rng.uuid_v7(at),
            request_id: self.request.id.clone(),
            at,
            user_id: user.map(str::to_owned),
            action: action.as_str().into(),
            from_status: Some(self.request.status.clone()),
            to_status: to.as_str().into(),
            note: note.into(),
        });
        if self.request.responded_at.is_none() && action != Action::Raise {
            self.request.responded_at = Some(at);
        }
        self.request.status = to.as_str().into();
        self.request.updated_at = at;
        self.at = at;
        true
    }

    fn hours(&mut self, low: i64, high: i64) -> i64 {
        self.rng.range(low as u64, high as u64) as i64 * HOUR_MS
    }
}

/// How far a request of this age has come, at most: 0 received, 1 assigned,
/// 2 in progress, 3 resolved, 4 followed up, 5 closed; 6 declined, 7 merged.
fn target_stage(rng: &mut Rng, age_days: i64) -> usize {
    let weights: [u32; 8] = if age_days > 30 {
        [0, 0, 3, 4, 8, 80, 3, 2]
    } else if age_days > 7 {
        [0, 5, 13, 20, 20, 35, 4, 3]
    } else {
        [30, 25, 25, 15, 0, 0, 3, 2]
    };
    rng.weighted(&weights)
}

/// `count` requests of one grid over the last `days` days, with their
/// timelines. Merged ones point at an earlier request of the same grid.
pub fn generate(
    rng: &mut Rng,
    grid: &GridPeople<'_>,
    count: usize,
    days: i64,
    now: i64,
) -> (Vec<RequestRow>, Vec<RequestEventRow>) {
    let today_start = (now + BEIJING_OFFSET_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
    let mut created: Vec<i64> = (0..count)
        .map(|_| {
            let day = rng.range(0, days.max(1) as u64) as i64;
            let minute = rng.range(8 * 60 + 30, 20 * 60) as i64;
            (today_start - day * DAY_MS + minute * 60_000).min(now - HOUR_MS)
        })
        .collect();
    created.sort_unstable();
    let (mut requests, mut events) = (Vec::with_capacity(count), Vec::new());
    for at in created {
        let (request, road) = one(rng, grid, at, now, requests.last().map(|r: &RequestRow| r.id.clone()));
        requests.push(request);
        events.extend(road);
    }
    (requests, events)
}

fn one(
    rng: &mut Rng,
    grid: &GridPeople<'_>,
    created_at: i64,
    now: i64,
    earlier: Option<String>,
) -> (RequestRow, Vec<RequestEventRow>) {
    let (code, _, respond_days, resolve_days, texts, resolutions) =
        CATEGORIES[rng.weighted(&CATEGORIES.iter().map(|c| c.1).collect::<Vec<_>>())];
    let source = [
        Source::Visit,
        Source::WalkIn,
        Source::Phone,
        Source::Patrol,
        Source::Public,
    ][rng.weighted(&[50, 15, 15, 12, 8])];
    let at_home = source != Source::Patrol && !grid.households.is_empty();
    let household = at_home.then(|| rng.pick(grid.households).clone());
    let place = if at_home { "" } else { *rng.pick(PLACES) };
    let text_at = rng.range(0, texts.len() as u64) as usize;
    let taker = match source {
        Source::Public => None,
        Source::WalkIn | Source::Phone if rng.chance(0.5) => Some(grid.lead_id),
        _ => Some(grid.worker_id),
    };
    let request = RequestRow {
        id: rng.uuid_v7(created_at),
        source: source.as_str().into(),
        community_id: grid.community_id.into(),
        grid_id: Some(grid.grid_id.into()),
        household_id: household,
        place: place.into(),
        category: code.into(),
        text: texts[text_at].into(),
        status: RequestStatus::Received.as_str().into(),
        first_contact: taker.map(str::to_owned),
        created_by: taker.map(str::to_owned),
        created_at,
        respond_due: due_after_working_days(created_at, respond_days),
        resolve_due: due_after_working_days(created_at, resolve_days),
        responded_at: None,
        assignee_id: None,
        assignee_unit: None,
        resolved_at: None,
        resolution: None,
        followed_up_at: None,
        closed_at: None,
        satisfaction: None,
        reopen_count: 0,
        merged_into: None,
        decline_reason: None,
        updated_at: created_at,
    };
    let age_days = (now - created_at) / DAY_MS;
    let stage = target_stage(rng, age_days);
    let mut road = Road {
        rng,
        request,
        events: Vec::new(),
        now,
        at: created_at,
    };
    road.step(0, taker, Action::Raise, RequestStatus::Received, "");
    let (lead, worker) = (Some(grid.lead_id), Some(grid.worker_id));
    match stage {
        6 => {
            let reason = *road.rng.pick(DECLINE_REASONS);
            let after = road.hours(1, 30);
            if road.step(after, lead, Action::Decline, RequestStatus::Declined, reason) {
                road.request.decline_reason = Some(reason.into());
            }
        }
        7 if earlier.is_some() => {
            let after = road.hours(1, 30);
            if road.step(
                after,
                lead,
                Action::Merge,
                RequestStatus::Merged,
                "与此前反映的同一问题合并办理",
            ) {
                road.request.merged_into = earlier;
            }
        }
        _ => walk(
            &mut road,
            stage.min(5),
            lead,
            worker,
            resolutions[text_at.min(resolutions.len() - 1)],
        ),
    }
    (road.request, road.events)
}

/// Assign, start, resolve, follow up, close: as far as `stage`, and as far
/// as the clock allows. One follow-up in ten finds the resident unhappy and
/// the request goes round again.
fn walk(road: &mut Road<'_>, stage: usize, lead: Option<&str>, worker: Option<&str>, resolution: &str) {
    let after = road.hours(1, 30);
    if stage < 1 || !road.step(after, lead, Action::Assign, RequestStatus::Assigned, "") {
        return;
    }
    if road.rng.chance(0.8) {
        road.request.assignee_id = worker.map(str::to_owned);
    } else {
        road.request.assignee_unit = Some((*road.rng.pick(UNITS)).into());
    }
    let after = road.hours(1, 48);
    if stage < 2
        || !road.step(
            after,
            worker,
            Action::Start,
            RequestStatus::InProgress,
            "已联系居民了解情况",
        )
    {
        return;
    }
    let mut reopened = false;
    loop {
        let after = road.hours(4, 9 * 24);
        if stage < 3 || !road.step(after, worker, Action::Resolve, RequestStatus::Resolved, resolution) {
            return;
        }
        road.request.resolved_at = Some(road.at);
        road.request.resolution = Some(resolution.into());
        let after = road.hours(24, 5 * 24);
        let unhappy = !reopened && road.rng.chance(0.1);
        let satisfaction = if unhappy {
            Satisfaction::Unsatisfied
        } else {
            [Satisfaction::Satisfied, Satisfaction::Basic][road.rng.weighted(&[75, 25])]
        };
        let to = if unhappy {
            RequestStatus::InProgress
        } else {
            RequestStatus::FollowedUp
        };
        if stage < 4
            || !road.step(
                after,
                worker,
                Action::FollowUp,
                to,
                if unhappy { "居民反映问题仍未解决" } else { "" },
            )
        {
            return;
        }
        road.request.followed_up_at = Some(road.at);
        road.request.satisfaction = Some(satisfaction.as_str().into());
        if !unhappy {
            break;
        }
        road.request.reopen_count += 1;
        reopened = true;
    }
    let after = road.hours(12, 72);
    if stage >= 5 && road.step(after, lead, Action::Close, RequestStatus::Closed, "") {
        road.request.closed_at = Some(road.at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_of_requests_reaches_every_state_and_never_the_future() {
        let households: Vec<String> = (0..50).map(|n| format!("h{n}")).collect();
        let grid = GridPeople {
            community_id: "c",
            grid_id: "g",
            worker_id: "w",
            lead_id: "l",
            households: &households,
        };
        let now = 1_790_000_000_000;
        let (requests, events) = generate(&mut Rng::new(7), &grid, 400, 365, now);
        for status in RequestStatus::ALL {
            assert!(
                requests.iter().any(|r| r.status == status.as_str()),
                "no request {}",
                status.label()
            );
        }
        assert!(requests.iter().any(|r| r.reopen_count > 0));
        assert!(events.iter().all(|e| e.at <= now) && requests.iter().all(|r| r.created_at <= now));
        // Each request's timeline ends in its state.
        for r in &requests {
            let last = events.iter().rfind(|e| e.request_id == r.id).unwrap();
            assert_eq!(last.to_status, r.status);
        }
    }
}
