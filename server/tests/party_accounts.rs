//! A party member's phone account over real HTTP on either engine (issue 18
//! #3): opened by the lead with a one-time password; the member's phone pulls
//! their linked households and nothing else of the grid (the rest as
//! removals), reads only those, and pushes visits to them alone — once each,
//! counted as the member's, with the time they give, and what was asked at
//! the door as a request; every other write and every desk page refused.
//! Unlinking takes a household off the phone, linking brings one whole,
//! moving away disables the account.

// Each test binary uses part of the shared harness.
#[allow(dead_code)]
mod common;

use std::collections::HashSet;

use common::{TestServer, get_text, linked_member, member_account, new_id, post_form, shown_password};
use serde_json::{Value, json};

/// Every record the phone pulls from `cursor` on, and the cursor after.
async fn pull_all(server: &TestServer, phone: &reqwest::Client, mut cursor: i64) -> (Vec<Value>, i64) {
    let mut records = Vec::new();
    loop {
        let response = phone
            .get(server.url(&format!("/api/sync/pull?cursor={cursor}&limit=500")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_i64().unwrap();
        if page["more"] != true {
            return (records, cursor);
        }
    }
}

/// The ids of the records of `entity` (not removals).
fn ids(records: &[Value], entity: &str) -> HashSet<String> {
    records
        .iter()
        .filter(|r| r["entity"] == entity)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids removed of `kind`.
fn removed(records: &[Value], kind: &str) -> HashSet<String> {
    records
        .iter()
        .filter(|r| r["entity"] == "removed" && r["record"] == kind)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A visit op to `household` made now, with the member's time (`None`: not
/// given).
fn visit_op(household: &str, visit_id: &str, minutes: Option<i64>) -> Value {
    let mut visit = json!({
        "id": visit_id,
        "household_id": household,
        // Now, not a minute ago: just after midnight a minute ago is another
        // period (and on 1 January another year) for the ledgers checked below.
        "visited_at": app::state::now_ms(),
        "visit_type": "routine",
        "outcome": "met",
        "notes": "陪老人聊天，了解用药",
    });
    if let Some(minutes) = minutes {
        visit["service_minutes"] = json!(minutes);
    }
    json!({"op_id": new_id(), "created_at": app::state::now_ms(), "change": {"record_visit": visit}})
}

/// The reasons of a push's results, each of which must be a refusal.
fn rejections(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "rejected", "{r}");
            r["reason"].as_str().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_members_phone_reaches_their_households_only_and_its_visits_count_once() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let (member, [hardship, ordinary]) = linked_member(&server, &lead, "手机党员甲", "区民政局").await;
    let phone = member_account(&server, &lead, &member, "dangyuan.jia").await;
    let me = server.get_json(&phone, "/api/me").await;
    assert_eq!(me["role"], "member");

    // The pull: the two households, their residents and visits, their
    // buildings; the grid's other households and residents only as removals;
    // no request.
    let (records, cursor) = pull_all(&server, &phone, 0).await;
    let linked: HashSet<String> = [hardship.clone(), ordinary.clone()].into();
    assert_eq!(ids(&records, "household"), linked);
    assert!(ids(&records, "request").is_empty());
    for r in records
        .iter()
        .filter(|r| r["entity"] == "resident" || r["entity"] == "visit")
    {
        assert!(linked.contains(r["household_id"].as_str().unwrap()), "{r}");
    }
    let residents = "SELECT CAST(COUNT(*) AS TEXT) FROM residents WHERE household_id = $1";
    let expected = server.count(residents, &hardship).await + server.count(residents, &ordinary).await;
    assert_eq!(ids(&records, "resident").len() as i64, expected);
    let buildings = "SELECT building_id FROM households WHERE id = $1";
    let building = server.scalar(buildings, &hardship).await;
    assert!(ids(&records, "building").contains(&building));
    assert!(!removed(&records, "household").is_empty());
    assert!(removed(&records, "household").is_disjoint(&linked));
    // Each page tells the phone whose visits count and how often (其他党员:
    // every two months), for the due list offline.
    let page = server.get_json(&phone, "/api/sync/pull?cursor=0&limit=1").await;
    assert_eq!(page["member"], json!({"member_id": member, "cadence_months": 2}));

    // Reads: the linked household; another of the same grid is not found,
    // and the attempt is on record.
    let other = server
        .scalar(
            "SELECT h.id FROM households h WHERE h.building_id = $1 AND h.id NOT IN
               (SELECT household_id FROM party_member_households) ORDER BY h.id LIMIT 1",
            &building,
        )
        .await;
    let (status, _) = get_text(&server, &phone, &format!("/api/households/{hardship}")).await;
    assert_eq!(status, 200);
    for path in [format!("/api/households/{other}"), format!("/households/{other}")] {
        let (status, _) = get_text(&server, &phone, &path).await;
        assert_eq!(status, 404, "{path}");
    }
    let denied = "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'denied' AND entity_id = $1";
    assert!(server.count(denied, &other).await >= 1);
    let building_page = server.get_json(&phone, &format!("/api/buildings/{building}")).await;
    let doors: HashSet<String> = building_page["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(doors.contains(&hardship) && !doors.contains(&other), "{doors:?}");

    // Pushes: a visit to a linked household, with 1.5 hours, applied once
    // however often it is sent; another household's is refused; so is any
    // other kind of record.
    let visit_id = new_id();
    let op = visit_op(&hardship, &visit_id, Some(90));
    for _ in 0..2 {
        let (status, body) = server.push(&phone, "member-phone", std::slice::from_ref(&op)).await;
        assert_eq!(status, 200);
        assert_eq!(body["results"][0]["status"], "applied", "{body}");
    }
    let (_, body) = server
        .push(&phone, "member-phone", &[visit_op(&hardship, &visit_id, Some(90))])
        .await;
    assert_eq!(body["results"][0]["status"], "applied", "the same visit under a new op");
    let stored = "SELECT CAST(COUNT(*) AS TEXT) FROM visits WHERE party_member_id = $1";
    assert_eq!(server.count(stored, &member).await, 1);
    let minutes = "SELECT CAST(service_minutes AS TEXT) FROM visits WHERE id = $1";
    assert_eq!(server.scalar(minutes, &visit_id).await, "90");
    let untimed = new_id();
    let (_, body) = server
        .push(&phone, "member-phone", &[visit_op(&ordinary, &untimed, None)])
        .await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    assert_eq!(server.scalar(minutes, &untimed).await, "60", "a visit's default time");
    // What a resident asks at the door becomes a request of the community's,
    // raised by the member (their phone never pulls requests).
    let asked = new_id();
    let mut with_request = visit_op(&hardship, &new_id(), None);
    with_request["change"]["record_visit"]["requests"] =
        json!([{"id": asked, "category": "environment", "text": "楼道灯坏了"}]);
    let (_, body) = server.push(&phone, "member-phone", &[with_request]).await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    let raised = "SELECT household_id FROM requests WHERE id = $1";
    assert_eq!(server.scalar(raised, &asked).await, hardship);
    let add_resident = json!({"op_id": new_id(), "created_at": app::state::now_ms(), "change": {"add_resident": {
        "id": new_id(), "household_id": hardship, "name": "新住户", "gender": "female",
        "birth_date": "1990-01-01", "id_number": null, "phone": null, "registration_type": "permanent",
    }}});
    let (_, body) = server
        .push(
            &phone,
            "member-phone",
            &[
                visit_op(&other, &new_id(), None),
                visit_op(&hardship, &new_id(), Some(0)),
                add_resident,
            ],
        )
        .await;
    let reasons = rejections(&body);
    assert_eq!(reasons[0], "该住户不是您的联系户");
    assert!(reasons[1].contains("服务时长"), "{}", reasons[1]);
    assert!(reasons[2].contains("党员账号只能登记走访"), "{}", reasons[2]);
    assert_eq!(server.count(stored, &member).await, 3, "nothing refused was stored");

    // The lead sees the visits: off the overdue list, 2.5 hours this year.
    let (_, overdue) = get_text(&server, &lead, "/manage/party/overdue").await;
    assert!(!overdue.contains("手机党员甲"), "{overdue}");
    let (_, page) = get_text(&server, &lead, &format!("/manage/party/members/{member}")).await;
    assert!(page.contains("今年走访3次，服务3.5小时"), "{page}");

    // The desk stays shut: the leads' pages, requests, coverage, staff.
    for path in ["/manage/party", "/manage/requests", "/manage/coverage", "/manage/users"] {
        let (status, _) = get_text(&server, &phone, path).await;
        assert_eq!(status, 403, "{path}");
    }

    // Unlinked: the household leaves the phone with its next pull; linked:
    // another arrives whole, with its residents.
    let unlink = server.url(&format!("/manage/party/members/{member}/unlink"));
    common::redirected(&post_form(&lead, unlink, &[("household", &ordinary)]).await);
    let link = server.url(&format!("/manage/party/members/{member}/households"));
    common::redirected(&post_form(&lead, link, &[("household", &other), ("kind", "ordinary")]).await);
    let (records, _) = pull_all(&server, &phone, cursor).await;
    let theirs = records
        .iter()
        .find(|r| r["id"] == visit_id.as_str())
        .expect("their visit");
    assert_eq!(theirs["party_member_id"], member.as_str());
    assert!(removed(&records, "household").contains(&ordinary), "{records:?}");
    assert!(ids(&records, "household").contains(&other));
    assert_eq!(
        records
            .iter()
            .filter(|r| r["entity"] == "resident" && r["household_id"] == other.as_str())
            .count() as i64,
        server.count(residents, &other).await
    );

    // Moved away: the account stops at once, with the reason.
    let status = server.url(&format!("/manage/party/members/{member}/status"));
    common::redirected(&post_form(&lead, status, &[("status", "moved")]).await);
    let me = phone.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), 401);
    let body: Value = me.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("停用"), "{body}");
}

#[tokio::test]
async fn opening_an_account_is_the_community_leads_and_refusals_are_clear() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let (member, _) = linked_member(&server, &lead, "手机党员乙", "区司法局").await;
    let url = server.url(&format!("/manage/party/members/{member}/account"));

    // Bad or taken names: the member's page again, 422, in Chinese.
    for (username, message) in [("X", "用户名为2到32位"), ("worker1", "已被使用")] {
        let response = post_form(&lead, url.clone(), &[("username", username)]).await;
        assert_eq!(response.status(), 422, "{username}");
        assert!(response.text().await.unwrap().contains(message), "{username}");
    }
    // Another community's lead does not find the member; a worker may not.
    for (who, status) in [("lead2", 404), ("worker1", 403)] {
        let other = server.login_as(who).await;
        let response = post_form(&other, url.clone(), &[("username", "dangyuan.yi")]).await;
        assert_eq!(response.status(), status, "{who}");
    }
    let opened = post_form(&lead, url.clone(), &[("username", "dangyuan.yi")]).await;
    assert_eq!(opened.status(), 200);
    assert_eq!(opened.headers()["cache-control"], "no-store");
    let once = shown_password(&opened.text().await.unwrap());
    // Once per member; a reset makes the old password useless.
    let again = post_form(&lead, url.clone(), &[("username", "dangyuan.yi2")]).await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("该党员已有账号"));
    let reset = post_form(&lead, url.clone(), &[("reset", "1")]).await;
    assert_eq!(reset.status(), 200);
    let fresh = shown_password(&reset.text().await.unwrap());
    assert_ne!(fresh, once);
    assert_eq!(server.login_attempt("dangyuan.yi", &once).await.status(), 401);
    assert_eq!(server.login_attempt("dangyuan.yi", &fresh).await.status(), 200);
    // Not a staff account: the staff list does not show it.
    let (_, staff) = get_text(&server, &lead, "/manage/users").await;
    assert!(!staff.contains("dangyuan.yi"));
    let (_, page) = get_text(&server, &lead, &format!("/manage/party/members/{member}")).await;
    assert!(page.contains("dangyuan.yi") && page.contains("尚未首次登录"), "{page}");
}

#[tokio::test]
async fn a_worker_records_a_members_visit_on_their_behalf_and_it_counts_as_theirs() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let (member, [hardship, ordinary]) = linked_member(&server, &lead, "周党员", "区交通局").await;

    // The worker's phone learns who is linked to each household.
    let worker = server.login_as("worker1").await;
    let (records, _) = pull_all(&server, &worker, 0).await;
    let linked_to = |household: &str| -> Vec<Value> {
        let record = records
            .iter()
            .find(|r| r["entity"] == "household" && r["id"] == household)
            .expect("the household pulled");
        record["party_members"].as_array().cloned().unwrap_or_default()
    };
    for household in [&hardship, &ordinary] {
        assert_eq!(linked_to(household), [json!({"id": member, "name": "周党员"})]);
    }
    let unlinked = "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id
                    JOIN grids g ON g.id = b.grid_id
                    WHERE g.name = $1 AND h.id NOT IN (SELECT household_id FROM party_member_households)
                    ORDER BY h.id LIMIT 1";
    let other = server.scalar(unlinked, "第1网格").await;
    assert!(linked_to(&other).is_empty(), "no member field where none is linked");

    // The visit on the member's behalf, two hours, sent twice: stored once,
    // recorded by the worker and counted as the member's.
    let on_behalf = |household: &str, visit_id: &str, named: &str| {
        let mut op = visit_op(household, visit_id, Some(120));
        op["change"]["record_visit"]["party_member_id"] = json!(named);
        op
    };
    let visit_id = new_id();
    let op = on_behalf(&hardship, &visit_id, &member);
    for _ in 0..2 {
        let (_, body) = server.push(&worker, "worker-phone", std::slice::from_ref(&op)).await;
        assert_eq!(body["results"][0]["status"], "applied", "{body}");
    }
    let stored = "SELECT CAST(COUNT(*) AS TEXT) FROM visits WHERE party_member_id = $1";
    assert_eq!(server.count(stored, &member).await, 1);
    let row = "SELECT u.username || ' ' || CAST(v.service_minutes AS TEXT) FROM visits v
               JOIN users u ON u.id = v.worker_id WHERE v.id = $1";
    assert_eq!(server.scalar(row, &visit_id).await, "worker1 120");

    // Refused, each in Chinese: a household not linked to the member, a
    // garbled member id, a visit dated before the member registered (today).
    let mut yesterday = on_behalf(&ordinary, &new_id(), &member);
    yesterday["change"]["record_visit"]["visited_at"] = json!(app::state::now_ms() - 2 * 86_400_000);
    let (_, body) = server
        .push(
            &worker,
            "worker-phone",
            &[
                on_behalf(&other, &new_id(), &member),
                on_behalf(&ordinary, &new_id(), "周党员"),
                yesterday,
            ],
        )
        .await;
    let reasons = rejections(&body);
    assert_eq!(
        reasons,
        [
            "该党员不是这户的联系党员（或已迁出），不能代其登记",
            "记录编号格式不正确，请删除后重新填写",
            "走访时间不能早于该党员的报到日期",
        ]
    );
    assert_eq!(server.count(stored, &member).await, 1, "nothing refused was stored");

    // The member's own phone neither learns the household's other members nor
    // records a visit as someone else's.
    let phone = member_account(&server, &lead, &member, "zhou.dy").await;
    let (theirs, _) = pull_all(&server, &phone, 0).await;
    assert!(
        theirs
            .iter()
            .filter(|r| r["entity"] == "household")
            .all(|r| r.get("party_members").is_none()),
        "no member list on a member's phone"
    );
    let (_, body) = server
        .push(&phone, "member-phone", &[on_behalf(&hardship, &new_id(), &new_id())])
        .await;
    assert_eq!(body["results"][0]["reason"], "党员账号只能登记本人的走访", "{body}");

    // The lead's ledger: one visit, two hours.
    let (_, csv) = get_text(&server, &lead, "/manage/party/hours.csv").await;
    let line = csv.lines().find(|l| l.starts_with("周党员,")).expect("on the ledger");
    assert!(line.starts_with("周党员,在职党员,区交通局,第一党支部,1,2.0,"), "{line}");
}
