//! Photos over real HTTP: stored once under their hash, without the original's
//! metadata, shown only to those who may see the record it is bound to,
//! hostile files refused with nothing stored, a cut upload completed by its
//! retry, a slow upload let through while its bytes come and a stalled one
//! refused; the sweep of photos and notice files no record names. In the
//! folder, or in S3-compatible storage when the suite runs with
//! `GRIDWALK_TEST_S3_BUCKET`.

#[allow(dead_code)]
mod common;

use std::io::{Cursor, Write};

use common::{TestServer, new_id};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A camera-like JPEG: noise (so it does not compress to nothing) and an EXIF
/// segment with a GPS position, as phones write it.
fn camera_jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        let v = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed.wrapping_mul(2_654_435_761)) as u8;
        Rgb([v, v.wrapping_add(x as u8), v.wrapping_add(y as u8)])
    });
    let mut jpeg = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image)
        .write_to(&mut jpeg, ImageFormat::Jpeg)
        .unwrap();
    let jpeg = jpeg.into_inner();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&exif_gps_segment());
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// APP1 "Exif": IFD0 with a GPS pointer, the GPS IFD with 39°54'12.34"N.
fn exif_gps_segment() -> Vec<u8> {
    let mut tiff: Vec<u8> = b"II\x2A\x00\x08\x00\x00\x00".to_vec();
    let entry = |tag: u16, kind: u16, count: u32, value: u32| {
        let mut e = tag.to_le_bytes().to_vec();
        e.extend_from_slice(&kind.to_le_bytes());
        e.extend_from_slice(&count.to_le_bytes());
        e.extend_from_slice(&value.to_le_bytes());
        e
    };
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend(entry(0x8825, 4, 1, 26));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend(entry(0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0")));
    tiff.extend(entry(0x0002, 5, 3, 56));
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (num, den) in [(39u32, 1u32), (54, 1), (1234, 100)] {
        tiff.extend_from_slice(&num.to_le_bytes());
        tiff.extend_from_slice(&den.to_le_bytes());
    }
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend(tiff);
    segment
}

async fn upload(server: &TestServer, client: &reqwest::Client, hash: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = client
        .put(server.url(&format!("/api/photos/{hash}")))
        .header("content-type", "image/jpeg")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn photo_op(resident: &str, base: Option<&str>, hash: &str) -> Value {
    json!({
        "op_id": new_id(),
        "created_at": app::state::now_ms(),
        "change": {"edit_resident": {
            "id": resident,
            "changes": [{"field": "photo", "base": base, "value": hash}],
        }},
    })
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&server.pool).await.unwrap()
}

#[tokio::test]
async fn a_camera_photo_is_stored_once_without_its_location_and_shown_only_to_its_grid() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (_, resident) = server.household_in("第1网格").await;

    let original = camera_jpeg(2400, 1800, 1);
    assert!(original.windows(4).any(|w| w == b"Exif"), "the fixture carries EXIF");
    let hash = sha256(&original);

    let (status, stored) = upload(&server, &worker, &hash, original.clone()).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["created"], true);
    assert_eq!(
        (stored["width"].as_i64(), stored["height"].as_i64()),
        (Some(1600), Some(1200))
    );
    // The same photo again (a retry, or a second attempt): one object.
    let (status, again) = upload(&server, &worker, &hash, original.clone()).await;
    assert_eq!((status, &again["created"]), (200, &json!(false)));
    assert_eq!(server.stored_objects().await.len(), 2, "one photo and one thumbnail");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM photos").await, 1);

    // Not yet named by any record: only its uploader sees it.
    let other_worker = server.login_as("worker2").await;
    let url = server.url(&format!("/api/photos/{hash}"));
    assert_eq!(other_worker.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(worker.get(&url).send().await.unwrap().status(), 200);

    let (status, body) = server
        .push(&worker, "phone-1", &[photo_op(&resident, None, &hash)])
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    let detail = server.get_json(&worker, &format!("/api/residents/{resident}")).await;
    assert_eq!(detail["photo"], hash.as_str());

    for (path, long_side) in [(url.clone(), 1600), (format!("{url}/thumb"), 320)] {
        let response = worker.get(&path).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "image/jpeg");
        let cache = headers["cache-control"].to_str().unwrap();
        assert!(cache.contains("private") && !cache.contains("public"), "{cache}");
        let bytes = response.bytes().await.unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"Exif"), "EXIF left in {path}");
        assert!(
            !bytes.windows(2).any(|w| w == [0xFF, 0xE1]),
            "an APP1 segment left in {path}"
        );
        let image = image::load_from_memory(&bytes).unwrap();
        assert_eq!(image.width().max(image.height()), long_side, "{path}");
        // A revalidation is answered without the bytes (and logged as a view).
        let etag = headers["etag"].to_str().unwrap();
        let revalidated = worker.get(&path).header("if-none-match", etag).send().await.unwrap();
        assert_eq!(revalidated.status(), 304);
    }

    // The lead of the community sees it; another grid's worker and nobody
    // signed in do not.
    let lead = server.login_as("lead1").await;
    assert_eq!(lead.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(other_worker.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(
        other_worker.get(format!("{url}/thumb")).send().await.unwrap().status(),
        404
    );
    assert_eq!(server.client().get(&url).send().await.unwrap().status(), 401);
    // (A small body: the refusal comes before the body is read.)
    let small = camera_jpeg(64, 48, 9);
    assert_eq!(upload(&server, &server.client(), &sha256(&small), small).await.0, 401);
    let reads = count(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'photo' AND action = 'read'",
    )
    .await;
    let denied = count(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'photo' AND action = 'denied'",
    )
    .await;
    assert_eq!((reads, denied), (6, 3), "every view and every refusal is logged");

    // Naming someone else's stored photo in a record of one's own grid does
    // not hand it over: the record is refused.
    let grid2_worker: String = server
        .scalar(
            "SELECT u.username FROM users u JOIN user_grids ug ON ug.user_id = u.id JOIN grids g ON g.id = ug.grid_id
             WHERE g.name = $1 LIMIT 1",
            "第2网格",
        )
        .await;
    let claimer = server.login_as(&grid2_worker).await;
    let (their_household, _) = server.household_in("第2网格").await;
    let claim = json!({
        "op_id": new_id(),
        "created_at": app::state::now_ms(),
        "change": {"record_visit": {
            "id": new_id(), "household_id": their_household, "visited_at": app::state::now_ms() - 1000,
            "visit_type": "routine", "outcome": "met", "photos": [hash],
        }},
    });
    let (_, body) = server.push(&claimer, "phone-2", &[claim]).await;
    assert_eq!(body["results"][0]["status"], "rejected", "{body}");
    assert_eq!(claimer.get(&url).send().await.unwrap().status(), 404);

    // A new photo replaces it; the old one stays in the history, still visible.
    let second = camera_jpeg(800, 600, 2);
    let second_hash = sha256(&second);
    // The record may arrive before its photo.
    let (_, body) = server
        .push(&worker, "phone-1", &[photo_op(&resident, Some(&hash), &second_hash)])
        .await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    let detail = server.get_json(&worker, &format!("/api/residents/{resident}")).await;
    assert_eq!(detail["photo"], second_hash.as_str());
    assert_eq!(detail["photo_history"], json!([hash]));
    let second_url = server.url(&format!("/api/photos/{second_hash}"));
    assert_eq!(
        worker.get(&second_url).send().await.unwrap().status(),
        404,
        "not uploaded yet"
    );
    assert_eq!(upload(&server, &worker, &second_hash, second).await.0, 201);
    assert_eq!(worker.get(&second_url).send().await.unwrap().status(), 200);
    assert_eq!(worker.get(&url).send().await.unwrap().status(), 200);

    // The phone's copy learns the photo through pull.
    let pulled = server.get_json(&worker, "/api/sync/pull?cursor=0&limit=5000").await;
    let record = pulled["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == resident.as_str())
        .expect("the resident is pulled");
    assert_eq!(record["photo"], second_hash.as_str());
}

#[tokio::test]
async fn visit_photos_are_listed_with_the_visit_and_checked_as_hashes() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (household, _) = server.household_in("第1网格").await;
    let photo = camera_jpeg(640, 480, 3);
    let hash = sha256(&photo);
    let visit = |photos: Vec<String>| {
        json!({
            "op_id": new_id(),
            "created_at": app::state::now_ms(),
            "change": {"record_visit": {
                "id": new_id(), "household_id": household, "visited_at": app::state::now_ms() - 1000,
                "visit_type": "routine", "outcome": "met", "photos": photos,
            }},
        })
    };
    let too_many: Vec<String> = (0..7).map(|i| sha256(&[i])).collect();
    let (_, body) = server
        .push(
            &worker,
            "phone-1",
            &[
                visit(vec![hash.clone()]),
                visit(too_many),
                visit(vec!["../etc/passwd".into()]),
            ],
        )
        .await;
    let statuses: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["applied", "rejected", "rejected"], "{body}");
    assert!(body["results"][1]["reason"].as_str().unwrap().contains("最多"));

    assert_eq!(upload(&server, &worker, &hash, photo).await.0, 201);
    let detail = server.get_json(&worker, &format!("/api/households/{household}")).await;
    assert_eq!(detail["visits"][0]["photos"], json!([hash]));
    let other_worker = server.login_as("worker2").await;
    let thumb = server.url(&format!("/api/photos/{hash}/thumb"));
    assert_eq!(worker.get(&thumb).send().await.unwrap().status(), 200);
    assert_eq!(other_worker.get(&thumb).send().await.unwrap().status(), 404);
}

/// A JPEG whose frame header declares `width` × `height`: what a
/// decompression bomb looks like before it is decoded.
fn with_declared_size(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

/// A PNG whose header declares a huge image over a few bytes of zeros.
fn png_bomb() -> Vec<u8> {
    let mut png = Cursor::new(Vec::new());
    DynamicImage::new_luma8(8, 8)
        .write_to(&mut png, ImageFormat::Png)
        .unwrap();
    let mut png = png.into_inner();
    // IHDR: length (4) type (4) width (4) height (4) … CRC over type + data.
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn hostile_files_get_a_clear_refusal_and_nothing_is_stored() {
    let server = TestServer::start_with(|s| s.photo_max_bytes = 1024 * 1024).await;
    let worker = server.login_as("worker1").await;
    let good = camera_jpeg(400, 300, 4);

    let mut zip_polyglot = good.clone();
    zip_polyglot.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00evil.php<?php system($_GET[c]); ?>PK\x05\x06");
    let script = b"<script>alert(document.cookie)</script>";
    let mut html_in_comment = vec![0xFF, 0xD8, 0xFF, 0xFE, 0, (script.len() + 2) as u8];
    html_in_comment.extend_from_slice(script);
    html_in_comment.extend_from_slice(&good[2..]);
    let mut oversized = camera_jpeg(1600, 1200, 5);
    while oversized.len() <= 1024 * 1024 {
        oversized = [
            &oversized[..2],
            &vec![0xFF, 0xFE, 0xFF, 0xFF][..],
            &vec![b'x'; 65533],
            &oversized[2..],
        ]
        .concat();
    }
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("truncated", good[..good.len() / 2].to_vec(), 422),
        ("garbage", b"this is not a photo at all, just text".repeat(40), 415),
        (
            "svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
            415,
        ),
        ("jpeg followed by a zip", zip_polyglot, 422),
        ("script in a jpeg comment", html_in_comment, 422),
        ("oversized", oversized, 413),
        (
            "jpeg declaring 60000×60000",
            with_declared_size(&good, 60_000, 60_000),
            413,
        ),
        ("png declaring 60000×60000", png_bomb(), 413),
        ("empty", Vec::new(), 415),
    ];
    for (name, bytes, expected) in cases {
        let (status, body) = upload(&server, &worker, &sha256(&bytes), bytes).await;
        assert_eq!(status, expected, "{name}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{name}: a message a person can act on, got {body}"
        );
    }
    // The bytes must be the ones named.
    let (status, body) = upload(&server, &worker, &sha256(b"something else"), good.clone()).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = upload(&server, &worker, "not-a-hash", good.clone()).await;
    assert_eq!(status, 400);

    let stored = server.stored_objects().await;
    assert!(stored.is_empty(), "{stored:?}");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM photos").await, 0);
    let health = server.client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the server is unharmed");
    assert_eq!(upload(&server, &worker, &sha256(&good), good).await.0, 201);
}

#[tokio::test]
async fn an_upload_cut_halfway_is_completed_by_the_retry_and_stored_once() {
    let server = TestServer::start().await;
    let cookie = server.session_cookie("worker1").await;
    let photo = camera_jpeg(1600, 1200, 6);
    let hash = sha256(&photo);

    // Headers and half the body, then the connection drops.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let half = photo.len() / 2;
    {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "PUT /api/photos/{hash} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
             Content-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            photo.len()
        )
        .unwrap();
        stream.write_all(&photo[..half]).unwrap();
        stream.flush().unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        server.stored_objects().await.is_empty(),
        "nothing kept of the cut upload"
    );
    assert_eq!(count(&server, "SELECT COUNT(*) FROM photos").await, 0);

    let client = reqwest::Client::new();
    for expected in [201, 200] {
        let response = client
            .put(server.url(&format!("/api/photos/{hash}")))
            .header("cookie", &cookie)
            .body(photo.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected);
    }
    assert_eq!(server.stored_objects().await.len(), 2);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM photos").await, 1);
}

#[tokio::test]
async fn new_photos_beyond_the_daily_quota_are_refused_until_a_day_has_passed() {
    let server = TestServer::start_with(|s| s.photo_daily_quota = 2).await;
    let worker = server.login_as("worker1").await;
    let photos: Vec<Vec<u8>> = (0..3).map(|seed| camera_jpeg(64, 48, seed)).collect();
    for bytes in &photos[..2] {
        let (status, body) = upload(&server, &worker, &sha256(bytes), bytes.clone()).await;
        assert_eq!(status, 201, "{body}");
    }
    let third = &photos[2];
    let (status, body) = upload(&server, &worker, &sha256(third), third.clone()).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "photo_quota");
    assert!(body["message"].as_str().unwrap().contains("最多上传2张"), "{body}");
    // A photo already stored is not new: sending it again is fine.
    let (status, _) = upload(&server, &worker, &sha256(&photos[0]), photos[0].clone()).await;
    assert_eq!(status, 200);
    // Another user has a quota of their own.
    let other = server.login_as("worker2").await;
    let (status, body) = upload(&server, &other, &sha256(third), third.clone()).await;
    assert_eq!(status, 201, "{body}");
    // A day later the first user's quota is free again.
    sqlx::query("UPDATE photos SET uploaded_at = uploaded_at - 86400001")
        .execute(&server.pool)
        .await
        .unwrap();
    let fourth = camera_jpeg(64, 48, 3);
    let (status, body) = upload(&server, &worker, &sha256(&fourth), fourth.clone()).await;
    assert_eq!(status, 201, "{body}");
}

/// A visit naming photos, pushed as a phone does.
fn visit_op(household: &str, photos: &[&str]) -> Value {
    json!({
        "op_id": new_id(),
        "created_at": app::state::now_ms(),
        "change": {"record_visit": {
            "id": new_id(), "household_id": household, "visited_at": app::state::now_ms() - 1000,
            "visit_type": "routine", "outcome": "met", "photos": photos,
        }},
    })
}

/// A grid's first worker, by user name.
async fn worker_of(server: &TestServer, grid: &str) -> String {
    server
        .scalar(
            "SELECT u.username FROM users u JOIN user_grids ug ON ug.user_id = u.id JOIN grids g ON g.id = ug.grid_id
             WHERE g.name = $1 AND u.role = 'worker' ORDER BY u.username LIMIT 1",
            grid,
        )
        .await
}

#[tokio::test]
async fn a_photo_is_bound_to_the_record_that_named_it_first_even_before_its_upload() {
    let server = TestServer::start().await;
    let (household1, resident1) = server.household_in("第1网格").await;
    let (household2, resident2) = server.household_in("第2网格").await;
    let worker1 = server.login_as(&worker_of(&server, "第1网格").await).await;
    let worker2 = server.login_as(&worker_of(&server, "第2网格").await).await;
    let lead = server.login_as("lead1").await;
    let photo = camera_jpeg(640, 480, 21);
    let hash = sha256(&photo);

    // Named by a visit in grid 1 before anyone uploads it: bound there.
    let (_, body) = server
        .push(&worker1, "phone-1", &[visit_op(&household1, &[&hash])])
        .await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    // Grid 2 may not name it, not by a visit, not by a lead who sees both
    // grids setting a grid-2 resident's photo; the reason says why.
    let (_, body) = server
        .push(&worker2, "phone-2", &[visit_op(&household2, &[&hash])])
        .await;
    assert_eq!(body["results"][0]["status"], "rejected", "{body}");
    let reason = body["results"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("已用于其他网格"), "{reason}");
    let (_, body) = server.push(&lead, "desk", &[photo_op(&resident2, None, &hash)]).await;
    assert_eq!(body["results"][0]["status"], "rejected", "{body}");
    // Grid 2's worker uploads the same bytes: stored, but shown where it is bound.
    assert_eq!(upload(&server, &worker2, &hash, photo).await.0, 201);
    let url = server.url(&format!("/api/photos/{hash}"));
    assert_eq!(worker2.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(worker1.get(&url).send().await.unwrap().status(), 200);
    // Another record of grid 1 may name it (the same photo as a resident's).
    let (_, body) = server
        .push(&worker1, "phone-1", &[photo_op(&resident1, None, &hash)])
        .await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM photo_bindings WHERE record_kind = 'visit'"
        )
        .await,
        1,
        "bound once, to the visit that named it first"
    );
}

/// A small, plain PDF, different for each `n`.
fn pdf(n: u32) -> Vec<u8> {
    format!("%PDF-1.7\n% {n}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

async fn attach(server: &TestServer, lead: &reqwest::Client, notice: &str, bytes: Vec<u8>) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("公开.pdf");
    let response = lead
        .post(server.url(&format!("/manage/notices/{notice}/files")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
}

/// The database and the object store the server runs on, for calling the
/// sweep as `server sweep` and the schedule do.
async fn store_and_objects(server: &TestServer) -> (store::Store, std::sync::Arc<dyn object_store::ObjectStore>) {
    let store = gridwalk_server::db::connect(&server.settings).await.unwrap();
    let objects = gridwalk_server::photos::open_objects(&server.settings.photo_store).unwrap();
    (store, objects)
}

#[tokio::test]
async fn the_sweep_removes_old_photos_and_files_no_record_names_and_keeps_the_rest() {
    use gridwalk_server::sweep::{Source, sweep};
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (_, resident) = server.household_in("第1网格").await;
    let unnamed = camera_jpeg(640, 480, 31);
    let named = camera_jpeg(640, 480, 32);
    let young = camera_jpeg(640, 480, 33);
    let (unnamed_hash, named_hash, young_hash) = (sha256(&unnamed), sha256(&named), sha256(&young));
    assert_eq!(upload(&server, &worker, &unnamed_hash, unnamed.clone()).await.0, 201);
    assert_eq!(upload(&server, &worker, &named_hash, named).await.0, 201);
    let (_, body) = server
        .push(&worker, "phone-1", &[photo_op(&resident, None, &named_hash)])
        .await;
    assert_eq!(body["results"][0]["status"], "applied", "{body}");

    // A notice lists one file; another was taken off it.
    let lead = server.login_as("lead1").await;
    let community = server.community_of("lead1").await;
    let created = lead
        .post(server.url("/manage/notices"))
        .form(&[
            ("community_id", community.as_str()),
            ("category", "finance"),
            ("title", "清理测试"),
            ("body", "正文"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let notice = created.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let notice = notice.split('?').next().unwrap().to_owned();
    let (kept_pdf, dropped_pdf) = (pdf(1), pdf(2));
    let (kept_file, dropped_file) = (sha256(&kept_pdf), sha256(&dropped_pdf));
    attach(&server, &lead, &notice, kept_pdf).await;
    attach(&server, &lead, &notice, dropped_pdf).await;
    let dropped = lead
        .post(server.url(&format!("/manage/notices/{notice}/files/{dropped_file}/delete")))
        .send()
        .await
        .unwrap();
    assert_eq!(dropped.status(), 303);

    // All of that is older than the cutoff; what follows is younger (S3
    // keeps times to the second).
    let cutoff = app::state::now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(upload(&server, &worker, &young_hash, young).await.0, 201);
    let before = server.stored_objects().await;
    assert_eq!(before.len(), 3 * 2 + 2, "three photos with thumbnails, two files");

    let (store, objects) = store_and_objects(&server).await;
    let listed = sweep(&store, &objects, cutoff, true, Source::Command).await.unwrap();
    assert_eq!(listed.photos, vec![unnamed_hash.clone()]);
    assert_eq!(
        listed.files,
        vec![format!("notices/{}/{dropped_file}.pdf", &dropped_file[..2])]
    );
    assert_eq!(server.stored_objects().await, before, "a dry run removes nothing");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM sweeps").await, 0);

    let swept = sweep(&store, &objects, cutoff, false, Source::Command).await.unwrap();
    assert_eq!(swept, listed);
    let after = server.stored_objects().await;
    assert_eq!(after.len(), 2 * 2 + 1, "{after:?}");
    assert!(
        after
            .iter()
            .all(|o| !o.contains(&unnamed_hash) && !o.contains(&dropped_file))
    );
    for kept in [&named_hash, &young_hash, &kept_file] {
        assert!(after.iter().any(|o| o.contains(kept.as_str())), "{kept} kept");
    }
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM photos").await,
        2,
        "the swept photo's row goes with it"
    );
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM sweeps WHERE photos_removed = 1 AND files_removed = 1 AND source = 'command'"
        )
        .await,
        1,
        "the sweep is on record with what it removed"
    );
    // The public still gets the listed file; the swept photo is gone, and
    // comes back whole when uploaded again.
    let url = server.url(&format!("/api/photos/{unnamed_hash}"));
    assert_eq!(worker.get(&url).send().await.unwrap().status(), 404);
    let (status, again) = upload(&server, &worker, &unnamed_hash, unnamed).await;
    assert_eq!((status, &again["created"]), (201, &json!(true)));
    assert_eq!(worker.get(&url).send().await.unwrap().status(), 200);
    // A second sweep right after finds nothing more to remove.
    let swept = sweep(&store, &objects, cutoff, false, Source::Command).await.unwrap();
    assert_eq!((swept.photos.len(), swept.files.len()), (0, 0));
    store.close().await;
}

#[tokio::test]
async fn a_photo_named_while_the_sweep_waits_for_it_survives() {
    use gridwalk_server::sweep::{Source, sweep};
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    let (_, resident) = server.household_in("第1网格").await;
    let worker_id = server
        .scalar("SELECT id FROM users WHERE username = $1", "worker1")
        .await;
    let (named, left) = (camera_jpeg(640, 480, 41), camera_jpeg(640, 480, 42));
    let (named_hash, left_hash) = (sha256(&named), sha256(&left));
    assert_eq!(upload(&server, &worker, &named_hash, named).await.0, 201);
    assert_eq!(upload(&server, &worker, &left_hash, left).await.0, 201);
    let (store, objects) = store_and_objects(&server).await;
    // Both old enough and named by nothing when the sweep starts.
    let cutoff = app::state::now_ms() + 1000;

    // A push naming the photo holds its lock, as `may_name_photos` does,
    // while the sweep runs; it names it, then commits.
    let mut push = store.begin().await.unwrap();
    push.lock_object(&named_hash).await.unwrap();
    let sweeping = {
        let (store, objects) = (store.clone(), objects.clone());
        tokio::spawn(async move { sweep(&store, &objects, cutoff, false, Source::Schedule).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(!sweeping.is_finished(), "the sweep waits for the push");
    push.keep_resident_photo(store::residents::PhotoSet {
        resident_id: &resident,
        photo: &named_hash,
        set_by: &worker_id,
        taken_at: app::state::now_ms(),
        op_id: &new_id(),
    })
    .await
    .unwrap();
    push.commit().await.unwrap();

    let swept = sweeping.await.unwrap().unwrap();
    assert_eq!(swept.photos, vec![left_hash.clone()], "only the photo nothing names");
    let objects_left = server.stored_objects().await;
    assert_eq!(objects_left.len(), 2, "{objects_left:?}");
    assert!(objects_left.iter().all(|o| o.contains(&named_hash)));
    let url = server.url(&format!("/api/photos/{named_hash}"));
    assert_eq!(worker.get(&url).send().await.unwrap().status(), 200);
    store.close().await;
}

/// Sends a request over a plain TCP connection, its body in `pieces` pieces
/// `gap` apart, stopping after `stop_after` pieces if given (a stalled phone);
/// answers the response's status and text, read while the body is still
/// being sent, and how long after the start it came.
async fn send_slowly(
    server: &TestServer,
    head: &str,
    body: Vec<u8>,
    pieces: usize,
    gap: std::time::Duration,
    stop_after: Option<usize>,
) -> (u16, String, std::time::Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = std::time::Instant::now();
    let address = server.base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!("{head}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    writer.write_all(head.as_bytes()).await.unwrap();
    let sending = tokio::spawn(async move {
        for (n, piece) in body.chunks(body.len().div_ceil(pieces)).enumerate() {
            if stop_after == Some(n) {
                // Stalled, the connection left open.
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
            tokio::time::sleep(gap).await;
            // The server may have answered and closed already.
            if writer.write_all(piece).await.is_err() {
                return;
            }
        }
        let _ = writer.flush().await;
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    });
    let mut response = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), reader.read_to_end(&mut response)).await;
    let elapsed = started.elapsed();
    sending.abort();
    read.expect("an answer within a minute").ok();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text, elapsed)
}

#[tokio::test]
async fn a_slow_upload_passes_while_its_bytes_keep_coming_and_a_stalled_one_gets_408() {
    use std::time::Duration;
    // The limits scaled down (30 s and 20 s in production) to keep the test short.
    let server = TestServer::start_with(|s| {
        s.request_timeout_secs = 2;
        s.upload_idle_secs = 1;
    })
    .await;
    let cookie = server.session_cookie("worker1").await;
    let put = |hash: &str| {
        format!(
            "PUT /api/photos/{hash} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nContent-Type: image/jpeg\r\n"
        )
    };

    // Four seconds in all, twice the request timeout, a piece every 0.4 s.
    let photo = camera_jpeg(1200, 900, 51);
    let hash = sha256(&photo);
    let (status, text, elapsed) = send_slowly(&server, &put(&hash), photo, 10, Duration::from_millis(400), None).await;
    assert_eq!(status, 201, "{text}");
    assert!(elapsed > Duration::from_secs(3), "{elapsed:?}");

    // Half the photo, then nothing: refused once a second passes without a
    // byte (and never before the usual timeout), with the reason.
    let photo = camera_jpeg(1200, 900, 52);
    let hash = sha256(&photo);
    let (status, text, elapsed) =
        send_slowly(&server, &put(&hash), photo, 10, Duration::from_millis(300), Some(5)).await;
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("上传中断"), "{text}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert_eq!(
        count(&server, &format!("SELECT COUNT(*) FROM photos WHERE hash = '{hash}'")).await,
        0
    );

    // Any other route keeps its timeout, however steadily its body comes.
    let push = format!(
        "POST /api/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nContent-Type: application/json\r\n"
    );
    let batch = serde_json::to_vec(&json!({"device_id": "phone-1", "operations": []})).unwrap();
    let (status, text, elapsed) = send_slowly(&server, &push, batch, 10, Duration::from_millis(400), None).await;
    assert_eq!(status, 408, "{text}");
    assert!(elapsed < Duration::from_millis(3500), "{elapsed:?}");
}

/// Makes a photo look uploaded `days` ago: its row, and its files' times (a
/// local folder; S3 keeps the time it was written).
async fn age(server: &TestServer, folder: &std::path::Path, hash: &str, days: i64) {
    let then = app::state::now_ms() - days * 86_400_000;
    sqlx::query(&format!("UPDATE photos SET seen_at = {then} WHERE hash = '{hash}'"))
        .execute(&server.pool)
        .await
        .unwrap();
    for variant in ["photos", "thumbs"] {
        let file = folder.join(format!("{variant}/{}/{hash}.jpg", &hash[..2]));
        let when = std::time::SystemTime::now() - std::time::Duration::from_secs(days as u64 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }
}

#[tokio::test]
async fn server_sweep_lists_on_a_dry_run_and_removes_what_is_older_than_the_grace_period() {
    use gridwalk_server::sweep::command;
    // A folder of its own, whatever the suite's store: files can be aged here.
    let folder = tempfile::tempdir().unwrap();
    let photo_store = folder.path().display().to_string();
    let server = TestServer::start_with(|s| s.photo_store = photo_store).await;
    let worker = server.login_as("worker1").await;
    let (old, recent) = (camera_jpeg(640, 480, 61), camera_jpeg(640, 480, 62));
    let (old_hash, recent_hash) = (sha256(&old), sha256(&recent));
    assert_eq!(upload(&server, &worker, &old_hash, old).await.0, 201);
    assert_eq!(upload(&server, &worker, &recent_hash, recent).await.0, 201);
    age(&server, folder.path(), &old_hash, 8).await;
    age(&server, folder.path(), &recent_hash, 6).await;

    let said = command(&server.settings, true).await.unwrap().to_string();
    assert_eq!(
        said,
        format!("photo {old_hash}\nwould remove 1 photos and 0 notice files no record names, older than 168 hours")
    );
    assert_eq!(server.stored_objects().await.len(), 4, "a dry run removes nothing");

    let said = command(&server.settings, false).await.unwrap().to_string();
    assert!(
        said.ends_with("removed 1 photos and 0 notice files no record names, older than 168 hours"),
        "{said}"
    );
    let left = server.stored_objects().await;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|o| o.contains(&recent_hash)));

    let mut settings = server.settings.clone();
    settings.sweep_grace_hours = 0;
    let refused = command(&settings, false).await.err().unwrap().to_string();
    assert!(refused.contains("sweep_grace_hours must be at least 1"), "{refused}");
}

#[tokio::test]
async fn the_schedule_sweeps_once_a_period_whichever_instance_finds_it_due() {
    use gridwalk_server::sweep::Schedule;
    let server = TestServer::start().await;
    let schedule = Schedule {
        every: std::time::Duration::from_secs(24 * 3600),
        grace: std::time::Duration::from_secs(7 * 24 * 3600),
    };
    // Two instances' connections, as two servers behind a proxy hold them.
    let (first, objects) = store_and_objects(&server).await;
    let (second, _) = store_and_objects(&server).await;
    let now = app::state::now_ms();
    schedule.step(&first, &objects, now).await.unwrap();
    schedule.step(&second, &objects, now + 3_600_000).await.unwrap();
    let sweeps = "SELECT COUNT(*) FROM sweeps WHERE source = 'schedule'";
    assert_eq!(
        count(&server, sweeps).await,
        1,
        "not due again an hour later, on either"
    );
    schedule.step(&second, &objects, now + 25 * 3_600_000).await.unwrap();
    assert_eq!(count(&server, sweeps).await, 2, "due again a day later");
    first.close().await;
    second.close().await;
}
