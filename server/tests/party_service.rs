//! Party members' service over real HTTP on either engine: a member's visit
//! recorded at the desk (once, however often the form is sent), which takes
//! them off the overdue list, reaches the household's grid like any visit and
//! counts on the hours ledger beside the activities they attended; the
//! 16-hour rule; each outside unit's quarterly report as XLSX, a sheet per
//! unit; the cadences and the rule as an admin's data; and the refusals — a
//! household not linked (404, audited), bad input (422 in Chinese), another
//! community's lead (404), a worker (403). And a building's public page:
//! who serves it, with work phones, and nothing of its residents.

// Each test binary uses part of the shared harness.
#[allow(dead_code)]
mod common;

use app::domain::CivilDate;
use calamine::Reader;
use common::{TestServer, get_text, linked_member, post_form, redirected};

/// Beijing wall-clock time `ms_ago` milliseconds ago, as a `datetime-local`
/// field writes it, and its Beijing year.
fn beijing_input(ms_ago: i64) -> (String, i32) {
    let local = app::clock::now_ms() - ms_ago + 8 * 3_600_000;
    let day = CivilDate::from_epoch_ms(local);
    let minute = local.rem_euclid(86_400_000) / 60_000;
    (format!("{day}T{:02}:{:02}", minute / 60, minute % 60), day.year())
}

/// The visit form as the member's page draws it.
fn visit_form<'a>(visit_id: &'a str, household: &'a str, at: &'a str, hours: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("visit_id", visit_id),
        ("household", household),
        ("visited_at", at),
        ("outcome", "met"),
        ("hours", hours),
        ("notes", "了解老人用药情况"),
    ]
}

#[tokio::test]
async fn a_members_visit_counts_once_on_the_overdue_list_the_hours_ledger_and_the_units_report() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let community = server.community_of("lead1").await;
    let (member, [hardship, _]) = linked_member(&server, &lead, "单位党员甲", "区教育局").await;
    linked_member(&server, &lead, "单位党员乙", "区卫健委").await;

    // Both are overdue: neither has visited this period.
    let (status, overdue) = get_text(&server, &lead, "/manage/party/overdue").await;
    assert_eq!(status, 200);
    assert!(
        overdue.contains("单位党员甲") && overdue.contains("单位党员乙"),
        "{overdue}"
    );

    // The visit, sent twice (a double tap): one visit, one audit row. It is
    // dated this minute: the member registered today, and the period it
    // counts in is the current one even just after midnight.
    let (at, year) = beijing_input(0);
    let visit_id = common::new_id();
    let form = visit_form(&visit_id, &hardship, &at, "1.5");
    let url = server.url(&format!("/manage/party/members/{member}/visits"));
    for _ in 0..2 {
        let to = redirected(&post_form(&lead, url.clone(), &form).await);
        assert_eq!(to, format!("/manage/party/members/{member}"));
    }
    let stored = "SELECT CAST(COUNT(*) AS TEXT) FROM visits WHERE party_member_id = $1";
    assert_eq!(server.count(stored, &member).await, 1);
    let minutes = "SELECT CAST(service_minutes AS TEXT) FROM visits WHERE id = $1";
    assert_eq!(server.scalar(minutes, &visit_id).await, "90");
    let audited = "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE entity = 'party_visit' AND entity_id = $1";
    assert_eq!(server.count(audited, &visit_id).await, 1);

    // An ordinary visit to the household: the grid's worker pulls it.
    let worker = server.login_as("worker1").await;
    let (mut cursor, mut pulled) = (0, false);
    loop {
        let page = server
            .get_json(&worker, &format!("/api/sync/pull?cursor={cursor}&limit=5000"))
            .await;
        pulled |= page["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == visit_id.as_str());
        cursor = page["next_cursor"].as_i64().unwrap();
        if page["more"] != true {
            break;
        }
    }
    assert!(pulled, "the member's visit reaches the grid's phones");

    // Off the overdue list; the other is still on it.
    let (_, overdue) = get_text(&server, &lead, "/manage/party/overdue").await;
    assert!(!overdue.contains("单位党员甲") && overdue.contains("单位党员乙"));
    let (_, page) = get_text(&server, &lead, &format!("/manage/party/members/{member}")).await;
    assert!(page.contains("今年走访1次，服务1.5小时"), "{page}");

    // An activity attended credits its hours beside the visit's.
    let (starts, activity_year) = beijing_input(2 * 3_600_000);
    let (ends, _) = beijing_input(3_600_000 / 2);
    let activity = [
        ("title", "楼道清理"),
        ("place", "社区广场"),
        ("starts_at", starts.as_str()),
        ("ends_at", ends.as_str()),
        ("hours", "2"),
        ("team", ""),
    ];
    let made = redirected(&post_form(&lead, server.url("/manage/activities"), &activity).await);
    let sheet = server.url(&format!("{made}/attendance"));
    let ticked = lead
        .post(sheet)
        .form(&[("attendee", format!("member:{member}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(ticked.status(), 200);

    let (status, csv) = get_text(&server, &lead, &format!("/manage/party/hours.csv?year={year}")).await;
    assert_eq!(status, 200);
    let line = csv
        .lines()
        .find(|l| l.starts_with("单位党员甲"))
        .expect("the member's line");
    let expected = if activity_year == year {
        "单位党员甲,在职党员,区教育局,第一党支部,1,1.5,1,2.0,3.5,不足"
    } else {
        "单位党员甲,在职党员,区教育局,第一党支部,1,1.5,0,0.0,1.5,不足"
    };
    assert_eq!(line, expected);
    let (_, page) = get_text(&server, &lead, &format!("/manage/party/hours?year={year}")).await;
    assert!(page.contains("服务时长不足16小时"), "{page}");

    // Each unit's report: a sheet per unit, the visit and the activity on the
    // education bureau's.
    let quarter = {
        let today = CivilDate::from_epoch_ms(app::clock::now_ms() + 8 * 3_600_000);
        format!("{}Q{}", today.year(), (today.month() - 1) / 3 + 1)
    };
    let response = lead
        .get(server.url(&format!("/manage/party/units.xlsx?quarter={quarter}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX file");
    let names = book.sheet_names();
    assert!(
        names.contains(&"区教育局".to_owned()) && names.contains(&"区卫健委".to_owned()),
        "{names:?}"
    );
    let sheet = book.worksheet_range("区教育局").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let ours: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "单位党员甲").collect();
    assert!(
        ours.iter()
            .any(|r| r[2] == "走访联系户" && r[4].contains("（已见面）") && r[5] == "1.5"),
        "{ours:?}"
    );
    let total = ours.iter().find(|r| r[2] == "本季度合计").expect("a total");
    assert!(total[4].starts_with("走访1次"), "{total:?}");
    // Another community's lead finds neither the ledger nor the report.
    let other = server.login_as("lead2").await;
    for path in [
        "/manage/party/hours",
        "/manage/party/units.xlsx",
        "/manage/party/overdue",
    ] {
        let (status, _) = get_text(&server, &other, &format!("{path}?community={community}")).await;
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn member_visits_are_refused_outside_the_links_and_for_bad_input() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let (member, [hardship, _]) = linked_member(&server, &lead, "单位党员丙", "区教育局").await;
    let url = server.url(&format!("/manage/party/members/{member}/visits"));
    let (at, _) = beijing_input(0);

    // A household of the community not linked to the member: 404, audited.
    let unlinked = server
        .scalar(
            "SELECT h.id FROM households h WHERE h.id NOT IN
               (SELECT household_id FROM party_member_households WHERE member_id = $1) ORDER BY h.id LIMIT 1",
            &member,
        )
        .await;
    let id = common::new_id();
    let response = post_form(&lead, url.clone(), &visit_form(&id, &unlinked, &at, "1")).await;
    assert_eq!(response.status(), 404);
    let denied = "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'denied' AND entity_id = $1";
    assert_eq!(server.count(denied, &unlinked).await, 1);

    // Bad input: 422 with a message a lead can act on; nothing stored.
    let (future, _) = beijing_input(-2 * 86_400_000);
    for (form_at, hours, message) in [
        (at.as_str(), "-1", "服务时长请填写0.1到12之间的小时数"),
        (at.as_str(), "48", "服务时长请填写0.1到12之间的小时数"),
        (future.as_str(), "1", "走访时间不能晚于现在"),
        ("2026-13-40T10:00", "1", "走访时间请按"),
        ("2025-01-01T10:00", "1", "不能早于该党员的报到日期"),
    ] {
        let id = common::new_id();
        let response = post_form(&lead, url.clone(), &visit_form(&id, &hardship, form_at, hours)).await;
        assert_eq!(response.status(), 422, "{form_at} {hours}");
        assert!(response.text().await.unwrap().contains(message), "{message}");
    }
    let stored = "SELECT CAST(COUNT(*) AS TEXT) FROM visits WHERE party_member_id = $1";
    assert_eq!(server.count(stored, &member).await, 0);
    // Not a form at all, or an id that is not one: 400.
    let response = lead.post(url.clone()).body("x").send().await.unwrap();
    assert_eq!(response.status(), 400);
    let response = post_form(&lead, url.clone(), &visit_form("nonsense", &hardship, &at, "1")).await;
    assert_eq!(response.status(), 400);

    // Another community's lead does not find the member; a worker may not ask.
    let other = server.login_as("lead2").await;
    let id = common::new_id();
    let response = post_form(&other, url.clone(), &visit_form(&id, &hardship, &at, "1")).await;
    assert_eq!(response.status(), 404);
    let worker = server.login_as("worker1").await;
    for path in [
        "/manage/party/overdue",
        "/manage/party/hours",
        "/manage/party/hours.xlsx",
        "/manage/party/units.xlsx",
        "/manage/party/rules",
    ] {
        let (status, _) = get_text(&server, &worker, path).await;
        assert_eq!(status, 403, "{path}");
    }
    let (status, _) = get_text(&server, &lead, "/manage/party/hours?year=1999").await;
    assert_eq!(status, 400);
    let (status, _) = get_text(&server, &lead, "/manage/party/units.xlsx?quarter=2026Q5").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_cadences_and_the_yearly_rule_are_an_admins_data() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let (status, _) = get_text(&server, &lead, "/manage/party/rules").await;
    assert_eq!(status, 403, "a lead reads the rules on the roster, not here");
    let admin = server.login_as("admin").await;
    let (status, page) = get_text(&server, &admin, "/manage/party/rules").await;
    assert_eq!(status, 200);
    assert!(page.contains("每季度1次") && page.contains("value=\"16\""), "{page}");

    let rules = |committee: &'static str, hours: &'static str| {
        [
            ("county_leader", "3"),
            ("committee", committee),
            ("member", "2"),
            ("annual_hours", hours),
        ]
    };
    for (committee, hours) in [("5", "16"), ("1", "0"), ("1", "十六")] {
        let response = post_form(&admin, server.url("/manage/party/rules"), &rules(committee, hours)).await;
        assert_eq!(response.status(), 422, "{committee} {hours}");
    }
    let response = post_form(&admin, server.url("/manage/party/rules"), &rules("3", "20")).await;
    redirected(&response);
    let months = "SELECT CAST(period_months AS TEXT) FROM party_cadences WHERE rank = $1";
    assert_eq!(server.scalar(months, "committee").await, "3");
    let (_, page) = get_text(&server, &lead, "/manage/party/hours").await;
    assert!(page.contains("不足20小时"), "{page}");
}

#[tokio::test]
async fn a_buildings_public_page_names_who_serves_it_and_nothing_of_its_residents() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let community = server.community_of("lead1").await;
    let (household, _) = server.household_in("第1网格").await;
    let building = server
        .scalar("SELECT building_id FROM households WHERE id = $1", &household)
        .await;

    // The worker's work phone, set by their lead; a bad one is refused.
    let phone = server.url("/manage/users/worker1/phone");
    let response = post_form(&lead, phone.clone(), &[("work_phone", "12345")]).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("工作电话应为11位手机号"));
    redirected(&post_form(&lead, phone, &[("work_phone", "138 0000 1111")]).await);

    // A 楼栋党员 for the building.
    let (member, _) = linked_member(&server, &lead, "楼栋党员丁", "区教育局").await;
    let url = server.url(&format!("/manage/party/members/{member}/buildings"));
    redirected(&post_form(&lead, url, &[("building", &building)]).await);

    let anyone = server.client();
    let path = format!("/n/{community}/b/{building}");
    let (status, page) = get_text(&server, &anyone, &path).await;
    assert_eq!(status, 200);
    let worker = server
        .scalar("SELECT display_name FROM users WHERE username = $1", "worker1")
        .await;
    let head = server
        .scalar("SELECT display_name FROM users WHERE username = $1", "lead1")
        .await;
    for shown in [
        worker.as_str(),
        "13800001111",
        head.as_str(),
        "楼栋党员丁",
        "0571-87654321",
        "我们在干什么",
    ] {
        assert!(page.contains(shown), "{shown} on the page");
    }
    // Nothing of a resident: none of the building's residents' names.
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT r.name FROM residents r JOIN households h ON h.id = r.household_id WHERE h.building_id = $1",
    )
    .bind(&building)
    .fetch_all(&server.pool)
    .await
    .unwrap();
    assert!(!names.is_empty());
    for name in &names {
        assert!(!page.contains(name.as_str()), "a resident's name on a public page");
    }

    // The member moved away: no longer shown.
    let status_url = server.url(&format!("/manage/party/members/{member}/status"));
    redirected(&post_form(&lead, status_url, &[("status", "moved")]).await);
    let (_, page) = get_text(&server, &anyone, &path).await;
    assert!(!page.contains("楼栋党员丁"));

    // The poster's code points at the page.
    let response = anyone
        .get(server.url(&format!("{path}/poster.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains(&path));

    // Another community's building, or none: 404; not an id: 400.
    let elsewhere = server
        .scalar(
            "SELECT b.id FROM buildings b JOIN grids g ON g.id = b.grid_id WHERE g.community_id <> $1 LIMIT 1",
            &community,
        )
        .await;
    for building in [elsewhere, common::new_id()] {
        let (status, _) = get_text(&server, &anyone, &format!("/n/{community}/b/{building}")).await;
        assert_eq!(status, 404);
    }
    let (status, _) = get_text(&server, &anyone, &format!("/n/{community}/b/x")).await;
    assert_eq!(status, 400);
}
