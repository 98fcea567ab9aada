//! Starts the real server on port 0 with a fresh database per test, on the
//! engine the suite runs on: an SQLite file by default, a PostgreSQL database
//! when `GRIDWALK_TEST_POSTGRES` names a cluster (`postgres://…/postgres`;
//! scripts/test.sh starts a throw-away one). The demo street is generated once
//! per test binary into a template (a file, or a template database) and
//! copied for each test, so no test pays for the generator.
//!
//! Tests look into the database through `TestServer::pool`, an `AnyPool`: the
//! same test SQL runs on either engine (the app itself uses native pools).
//!
//! With `GRIDWALK_TEST_INSTANCES=2` (scripts/test.sh's PostgreSQL + S3 run)
//! every test server is two instances on one database and one photo store,
//! and `TestServer::url` sends request after request to one, then the other,
//! as a proxy would: each test then also says that nothing a phone depends on
//! lives in one instance's memory.

use std::path::PathBuf;

use gridwalk_server::config::Settings;
use gridwalk_server::demo;
use gridwalk_server::routes::Route;
use sqlx::AnyPool;
use tempfile::TempDir;
use tokio::sync::{Mutex, OnceCell};

pub const PASSWORD: &str = demo::DEMO_PASSWORD;

/// Where each test's database is copied from.
enum Template {
    File(PathBuf),
    Database { admin_url: String, name: String },
}

static TEMPLATE: OnceCell<(TempDir, Template)> = OnceCell::const_new();

/// The PostgreSQL cluster the suite runs on, if any.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("GRIDWALK_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The URL of database `name` on the cluster behind `admin_url` (same user,
/// host and options, e.g. `?host=/tmp/socket-dir`).
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    }
}

async fn admin(admin_url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(admin_url).await.expect("PostgreSQL cluster")
}

async fn seed(database_url: String) {
    let settings = Settings {
        database_url,
        ..Settings::default()
    };
    let store = gridwalk_server::db::connect(&settings)
        .await
        .expect("template database");
    demo::generate(&store, &demo::DemoSpec::standard(app::state::now_ms()))
        .await
        .expect("demo data")
        .expect("an empty template");
    store.close().await;
}

async fn template() -> &'static Template {
    let (_, template) = TEMPLATE
        .get_or_init(|| async {
            let dir = tempfile::tempdir().expect("temp dir");
            let template = match postgres_admin_url() {
                Some(admin_url) => {
                    let name = format!("gw_template_{}", uuid::Uuid::now_v7().simple());
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(&admin(&admin_url).await)
                        .await
                        .expect("create template database");
                    seed(database_url(&admin_url, &name)).await;
                    Template::Database { admin_url, name }
                }
                None => {
                    let seeded = dir.path().join("seeded.db");
                    seed(format!("sqlite://{}", seeded.display())).await;
                    // A clean single file (no WAL beside it) to copy per test.
                    let template = dir.path().join("template.db");
                    let settings = Settings {
                        database_url: format!("sqlite://{}", seeded.display()),
                        ..Settings::default()
                    };
                    let store = gridwalk_server::db::connect(&settings).await.expect("seeded");
                    store.vacuum_into(&template).await.expect("vacuum into");
                    store.close().await;
                    Template::File(template)
                }
            };
            (dir, template)
        })
        .await;
    template
}

/// A new database for one test, copied from the template.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    // PostgreSQL copies a template only while nobody else uses it, and two
    // copies at once count as using it: one at a time.
    static COPYING: Mutex<()> = Mutex::const_new(());
    match template().await {
        Template::File(path) => {
            let db = dir.join("gridwalk.db");
            std::fs::copy(path, &db).expect("copy template");
            format!("sqlite://{}", db.display())
        }
        Template::Database { admin_url, name } => {
            let _one_at_a_time = COPYING.lock().await;
            let db = format!("gw_test_{}", uuid::Uuid::now_v7().simple());
            sqlx::query(&format!("CREATE DATABASE {db} TEMPLATE {name}"))
                .execute(&admin(admin_url).await)
                .await
                .expect("copy template database");
            database_url(admin_url, &db)
        }
    }
}

/// A new, empty database on the suite's PostgreSQL cluster; `None` when the
/// suite runs on SQLite.
pub async fn empty_postgres_database() -> Option<String> {
    let admin_url = postgres_admin_url()?;
    let name = format!("gw_empty_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin(&admin_url).await)
        .await
        .expect("create database");
    Some(database_url(&admin_url, &name))
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A push operation recording a plain visit a minute ago, with `notes`.
pub fn routine_visit(household: &str, notes: &str) -> serde_json::Value {
    serde_json::json!({
        "op_id": new_id(),
        "created_at": app::state::now_ms(),
        "change": {"record_visit": {
            "id": new_id(),
            "household_id": household,
            "visited_at": app::state::now_ms() - 60_000,
            "visit_type": "routine",
            "outcome": "met",
            "notes": notes,
        }},
    })
}

/// Where a test's photos go: a folder of its own, or its own prefix in the
/// bucket named by `GRIDWALK_TEST_S3_BUCKET` on the S3-compatible server the
/// `AWS_*` environment points at (scripts/test.sh starts a local one).
fn photo_store(dir: &std::path::Path) -> String {
    match std::env::var("GRIDWALK_TEST_S3_BUCKET") {
        Ok(bucket) if !bucket.is_empty() => format!("s3://{bucket}/{}", uuid::Uuid::now_v7().simple()),
        _ => dir.join("photos").display().to_string(),
    }
}

pub struct TestServer {
    /// The first instance's address (for raw sockets, and for what is per
    /// instance by design, such as the sync slots).
    pub base: String,
    /// Every instance's address, `base` first; `url` takes them in turn.
    bases: Vec<String>,
    /// Every method and path the router answers, as the server registered them.
    pub routes: Vec<Route>,
    next: std::sync::atomic::AtomicUsize,
    /// This test's database, for looking into it (engine-neutral).
    pub pool: AnyPool,
    /// The URL the server was started with.
    pub database_url: String,
    /// What the server was started with, for a second instance beside it.
    pub settings: Settings,
    /// Dropping them stops the instances.
    _shutdown: Vec<tokio::sync::oneshot::Sender<()>>,
    /// The temp folder and database behind this server; the last instance dropped removes them.
    scratch: std::sync::Arc<Scratch>,
}

/// A test's own temp folder (its SQLite file, photos, site root) and, on
/// PostgreSQL, its own database. Dropped with the test's last instance: a run
/// makes hundreds of copies of the demo street, and kept they fill the disk.
struct Scratch {
    _dir: TempDir,
    /// The copy `fresh_database` made (whatever the test then started on).
    database_url: String,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(admin_url) = postgres_admin_url().filter(|_| self.database_url.starts_with("postgres")) else {
            return;
        };
        let Some(name) = self
            .database_url
            .split('?')
            .next()
            .and_then(|base| base.rsplit('/').next())
        else {
            return;
        };
        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        // Drop runs inside the test's runtime, which cannot block on a future:
        // a thread of its own with a runtime of its own does.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async move { sqlx::query(&drop).execute(&admin(&admin_url).await).await })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("test database {name} not dropped: {error}");
        }
    }
}

/// Runs the server on a multi-threaded runtime of its own, as in production,
/// rather than on the test's single-threaded one: the test's client then never
/// competes with the server for one thread, and the server's tasks never
/// outlive their runtime.
fn run_on_own_runtime(settings: Settings) -> (tokio::sync::oneshot::Sender<()>, (String, Vec<Route>)) {
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
                .send((format!("http://{}", server.local_addr()), server.routes().to_vec()))
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
        let database_url = fresh_database(dir.path()).await;
        let mut settings = Settings {
            database_url: database_url.clone(),
            photo_store: photo_store(dir.path()),
            addr: "127.0.0.1:0".into(),
            site_root: dir.path().join("site").display().to_string(),
            ..Settings::default()
        };
        configure(&mut settings);
        let instances = std::env::var("GRIDWALK_TEST_INSTANCES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let scratch = Scratch {
            _dir: dir,
            database_url,
        };
        Self::launch(settings, std::sync::Arc::new(scratch), instances).await
    }

    /// Another instance on the same database and photo store, as behind a
    /// proxy in a city deployment.
    pub async fn second_instance(&self) -> TestServer {
        Self::launch(self.settings.clone(), self.scratch.clone(), 1).await
    }

    /// Started one after the other: the first has migrated the database when
    /// the next starts (starting together is tested on its own).
    async fn launch(settings: Settings, scratch: std::sync::Arc<Scratch>, instances: usize) -> TestServer {
        let (shutdown, started): (Vec<_>, Vec<_>) = (0..instances.max(1))
            .map(|_| run_on_own_runtime(settings.clone()))
            .unzip();
        let (bases, mut routes): (Vec<_>, Vec<_>) = started.into_iter().unzip();
        sqlx::any::install_default_drivers();
        let pool = sqlx::pool::PoolOptions::new()
            .max_connections(2)
            .connect(&settings.database_url)
            .await
            .expect("test pool");
        TestServer {
            base: bases[0].clone(),
            bases,
            routes: routes.swap_remove(0),
            next: std::sync::atomic::AtomicUsize::new(0),
            pool,
            database_url: settings.database_url.clone(),
            settings,
            _shutdown: shutdown,
            scratch,
        }
    }

    /// The names of every object in this server's photo store.
    pub async fn stored_objects(&self) -> Vec<String> {
        use futures_util::TryStreamExt;
        let objects = gridwalk_server::photos::open_objects(&self.settings.photo_store).expect("photo store");
        let listed: Vec<_> = objects.list(None).try_collect().await.expect("list objects");
        listed.into_iter().map(|meta| meta.location.to_string()).collect()
    }

    /// `path` on the next instance in turn.
    pub fn url(&self, path: &str) -> String {
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}{}", self.bases[turn % self.bases.len()], path)
    }

    /// `path` on the first instance, whatever the turn.
    pub fn first_instance_url(&self, path: &str) -> String {
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

    /// The community a lead runs.
    pub async fn community_of(&self, lead: &str) -> String {
        self.scalar("SELECT community_id FROM users WHERE username = $1", lead)
            .await
    }

    /// `POST /api/login` with these credentials, from a client of its own.
    pub async fn login_attempt(&self, username: &str, password: &str) -> reqwest::Response {
        self.client()
            .post(self.url("/api/login"))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request")
    }

    /// A new session's `name=value` cookie, for requests written by hand
    /// (raw sockets that cut or hold a connection).
    pub async fn session_cookie(&self, username: &str) -> String {
        self.session_cookie_with(username, PASSWORD).await
    }

    /// `session_cookie` for an account with a password of its own.
    pub async fn session_cookie_with(&self, username: &str, password: &str) -> String {
        let login = self.login_attempt(username, password).await;
        assert_eq!(login.status(), 200, "login as {username}");
        let cookie = login.headers()["set-cookie"].to_str().expect("cookie text");
        cookie.split(';').next().unwrap_or(cookie).to_owned()
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

    /// `scalar` for a count the query gives as text (`CAST(COUNT(*) AS TEXT)`).
    pub async fn count(&self, sql: &str, bind: &str) -> i64 {
        self.scalar(sql, bind).await.parse().expect("a count")
    }

    pub async fn scalar(&self, sql: &str, bind: &str) -> String {
        sqlx::query_scalar(sql)
            .bind(bind)
            .fetch_one(&self.pool)
            .await
            .expect(sql)
    }
}

/// A form posted by `client`, answered as it came (redirects not followed).
pub async fn post_form(client: &reqwest::Client, url: String, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(url).form(form).send().await.expect("form post")
}

/// Where a form's redirect points, after checking it is one.
pub fn redirected(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303, "redirected");
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// An in-service member of lead1's community from `unit`, with a hardship
/// and an ordinary household linked: `(member, [hardship, ordinary])`.
pub async fn linked_member(
    server: &TestServer,
    lead: &reqwest::Client,
    name: &str,
    unit: &str,
) -> (String, [String; 2]) {
    let form = [
        ("kind", "in_service"),
        ("name", name),
        ("unit", unit),
        ("unit_party_org", "机关党委"),
        ("work_phone", "0571-87654321"),
        ("rank", "member"),
        ("branch", "第一党支部"),
    ];
    let to = redirected(&post_form(lead, server.url("/manage/party"), &form).await);
    let member = to.strip_prefix("/manage/party/members/").unwrap().to_owned();
    let households = |key: bool| {
        format!(
            "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id JOIN grids g ON g.id = b.grid_id
             WHERE g.name = $1 AND {} EXISTS (SELECT 1 FROM resident_tags t JOIN residents r ON r.id = t.resident_id
                                                WHERE r.household_id = h.id)
             ORDER BY h.id LIMIT 1",
            if key { "" } else { "NOT" }
        )
    };
    let hardship = server.scalar(&households(true), "第1网格").await;
    let ordinary = server.scalar(&households(false), "第1网格").await;
    for (household, kind) in [(&hardship, "hardship"), (&ordinary, "ordinary")] {
        let url = server.url(&format!("/manage/party/members/{member}/households"));
        redirected(&post_form(lead, url, &[("household", household), ("kind", kind)]).await);
    }
    (member, [hardship, ordinary])
}

/// The one-time password a page shows after creating or resetting an account.
pub fn shown_password(html: &str) -> String {
    let at = html.find("data-password").expect("a password on the page");
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap();
    rest[start..start + end].to_owned()
}

/// The password a test's party member chooses at their first sign-in.
pub const MEMBER_PASSWORD: &str = "楼道里的党员走访";

/// A party member's phone account opened by `lead` on the member's page, as
/// `username`, signed in with the one-time password and changed to
/// `MEMBER_PASSWORD`: the member's client.
pub async fn member_account(
    server: &TestServer,
    lead: &reqwest::Client,
    member: &str,
    username: &str,
) -> reqwest::Client {
    let url = server.url(&format!("/manage/party/members/{member}/account"));
    let opened = post_form(lead, url, &[("username", username)]).await;
    assert_eq!(opened.status(), 200, "the account opened");
    let once = shown_password(&opened.text().await.unwrap());
    let phone = server.client();
    let login = post_form(
        &phone,
        server.url("/login"),
        &[("username", username), ("password", &once)],
    )
    .await;
    assert_eq!(login.headers()["location"], "/account/password");
    let changed = post_form(
        &phone,
        server.url("/account/password"),
        &[
            ("current", &once),
            ("new", MEMBER_PASSWORD),
            ("repeat", MEMBER_PASSWORD),
        ],
    )
    .await;
    assert_eq!(changed.status(), 303, "the password changed");
    phone
}

/// A page's status and text, asked by `client`.
pub async fn get_text(server: &TestServer, client: &reqwest::Client, path: &str) -> (u16, String) {
    let response = client.get(server.url(path)).send().await.expect("get");
    (response.status().as_u16(), response.text().await.expect("page text"))
}

/// The public limit counts in windows aligned on the wall-clock minute: a test
/// that fills one waits, if need be, for a minute with time left in it.
pub async fn start_of_a_fresh_minute() {
    let into_minute = app::state::now_ms().rem_euclid(60_000);
    if into_minute > 45_000 {
        tokio::time::sleep(std::time::Duration::from_millis((60_000 - into_minute + 100) as u64)).await;
    }
}
