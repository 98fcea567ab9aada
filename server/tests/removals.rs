//! Records that leave a grid leave its phones: a resident moved to a household
//! of another grid, a building moved to another grid (its households,
//! residents and visits with it). The old grid's phones pull a removal; the
//! new grid's phones pull the records; a phone holding both grids keeps them.

#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;

use common::{TestServer, new_id};
use serde_json::{Value, json};

/// Pages through everything after `cursor`, `limit` changes a page: the
/// records and the cursor to come back with.
async fn pull_from(server: &TestServer, client: &reqwest::Client, cursor: i64, limit: i64) -> (Vec<Value>, i64) {
    let (mut cursor, mut records) = (cursor, Vec::new());
    loop {
        let page = server
            .get_json(client, &format!("/api/sync/pull?cursor={cursor}&limit={limit}"))
            .await;
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_i64().unwrap();
        if !page["more"].as_bool().unwrap() {
            return (records, cursor);
        }
    }
}

/// The ids of the removals of one kind of record.
fn removed(records: &[Value], kind: &str) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| r["entity"] == "removed" && r["record"] == kind)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The records of one entity, by id: their grid.
fn pulled(records: &[Value], entity: &str) -> BTreeSet<(String, String)> {
    records
        .iter()
        .filter(|r| r["entity"] == entity)
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["grid_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn ids(server: &TestServer, sql: &str, bind: &str) -> BTreeSet<String> {
    sqlx::query_scalar::<_, String>(sql)
        .bind(bind)
        .fetch_all(&server.pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

fn move_op(resident: &str, from: &str, to: &str) -> Value {
    json!({
        "op_id": new_id(),
        "created_at": app::clock::now_ms(),
        "change": {"edit_resident": {
            "id": resident,
            "changes": [{"field": "household_id", "base": from, "value": to}],
        }},
    })
}

async fn push_applied(server: &TestServer, client: &reqwest::Client, op: Value) {
    let (status, body) = server.push(client, "phone", &[op]).await;
    assert_eq!(
        (status, body["results"][0]["status"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
}

#[tokio::test]
async fn what_leaves_a_grid_leaves_its_phones_and_reaches_the_new_grids() {
    let server = TestServer::start().await;
    let grid1 = server.scalar("SELECT id FROM grids WHERE name = $1", "第1网格").await;
    let grid2 = server.scalar("SELECT id FROM grids WHERE name = $1", "第2网格").await;
    let admin = server.login_as("admin").await;
    let lead = server.login_as("lead1").await;
    // worker3 walks both grids.
    let both = admin
        .put(server.url("/api/users/worker3/grids"))
        .json(&json!({ "grids": [grid1, grid2] }))
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 200);

    let (household1, resident) = server.household_in("第1网格").await;
    let (household2, _) = server.household_in("第2网格").await;
    // Another building of grid 1 moves whole.
    let building: String = sqlx::query_scalar(
        "SELECT b.id FROM buildings b WHERE b.grid_id = $1
           AND b.id <> (SELECT building_id FROM households WHERE id = $2)
         ORDER BY b.number LIMIT 1",
    )
    .bind(&grid1)
    .bind(&household1)
    .fetch_one(&server.pool)
    .await
    .unwrap();
    let visited = server
        .scalar(
            "SELECT h.id FROM households h WHERE h.building_id = $1 ORDER BY h.id LIMIT 1",
            &building,
        )
        .await;
    let worker1 = server.login_as("worker1").await;
    push_applied(&server, &worker1, common::routine_visit(&visited, "搬楼之前的走访")).await;

    // Every phone is up to date before the moves.
    let worker2 = server.login_as("worker2").await;
    let worker3 = server.login_as("worker3").await;
    let mut cursors = Vec::new();
    for client in [&worker1, &worker2, &worker3, &lead] {
        cursors.push(pull_from(&server, client, 0, 5000).await.1);
    }
    let [c1, c2, c3, c_lead] = cursors[..] else {
        unreachable!()
    };

    // The lead moves the resident to a household of grid 2 (a push, as the
    // phone sends it) and the building to grid 2 (the territory form).
    push_applied(&server, &lead, move_op(&resident, &household1, &household2)).await;
    let name = server
        .scalar("SELECT name FROM buildings WHERE id = $1", &building)
        .await;
    let moved = lead
        .post(server.url(&format!("/manage/territory/buildings/{building}")))
        .form(&[("name", name.as_str()), ("grid", grid2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 303);
    let households = ids(&server, "SELECT id FROM households WHERE building_id = $1", &building).await;
    let mut residents = ids(
        &server,
        "SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id WHERE h.building_id = $1",
        &building,
    )
    .await;
    assert!(!households.is_empty() && !residents.is_empty());
    let visits = ids(
        &server,
        "SELECT v.id FROM visits v JOIN households h ON h.id = v.household_id WHERE h.building_id = $1",
        &building,
    )
    .await;
    assert!(!visits.is_empty());
    residents.insert(resident.clone());

    // Grid 1's phone: a removal of each, over pages of one change, and again
    // when the same pages are asked for once more (a retry). Nothing of grid 2.
    for _ in 0..2 {
        let (records, _) = pull_from(&server, &worker1, c1, 1).await;
        assert_eq!(removed(&records, "building"), BTreeSet::from([building.clone()]));
        assert_eq!(removed(&records, "household"), households);
        assert_eq!(removed(&records, "resident"), residents);
        assert!(
            removed(&records, "visit").is_empty(),
            "visits leave with their household"
        );
        assert!(records.iter().all(|r| r["entity"] == "removed"), "{records:?}");
    }
    // A first sync gets the same removals (deletes of nothing there), and
    // of records only grid 1's.
    let (records, _) = pull_from(&server, &worker1, 0, 5000).await;
    assert_eq!(removed(&records, "resident"), residents);
    assert!(pulled(&records, "resident").iter().all(|(_, grid)| *grid == grid1));

    // Grid 2's phone: the records whole, the building's visits with them.
    let (records, _) = pull_from(&server, &worker2, c2, 5000).await;
    assert!(records.iter().all(|r| r["entity"] != "removed"), "{records:?}");
    assert_eq!(
        pulled(&records, "building"),
        BTreeSet::from([(building.clone(), grid2.clone())])
    );
    let in_grid2 = |set: &BTreeSet<String>| -> BTreeSet<(String, String)> {
        set.iter().map(|id| (id.clone(), grid2.clone())).collect()
    };
    assert_eq!(pulled(&records, "household"), in_grid2(&households));
    assert_eq!(pulled(&records, "resident"), in_grid2(&residents));
    assert_eq!(pulled(&records, "visit"), in_grid2(&visits));
    let arrived = records.iter().find(|r| r["id"] == resident.as_str()).unwrap();
    assert_eq!(arrived["household_id"], household2.as_str());

    // Phones holding both grids keep everything, now in grid 2.
    for (client, cursor) in [(&worker3, c3), (&lead, c_lead)] {
        let (records, _) = pull_from(&server, client, cursor, 1).await;
        assert!(records.iter().all(|r| r["entity"] != "removed"), "{records:?}");
        assert_eq!(pulled(&records, "resident"), in_grid2(&residents));
        assert_eq!(
            pulled(&records, "building"),
            BTreeSet::from([(building.clone(), grid2.clone())])
        );
    }
    // Pulled narrowed to grid 1 (a grid newly assigned), nothing the phone
    // holds through grid 2 is removed.
    let page = server
        .get_json(&worker3, &format!("/api/sync/pull?cursor={c3}&grid={grid1}&limit=5000"))
        .await;
    assert_eq!(page["records"].as_array().unwrap().len(), 0, "{page}");

    // Moved back: grid 1's phone gets the resident again after its removal,
    // and a phone offline across both moves gets the record, not a removal.
    let (_, after_removal) = pull_from(&server, &worker1, c1, 5000).await;
    push_applied(&server, &lead, move_op(&resident, &household2, &household1)).await;
    for cursor in [after_removal, c1] {
        let (records, _) = pull_from(&server, &worker1, cursor, 5000).await;
        assert!(!removed(&records, "resident").contains(&resident));
        assert!(pulled(&records, "resident").contains(&(resident.clone(), grid1.clone())));
    }
    let (records, _) = pull_from(&server, &worker2, c2, 5000).await;
    assert!(removed(&records, "resident").contains(&resident));
}

/// A grid moved to another community leaves the old lead's scope (the phone
/// drops a grid's data when its scope no longer lists it) and enters the new
/// lead's; its worker keeps it.
#[tokio::test]
async fn a_grid_moved_to_another_community_leaves_the_old_leads_scope() {
    let server = TestServer::start().await;
    let grid1 = server.scalar("SELECT id FROM grids WHERE name = $1", "第1网格").await;
    let other = server.community_of("lead2").await;
    let scope = |page: Value| -> Vec<String> {
        page["scope"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let lead1 = server.login_as("lead1").await;
    let lead2 = server.login_as("lead2").await;
    let worker1 = server.login_as("worker1").await;
    assert!(scope(server.get_json(&lead1, "/api/sync/pull?cursor=0&limit=1").await).contains(&grid1));
    let admin = server.login_as("admin").await;
    let moved = admin
        .post(server.url(&format!("/manage/territory/grids/{grid1}")))
        .form(&[("name", "第1网格"), ("community", other.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 303);
    assert!(!scope(server.get_json(&lead1, "/api/sync/pull?cursor=0&limit=1").await).contains(&grid1));
    assert!(scope(server.get_json(&lead2, "/api/sync/pull?cursor=0&limit=1").await).contains(&grid1));
    assert_eq!(
        scope(server.get_json(&worker1, "/api/sync/pull?cursor=0&limit=1").await),
        [grid1]
    );
}
