//! Public notices: a lead writes and publishes, anyone reads what is published
//! and nothing else; bodies are sanitised; only leads (of that community) and
//! admins author; public routes are rate-limited.

// Shared fixtures; this file does not need every helper.
#[allow(dead_code)]
mod common;

use common::TestServer;
use reqwest::{Client, StatusCode};

struct Author {
    client: Client,
}

impl Author {
    async fn create(&self, server: &TestServer, community: &str, title: &str, body: &str) -> (StatusCode, String) {
        let response = self
            .client
            .post(server.url("/manage/notices"))
            .form(&[
                ("community_id", community),
                ("category", "finance"),
                ("title", title),
                ("body", body),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        if status == StatusCode::SEE_OTHER {
            let id = location
                .trim_start_matches("/manage/notices/")
                .split('?')
                .next()
                .unwrap();
            (status, id.to_owned())
        } else {
            (status, text)
        }
    }

    async fn act(&self, server: &TestServer, id: &str, action: &str) -> StatusCode {
        self.client
            .post(server.url(&format!("/manage/notices/{id}/{action}")))
            .send()
            .await
            .unwrap()
            .status()
    }
}

async fn get(server: &TestServer, path: &str) -> (StatusCode, String) {
    let response = server.client().get(server.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn draft_published_withdrawn_as_the_public_sees_it() {
    let server = TestServer::start().await;
    let lead = Author {
        client: server.login_as("lead1").await,
    };
    let community = server.community_of("lead1").await;
    let (status, id) = lead
        .create(
            &server,
            &community,
            "2026年第三季度财务公开",
            "## 收入\n\n物业费 **12,000** 元",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{id}");
    let public = format!("/n/{community}/{id}");

    // A draft does not exist publicly, not even by its URL. (The demo's own
    // notices are there: look for this one's link.)
    assert_eq!(get(&server, &public).await.0, StatusCode::NOT_FOUND);
    assert!(!get(&server, &format!("/n/{community}")).await.1.contains(&public));

    assert_eq!(lead.act(&server, &id, "publish").await, StatusCode::SEE_OTHER);
    let (status, page) = get(&server, &public).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("2026年第三季度财务公开"));
    assert!(page.contains("<strong>12,000</strong>"));
    assert!(!page.contains("/pkg/"), "public pages load no WASM");
    let (_, index) = get(&server, &format!("/n/{community}?c=finance")).await;
    assert!(index.contains("2026年第三季度财务公开"));
    let (_, feed) = get(&server, &format!("/n/{community}/feed.atom")).await;
    assert!(feed.starts_with("<?xml") && feed.contains("<title>2026年第三季度财务公开</title>"));
    let poster = server
        .client()
        .get(server.url(&format!("/n/{community}/poster.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(poster.headers()["content-type"], "image/svg+xml; charset=utf-8");
    assert!(poster.text().await.unwrap().contains(&format!("/n/{community}")));

    // Withdrawn: gone again, and the history says who did what.
    assert_eq!(lead.act(&server, &id, "withdraw").await, StatusCode::SEE_OTHER);
    assert_eq!(get(&server, &public).await.0, StatusCode::NOT_FOUND);
    assert!(!get(&server, &format!("/n/{community}")).await.1.contains(&public));
    let edit = lead
        .client
        .get(server.url(&format!("/manage/notices/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for step in ["创建", "发布", "撤回"] {
        assert!(edit.contains(step), "history lacks {step}");
    }
}

#[tokio::test]
async fn hostile_bodies_and_titles_render_inert() {
    let server = TestServer::start().await;
    let lead = Author {
        client: server.login_as("lead1").await,
    };
    let community = server.community_of("lead1").await;
    let body = "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[点我](javascript:alert(1))\n\n\
                <svg onload=alert(1)>\n\n<a href=\"javascript:alert(1)\">x</a>\n\n[x](data:text/html,hi)";
    let (_, id) = lead
        .create(&server, &community, "<script>alert('t')</script>标题", body)
        .await;
    lead.act(&server, &id, "publish").await;
    let (status, page) = get(&server, &format!("/n/{community}/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let article = &page[page.find("<article").unwrap()..];
    // Escaped text may spell anything; no real tag may carry it.
    for bad in ["<script", "<img", "<svg", "<a href=\"javascript", "<a href=\"data"] {
        assert!(!article.contains(bad), "{bad} in {article}");
    }
    assert!(page.contains("&lt;script&gt;alert"));
    let (_, feed) = get(&server, &format!("/n/{community}/feed.atom")).await;
    assert!(!feed.contains("<script"));
}

#[tokio::test]
async fn only_leads_of_the_community_and_admins_author() {
    let server = TestServer::start().await;
    let community = server.community_of("lead1").await;

    // Anonymous: the page sends to the login, the form post is refused.
    let anonymous = server.client();
    let page = anonymous.get(server.url("/manage/notices")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login");
    let post = anonymous
        .post(server.url("/manage/notices"))
        .form(&[("title", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);

    // A worker may not author.
    let worker = server.login_as("worker1").await;
    let page = worker.get(server.url("/manage/notices")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);

    // lead2 cannot touch lead1's notice, nor write into lead1's community.
    let lead1 = Author {
        client: server.login_as("lead1").await,
    };
    let (_, id) = lead1.create(&server, &community, "停水通知", "周六停水").await;
    let lead2 = Author {
        client: server.login_as("lead2").await,
    };
    assert_eq!(lead2.act(&server, &id, "publish").await, StatusCode::NOT_FOUND);
    let (status, page) = lead2.create(&server, &community, "冒名公告", "正文").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("请选择社区"));

    // Bad input answers 400 with the reason, the input kept.
    let (status, page) = lead1.create(&server, &community, " ", "正文内容").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("请填写标题") && page.contains("正文内容"));

    // The admin may publish anywhere.
    let admin = Author {
        client: server.login_as("admin").await,
    };
    assert_eq!(admin.act(&server, &id, "publish").await, StatusCode::SEE_OTHER);
    assert_eq!(get(&server, &format!("/n/{community}/{id}")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn public_pages_are_rate_limited_and_cacheable() {
    let server = TestServer::start_with(|s| s.public_requests_per_minute = 5).await;
    let community = server.community_of("lead1").await;
    let client = server.client();
    common::start_of_a_fresh_minute().await;
    for _ in 0..5 {
        let response = client.get(server.url(&format!("/n/{community}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "public, no-cache");
        let csp = response.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
    }
    // Revalidation by ETag answers 304 without a body.
    let server2 = TestServer::start().await;
    let first = client
        .get(server2.url(&format!("/n/{community}")))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].clone();
    let again = client
        .get(server2.url(&format!("/n/{community}")))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let limited = client.get(server.url(&format!("/n/{community}"))).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.text().await.unwrap().contains("秒后再试"));
    // Unknown and malformed communities are a plain 404 / 400, never a 500.
    let server = TestServer::start().await;
    assert_eq!(get(&server, "/n/not-an-id").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        get(&server, &format!("/n/{}", uuid::Uuid::now_v7())).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_scheduled_notice_stays_private_until_its_time() {
    let server = TestServer::start_with(|s| s.public_url = Some("https://gridwalk.example.cn/".into())).await;
    let lead = Author {
        client: server.login_as("lead1").await,
    };
    let community = server.community_of("lead1").await;
    let (_, id) = lead.create(&server, &community, "冬季供暖安排", "12月1日起供暖").await;
    let public = format!("/n/{community}/{id}");
    let schedule = |at: &'static str| {
        lead.client
            .post(server.url(&format!("/manage/notices/{id}/schedule")))
            .form(&[("at", at)])
            .send()
    };
    // A time in the past or garbled is refused with a message.
    let refused = schedule("2020-01-01T09:00").await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("晚于现在"));
    assert_eq!(schedule("明天早上").await.unwrap().status(), StatusCode::BAD_REQUEST);

    assert_eq!(
        schedule("2099-12-01T09:00").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    // 09:00 in Beijing is 01:00 UTC.
    let at: i64 = sqlx::query_scalar("SELECT published_at FROM notices WHERE id = $1")
        .bind(&id)
        .fetch_one(&server.pool)
        .await
        .unwrap();
    assert_eq!(at, 4_099_770_000_000);
    let list = lead
        .client
        .get(server.url("/manage/notices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.replace("<!>", "").contains("定时发布：2099-12-01 09:00"), "{list}");
    assert_eq!(get(&server, &public).await.0, StatusCode::NOT_FOUND);
    assert!(!get(&server, &format!("/n/{community}")).await.1.contains("冬季供暖"));
    assert!(
        !get(&server, &format!("/n/{community}/feed.atom"))
            .await
            .1
            .contains("冬季供暖")
    );

    // Its time has come (the clock, simulated): it is public, and the feed
    // links to the configured public address.
    sqlx::query("UPDATE notices SET published_at = $1 WHERE id = $2")
        .bind(app::state::now_ms() - 1000)
        .bind(&id)
        .execute(&server.pool)
        .await
        .unwrap();
    assert_eq!(get(&server, &public).await.0, StatusCode::OK);
    let (_, feed) = get(&server, &format!("/n/{community}/feed.atom")).await;
    assert!(
        feed.contains(&format!("https://gridwalk.example.cn/n/{community}/{id}")),
        "{feed}"
    );
    let (_, poster) = get(&server, &format!("/n/{community}/poster.svg")).await;
    assert!(poster.contains(&format!("https://gridwalk.example.cn/n/{community}")));
}

/// A small PNG with a tEXt chunk standing in for metadata.
fn png_with_text() -> Vec<u8> {
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::new_rgb8(64, 48)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    png.into_inner()
}

impl Author {
    async fn attach(&self, server: &TestServer, id: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, String) {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
        let response = self
            .client
            .post(server.url(&format!("/manage/notices/{id}/files")))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

#[tokio::test]
async fn images_and_pdfs_attach_with_the_photo_checks_and_follow_their_notice() {
    let server = TestServer::start().await;
    let lead = Author {
        client: server.login_as("lead1").await,
    };
    let community = server.community_of("lead1").await;
    let (_, id) = lead.create(&server, &community, "小区改造方案公示", "详见附件").await;
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    assert_eq!(
        lead.attach(&server, &id, "效果图.png", png_with_text()).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        lead.attach(&server, &id, "改造方案.pdf", pdf).await.0,
        StatusCode::SEE_OTHER
    );

    // Refused, with the reason on the page, nothing stored.
    let script_pdf =
        b"%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF".to_vec();
    let (status, page) = lead.attach(&server, &id, "x.pdf", script_pdf).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("脚本"), "{page}");
    let (status, _) = lead
        .attach(&server, &id, "x.html", b"<html><script>alert(1)</script>".to_vec())
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = lead.attach(&server, &id, "big.pdf", vec![b'%'; 11 * 1024 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let files: Vec<(String, String)> =
        sqlx::query_as("SELECT hash, kind FROM notice_attachments WHERE notice_id = $1 ORDER BY kind")
            .bind(&id)
            .fetch_all(&server.pool)
            .await
            .unwrap();
    assert_eq!(
        files.iter().map(|(_, k)| k.as_str()).collect::<Vec<_>>(),
        ["image", "pdf"]
    );
    let (image, pdf) = (&files[0].0, &files[1].0);

    // A worker may not attach; the draft's files are not public.
    let worker = Author {
        client: server.login_as("worker1").await,
    };
    assert_ne!(
        worker.attach(&server, &id, "a.png", png_with_text()).await.0,
        StatusCode::SEE_OTHER
    );
    let public_image = format!("/n/{community}/{id}/files/{image}");
    assert_eq!(get(&server, &public_image).await.0, StatusCode::NOT_FOUND);

    lead.act(&server, &id, "publish").await;
    let (_, page) = get(&server, &format!("/n/{community}/{id}")).await;
    assert!(page.contains(&format!("src=\"{public_image}\"")), "{page}");
    assert!(page.contains("改造方案.pdf"));
    let response = server.client().get(server.url(&public_image)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let response = server
        .client()
        .get(server.url(&format!("/n/{community}/{id}/files/{pdf}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );

    // Withdrawn: its files go with it.
    lead.act(&server, &id, "withdraw").await;
    assert_eq!(get(&server, &public_image).await.0, StatusCode::NOT_FOUND);
}

/// A small valid PDF, different for each `n`.
fn numbered_pdf(n: usize) -> Vec<u8> {
    format!("%PDF-1.7\n% copy {n}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

#[tokio::test]
async fn uploads_at_the_same_moment_never_pass_the_file_limit() {
    let server = TestServer::start().await;
    let lead = Author {
        client: server.login_as("lead1").await,
    };
    let community = server.community_of("lead1").await;
    let (_, id) = lead.create(&server, &community, "办事材料清单", "详见附件").await;
    for n in 0..8 {
        let (status, _) = lead.attach(&server, &id, &format!("{n}.pdf"), numbered_pdf(n)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }

    // Twelve more at once, each on its own task: all of them find room for
    // two when they arrive; only two may be stored.
    let mut uploads = tokio::task::JoinSet::new();
    for n in 8..20 {
        let part = reqwest::multipart::Part::bytes(numbered_pdf(n)).file_name(format!("{n}.pdf"));
        let request = lead
            .client
            .post(server.url(&format!("/manage/notices/{id}/files")))
            .multipart(reqwest::multipart::Form::new().part("file", part));
        uploads.spawn(async move { request.send().await.unwrap().status() });
    }
    let statuses = uploads.join_all().await;
    let stored = statuses.iter().filter(|s| **s == StatusCode::SEE_OTHER).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::BAD_REQUEST).count();
    assert_eq!((stored, refused), (2, 10), "{statuses:?}");
    let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_attachments WHERE notice_id = $1")
        .bind(&id)
        .fetch_one(&server.pool)
        .await
        .unwrap();
    assert_eq!(files, 10);
}

/// A new install with the demo on, seeded by the server as it starts (not
/// copied from the tests' template): each community's public page shows its
/// lead's notices of every category, the pinned one first, and the quarter's
/// finance table with its chart.
#[tokio::test]
async fn a_freshly_seeded_demo_shows_notices_of_every_category() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::empty_postgres_database()
        .await
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("demo.db").display()));
    let server = TestServer::start_with(|s| {
        s.database_url = database;
        s.demo_data = true;
    })
    .await;
    let communities: Vec<(String,)> = sqlx::query_as("SELECT id FROM communities ORDER BY name")
        .fetch_all(&server.pool)
        .await
        .unwrap();
    assert_eq!(communities.len(), 2);
    for (community,) in &communities {
        let (status, page) = get(&server, &format!("/n/{community}")).await;
        assert_eq!(status, StatusCode::OK);
        let page = page.replace("<!>", "");
        let items: Vec<&str> = page.split("<li>").skip(1).collect();
        assert!(items.len() >= 15, "{} notices", items.len());
        assert!(items[0].contains("置顶"), "the pinned notice first: {}", items[0]);
        assert!(!page.contains("暂无公告"));
        for (code, label) in gridwalk_server::notices::CATEGORIES {
            let listed = items
                .iter()
                .filter(|item| item.contains(&format!("{label} · ")))
                .count();
            assert!(listed >= 3, "{label}: {listed}");
            let (_, tab) = get(&server, &format!("/n/{community}?c={code}")).await;
            assert!(tab.matches("<li>").count() >= 3, "{code}");
        }

        // The newest quarter's figures: the table, and its chart as a file.
        let (notice, hash): (String, String) = sqlx::query_as(
            "SELECT n.id, a.hash FROM notices n JOIN notice_attachments a ON a.notice_id = n.id
             WHERE n.community_id = $1 AND n.category = 'finance'",
        )
        .bind(community)
        .fetch_one(&server.pool)
        .await
        .unwrap();
        let (status, page) = get(&server, &format!("/n/{community}/{notice}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("季度财务收支公开") && page.contains("<table>"));
        assert!(page.contains("期末结余"), "{page}");
        let file = format!("/n/{community}/{notice}/files/{hash}");
        assert!(page.contains(&format!("src=\"{file}\"")), "{page}");
        let response = server.client().get(server.url(&file)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "image/jpeg");

        // The history says who published them.
        let revisions: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notice_revisions r JOIN notices n ON n.id = r.notice_id
             JOIN users u ON u.id = r.user_id
             WHERE n.community_id = $1 AND r.action = 'publish' AND u.role = 'lead'",
        )
        .bind(community)
        .fetch_one(&server.pool)
        .await
        .unwrap();
        assert_eq!(revisions, items.len() as i64);
    }
}
