//! Requests (诉求) tracked to the end, over real HTTP: raised at the door on a
//! phone, assigned by a lead with a deadline, resolved and followed up from
//! the phone's outbox, rated by the resident's own phone; the ledger, the
//! figures, the public pages; and what is refused, with which status.

// Shared fixtures; this file does not need every helper.
#[allow(dead_code)]
mod common;

use common::{TestServer, new_id};
use serde_json::{Value, json};

/// A visit op raising one request at `household`.
fn visit_raising(household: &str, request_id: &str, text: &str) -> Value {
    json!({"op_id": new_id(), "created_at": app::clock::now_ms(), "change": {"record_visit": {
        "id": new_id(), "household_id": household, "visited_at": app::clock::now_ms(),
        "visit_type": "routine", "outcome": "met",
        "requests": [{"id": request_id, "category": "民生类", "text": text}]
    }}})
}

/// A worker's action on a request, as the phone queues it.
fn action(request_id: &str, action: &str, note: &str, follow_up: Option<(bool, &str)>) -> Value {
    let follow_up = follow_up.map(|(solved, satisfaction)| json!({"solved": solved, "satisfaction": satisfaction}));
    json!({"op_id": new_id(), "created_at": app::clock::now_ms(), "change": {"request_action": {
        "request_id": request_id, "action": action, "note": note, "follow_up": follow_up
    }}})
}

/// Pushes one op and returns its result's (status, reason).
async fn push_one(server: &TestServer, client: &reqwest::Client, op: &Value) -> (String, String) {
    let (status, body) = server.push(client, "phone-1", std::slice::from_ref(op)).await;
    assert_eq!(status, 200, "{body}");
    let result = &body["results"][0];
    (
        result["status"].as_str().unwrap_or_default().to_owned(),
        result["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A lead's form on a request's page: the status and the page.
async fn lead_acts(server: &TestServer, lead: &reqwest::Client, id: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = lead
        .post(server.url(&format!("/manage/requests/{id}/act")))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn request_field(server: &TestServer, id: &str, field: &str) -> String {
    server
        .scalar(&format!("SELECT CAST({field} AS TEXT) FROM requests WHERE id = $1"), id)
        .await
}

async fn worker_id(server: &TestServer, username: &str) -> String {
    server
        .scalar("SELECT id FROM users WHERE username = $1", username)
        .await
}

async fn get(server: &TestServer, client: &reqwest::Client, path: &str) -> (u16, String) {
    let response = client.get(server.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The whole road: raised at the door, assigned with a deadline, resolved,
/// reopened by an unhappy follow-up, resolved again, rated 满意 by the
/// resident's own phone through a one-time code, closed; the timeline, the
/// ledger and the figures say exactly that.
#[tokio::test]
async fn a_request_goes_the_whole_road_and_the_figures_say_so() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let lead = server.login_as("lead1").await;
    let before = figures_total(&server, &lead).await;
    let (household, _) = server.household_in("第1网格").await;
    let id = new_id();
    assert_eq!(
        push_one(&server, &worker, &visit_raising(&household, &id, "楼道灯坏了三天"))
            .await
            .0,
        "applied"
    );
    assert_eq!(request_field(&server, &id, "status").await, "received");
    assert_eq!(
        request_field(&server, &id, "category").await,
        "livelihood",
        "an old label maps to its code"
    );
    assert_eq!(
        request_field(&server, &id, "first_contact").await,
        worker_id(&server, "worker1").await
    );

    // The lead assigns it to the worker with a deadline a week out.
    let due = app::requests::due_after_working_days(app::clock::now_ms(), 5);
    let due_date = gridwalk_server::html::date(due - 1);
    let worker1 = worker_id(&server, "worker1").await;
    let (status, _) = lead_acts(
        &server,
        &lead,
        &id,
        &[
            ("action", "assign"),
            ("worker", &worker1),
            ("due", &due_date),
            ("note", "请尽快处理"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(request_field(&server, &id, "status").await, "assigned");
    assert_eq!(request_field(&server, &id, "resolve_due").await, due.to_string());

    // The worker's phone pulls it, with its new state.
    let page = server.get_json(&worker, "/api/sync/pull?cursor=0&limit=5000").await;
    let pulled = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["entity"] == "request" && r["id"] == id.as_str())
        .expect("the request reaches the worker's phone");
    assert_eq!(pulled["status"], "assigned");
    assert!(
        page["categories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["label"] == "民生")
    );

    // Resolved, then followed up at the door: not satisfied, so it reopens.
    assert_eq!(
        push_one(&server, &worker, &action(&id, "resolve", "已联系物业更换灯泡", None))
            .await
            .0,
        "applied"
    );
    let unhappy = action(&id, "follow_up", "灯还是不亮", Some((false, "unsatisfied")));
    assert_eq!(push_one(&server, &worker, &unhappy).await.0, "applied");
    assert_eq!(request_field(&server, &id, "status").await, "in_progress");
    assert_eq!(request_field(&server, &id, "reopen_count").await, "1");
    // The same op again (a retry after a cut connection) changes nothing.
    assert_eq!(push_one(&server, &worker, &unhappy).await.0, "applied");
    assert_eq!(request_field(&server, &id, "reopen_count").await, "1");
    assert_eq!(
        push_one(&server, &worker, &action(&id, "resolve", "更换了线路", None))
            .await
            .0,
        "applied"
    );

    // A one-time rating code shown as a QR code, rated on the resident's phone.
    let token = uuid::Uuid::new_v4().simple().to_string();
    let register = json!({"op_id": new_id(), "created_at": app::clock::now_ms(),
        "change": {"rating_token": {"request_id": id, "token": token}}});
    assert_eq!(push_one(&server, &worker, &register).await.0, "applied");
    let resident = server.client();
    let (status, page) = get(&server, &resident, &format!("/rate/{token}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("民生") && !page.contains("楼道灯"),
        "category and date only: {page}"
    );
    let rate = |satisfaction: &'static str| {
        resident
            .post(server.url(&format!("/rate/{token}")))
            .form(&[("satisfaction", satisfaction)])
            .send()
    };
    assert_eq!(rate("satisfied").await.unwrap().status(), 200);
    assert_eq!(request_field(&server, &id, "status").await, "closed");
    assert_eq!(rate("unsatisfied").await.unwrap().status(), 410, "a code rates once");
    assert_eq!(request_field(&server, &id, "satisfaction").await, "satisfied");

    // The timeline holds every step with who did it.
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM request_events WHERE request_id = $1 ORDER BY at, id")
            .bind(&id)
            .fetch_all(&server.pool)
            .await
            .unwrap();
    assert_eq!(actions.join(","), "raise,assign,resolve,follow_up,resolve,rate");

    // The ledger lists it; the figures count it.
    let (status, ledger) = get(&server, &lead, "/manage/requests?status=closed").await;
    assert_eq!(status, 200);
    assert!(ledger.contains("楼道灯坏了三天"));
    // The quarter's figures moved by exactly this request's history:
    // received, responded on time, resolved, resolved on time, followed up,
    // rated, reopened; nothing overdue.
    let after = figures_total(&server, &lead).await;
    let moved: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!(moved, vec![1, 1, 1, 1, 0, 1, 1, 1], "{before:?} -> {after:?}");
}

/// The counts of the figures' 合计 row for this quarter: received, responded
/// on time, resolved, resolved on time, overdue now, followed up, rated,
/// reopened (the rates left out).
async fn figures_total(server: &TestServer, lead: &reqwest::Client) -> Vec<i64> {
    let csv = lead
        .get(server.url("/manage/requests/figures.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    let total: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(total[0], "合计");
    [2, 3, 5, 6, 8, 9, 10, 12]
        .iter()
        .map(|&i| total[i].parse().unwrap())
        .collect()
}

/// A worker's action that reached the server after the lead closed the
/// request comes back rejected, naming the state, and applies nothing.
#[tokio::test]
async fn an_action_after_a_leads_close_is_refused_with_the_state() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let lead = server.login_as("lead1").await;
    let (household, _) = server.household_in("第1网格").await;
    let id = new_id();
    push_one(&server, &worker, &visit_raising(&household, &id, "垃圾清运不及时")).await;
    assert_eq!(
        lead_acts(&server, &lead, &id, &[("action", "resolve"), ("note", "已协调清运")])
            .await
            .0,
        303
    );
    assert_eq!(lead_acts(&server, &lead, &id, &[("action", "close")]).await.0, 303);
    let (status, reason) = push_one(&server, &worker, &action(&id, "note", "今天又去看了", None)).await;
    assert_eq!(status, "rejected");
    assert!(reason.contains("已关闭"), "{reason}");
    assert_eq!(request_field(&server, &id, "status").await, "closed");
    // And from the ledger: 409, naming the state.
    let (status, page) = lead_acts(&server, &lead, &id, &[("action", "resolve"), ("note", "再办一次")]).await;
    assert_eq!(status, 409);
    assert!(page.contains("已关闭"));
}

#[tokio::test]
async fn the_ledger_is_for_leads_and_foreign_requests_do_not_exist() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (household, _) = server.household_in("第1网格").await;
    let id = new_id();
    push_one(&server, &worker, &visit_raising(&household, &id, "电梯异响")).await;

    assert_eq!(get(&server, &worker, "/manage/requests").await.0, 403);
    assert_eq!(lead_acts(&server, &worker, &id, &[("action", "close")]).await.0, 403);
    let other_lead = server.login_as("lead2").await;
    assert_eq!(
        get(&server, &other_lead, &format!("/manage/requests/{id}")).await.0,
        404
    );
    assert_eq!(
        get(&server, &other_lead, &format!("/manage/requests/{}", new_id()))
            .await
            .0,
        404
    );
    assert_eq!(get(&server, &other_lead, "/manage/requests/not-an-id").await.0, 400);
    // A worker of another grid cannot work on it from a phone either.
    let stranger = server.login_as("worker5").await;
    let (status, reason) = push_one(&server, &stranger, &action(&id, "resolve", "已处理", None)).await;
    assert_eq!(status, "rejected");
    assert!(reason.contains("不在您负责的网格"), "{reason}");
    // A lead's action from a phone is refused; an empty resolution too.
    let (status, _) = push_one(&server, &worker, &action(&id, "close", "", None)).await;
    assert_eq!(status, "rejected");
    let (status, reason) = push_one(&server, &worker, &action(&id, "resolve", " ", None)).await;
    assert_eq!((status.as_str(), reason.as_str()), ("rejected", "请填写办理结果"));
    let long = "很".repeat(1001);
    let (status, reason) = push_one(&server, &worker, &action(&id, "note", &long, None)).await;
    assert_eq!(status, "rejected");
    assert!(reason.contains("1000"), "{reason}");
    assert_eq!(request_field(&server, &id, "status").await, "received");
}

/// A resident submits from the public page without an account: it lands as
/// 待受理 for the lead, the receipt code shows its state and the reply only,
/// and a phone number may submit three a day.
#[tokio::test]
async fn a_residents_submission_lands_for_the_lead_and_the_receipt_shows_the_reply() {
    let server = TestServer::start().await;
    let community = server.community_of("lead1").await;
    let resident = server.client();
    // The way in is next to the community's notices.
    let (_, notices) = get(&server, &resident, &format!("/n/{community}")).await;
    assert!(notices.contains(&format!("/n/{community}/requests/new")));
    let submit = |text: &'static str| {
        resident
            .post(server.url(&format!("/n/{community}/requests/new")))
            .form(&[
                ("category", "environment"),
                ("text", text),
                ("phone", "13912345678"),
                ("building", ""),
            ])
            .send()
    };
    let page = submit("小区北门垃圾堆放").await.unwrap();
    assert_eq!(page.status(), 201);
    let page = page.text().await.unwrap();
    let code: String = page
        .split("class=\"code\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the receipt code is shown")
        .to_owned();
    let id = server
        .scalar(
            "SELECT id FROM requests WHERE source = 'public' AND text = $1",
            "小区北门垃圾堆放",
        )
        .await;
    assert_eq!(request_field(&server, &id, "status").await, "received");
    assert_eq!(request_field(&server, &id, "community_id").await, community);

    let lead = server.login_as("lead1").await;
    let (_, ledger) = get(&server, &lead, "/manage/requests?status=received").await;
    assert!(ledger.contains("小区北门垃圾堆放"));
    assert_eq!(
        lead_acts(
            &server,
            &lead,
            &id,
            &[("action", "decline"), ("note", "属市政道路，已转城管")]
        )
        .await
        .0,
        303
    );
    let (status, receipt) = get(&server, &resident, &format!("/status?code={code}")).await;
    assert_eq!(status, 200);
    assert!(
        receipt.contains("不予受理") && receipt.contains("属市政道路，已转城管"),
        "{receipt}"
    );
    assert!(!receipt.contains("小区北门垃圾堆放"), "the page never repeats the text");
    assert!(!receipt.contains("13912345678"));
    assert_eq!(get(&server, &resident, "/status?code=0000").await.0, 400);
    let unknown = uuid::Uuid::new_v4().simple().to_string();
    assert_eq!(get(&server, &resident, &format!("/status?code={unknown}")).await.0, 404);

    assert_eq!(submit("第二件").await.unwrap().status(), 201);
    assert_eq!(submit("第三件").await.unwrap().status(), 201);
    assert_eq!(submit("第四件").await.unwrap().status(), 429, "three a day per phone");
    assert_eq!(
        server
            .scalar(
                "SELECT CAST(COUNT(*) AS TEXT) FROM requests WHERE contact_phone = $1",
                "13912345678"
            )
            .await,
        "3"
    );
}

/// Several households report one broken lift: the lead merges the duplicates,
/// and each receipt shows the one outcome.
#[tokio::test]
async fn merged_duplicates_share_one_outcome() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let lead = server.login_as("lead1").await;
    let (household, _) = server.household_in("第1网格").await;
    let (main, duplicate) = (new_id(), new_id());
    push_one(&server, &worker, &visit_raising(&household, &main, "3号楼电梯停运")).await;
    let receipt = uuid::Uuid::new_v4().simple().to_string();
    let desk = json!({"op_id": new_id(), "created_at": app::clock::now_ms(), "change": {"raise_request": {
        "id": duplicate, "source": "phone", "household_id": household, "category": "property",
        "text": "电梯又坏了", "receipt": receipt}}});
    assert_eq!(push_one(&server, &worker, &desk).await.0, "applied");
    assert_eq!(
        lead_acts(
            &server,
            &lead,
            &duplicate,
            &[("action", "merge"), ("merge_into", &duplicate)]
        )
        .await
        .0,
        400,
        "not into itself"
    );
    assert_eq!(
        lead_acts(
            &server,
            &lead,
            &duplicate,
            &[("action", "merge"), ("merge_into", &main)]
        )
        .await
        .0,
        303
    );
    assert_eq!(
        lead_acts(&server, &lead, &main, &[("action", "resolve"), ("note", "电梯已修复")])
            .await
            .0,
        303
    );
    let (_, page) = get(&server, &server.client(), &format!("/status?code={receipt}")).await;
    assert!(page.contains("电梯已修复") && page.contains("合并办理"), "{page}");
}

/// The public figures match the ledger and carry no personal data.
#[tokio::test]
async fn public_figures_count_by_category_and_name_no_one() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let lead = server.login_as("lead1").await;
    let (household, _) = server.household_in("第1网格").await;
    for n in 0..3 {
        let id = new_id();
        push_one(
            &server,
            &worker,
            &visit_raising(&household, &id, &format!("独居老人需要助餐{n}")),
        )
        .await;
        if n == 0 {
            lead_acts(&server, &lead, &id, &[("action", "resolve"), ("note", "已对接助餐点")]).await;
        }
    }
    let community = server.community_of("lead1").await;
    let (status, page) = get(&server, &server.client(), &format!("/n/{community}/requests")).await;
    assert_eq!(status, 200);
    let page = page.replace("<!>", "");
    let (start, end) = this_quarter();
    let received: String = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS TEXT) FROM requests
         WHERE community_id = $1 AND category = 'livelihood' AND created_at >= $2 AND created_at < $3",
    )
    .bind(&community)
    .bind(start)
    .bind(end)
    .fetch_one(&server.pool)
    .await
    .unwrap();
    assert!(
        page.contains(&format!("<td>民生</td><td class=\"num\">{received}</td>")),
        "{page}"
    );
    assert!(!page.contains("独居老人") && !page.contains("已对接助餐点") && !page.contains("网格员"));
    // The lead's draft notice carries the same numbers.
    let draft = lead
        .post(server.url("/manage/requests/figures/notice"))
        .form(&[("quarter", &gridwalk_server_quarter())])
        .send()
        .await
        .unwrap();
    assert_eq!(draft.status(), 303);
    let body = server
        .scalar(
            "SELECT body FROM notices WHERE category = $1 ORDER BY created_at DESC LIMIT 1",
            "affairs",
        )
        .await;
    assert!(body.contains(&format!("| 民生 | {received} |")), "{body}");
}

const BEIJING: i64 = 8 * 3_600_000;

fn gridwalk_server_quarter() -> String {
    let today = app::domain::CivilDate::from_epoch_ms(app::clock::now_ms() + BEIJING);
    format!("{}Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

/// This quarter's first and next quarter's first Beijing midnight.
fn this_quarter() -> (i64, i64) {
    let today = app::domain::CivilDate::from_epoch_ms(app::clock::now_ms() + BEIJING);
    let first = (today.month() - 1) / 3 * 3 + 1;
    let start = app::domain::CivilDate::new(today.year(), first, 1).unwrap();
    let end = match first {
        10 => app::domain::CivilDate::new(today.year() + 1, 1, 1),
        _ => app::domain::CivilDate::new(today.year(), first + 3, 1),
    }
    .unwrap();
    let at = |d: app::domain::CivilDate| d.epoch_day() * 86_400_000 - BEIJING;
    (at(start), at(end))
}

/// A rating code made on a phone more than 14 days ago (synced late) has
/// expired: 410, and the request is left as it was.
#[tokio::test]
async fn an_expired_rating_code_is_gone() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (household, _) = server.household_in("第1网格").await;
    let id = new_id();
    push_one(&server, &worker, &visit_raising(&household, &id, "单元门坏了")).await;
    push_one(&server, &worker, &action(&id, "resolve", "已修好", None)).await;
    let token = uuid::Uuid::new_v4().simple().to_string();
    let made = app::clock::now_ms() - 15 * app::clock::DAY_MS;
    let register = json!({"op_id": new_id(), "created_at": made,
        "change": {"rating_token": {"request_id": id, "token": token}}});
    assert_eq!(push_one(&server, &worker, &register).await.0, "applied");
    let resident = server.client();
    let (status, page) = get(&server, &resident, &format!("/rate/{token}")).await;
    assert_eq!(status, 410);
    assert!(page.contains("已过期"), "{page}");
    let rated = resident
        .post(server.url(&format!("/rate/{token}")))
        .form(&[("satisfaction", "satisfied")])
        .send()
        .await
        .unwrap();
    assert_eq!(rated.status(), 410);
    assert_eq!(request_field(&server, &id, "status").await, "resolved");
    // A code nobody registered is not found; a malformed one too.
    let unknown = uuid::Uuid::new_v4().simple().to_string();
    assert_eq!(get(&server, &resident, &format!("/rate/{unknown}")).await.0, 404);
    assert_eq!(get(&server, &resident, "/rate/not-a-code").await.0, 404);
}

/// A small JPEG, as a camera would send it (without the metadata).
fn jpeg(seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(320, 240, |x, y| image::Rgb([x as u8 ^ seed, y as u8, seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// At the desk: a resident's request with the photo they brought; the lead
/// is its first contact, the photo is on its timeline and served to the lead;
/// a file that is no photo is refused with the form and the reason.
#[tokio::test]
async fn the_desk_takes_a_request_with_photos() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let grid = server.scalar("SELECT id FROM grids WHERE name = $1", "第1网格").await;
    let form = |photo: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("source", "walk_in")
            .text("grid", grid.clone())
            .text("place", "3号楼地下室")
            .text("phone", "")
            .text("category", "safety")
            .text("text", "地下室积水，电线泡在水里")
            .part("photo", reqwest::multipart::Part::bytes(photo).file_name("a.jpg"))
    };
    let refused = lead
        .post(server.url("/manage/requests/new"))
        .multipart(form(b"not a photo at all".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 415);
    assert!(
        refused.text().await.unwrap().contains("地下室积水"),
        "the form keeps what was typed"
    );

    let page = lead
        .post(server.url("/manage/requests/new"))
        .multipart(form(jpeg(9)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("回执码"));
    let id = server
        .scalar("SELECT id FROM requests WHERE text = $1", "地下室积水，电线泡在水里")
        .await;
    assert_eq!(
        request_field(&server, &id, "first_contact").await,
        worker_id(&server, "lead1").await
    );
    let photo = server
        .scalar("SELECT photo FROM request_photos WHERE request_id = $1", &id)
        .await;
    let (_, detail) = get(&server, &lead, &format!("/manage/requests/{id}")).await;
    assert!(detail.contains(&format!("/api/photos/{photo}/thumb")));
    assert_eq!(get(&server, &lead, &format!("/api/photos/{photo}/thumb")).await.0, 200);
    // Not to a worker of another grid.
    let stranger = server.login_as("worker5").await;
    assert_eq!(get(&server, &stranger, &format!("/api/photos/{photo}")).await.0, 404);
}
