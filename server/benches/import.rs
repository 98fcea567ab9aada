//! Import benchmark: a community of 10,000 households and 30,000 residents
//! as a street office would upload it (two XLSX ledgers), through the real
//! server over HTTP — the dry run, then the import — beside the baseline of
//! reading the same file alone. Memory is the process's resident size above
//! what it was before each step, and its peak in all (the server runs in this
//! process, the bench's own files are a few MB), sampled every 5 ms. Prints Markdown rows for BENCHMARKS.md.
//!
//! `cargo bench -p server --bench import` (SQLite in a temp folder); with
//! `GRIDWALK_BENCH_POSTGRES=postgres://…/db` (an empty database) on PostgreSQL too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::domain::{IdCardNumber, Role};
use gridwalk_server::config::Settings;
use gridwalk_server::import::{Kind, read};
use rust_xlsxwriter::Workbook;

const HOUSEHOLDS: usize = 10_000;
const PER_HOUSEHOLD: usize = 3;
const PASSWORD: &str = "bench-import-2026";

/// (building, unit, door) of household `i`: 50 doors a building, 2 units × 5 floors × 5 doors.
fn household(i: usize) -> (String, u32, String) {
    let (building, within) = (i / 50, i % 50);
    let (unit, floor, door) = (within / 25 + 1, within % 25 / 5 + 1, within % 5 + 1);
    (
        format!("{}号楼", building + 1),
        unit as u32,
        format!("{floor}{door:02}"),
    )
}

fn territory_file() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["社区", "网格", "楼栋", "单元", "门牌号", "层数"].iter().enumerate() {
        sheet.write(0, c as u16, *h).unwrap();
    }
    for i in 0..HOUSEHOLDS {
        let (building, unit, door) = household(i);
        let r = i as u32 + 1;
        sheet.write(r, 0, "导入社区").unwrap();
        sheet.write(r, 1, format!("第{}网格", i / 1000 + 1)).unwrap();
        sheet.write(r, 2, building).unwrap();
        sheet.write(r, 3, unit).unwrap();
        sheet.write(r, 4, door).unwrap();
        sheet.write(r, 5, 5).unwrap();
    }
    book.save_to_buffer().unwrap()
}

fn residents_file() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "姓名",
        "身份证号",
        "联系电话",
        "户籍类型",
        "重点人群",
        "网格",
        "楼栋",
        "单元",
        "门牌号",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write(0, c as u16, *h).unwrap();
    }
    let text = rust_xlsxwriter::Format::new().set_num_format("@");
    let tags = ["", "", "独居老人", "低保户", "", "残疾人、低保户"];
    for n in 0..HOUSEHOLDS * PER_HOUSEHOLD {
        let i = n / PER_HOUSEHOLD;
        let (building, unit, door) = household(i);
        let year = 1940 + n % 70;
        let id =
            IdCardNumber::with_check_char(&format!("110105{year}0{}1{}{:03}", n % 9 + 1, n % 9, n % 1000)).unwrap();
        let r = n as u32 + 1;
        sheet.write(r, 0, format!("居民{n}")).unwrap();
        sheet.write_with_format(r, 1, id.as_str(), &text).unwrap();
        sheet.write(r, 2, format!("139{:08}", n)).unwrap();
        sheet.write(r, 3, if n % 4 == 0 { "流动" } else { "户籍" }).unwrap();
        sheet.write(r, 4, tags[n % tags.len()]).unwrap();
        sheet.write(r, 5, format!("第{}网格", i / 1000 + 1)).unwrap();
        sheet.write(r, 6, building).unwrap();
        sheet.write(r, 7, unit).unwrap();
        sheet.write(r, 8, door).unwrap();
    }
    book.save_to_buffer().unwrap()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `step`, answering its time and the peak resident size (MB) above the
/// start and in all.
async fn measured<T>(step: impl Future<Output = T>) -> (T, Duration, (u64, u64)) {
    let start_rss = rss_kib();
    let peak = Arc::new(AtomicU64::new(start_rss));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    let out = step.await;
    let took = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let peak = peak.load(Ordering::Relaxed);
    (out, took, (peak.saturating_sub(start_rss) / 1024, peak / 1024))
}

async fn upload(client: &reqwest::Client, base: &str, kind: Kind, file: Vec<u8>) -> String {
    let form = reqwest::multipart::Form::new()
        .text("kind", kind.as_str())
        .part("file", reqwest::multipart::Part::bytes(file).file_name("ledger.xlsx"));
    let response = client
        .post(format!("{base}/manage/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "dry run of {}", kind.as_str());
    response.text().await.unwrap().replace("<!>", "")
}

async fn confirm(client: &reqwest::Client, base: &str, page: &str) -> String {
    let marker = "action=\"/manage/import/";
    let at = page.find(marker).expect("a clean dry run") + marker.len();
    let response = client
        .post(format!("{base}/manage/import/{}", &page[at..at + 36]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap().replace("<!>", "")
}

/// "将新建 10000 · …" from a page.
fn summary(page: &str, marker: &str) -> String {
    page.find(marker)
        .map(|at| page[at..].split('<').next().unwrap_or("").to_owned())
        .unwrap_or_default()
}

async fn run(engine: &str, database_url: String, files: &[(Kind, Vec<u8>)]) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        database_url,
        photo_store: dir.path().join("photos").display().to_string(),
        addr: "127.0.0.1:0".into(),
        site_root: dir.path().display().to_string(),
        log_format: "text".into(),
        ..Settings::default()
    };
    let server = gridwalk_server::build(settings.clone()).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let store = gridwalk_server::db::connect(&settings).await.unwrap();
    let admin = gridwalk_server::staff::users::NewAccount {
        username: "bench".into(),
        display_name: "bench".into(),
        role: Role::Admin,
        community_id: None,
        password: Some(PASSWORD.into()),
        party_member: None,
    };
    gridwalk_server::staff::users::create(&store, admin, None)
        .await
        .unwrap();
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let login = client
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": "bench", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    for (kind, file) in files {
        let rows = match kind {
            Kind::Territory => HOUSEHOLDS,
            _ => HOUSEHOLDS * PER_HOUSEHOLD,
        };
        let what = format!("{} ({rows} rows, {} KB)", kind.label(), file.len() / 1024);
        let (_, read_time, read_mem) = measured(async { read(file, "ledger.xlsx", *kind).unwrap() }).await;
        let (page, dry_time, dry_mem) = measured(upload(&client, &base, *kind, file.clone())).await;
        let (done, import_time, import_mem) = measured(confirm(&client, &base, &page)).await;
        println!(
            "| {engine} | {what} | {:.2} s, +{} MB | {:.2} s, +{} MB | {:.2} s, +{} MB (process peak {} MB) | {} |",
            read_time.as_secs_f64(),
            read_mem.0,
            dry_time.as_secs_f64(),
            dry_mem.0,
            import_time.as_secs_f64(),
            import_mem.0,
            import_mem.1,
            summary(&done, "已导入")
        );
        // The same file again: a dry run that finds nothing to do.
        let (again, again_time, _) = measured(upload(&client, &base, *kind, file.clone())).await;
        println!(
            "| {engine} | {what}, again | | {:.2} s | | {} |",
            again_time.as_secs_f64(),
            summary(&again, "将新建")
        );
    }
    let _ = stop.send(());
    let _ = running.await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let files = [(Kind::Territory, territory_file()), (Kind::Residents, residents_file())];
    println!("| engine | file | read alone (baseline) | dry run (HTTP) | import (HTTP) | outcome |");
    println!("|---|---|---:|---:|---:|---|");
    let dir = tempfile::tempdir().unwrap();
    run(
        "SQLite",
        format!("sqlite://{}", dir.path().join("bench.db").display()),
        &files,
    )
    .await;
    if let Ok(url) = std::env::var("GRIDWALK_BENCH_POSTGRES") {
        run("PostgreSQL", url, &files).await;
    }
}
