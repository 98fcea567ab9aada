//! Coverage, the overdue list and the visit ledger, on households whose answers
//! are worked out by hand; visit policies as data.

// Shared fixtures; this file does not need every helper.
#[allow(dead_code)]
mod common;

use common::TestServer;
use reqwest::StatusCode;

const DAY: i64 = 86_400_000;

/// Three households of grid 1 with living residents, made to a known state.
async fn fixture(server: &TestServer) -> [String; 3] {
    let grid: String = server.scalar("SELECT id FROM grids WHERE name = $1", "第1网格").await;
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id
         WHERE b.grid_id = $1 AND EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id AND NOT r.moved_out)
         ORDER BY h.id LIMIT 3",
    )
    .bind(&grid)
    .fetch_all(&server.pool)
    .await
    .unwrap();
    let worker: String = server
        .scalar("SELECT id FROM users WHERE username = $1", "worker1")
        .await;
    // Noon Beijing time today, so "N days ago" is never near a day boundary.
    let now = app::clock::now_ms();
    let noon = (now + 8 * 3_600_000).div_euclid(DAY) * DAY - 8 * 3_600_000 + 12 * 3_600_000;
    let plan = [
        ("elderly_alone", Some(9)),
        ("disabled", None),
        ("elderly_alone", Some(2)),
    ];
    for ((id,), (tag, days_ago)) in ids.iter().zip(plan) {
        for sql in [
            "DELETE FROM requests WHERE household_id = $1",
            "DELETE FROM visit_residents WHERE visit_id IN (SELECT id FROM visits WHERE household_id = $1)",
            "DELETE FROM visit_concerns WHERE visit_id IN (SELECT id FROM visits WHERE household_id = $1)",
            "DELETE FROM visits WHERE household_id = $1",
            "DELETE FROM resident_tags WHERE resident_id IN (SELECT id FROM residents WHERE household_id = $1)",
        ] {
            sqlx::query(sql).bind(id).execute(&server.pool).await.unwrap();
        }
        sqlx::query(
            "INSERT INTO resident_tags (resident_id, tag)
             SELECT id, $2 FROM residents WHERE household_id = $1 AND NOT moved_out LIMIT 1",
        )
        .bind(id)
        .bind(tag)
        .execute(&server.pool)
        .await
        .unwrap();
        if let Some(days) = days_ago {
            sqlx::query(
                "INSERT INTO visits (id, household_id, worker_id, visited_at, visit_type, outcome, notes, created_at)
                 VALUES ($1, $2, $3, $4, 'routine', 'met', '测试, 含逗号', $4)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(id)
            .bind(&worker)
            .bind(noon.min(now) - days * DAY)
            .execute(&server.pool)
            .await
            .unwrap();
        }
    }
    [ids[0].0.clone(), ids[1].0.clone(), ids[2].0.clone()]
}

/// The overdue list item of a household, if it is listed.
fn item<'a>(page: &'a str, household: &str) -> Option<&'a str> {
    let at = page.find(&format!("href=\"/households/{household}\""))?;
    let end = page[at..].find("</li>").map_or(page.len(), |e| at + e);
    Some(&page[at..end])
}

async fn text(client: &reqwest::Client, server: &TestServer, path: &str) -> (StatusCode, String) {
    let response = client.get(server.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn overdue_key_households_by_their_strictest_cadence() {
    let server = TestServer::start().await;
    let [nine_days, never, two_days] = fixture(&server).await;
    let lead = server.login_as("lead1").await;
    let (status, page) = text(&lead, &server, "/manage/coverage").await;
    assert_eq!(status, StatusCode::OK);
    // Weekly cadence, visited 9 days ago: due 2 days ago.
    assert!(item(&page, &nine_days).unwrap().contains("逾期 2 天"));
    // Never visited comes before any overdue household.
    assert!(item(&page, &never).unwrap().contains("从未走访"));
    assert!(page.find(&never).unwrap() < page.find(&nine_days).unwrap());
    // Visited 2 days ago on a weekly cadence: not overdue.
    assert!(item(&page, &two_days).is_none());
    assert!(item(&page, &nine_days).unwrap().contains("独居老人"));
    // The map draws every building of the community, each linking to its matrix.
    let buildings: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM buildings b JOIN grids g ON g.id = b.grid_id
         WHERE g.community_id = (SELECT community_id FROM users WHERE username = 'lead1')",
    )
    .fetch_one(&server.pool)
    .await
    .unwrap();
    let map = &page[page.find("<svg class=\"map\"").unwrap()..];
    let map = &map[..map.find("</svg>").unwrap()];
    assert_eq!(map.matches("<a href=\"/buildings/").count() as i64, buildings);

    // The grid's figures: households and those visited in the last 30 days.
    let grid: String = server.scalar("SELECT id FROM grids WHERE name = $1", "第1网格").await;
    let households: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM households h JOIN buildings b ON b.id = h.building_id WHERE b.grid_id = $1",
    )
    .bind(&grid)
    .fetch_one(&server.pool)
    .await
    .unwrap();
    // The grid's name is its row's header and links to the page zoomed to it.
    let plain = page.replace("<!>", "");
    let row = &plain[plain
        .find(&format!("grid={grid}\">第1网格</a></th>"))
        .expect("the grid's row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(&format!("<td class=\"num\">{households}")), "{row}");
    // The community as a whole, below its grids.
    let community_households: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM households h JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
         WHERE g.community_id = (SELECT community_id FROM users WHERE username = 'lead1')",
    )
    .fetch_one(&server.pool)
    .await
    .unwrap();
    let total = &plain[plain.find("<th scope=\"row\">合计</th>").expect("a total row")..];
    assert!(
        total.starts_with(&format!(
            "<th scope=\"row\">合计</th><td class=\"num\">{community_households}<"
        )),
        "{total}"
    );

    // A looser policy for the elderly living alone: 9 days ago is no longer late.
    let worker = server.login_as("worker1").await;
    let refused = worker
        .post(server.url("/manage/policies"))
        .form(&[("elderly_alone", "10")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let admin = server.login_as("admin").await;
    let bad = admin
        .post(server.url("/manage/policies"))
        .form(&[("elderly_alone", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("1 到 366"));
    let saved = admin
        .post(server.url("/manage/policies"))
        .form(&[("elderly_alone", "10")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, page) = text(&lead, &server, "/manage/coverage").await;
    assert!(item(&page, &nine_days).is_none());
    assert!(item(&page, &never).is_some());
}

#[tokio::test]
async fn the_visit_ledger_matches_the_database_and_the_callers_grids() {
    let server = TestServer::start().await;
    fixture(&server).await;
    let now = app::clock::now_ms();
    let since = ((now + 8 * 3_600_000).div_euclid(DAY) - 29) * DAY - 8 * 3_600_000;

    for (user, filter) in [
        (
            "lead1",
            "g.community_id = (SELECT community_id FROM users WHERE username = 'lead1')",
        ),
        ("worker1", "g.name = '第1网格'"),
    ] {
        let client = server.login_as(user).await;
        let response = client
            .get(server.url("/manage/coverage/visits.csv?days=30"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
        let bytes = response.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            [
                "走访时间",
                "网格",
                "楼栋",
                "单元",
                "门牌",
                "走访类型",
                "走访结果",
                "网格员",
                "备注"
            ]
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let expected: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM visits v JOIN households h ON h.id = v.household_id
             JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
             WHERE v.visited_at >= $1 AND {filter}"
        ))
        .bind(since)
        .fetch_one(&server.pool)
        .await
        .unwrap();
        assert_eq!(rows.len() as i64, expected, "{user}");
        assert!(rows.iter().any(|r| &r[8] == "测试, 含逗号" && &r[5] == "常规走访"));
        if user == "worker1" {
            assert!(rows.iter().all(|r| &r[1] == "第1网格"));
        }
    }
    // Signed out: no ledger, the way to the login page instead.
    let anonymous = server.client();
    let response = anonymous
        .get(server.url("/manage/coverage/visits.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");
}

/// Visits and households of one worker in the coverage page's worker table.
fn worker_row(page: &str, name: &str) -> (i64, i64) {
    // Without the renderer's `<!>` markers.
    let page = page.replace("<!>", "");
    let table = &page[page.find("class=\"figures workers\"").expect("the worker table")..];
    let row = &table[table
        .find(&format!("<th scope=\"row\">{name}</th>"))
        .unwrap_or_else(|| panic!("no row for {name} in {}", &table[..table.len().min(600)]))..];
    let row = &row[..row.find("</tr>").unwrap()];
    let numbers: Vec<i64> = row
        .split("<td class=\"num\">")
        .skip(1)
        .map(|cell| cell[..cell.find('<').unwrap()].parse().unwrap())
        .collect();
    (numbers[0], numbers[1])
}

#[tokio::test]
async fn worker_figures_count_visits_from_the_periods_first_beijing_midnight() {
    let server = TestServer::start().await;
    let [household, other, _] = fixture(&server).await;
    let lead = server.login_as("lead1").await;
    let name: String = server
        .scalar("SELECT display_name FROM users WHERE username = $1", "worker1")
        .await;
    let worker: String = server
        .scalar("SELECT id FROM users WHERE username = $1", "worker1")
        .await;
    // The period of 7 days starts at Beijing midnight 6 days before today.
    let now = app::clock::now_ms();
    let since = ((now + 8 * 3_600_000).div_euclid(DAY) - 6) * DAY - 8 * 3_600_000;
    let (_, page) = text(&lead, &server, "/manage/coverage?days=7").await;
    let (visits, households) = worker_row(&page, &name);
    let expected: (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT household_id) FROM visits WHERE worker_id = $1 AND visited_at >= $2",
    )
    .bind(&worker)
    .bind(since)
    .fetch_one(&server.pool)
    .await
    .unwrap();
    assert_eq!((visits, households), expected);
    assert!(visits >= 1, "the fixture's visit 2 days ago");

    let visit = |at: i64, household: String| {
        let worker = worker.clone();
        let pool = server.pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO visits (id, household_id, worker_id, visited_at, visit_type, outcome, notes, created_at)
                 VALUES ($1, $2, $3, $4, 'routine', 'met', '', $4)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(household)
            .bind(worker)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    visit(since - 1, other.clone()).await;
    let (_, page) = text(&lead, &server, "/manage/coverage?days=7").await;
    assert_eq!(
        worker_row(&page, &name),
        (visits, households),
        "a visit before the period is not counted"
    );
    visit(since, household.clone()).await;
    visit(since + DAY, household).await;
    let (_, page) = text(&lead, &server, "/manage/coverage?days=7").await;
    assert_eq!(
        worker_row(&page, &name).0,
        visits + 2,
        "visits from the first midnight on count"
    );
    // Another community's lead sees none of these.
    let (_, page) = text(&server.login_as("lead2").await, &server, "/manage/coverage?days=7").await;
    assert!(
        !page
            .replace("<!>", "")
            .contains(&format!("<th scope=\"row\">{name}</th>"))
    );
}

/// Building, unit and door number of a household, as the ledgers write them.
async fn door_of(server: &TestServer, id: &str) -> (String, String, String) {
    let (building, unit, door): (String, i64, String) = sqlx::query_as(
        "SELECT b.name, h.unit, h.door_number FROM households h JOIN buildings b ON b.id = h.building_id
         WHERE h.id = $1",
    )
    .bind(id)
    .fetch_one(&server.pool)
    .await
    .unwrap();
    (building, unit.to_string(), door)
}

/// The rows of the first sheet of an XLSX download, header first, as text
/// (date-times as Excel serial numbers).
async fn xlsx_rows(client: &reqwest::Client, server: &TestServer, path: &str) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let response = client.get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = response.bytes().await.unwrap();
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = workbook.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Float(f) => format!("{f}"),
                    Data::DateTime(d) => format!("{}", d.as_f64()),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn xlsx_ledgers_read_back_match_the_database_and_follow_the_filters() {
    let server = TestServer::start().await;
    let [nine_days, never, two_days] = fixture(&server).await;
    let lead = server.login_as("lead1").await;
    let now = app::clock::now_ms();
    let since = ((now + 8 * 3_600_000).div_euclid(DAY) - 6) * DAY - 8 * 3_600_000;

    // The visit ledger of 7 days: every visit in the community, as the database has it.
    let rows = xlsx_rows(&lead, &server, "/manage/coverage/visits.xlsx?days=7").await;
    assert_eq!(rows[0][0], "走访时间");
    assert_eq!(rows[0][8], "备注");
    let expected: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT b.name, h.unit, h.door_number, v.notes FROM visits v JOIN households h ON h.id = v.household_id
         JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
         WHERE v.visited_at >= $1
           AND g.community_id = (SELECT community_id FROM users WHERE username = 'lead1')
         ORDER BY v.visited_at DESC",
    )
    .bind(since)
    .fetch_all(&server.pool)
    .await
    .unwrap();
    // Ties in time may come in either order: compare as sorted lists.
    let mut got: Vec<(String, String, String, String)> = rows[1..]
        .iter()
        .map(|r| (r[2].clone(), r[3].clone(), r[4].clone(), r[8].clone()))
        .collect();
    let mut want: Vec<(String, String, String, String)> = expected
        .into_iter()
        .map(|(b, u, d, n)| (b, u.to_string(), d, n))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // Real date-times (Excel serial numbers of days), not text.
    assert!(rows[1..].iter().all(|r| r[0].parse::<f64>().unwrap() > 45_000.0));

    // The coverage ledger of the elderly living alone in grid 1: the fixture's
    // two such households, one 2 days overdue on the weekly cadence, one fine.
    let grid: String = server.scalar("SELECT id FROM grids WHERE name = $1", "第1网格").await;
    let rows = xlsx_rows(
        &lead,
        &server,
        &format!("/manage/coverage/households.xlsx?days=30&grid={grid}&tag=elderly_alone"),
    )
    .await;
    assert_eq!(rows[0][8], "状态");
    let find = |key: &(String, String, String)| {
        rows.iter()
            .find(|r| (&r[1], &r[2], &r[3]) == (&key.0, &key.1, &key.2))
            .cloned()
    };
    let late = find(&door_of(&server, &nine_days).await).expect("9 days ago, weekly: listed");
    assert_eq!(
        (late[5].as_str(), late[8].as_str(), late[9].as_str()),
        ("7", "逾期2天", "2")
    );
    assert_eq!(late[7], "是", "visited within the 30 days");
    let fine = find(&door_of(&server, &two_days).await).expect("2 days ago: listed");
    assert_eq!(fine[8], "正常");
    assert!(
        find(&door_of(&server, &never).await).is_none(),
        "the disabled household is not in the key group"
    );
    let elderly_in_grid: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT h.id) FROM households h JOIN buildings b ON b.id = h.building_id
         JOIN residents r ON r.household_id = h.id JOIN resident_tags t ON t.resident_id = r.id
         WHERE b.grid_id = $1 AND NOT r.moved_out AND t.tag = 'elderly_alone'",
    )
    .bind(&grid)
    .fetch_one(&server.pool)
    .await
    .unwrap();
    assert_eq!(rows.len() as i64 - 1, elderly_in_grid);

    // A grid outside the caller's scope is not found; an unknown key group is refused.
    let other: String = sqlx::query_scalar(
        "SELECT g.id FROM grids g WHERE g.community_id <> (SELECT community_id FROM users WHERE username = 'lead1')",
    )
    .fetch_one(&server.pool)
    .await
    .unwrap();
    let response = lead
        .get(server.url(&format!("/manage/coverage/households.xlsx?grid={other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = lead
        .get(server.url("/manage/coverage?tag=aliens"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// The visit ledger's CSV rows as (grid, building, unit, door, worker, notes).
async fn csv_visits(client: &reqwest::Client, server: &TestServer, path: &str) -> Vec<[String; 6]> {
    let response = client.get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let bytes = response.bytes().await.unwrap();
    csv::Reader::from_reader(&bytes[3..])
        .records()
        .map(|r| {
            let r = r.unwrap();
            [&r[1], &r[2], &r[3], &r[4], &r[7], &r[8]].map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn a_ledger_longer_than_a_page_comes_whole_and_in_order() {
    let server = TestServer::start().await;
    let admin = server.login_as("admin").await;
    // Every visit three times, the copies at the same moment: several pages
    // (of 5,000 rows), and as every group of visits at one moment is a
    // multiple of three, the pages' edges at 5,000 and 10,000 fall inside one.
    for copy in ["-copy1", "-copy2"] {
        sqlx::query(
            "INSERT INTO visits (id, household_id, worker_id, visited_at, visit_type, outcome, notes, created_at)
             SELECT id || $1, household_id, worker_id, visited_at, visit_type, outcome, notes, created_at
             FROM visits WHERE id NOT LIKE '%-copy%'",
        )
        .bind(copy)
        .execute(&server.pool)
        .await
        .unwrap();
    }
    // Newest first, ties in time by id: the order the pages are cut in.
    let sql = "SELECT g.name, b.name, h.unit, h.door_number, u.display_name, v.notes
         FROM visits v JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = h.building_id
           JOIN grids g ON g.id = b.grid_id JOIN users u ON u.id = v.worker_id
         WHERE v.visited_at >= $1 AND ($2 = '' OR h.id IN (
           SELECT r.household_id FROM residents r JOIN resident_tags t ON t.resident_id = r.id
           WHERE t.tag = $2 AND NOT r.moved_out))
         ORDER BY v.visited_at DESC, v.id";
    let since = app::clock::now_ms() - 400 * DAY;
    for (tag, query) in [("", ""), ("empty_nest", "&tag=empty_nest")] {
        let want: Vec<(String, String, i64, String, String, String)> = sqlx::query_as(sql)
            .bind(since)
            .bind(tag)
            .fetch_all(&server.pool)
            .await
            .unwrap();
        let want: Vec<[String; 6]> = want
            .into_iter()
            .map(|(g, b, u, d, w, n)| [g, b, u.to_string(), d, w, n])
            .collect();
        let got = csv_visits(&admin, &server, &format!("/manage/coverage/visits.csv?days=366{query}")).await;
        assert_eq!(got.len(), want.len(), "{tag}");
        assert!(got == want, "{tag}: the rows differ from the database's order");
        if tag.is_empty() {
            assert!(got.len() > 10_000, "more than two pages of 5,000: {}", got.len());
        }
    }
}
