//! Importing a community's ledgers over real HTTP on either engine: messy
//! files built here the way real ledgers are (a title row above the header,
//! columns named and ordered differently, an ID number Excel turned into a
//! number, dates in four spellings, full-width digits, a hidden sheet,
//! trailing empty rows, the same person twice, someone who moved), the dry
//! run's exact row errors and its downloadable report, the fixed file
//! imported in one go, phones receiving it by pull, and the same file again
//! changing nothing.

// Shared fixtures; this file does not need every helper.
#[allow(dead_code)]
mod common;

use app::domain::IdCardNumber;
use common::TestServer;
use rust_xlsxwriter::{Format, Workbook};

/// A valid ID number for a birth date like "19850312" and a sequence.
fn id_number(birth: &str, seq: u32) -> String {
    IdCardNumber::with_check_char(&format!("110105{birth}{seq:03}"))
        .unwrap()
        .as_str()
        .to_owned()
}

/// A workbook as a street office keeps it: a hidden sheet first, a merged
/// title row, then the header and the rows, then empty rows.
fn ledger(header: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let hidden = book.add_worksheet().set_name("旧表").unwrap();
    hidden.write(0, 0, "姓名").unwrap();
    hidden.write(0, 1, "身份证号").unwrap();
    hidden.set_hidden(true);
    let sheet = book.add_worksheet().set_name("台账").unwrap();
    let title = Format::new().set_bold();
    sheet
        .merge_range(0, 0, 0, header.len() as u16 - 1, "东风社区 2026 年台账", &title)
        .unwrap();
    for (c, h) in header.iter().enumerate() {
        sheet.write(1, c as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 2;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => sheet.write(r, c, t.as_str()).map(|_| ()).unwrap(),
                Cell::Number(n) => sheet.write(r, c, *n).map(|_| ()).unwrap(),
                Cell::Serial(n) => sheet.write_number_with_format(r, c, *n, &date).map(|_| ()).unwrap(),
                Cell::Empty => {}
            }
        }
    }
    // Empty rows a ledger trails (formatted, so the sheet's range covers them).
    sheet.write(rows.len() as u32 + 6, 0, "").unwrap();
    book.save_to_buffer().unwrap()
}

enum Cell {
    Text(String),
    Number(f64),
    Serial(f64),
    Empty,
}

fn t(text: &str) -> Cell {
    Cell::Text(text.to_owned())
}

async fn upload(
    server: &TestServer,
    client: &reqwest::Client,
    kind: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, String) {
    let form = reqwest::multipart::Form::new().text("kind", kind.to_owned()).part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let response = client
        .post(server.url("/manage/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    // Without the renderer's hydration markers, as a person reads it.
    (
        response.status().as_u16(),
        response.text().await.unwrap().replace("<!>", ""),
    )
}

/// The confirmation form's upload id on a dry run's page.
fn upload_id(page: &str) -> String {
    let at = page.find("action=\"/manage/import/").expect("a confirmation form") + "action=\"/manage/import/".len();
    page[at..at + 36].to_owned()
}

async fn confirm(server: &TestServer, client: &reqwest::Client, page: &str) -> (u16, String) {
    let response = client
        .post(server.url(&format!("/manage/import/{}", upload_id(page))))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A query's one number (`scalar` reads text).
async fn count(server: &TestServer, sql: &str, bind: &str) -> i64 {
    server
        .scalar(&format!("SELECT CAST(({sql}) AS TEXT)"), bind)
        .await
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_lead_imports_territory_residents_and_staff_from_messy_ledgers() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let community_id = server.community_of("lead1").await;
    let community = server
        .scalar("SELECT name FROM communities WHERE id = $1", &community_id)
        .await;
    let other = server
        .scalar(
            "SELECT name FROM communities WHERE id <> $1 ORDER BY name LIMIT 1",
            &community_id,
        )
        .await;

    // Territory: a new grid with a new building of four doors (two on floor
    // 2 named with full-width digits), and a row naming another community.
    let header = ["所属社区", "网格名称", "楼号", "单元号", "门牌号", "总层数"];
    let rows = vec![
        vec![
            t(&community),
            t("第七网格"),
            t("锦绣园7栋"),
            Cell::Number(1.0),
            Cell::Number(101.0),
            Cell::Number(6.0),
        ],
        vec![
            t(&community),
            t("第七网格"),
            t("锦绣园7栋"),
            Cell::Number(1.0),
            t("102"),
            Cell::Empty,
        ],
        vec![
            t(&community),
            t("第七网格"),
            t("锦绣园7栋"),
            t("1单元"),
            t("２０１"),
            Cell::Empty,
        ],
        vec![
            t(&community),
            t("第七网格"),
            t("锦绣园7栋"),
            Cell::Number(1.0),
            t("202室"),
            Cell::Empty,
        ],
        vec![
            t(&other),
            t("第七网格"),
            t("锦绣园7栋"),
            Cell::Number(1.0),
            t("301"),
            Cell::Empty,
        ],
    ];
    let (status, page) = upload(&server, &lead, "territory", "房屋台账.xlsx", ledger(&header, &rows)).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains(&format!("「{other}」不是您负责的社区")), "{page}");
    assert!(page.contains("有问题 1"), "{page}");
    assert!(!page.contains("确认导入"), "nothing is written while a row is refused");
    let (status, page) = upload(
        &server,
        &lead,
        "territory",
        "房屋台账.xlsx",
        ledger(&header, &rows[..4]),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("将新建 4 · 更新 0 · 不变 0 · 有问题 0"), "{page}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM grids WHERE name = $1", "第七网格").await,
        0,
        "a dry run writes nothing"
    );
    let (status, done) = confirm(&server, &lead, &page).await;
    assert_eq!(status, 200, "{done}");
    let building = server
        .scalar("SELECT id FROM buildings WHERE name = $1", "锦绣园7栋")
        .await;
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM households WHERE building_id = $1",
            &building
        )
        .await,
        4
    );
    let floor_of = |door: &'static str| {
        let building = building.clone();
        let server = &server;
        async move {
            server
                .scalar(
                    &format!(
                        "SELECT CAST(floor AS TEXT) FROM households WHERE building_id = $1 AND door_number = '{door}'"
                    ),
                    &building,
                )
                .await
        }
    };
    assert_eq!(floor_of("101").await, "1");
    assert_eq!(
        floor_of("201").await,
        "2",
        "full-width digits read, the floor from the door"
    );
    assert_eq!(floor_of("202").await, "2", "202室 is door 202");
    assert_eq!(
        count(
            &server,
            "SELECT CAST(floors AS BIGINT) FROM buildings WHERE id = $1",
            &building
        )
        .await,
        6
    );
    // Confirmed once: the upload is gone.
    assert_eq!(confirm(&server, &lead, &page).await.0, 404);
    // The same file again: nothing to do.
    let (status, page) = upload(
        &server,
        &lead,
        "territory",
        "房屋台账.xlsx",
        ledger(&header, &rows[..4]),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("将新建 0 · 更新 0 · 不变 4"), "{page}");
    assert!(page.contains("没有需要导入的内容"));

    // A surveyed outline replaces the plain-grid place; unknown names are listed.
    let laid_out = server
        .scalar("SELECT footprint FROM buildings WHERE id = $1", &building)
        .await;
    assert!(laid_out.starts_with(r#"{"type":"Polygon""#), "{laid_out}");
    let geojson = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"楼栋名称":"锦绣园7栋","网格":"第七网格"},"geometry":{"type":"Polygon",
         "coordinates":[[[120.2,30.3],[120.2003,30.3],[120.2003,30.3001],[120.2,30.3001],[120.2,30.3]]]}},
        {"type":"Feature","properties":{"name":"没有这栋楼"},"geometry":{"type":"Polygon",
         "coordinates":[[[120.2,30.3],[120.2003,30.3],[120.2003,30.3001],[120.2,30.3]]]}}]}"#;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(geojson.as_bytes().to_vec()).file_name("楼栋.geojson"),
    );
    let response = lead
        .post(server.url("/manage/import/footprints"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap().replace("<!>", "");
    assert!(
        page.contains("已更新 1 栋楼的轮廓") && page.contains("没有这栋楼"),
        "{page}"
    );
    let surveyed = server
        .scalar("SELECT footprint FROM buildings WHERE id = $1", &building)
        .await;
    assert!(surveyed.contains("[120.200300,30.300000]"), "{surveyed}");

    // Residents, columns in another order and named otherwise.
    let moving = server
        .scalar(
            "SELECT r.id_number FROM residents r JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id
             JOIN grids g ON g.id = b.grid_id WHERE g.community_id = $1 AND r.id_number IS NOT NULL ORDER BY r.id LIMIT 1",
            &community_id,
        )
        .await;
    let moving_name = server
        .scalar("SELECT name FROM residents WHERE id_number = $1", &moving)
        .await;
    let header = [
        "居民姓名",
        "公民身份号码",
        "性别",
        "出生年月日",
        "手机号",
        "人员类型",
        "重点人群",
        "楼栋名称",
        "单元",
        "房号",
    ];
    let a = id_number("19500312", 12);
    let b = id_number("19851224", 23);
    let rows = vec![
        // 3: clean, a date typed with dots.
        vec![
            t("王秀英"),
            t(&a),
            t("女"),
            t("1950.3.12"),
            t("１３９００００１１１１"),
            t("户籍人口"),
            t("独居老人、低保"),
            t("锦绣园7栋"),
            Cell::Number(1.0),
            Cell::Number(101.0),
        ],
        // 4: the ID number Excel made a number: refused with how to fix it.
        vec![
            t("李强"),
            Cell::Number(1.10105198512e17),
            t("男"),
            Cell::Empty,
            Cell::Empty,
            t("常住"),
            Cell::Empty,
            t("锦绣园7栋"),
            Cell::Number(1.0),
            t("102"),
        ],
        // 5: a date as an Excel date, 年月日 elsewhere.
        vec![
            t("张伟"),
            t(&b),
            t("男"),
            Cell::Serial(31405.0),
            Cell::Empty,
            t("流动"),
            Cell::Empty,
            t("锦绣园7栋"),
            Cell::Number(1.0),
            t("201"),
        ],
        // 6: the same person as row 3.
        vec![
            t("王秀英"),
            t(&a),
            t("女"),
            t("1950年3月12日"),
            Cell::Empty,
            t("户籍"),
            Cell::Empty,
            t("锦绣园7栋"),
            Cell::Number(1.0),
            t("202"),
        ],
        // 7: a building that does not exist.
        vec![
            t("赵六"),
            Cell::Empty,
            t("男"),
            t("1990-01-02"),
            Cell::Empty,
            t("租户"),
            Cell::Empty,
            t("99号楼"),
            Cell::Number(1.0),
            t("101"),
        ],
        // 8: someone already registered elsewhere in the community: a move.
        vec![
            t(&moving_name),
            t(&moving),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            t("常住"),
            Cell::Empty,
            t("锦绣园7栋"),
            Cell::Number(1.0),
            t("202"),
        ],
    ];
    let (status, page) = upload(&server, &lead, "residents", "居民.xlsx", ledger(&header, &rows)).await;
    assert_eq!(status, 422, "{page}");
    let refused: Vec<u32> = [4, 6, 7]
        .into_iter()
        .filter(|n| page.contains(&format!("<tr><td>{n}</td>")))
        .collect();
    assert_eq!(refused, [4, 6, 7], "{page}");
    assert!(page.contains("身份证号被 Excel 存成了数字"), "{page}");
    assert!(page.contains("与第3行是同一人"), "{page}");
    assert!(page.contains("没有找到楼栋「99号楼」"), "{page}");
    assert!(
        page.contains(&format!("{moving_name}：从")),
        "the move is shown: {page}"
    );
    assert!(page.contains("有问题 3"));
    // The report to fix: only the refused rows, each with its reason first.
    let report = lead
        .get(server.url(&format!("/manage/import/{}/errors.xlsx", report_id(&page))))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let bytes = report.bytes().await.unwrap();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = calamine::Reader::worksheet_range_at(&mut book, 0).unwrap().unwrap();
    let cells: Vec<String> = range.rows().map(|r| r[0].to_string()).collect();
    assert_eq!(cells.len(), 4, "header and three rows: {cells:?}");
    assert!(cells[1].contains("Excel"), "{cells:?}");

    // Fixed: the ID typed as text, the duplicate and the unknown building gone.
    let c = id_number("19851201", 33);
    let mut fixed: Vec<Vec<Cell>> = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        match i {
            1 => fixed.push(vec![
                t("李强"),
                t(&c),
                t("男"),
                Cell::Empty,
                Cell::Empty,
                t("常住"),
                Cell::Empty,
                t("锦绣园7栋"),
                Cell::Number(1.0),
                t("102"),
            ]),
            3 | 4 => {}
            _ => fixed.push(row),
        }
    }
    let file = ledger(&header, &fixed);
    let (status, page) = upload(&server, &lead, "residents", "居民.xlsx", file.clone()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("将新建 3 · 更新 1 · 不变 0 · 有问题 0"), "{page}");
    let cursor = server
        .scalar(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM changes WHERE $1 = ''",
            "",
        )
        .await;
    // A worker of the grid the mover leaves, whose phone must drop them.
    let left_behind = server
        .scalar(
            "SELECT u.username FROM residents r JOIN households h ON h.id = r.household_id
             JOIN buildings b ON b.id = h.building_id JOIN user_grids ug ON ug.grid_id = b.grid_id
             JOIN users u ON u.id = ug.user_id WHERE r.id_number = $1 ORDER BY u.username LIMIT 1",
            &moving,
        )
        .await;
    let (status, _) = confirm(&server, &lead, &page).await;
    assert_eq!(status, 200);
    assert_eq!(
        server
            .scalar("SELECT registration_type FROM residents WHERE id_number = $1", &a)
            .await,
        "registered"
    );
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM resident_tags t JOIN residents r ON r.id = t.resident_id WHERE r.id_number = $1",
            &a
        )
        .await,
        2
    );
    assert_eq!(
        server
            .scalar("SELECT birth_date FROM residents WHERE id_number = $1", &b)
            .await,
        "1985-12-24"
    );
    assert_eq!(
        server
            .scalar("SELECT phone FROM residents WHERE id_number = $1", &a)
            .await,
        "13900001111"
    );
    let moved_to = server
        .scalar(
            "SELECT h.door_number FROM residents r JOIN households h ON h.id = r.household_id WHERE r.id_number = $1",
            &moving,
        )
        .await;
    assert_eq!(moved_to, "202");
    // Imported changes are in the change feed.
    assert!(
        count(
            &server,
            "SELECT COUNT(*) FROM changes WHERE seq > CAST($1 AS BIGINT)",
            &cursor
        )
        .await
            >= 4
    );
    let mover = server
        .scalar("SELECT id FROM residents WHERE id_number = $1", &moving)
        .await;
    let phone = server.login_as(&left_behind).await;
    let pulled = server
        .get_json(&phone, &format!("/api/sync/pull?cursor={cursor}&limit=5000"))
        .await;
    assert!(
        pulled["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["entity"] == "removed" && r["record"] == "resident" && r["id"] == mover.as_str()),
        "the grid left drops the mover: {pulled}"
    );
    // Again: nothing changes.
    let (_, page) = upload(&server, &lead, "residents", "居民.xlsx", file).await;
    assert!(page.contains("将新建 0 · 更新 0 · 不变 4"), "{page}");

    // Staff: a worker for the new grid, who pulls it.
    let header = ["登录名", "姓名", "岗位", "负责网格"];
    let rows = vec![vec![t("Zhou.Qi"), t("周琪"), t("专职网格员"), t("第七网格")]];
    let (status, page) = upload(&server, &lead, "staff", "人员.csv.xlsx", ledger(&header, &rows)).await;
    assert_eq!(status, 200, "{page}");
    let (_, done) = confirm(&server, &lead, &page).await;
    let once = common::shown_password(&done);
    let worker = server.client();
    let login = worker
        .post(server.url("/login"))
        .form(&[("username", "zhou.qi"), ("password", once.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(login.headers()["location"], "/account/password");
    worker
        .post(server.url("/account/password"))
        .form(&[
            ("current", once.as_str()),
            ("new", "周琪走访第七网格"),
            ("repeat", "周琪走访第七网格"),
        ])
        .send()
        .await
        .unwrap();
    let pulled = server.get_json(&worker, "/api/sync/pull?cursor=0&limit=500").await;
    let records = pulled["records"].as_array().unwrap();
    let households = records.iter().filter(|r| r["building_id"] == building.as_str()).count();
    assert_eq!(households, 4, "{}", pulled["scope"]);
    assert_eq!(
        records.iter().filter(|r| r["entity"] == "resident").count(),
        4,
        "three new residents and the one who moved in"
    );
}

#[tokio::test]
async fn a_lead_imports_in_service_party_members_and_the_same_file_again_changes_nothing() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let community = server
        .scalar(
            "SELECT name FROM communities WHERE id = $1",
            &server.community_of("lead1").await,
        )
        .await;
    // Headers as a unit's list writes them; a mobile typed as a number, a
    // full-width rank, an Excel date, a landline without its dash.
    let header = [
        "序号",
        "姓名",
        "单位",
        "党组织",
        "职级",
        "联系电话",
        "所在党支部",
        "党小组",
        "报到时间",
    ];
    let rows = vec![
        vec![
            Cell::Number(1.0),
            t("钱学文"),
            t("区财政局"),
            t("区财政局机关党委"),
            t("党委（党组）成员"),
            Cell::Number(13912345678.0),
            t("第一党支部"),
            t("报到党员小组"),
            Cell::Serial(46082.0),
        ],
        vec![
            Cell::Number(2.0),
            t("孙晓燕"),
            t("区财政局"),
            Cell::Empty,
            t("其他党员"),
            t("057187650000"),
            t("第一党支部"),
            Cell::Empty,
            Cell::Empty,
        ],
        // Refused: a rank nobody knows, a phone that is not one, the same
        // person twice, a date to come, a community that is not the lead's.
        vec![
            Cell::Number(3.0),
            t("郑一"),
            t("区财政局"),
            Cell::Empty,
            t("科长"),
            t("13912340000"),
            t("第一党支部"),
            Cell::Empty,
            Cell::Empty,
        ],
        vec![
            Cell::Number(4.0),
            t("郑二"),
            t("区财政局"),
            Cell::Empty,
            t("其他党员"),
            t("12345"),
            t("第一党支部"),
            Cell::Empty,
            Cell::Empty,
        ],
        vec![
            Cell::Number(5.0),
            t("孙晓燕"),
            t("区财政局"),
            Cell::Empty,
            t("其他党员"),
            t("0571-87650000"),
            t("第一党支部"),
            Cell::Empty,
            Cell::Empty,
        ],
        vec![
            Cell::Number(6.0),
            t("郑三"),
            t("区财政局"),
            Cell::Empty,
            t("其他党员"),
            t("13912340003"),
            t("第一党支部"),
            Cell::Empty,
            t("2099-01-01"),
        ],
    ];
    let (status, page) = upload(&server, &lead, "party", "报到党员.xlsx", ledger(&header, &rows)).await;
    assert_eq!(status, 422, "rows refused");
    assert!(page.contains("不认识的职级类别“科长”"), "{page}");
    assert!(page.contains("工作电话应为11位手机号"), "{page}");
    assert!(page.contains("与第4行是同一人"), "{page}");
    assert!(page.contains("报到日期不能晚于今天"), "{page}");
    assert!(
        !page.contains("action=\"/manage/import/"),
        "refused rows: nothing to confirm"
    );

    // The fixed file: the first two rows, and the community named.
    let mut fixed: Vec<Vec<Cell>> = rows.into_iter().take(2).collect();
    let header = [&header[..], &["社区"]].concat();
    for row in &mut fixed {
        row.push(t(&community));
    }
    let file = || {
        let rows: Vec<Vec<Cell>> = fixed
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Cell::Text(x) => Cell::Text(x.clone()),
                        Cell::Number(n) => Cell::Number(*n),
                        Cell::Serial(n) => Cell::Serial(*n),
                        Cell::Empty => Cell::Empty,
                    })
                    .collect()
            })
            .collect();
        ledger(&header, &rows)
    };
    let (_, page) = upload(&server, &lead, "party", "报到党员.xlsx", file()).await;
    assert!(page.contains("将新建 2 · 更新 0 · 不变 0"), "{page}");
    let (status, _) = confirm(&server, &lead, &page).await;
    assert_eq!(status, 200);
    let member = "SELECT rank || ' ' || work_phone || ' ' || registered_on FROM party_members WHERE name = $1";
    assert_eq!(
        server.scalar(member, "钱学文").await,
        "committee 13912345678 2026-03-01"
    );
    let phone = "SELECT work_phone FROM party_members WHERE name = $1";
    assert_eq!(server.scalar(phone, "孙晓燕").await, "0571-87650000");
    let grouped = "SELECT g.name FROM party_members m JOIN party_groups g ON g.id = m.group_id WHERE m.name = $1";
    assert_eq!(server.scalar(grouped, "钱学文").await, "报到党员小组");

    // The same file again changes nothing, even on a later day: a blank cell
    // keeps what is on record (the date registered, set here on the roster).
    sqlx::query("UPDATE party_members SET registered_on = '2025-06-01' WHERE name = $1")
        .bind("孙晓燕")
        .execute(&server.pool)
        .await
        .unwrap();
    let (_, page) = upload(&server, &lead, "party", "报到党员.xlsx", file()).await;
    assert!(page.contains("将新建 0 · 更新 0 · 不变 2"), "{page}");
    // Another lead's community is not theirs.
    let other = server.login_as("lead2").await;
    let (_, page) = upload(&server, &other, "party", "报到党员.xlsx", file()).await;
    assert!(page.contains(&format!("没有找到您负责的社区「{community}」")), "{page}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM party_members WHERE name = $1", "钱学文").await,
        1
    );
}

/// The error report's upload id on a dry run's page.
fn report_id(page: &str) -> String {
    let at = page
        .find("/manage/import/")
        .map(|i| i + "/manage/import/".len())
        .unwrap();
    let rest = &page[at..];
    let start = rest.find(|c: char| c.is_ascii_hexdigit()).unwrap();
    rest[start..start + 36].to_owned()
}

#[tokio::test]
async fn files_that_are_not_ledgers_get_a_clear_refusal() {
    let server = TestServer::start().await;
    let lead = server.login_as("lead1").await;
    let (status, page) = upload(
        &server,
        &lead,
        "residents",
        "photo.xlsx",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{page}");
    assert!(page.contains("不是 Excel"));
    let (status, page) = upload(
        &server,
        &lead,
        "residents",
        "old.xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old".to_vec(),
    )
    .await;
    assert_eq!(status, 415);
    assert!(page.contains("另存为 .xlsx"));
    let (status, page) = upload(&server, &lead, "residents", "x.csv", "甲,乙\n1,2\n".as_bytes().to_vec()).await;
    assert_eq!(status, 422);
    assert!(page.contains("没有找到表头"));
    let too_big = vec![b'a'; 21 * 1024 * 1024];
    let (status, page) = upload(&server, &lead, "residents", "big.csv", too_big).await;
    assert_eq!(status, 413);
    assert!(page.contains("文件超过 20 MB"));
    // Formulas: their values are used, never evaluated.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["社区", "网格", "楼栋", "门牌号"].iter().enumerate() {
        sheet.write(0, c as u16, *h).unwrap();
    }
    let community = server
        .scalar(
            "SELECT name FROM communities WHERE id = $1",
            &server.community_of("lead1").await,
        )
        .await;
    sheet.write(1, 0, community.as_str()).unwrap();
    sheet.write(1, 1, "第八网格").unwrap();
    sheet
        .write_formula(
            1,
            2,
            rust_xlsxwriter::Formula::new("=CONCATENATE(\"5\",\"号楼\")").set_result("5号楼"),
        )
        .unwrap();
    sheet.write(1, 3, "101").unwrap();
    let (status, page) = upload(&server, &lead, "territory", "f.xlsx", book.save_to_buffer().unwrap()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("将新建 1"), "{page}");
    // A worker imports nothing.
    let worker = server.login_as("worker1").await;
    let (status, _) = upload(&server, &worker, "residents", "x.csv", b"a".to_vec()).await;
    assert_eq!(status, 403);
}
