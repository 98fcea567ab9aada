//! What SQLite's single writer gives for free and PostgreSQL does not: these
//! run on both engines (scripts/test.sh runs the suite twice), and on
//! PostgreSQL they fail without the change counter and the resident row lock.

#[allow(dead_code)]
mod common;

use common::{TestServer, new_id};
use gridwalk_server::config::Settings;
use gridwalk_server::demo;
use serde_json::{Value, json};

fn edit_name(resident: &str, created_at: i64, base: &str, value: &str) -> Value {
    json!({
        "op_id": new_id(),
        "created_at": created_at,
        "change": {"edit_resident": {
            "id": resident,
            "changes": [{"field": "name", "base": base, "value": value}],
        }},
    })
}

/// Two phones edit one resident's name at the same moment, both having seen
/// the same value: whichever commits first, the later edit by (device time,
/// op id) ends up in the record and the other value in one history row. An
/// unlocked read-decide-write lets both see "no conflict", both apply, and
/// leaves the last committer's value and no history.
#[tokio::test]
async fn concurrent_edits_of_one_resident_give_one_winner_and_one_history_row() {
    let server = TestServer::start().await;
    let phone_a = server.login_as("worker1").await;
    let phone_b = server.login_as("worker1").await;
    let residents: Vec<String> = sqlx::query_scalar(
        "SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
         JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
         WHERE g.name = $1 ORDER BY r.id LIMIT 16",
    )
    .bind("第1网格")
    .fetch_all(&server.pool)
    .await
    .unwrap();
    assert_eq!(residents.len(), 16);
    for (round, resident) in residents.iter().enumerate() {
        let original = server
            .scalar("SELECT name FROM residents WHERE id = $1", resident)
            .await;
        let earlier = edit_name(resident, 5_000, &original, "周早");
        let later = edit_name(resident, 6_000, &original, "周晚");
        // Alternate who is sent first; both are in flight together.
        let (first, second) = if round % 2 == 0 {
            (&earlier, &later)
        } else {
            (&later, &earlier)
        };
        let (a, b) = tokio::join!(
            server.push(&phone_a, "a", std::slice::from_ref(first)),
            server.push(&phone_b, "b", std::slice::from_ref(second)),
        );
        assert_eq!((a.0, b.0), (200, 200), "{} {}", a.1, b.1);
        assert_eq!(
            server
                .scalar("SELECT name FROM residents WHERE id = $1", resident)
                .await,
            "周晚",
            "round {round}: the later edit wins"
        );
        let history: Vec<(Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT old_value, new_value, winner FROM resident_history WHERE resident_id = $1 AND field = 'name'",
        )
        .bind(resident)
        .fetch_all(&server.pool)
        .await
        .unwrap();
        assert_eq!(history.len(), 1, "round {round}: one history row, got {history:?}");
        let kept = match history[0].2.as_str() {
            "incoming" => history[0].0.clone(),
            _ => history[0].1.clone(),
        };
        assert_eq!(kept.as_deref(), Some("周早"), "round {round}: the losing value is kept");
    }
}

async fn pull(server: &TestServer, client: &reqwest::Client, cursor: i64) -> Value {
    server
        .get_json(client, &format!("/api/sync/pull?cursor={cursor}&limit=5000"))
        .await
}

/// A write that started first but commits last must still reach a phone
/// that pulled in between. With sequence numbers handed out at insert time,
/// the phone would see the later number, move its cursor past the earlier
/// one and never receive that change.
#[tokio::test]
async fn a_change_that_commits_late_still_reaches_the_phone() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let store = gridwalk_server::db::connect(&Settings {
        database_url: server.database_url.clone(),
        ..Settings::default()
    })
    .await
    .expect("store");
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT h.id, b.grid_id FROM households h JOIN buildings b ON b.id = h.building_id
         JOIN grids g ON g.id = b.grid_id WHERE g.name = $1 ORDER BY h.id LIMIT 2",
    )
    .bind("第1网格")
    .fetch_all(&server.pool)
    .await
    .unwrap();
    let [(late_household, grid), (early_household, _)] = &rows[..] else {
        panic!("two households in grid 1");
    };
    // The phone is up to date.
    let mut cursor = 0;
    loop {
        let page = pull(&server, &worker, cursor).await;
        cursor = page["next_cursor"].as_i64().expect("cursor");
        if !page["more"].as_bool().unwrap_or(false) {
            break;
        }
    }

    let now = app::state::now_ms();
    let mut late = store.begin().await.unwrap();
    late.record_change("household", late_household, grid, now);
    let mut early = store.begin().await.unwrap();
    early.record_change("household", early_household, grid, now);
    early.commit().await.unwrap();

    let between = pull(&server, &worker, cursor).await;
    assert!(between.to_string().contains(early_household.as_str()), "{between}");
    assert!(!between.to_string().contains(late_household.as_str()));
    cursor = between["next_cursor"].as_i64().unwrap();

    late.commit().await.unwrap();
    let after = pull(&server, &worker, cursor).await;
    assert!(
        after.to_string().contains(late_household.as_str()),
        "the late commit reaches the phone: {after}"
    );
    store.close().await;
}

/// Several server instances starting at once on a new database (a city
/// deployment restarted, every instance asked to seed the demo street): on
/// PostgreSQL one migrates while the others wait for its advisory lock (an
/// SQLite file belongs to one server, so there they connect in turn), and
/// however the seeders interleave the street is written exactly once.
#[tokio::test]
async fn instances_starting_together_migrate_and_seed_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = common::empty_postgres_database().await;
    let concurrent_connect = postgres.is_some();
    let settings = Settings {
        database_url: postgres.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("new.db").display())),
        ..Settings::default()
    };
    let mut stores = Vec::new();
    if concurrent_connect {
        let starts: Vec<_> = (0..4)
            .map(|_| {
                let settings = settings.clone();
                tokio::spawn(async move { gridwalk_server::db::connect(&settings).await })
            })
            .collect();
        for start in starts {
            stores.push(start.await.expect("task").expect("every instance starts"));
        }
    } else {
        for _ in 0..4 {
            stores.push(gridwalk_server::db::connect(&settings).await.expect("connects"));
        }
    }
    // One photo store, as the instances would share (the notices' files).
    let photos = std::sync::Arc::new(
        gridwalk_server::photos::PhotoStore::open(
            &dir.path().join("photos").display().to_string(),
            gridwalk_server::photos::check::Rules {
                max_bytes: settings.photo_max_bytes,
                max_pixels: settings.photo_max_pixels,
            },
        )
        .await
        .expect("photo store"),
    );
    let seeds: Vec<_> = stores
        .iter()
        .map(|store| {
            let (store, photos) = (store.clone(), photos.clone());
            tokio::spawn(async move { demo::seed(&store, &photos).await })
        })
        .collect();
    let mut seeded = 0;
    for seed in seeds {
        seeded += usize::from(
            seed.await
                .expect("task")
                .expect("seeding succeeds or finds data")
                .is_some(),
        );
    }
    assert_eq!(seeded, 1, "one instance seeds, the others find the street");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&settings.database_url).await.expect("look in");
    let (streets, admins): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM streets), (SELECT COUNT(*) FROM users WHERE username = 'admin')")
            .fetch_one(&pool)
            .await
            .expect("counts");
    assert_eq!((streets, admins), (1, 1));
    pool.close().await;
    for store in stores {
        store.close().await;
    }
}
