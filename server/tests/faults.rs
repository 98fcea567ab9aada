//! The sync promise under injected faults. Simulated phones speak the real
//! phone's protocol (app/src/phone/engine.rs and photo_queue.rs: an outbox of
//! operations with their own ids, pushed in batches of `MAX_BATCH / 2` until
//! answered, a refused op kept with the server's reason; photos named by
//! their SHA-256 in a queue of their own, sent until stored or refused) to
//! the real server binary, a child process, through a TCP proxy of the
//! harness. Meanwhile faults are injected:
//! - the proxy cuts a request's connection before the request reaches the
//!   server, mid-request, after the request, after the server answered (the
//!   answer lost) or mid-answer;
//! - a push is sent twice at once, in two halves in reverse order, or an old
//!   one arrives again late;
//! - the server is killed with SIGKILL while phones push, and started again
//!   on the same database;
//! - another connection holds the database's write lock for a while (SQLite
//!   `BEGIN EXCLUSIVE`, sometimes past the server's busy timeout; PostgreSQL
//!   `LOCK TABLE … IN EXCLUSIVE MODE`);
//! - the photos' disk is full (a tmpfs of the run's own, filled to the last
//!   byte: a real ENOSPC; photos go there on either engine, S3 or not;
//!   skipped where mounting one is not allowed).
//!
//! Then the faults stop, every phone syncs until its outbox holds only refused
//! ops, and the database is checked: every op a phone saved is on the server
//! exactly once, or shown on that phone as refused with a reason (and not on
//! the server); every photo a phone was told is stored is there once, with its
//! thumbnail; no answer was a 500.
//!
//! `GRIDWALK_FAULTS` faults (100 in the suite; scripts/faults.sh runs 1,000),
//! at least one of each kind; `GRIDWALK_FAULTS_SEED` replays a run (the seed
//! is printed: the same phones save the same ops and meet the same faults,
//! in the order the machine's timing gives); the faults stop after
//! `GRIDWALK_FAULTS_MINUTES` (default 3) whatever the count, and the test
//! then fails for too few.

#[allow(dead_code)]
mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::sync::MAX_BATCH;
use gridwalk_server::demo::rng::Rng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Phones in the run, one per worker of grids 1 to 6.
const PHONES: usize = 6;
/// Share of a faulty phone's requests whose connection the proxy cuts.
const CUT_CHANCE: f64 = 0.12;
/// The phones' drain after the faults, and a server's start, must end within this.
const SETTLE: Duration = Duration::from_secs(120);

const KINDS: [&str; 12] = [
    "cut_before_request",
    "cut_mid_request",
    "cut_after_request",
    "cut_before_answer",
    "cut_mid_answer",
    "duplicated_push",
    "reordered_push",
    "late_replay",
    "server_kill_9",
    "database_locked",
    "database_locked_long",
    "disk_full",
];

/// What the parts of a run share: the tally, the stop signal, what went wrong.
struct Run {
    id: String,
    faults: Mutex<BTreeMap<&'static str, u64>>,
    /// The server's answers by status.
    answers: Mutex<BTreeMap<u16, u64>>,
    /// Breaches of the protocol seen on the way (a 500, a retry answered
    /// differently); the run fails on any.
    broken: Mutex<Vec<String>>,
    /// Pushes in flight, so that a kill lands mid-batch.
    pushing: AtomicUsize,
    stop: AtomicBool,
}

impl Run {
    fn fault(&self, kind: &'static str) {
        *self.faults.lock().unwrap().entry(kind).or_default() += 1;
    }

    fn injecting(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    fn broken(&self, what: String) {
        eprintln!("BROKEN: {what}");
        self.broken.lock().unwrap().push(what);
    }

    /// A 503 (busy, retry later) and a 507 (no space for the photo) are the
    /// answers a phone waits out; a 500 says the server did not know what
    /// happened, which a fault of the disk or the database must not cause.
    /// Every refusal says why, in a sentence.
    fn answered(&self, status: u16, what: &str, body: &str) {
        *self.answers.lock().unwrap().entry(status).or_default() += 1;
        let said = serde_json::from_str::<Value>(body).unwrap_or_default()["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty());
        if status == 500 || (status > 503 && status != 507) || (status >= 400 && !said) {
            self.broken(format!("{what} answered {status}: {body}"));
        }
    }
}

/// The real server binary, a child process on a fixed port, so that it can be
/// killed and started again where the proxies point.
struct ServerProcess {
    binary: PathBuf,
    env: Vec<(String, String)>,
    addr: SocketAddr,
    log: PathBuf,
    child: Option<std::process::Child>,
    starts: u32,
}

impl ServerProcess {
    /// Runs a copy of the binary from `dir`: a build into the target folder
    /// during the run must not swap the server between two restarts.
    async fn start(dir: &Path, env: Vec<(String, String)>, addr: SocketAddr, log: PathBuf) -> Self {
        let binary = dir.join("server");
        std::fs::copy(env!("CARGO_BIN_EXE_server"), &binary).expect("a copy of the server binary");
        let mut server = ServerProcess {
            binary,
            env,
            addr,
            log,
            child: None,
            starts: 0,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let child = std::process::Command::new(&self.binary)
            .envs(self.env.iter().cloned())
            .stdout(log.try_clone().expect("server log"))
            .stderr(log)
            .spawn()
            .expect("the server binary starts");
        self.child = Some(child);
        self.starts += 1;
        let health = format!("http://{}/healthz", self.addr);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + SETTLE;
        loop {
            if let Ok(answer) = client.get(&health).send().await
                && answer.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start again; its log: {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `kill -9` (`Child::kill` is SIGKILL): no shutdown, no last flush.
    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("the killed server is reaped");
        }
    }

    /// How the server ended, if it ended by itself.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut()?.try_wait().expect("server status")
    }
}

/// A failed test leaves no server behind.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

#[derive(Clone, Copy, Debug)]
enum Cut {
    BeforeRequest,
    MidRequest,
    AfterRequest,
    BeforeAnswer,
    MidAnswer,
}

impl Cut {
    const ALL: [Cut; 5] = [
        Cut::BeforeRequest,
        Cut::MidRequest,
        Cut::AfterRequest,
        Cut::BeforeAnswer,
        Cut::MidAnswer,
    ];

    fn kind(self) -> &'static str {
        match self {
            Cut::BeforeRequest => "cut_before_request",
            Cut::MidRequest => "cut_mid_request",
            Cut::AfterRequest => "cut_after_request",
            Cut::BeforeAnswer => "cut_before_answer",
            Cut::MidAnswer => "cut_mid_answer",
        }
    }
}

/// A TCP proxy in front of the server for one phone. The phone opens a
/// connection per request, so a cut it arms falls on its next request.
struct Proxy {
    base: String,
    armed: Arc<Mutex<Option<(Cut, f64)>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr, run: Arc<Run>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let base = format!("http://{}", listener.local_addr().expect("proxy address"));
        let armed = Arc::new(Mutex::new(None));
        let next = armed.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let cut = next.lock().unwrap().take();
                let run = run.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(SETTLE, relay(client, upstream, cut, &run)).await;
                });
            }
        });
        Proxy { base, armed }
    }

    /// The next connection is cut at `cut`, `at` (0..1) of the way through
    /// the message it cuts.
    fn arm(&self, cut: Option<(Cut, f64)>) {
        *self.armed.lock().unwrap() = cut;
    }
}

/// One connection, passed through or cut; dropping the sockets closes them.
async fn relay(mut client: TcpStream, upstream: SocketAddr, cut: Option<(Cut, f64)>, run: &Run) -> std::io::Result<()> {
    let Some((cut, at)) = cut else {
        let mut server = TcpStream::connect(upstream).await?;
        tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        return Ok(());
    };
    if let Cut::BeforeRequest = cut {
        run.fault(cut.kind());
        return Ok(());
    }
    let request = read_message(&mut client).await?;
    let mut server = TcpStream::connect(upstream).await?;
    match cut {
        Cut::MidRequest => server.write_all(&request[..prefix(request.len(), at)]).await?,
        Cut::AfterRequest => server.write_all(&request).await?,
        Cut::BeforeAnswer | Cut::MidAnswer => {
            server.write_all(&request).await?;
            let answer = read_message(&mut server).await?;
            if let Cut::MidAnswer = cut {
                client.write_all(&answer[..prefix(answer.len(), at)]).await?;
            }
        }
        Cut::BeforeRequest => unreachable!("cut above"),
    }
    run.fault(cut.kind());
    Ok(())
}

/// Some of a message, never none of it nor all.
fn prefix(len: usize, at: f64) -> usize {
    ((len as f64 * at) as usize).clamp(1, len.saturating_sub(1).max(1))
}

/// One HTTP/1.1 message, whole: its head, then a body of Content-Length
/// bytes or chunks up to the last.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut message = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&message[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|n| n.trim().parse::<usize>().ok());
            let whole = match length {
                Some(n) => message.len() >= end + 4 + n,
                None if head.contains("transfer-encoding: chunked") => message.ends_with(b"0\r\n\r\n"),
                None => true,
            };
            if whole {
                return Ok(message);
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        message.extend_from_slice(&chunk[..n]);
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Visit,
    Resident,
}

/// An op as the phone saved it, to be found on the server at the end.
struct Saved {
    op_id: String,
    kind: Kind,
    /// The visit's or resident's id.
    record: String,
    /// The visit's notes or the resident's name: unique in the run, so a
    /// second copy under another id would show.
    tag: String,
}

/// An outbox entry: waiting (never sent, or sent without an answer), or
/// refused with the server's reason.
struct Entry {
    op: Value,
    refused: Option<String>,
}

enum PhotoState {
    Waiting,
    Stored,
    Refused(String),
}

struct Photo {
    hash: String,
    bytes: Vec<u8>,
    state: PhotoState,
}

/// A simulated phone: the outbox and photo queue of the real one, its
/// requests through its own proxy.
struct Phone {
    index: usize,
    device: String,
    worker: String,
    client: reqwest::Client,
    proxy: Proxy,
    run: Arc<Run>,
    rng: Rng,
    households: Vec<String>,
    /// Households outside the worker's grids: ops on them are refused.
    foreign: Vec<String>,
    outbox: Vec<Entry>,
    saved: Vec<Saved>,
    /// Ops the server answered applied (or conflict), by id.
    acknowledged: HashMap<String, String>,
    photos: Vec<Photo>,
    /// The last batch the server answered, to arrive again late.
    last_batch: Vec<Value>,
    /// Whether this phone meets faults (not in the drain).
    faulty: bool,
    saves: u64,
}

impl Phone {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.proxy.base)
    }

    async fn login(&self) {
        let deadline = Instant::now() + SETTLE;
        loop {
            let answer = self
                .client
                .post(self.url("/api/login"))
                .json(&json!({"username": self.worker, "password": common::PASSWORD}))
                .send()
                .await;
            if let Ok(answer) = answer
                && answer.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "{} cannot sign in", self.worker);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The worker saves one to three ops, as the forms do: mostly visits in
    /// their grid, some with photos (now and then one already taken), some
    /// new residents, and now and then a visit the server must refuse.
    fn save_some(&mut self) {
        for _ in 0..self.rng.range(1, 4) {
            self.saves += 1;
            let op_id = common::new_id();
            let record = common::new_id();
            let roll = self.rng.unit();
            let (kind, tag, change) = if roll < 0.15 {
                let tag = format!("演练{}-{}", self.index, self.saves);
                let household = self.rng.pick(&self.households).clone();
                let change = json!({"add_resident": {
                    "id": record, "household_id": household, "name": tag, "gender": "female",
                    "birth_date": "1960-05-01", "id_number": null, "phone": null,
                    "registration_type": "permanent", "tags": [],
                }});
                (Kind::Resident, tag, change)
            } else {
                let tag = format!("{} {}-{}", self.run.id, self.index, self.saves);
                let household = if roll < 0.25 {
                    self.rng.pick(&self.foreign).clone()
                } else {
                    self.rng.pick(&self.households).clone()
                };
                let photos: Vec<String> = (0..self.rng.weighted(&[6, 3, 1])).map(|_| self.take_photo()).collect();
                let change = json!({"record_visit": {
                    "id": record, "household_id": household,
                    "visited_at": app::state::now_ms() - 60_000,
                    "visit_type": "routine", "outcome": "met", "notes": tag, "photos": photos,
                }});
                (Kind::Visit, tag, change)
            };
            let op = json!({"op_id": op_id, "created_at": app::state::now_ms(), "change": change});
            self.outbox.push(Entry { op, refused: None });
            self.saved.push(Saved {
                op_id,
                kind,
                record,
                tag,
            });
        }
    }

    /// A new photo in the queue, or one of this phone's earlier ones again
    /// (the same photo on two records is stored once).
    fn take_photo(&mut self) -> String {
        if !self.photos.is_empty() && self.rng.chance(0.2) {
            return self.rng.pick(&self.photos).hash.clone();
        }
        let [r, g, b] = [0, 0, 0].map(|_: u8| self.rng.range(0, 256) as u8);
        let image = image::RgbImage::from_fn(120, 90, |x, y| {
            image::Rgb([r ^ (x as u8), g ^ (y as u8), b.wrapping_add((x * y) as u8)])
        });
        let mut jpeg = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image)
            .write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .expect("jpeg");
        let bytes = jpeg.into_inner();
        let hash = format!("{:x}", Sha256::digest(&bytes));
        self.photos.push(Photo {
            hash: hash.clone(),
            bytes,
            state: PhotoState::Waiting,
        });
        hash
    }

    /// Maybe a cut for the next request.
    fn arm(&mut self) {
        let cut = (self.faulty && self.rng.chance(CUT_CHANCE)).then(|| (*self.rng.pick(&Cut::ALL), self.rng.unit()));
        self.proxy.arm(cut);
    }

    fn waiting(&self) -> usize {
        self.outbox.iter().filter(|e| e.refused.is_none()).count()
            + self
                .photos
                .iter()
                .filter(|p| matches!(p.state, PhotoState::Waiting))
                .count()
    }

    /// One sync as the phone's engine runs it: the outbox in batches until
    /// one goes unanswered; then, all answered, the photo queue. `true` when
    /// everything was answered.
    async fn sync(&mut self) -> bool {
        let waiting: Vec<Value> = self
            .outbox
            .iter()
            .filter(|e| e.refused.is_none())
            .map(|e| e.op.clone())
            .collect();
        for batch in waiting.chunks(MAX_BATCH / 2) {
            if !self.push(batch).await {
                return false;
            }
        }
        self.upload_photos().await
    }

    async fn push(&mut self, batch: &[Value]) -> bool {
        let roll = if self.faulty { self.rng.unit() } else { 1.0 };
        if roll < 0.04 && !self.last_batch.is_empty() {
            self.run.fault("late_replay");
            let old = std::mem::take(&mut self.last_batch);
            self.proxy.arm(None);
            let answer = self.post_push(&old).await;
            self.check_replay(answer);
        }
        if (0.04..0.08).contains(&roll) {
            self.run.fault("duplicated_push");
            self.proxy.arm(None);
            let (first, second) = tokio::join!(self.post_push(batch), self.post_push(batch));
            if let (Some((200, a)), Some((200, b))) = (&first, &second)
                && a != b
            {
                self.run
                    .broken(format!("two copies of one push answered differently: {a} / {b}"));
            }
            let answered = self.take_answer(first).await;
            return self.take_answer(second).await || answered;
        }
        if (0.08..0.12).contains(&roll) && batch.len() >= 2 {
            self.run.fault("reordered_push");
            self.proxy.arm(None);
            let (early, late) = batch.split_at(batch.len() / 2);
            let answer = self.post_push(late).await;
            if !self.take_answer(answer).await {
                return false;
            }
            let answer = self.post_push(early).await;
            return self.take_answer(answer).await;
        }
        self.arm();
        let answer = self.post_push(batch).await;
        let answered = self.take_answer(answer).await;
        if answered {
            self.last_batch = batch.to_vec();
        }
        answered
    }

    /// `POST /api/sync/push`: the status and body, or `None` without an answer.
    async fn post_push(&self, ops: &[Value]) -> Option<(u16, String)> {
        self.run.pushing.fetch_add(1, Ordering::Relaxed);
        let sent = async {
            let answer = self
                .client
                .post(self.url("/api/sync/push"))
                .json(&json!({"device_id": self.device, "operations": ops}))
                .send()
                .await
                .ok()?;
            let status = answer.status().as_u16();
            Some((status, answer.text().await.ok()?))
        }
        .await;
        self.run.pushing.fetch_sub(1, Ordering::Relaxed);
        if let Some((status, body)) = &sent {
            self.run.answered(*status, "a push", body);
        }
        sent
    }

    /// What the engine does with a push's answer; `true` when it was one.
    async fn take_answer(&mut self, answer: Option<(u16, String)>) -> bool {
        let (status, body) = match answer {
            Some(answer) => answer,
            None => return false,
        };
        match status {
            200 => {}
            401 => {
                self.login().await;
                return false;
            }
            503 => {
                // Busy: back when the server said (as the phone's `back_off`).
                let busy: Value = serde_json::from_str(&body).expect("a busy answer");
                let secs = busy["retry_after"].as_u64().expect("retry_after");
                tokio::time::sleep(Duration::from_secs(secs)).await;
                return false;
            }
            _ => return false,
        }
        let answer: Value = serde_json::from_str(&body).expect("a push answer");
        for result in answer["results"].as_array().expect("results") {
            let op_id = result["op_id"].as_str().expect("op id");
            let reason = result["reason"].as_str().unwrap_or_default();
            match result["status"].as_str().expect("status") {
                status @ ("applied" | "conflict") => {
                    if self
                        .outbox
                        .iter()
                        .any(|e| e.op["op_id"] == op_id && e.refused.is_some())
                    {
                        self.run.broken(format!("op {op_id} refused, then answered {status}"));
                    }
                    self.outbox.retain(|e| e.op["op_id"] != op_id);
                    self.acknowledged.insert(op_id.to_owned(), status.to_owned());
                }
                _ => {
                    if self.acknowledged.contains_key(op_id) {
                        self.run.broken(format!("op {op_id} applied, then refused: {reason}"));
                    }
                    if reason.is_empty() {
                        self.run.broken(format!("op {op_id} refused without a reason"));
                    }
                    if let Some(entry) = self.outbox.iter_mut().find(|e| e.op["op_id"] == op_id) {
                        entry.refused = Some(reason.to_owned());
                    }
                }
            }
        }
        true
    }

    /// A batch answered before, arriving again: every op gets the answer it
    /// got the first time.
    fn check_replay(&self, answer: Option<(u16, String)>) {
        let Some((200, body)) = answer else { return };
        let answer: Value = serde_json::from_str(&body).expect("a push answer");
        for result in answer["results"].as_array().expect("results") {
            let op_id = result["op_id"].as_str().expect("op id");
            let now = result["status"].as_str().unwrap_or_default();
            let refused = self
                .outbox
                .iter()
                .any(|e| e.op["op_id"] == op_id && e.refused.is_some());
            let then = match self.acknowledged.get(op_id) {
                Some(status) => status.as_str(),
                None if refused => "rejected",
                None => continue,
            };
            if now != then {
                self.run
                    .broken(format!("op {op_id} answered {then}, then {now} when it came again"));
            }
        }
    }

    /// The photo queue, oldest first, until a photo goes unanswered or the
    /// server cannot take it now.
    async fn upload_photos(&mut self) -> bool {
        for i in 0..self.photos.len() {
            if !matches!(self.photos[i].state, PhotoState::Waiting) {
                continue;
            }
            self.arm();
            let photo = &self.photos[i];
            let sent = self
                .client
                .put(self.url(&format!("/api/photos/{}", photo.hash)))
                .header("content-type", "image/jpeg")
                .body(photo.bytes.clone())
                .send()
                .await;
            let Ok(answer) = sent else { return false };
            let status = answer.status().as_u16();
            let Ok(body) = answer.text().await else { return false };
            self.run.answered(status, "a photo upload", &body);
            self.photos[i].state = match status {
                200 | 201 => PhotoState::Stored,
                413 | 415 | 422 => {
                    let message: Value = serde_json::from_str(&body).unwrap_or_default();
                    PhotoState::Refused(message["message"].as_str().unwrap_or_default().to_owned())
                }
                401 => {
                    self.login().await;
                    return false;
                }
                _ => return false,
            };
        }
        true
    }

    /// The phone at work while faults are injected.
    async fn work(mut self) -> Phone {
        while self.run.injecting() {
            self.save_some();
            let pause = if self.sync().await { (0, 30) } else { (20, 150) };
            tokio::time::sleep(Duration::from_millis(self.rng.range(pause.0, pause.1))).await;
        }
        self
    }

    /// After the faults: syncs until nothing waits. `false` if something
    /// still waits at `until`.
    async fn drain(&mut self, until: Instant) -> bool {
        self.faulty = false;
        self.proxy.arm(None);
        while Instant::now() < until {
            if self.sync().await && self.waiting() == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}

/// Another connection holding the database's write lock for `hold`.
async fn hold_write_lock(database_url: &str, hold: Duration) {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::AnyConnection::connect(database_url)
        .await
        .expect("lock connection");
    let lock = if database_url.starts_with("sqlite:") {
        "BEGIN EXCLUSIVE"
    } else {
        "BEGIN; LOCK TABLE applied_ops, visits, residents IN EXCLUSIVE MODE"
    };
    conn.execute(lock).await.expect("take the write lock");
    tokio::time::sleep(hold).await;
    conn.execute("ROLLBACK").await.expect("release it");
    conn.close().await.expect("close");
}

/// The photos' own small filesystem (a tmpfs mounted for the run), so that
/// filling it is a real "no space left on device". Mounting needs root.
struct PhotoDisk {
    root: PathBuf,
}

impl PhotoDisk {
    fn mount(root: &Path) -> Option<PhotoDisk> {
        std::fs::create_dir_all(root).expect("photo folder");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=128m", "gridwalk-faults"])
            .arg(root)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| PhotoDisk { root: root.to_owned() })
    }

    fn ballast(&self) -> PathBuf {
        self.root.join("ballast")
    }

    /// Writes until the disk refuses another byte.
    fn fill(&self) {
        let mut file = std::fs::File::create(self.ballast()).expect("ballast");
        for size in [1 << 20, 4096, 1] {
            let block = vec![0u8; size];
            while std::io::Write::write_all(&mut file, &block).is_ok() {}
        }
    }

    fn clear(&self) {
        std::fs::remove_file(self.ballast()).expect("ballast removed");
    }
}

impl Drop for PhotoDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.root).status();
    }
}

/// The server-side faults, one at a time, until the run stops: kill -9
/// while phones push, the write lock held, the photo disk full.
async fn inject_server_faults(
    run: Arc<Run>,
    mut server: ServerProcess,
    database_url: String,
    disk: Option<Arc<PhotoDisk>>,
    mut rng: Rng,
) -> ServerProcess {
    // kill -9, a short lock, a long one, a full disk.
    let weights = [4, 3, 1, if disk.is_some() { 3 } else { 0 }];
    // Each kind once first (in an order of the seed's), so a short run has all.
    let mut unmet: Vec<usize> = (0..weights.len()).filter(|&k| weights[k] > 0).collect();
    for i in (1..unmet.len()).rev() {
        unmet.swap(i, rng.range(0, i as u64 + 1) as usize);
    }
    while run.injecting() {
        tokio::time::sleep(Duration::from_millis(rng.range(50, 400))).await;
        if let Some(status) = server.exited() {
            run.broken(format!("the server stopped by itself ({status})"));
            server.spawn().await;
        }
        match unmet.pop().unwrap_or_else(|| rng.weighted(&weights)) {
            0 => {
                let until = Instant::now() + Duration::from_secs(2);
                while run.pushing.load(Ordering::Relaxed) == 0 && Instant::now() < until {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                tokio::time::sleep(Duration::from_millis(rng.range(0, 40))).await;
                let mid_push = run.pushing.load(Ordering::Relaxed) > 0;
                server.kill9();
                run.fault(if mid_push {
                    "server_kill_9"
                } else {
                    "server_kill_9_idle"
                });
                tokio::time::sleep(Duration::from_millis(rng.range(0, 300))).await;
                server.spawn().await;
            }
            1 => {
                hold_write_lock(&database_url, Duration::from_millis(rng.range(100, 1_500))).await;
                run.fault("database_locked");
            }
            2 => {
                // Past SQLite's busy timeout (5 s): the server answers 503
                // busy. (PostgreSQL's writers simply wait their turn.)
                hold_write_lock(&database_url, Duration::from_millis(rng.range(5_500, 7_000))).await;
                run.fault("database_locked_long");
            }
            _ => {
                let disk = disk.as_ref().expect("weighted out without a disk");
                disk.fill();
                tokio::time::sleep(Duration::from_millis(rng.range(200, 2_000))).await;
                disk.clear();
                run.fault("disk_full");
            }
        }
    }
    server
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// What the database says about the phones' ops and photos.
#[derive(Default)]
struct Figures {
    ops: usize,
    once: usize,
    refused: usize,
    lost: usize,
    duplicated: usize,
    photos: usize,
    photos_refused: usize,
    photos_lost: usize,
    photos_duplicated: usize,
    /// What contradicts the promise otherwise (refused on the phone yet on
    /// the server, refused without a reason).
    contradictions: Vec<String>,
}

fn count_by<T: std::hash::Hash + Eq>(values: impl IntoIterator<Item = T>) -> HashMap<T, usize> {
    let mut counts = HashMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    counts
}

async fn check(run: &Run, phones: &[Phone], pool: &sqlx::AnyPool, photo_root: &Path) -> Figures {
    let applied: HashMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT op_id, status FROM applied_ops WHERE device_id LIKE $1")
            .bind(format!("{}-%", run.id))
            .fetch_all(pool)
            .await
            .expect("applied ops")
            .into_iter()
            .collect();
    let visits: Vec<(String, String)> = sqlx::query_as("SELECT id, notes FROM visits WHERE notes LIKE $1")
        .bind(format!("{} %", run.id))
        .fetch_all(pool)
        .await
        .expect("visits");
    let residents: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM residents WHERE name LIKE $1")
        .bind("演练%")
        .fetch_all(pool)
        .await
        .expect("residents");
    let changes: Vec<String> = sqlx::query_scalar(
        "SELECT c.entity_id FROM changes c JOIN visits v ON v.id = c.entity_id WHERE v.notes LIKE $1",
    )
    .bind(format!("{} %", run.id))
    .fetch_all(pool)
    .await
    .expect("changes");
    let photo_rows: Vec<String> = sqlx::query_scalar("SELECT hash FROM photos")
        .fetch_all(pool)
        .await
        .expect("photos");

    let records: HashSet<&str> = visits.iter().chain(&residents).map(|(id, _)| id.as_str()).collect();
    let tags = count_by(visits.iter().chain(&residents).map(|(_, tag)| tag.as_str()));
    let changes = count_by(changes.iter().map(String::as_str));
    let photo_rows = count_by(photo_rows.iter().map(String::as_str));
    let mut figures = Figures::default();
    let mut saved_tags = HashSet::new();
    for phone in phones {
        for saved in &phone.saved {
            figures.ops += 1;
            saved_tags.insert(saved.tag.as_str());
            let on_server = records.contains(saved.record.as_str());
            let copies = tags.get(saved.tag.as_str()).copied().unwrap_or(0);
            figures.duplicated += copies.saturating_sub(1);
            if saved.kind == Kind::Visit {
                figures.duplicated += changes
                    .get(saved.record.as_str())
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(1);
            }
            let refused = phone
                .outbox
                .iter()
                .find(|e| e.op["op_id"] == saved.op_id.as_str())
                .and_then(|e| e.refused.as_deref());
            if phone.acknowledged.contains_key(&saved.op_id) {
                let remembered = applied.get(&saved.op_id).map(String::as_str);
                if on_server && matches!(remembered, Some("applied" | "conflict")) {
                    figures.once += 1;
                } else {
                    figures.lost += 1;
                    eprintln!(
                        "LOST: op {} ({:?} {}), remembered {remembered:?}",
                        saved.op_id, saved.kind, saved.record
                    );
                }
            } else if let Some(reason) = refused {
                figures.refused += 1;
                if reason.is_empty() || on_server || applied.get(&saved.op_id).map(String::as_str) != Some("rejected") {
                    figures.contradictions.push(format!(
                        "op {} refused on the phone ({reason:?}) but on the server",
                        saved.op_id
                    ));
                }
            } else {
                figures.lost += 1;
                eprintln!("LOST: op {} still waits on phone {}", saved.op_id, phone.index);
            }
        }
    }
    // A visit or resident of this run that no phone saved is a copy from nowhere.
    figures.duplicated += tags
        .iter()
        .filter(|(tag, _)| !saved_tags.contains(**tag))
        .map(|(_, n)| n)
        .sum::<usize>();

    let mut seen = HashSet::new();
    for photo in phones.iter().flat_map(|p| &p.photos) {
        if !seen.insert(photo.hash.as_str()) {
            continue;
        }
        figures.photos += 1;
        let rows = photo_rows.get(photo.hash.as_str()).copied().unwrap_or(0);
        figures.photos_duplicated += rows.saturating_sub(1);
        match &photo.state {
            PhotoState::Stored => {
                let objects = ["photos", "thumbs"].iter().all(|folder| {
                    let path = photo_root
                        .join(folder)
                        .join(&photo.hash[..2])
                        .join(format!("{}.jpg", photo.hash));
                    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
                });
                if rows == 0 || !objects {
                    figures.photos_lost += 1;
                    eprintln!("LOST: photo {} (row: {rows}, files: {objects})", photo.hash);
                }
            }
            PhotoState::Refused(reason) => {
                figures.photos_refused += 1;
                if reason.is_empty() || rows > 0 {
                    figures
                        .contradictions
                        .push(format!("photo {} refused ({reason:?}) yet stored", photo.hash));
                }
            }
            PhotoState::Waiting => {
                figures.photos_lost += 1;
                eprintln!("LOST: photo {} still waits", photo.hash);
            }
        }
    }
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_saved_operation_is_on_the_server_once_or_refused_with_a_reason_whatever_the_faults() {
    let target = env_number("GRIDWALK_FAULTS").unwrap_or(100);
    let seed = env_number("GRIDWALK_FAULTS_SEED").unwrap_or_else(|| app::state::now_ms() as u64);
    let minutes = env_number("GRIDWALK_FAULTS_MINUTES").unwrap_or(3);
    let engine = if common::postgres_admin_url().is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!("fault run: seed {seed} (replay: GRIDWALK_FAULTS_SEED={seed}), {target} faults, {engine}");
    let started = Instant::now();

    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = common::fresh_database(dir.path()).await;
    let photo_root = dir.path().join("photos");
    let disk = PhotoDisk::mount(&photo_root).map(Arc::new);
    if disk.is_none() {
        eprintln!("disk full: not injected (mounting a tmpfs for the photos needs root)");
    }
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let env = [
        ("GRIDWALK_CONFIG", dir.path().join("none.toml").display().to_string()),
        ("GRIDWALK_DATABASE_URL", database_url.clone()),
        ("GRIDWALK_PHOTO_STORE", photo_root.display().to_string()),
        ("GRIDWALK_ADDR", addr.to_string()),
        ("GRIDWALK_SITE_ROOT", dir.path().join("site").display().to_string()),
        ("GRIDWALK_SYNC_RETRY_AFTER_SECS", "1".into()),
        ("GRIDWALK_PHOTO_DAILY_QUOTA", "0".into()),
        ("RUST_LOG", "warn".into()),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .to_vec();
    let log = dir.path().join("server.log");
    let server = ServerProcess::start(dir.path(), env, addr, log.clone()).await;

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&database_url).await.expect("look in");
    let run = Arc::new(Run {
        id: format!("faults-{seed}"),
        faults: Mutex::default(),
        answers: Mutex::default(),
        broken: Mutex::default(),
        pushing: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let households = |grid: usize| {
        sqlx::query_scalar::<_, String>(
            "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id
             JOIN grids g ON g.id = b.grid_id WHERE g.name = $1 ORDER BY h.id LIMIT 40",
        )
        .bind(format!("第{grid}网格"))
        .fetch_all(&pool)
    };
    let mut phones = Vec::new();
    for index in 1..=PHONES {
        let phone = Phone {
            index,
            device: format!("{}-{index}", run.id),
            worker: format!("worker{index}"),
            client: reqwest::Client::builder()
                .cookie_store(true)
                // A connection per request: a cut falls on the one armed.
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            proxy: Proxy::start(addr, run.clone()).await,
            run: run.clone(),
            rng: Rng::new(seed ^ ((index as u64) << 32)),
            households: households(index).await.expect("households"),
            foreign: households(index % PHONES + 1).await.expect("households"),
            outbox: Vec::new(),
            saved: Vec::new(),
            acknowledged: HashMap::new(),
            photos: Vec::new(),
            last_batch: Vec::new(),
            faulty: true,
            saves: 0,
        };
        phone.login().await;
        phones.push(phone);
    }

    let working: Vec<_> = phones.into_iter().map(|p| tokio::spawn(p.work())).collect();
    let injector = tokio::spawn(inject_server_faults(
        run.clone(),
        server,
        database_url.clone(),
        disk.clone(),
        Rng::new(seed),
    ));
    let kinds: Vec<&str> = KINDS
        .into_iter()
        .filter(|k| disk.is_some() || *k != "disk_full")
        .collect();
    let deadline = started + Duration::from_secs(minutes * 60);
    loop {
        let enough = {
            let faults = run.faults.lock().unwrap();
            faults.values().sum::<u64>() >= target && kinds.iter().all(|k| faults.contains_key(k))
        };
        if enough || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run.stop.store(true, Ordering::Relaxed);
    let injecting = started.elapsed();
    let mut server = injector.await.expect("fault injector");
    let mut phones = Vec::new();
    for phone in working {
        phones.push(phone.await.expect("phone"));
    }
    if let Some(status) = server.exited() {
        run.broken(format!("the server stopped by itself ({status})"));
        server.spawn().await;
    }
    let until = Instant::now() + SETTLE;
    for phone in &mut phones {
        assert!(
            phone.drain(until).await,
            "phone {} could not sync after the faults",
            phone.index
        );
    }
    let figures = check(&run, &phones, &pool, &photo_root).await;
    let elapsed = started.elapsed();

    let faults = run.faults.lock().unwrap().clone();
    let total: u64 = faults.values().sum();
    println!(
        "fault run ({engine}, seed {seed}): {total} faults injected in {:.0} s, {:.0} s in all; server started {} times",
        injecting.as_secs_f64(),
        elapsed.as_secs_f64(),
        server.starts
    );
    for (kind, n) in &faults {
        println!("  {kind:<30} {n:>6}");
    }
    println!(
        "operations: {} saved, {} on the server once, {} refused with a reason; lost {}, duplicated {}",
        figures.ops, figures.once, figures.refused, figures.lost, figures.duplicated
    );
    println!(
        "photos: {} taken, {} refused; lost {}, duplicated {}",
        figures.photos, figures.photos_refused, figures.photos_lost, figures.photos_duplicated
    );
    println!("answers by status: {:?}", run.answers.lock().unwrap());
    drop(server);
    pool.close().await;

    let broken = run.broken.lock().unwrap().clone();
    let failed = !broken.is_empty()
        || !figures.contradictions.is_empty()
        || figures.lost + figures.duplicated + figures.photos_lost + figures.photos_duplicated > 0;
    let log = if failed {
        // Kept for a look: the server's log and database.
        dir.keep().join("server.log")
    } else {
        log
    };
    assert!(
        broken.is_empty(),
        "seed {seed}: {broken:#?}\nserver log: {}",
        log.display()
    );
    assert!(
        figures.contradictions.is_empty(),
        "seed {seed}: {:#?}",
        figures.contradictions
    );
    assert_eq!(
        (figures.lost, figures.duplicated),
        (0, 0),
        "seed {seed}: ops lost, duplicated"
    );
    assert_eq!(
        (figures.photos_lost, figures.photos_duplicated),
        (0, 0),
        "seed {seed}: photos lost, duplicated"
    );
    assert!(
        figures.ops > 0 && figures.once > 0 && figures.refused > 0,
        "seed {seed}"
    );
    assert!(
        total >= target && kinds.iter().all(|k| faults.contains_key(k)),
        "seed {seed}: only {faults:?} within {minutes} minutes"
    );
}
