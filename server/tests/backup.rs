//! Backups of the embedded SQLite database: a copy taken while phones push
//! holds everything they were told was saved before it began; a restore
//! refuses a running server and a copy that is not whole; a backup never
//! overwrites; the schedule keeps its newest copies. SQLite only: the suite's
//! PostgreSQL run skips what needs a server (PostgreSQL is backed up with
//! pg_dump, which is not ours to test).

#[allow(dead_code)]
mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::{TestServer, routine_visit};
use gridwalk_server::backup::{self, BackupError, Schedule};
use gridwalk_server::config::Settings;

fn on_postgres() -> bool {
    common::postgres_admin_url().is_some()
}

/// Settings for a database file no server runs on.
fn settings_for(database: &Path) -> Settings {
    Settings {
        database_url: format!("sqlite://{}", database.display()),
        ..Settings::default()
    }
}

async fn open(database: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", database.display()))
        .await
        .expect("open the restored database")
}

/// A checked copy of the server's database in `dir`.
async fn backup_of(server: &TestServer, dir: &Path) -> PathBuf {
    let copy = dir.join("copy.db");
    backup::backup(&server.settings, &copy).await.expect("backup");
    copy
}

/// Every file in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// One phone pushing two visits at a time until told to stop; every op the
/// server answered "applied" goes into `acked` as soon as the answer arrives.
async fn phone(
    server: Arc<TestServer>,
    worker: &'static str,
    grid: &'static str,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<(String, String)>>>,
) {
    let client = server.login_as(worker).await;
    let (household, _) = server.household_in(grid).await;
    while !stop.load(Ordering::Relaxed) {
        let ops = [
            routine_visit(&household, "备份时的走访"),
            routine_visit(&household, "备份时的走访"),
        ];
        let (status, body) = server.push(&client, worker, &ops).await;
        assert_eq!(status, 200, "{body}");
        let results = body["results"].as_array().expect("results");
        let mut acked = acked.lock().unwrap();
        for (op, result) in ops.iter().zip(results) {
            assert_eq!(result["status"], "applied", "{result}");
            let visit = op["change"]["record_visit"]["id"].as_str().unwrap();
            acked.push((op["op_id"].as_str().unwrap().to_owned(), visit.to_owned()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_write_load_restores_every_acknowledged_operation() {
    if on_postgres() {
        return;
    }
    let server = Arc::new(TestServer::start().await);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let phones: Vec<_> = [("worker1", "第1网格"), ("worker2", "第2网格")]
        .into_iter()
        .map(|(worker, grid)| tokio::spawn(phone(server.clone(), worker, grid, stop.clone(), acked.clone())))
        .collect();
    while acked.lock().unwrap().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("under-load.db");
    // Everything in this list was acknowledged before the backup began.
    let before: Vec<(String, String)> = acked.lock().unwrap().clone();
    let taken = backup::backup(&server.settings, &copy)
        .await
        .expect("backup under load");
    let during = acked.lock().unwrap().len() - before.len();
    // Let the phones go on after the copy, then stop them.
    let after_copy = acked.lock().unwrap().len();
    while acked.lock().unwrap().len() < after_copy + 10 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for phone in phones {
        phone.await.expect("phone");
    }
    let all = acked.lock().unwrap().len();
    assert!(during > 0, "the phones were answered while the copy was taken");
    assert!(all >= before.len() + 10, "the phones kept writing");
    assert!(taken.report.visits > 0, "{taken}");

    // Restored into a new file no server runs on.
    let restored = dir.path().join("restored").join("gridwalk.db");
    let done = backup::restore(&settings_for(&restored), &copy).await.expect("restore");
    assert!(done.kept.is_none(), "there was nothing to replace: {done}");
    let pool = open(&restored).await;
    let applied: HashSet<String> =
        sqlx::query_scalar::<_, String>("SELECT op_id FROM applied_ops WHERE status = 'applied'")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let mut visits: HashMap<String, i64> = HashMap::new();
    for id in sqlx::query_scalar::<_, String>("SELECT id FROM visits")
        .fetch_all(&pool)
        .await
        .unwrap()
    {
        *visits.entry(id).or_default() += 1;
    }
    pool.close().await;
    for (op, visit) in &before {
        assert!(applied.contains(op), "op {op} was acknowledged before the backup began");
        assert_eq!(visits.get(visit), Some(&1), "visit {visit} of op {op}");
    }
    // The copy is one moment: no op without its visit, none half there.
    let pushed = acked.lock().unwrap().clone();
    let copied = pushed.iter().filter(|(op, _)| applied.contains(op)).count();
    for (op, visit) in &pushed {
        assert_eq!(applied.contains(op), visits.contains_key(visit), "op {op}");
    }
    eprintln!(
        "{} acknowledged before the backup, {during} while it ran, {all} in all; {copied} in the copy",
        before.len()
    );

    // The server this binary is starts on it (its migrations accept the copy).
    gridwalk_server::db::connect(&settings_for(&restored))
        .await
        .expect("the server opens the restored database")
        .close()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_refuses_while_a_server_runs_on_the_database() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = backup_of(&TestServer::start().await, dir.path()).await;
    // A server of this test's own, to stop when the test says.
    let folder = dir.path().join("live");
    let database = folder.join("gridwalk.db");
    backup::restore(&settings_for(&database), &copy)
        .await
        .expect("a first restore");
    let settings = Settings {
        addr: "127.0.0.1:0".into(),
        photo_store: folder.join("photos").display().to_string(),
        site_root: folder.join("site").display().to_string(),
        ..settings_for(&database)
    };
    let server = gridwalk_server::build(settings.clone()).await.expect("server starts");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let before = files_in(&folder);
    let database_bytes = std::fs::read(&database).unwrap();

    let refused = backup::restore(&settings, &copy).await.unwrap_err();
    assert!(matches!(refused, BackupError::ServerRunning(_)), "{refused}");
    assert!(refused.to_string().contains("server is running"), "{refused}");
    assert_eq!(files_in(&folder), before, "nothing was added or moved");
    assert_eq!(std::fs::read(&database).unwrap(), database_bytes, "nor changed");

    // Stopped, the same restore goes through and keeps what it replaced.
    stop.send(()).unwrap();
    running.await.unwrap().expect("server ran");
    let database_bytes = std::fs::read(&database).unwrap();
    let done = backup::restore(&settings, &copy)
        .await
        .expect("restore once the server stopped");
    let kept = done.kept.as_ref().expect("the old database is kept");
    assert_eq!(std::fs::read(kept).unwrap(), database_bytes, "{done}");
    assert!(
        kept.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("gridwalk.db.before-restore-"),
        "{done}"
    );
    assert!(!folder.join("gridwalk.db-shm").exists());
    assert!(!folder.join("gridwalk.db.restoring").exists());
    assert_eq!(std::fs::read(&database).unwrap(), std::fs::read(&copy).unwrap());
    println!("{done}");

    // And a server does not start while a restore holds the file.
    let restoring = std::fs::File::open(folder.join("gridwalk.db.lock")).unwrap();
    restoring.try_lock().expect("no one else holds it");
    let refused = gridwalk_server::build(settings).await.err().expect("refused");
    assert!(refused.to_string().contains("a restore is replacing"), "{refused}");
}

#[tokio::test]
async fn a_restore_refuses_a_copy_that_is_not_a_whole_gridwalk_database() {
    if on_postgres() {
        return;
    }
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let good = backup_of(&server, dir.path()).await;
    drop(server);

    // A database no server runs on, restored once from the good copy.
    let database = dir.path().join("live").join("gridwalk.db");
    let settings = settings_for(&database);
    backup::restore(&settings, &good).await.expect("a good copy restores");
    let bytes = std::fs::read(&database).unwrap();
    let folder = database.parent().unwrap().to_owned();
    let before = files_in(&folder);

    let text = dir.path().join("notes.db");
    std::fs::write(&text, "not a database at all").unwrap();
    let truncated = dir.path().join("truncated.db");
    let whole = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    {
        let pool = open(&newer).await;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (999999, 'from the future', TRUE, x'00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let missing = dir.path().join("missing.db");

    for (copy, says) in [
        (&text, "not an SQLite database"),
        (&truncated, "cut short"),
        (&newer, "newer Gridwalk"),
        (&missing, "cannot be read"),
    ] {
        let refused = backup::restore(&settings, copy).await.unwrap_err();
        assert!(matches!(refused, BackupError::Check { .. }), "{refused}");
        assert!(refused.to_string().contains(says), "{}: {refused}", copy.display());
        assert_eq!(std::fs::read(&database).unwrap(), bytes, "the database is untouched");
        assert_eq!(files_in(&folder), before, "nothing was added or moved");
    }

    // On PostgreSQL both commands point to its own tools, without connecting.
    let postgres = Settings {
        database_url: "postgres://gridwalk@db.invalid/gridwalk".into(),
        ..Settings::default()
    };
    for refused in [
        backup::backup(&postgres, &dir.path().join("pg.db")).await.unwrap_err(),
        backup::restore(&postgres, &good).await.unwrap_err(),
    ] {
        assert!(refused.to_string().contains("pg_dump"), "{refused}");
    }
}

#[tokio::test]
async fn a_restore_keeps_the_log_of_a_server_that_crashed_with_the_database_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let empty = dir.path().join("empty.db");
    let store = gridwalk_server::db::connect(&settings_for(&empty)).await.unwrap();
    store.backup_into(&copy).await.unwrap();
    store.close().await;

    // A server's last commit still in its WAL when it died: the files as
    // they were, copied while the writer held them open.
    let live = dir.path().join("live.db");
    std::fs::copy(&copy, &live).unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&live)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    let writer = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::query("CREATE TABLE last_commit (x INTEGER)")
        .execute(&writer)
        .await
        .unwrap();
    let crashed = dir.path().join("crashed");
    std::fs::create_dir(&crashed).unwrap();
    for name in ["live.db", "live.db-wal", "live.db-shm"] {
        std::fs::copy(dir.path().join(name), crashed.join(name.replace("live", "gridwalk"))).unwrap();
    }
    writer.close().await;
    let database = crashed.join("gridwalk.db");
    assert!(std::fs::metadata(crashed.join("gridwalk.db-wal")).unwrap().len() > 0);

    let done = backup::restore(&settings_for(&database), &copy).await.expect("restore");
    let kept = done.kept.clone().expect("kept");
    assert_eq!(done.kept_journals.len(), 1, "{done}");
    assert_eq!(
        done.kept_journals[0].file_name().unwrap().to_string_lossy(),
        format!("{}-wal", kept.file_name().unwrap().to_string_lossy())
    );
    let has_last_commit = |database: PathBuf| async move {
        let pool = open(&database).await;
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'last_commit'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        found == 1
    };
    assert!(
        has_last_commit(kept).await,
        "the kept database has its last commit back"
    );
    assert!(
        !has_last_commit(database).await,
        "the restored one is the copy, log-free"
    );
}

#[tokio::test]
async fn a_backup_never_overwrites_a_file() {
    if on_postgres() {
        return;
    }
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("taken.db");
    std::fs::write(&target, "someone's file").unwrap();
    let refused = backup::backup(&server.settings, &target).await.unwrap_err();
    assert!(matches!(refused, BackupError::Exists(_)), "{refused}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "someone's file");
    assert_eq!(files_in(dir.path()), ["taken.db"], "no partial copy left");
}

#[tokio::test]
async fn the_schedule_takes_a_copy_when_one_is_due_and_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let store = gridwalk_server::db::connect(&settings_for(&dir.path().join("gridwalk.db")))
        .await
        .expect("a new database");
    let copies = dir.path().join("backups");
    std::fs::create_dir_all(&copies).unwrap();
    // Not copies: never touched.
    for other in ["notes.txt", "gridwalk-old.db", "gridwalk-20200101T000000Z.db.bak"] {
        std::fs::write(copies.join(other), "mine").unwrap();
    }
    // A copy cut off long ago.
    let stale = copies.join("gridwalk-20200101T000000Z.db.partial");
    std::fs::write(&stale, "half").unwrap();

    let schedule = Schedule {
        dir: copies.clone(),
        every: std::time::Duration::from_secs(24 * 3600),
        keep: 3,
    };
    let hour = 3_600_000;
    let start = 1_796_612_400_000; // 2026-12-07 03:00 UTC
    let first = schedule.step(&store, start).await.unwrap().expect("none yet: one now");
    assert_eq!(first.file_name().unwrap(), "gridwalk-20261207T030000Z.db");
    assert!(!stale.exists(), "the cut-off copy is cleared away");
    assert_eq!(schedule.step(&store, start + hour).await.unwrap(), None, "not due");
    assert_eq!(schedule.step(&store, start + 23 * hour).await.unwrap(), None, "not due");
    for day in 1..=4 {
        let taken = schedule.step(&store, start + day * 24 * hour).await.unwrap();
        assert!(taken.is_some(), "day {day}");
    }
    store.close().await;

    assert_eq!(
        files_in(&copies),
        [
            "gridwalk-20200101T000000Z.db.bak",
            "gridwalk-20261209T030000Z.db",
            "gridwalk-20261210T030000Z.db",
            "gridwalk-20261211T030000Z.db",
            "gridwalk-old.db",
            "notes.txt",
        ]
    );
    for name in files_in(&copies).iter().filter(|n| n.starts_with("gridwalk-2026")) {
        backup::check(&copies.join(name)).await.expect("a whole copy");
    }

    let postgres = Settings {
        database_url: "postgres://gridwalk@db.invalid/gridwalk".into(),
        backup_dir: Some("backups".into()),
        ..Settings::default()
    };
    let refused = Schedule::from_settings(&postgres).unwrap_err();
    assert!(refused.contains("pg_dump"), "{refused}");
}
