//! Party members in the grid over real HTTP on either engine: the roster, a
//! resident member and an in-service member registered, 联系户 and 楼栋党员
//! linked, the 联系卡, moving away; and the refusals — another community's
//! member or household (404, audited), the same person twice (409 with the
//! way to their record), bad input (422 in Chinese), never a 500.

// Each test binary uses part of the shared harness.
#[allow(dead_code)]
mod common;

use common::{TestServer, get_text, post_form};

/// The form of an in-service member.
fn in_service<'a>(name: &'a str, phone: &'a str, rank: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("kind", "in_service"),
        ("name", name),
        ("unit", "区教育局"),
        ("unit_party_org", "区教育局机关党委"),
        ("work_phone", phone),
        ("rank", rank),
        ("branch", "第一党支部"),
        ("group", "第一党小组"),
        ("registered_on", "2026-03-01"),
    ]
}

/// A party group of `community`, in `grid` (none: empty).
fn group_form<'a>(community: &'a str, grid: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("community", community),
        ("branch", "第一党支部"),
        ("group", "楼道党小组"),
        ("grid", grid),
    ]
}

/// Registers a member and answers their id (from the redirect to their page).
async fn register(server: &TestServer, lead: &reqwest::Client, form: &[(&str, &str)]) -> String {
    let response = post_form(lead, server.url("/manage/party"), form).await;
    assert_eq!(response.status(), 303, "registered");
    let to = response.headers()["location"].to_str().unwrap().to_owned();
    to.strip_prefix("/manage/party/members/")
        .expect("to the member")
        .to_owned()
}

/// A household of the community of `lead`, with key-group residents or without.
async fn household_of(server: &TestServer, lead: &str, key_group: bool) -> String {
    let sql = format!(
        "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
         JOIN users u ON u.community_id = g.community_id
         WHERE u.username = $1 AND {} EXISTS (SELECT 1 FROM resident_tags t JOIN residents r ON r.id = t.resident_id
                                            WHERE r.household_id = h.id)
           AND EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id AND NOT r.moved_out)
         ORDER BY h.id LIMIT 1",
        if key_group { "" } else { "NOT" }
    );
    server.scalar(&sql, lead).await
}

#[tokio::test]
async fn a_lead_registers_members_links_their_households_and_prints_a_card() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;

    // The cadence by rank is data, seeded by the migration.
    let months = |rank: &'static str| {
        let server = &server;
        async move {
            server
                .scalar(
                    "SELECT CAST(period_months AS TEXT) FROM party_cadences WHERE rank = $1",
                    rank,
                )
                .await
        }
    };
    assert_eq!(months("county_leader").await, "3");
    assert_eq!(months("committee").await, "1");
    assert_eq!(months("member").await, "2");

    let id = register(
        &server,
        &lead,
        &in_service("欧阳明远", "138 0013 8000", "county_leader"),
    )
    .await;
    // The demo has members of its own: this test's are in their own group.
    let group = server
        .scalar("SELECT group_id FROM party_members WHERE id = $1", &id)
        .await;
    let ours = format!("/manage/party?group={group}");
    let (status, roster) = get_text(&server, &lead, &ours).await;
    assert_eq!(status, 200);
    assert!(roster.contains("欧阳明远") && roster.contains("县级领导干部"));
    assert!(roster.contains("138****8000"), "the phone masked");
    assert!(!roster.contains("13800138000"), "never whole on the roster");
    assert!(roster.contains("⚠ 未配齐"), "no households linked yet");
    assert!(roster.contains("每季度1次"));
    // The demo street's members, their party groups pushed down into the grids.
    let (_, all) = get_text(&server, &lead, "/manage/party").await;
    assert!(all.contains("第一党支部 · 第1网格党小组：第1网格"));
    assert!(all.matches("<tr>").count() > 2);

    // A hardship household and an ordinary one: the 001 rule is met.
    let hardship = household_of(&server, "lead1", true).await;
    let ordinary = household_of(&server, "lead1", false).await;
    let member = format!("/manage/party/members/{id}");
    for (household, kind) in [(&hardship, "hardship"), (&ordinary, "ordinary")] {
        let linked = post_form(
            &lead,
            server.url(&format!("{member}/households")),
            &[("household", household), ("kind", kind)],
        )
        .await;
        assert_eq!(linked.status(), 303);
    }
    let building = server
        .scalar("SELECT building_id FROM households WHERE id = $1", &hardship)
        .await;
    let linked = post_form(
        &lead,
        server.url(&format!("{member}/buildings")),
        &[("building", &building)],
    )
    .await;
    assert_eq!(linked.status(), 303);
    let (_, roster) = get_text(&server, &lead, &ours).await;
    assert!(!roster.contains("⚠ 未配齐"));
    assert!(roster.contains("困难/重点 1 · 普通 1"));

    // Searching a building's doors finds the household to link.
    let door = server
        .scalar("SELECT door_number FROM households WHERE id = $1", &hardship)
        .await;
    let (status, page) = get_text(&server, &lead, &format!("{member}?building={building}&door={door}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("value=\"{hardship}\"")));

    // The household's page names its member (and, through the building, again).
    let (status, page) = get_text(&server, &lead, &format!("/manage/party/households/{hardship}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("欧阳明远") && page.contains("困难/重点户") && page.contains("楼栋党员"));

    // The card is for the household: the member's own phone in full, on A6.
    let (status, card) = get_text(&server, &lead, &format!("{member}/card")).await;
    assert_eq!(status, 200);
    assert!(card.contains("size:A6"));
    assert!(card.contains("13800138000") && card.contains("春华社区") && card.contains("有事请找我"));

    // Every change audited with the member.
    let changes = server
        .count(
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE entity = 'party_member' AND entity_id = $1
         AND action IN ('create', 'update')",
            &id,
        )
        .await;
    assert_eq!(changes, 4, "registered, two households, a building");

    // Moved away: off the active list, on the moved one, links kept.
    let moved = post_form(&lead, server.url(&format!("{member}/status")), &[("status", "moved")]).await;
    assert_eq!(moved.status(), 303);
    let (_, active) = get_text(&server, &lead, "/manage/party?status=active").await;
    assert!(!active.contains("欧阳明远"));
    let (_, gone) = get_text(&server, &lead, "/manage/party?status=moved").await;
    assert!(gone.contains("欧阳明远") && gone.contains("已迁出"));
    let (_, page) = get_text(&server, &lead, &format!("/manage/party/households/{hardship}")).await;
    assert!(
        !page.contains("欧阳明远"),
        "a member moved away no longer serves the household"
    );

    // A resident registers as a member: found by name, their record linked.
    let resident = server
        .scalar(
            "SELECT r.id FROM residents r WHERE r.household_id = $1 AND NOT r.moved_out ORDER BY r.id LIMIT 1",
            &ordinary,
        )
        .await;
    let name = server
        .scalar("SELECT name FROM residents WHERE id = $1", &resident)
        .await;
    let (status, found) = get_text(&server, &lead, &format!("/manage/party/new?name={name}")).await;
    assert_eq!(status, 200);
    assert!(found.contains(&format!("/manage/party/new?resident={resident}")));
    let resident_form = [
        ("kind", "resident"),
        ("resident", resident.as_str()),
        ("rank", "member"),
        ("branch", "第二党支部"),
    ];
    let member_id = register(&server, &lead, &resident_form).await;
    let (_, roster) = get_text(&server, &lead, "/manage/party").await;
    assert!(roster.contains(&name) && roster.contains("居民党员"));

    // The branch filter shows that branch's members only.
    let branch = server
        .scalar("SELECT branch_id FROM party_members WHERE id = $1", &member_id)
        .await;
    let (_, filtered) = get_text(&server, &lead, &format!("/manage/party?branch={branch}")).await;
    assert!(filtered.contains(&name) && !filtered.contains("欧阳明远"));

    // An edit keeps the phone on record when its field is left empty.
    let edit = [
        ("name", "欧阳明远"),
        ("unit", "区教育局"),
        ("work_phone", ""),
        ("rank", "committee"),
        ("branch", "第一党支部"),
        ("registered_on", "2026-03-01"),
    ];
    let edited = post_form(&lead, server.url(&member), &edit).await;
    assert_eq!(edited.status(), 303);
    assert_eq!(
        server
            .scalar("SELECT work_phone FROM party_members WHERE id = $1", &id)
            .await,
        "13800138000"
    );
    assert_eq!(
        server.scalar("SELECT rank FROM party_members WHERE id = $1", &id).await,
        "committee"
    );
}

#[tokio::test]
async fn refusals_are_clear_and_never_a_server_error() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let other_lead = server.login_as("lead2").await;
    let id = register(&server, &lead, &in_service("司马青", "13900001234", "member")).await;
    let member = format!("/manage/party/members/{id}");

    // Another community's lead: not found, whatever the route.
    for path in [member.clone(), format!("{member}/card")] {
        let (status, _) = get_text(&server, &other_lead, &path).await;
        assert_eq!(status, 404, "{path}");
    }
    let household = household_of(&server, "lead1", true).await;
    let foreign = post_form(
        &other_lead,
        server.url(&format!("{member}/households")),
        &[("household", &household), ("kind", "hardship")],
    )
    .await;
    assert_eq!(foreign.status(), 404);

    // A household of another community: not found, and the attempt audited.
    let elsewhere = household_of(&server, "lead2", false).await;
    let linked = post_form(
        &lead,
        server.url(&format!("{member}/households")),
        &[("household", &elsewhere), ("kind", "ordinary")],
    )
    .await;
    assert_eq!(linked.status(), 404);
    let denied = server
        .count(
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'denied' AND entity = 'household'
         AND entity_id = $1",
            &elsewhere,
        )
        .await;
    assert_eq!(denied, 1);
    let (status, _) = get_text(&server, &lead, &format!("/manage/party/households/{elsewhere}")).await;
    assert_eq!(status, 404);
    let building = server
        .scalar("SELECT building_id FROM households WHERE id = $1", &elsewhere)
        .await;
    let linked = post_form(
        &lead,
        server.url(&format!("{member}/buildings")),
        &[("building", &building)],
    )
    .await;
    assert_eq!(linked.status(), 404);
    let links = server
        .count(
            "SELECT CAST(COUNT(*) AS TEXT) FROM party_member_households WHERE member_id = $1",
            &id,
        )
        .await;
    assert_eq!(links, 0);

    // The same person twice: 409, with the way to the first record — the
    // phone written another way is the same phone.
    let again = post_form(
        &lead,
        server.url("/manage/party"),
        &in_service("司马青", "139-0000-1234", "committee"),
    )
    .await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains(&member));
    let resident = server
        .scalar(
            "SELECT id FROM residents WHERE household_id = $1 AND NOT moved_out ORDER BY id LIMIT 1",
            &household,
        )
        .await;
    let as_resident = [
        ("kind", "resident"),
        ("resident", resident.as_str()),
        ("rank", "member"),
        ("branch", "第一党支部"),
    ];
    let first = register(&server, &lead, &as_resident).await;
    let twice = post_form(&lead, server.url("/manage/party"), &as_resident).await;
    assert_eq!(twice.status(), 409);
    assert!(
        twice
            .text()
            .await
            .unwrap()
            .contains(&format!("/manage/party/members/{first}"))
    );
    // Another community's resident is not found.
    let outsider = server
        .scalar(
            "SELECT id FROM residents WHERE household_id = $1 ORDER BY id LIMIT 1",
            &household_of(&server, "lead2", true).await,
        )
        .await;
    let foreign = post_form(
        &lead,
        server.url("/manage/party"),
        &[
            ("kind", "resident"),
            ("resident", &outsider),
            ("rank", "member"),
            ("branch", "一支部"),
        ],
    )
    .await;
    assert_eq!(foreign.status(), 404);

    // Bad input: 422 with a Chinese message.
    let bad: [(Vec<(&str, &str)>, &str); 5] = [
        (in_service("", "13900001235", "member"), "姓名"),
        (in_service("张三", "13900001236", "mayor"), "职级类别"),
        (in_service("张三", "12345", "member"), "工作电话"),
        (in_service("张三", "", "member"), "工作电话"),
        (vec![("kind", "alien"), ("name", "张三")], "党员类别"),
    ];
    for (form, says) in bad {
        let answer = post_form(&lead, server.url("/manage/party"), &form).await;
        assert_eq!(answer.status(), 422, "{form:?}");
        assert!(answer.text().await.unwrap().contains(says), "{form:?} says {says}");
    }
    let kind = post_form(
        &lead,
        server.url(&format!("{member}/households")),
        &[("household", &household), ("kind", "vip")],
    )
    .await;
    assert_eq!(kind.status(), 422);
    let status = post_form(&lead, server.url(&format!("{member}/status")), &[("status", "dead")]).await;
    assert_eq!(status.status(), 422);
    let future = post_form(
        &lead,
        server.url(&member),
        &[
            ("name", "司马青"),
            ("unit", "区教育局"),
            ("rank", "member"),
            ("branch", "一支部"),
            ("registered_on", "2999-01-01"),
        ],
    )
    .await;
    assert_eq!(future.status(), 422);
    assert!(future.text().await.unwrap().contains("不能晚于今天"));

    // Malformed ids and filters: 400, not 500.
    for path in [
        "/manage/party/members/not-an-id".to_owned(),
        "/manage/party?status=gone".to_owned(),
        format!("{member}?building=nope"),
    ] {
        let (status, _) = get_text(&server, &lead, &path).await;
        assert_eq!(status, 400, "{path}");
    }

    // A party group goes into a grid of its own community only.
    let community = server.community_of("lead1").await;
    let other_grid = server
        .scalar(
            "SELECT g.id FROM grids g JOIN users u ON u.community_id = g.community_id WHERE u.username = $1
             ORDER BY g.name LIMIT 1",
            "lead2",
        )
        .await;
    let groups = server.url("/manage/party/groups");
    let answer = post_form(&lead, groups.clone(), &group_form(&community, &other_grid)).await;
    assert_eq!(answer.status(), 404, "a grid of another community");
    let elsewhere = server.community_of("lead2").await;
    let answer = post_form(&lead, groups.clone(), &group_form(&elsewhere, "")).await;
    assert_eq!(answer.status(), 404, "another community");
    let admin = server.login_as("admin").await;
    let answer = post_form(&admin, groups.clone(), &group_form(&common::new_id(), "")).await;
    assert_eq!(answer.status(), 404, "no such community");
    let answer = post_form(&lead, groups, &group_form(&community, "")).await;
    assert_eq!(answer.status(), 303);

    // Workers do not run the roster.
    let worker = server.login_as("worker1").await;
    let (status, _) = get_text(&server, &worker, "/manage/party").await;
    assert_eq!(status, 403);
}
