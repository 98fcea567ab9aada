//! Two server instances on one database and one photo store, as behind a
//! proxy in a city deployment: whatever one instance learns about sessions,
//! failed logins and public-page use, the other knows. Runs on both engines
//! (scripts/test.sh runs the suite on SQLite with a photo folder, then on
//! PostgreSQL with photos in a local S3 server).

#[allow(dead_code)]
mod common;

use common::{PASSWORD, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

async fn login(server: &TestServer, client: &reqwest::Client, username: &str, password: &str) -> StatusCode {
    client
        .post(server.url("/api/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("login request")
        .status()
}

#[tokio::test]
async fn a_session_made_on_one_instance_is_valid_on_the_other_until_logged_out_there() {
    let first = TestServer::start().await;
    let second = first.second_instance().await;
    let client = first.login_as("worker1").await;
    let me = second.get_json(&client, "/api/me").await;
    assert_eq!(me["username"], "worker1", "{me}");

    let logout = client.post(second.url("/logout")).send().await.expect("logout");
    assert!(logout.status().is_redirection(), "{}", logout.status());
    let after = client.get(first.url("/api/me")).send().await.expect("me");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_lockout_earned_on_one_instance_holds_on_the_other() {
    let first = TestServer::start().await;
    let second = first.second_instance().await;
    let client = first.client();
    for _ in 0..first.settings.login_max_failures {
        assert_eq!(
            login(&first, &client, "worker2", "wrong").await,
            StatusCode::UNAUTHORIZED
        );
    }
    let elsewhere = second.client();
    assert_eq!(
        login(&second, &elsewhere, "worker2", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password on the other instance is refused while locked out"
    );
    assert_eq!(login(&second, &elsewhere, "worker3", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn the_public_page_limit_counts_requests_to_both_instances() {
    let first = TestServer::start_with(|s| s.public_requests_per_minute = 4).await;
    let second = first.second_instance().await;
    let community = first.community_of("lead1").await;
    let client = first.client();
    common::start_of_a_fresh_minute().await;
    for server in [&first, &second, &first, &second] {
        let page = client.get(server.url(&format!("/n/{community}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
    }
    for server in [&first, &second] {
        let page = client.get(server.url(&format!("/n/{community}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn a_photo_uploaded_through_one_instance_is_served_by_the_other() {
    let first = TestServer::start().await;
    let second = first.second_instance().await;
    let worker = first.login_as("worker1").await;
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([x as u8 * 4, y as u8 * 5, 90])
    }))
    .write_to(&mut jpeg, image::ImageFormat::Jpeg)
    .unwrap();
    let bytes = jpeg.into_inner();
    let hash = format!("{:x}", Sha256::digest(&bytes));
    let uploaded = worker
        .put(first.url(&format!("/api/photos/{hash}")))
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let served = worker
        .get(second.url(&format!("/api/photos/{hash}")))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert!(!served.bytes().await.unwrap().is_empty());
}

/// Starting a server renders the app once to list its pages, holding every
/// data load behind a flag the whole process shares (leptos_server's
/// `SuppressResourceLoad`, leptos#4773): a page that another server of the same
/// process rendered meanwhile waited for its data for ever, and its request
/// ended in the 30 s timeout. Pages rendered while other servers of the process
/// start all come back whole.
#[tokio::test]
async fn pages_render_while_other_servers_of_the_process_start() {
    let server = TestServer::start().await;
    let worker = server.login_as("worker1").await;
    // Started on a thread of their own: starting blocks its thread while it waits.
    let starting = std::thread::spawn(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async {
                for _ in 0..30 {
                    drop(TestServer::start().await);
                }
            })
    });
    let mut rendered = 0;
    while !starting.is_finished() || rendered == 0 {
        // Several at once, so that some are always waiting for their data.
        let pages = (0..4).map(|_| async {
            let response = worker.get(server.url("/")).send().await.expect("page");
            (response.status(), response.text().await.expect("whole page"))
        });
        let pages = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            futures_util::future::join_all(pages),
        )
        .await
        .expect("the pages came back while other servers started");
        for (status, html) in pages {
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("</html>"), "{html}");
            rendered += 1;
        }
    }
    starting.join().expect("the other servers started");
}
