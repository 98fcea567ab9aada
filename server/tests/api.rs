//! The HTTP surface, end to end: login, sessions, the rate limit, grid scope on
//! every route, and clear errors for bad input.

// Not every helper is needed here.
#[allow(dead_code)]
mod common;

use common::{PASSWORD, TestServer};
use serde_json::{Value, json};

/// A household, a resident and a building in grid 2, which worker1 does not hold.
async fn other_grid_records(server: &TestServer) -> (String, String, String, String) {
    let grid = server.scalar("SELECT id FROM grids WHERE name = $1", "第2网格").await;
    let building = server
        .scalar(
            "SELECT id FROM buildings WHERE grid_id = $1 ORDER BY number LIMIT 1",
            &grid,
        )
        .await;
    let household = server
        .scalar(
            "SELECT h.id FROM households h WHERE h.building_id = $1
             AND EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id) ORDER BY h.unit, h.floor LIMIT 1",
            &building,
        )
        .await;
    let resident = server
        .scalar("SELECT id FROM residents WHERE household_id = $1 LIMIT 1", &household)
        .await;
    (grid, building, household, resident)
}

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_logout_ends_the_session() {
    let server = TestServer::start().await;
    let client = server.client();
    let response = client
        .post(server.url("/api/login"))
        .json(&json!({ "username": "worker1", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("gw_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    // Whose copy the phone opens: the user's id and name, readable by the
    // page's scripts (public/phone.js), with the session's lifetime.
    let user_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .nth(1)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["username"], "worker1");
    assert_eq!(me["role"], "worker");
    assert!(me.get("password_hash").is_none());
    let id = me["id"].as_str().unwrap();
    assert!(user_cookie.starts_with(&format!("gw_user={id}.%")), "{user_cookie}");
    assert!(
        !user_cookie.contains("HttpOnly") && !user_cookie.contains("Max-Age=0"),
        "{user_cookie}"
    );

    // A session opened before the cookie existed gets it with its next page.
    let token = cookie.split(';').next().unwrap();
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = bare.get(server.url("/")).header("cookie", token).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let set: Vec<&str> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(set.iter().any(|c| c.starts_with(&format!("gw_user={id}."))), "{set:?}");
    let named = format!("{token}; {}", user_cookie.split(';').next().unwrap());
    let page = bare.get(server.url("/")).header("cookie", named).send().await.unwrap();
    assert!(page.headers().get("set-cookie").is_none(), "named already");

    assert_eq!(client.get(server.url("/api/me")).send().await.unwrap().status(), 200);
    let logout = client.post(server.url("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 303);
    assert_eq!(logout.headers()["location"], "/login");
    let cleared: Vec<&str> = logout
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cleared.contains(&"gw_user=; Path=/; SameSite=Lax; Max-Age=0"),
        "{cleared:?}"
    );
    let after = client.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(after.status(), 401);
    let body: Value = after.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
    assert_eq!(body["message"], "请先登录");

    // The old token is dead on the server too, not just forgotten by the client.
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&server.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn disabling_a_user_ends_their_session_and_refuses_their_login() {
    let server = TestServer::start().await;
    let client = server.login_as("worker1").await;
    sqlx::query("UPDATE users SET disabled = TRUE WHERE username = $1")
        .bind("worker1")
        .execute(&server.pool)
        .await
        .unwrap();
    let me = client.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), 401, "the live session no longer counts");
    let login = server.login_attempt("worker1", PASSWORD).await;
    assert_eq!(login.status(), 401);
}

#[tokio::test]
async fn a_login_clears_expired_sessions() {
    let server = TestServer::start().await;
    let user = server
        .scalar("SELECT id FROM users WHERE username = $1", "worker2")
        .await;
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, 1, 2)")
        .bind("expired")
        .bind(&user)
        .execute(&server.pool)
        .await
        .unwrap();
    server.login_as("worker1").await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = $1")
        .bind("expired")
        .fetch_one(&server.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn html_form_login_redirects_home_or_back_with_an_error() {
    let server = TestServer::start().await;
    let client = server.client();
    let ok = client
        .post(server.url("/login"))
        .form(&[("username", "Worker1"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/");
    let home = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("第1网格"), "the worker's grid is rendered on the server");
    assert!(!html.contains("第2网格"), "other grids are not");

    let bad = server
        .client()
        .post(server.url("/login"))
        .form(&[("username", "worker1"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.headers()["location"], "/login?error=invalid");
}

#[tokio::test]
async fn wrong_user_and_wrong_password_answer_alike() {
    let server = TestServer::start().await;
    let attempt = |username: &'static str, password: &'static str| {
        let client = server.client();
        let url = server.url("/api/login");
        async move {
            let r = client
                .post(url)
                .json(&json!({ "username": username, "password": password }))
                .send()
                .await
                .unwrap();
            (
                r.status(),
                r.headers().get("set-cookie").is_some(),
                r.text().await.unwrap(),
            )
        }
    };
    let wrong_password = attempt("worker1", "wrong").await;
    let wrong_user = attempt("nobody", PASSWORD).await;
    assert_eq!(wrong_password.0, 401);
    assert_eq!(wrong_password, wrong_user);
    assert!(!wrong_password.1, "no cookie on failure");
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_even_with_the_right_password_then() {
    let server = TestServer::start().await;
    let client = server.client();
    let login = |password: &'static str| {
        client
            .post(server.url("/api/login"))
            .json(&json!({ "username": "worker2", "password": password }))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(login("wrong").await.unwrap().status(), 401);
    }
    let limited = login(PASSWORD).await.unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    // Other users are not locked out by one user's failures.
    server.login_as("worker3").await;
}

#[tokio::test]
async fn a_worker_cannot_read_another_grid_through_any_route() {
    let server = TestServer::start().await;
    let client = server.login_as("worker1").await;
    let (grid, building, household, resident) = other_grid_records(&server).await;
    for path in [
        format!("/api/grids/{grid}"),
        format!("/api/buildings/{building}"),
        format!("/api/households/{household}"),
        format!("/api/residents/{resident}"),
        format!("/api/grids/{grid}?q=101"),
    ] {
        let response = client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("身份证") && !body.contains("name"), "{path}: {body}");
    }
    // Server-rendered pages obey the same scope.
    for path in [
        format!("/households/{household}"),
        format!("/residents/{resident}"),
        format!("/buildings/{building}"),
    ] {
        let response = client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.unwrap();
        let name = server
            .scalar("SELECT name FROM residents WHERE id = $1", &resident)
            .await;
        assert!(!html.contains(&name), "{path} leaks a resident's name");
    }
    let grids: Value = server.get_json(&client, "/api/grids").await;
    assert_eq!(grids.as_array().unwrap().len(), 1);
    let denied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'denied'")
        .fetch_one(&server.pool)
        .await
        .unwrap();
    assert!(denied >= 7, "refusals are audited: {denied}");

    // The lead of that community does see it; the admin sees everything.
    let lead = server.login_as("lead1").await;
    assert_eq!(
        lead.get(server.url(&format!("/api/residents/{resident}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let lead_grids: Value = server.get_json(&lead, "/api/grids").await;
    assert_eq!(lead_grids.as_array().unwrap().len(), 4);
    let other_lead = server.login_as("lead2").await;
    assert_eq!(
        other_lead
            .get(server.url(&format!("/api/households/{household}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let admin = server.login_as("admin").await;
    let all: Value = server.get_json(&admin, "/api/grids").await;
    assert_eq!(all.as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn anonymous_callers_get_401_from_every_data_route() {
    let server = TestServer::start().await;
    let (grid, building, household, resident) = other_grid_records(&server).await;
    let client = server.client();
    for path in [
        "/api/me".to_string(),
        "/api/grids".to_string(),
        format!("/api/grids/{grid}"),
        format!("/api/buildings/{building}"),
        format!("/api/households/{household}"),
        format!("/api/residents/{resident}"),
    ] {
        assert_eq!(
            client.get(server.url(&path)).send().await.unwrap().status(),
            401,
            "{path}"
        );
    }
    let page = client
        .get(server.url(&format!("/households/{household}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login");
}

#[tokio::test]
async fn household_data_is_masked_and_reads_are_audited() {
    let server = TestServer::start().await;
    let client = server.login_as("worker2").await;
    let (_, _, household, resident) = other_grid_records(&server).await;
    let response = client
        .get(server.url(&format!("/api/households/{household}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let text = body.to_string();
    assert!(!body["residents"].as_array().unwrap().is_empty());
    // No whole ID number or phone number leaves the server.
    let secrets: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT id_number, phone FROM residents WHERE household_id = $1")
            .bind(&household)
            .fetch_all(&server.pool)
            .await
            .unwrap();
    for secret in secrets.into_iter().flat_map(|(id, phone)| [id, phone]).flatten() {
        assert!(!text.contains(&secret), "{secret} leaked");
    }
    for r in body["residents"].as_array().unwrap() {
        if let Some(masked) = r["id_number_masked"].as_str() {
            assert_eq!(masked.len(), 18);
            assert_eq!(&masked[..14], "**************");
        }
    }
    let detail: Value = server.get_json(&client, &format!("/api/residents/{resident}")).await;
    if let Some(phone) = detail["phone_masked"].as_str() {
        assert_eq!(&phone[3..7], "****");
    }
    let reads: Vec<(String, String)> =
        sqlx::query_as("SELECT entity, entity_id FROM audit_log WHERE action = 'read' ORDER BY at")
            .fetch_all(&server.pool)
            .await
            .unwrap();
    assert_eq!(
        reads,
        vec![
            ("household".into(), household.clone()),
            ("resident".into(), resident.clone())
        ]
    );
}

/// Runs of the characters an ID number is written in (digits, `X`, the mask's
/// `*`): a number, whole or in part, is one of them; ids and hashes break up
/// at their letters. Times are runs too, so a run counts as a number's when it
/// has its length, a mask or a check `X`.
fn id_like_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, 'X' | 'x' | '*')))
        .filter(|run| run.len() == 18 || run.contains('*') || run.ends_with(['X', 'x']))
        .collect()
}

/// Every way a resident's record leaves the server — the JSON API, the
/// server-rendered pages, the pull feed, the ledgers a lead downloads, the
/// overwritten values a lead reviews, the push's answers — carries of the ID
/// number its last four characters only and of the birth date its year: with
/// the first four and the whole date, the number could be rebuilt.
#[tokio::test]
async fn no_route_gives_away_enough_to_rebuild_an_id_number() {
    use app::domain::IdCardNumber;
    use app::state::now_ms;

    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let lead = server.login_as("lead1").await;
    let (household, _) = server.household_in("第1网格").await;
    // A check `X`: the last four are told apart from digits in times.
    let id = IdCardNumber::with_check_char("11010519380719005").unwrap();
    let id = id.as_str().to_owned();
    let (area, tail) = (&id[..6], &id[14..]);
    assert!(tail.ends_with('X'));
    let resident = common::new_id();
    let op = |change: Value| json!({"op_id": common::new_id(), "created_at": now_ms(), "change": change});
    let add = op(json!({"add_resident": {
        "id": resident, "household_id": household, "name": "隐私核对", "gender": "male",
        "birth_date": "1938-07-19", "id_number": id, "phone": "13812345678",
        "registration_type": "registered", "tags": ["elderly_alone"],
    }}));
    let (status, added) = server.push(&worker, "privacy", &[add]).await;
    assert_eq!(
        (status, added["results"][0]["status"].as_str()),
        (200, Some("applied")),
        "{added}"
    );
    // Edits seen by nobody else's phone first: older than the record, so they
    // lose and their values (and the stored ones) go to the lead's review.
    let stale = |field: &str, base: &str, value: &str| {
        json!({"op_id": common::new_id(), "created_at": 1, "change": {"edit_resident": {
            "id": resident, "changes": [{"field": field, "base": base, "value": value}],
        }}})
    };
    let (_, lost) = server
        .push(
            &worker,
            "privacy",
            &[
                stale("birth_date", "1937", "1938-07-20"),
                stale("phone", "139****0000", "13900000000"),
            ],
        )
        .await;
    assert!(
        lost["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "conflict"),
        "{lost}"
    );
    // A new number with another birth date in it is refused, and the answer
    // does not repeat it.
    let other = IdCardNumber::with_check_char("11010519400101005").unwrap();
    let mismatch = op(json!({"edit_resident": {"id": resident, "changes": [
        {"field": "id_number", "base": null, "value": other.as_str()}]}}));
    let (_, refused) = server.push(&worker, "privacy", &[mismatch]).await;
    assert_eq!(refused["results"][0]["status"], "rejected", "{refused}");
    assert_eq!(refused["results"][0]["reason"], app::sync::ID_BIRTH_DATE_MISMATCH);

    let mut seen: Vec<(String, String)> = vec![
        ("push".into(), added.to_string()),
        ("push".into(), lost.to_string()),
        ("push".into(), refused.to_string()),
    ];
    let pages = [
        (&worker, format!("/api/households/{household}")),
        (&worker, format!("/api/residents/{resident}")),
        (&worker, format!("/households/{household}")),
        (&worker, format!("/residents/{resident}")),
        (&lead, format!("/api/residents/{resident}")),
        (&lead, format!("/residents/{resident}")),
        (&lead, format!("/households/{household}")),
        (&lead, "/manage/coverage".to_owned()),
        (&lead, "/manage/coverage/visits.csv?days=365".to_owned()),
        (&lead, "/manage/coverage/households.csv".to_owned()),
        (&lead, "/manage/requests/ledger.csv".to_owned()),
    ];
    for (client, path) in pages {
        let response = client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        // Leptos marks text-node boundaries; a value is whole without them.
        seen.push((path, response.text().await.unwrap().replace("<!>", "")));
    }
    let mut cursor = 0;
    let mut pulled = None;
    loop {
        let page = server
            .get_json(&worker, &format!("/api/sync/pull?cursor={cursor}&limit=5000"))
            .await;
        let records = page["records"].as_array().unwrap();
        pulled = pulled.or_else(|| records.iter().find(|r| r["id"] == resident.as_str()).cloned());
        seen.push((format!("/api/sync/pull?cursor={cursor}"), page.to_string()));
        cursor = page["next_cursor"].as_i64().unwrap();
        if page["more"] != true {
            break;
        }
    }

    for (place, text) in &seen {
        for leak in [
            id.as_str(),
            "1938-07-19",
            "19380719",
            "1938年7月19日",
            "1938-07-20",
            "13812345678",
        ] {
            assert!(!text.contains(leak), "{place} gives away {leak}");
        }
        let mut numbers = text.split(|c: char| !c.is_ascii_digit());
        assert!(
            numbers.all(|n| n != area && n != "19380719"),
            "{place} gives away part of the number"
        );
        for run in id_like_runs(text) {
            assert!(!run.contains(area) && !run.contains("19380719"), "{place}: {run}");
            if let Some(at) = run.find(tail) {
                assert!(
                    at >= 14 && run[at - 14..at].bytes().all(|b| b == b'*'),
                    "{place}: {run}"
                );
            }
        }
    }
    // What they do carry: the last four, the year, the age reached this year.
    let masked = format!("**************{tail}");
    let pulled = pulled.expect("the new resident is pulled");
    assert_eq!(
        (&pulled["id_number_masked"], &pulled["birth_year"]),
        (&json!(masked), &json!(1938))
    );
    let detail = server.get_json(&lead, &format!("/api/residents/{resident}")).await;
    assert_eq!(detail["resident"]["id_number_masked"], masked.as_str());
    assert_eq!(detail["birth_year"], 1938);
    let this_year = app::domain::CivilDate::from_epoch_ms(now_ms()).year();
    assert_eq!(detail["resident"]["age"], i64::from(this_year - 1938));
    let conflicts = detail["conflicts"].as_array().unwrap();
    assert!(
        conflicts
            .iter()
            .any(|c| c["field"] == "birth_date" && c["kept"] == "1938" && c["lost"] == "1938"),
        "{detail}"
    );
    assert!(conflicts.iter().any(|c| c["kept"] == "138****5678"), "{detail}");
    let html = seen
        .iter()
        .find(|(p, _)| p == &format!("/residents/{resident}"))
        .unwrap();
    assert!(html.1.contains(&masked) && html.1.contains("1938年"), "{}", html.1);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_never_a_500() {
    let server = TestServer::start().await;
    let client = server.login_as("worker1").await;
    let cases = [
        ("/api/households/not-a-uuid", 400, "编号格式不正确"),
        ("/api/residents/%27%20OR%201%3D1--", 400, "编号格式不正确"),
        ("/api/buildings/00000000-0000-7000-8000-000000000000", 404, "没有找到"),
        ("/api/nothing/here", 404, "没有这个接口"),
    ];
    for (path, status, message) in cases {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(message), "{path}: {body}");
    }
    let malformed = server
        .client()
        .post(server.url("/api/login"))
        .body("{\"username\":")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error"], "bad_request");
    let huge = server
        .client()
        .post(server.url("/api/login"))
        .json(&json!({ "username": "a".repeat(100_000), "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    for (username, password) in [("a".repeat(65), "x".to_owned()), ("worker1".into(), "x".repeat(1025))] {
        let long = server.login_attempt(&username, &password).await;
        assert_eq!(long.status(), 400);
        let body: Value = long.json().await.unwrap();
        assert_eq!(body["message"], "用户名或密码过长");
    }
    let page = client.get(server.url("/households/not-a-uuid")).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("编号格式不正确"));
    // The server is still healthy afterwards.
    assert_eq!(reqwest::get(server.url("/healthz")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn search_finds_households_by_building_unit_and_door() {
    let server = TestServer::start().await;
    let client = server.login_as("worker1").await;
    let grid = server.scalar("SELECT id FROM grids WHERE name = $1", "第1网格").await;
    let found: Value = client
        .get(server.url(&format!("/api/grids/{grid}")))
        .query(&[("q", "1号楼2单元301")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hits = found["household_hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{found}");
    assert_eq!(hits[0]["door_number"], "301");
    assert_eq!(hits[0]["unit"], 2);
    let by_door: Value = client
        .get(server.url(&format!("/api/grids/{grid}")))
        .query(&[("q", "502")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Door 502 exists in every unit of every building of five floors or more.
    assert!(by_door["household_hits"].as_array().unwrap().len() >= 8);
}

#[tokio::test]
async fn signing_in_and_out_is_audited_and_the_log_cannot_be_rewritten() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let wrong = server.login_attempt("worker1", "wrong").await;
    assert_eq!(wrong.status(), 401);
    let logout = worker.post(server.url("/logout")).send().await.unwrap();
    assert!(logout.status().is_redirection());
    let count = |action: &'static str| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id = a.user_id
             WHERE u.username = 'worker1' AND a.entity = 'session' AND a.action = $1 AND a.entity_id = '127.0.0.1'",
        )
        .bind(action)
        .fetch_one(&server.pool)
    };
    assert_eq!(count("sign_in").await.unwrap(), 1);
    assert_eq!(count("denied").await.unwrap(), 1);
    assert_eq!(count("sign_out").await.unwrap(), 1);

    let rewrite = sqlx::query("UPDATE audit_log SET action = 'read'")
        .execute(&server.pool)
        .await;
    assert!(rewrite.is_err(), "an audit row was rewritten");
    let erase = sqlx::query("DELETE FROM audit_log").execute(&server.pool).await;
    assert!(erase.is_err(), "audit rows were deleted");
    assert_eq!(count("sign_in").await.unwrap(), 1);
}

/// Makes the audit log refuse (or, with `None`, accept again) rows about
/// `entity`, as a full disk or a failing write would at the worst moment.
async fn audit_log_refuses(server: &TestServer, entity: Option<&str>) {
    let postgres = common::postgres_admin_url().is_some();
    let statements: Vec<String> = match (entity, postgres) {
        (Some(entity), false) => vec![format!(
            "CREATE TRIGGER audit_log_down BEFORE INSERT ON audit_log WHEN NEW.entity = '{entity}'
             BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"
        )],
        (Some(entity), true) => vec![
            format!(
                "CREATE FUNCTION audit_log_down() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                     IF NEW.entity = '{entity}' THEN RAISE EXCEPTION 'audit log unavailable'; END IF;
                     RETURN NEW;
                 END $$"
            ),
            "CREATE TRIGGER audit_log_down BEFORE INSERT ON audit_log
             FOR EACH ROW EXECUTE FUNCTION audit_log_down()"
                .into(),
        ],
        (None, false) => vec!["DROP TRIGGER audit_log_down".into()],
        (None, true) => vec![
            "DROP TRIGGER audit_log_down ON audit_log".into(),
            "DROP FUNCTION audit_log_down()".into(),
        ],
    };
    for sql in statements {
        sqlx::query(&sql).execute(&server.pool).await.expect(&sql);
    }
}

#[tokio::test]
async fn a_change_is_never_saved_without_its_audit_row() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let community = server.community_of("lead1").await;
    let count = |sql: &'static str, bind: String| {
        let pool = server.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(bind)
                .fetch_one(&pool)
                .await
                .expect(sql)
        }
    };
    let create = || {
        lead.post(server.url("/manage/notices"))
            .form(&[
                ("community_id", community.as_str()),
                ("category", "finance"),
                ("title", "账目公开"),
                ("body", "第三季度收支"),
            ])
            .send()
    };
    let notices = "SELECT COUNT(*) FROM notices WHERE title = $1";

    audit_log_refuses(&server, Some("notice")).await;
    let refused = create().await.unwrap();
    assert!(refused.status().is_server_error(), "{}", refused.status());
    assert_eq!(
        count(notices, "账目公开".into()).await,
        0,
        "the notice was saved, its audit row was not"
    );

    audit_log_refuses(&server, None).await;
    let saved = create().await.unwrap();
    assert_eq!(saved.status(), 303);
    let id = saved.headers()["location"].to_str().unwrap()["/manage/notices/".len()..]
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let audited = "SELECT COUNT(*) FROM audit_log WHERE entity = 'notice' AND entity_id = $1";
    assert_eq!(count(audited, id.clone()).await, 1);

    // A change of state, the same way.
    audit_log_refuses(&server, Some("notice")).await;
    let publish = lead
        .post(server.url(&format!("/manage/notices/{id}/publish")))
        .send()
        .await
        .unwrap();
    assert!(publish.status().is_server_error(), "{}", publish.status());
    let published = "SELECT COUNT(*) FROM notices WHERE id = $1 AND status = 'published'";
    assert_eq!(count(published, id.clone()).await, 0, "published unaudited");
    assert_eq!(count(audited, id.clone()).await, 1);
}
