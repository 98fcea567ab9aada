//! The sync protocol end to end over HTTP against the real server: exactly-once
//! push, rejections with reasons, the conflict rule in either arrival order,
//! paged and scoped pull.

#[allow(dead_code)]
mod common;

use app::domain::IdCardNumber;
use common::{TestServer, new_id};
use serde_json::{Value, json};

fn visit_op(household: &str, residents_seen: &[&str]) -> Value {
    json!({
        "op_id": new_id(),
        "created_at": app::state::now_ms(),
        "change": {"record_visit": {
            "id": new_id(),
            "household_id": household,
            "visited_at": app::state::now_ms() - 60_000,
            "visit_type": "routine",
            "outcome": "met",
            "residents_seen": residents_seen,
            "concerns": ["health", "housing"],
            "notes": "老人腿脚不便，需社区上门送药",
            "requests": [{"id": new_id(), "category": "医疗", "text": "希望安排上门体检"}],
        }},
    })
}

fn edit_op(resident: &str, created_at: i64, field: &str, base: Option<&str>, value: &str) -> Value {
    json!({
        "op_id": new_id(),
        "created_at": created_at,
        "change": {"edit_resident": {
            "id": resident,
            "changes": [{"field": field, "base": base, "value": value}],
        }},
    })
}

async fn count(server: &TestServer, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(&server.pool)
        .await
        .unwrap()
}

/// Each op's reason, in order (an op without one fails the test).
fn reasons(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect()
}

fn statuses(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn pushing_a_batch_again_applies_each_op_once_with_the_same_results() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (household, resident) = server.household_in("第1网格").await;
    let (other_household, _) = server.household_in("第2网格").await;
    let visit = visit_op(&household, &[&resident]);
    let refused = visit_op(&other_household, &[]);
    let batch = vec![visit.clone(), refused.clone(), visit.clone()];

    let (status, first) = server.push(&worker, "phone-a", &batch).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(statuses(&first), ["applied", "rejected", "applied"]);
    let (status, again) = server.push(&worker, "phone-a", &batch).await;
    assert_eq!(status, 200);
    assert_eq!(again, first, "a retry gets the stored results, rejections included");

    let visit_id = visit["change"]["record_visit"]["id"].as_str().unwrap();
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM visits WHERE id = $1", visit_id).await,
        1
    );
    for table in ["visit_residents", "requests", "changes"] {
        let column = if table == "changes" { "entity_id" } else { "visit_id" };
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        assert_eq!(count(&server, &sql, visit_id).await, 1, "{table}");
    }
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM visit_concerns WHERE visit_id = $1",
            visit_id
        )
        .await,
        2
    );
    let op_id = visit["op_id"].as_str().unwrap();
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM applied_ops WHERE op_id = $1", op_id).await,
        1
    );
}

#[tokio::test]
async fn concurrent_identical_pushes_write_one_visit() {
    let server = TestServer::start().await;
    let (household, _) = server.household_in("第1网格").await;
    let phone_a = server.login_as("worker1").await;
    let phone_b = server.login_as("worker1").await;
    let batch = vec![visit_op(&household, &[]), visit_op(&household, &[])];
    let (a, b) = tokio::join!(
        server.push(&phone_a, "phone-a", &batch),
        server.push(&phone_b, "phone-a", &batch)
    );
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    assert_eq!(a.1, b.1);
    assert_eq!(statuses(&a.1), ["applied", "applied"]);
    for op in &batch {
        let id = op["change"]["record_visit"]["id"].as_str().unwrap();
        assert_eq!(count(&server, "SELECT COUNT(*) FROM visits WHERE id = $1", id).await, 1);
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM changes WHERE entity_id = $1", id).await,
            1
        );
    }
}

#[tokio::test]
async fn out_of_scope_and_invalid_operations_are_rejected_with_a_reason_and_write_nothing() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (other_household, other_resident) = server.household_in("第2网格").await;
    let (household, _) = server.household_in("第1网格").await;
    let foreign_visit = visit_op(&other_household, &[]);
    // A resident of grid 2 claimed as seen in a grid-1 household.
    let wrong_resident = visit_op(&household, &[&other_resident]);
    let good = IdCardNumber::with_check_char("11010519800101001").unwrap();
    let mut bad_id = good.as_str().to_owned();
    let last = if bad_id.ends_with('0') { '1' } else { '0' };
    bad_id.replace_range(17.., &last.to_string());
    let resident_id = new_id();
    let bad_resident = json!({
        "op_id": new_id(),
        "created_at": app::state::now_ms(),
        "change": {"add_resident": {
            "id": resident_id, "household_id": household, "name": "赵新", "gender": "male",
            "birth_date": "1980-01-01", "id_number": bad_id, "phone": null,
            "registration_type": "tenant", "tags": [],
        }},
    });
    let foreign_edit = edit_op(&other_resident, 1, "name", None, "改名");
    let ops = [
        foreign_visit.clone(),
        wrong_resident.clone(),
        bad_resident,
        foreign_edit,
    ];
    let (status, body) = server.push(&worker, "phone-a", &ops).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(statuses(&body), ["rejected"; 4]);
    let reasons = reasons(&body);
    assert_eq!(reasons[0], "该住户不在您负责的网格");
    assert!(reasons[1].contains("不属于该住户"), "{}", reasons[1]);
    assert!(reasons[2].contains("校验位"), "{}", reasons[2]);
    assert_eq!(reasons[3], "该居民不在您负责的网格");

    for op in [&foreign_visit, &wrong_resident] {
        let id = op["change"]["record_visit"]["id"].as_str().unwrap();
        assert_eq!(count(&server, "SELECT COUNT(*) FROM visits WHERE id = $1", id).await, 0);
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM changes WHERE entity_id = $1", id).await,
            0
        );
    }
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM residents WHERE id = $1", &resident_id).await,
        0
    );
    assert_ne!(
        server
            .scalar("SELECT name FROM residents WHERE id = $1", &other_resident)
            .await,
        "改名"
    );
    let recorded = count(
        &server,
        "SELECT COUNT(*) FROM applied_ops WHERE status = 'rejected' AND device_id = $1",
        "phone-a",
    )
    .await;
    assert_eq!(recorded, 4, "rejections are remembered too");

    // The same resident with a good number goes in, tags, clocks and audit included.
    let mut fixed = ops[2].clone();
    fixed["op_id"] = json!(new_id());
    fixed["change"]["add_resident"]["id_number"] = json!(good.as_str());
    fixed["change"]["add_resident"]["tags"] = json!(["low_income"]);
    let (_, body) = server.push(&worker, "phone-a", &[fixed]).await;
    assert_eq!(statuses(&body), ["applied"], "{body}");
    let checks = [
        ("SELECT COUNT(*) FROM residents WHERE id = $1", 1),
        ("SELECT COUNT(*) FROM resident_tags WHERE resident_id = $1", 1),
        (
            "SELECT COUNT(*) FROM resident_field_clock WHERE resident_id = $1",
            app::sync::ResidentField::ALL.len() as i64,
        ),
        (
            "SELECT COUNT(*) FROM audit_log WHERE action = 'create' AND entity_id = $1",
            1,
        ),
        (
            "SELECT COUNT(*) FROM changes WHERE entity = 'resident' AND entity_id = $1",
            1,
        ),
    ];
    for (sql, expected) in checks {
        assert_eq!(count(&server, sql, &resident_id).await, expected, "{sql}");
    }
}

#[tokio::test]
async fn concurrent_edits_merge_by_field_and_resolve_one_field_the_same_in_either_order() {
    let server = TestServer::start().await;
    let phone_a = server.login_as("worker1").await;
    let phone_b = server.login_as("worker1").await;
    let residents: Vec<String> = sqlx::query_scalar(
        "SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
         JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
         WHERE g.name = '第1网格' ORDER BY r.id LIMIT 3",
    )
    .fetch_all(&server.pool)
    .await
    .unwrap();

    // Different fields of one resident: both apply, no conflict.
    let r0 = &residents[0];
    let name0 = server.scalar("SELECT name FROM residents WHERE id = $1", r0).await;
    let phone0: Option<String> = sqlx::query_scalar("SELECT phone FROM residents WHERE id = $1")
        .bind(r0)
        .fetch_one(&server.pool)
        .await
        .unwrap();
    let masked = phone0.as_deref().map(app::domain::mask_phone);
    let (_, a) = server
        .push(&phone_a, "a", &[edit_op(r0, 1_000, "name", Some(&name0), "钱多多")])
        .await;
    let (_, b) = server
        .push(
            &phone_b,
            "b",
            &[edit_op(r0, 900, "phone", masked.as_deref(), "13900001111")],
        )
        .await;
    assert_eq!(
        (statuses(&a), statuses(&b)),
        (vec!["applied"], vec!["applied"]),
        "{a} {b}"
    );
    assert_eq!(
        server.scalar("SELECT name FROM residents WHERE id = $1", r0).await,
        "钱多多"
    );
    assert_eq!(
        server.scalar("SELECT phone FROM residents WHERE id = $1", r0).await,
        "13900001111"
    );

    // The same field, concurrently (both saw the original): the later edit by
    // (created_at, op_id) wins whichever arrives first; the loser is in history.
    for (resident, later_first) in [(&residents[1], false), (&residents[2], true)] {
        let original = server
            .scalar("SELECT name FROM residents WHERE id = $1", resident)
            .await;
        let earlier = edit_op(resident, 5_000, "name", Some(&original), "孙早");
        let later = edit_op(resident, 6_000, "name", Some(&original), "孙晚");
        let (first, second) = if later_first {
            (&later, &earlier)
        } else {
            (&earlier, &later)
        };
        let (_, r1) = server.push(&phone_a, "a", std::slice::from_ref(first)).await;
        let (_, r2) = server.push(&phone_b, "b", std::slice::from_ref(second)).await;
        assert_eq!(statuses(&r1), ["applied"], "{r1}");
        assert_eq!(statuses(&r2), ["conflict"], "{r2}");
        assert!(r2["results"][0]["reason"].as_str().unwrap().contains("姓名"), "{r2}");
        assert_eq!(
            server
                .scalar("SELECT name FROM residents WHERE id = $1", resident)
                .await,
            "孙晚"
        );
        let (old, new, winner): (Option<String>, Option<String>, String) = sqlx::query_as(
            "SELECT old_value, new_value, winner FROM resident_history WHERE resident_id = $1 AND field = 'name'",
        )
        .bind(resident)
        .fetch_one(&server.pool)
        .await
        .unwrap();
        if later_first {
            // The earlier edit arrived last and lost: its value is kept as new_value.
            assert_eq!(
                (old.as_deref(), new.as_deref(), winner.as_str()),
                (Some("孙晚"), Some("孙早"), "server")
            );
        } else {
            // The later edit arrived last and won: the overwritten value is kept.
            assert_eq!(
                (old.as_deref(), new.as_deref(), winner.as_str()),
                (Some("孙早"), Some("孙晚"), "incoming")
            );
        }
        // Leads review the overwritten value on the resident's record; workers
        // do not see it.
        let lead = server.login_as("lead1").await;
        let seen = server.get_json(&lead, &format!("/api/residents/{resident}")).await;
        assert_eq!(seen["conflicts"][0]["field"], "name", "{seen}");
        assert_eq!(seen["conflicts"][0]["kept"], "孙晚");
        assert_eq!(seen["conflicts"][0]["lost"], "孙早");
        let seen = server.get_json(&phone_a, &format!("/api/residents/{resident}")).await;
        assert_eq!(seen["conflicts"], serde_json::json!([]), "{seen}");
    }

    // A bad value rejects the whole edit and names the field.
    let bad = edit_op(r0, 7_000, "birth_date", None, "2099-01-01");
    let (_, body) = server.push(&phone_a, "a", &[bad]).await;
    assert_eq!(statuses(&body), ["rejected"]);
    assert!(
        body["results"][0]["reason"].as_str().unwrap().starts_with("出生日期"),
        "{body}"
    );
}

/// Pages through everything after `cursor`; returns the records and the pages.
async fn pull_all(server: &TestServer, client: &reqwest::Client, limit: i64) -> (Vec<Value>, usize, String) {
    let (mut cursor, mut records, mut pages, mut raw) = (0, Vec::new(), 0, String::new());
    loop {
        let url = server.url(&format!("/api/sync/pull?cursor={cursor}&limit={limit}"));
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let page: Value = serde_json::from_str(&text).unwrap();
        raw.push_str(&text);
        pages += 1;
        let next = page["next_cursor"].as_i64().unwrap();
        assert!(next >= cursor);
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        cursor = next;
        if !page["more"].as_bool().unwrap() {
            return (records, pages, raw);
        }
    }
}

/// 17 digits in a row: a whole ID number (an 18th char of digit or X follows).
fn has_whole_id_number(text: &str) -> bool {
    let mut run = 0;
    text.chars().any(|c| {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        run >= 17
    })
}

#[tokio::test]
async fn pull_pages_through_the_callers_grid_masked_and_follows_reassignment() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let grid1 = server.scalar("SELECT id FROM grids WHERE name = $1", "第1网格").await;
    let (household, _) = server.household_in("第1网格").await;
    let visit = visit_op(&household, &[]);
    let (_, body) = server.push(&worker, "a", std::slice::from_ref(&visit)).await;
    assert_eq!(statuses(&body), ["applied"]);

    let started = std::time::Instant::now();
    let (records, pages, raw) = pull_all(&server, &worker, 1000).await;
    eprintln!(
        "first sync of 第1网格: {} records in {pages} pages, {} KiB, {:?}",
        records.len(),
        raw.len() / 1024,
        started.elapsed()
    );
    // Every change of the grid, but requests that ended a quarter ago (they
    // stay off the phones).
    let ended_before = app::clock::now_ms() - 90 * app::clock::DAY_MS;
    let expected = count(
        &server,
        &format!(
            "SELECT COUNT(*) FROM changes c WHERE c.grid_id = $1 AND NOT EXISTS (
                 SELECT 1 FROM requests r WHERE c.entity = 'request' AND r.id = c.entity_id
                 AND r.status IN ('closed', 'declined', 'merged') AND r.updated_at < {ended_before})"
        ),
        &grid1,
    )
    .await;
    assert_eq!(records.len() as i64, expected);
    assert!(pages > 1, "{pages}");
    assert!(records.iter().all(|r| r["grid_id"] == grid1.as_str()));
    let visit_id = visit["change"]["record_visit"]["id"].as_str().unwrap();
    assert!(records.iter().any(|r| r["entity"] == "visit" && r["id"] == visit_id));
    for entity in ["building", "household", "resident", "visit", "request"] {
        assert!(records.iter().any(|r| r["entity"] == entity), "{entity}");
    }
    assert!(!has_whole_id_number(&raw), "a whole ID number left the server");
    assert!(
        records
            .iter()
            .any(|r| r["id_number_masked"].as_str().is_some_and(|s| s.contains('*')))
    );
    // Buildings come before the households in them.
    let first_household = records.iter().position(|r| r["entity"] == "household").unwrap();
    assert!(records[..first_household].iter().all(|r| r["entity"] == "building"));

    // Incremental: after the first sync, a resident edited twice comes once,
    // as it is now, masked.
    let cursor = count(&server, "SELECT MAX(seq) FROM changes WHERE grid_id = $1", &grid1).await;
    let (_, resident) = server.household_in("第1网格").await;
    let edits = [
        edit_op(&resident, 1, "phone", None, "13700002222"),
        edit_op(&resident, 2, "phone", Some("13700002222"), "13900001111"),
    ];
    let (_, body) = server.push(&worker, "a", &edits).await;
    assert_eq!(statuses(&body)[1], "applied", "{body}");
    let page: Value = server
        .get_json(&worker, &format!("/api/sync/pull?cursor={cursor}"))
        .await;
    let records = page["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{page}");
    assert_eq!(records[0]["id"], resident.as_str());
    assert_eq!(records[0]["phone_masked"], "139****1111");
    assert_eq!(page["more"], false);

    // A lead sees the community's grids and may narrow a pull to one of them.
    let lead = server.login_as("lead1").await;
    let page: Value = server
        .get_json(&lead, &format!("/api/sync/pull?grid={grid1}&limit=100"))
        .await;
    assert_eq!(page["scope"].as_array().unwrap().len(), 4);
    assert_eq!(page["records"].as_array().unwrap().len(), 100);
    assert!(
        page["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["grid_id"] == grid1.as_str())
    );
    assert_eq!(page["more"], true);

    // Caught up: nothing more after the last cursor.
    let last: Value = server
        .get_json(&worker, &format!("/api/sync/pull?cursor={}", i64::MAX - 1))
        .await;
    assert_eq!(
        (last["records"].as_array().unwrap().len(), last["more"].as_bool()),
        (0, Some(false))
    );

    // Reassigned from grid 1 to grid 2 by the admin: the scope says so on the
    // next pull. Only an admin may reassign, only existing grids, only workers.
    let grid2 = server.scalar("SELECT id FROM grids WHERE name = $1", "第2网格").await;
    let assign = |client: &reqwest::Client, user: &str, body: Value| {
        client
            .put(server.url(&format!("/api/users/{user}/grids")))
            .json(&body)
            .send()
    };
    let refused = assign(&worker, "worker1", json!({ "grids": [grid2] })).await.unwrap();
    assert_eq!(refused.status(), 403);
    let admin = server.login_as("admin").await;
    for (user, body, status) in [
        ("worker1", json!({ "grids": ["not-an-id"] }), 400),
        ("worker1", json!({ "grids": [uuid::Uuid::now_v7()] }), 400),
        ("worker1", json!({ "grid": [] }), 400),
        ("lead1", json!({ "grids": [grid2] }), 400),
        ("nobody", json!({ "grids": [grid2] }), 404),
    ] {
        let response = assign(&admin, user, body.clone()).await.unwrap();
        assert_eq!(response.status(), status, "{user} {body}");
    }
    let done = assign(&admin, "worker1", json!({ "grids": [grid2] })).await.unwrap();
    assert_eq!(done.status(), 200);
    let page: Value = server.get_json(&worker, "/api/sync/pull?cursor=0&limit=50").await;
    let scope: Vec<&str> = page["scope"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(scope, ["第2网格"]);
    assert!(
        page["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["grid_id"] == grid2.as_str())
    );
    let narrowed = worker
        .get(server.url(&format!("/api/sync/pull?grid={grid1}")))
        .send()
        .await
        .unwrap();
    assert_eq!(narrowed.status(), 404);
}

#[tokio::test]
async fn sync_needs_a_session_and_refuses_bad_or_oversized_input() {
    let server = TestServer::start().await;
    let anonymous = server.client();
    let (status, _) = server.push(&anonymous, "a", &[]).await;
    assert_eq!(status, 401);
    let pull = anonymous.get(server.url("/api/sync/pull")).send().await.unwrap();
    assert_eq!(pull.status(), 401);

    let worker = server.login_as("worker1").await;
    let (household, _) = server.household_in("第1网格").await;
    for query in ["cursor=-1", "limit=0", "limit=5001", "cursor=abc", "grid=nope"] {
        let response = worker
            .get(server.url(&format!("/api/sync/pull?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
    }

    let too_many: Vec<Value> = (0..=app::sync::MAX_BATCH).map(|_| visit_op(&household, &[])).collect();
    let (status, body) = server.push(&worker, "a", &too_many).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("分批"), "{body}");

    let mut huge = visit_op(&household, &[]);
    huge["change"]["record_visit"]["notes"] = json!("很".repeat(400_000));
    let (status, body) = server.push(&worker, "a", &[huge]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "too_large");

    // Above the global 64 KiB limit but within the push route's 1 MiB: accepted.
    let big: Vec<Value> = (0..60)
        .map(|_| {
            let mut op = visit_op(&household, &[]);
            op["change"]["record_visit"]["notes"] = json!("走".repeat(1_000));
            op
        })
        .collect();
    let (status, body) = server.push(&worker, "a", &big).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(statuses(&body), vec!["applied"; 60]);

    let malformed = worker
        .post(server.url("/api/sync/push"))
        .header("content-type", "application/json")
        .body("{\"device_id\": \"a\", \"operations\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let (status, _) = server
        .push(
            &worker,
            "a",
            &[json!({"op_id": "1", "created_at": 1, "change": {
        "edit_resident": {"id": household, "changes": []}}})],
        )
        .await;
    assert_eq!(status, 400, "op ids must be UUIDs");
}

/// The phone builds pages from pulled records when offline: they must say what
/// the server's pages say.
#[tokio::test]
async fn offline_pages_match_the_servers() {
    use app::model::{BuildingDetail, GridDetail, HouseholdDetail, ResidentDetail};
    use app::phone::local::{GridData, building_detail, grid_detail, household_detail, resident_detail};
    use app::sync::{GridRef, Record};

    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (records, _, _) = pull_all(&server, &worker, 5000).await;
    let (mut buildings, mut households, mut residents, mut visits) = (vec![], vec![], vec![], vec![]);
    for record in records {
        match serde_json::from_value(record).unwrap() {
            Record::Building(b) => buildings.push(b),
            Record::Household(h) => households.push(h),
            Record::Resident(r) => residents.push(r),
            Record::Visit(v) => visits.push(v),
            Record::Request(_) | Record::Removed(_) => {}
        }
    }
    let now = app::clock::now_ms();
    let grid_ref: GridRef = serde_json::from_value(server.get_json(&worker, "/api/grids").await[0].clone()).unwrap();
    let grid_name = grid_ref.name.clone();
    let policies: Vec<app::policy::Policy> =
        serde_json::from_value(server.get_json(&worker, "/api/sync/pull?cursor=0&limit=1").await["policies"].clone())
            .unwrap();
    assert!(policies.iter().any(|p| p.tag == "elderly_alone"));

    let mut online: GridDetail = serde_json::from_value(
        server
            .get_json(&worker, &format!("/api/grids/{}?q=1-1-101", grid_ref.id))
            .await,
    )
    .unwrap();
    let mine: Vec<_> = buildings.iter().filter(|b| b.grid_id == grid_ref.id).cloned().collect();
    let data = GridData {
        grid: &grid_ref,
        buildings: mine,
        households: &households,
        residents: &residents,
        visits: &visits,
    };
    online.community_name.clear(); // not held on the phone
    assert_eq!(grid_detail(data, "1-1-101", now), online);
    assert!(!online.household_hits.is_empty());

    let b = &buildings[0];
    let online: BuildingDetail =
        serde_json::from_value(server.get_json(&worker, &format!("/api/buildings/{}", b.id)).await).unwrap();
    let in_building: Vec<_> = households.iter().filter(|h| h.building_id == b.id).cloned().collect();
    assert_eq!(
        building_detail(b, grid_name.clone(), in_building, (&residents, &visits), &policies, now),
        online
    );

    // The phone's own overdue list holds what the worker's coverage page lists.
    let data = GridData {
        grid: &grid_ref,
        buildings: buildings.iter().filter(|b| b.grid_id == grid_ref.id).cloned().collect(),
        households: &households,
        residents: &residents,
        visits: &visits,
    };
    let local = app::phone::local::overdue(&data, &policies, now);
    let page = worker
        .get(server.url("/manage/coverage"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace("<!>", "");
    assert!(!local.is_empty());
    assert!(
        page.contains(&format!("逾期的重点人群户（{}）", local.len())),
        "{} on the phone",
        local.len()
    );
    for item in &local {
        assert!(page.contains(&format!("/households/{}", item.household_id)));
    }

    // A household with visits and several residents, and one of them.
    let h = households
        .iter()
        .find(|h| {
            visits.iter().filter(|v| v.household_id == h.id).count() > 2
                && residents.iter().filter(|r| r.household_id == h.id).count() > 2
        })
        .unwrap();
    let hb = buildings.iter().find(|b| b.id == h.building_id).unwrap();
    let of = |id: &str| {
        residents
            .iter()
            .filter(|r| r.household_id == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    let seen = |id: &str| {
        visits
            .iter()
            .filter(|v| v.household_id == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    let online: HouseholdDetail =
        serde_json::from_value(server.get_json(&worker, &format!("/api/households/{}", h.id)).await).unwrap();
    assert_eq!(household_detail(h, hb, grid_name, of(&h.id), seen(&h.id), now), online);

    let r = &of(&h.id)[0];
    let online: ResidentDetail =
        serde_json::from_value(server.get_json(&worker, &format!("/api/residents/{}", r.id)).await).unwrap();
    let last = seen(&h.id).iter().map(|v| v.visited_at).max();
    assert_eq!(resident_detail(r, h, hb, last, now), online);
}

/// Back-pressure: with every sync slot taken (here the one slot, held by a
/// push whose body is still on its way), a pull waits the queue time and is
/// told to come back, with Retry-After and a message, never left to time
/// out; once the slot is free, the held push completes and pulls are served.
#[tokio::test]
async fn a_crowd_beyond_the_sync_slots_is_told_when_to_come_back() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(|s| {
        s.sync_max_concurrent = 1;
        s.sync_queue_ms = 300;
        s.sync_retry_after_secs = 7;
    })
    .await;
    let worker = server.login_as("worker1").await;
    let cookie = server.session_cookie("worker1").await;
    let (household, _) = server.household_in("第1网格").await;
    let body = json!({"device_id": "slow-phone", "operations": [visit_op(&household, &[])]}).to_string();
    let mut slow = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /api/sync/push HTTP/1.1\r\nhost: gridwalk\r\ncookie: {cookie}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..10]).await.unwrap();
    // Nothing else is in flight: the push takes the slot and waits for its body.
    let mut early = [0u8; 64];
    let answered = tokio::time::timeout(std::time::Duration::from_millis(200), slow.read(&mut early)).await;
    assert!(
        answered.is_err(),
        "the held push is not answered before its body is complete"
    );

    // The slots are per instance: ask the one whose slot is held.
    let mut busy = None;
    for _ in 0..100 {
        let response = worker
            .get(server.first_instance_url("/api/sync/pull"))
            .send()
            .await
            .unwrap();
        if response.status() == 503 {
            busy = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let busy = busy.expect("a pull is turned away while the slot is held");
    assert_eq!(busy.headers()["retry-after"], "7");
    let answer: Value = busy.json().await.unwrap();
    assert_eq!(answer["error"], "busy");
    assert!(
        answer["message"].as_str().unwrap().contains("7秒后自动重试"),
        "{answer}"
    );

    slow.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut reply = String::new();
    slow.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"applied\""), "{reply}");
    let served = worker
        .get(server.first_instance_url("/api/sync/pull"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
}

/// A pull answer unpacked from whatever encoding it came in.
async fn pull_body(response: reqwest::Response) -> (String, Value) {
    use std::io::Read;
    let encoding = response
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = response.bytes().await.unwrap();
    let mut json = Vec::new();
    match encoding.as_deref() {
        Some("br") => brotli::Decompressor::new(&bytes[..], 4096).read_to_end(&mut json),
        Some("gzip") => flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut json),
        None => (&bytes[..]).read_to_end(&mut json),
        Some(other) => panic!("unexpected encoding {other}"),
    }
    .unwrap();
    (etag, serde_json::from_slice(&json).unwrap())
}

/// First-sync pages are built once and shared, in the encoding each phone
/// takes, and never outlive a change to a record in them: a resident edited
/// after the page was kept comes out as edited, on the same page.
#[tokio::test]
async fn a_first_sync_page_is_shared_by_phones_until_a_record_in_it_changes() {
    let server = TestServer::start().await;
    let (phone_a, phone_b) = (server.login_as("worker1").await, server.login_as("worker1").await);
    let first_page = server.url("/api/sync/pull?cursor=0&limit=1000");
    let get =
        |client: &reqwest::Client, encoding: &str| client.get(&first_page).header("accept-encoding", encoding).send();
    let reads = || count(&server, "SELECT COUNT(*) FROM audit_log WHERE entity = $1", "sync_pull");

    let brotli = get(&phone_a, "gzip, deflate, br").await.unwrap();
    assert_eq!(brotli.headers()["content-encoding"], "br");
    let (etag, page) = pull_body(brotli).await;
    assert_eq!(page["records"].as_array().unwrap().len(), 1000);
    let before = reads().await;
    let gzip = get(&phone_b, "gzip;q=1, br;q=0").await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(pull_body(gzip).await, (etag.clone(), page.clone()));
    let plain = get(&phone_b, "identity").await.unwrap();
    assert_eq!(plain.headers()["content-type"], "application/json");
    assert_eq!(pull_body(plain).await, (etag.clone(), page.clone()));
    // Each phone's read is logged, though the page was built once.
    assert_eq!(reads().await, before + 2);
    // A phone that holds this very page is told so.
    let held = phone_a
        .get(&first_page)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(held.status(), 304);

    // Another caller of the grid sees its own scope, not worker1's.
    let grid1 = page["scope"][0]["id"].as_str().unwrap().to_owned();
    let lead = server.login_as("lead1").await;
    let (lead_etag, lead_page) = pull_body(
        lead.get(server.url(&format!("/api/sync/pull?grid={grid1}&cursor=0&limit=1000")))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_ne!(lead_etag, etag);
    assert_eq!(lead_page["scope"].as_array().unwrap().len(), 4);
    assert_eq!(lead_page["records"], page["records"]);

    // A resident on the kept page changes: the page is built again, with the
    // resident as it is now, in its place.
    let resident = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["entity"] == "resident")
        .unwrap();
    let (id, name) = (resident["id"].as_str().unwrap(), resident["name"].as_str().unwrap());
    let edit = edit_op(id, app::state::now_ms(), "name", Some(name), "王改名");
    let (_, body) = server.push(&phone_a, "phone-a", &[edit]).await;
    assert_eq!(statuses(&body), ["applied"], "{body}");
    let (new_etag, new_page) = pull_body(get(&phone_b, "br").await.unwrap()).await;
    assert_ne!(new_etag, etag);
    let edited = new_page["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert_eq!(edited["name"], "王改名");
    assert_eq!(new_page["next_cursor"], page["next_cursor"]);
}

/// A resident of 第1网格 and their current name.
async fn a_resident_and_name(server: &TestServer) -> (String, String) {
    let (_, resident) = server.household_in("第1网格").await;
    let name = server
        .scalar("SELECT name FROM residents WHERE id = $1", &resident)
        .await;
    (resident, name)
}

#[tokio::test]
async fn a_phone_clock_set_far_ahead_does_not_win_later_edits() {
    let server = TestServer::start().await;
    let (ahead, on_time) = (server.login_as("worker1").await, server.login_as("worker1").await);
    let (resident, original) = a_resident_and_name(&server).await;
    let year_2099 = 4_070_908_800_000;
    let (_, first) = server
        .push(
            &ahead,
            "ahead",
            &[edit_op(&resident, year_2099, "name", Some(&original), "钱未来")],
        )
        .await;
    assert_eq!(statuses(&first), ["applied"], "{first}");
    // Made after it, by a phone that had not seen it: a concurrent edit, and
    // the later one by any true clock.
    let later = edit_op(&resident, app::state::now_ms() + 1, "name", Some(&original), "钱现在");
    let (_, second) = server.push(&on_time, "on-time", &[later]).await;
    assert_eq!(statuses(&second), ["conflict"], "{second}");
    let reason = second["results"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("已采用您较新的修改"), "{reason}");
    assert_eq!(
        server
            .scalar("SELECT name FROM residents WHERE id = $1", &resident)
            .await,
        "钱现在"
    );
}

#[tokio::test]
async fn an_op_id_pushed_again_by_another_user_is_refused_not_answered_with_the_first_users_result() {
    let server = TestServer::start().await;
    let (worker, lead) = (server.login_as("worker1").await, server.login_as("lead1").await);
    let (household, _) = server.household_in("第1网格").await;
    let original = visit_op(&household, &[]);
    let (_, first) = server.push(&worker, "w", std::slice::from_ref(&original)).await;
    assert_eq!(statuses(&first), ["applied"], "{first}");

    let mut replay = visit_op(&household, &[]);
    replay["op_id"] = original["op_id"].clone();
    let replayed_visit = replay["change"]["record_visit"]["id"].as_str().unwrap().to_owned();
    let (_, answer) = server.push(&lead, "l", &[replay]).await;
    assert_eq!(statuses(&answer), ["rejected"], "{answer}");
    assert!(
        answer["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("操作编号重复"),
        "{answer}"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM visits WHERE id = $1", &replayed_visit).await,
        0
    );
    // The first user's retry still gets its own answer.
    let (_, retry) = server.push(&worker, "w", &[original]).await;
    assert_eq!(statuses(&retry), ["applied"], "{retry}");
}

#[tokio::test]
async fn visits_dated_before_2000_or_overfull_are_refused_with_a_reason() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (household, _) = server.household_in("第1网格").await;
    let mut ancient = visit_op(&household, &[]);
    ancient["change"]["record_visit"]["visited_at"] = json!(-2_208_988_800_000i64); // 1900
    let mut overfull = visit_op(&household, &[]);
    overfull["change"]["record_visit"]["requests"] = (0..21)
        .map(|_| json!({"id": new_id(), "category": "民生", "text": "路灯坏了"}))
        .collect();
    let mut long_category = visit_op(&household, &[]);
    long_category["change"]["record_visit"]["requests"][0]["category"] = json!("类".repeat(21));
    let (status, body) = server.push(&worker, "w", &[ancient, overfull, long_category]).await;
    assert_eq!(status, 200);
    assert_eq!(statuses(&body), ["rejected", "rejected", "rejected"], "{body}");
    let reasons = reasons(&body);
    assert!(reasons[0].contains("2000年"), "{reasons:?}");
    assert!(reasons[1].contains("20条"), "{reasons:?}");
    assert!(reasons[2].contains("类别"), "{reasons:?}");
    // Each refusal is on record, with who sent it.
    let denied = count(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'denied' AND entity = $1",
        "record_visit",
    )
    .await;
    assert_eq!(denied, 3);
    // The ledger of the scope still opens.
    let lead = server.login_as("lead1").await;
    let ledger = lead
        .get(server.url("/manage/coverage/visits.xlsx?days=366"))
        .send()
        .await
        .unwrap();
    assert_eq!(ledger.status(), 200);
}
