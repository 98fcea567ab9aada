//! Staff administration over real HTTP on either engine: accounts with
//! one-time passwords, the first password change, grid assignment, disabling
//! (the phone is told why), a person's own sessions, the idle limit, the
//! territory, and who may do which.

// Each test binary uses part of the shared harness.
#[allow(dead_code)]
mod common;

use common::{PASSWORD, TestServer, post_form, routine_visit, shown_password};
use serde_json::Value;

#[tokio::test]
async fn an_admin_makes_a_worker_who_changes_the_password_walks_a_grid_and_is_disabled() {
    let server = TestServer::start().await;
    let admin = server.login_as("admin").await;
    let created = post_form(
        &admin,
        server.url("/manage/users"),
        &[
            ("username", "Zhao.Min"),
            ("display_name", "赵敏"),
            ("role", "worker"),
            ("community", ""),
        ],
    )
    .await;
    assert_eq!(created.status(), 200);
    assert_eq!(
        created.headers()["cache-control"],
        "no-store",
        "a password page is never cached"
    );
    let once = shown_password(&created.text().await.unwrap());
    assert_eq!(once.len(), 14);
    // The same name again is a clear refusal, not a 500.
    let again = post_form(
        &admin,
        server.url("/manage/users"),
        &[("username", "zhao.min"), ("display_name", "赵敏"), ("role", "worker")],
    )
    .await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("已被使用"));

    // Signing in with the one-time password leads to the password page only.
    let worker = server.client();
    let login = post_form(
        &worker,
        server.url("/login"),
        &[("username", "zhao.min"), ("password", &once)],
    )
    .await;
    assert_eq!(login.headers()["location"], "/account/password");
    let me = worker.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), 401);
    let body: Value = me.json().await.unwrap();
    assert_eq!(body["error"], "account");
    let home = worker.get(server.url("/")).send().await.unwrap();
    assert_eq!(home.headers()["location"], "/account/password");
    for (current, new, repeat, reason) in [
        ("wrong-one", "春天的楼道灯坏了", "春天的楼道灯坏了", "当前密码不正确"),
        (once.as_str(), "12345678", "12345678", "太容易"),
        (once.as_str(), "春天的楼道灯坏了", "春天的楼道灯", "不一样"),
    ] {
        let refused = post_form(
            &worker,
            server.url("/account/password"),
            &[("current", current), ("new", new), ("repeat", repeat)],
        )
        .await;
        assert_eq!(refused.status(), 422);
        assert!(refused.text().await.unwrap().contains(reason), "{reason}");
    }
    let changed = post_form(
        &worker,
        server.url("/account/password"),
        &[
            ("current", &once),
            ("new", "春天的楼道灯坏了"),
            ("repeat", "春天的楼道灯坏了"),
        ],
    )
    .await;
    assert_eq!(changed.status(), 303);
    assert_eq!(worker.get(server.url("/api/me")).send().await.unwrap().status(), 200);
    // The one-time password is spent.
    assert_eq!(server.login_attempt("zhao.min", &once).await.status(), 401);

    // Assigned a grid on the page, the worker pulls it.
    let grid = server.scalar("SELECT id FROM grids WHERE name = $1", "第2网格").await;
    let assigned = post_form(&admin, server.url("/manage/users/zhao.min/grids"), &[("grid", &grid)]).await;
    assert_eq!(assigned.status(), 303);
    let page = server.get_json(&worker, "/api/sync/pull?cursor=0&limit=50").await;
    let scope: Vec<&str> = page["scope"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["id"].as_str())
        .collect();
    assert_eq!(scope, [grid.as_str()]);
    let (household, _) = server.household_in("第2网格").await;
    let (status, body) = server.push(&worker, "phone-z", &[routine_visit(&household, "")]).await;
    assert_eq!(status, 200, "{body}");

    // Disabled: the next push is refused with the reason, and so is a login.
    let disabled = post_form(&admin, server.url("/manage/users/zhao.min/disable"), &[]).await;
    assert_eq!(disabled.status(), 303);
    let (status, body) = server.push(&worker, "phone-z", &[routine_visit(&household, "")]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "account");
    assert!(body["message"].as_str().unwrap().contains("停用"), "{body}");
    assert_eq!(server.login_attempt("zhao.min", "春天的楼道灯坏了").await.status(), 401);
    let visits = server
        .scalar(
            "SELECT CAST(COUNT(*) AS TEXT) FROM visits v JOIN users u ON u.id = v.worker_id WHERE u.username = $1",
            "zhao.min",
        )
        .await;
    assert_eq!(visits, "1", "what came before the disabling is kept, nothing after");
    let audited = server
        .scalar(
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE entity = 'user' AND entity_id = $1",
            "zhao.min",
        )
        .await;
    assert_eq!(audited, "3", "created, grids, disabled");

    // Enabled again, the old session stays ended.
    post_form(&admin, server.url("/manage/users/zhao.min/enable"), &[]).await;
    assert_eq!(worker.get(server.url("/api/me")).send().await.unwrap().status(), 401);
    assert_eq!(server.login_attempt("zhao.min", "春天的楼道灯坏了").await.status(), 200);
}

#[tokio::test]
async fn a_lead_runs_only_the_workers_and_grids_of_their_community() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let own = server.community_of("lead1").await;
    // A lead makes workers, in their community, and nothing else.
    let created = post_form(
        &lead,
        server.url("/manage/users"),
        &[("username", "qian"), ("display_name", "钱多"), ("role", "worker")],
    )
    .await;
    assert_eq!(created.status(), 200);
    assert_eq!(
        server
            .scalar("SELECT community_id FROM users WHERE username = $1", "qian")
            .await,
        own
    );
    let lead_made = post_form(
        &lead,
        server.url("/manage/users"),
        &[("username", "boss"), ("display_name", "老板"), ("role", "admin")],
    )
    .await;
    assert_eq!(lead_made.status(), 403);

    // Another community's worker and grid are not found for this lead.
    let foreign_worker = server
        .scalar(
            "SELECT u.username FROM users u JOIN user_grids ug ON ug.user_id = u.id JOIN grids g ON g.id = ug.grid_id
             WHERE g.community_id <> $1 ORDER BY u.username LIMIT 1",
            &own,
        )
        .await;
    for path in ["", "/reset", "/disable"] {
        let url = server.url(&format!("/manage/users/{foreign_worker}{path}"));
        let status = if path.is_empty() {
            lead.get(url).send().await.unwrap().status()
        } else {
            post_form(&lead, url, &[]).await.status()
        };
        assert_eq!(status, 404, "{path}");
    }
    let foreign_grid = server
        .scalar(
            "SELECT id FROM grids WHERE community_id <> $1 ORDER BY name LIMIT 1",
            &own,
        )
        .await;
    let refused = post_form(
        &lead,
        server.url("/manage/users/qian/grids"),
        &[("grid", &foreign_grid)],
    )
    .await;
    assert_eq!(refused.status(), 404);
    assert_eq!(
        lead.get(server.url(&format!("/manage/territory/grids/{foreign_grid}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // A worker runs nobody.
    let worker = server.login_as("worker1").await;
    assert_eq!(
        worker.get(server.url("/manage/users")).send().await.unwrap().status(),
        403
    );
    assert_eq!(
        worker
            .get(server.url("/manage/territory"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // The lead adds a grid and moves a building into it: its worker pulls it whole.
    let added = post_form(
        &lead,
        server.url("/manage/territory"),
        &[("community", &own), ("name", "第九网格")],
    )
    .await;
    assert_eq!(added.status(), 303);
    let new_grid = server.scalar("SELECT id FROM grids WHERE name = $1", "第九网格").await;
    let building = server
        .scalar(
            "SELECT b.id FROM buildings b JOIN grids g ON g.id = b.grid_id WHERE g.community_id = $1 ORDER BY b.id LIMIT 1",
            &own,
        )
        .await;
    let moved = post_form(
        &lead,
        server.url(&format!("/manage/territory/buildings/{building}")),
        &[("name", "新3号楼"), ("grid", &new_grid)],
    )
    .await;
    assert_eq!(moved.status(), 303);
    // A new building by hand: its doors numbered floor by floor.
    let buildings_url = server.url(&format!("/manage/territory/grids/{new_grid}/buildings"));
    let shape = [
        ("name", "新12号楼"),
        ("units", "2"),
        ("floors", "3"),
        ("doors", "2"),
        ("address", ""),
    ];
    assert_eq!(post_form(&lead, buildings_url.clone(), &shape).await.status(), 303);
    let twice = post_form(&lead, buildings_url, &shape).await.status();
    assert_eq!(twice, 409, "the same name twice in a grid");
    let added = server
        .scalar("SELECT id FROM buildings WHERE name = $1", "新12号楼")
        .await;
    let doors = server
        .scalar(
            "SELECT CAST(COUNT(*) AS TEXT) FROM households WHERE building_id = $1 AND door_number IN ('101', '302')",
            &added,
        )
        .await;
    assert_eq!(doors, "4", "101 and 302 in each of two units");
    post_form(&lead, server.url("/manage/users/qian/grids"), &[("grid", &new_grid)]).await;
    let households = server
        .scalar(
            "SELECT CAST(COUNT(*) AS TEXT) FROM households WHERE building_id = $1",
            &building,
        )
        .await;
    let qian = server.client();
    let once = {
        let reset = post_form(&lead, server.url("/manage/users/qian/reset"), &[]).await;
        shown_password(&reset.text().await.unwrap())
    };
    post_form(
        &qian,
        server.url("/login"),
        &[("username", "qian"), ("password", &once)],
    )
    .await;
    post_form(
        &qian,
        server.url("/account/password"),
        &[
            ("current", &once),
            ("new", "钱多多的新密码啊"),
            ("repeat", "钱多多的新密码啊"),
        ],
    )
    .await;
    let page = server.get_json(&qian, "/api/sync/pull?cursor=0&limit=2000").await;
    let records = page["records"].as_array().unwrap();
    let pulled_building = records
        .iter()
        .find(|r| r["id"] == building.as_str())
        .expect("the building");
    assert_eq!(pulled_building["name"], "新3号楼");
    let pulled_households = records.iter().filter(|r| r["building_id"] == building.as_str()).count();
    assert_eq!(pulled_households.to_string(), households);
    let pulled_new = records.iter().filter(|r| r["building_id"] == added.as_str()).count();
    assert_eq!(pulled_new, 12);
}

#[tokio::test]
async fn a_person_ends_a_lost_phones_session_and_idle_sessions_end_by_themselves() {
    let server = TestServer::start().await;
    let phone = server.login_as("worker1").await;
    let desk = server.login_as("worker1").await;
    let page = desk
        .get(server.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("（本机）"));
    let ended = post_form(&desk, server.url("/account/sessions/end"), &[("session", "others")]).await;
    assert_eq!(ended.status(), 303);
    assert_eq!(phone.get(server.url("/api/me")).send().await.unwrap().status(), 401);
    assert_eq!(desk.get(server.url("/api/me")).send().await.unwrap().status(), 200);
    // Someone else's session cannot be ended by naming it.
    let other = server.login_as("worker2").await;
    let foreign = server
        .scalar(
            "SELECT s.token_hash FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = $1",
            "worker2",
        )
        .await;
    let refused = post_form(&desk, server.url("/account/sessions/end"), &[("session", &foreign)]).await;
    assert_eq!(refused.status(), 404);
    assert_eq!(other.get(server.url("/api/me")).send().await.unwrap().status(), 200);

    // Unused for longer than the idle period: ended, whatever its expiry.
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - $1")
        .bind(11 * 24 * 3_600_000_i64)
        .execute(&server.pool)
        .await
        .unwrap();
    assert_eq!(desk.get(server.url("/api/me")).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_first_admin_comes_from_the_command_line_and_no_password_is_known() {
    // A real install: an empty database, no demo asked for.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("real.db").display());
    let server = TestServer::start_with(|s| {
        s.database_url = url.clone();
        s.demo_data = false;
    })
    .await;
    let store = gridwalk_server::db::connect(&server.settings).await.unwrap();
    assert!(!store.has_users().await.unwrap(), "no account, so no known password");
    assert_eq!(store.install_fact("demo_seeded").await.unwrap(), None);
    assert_eq!(server.login_attempt("admin", PASSWORD).await.status(), 401);

    let said = gridwalk_server::staff::cli::run(&store, &["add", "--role", "admin", "Chief", "街道管理员"])
        .await
        .unwrap();
    let once = said.rsplit(' ').next().unwrap().to_owned();
    let twice = gridwalk_server::staff::cli::run(&store, &["add", "chief"]).await;
    assert!(twice.unwrap_err().contains("已被使用"));
    let client = server.client();
    let login = post_form(
        &client,
        server.url("/login"),
        &[("username", "chief"), ("password", &once)],
    )
    .await;
    assert_eq!(login.headers()["location"], "/account/password");
    assert_eq!(
        gridwalk_server::staff::cli::run(&store, &["disable", "chief"])
            .await
            .unwrap(),
        "chief 已停用"
    );
    assert_eq!(server.login_attempt("chief", &once).await.status(), 401);
    assert!(gridwalk_server::staff::cli::run(&store, &["frobnicate"]).await.is_err());
}
