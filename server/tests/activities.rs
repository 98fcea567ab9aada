//! Activities and volunteers over real HTTP on either engine: a lead makes a
//! team of party members and a resident volunteer, puts two activities on
//! the calendar, publishes one as a 活动通知; residents sign up without an
//! account (one anonymously); attendance is ticked by the lead and by a
//! worker, a check-in sent twice credits the hours once; the participation
//! rate per team and quarter. And the refusals: another community 404, a
//! worker 403 on the lead's pages, bad hours 422, a withdrawn notice 404, an
//! activity over 410, too many sign-ups 429 — in Chinese, never a 500.

// Each test binary uses part of the shared harness.
#[allow(dead_code)]
mod common;

use app::domain::CivilDate;
use common::{TestServer, get_text, post_form};
use serde_json::{Value, json};

/// Posts a form that makes a record and answers the record's id, the last
/// segment of the redirect to its page.
async fn made(server: &TestServer, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> String {
    let response = post_form(client, server.url(path), form).await;
    assert_eq!(response.status(), 303, "POST {path} makes a record");
    let to = response.headers()["location"].to_str().unwrap().to_owned();
    to.rsplit('/').next().unwrap().to_owned()
}

/// An in-service party member of the lead's community.
async fn member(server: &TestServer, lead: &reqwest::Client, name: &str, phone: &str) -> String {
    let form = [
        ("kind", "in_service"),
        ("name", name),
        ("unit", "区教育局"),
        ("work_phone", phone),
        ("rank", "member"),
        ("branch", "第一党支部"),
    ];
    made(server, lead, "/manage/party", &form).await
}

/// Tomorrow in Beijing, as a `datetime-local` field writes it, at `time`.
fn tomorrow_at(time: &str) -> String {
    let tomorrow = CivilDate::from_epoch_ms(app::clock::now_ms() + 8 * 3_600_000 + 86_400_000);
    format!("{tomorrow}T{time}")
}

fn activity_form<'a>(
    title: &'a str,
    team: &'a str,
    starts: &'a str,
    ends: &'a str,
    hours: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("place", "社区广场"),
        ("starts_at", starts),
        ("ends_at", ends),
        ("hours", hours),
        ("team", team),
    ]
}

/// A team of two party members and a resident volunteer, and an activity of
/// it tomorrow published with sign-up: `(team, members, resident, activity)`.
async fn published_activity(server: &TestServer, lead: &reqwest::Client) -> (String, [String; 2], String, String) {
    let members = [
        member(server, lead, "王志愿", "13900001111").await,
        member(server, lead, "赵志愿", "13900002222").await,
    ];
    let team = made(server, lead, "/manage/activities/teams", &[("name", "巡逻队")]).await;
    let add = format!("/manage/activities/teams/{team}/members");
    for m in &members {
        made(server, lead, &add, &[("member", m)]).await;
    }
    let (_, resident) = server.household_in("第1网格").await;
    made(server, lead, &add, &[("resident", &resident)]).await;
    let (starts, ends) = (tomorrow_at("09:00"), tomorrow_at("11:00"));
    let form = activity_form("周末巡逻", &team, &starts, &ends, "2");
    let activity = made(server, lead, "/manage/activities", &form).await;
    let publish = post_form(lead, server.url(&format!("/manage/activities/{activity}/publish")), &[]).await;
    assert_eq!(publish.status(), 303, "published");
    (team, members, resident, activity)
}

#[tokio::test]
async fn a_lead_publishes_an_activity_residents_sign_up_and_attendance_credits_hours_once() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let community = server.community_of("lead1").await;
    let (team, [m1, m2], resident, activity) = published_activity(&server, &lead).await;

    // The team: two party members and a resident volunteer; adding one again changes nothing.
    made(
        &server,
        &lead,
        &format!("/manage/activities/teams/{team}/members"),
        &[("member", &m1)],
    )
    .await;
    let (status, page) = get_text(&server, &lead, &format!("/manage/activities/teams/{team}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("王志愿") && page.contains("赵志愿") && page.contains("居民志愿者"),
        "{page}"
    );
    let on_team = "SELECT CAST(COUNT(*) AS TEXT) FROM volunteer_team_members WHERE team_id = $1";
    assert_eq!(server.count(on_team, &team).await, 3);

    // Published as a 活动通知 whose body links the public sign-up.
    let notice = server
        .scalar("SELECT notice_id FROM activities WHERE id = $1", &activity)
        .await;
    let category = server
        .scalar("SELECT category FROM notices WHERE id = $1", &notice)
        .await;
    assert_eq!(category, "event");
    let public = server.client();
    let signup_path = format!("/n/{community}/activities/{activity}");
    let (status, shown) = get_text(&server, &public, &format!("/n/{community}/{notice}")).await;
    assert_eq!(status, 200, "the notice is public");
    assert!(shown.contains(&signup_path), "the notice links the sign-up: {shown}");
    // Publishing again leads to the same notice, not a second one.
    let again = post_form(
        &lead,
        server.url(&format!("/manage/activities/{activity}/publish")),
        &[],
    )
    .await;
    assert_eq!(
        again.headers()["location"],
        format!("/manage/notices/{notice}").as_str()
    );

    // Three sign-ups without an account, one anonymous; the count shows.
    for form in [
        vec![("name", "张三"), ("phone", "13812345678")],
        vec![("name", "李四"), ("phone", "")],
        vec![("name", ""), ("anonymous", "1"), ("phone", "")],
    ] {
        let response = post_form(&public, server.url(&signup_path), &form).await;
        assert_eq!(response.status(), 201, "signed up: {form:?}");
    }
    let (status, page) = get_text(&server, &public, &signup_path).await;
    assert_eq!(status, 200);
    assert!(page.contains("已报名 3 人"), "{page}");
    assert!(!page.contains("张三"), "names are not public");
    // The lead sees the names, the phone masked.
    let (_, page) = get_text(&server, &lead, &format!("/manage/activities/{activity}")).await;
    assert!(page.contains("报名 3 人（匿名 1）"), "{page}");
    assert!(page.contains("138****5678") && !page.contains("13812345678"), "{page}");

    // Attendance: two members ticked; the same check-in sent again answers
    // the existing rows (200) and credits nothing more.
    let sheet = server.url(&format!("/manage/activities/{activity}/attendance"));
    let ticked = [
        ("attendee", format!("member:{m1}")),
        ("attendee", format!("member:{m2}")),
    ];
    let first = lead.post(sheet.clone()).form(&ticked).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.text().await.unwrap().contains("签到 2 人"));
    let second = lead.post(sheet.clone()).form(&ticked).send().await.unwrap();
    assert_eq!(second.status(), 200, "a check-in sent twice is not an error");
    assert!(second.text().await.unwrap().contains("2 人此前已签到"));
    let rows = "SELECT CAST(COUNT(*) AS TEXT) FROM activity_attendance WHERE activity_id = $1";
    let minutes = "SELECT CAST(SUM(credit_minutes) AS TEXT) FROM activity_attendance WHERE activity_id = $1";
    assert_eq!(server.count(rows, &activity).await, 2);
    assert_eq!(server.count(minutes, &activity).await, 240, "two hours each, once");

    // A worker of the community ticks the resident volunteer on their phone's browser.
    let worker = server.login_as("worker1").await;
    let (status, _) = get_text(&server, &worker, &format!("/manage/activities/{activity}/attendance")).await;
    assert_eq!(status, 200);
    let by_worker = post_form(&worker, sheet, &[("attendee", &format!("resident:{resident}"))]).await;
    assert_eq!(by_worker.status(), 200);
    assert_eq!(server.count(rows, &activity).await, 3);
    let audited = "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE entity = 'activity_attendance' AND action = $1";
    assert_eq!(
        server.count(audited, "create").await,
        3,
        "each credited check-in audited once"
    );

    // A second activity the same day where one of three came: the quarter's
    // rate is (3/3 + 1/3) / 2 = 67%, under the 85% line.
    let (starts, ends) = (tomorrow_at("15:00"), tomorrow_at("16:30"));
    let second = made(
        &server,
        &lead,
        "/manage/activities",
        &activity_form("清扫楼道", &team, &starts, &ends, "1.5"),
    )
    .await;
    let sheet = server.url(&format!("/manage/activities/{second}/attendance"));
    assert_eq!(
        post_form(&lead, sheet, &[("attendee", &format!("member:{m1}"))])
            .await
            .status(),
        200
    );
    assert_eq!(server.count(minutes, &second).await, 90);
    let year = &starts[..4];
    let (status, rates) = get_text(&server, &lead, &format!("/manage/activities/rates?year={year}")).await;
    assert_eq!(status, 200);
    assert!(
        rates.contains("巡逻队") && rates.contains("67%") && rates.contains("未达85%"),
        "{rates}"
    );

    // A resident volunteer is found by name; a member taken off the team is off it.
    let name = server
        .scalar("SELECT name FROM residents WHERE id = $1", &resident)
        .await;
    let (status, found) = get_text(&server, &lead, &format!("/manage/activities/teams/{team}?name={name}")).await;
    assert_eq!(status, 200);
    assert!(found.contains(&format!("value=\"{resident}\"")), "{found}");
    made(
        &server,
        &lead,
        &format!("/manage/activities/teams/{team}/remove"),
        &[("person", &m2)],
    )
    .await;
    assert_eq!(server.count(on_team, &team).await, 2);

    // The calendar of the month and of the quarter lists both.
    for span in [
        format!("month={}", &starts[..7]),
        format!("quarter={year}Q{}", (starts[5..7].parse::<u8>().unwrap() - 1) / 3 + 1),
    ] {
        let (status, calendar) = get_text(&server, &lead, &format!("/manage/activities?{span}")).await;
        assert_eq!(status, 200);
        assert!(
            calendar.contains("周末巡逻") && calendar.contains("清扫楼道"),
            "{span}: {calendar}"
        );
    }
}

/// A `check_in` operation as a phone's outbox sends it, ticked `ago_ms` before now.
fn check_in_op(op_id: &str, activity: &str, attendee: &str, ago_ms: i64) -> Value {
    json!({
        "op_id": op_id,
        "created_at": app::clock::now_ms() - ago_ms,
        "change": {"check_in": {"activity_id": activity, "attendee": attendee}},
    })
}

/// Each op's status and reason.
fn results(body: &Value) -> Vec<(String, Option<String>)> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_owned(),
                r["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn applied() -> (String, Option<String>) {
    ("applied".into(), None)
}

fn rejected(reason: &str) -> (String, Option<String>) {
    ("rejected".into(), Some(reason.into()))
}

#[tokio::test]
async fn a_phone_keeps_the_lists_and_its_ticks_credit_the_hours_once() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let (_, [m1, m2], resident, activity) = published_activity(&server, &lead).await;
    let (starts, ends) = (tomorrow_at("14:00"), tomorrow_at("15:00"));
    let untimed = made(
        &server,
        &lead,
        "/manage/activities",
        &activity_form("读书会", "", &starts, &ends, "1"),
    )
    .await;

    // The worker's phone fetches the coming days' lists: the team first,
    // names only (no phone number), nobody checked in yet.
    let worker = server.login_as("worker1").await;
    let response = worker.get(server.url("/api/activities/check-in")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains("13900001111"), "no phone numbers: {text}");
    let lists: Value = serde_json::from_str(&text).unwrap();
    let sheet = lists
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == activity.as_str())
        .expect("the activity is listed");
    assert_eq!(sheet["title"], "周末巡逻");
    assert_eq!(sheet["credit_minutes"], 120);
    let keys: Vec<&str> = sheet["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    let (k1, k2, kr) = (
        format!("member:{m1}"),
        format!("member:{m2}"),
        format!("resident:{resident}"),
    );
    for key in [&k1, &k2, &kr] {
        assert!(keys[..3].contains(&key.as_str()), "the team first: {key} in {keys:?}");
    }
    assert!(
        sheet["people"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["checked"] == false)
    );
    assert!(
        lists.as_array().unwrap().iter().any(|a| a["id"] == untimed.as_str()),
        "a teamless activity too"
    );

    // Ticked offline ten minutes ago; the outbox sends it, the answer is lost,
    // it sends it again; another phone (the lead's) ticks the same person.
    let tick = check_in_op(&common::new_id(), &activity, &k1, 600_000);
    for _ in 0..2 {
        let (status, body) = server.push(&worker, "worker-phone", std::slice::from_ref(&tick)).await;
        assert_eq!(status, 200);
        assert_eq!(results(&body), [applied()]);
    }
    let (_, body) = server
        .push(
            &lead,
            "lead-phone",
            &[check_in_op(&common::new_id(), &activity, &k1, 0)],
        )
        .await;
    assert_eq!(
        results(&body),
        [applied()],
        "a second tick of the same person is not an error"
    );
    let rows = "SELECT CAST(COUNT(*) AS TEXT) FROM activity_attendance WHERE activity_id = $1";
    let minutes = "SELECT CAST(SUM(credit_minutes) AS TEXT) FROM activity_attendance WHERE activity_id = $1";
    assert_eq!(server.count(rows, &activity).await, 1);
    assert_eq!(server.count(minutes, &activity).await, 120, "two hours, once");
    let at: i64 = server
        .scalar(
            "SELECT CAST(checked_in_at AS TEXT) FROM activity_attendance WHERE activity_id = $1",
            &activity,
        )
        .await
        .parse()
        .unwrap();
    assert!(at <= app::clock::now_ms() - 590_000, "stored as ticked, not as synced");
    let audited = "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE entity = 'activity_attendance' AND action = $1";
    assert_eq!(server.count(audited, "create").await, 1);

    // The resident volunteer in the same batch as a stranger, a garbled name
    // and an unknown activity: each answered on its own, in Chinese.
    let (_, body) = server
        .push(
            &worker,
            "worker-phone",
            &[
                check_in_op(&common::new_id(), &activity, &kr, 0),
                check_in_op(&common::new_id(), &activity, &format!("member:{}", common::new_id()), 0),
                check_in_op(&common::new_id(), &activity, "worker:1", 0),
                check_in_op(&common::new_id(), &common::new_id(), &k2, 0),
            ],
        )
        .await;
    assert_eq!(
        results(&body),
        [
            applied(),
            rejected("此人不在本社区的签到名单上（已迁出或已不是本社区党员）"),
            rejected("签到名单格式不正确，请删除后重新签到"),
            rejected("该活动不在您的社区，或已被删除"),
        ]
    );
    assert_eq!(server.count(rows, &activity).await, 2);

    // The lists fetched again show who is in; the sheet and the ledger count it.
    let lists = server.get_json(&worker, "/api/activities/check-in").await;
    let sheet = lists
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == activity.as_str())
        .unwrap();
    let checked: Vec<&str> = sheet["people"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["checked"] == true)
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(checked.len(), 2);
    assert!(checked.contains(&k1.as_str()) && checked.contains(&kr.as_str()));
    let year = &starts[..4];
    let (status, csv) = get_text(&server, &lead, &format!("/manage/party/hours.csv?year={year}")).await;
    assert_eq!(status, 200);
    let line = csv
        .lines()
        .find(|l| l.starts_with("王志愿,"))
        .expect("王志愿 on the ledger");
    assert!(
        line.ends_with(",0,0.0,1,2.0,2.0,不足"),
        "one activity, two hours: {line}"
    );

    // Another community's lead sees none of it and cannot tick it.
    let other = server.login_as("lead2").await;
    let theirs = server.get_json(&other, "/api/activities/check-in").await;
    assert!(theirs.as_array().unwrap().iter().all(|a| a["id"] != activity.as_str()));
    let (_, body) = server
        .push(
            &other,
            "other-phone",
            &[check_in_op(&common::new_id(), &activity, &k2, 0)],
        )
        .await;
    assert_eq!(results(&body), [rejected("该活动不在您的社区，或已被删除")]);

    // A party member's account neither fetches the lists nor ticks.
    let (member, _) = common::linked_member(&server, &lead, "孙党员", "区卫健委").await;
    let phone = common::member_account(&server, &lead, &member, "sun.dy").await;
    let response = phone.get(server.url("/api/activities/check-in")).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let (_, body) = server
        .push(
            &phone,
            "member-phone",
            &[check_in_op(&common::new_id(), &activity, &k2, 0)],
        )
        .await;
    assert_eq!(results(&body), [rejected("党员账号只能登记走访，其他情况请告诉网格员")]);
    assert_eq!(server.count(rows, &activity).await, 2, "nothing more credited");
}

#[tokio::test]
async fn refusals_are_clear_statuses_in_chinese() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let community = server.community_of("lead1").await;
    let (team, [m1, _], _, activity) = published_activity(&server, &lead).await;
    let signup_path = format!("/n/{community}/activities/{activity}");

    // Another community's lead: none of it exists.
    let other = server.login_as("lead2").await;
    for path in [
        format!("/manage/activities/{activity}"),
        format!("/manage/activities/{activity}/attendance"),
        format!("/manage/activities/teams/{team}"),
    ] {
        assert_eq!(get_text(&server, &other, &path).await.0, 404, "{path}");
    }
    let tick = post_form(
        &other,
        server.url(&format!("/manage/activities/{activity}/attendance")),
        &[("attendee", &format!("member:{m1}"))],
    )
    .await;
    assert_eq!(tick.status(), 404);
    let denied = "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'denied' AND entity_id = $1";
    assert!(server.count(denied, &activity).await >= 2, "refusals audited");
    // Nor can the lead tick someone who is not of the community.
    let stranger = common::new_id();
    let tick = post_form(
        &lead,
        server.url(&format!("/manage/activities/{activity}/attendance")),
        &[("attendee", &format!("member:{stranger}"))],
    )
    .await;
    assert_eq!(tick.status(), 404);

    // A worker may tick names but not run the lead's pages.
    let worker = server.login_as("worker1").await;
    for path in [
        "/manage/activities",
        "/manage/activities/teams",
        "/manage/activities/rates",
    ] {
        assert_eq!(get_text(&server, &worker, path).await.0, 403, "{path}");
    }
    assert_eq!(
        get_text(&server, &worker, &format!("/manage/activities/{activity}"))
            .await
            .0,
        403
    );
    let publish = post_form(
        &worker,
        server.url(&format!("/manage/activities/{activity}/publish")),
        &[],
    )
    .await;
    assert_eq!(publish.status(), 403);

    // Hours negative or over a day, times backwards, no title: 422 in Chinese, nothing made.
    let (starts, ends) = (tomorrow_at("09:00"), tomorrow_at("11:00"));
    for (form, says) in [
        (activity_form("植树", &team, &starts, &ends, "-1"), "0到24"),
        (activity_form("植树", &team, &starts, &ends, "25"), "0到24"),
        (activity_form("植树", &team, &starts, &ends, "两小时"), "0到24"),
        (
            activity_form("植树", &team, &ends, &starts, "2"),
            "结束时间应晚于开始时间",
        ),
        (activity_form("", &team, &starts, &ends, "2"), "活动名称"),
    ] {
        let response = post_form(&lead, server.url("/manage/activities"), &form).await;
        assert_eq!(response.status(), 422, "{form:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains(says), "{says}");
        assert!(
            page.contains(&format!("value=\"{}\"", form[2].1)),
            "what was sent stays in the form"
        );
    }
    let planted = "SELECT CAST(COUNT(*) AS TEXT) FROM activities WHERE title = $1";
    assert_eq!(server.count(planted, "植树").await, 0);
    let edit = post_form(
        &lead,
        server.url(&format!("/manage/activities/{activity}")),
        &activity_form("周末巡逻", &team, &starts, &ends, "30"),
    )
    .await;
    assert_eq!(edit.status(), 422);
    assert!(
        edit.text().await.unwrap().contains("value=\"30\""),
        "the refused hours stay in the form"
    );
    // Another community's team is not found; a team name taken is 409.
    let lead2_team = made(&server, &other, "/manage/activities/teams", &[("name", "巡逻队")]).await;
    let borrowed = post_form(
        &lead,
        server.url("/manage/activities"),
        &activity_form("植树", &lead2_team, &starts, &ends, "2"),
    )
    .await;
    assert_eq!(borrowed.status(), 404);
    let taken = post_form(&lead, server.url("/manage/activities/teams"), &[("name", "巡逻队")]).await;
    assert_eq!(taken.status(), 409);
    assert!(taken.text().await.unwrap().contains("同名队伍"));
    let unnamed = post_form(&lead, server.url("/manage/activities/teams"), &[("name", "")]).await;
    assert_eq!(unnamed.status(), 422);

    // Public sign-up: a bad phone or a long name 422; five from one address, then 429.
    let public = server.client();
    let bad_phone = post_form(
        &public,
        server.url(&signup_path),
        &[("name", "张三"), ("phone", "12345")],
    )
    .await;
    assert_eq!(bad_phone.status(), 422);
    assert!(bad_phone.text().await.unwrap().contains("手机号"));
    let long_name = "长".repeat(21);
    let long = post_form(&public, server.url(&signup_path), &[("name", &long_name)]).await;
    assert_eq!(long.status(), 422);
    for _ in 0..5 {
        let ok = post_form(&public, server.url(&signup_path), &[("anonymous", "1")]).await;
        assert_eq!(ok.status(), 201);
    }
    let limited = post_form(&public, server.url(&signup_path), &[("anonymous", "1")]).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.text().await.unwrap().contains("报名的人数已经很多"));
    let signups = "SELECT CAST(COUNT(*) AS TEXT) FROM activity_signups WHERE activity_id = $1";
    assert_eq!(server.count(signups, &activity).await, 5);

    // Over: 410. Its notice withdrawn: 404. Never published: 404.
    let (yesterday_start, yesterday_end) = {
        let day = CivilDate::from_epoch_ms(app::clock::now_ms() + 8 * 3_600_000 - 86_400_000);
        (format!("{day}T09:00"), format!("{day}T11:00"))
    };
    let past = activity_form("周末巡逻", &team, &yesterday_start, &yesterday_end, "2");
    assert_eq!(
        post_form(&lead, server.url(&format!("/manage/activities/{activity}")), &past)
            .await
            .status(),
        303
    );
    let (status, page) = get_text(&server, &public, &signup_path).await;
    assert_eq!(status, 410);
    assert!(page.contains("活动已经结束"));
    let notice = server
        .scalar("SELECT notice_id FROM activities WHERE id = $1", &activity)
        .await;
    let withdraw = post_form(&lead, server.url(&format!("/manage/notices/{notice}/withdraw")), &[]).await;
    assert_eq!(withdraw.status(), 303);
    assert_eq!(get_text(&server, &public, &signup_path).await.0, 404);
    let unpublished = made(
        &server,
        &lead,
        "/manage/activities",
        &activity_form("植树", &team, &starts, &ends, "2"),
    )
    .await;
    let (status, page) = get_text(&server, &public, &format!("/n/{community}/activities/{unpublished}")).await;
    assert_eq!(status, 404);
    assert!(page.contains("没有这个活动"));
    // An ended activity is not published.
    let ended = made(
        &server,
        &lead,
        "/manage/activities",
        &activity_form("旧活动", &team, &yesterday_start, &yesterday_end, "2"),
    )
    .await;
    let late = post_form(&lead, server.url(&format!("/manage/activities/{ended}/publish")), &[]).await;
    assert_eq!(late.status(), 422);
    // Malformed ids are 400, unknown ones 404, never a 500.
    assert_eq!(
        get_text(&server, &public, &format!("/n/{community}/activities/nope"))
            .await
            .0,
        400
    );
    assert_eq!(get_text(&server, &lead, "/manage/activities/nope").await.0, 400);
    assert_eq!(
        get_text(&server, &lead, &format!("/manage/activities/{stranger}"))
            .await
            .0,
        404
    );
    assert_eq!(
        get_text(&server, &lead, "/manage/activities?month=2026-13").await.0,
        400
    );
}

#[tokio::test]
async fn the_public_sign_up_page_shares_the_per_address_limit_of_public_pages() {
    let server = TestServer::start_with(|s| s.public_requests_per_minute = 3).await;
    let lead = server.login_as("lead1").await;
    let community = server.community_of("lead1").await;
    let (_, _, _, activity) = published_activity(&server, &lead).await;
    let public = server.client();
    common::start_of_a_fresh_minute().await;
    let path = format!("/n/{community}/activities/{activity}");
    for _ in 0..3 {
        assert_eq!(get_text(&server, &public, &path).await.0, 200);
    }
    let (status, page) = get_text(&server, &public, &path).await;
    assert_eq!(status, 429);
    assert!(page.contains("秒后再试"), "{page}");
}
