//! Starts the real server on port 0 with a fresh SQLite file per test. The demo
//! street is generated once into a template file and copied, so each test gets
//! its own database without paying for the generator every time.

use std::path::{Path, PathBuf};

use gridwalk_server::config::Settings;
use gridwalk_server::demo;
use sqlx::SqlitePool;
use tempfile::TempDir;
use tokio::sync::OnceCell;

pub const PASSWORD: &str = demo::DEMO_PASSWORD;

static TEMPLATE: OnceCell<(TempDir, PathBuf)> = OnceCell::const_new();

async fn template() -> &'static Path {
    let (_, path) = TEMPLATE
        .get_or_init(|| async {
            let dir = tempfile::tempdir().expect("temp dir");
            let seeded = dir.path().join("seeded.db");
            let settings = Settings {
                database_url: format!("sqlite://{}", seeded.display()),
                ..Settings::default()
            };
            let store = gridwalk_server::db::connect(&settings)
                .await
                .expect("template database");
            let pool = store.legacy_sqlite().expect("transitional");
            demo::generate(&pool, &demo::DemoSpec::standard(app::state::now_ms()))
                .await
                .expect("demo data");
            let template = dir.path().join("template.db");
            sqlx::query(&format!("VACUUM INTO '{}'", template.display()))
                .execute(&pool)
                .await
                .expect("vacuum");
            pool.close().await;
            (dir, template)
        })
        .await;
    path
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub struct TestServer {
    pub base: String,
    pub pool: SqlitePool,
    /// Dropping it stops the server.
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _dir: TempDir,
}

/// Runs the server on a multi-threaded runtime of its own, as in production,
/// rather than on the test's single-threaded one: the test's client then never
/// competes with the server for one thread, and the server's tasks never
/// outlive their runtime.
fn run_on_own_runtime(settings: Settings) -> (tokio::sync::oneshot::Sender<()>, String) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let server = gridwalk_server::build(settings).await.expect("server starts");
            ready
                .send(format!("http://{}", server.local_addr()))
                .expect("test is waiting");
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
    });
    (stop, address.recv().expect("server address"))
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("gridwalk.db");
        std::fs::copy(template().await, &db).expect("copy template");
        let mut settings = Settings {
            database_url: format!("sqlite://{}", db.display()),
            photo_dir: dir.path().join("photos"),
            addr: "127.0.0.1:0".into(),
            site_root: dir.path().join("site").display().to_string(),
            ..Settings::default()
        };
        configure(&mut settings);
        let (shutdown, base) = run_on_own_runtime(settings.clone());
        let pool = gridwalk_server::db::connect(&settings)
            .await
            .expect("test pool")
            .legacy_sqlite()
            .expect("transitional");
        TestServer {
            base,
            pool,
            _shutdown: shutdown,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client that keeps cookies and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    pub async fn login_as(&self, username: &str) -> reqwest::Client {
        let client = self.client();
        let response = client
            .post(self.url("/api/login"))
            .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), 200, "login as {username}");
        client
    }

    /// `GET path` as `client`, answered with JSON.
    pub async fn get_json(&self, client: &reqwest::Client, path: &str) -> serde_json::Value {
        let response = client.get(self.url(path)).send().await.expect("request");
        response.json().await.expect("a JSON body")
    }

    /// A household with residents in the named grid, and one of its residents.
    pub async fn household_in(&self, grid_name: &str) -> (String, String) {
        let household = self
            .scalar(
                "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
                 WHERE g.name = $1 AND EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id)
                 ORDER BY b.number, h.unit, h.floor, h.door_number LIMIT 1",
                grid_name,
            )
            .await;
        let resident = self
            .scalar(
                "SELECT id FROM residents WHERE household_id = $1 ORDER BY id LIMIT 1",
                &household,
            )
            .await;
        (household, resident)
    }

    /// `POST /api/sync/push`: the status and the JSON answer.
    pub async fn push(
        &self,
        client: &reqwest::Client,
        device: &str,
        ops: &[serde_json::Value],
    ) -> (u16, serde_json::Value) {
        let response = client
            .post(self.url("/api/sync/push"))
            .json(&serde_json::json!({"device_id": device, "operations": ops}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn scalar(&self, sql: &str, bind: &str) -> String {
        sqlx::query_scalar(sql)
            .bind(bind)
            .fetch_one(&self.pool)
            .await
            .expect(sql)
    }
}
