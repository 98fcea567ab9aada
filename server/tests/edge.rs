//! Gridwalk as deployed: behind a reverse proxy that names the client, over
//! https, with pages of other sites open in the same browser.

#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use common::{PASSWORD, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A login attempt as a proxy forwards it from `client_address`.
async fn login_from(server: &TestServer, client_address: &str, username: &str, password: &str) -> reqwest::Response {
    server
        .client()
        .post(server.url("/api/login"))
        .header("x-forwarded-for", client_address)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("login request")
}

fn behind_a_proxy(settings: &mut gridwalk_server::config::Settings) {
    settings.trusted_proxies = "127.0.0.1, ::1".into();
}

#[tokio::test]
async fn a_guesser_does_not_lock_the_owner_out_from_elsewhere() {
    let server = TestServer::start_with(behind_a_proxy).await;
    for _ in 0..server.settings.login_max_failures {
        let wrong = login_from(&server, "198.51.100.7", "worker2", "wrong").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let guesser = login_from(&server, "198.51.100.7", "worker2", PASSWORD).await;
    assert_eq!(
        guesser.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing address stops"
    );

    // The owner, at another address, is slowed (the name has failures past
    // the limit) but never refused.
    let started = Instant::now();
    let owner = login_from(&server, "203.0.113.9", "worker2", PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    // Signing in forgave the name: the next sign-in is not slowed.
    let started = Instant::now();
    assert_eq!(
        login_from(&server, "203.0.113.9", "worker2", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert!(
        started.elapsed() < Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_address_trying_many_names_is_refused_for_all_of_them() {
    let server = TestServer::start_with(behind_a_proxy).await;
    let tries = server.settings.login_max_failures * 4;
    for i in 0..tries {
        let name = format!("nobody{i}");
        assert_eq!(
            login_from(&server, "198.51.100.8", &name, "wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = login_from(&server, "198.51.100.8", "worker1", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        login_from(&server, "198.51.100.9", "worker1", PASSWORD).await.status(),
        StatusCode::OK,
        "another address is not affected"
    );
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    // No trusted proxies: the header is the guesser's own, and naming a new
    // address with every try must not escape the limit.
    let server = TestServer::start().await;
    for i in 0..server.settings.login_max_failures {
        let forged = format!("192.0.2.{i}");
        assert_eq!(
            login_from(&server, &forged, "worker2", "wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let again = login_from(&server, "192.0.2.200", "worker2", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_public_page_limit_counts_each_client_behind_the_proxy() {
    let server = TestServer::start_with(|s| {
        behind_a_proxy(s);
        s.public_requests_per_minute = 2;
    })
    .await;
    let community = server.community_of("lead1").await;
    let page = |address: &'static str| {
        server
            .client()
            .get(server.url(&format!("/n/{community}")))
            .header("forwarded", format!("for={address};proto=https"))
            .send()
    };
    common::start_of_a_fresh_minute().await;
    for _ in 0..2 {
        assert_eq!(page("198.51.100.20").await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        page("198.51.100.20").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        page("198.51.100.21").await.unwrap().status(),
        StatusCode::OK,
        "a neighbour behind the same proxy has a minute of their own"
    );
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_browsers_are_told_to_stay() {
    let server = TestServer::start_with(|s| s.public_url = Some("https://gw.example.org".into())).await;
    let login = server.login_attempt("worker1", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let health = server.client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.headers()["strict-transport-security"], "max-age=31536000");

    let plain = TestServer::start().await;
    let health = plain.client().get(plain.url("/healthz")).send().await.unwrap();
    assert!(!health.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn feed_and_poster_links_never_come_from_a_strangers_host_header() {
    let local = TestServer::start().await;
    let community = local.community_of("lead1").await;
    for path in ["feed.atom", "poster.svg"] {
        let poisoned = local
            .client()
            .get(local.url(&format!("/n/{community}/{path}")))
            .header("host", "evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(poisoned.status(), StatusCode::NOT_FOUND, "{path}");
        let body = poisoned.text().await.unwrap();
        assert!(body.contains("public_url"), "{body}");
        assert!(!body.contains("evil.example"), "{body}");
    }
    let feed = local
        .client()
        .get(local.url(&format!("/n/{community}/feed.atom")))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK, "reached as 127.0.0.1: a local install");

    let public = TestServer::start_with(|s| s.public_url = Some("https://gw.example.org/".into())).await;
    let community = public.community_of("lead1").await;
    let feed = public
        .client()
        .get(public.url(&format!("/n/{community}/feed.atom")))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let body = feed.text().await.unwrap();
    assert!(body.contains("https://gw.example.org/n/"), "{body}");
    assert!(!body.contains("evil.example"), "{body}");
}

#[tokio::test]
async fn changes_from_another_site_are_refused_login_included() {
    let server = TestServer::start().await;
    let cross_site_login = server
        .client()
        .post(server.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "worker1"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site_login.status(), StatusCode::FORBIDDEN);
    assert!(!cross_site_login.headers().contains_key("set-cookie"));
    let body: Value = cross_site_login.json().await.unwrap();
    assert_eq!(body["error"], "cross_site");

    let worker = server.login_as("worker1").await;
    let cross_site_logout = worker
        .post(server.url("/logout"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site_logout.status(), StatusCode::FORBIDDEN);
    let me = worker.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "the session survived the forged logout");

    let lead = server.login_as("lead1").await;
    let forged_notice = lead
        .post(server.url("/manage/notices"))
        .header("sec-fetch-site", "same-site")
        .form(&[("title", "伪造"), ("body", "伪造")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged_notice.status(), StatusCode::FORBIDDEN);

    // This site's own pages get through, by either header (on the instance
    // whose address the origin names).
    let own_page = server
        .client()
        .post(server.first_instance_url("/login"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", server.base.as_str())
        .form(&[("username", "worker1"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(own_page.status().is_redirection(), "{}", own_page.status());
    assert!(own_page.headers().contains_key("set-cookie"));
    let by_origin = worker
        .post(server.first_instance_url("/logout"))
        .header("origin", server.base.as_str())
        .send()
        .await
        .unwrap();
    assert!(by_origin.status().is_redirection(), "{}", by_origin.status());
}

/// The directive `name` of a policy, e.g. `script-src 'self'`.
fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
    policy
        .split(';')
        .map(str::trim)
        .find(|d| d.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {policy}"))
}

/// A page's `Cache-Control`, its policy and its HTML.
async fn page(client: &reqwest::Client, url: String) -> (String, String, String) {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{}", response.url());
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (cache, policy) = (header("cache-control"), header("content-security-policy"));
    (cache, policy, response.text().await.unwrap())
}

/// What every page's policy says besides scripts and styles.
fn assert_shared_directives(policy: &str) {
    for expected in [
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            policy.split(';').any(|d| d.trim() == expected),
            "{expected} in {policy}"
        );
    }
}

/// Leptos pages: scripts from this site and inline (the WASM loader and
/// the resources' data), WebAssembly, no `<style>` element.
fn assert_app_page(cache: &str, policy: &str, html: &str) {
    assert_eq!(cache, "private, no-store");
    assert_shared_directives(policy);
    assert_eq!(
        directive(policy, "script-src"),
        "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'"
    );
    assert_eq!(directive(policy, "style-src-elem"), "style-src-elem 'self'");
    assert!(html.contains("<script"), "the WASM loader is inline: {html}");
    assert!(!html.contains("<style"), "app pages link their stylesheet: {html}");
}

#[tokio::test]
async fn pages_are_kept_by_no_cache_and_carry_a_content_security_policy() {
    let server = TestServer::start().await;

    // The login page, to anyone.
    let (cache, policy, html) = page(&server.client(), server.url("/login")).await;
    assert_app_page(&cache, &policy, &html);

    // The phone's pages: a list, and one rendered with its data.
    let worker = server.login_as("worker1").await;
    let (cache, policy, html) = page(&worker, server.url("/")).await;
    assert_app_page(&cache, &policy, &html);
    let (household, _) = server.household_in("第1网格").await;
    let (cache, policy, html) = page(&worker, server.url(&format!("/households/{household}"))).await;
    assert_app_page(&cache, &policy, &html);
    // The shell the service worker falls back to offline.
    let (cache, policy, html) = page(&worker, server.url("/shell")).await;
    assert_app_page(&cache, &policy, &html);

    // Server-rendered pages for leads: no inline script at all, their CSS
    // inline.
    let lead = server.login_as("lead1").await;
    for path in ["/manage/notices", "/manage/coverage", "/account"] {
        let (cache, policy, html) = page(&lead, server.url(path)).await;
        // The staff pages say `no-store` themselves; `private` adds nothing to it.
        assert!(cache.split(',').any(|d| d.trim() == "no-store"), "{path}: {cache}");
        assert_shared_directives(&policy);
        assert_eq!(directive(&policy, "script-src"), "script-src 'self'", "{path}");
        assert!(html.contains("<style>"), "{path}");
        assert!(!html.contains("<script>"), "{path}");
    }

    // Public pages keep their own policies; the API stays out of every cache
    // and has no page policy.
    let community = server.community_of("lead1").await;
    let notices = server
        .client()
        .get(server.url(&format!("/n/{community}")))
        .send()
        .await
        .unwrap();
    assert_eq!(notices.headers()["cache-control"], "public, no-cache");
    assert!(
        notices.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let me = worker.get(server.url("/api/me")).send().await.unwrap();
    assert_eq!(me.headers()["cache-control"], "no-store");
    assert!(!me.headers().contains_key("content-security-policy"));

    // Built files: hashed ones for ever; the static offline page (inline
    // style, no script) as a page.
    let site = std::path::Path::new(&server.settings.site_root);
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/gridwalk.0123abcd.js"), "export {}").unwrap();
    std::fs::write(
        site.join("offline.html"),
        "<!DOCTYPE html><style>p{}</style><p>离线</p>",
    )
    .unwrap();
    let script = server
        .client()
        .get(server.url("/pkg/gridwalk.0123abcd.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(!script.headers().contains_key("content-security-policy"));
    let (cache, policy, _) = page(&server.client(), server.url("/offline.html")).await;
    assert_eq!(cache, "private, no-store");
    assert_eq!(directive(&policy, "script-src"), "script-src 'self'");
    assert_eq!(directive(&policy, "style-src"), "style-src 'self' 'unsafe-inline'");
}
