//! The notice pages as HTML: public (small, no scripts but an optional service
//! worker registration, print and large-text friendly) and the lead's
//! authoring screens (plain forms). Rendered with Leptos' `view!`, which
//! escapes every value; only the sanitised Markdown output is inserted raw.

use leptos::prelude::*;

use app::ui::escape_html;

use crate::html::{date, document};

use store::notices::{AttachmentRow, CommunityRow, NoticeRow, RevisionRow};

use super::{CATEGORIES, Draft, View, category_label, markdown};

pub const PUBLIC_CSS: &str = "\
body{margin:0;font:17px/1.7 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;color:#1d2327;background:#f4f6f7}\
body.large{font-size:22px}\
figure{margin:12px 0}figure img{max-width:100%;height:auto;border-radius:6px}\
header{background:#1f6f5c;color:#fff;padding:14px 16px}header a{color:#fff}\
header h1{margin:0;font-size:1.2em}header p{margin:2px 0 0;opacity:.85;font-size:.85em}\
main{max-width:720px;margin:0 auto;padding:12px 16px 32px}\
nav.tabs{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0 12px}\
nav.tabs a{padding:6px 12px;border-radius:999px;background:#fff;border:1px solid #d5dde0;color:#1d2327;text-decoration:none}\
nav.tabs a.on{background:#1f6f5c;border-color:#1f6f5c;color:#fff}\
ul.notices{list-style:none;margin:0;padding:0}\
ul.notices li{background:#fff;border-radius:10px;margin:0 0 10px;padding:12px 14px}\
ul.notices a{color:#155244;font-weight:600;text-decoration:none;font-size:1.05em}\
.meta{color:#5b6a70;font-size:.85em}.pin{color:#b3261e;font-weight:600}\
article{background:#fff;border-radius:10px;padding:14px 16px}article h1{font-size:1.35em;margin:.2em 0}\
article table{border-collapse:collapse;width:100%}article td,article th{border:1px solid #d5dde0;padding:4px 8px}\
.tools{display:flex;flex-wrap:wrap;gap:14px;margin:14px 0;font-size:.9em}.tools a{color:#155244}\
@media print{header,nav,.tools{display:none}body{background:#fff;font-size:12pt}article{padding:0}}";

const MANAGE_CSS: &str = "\
body{margin:0;font:16px/1.6 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;color:#1d2327;background:#f4f6f7}\
header{background:#1f6f5c;color:#fff;padding:12px 16px;display:flex;gap:12px;align-items:center}\
header a{color:#fff}header h1{margin:0;font-size:18px;flex:1}\
main{max-width:760px;margin:0 auto;padding:12px 16px 32px}\
.card{background:#fff;border-radius:10px;padding:12px 14px;margin:0 0 10px}\
.status{font-size:12px;padding:2px 8px;border-radius:999px;background:#e8eef0}\
.status-published{background:#d8f0e6;color:#155244}.status-withdrawn{background:#fdecea;color:#b3261e}\
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:center}\
form.inline{display:inline}button,.btn{min-height:40px;padding:0 14px;border-radius:8px;border:0;background:#1f6f5c;color:#fff;font:inherit}\
button.plain,.btn.plain{background:#e3efe9;color:#155244;text-decoration:none;display:inline-flex;align-items:center}\
label{display:grid;gap:4px;margin:0 0 12px;font-weight:600}\
input,select,textarea{font:inherit;padding:8px 10px;border:1px solid #d5dde0;border-radius:8px;background:#fff}\
textarea{min-height:240px}.error{color:#b3261e;background:#fdecea;padding:8px 12px;border-radius:8px}\
.ok{color:#155244;background:#e3efe9;padding:8px 12px;border-radius:8px}.muted{color:#5b6a70;font-size:14px}";

fn index_href(community: &CommunityRow, category: Option<&str>, large: bool) -> String {
    let mut query = Vec::new();
    if let Some(c) = category {
        query.push(format!("c={c}"));
    }
    if large {
        query.push("size=large".into());
    }
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    format!("/n/{}{query}", community.id)
}

fn public_head(community: &CommunityRow) -> AnyView {
    view! {
        <link rel="alternate" type="application/atom+xml" title="公告订阅" href=format!("/n/{}/feed.atom", community.id)/>
        // Keeps pages read once readable offline; a page works without it.
        <script src="/n/register.js" defer></script>
    }
    .into_any()
}

pub(super) fn public_header(community: &CommunityRow) -> AnyView {
    view! {
        <header>
            <h1><a href=format!("/n/{}", community.id)>{format!("{} · 公开栏", community.name)}</a></h1>
            <p>{community.street_name.clone()}</p>
        </header>
    }
    .into_any()
}

pub fn public_index(community: &CommunityRow, notices: &[NoticeRow], view: &View) -> String {
    let large = view.large();
    let current = view.c.clone();
    let tabs = std::iter::once((None, "全部"))
        .chain(CATEGORIES.iter().map(|(c, l)| (Some(*c), *l)))
        .map(|(code, label)| {
            let class = if current.as_deref() == code { "on" } else { "" };
            view! { <a class=class href=index_href(community, code, large)>{label}</a> }
        })
        .collect_view();
    let items = notices
        .iter()
        .map(|n| {
            view! {
                <li>
                    {n.pinned.then(|| view! { <span class="pin">"置顶 "</span> })}
                    <a href=format!("/n/{}/{}{}", community.id, n.id, if large { "?size=large" } else { "" })>{n.title.clone()}</a>
                    <div class="meta">{category_label(&n.category)}" · "{n.published_at.map(date)}</div>
                    <div>{markdown::summary(&n.body, 60)}</div>
                </li>
            }
        })
        .collect_view();
    let empty = notices.is_empty().then(|| view! { <p class="meta">"暂无公告。"</p> });
    let body = view! {
        {public_header(community)}
        <main>
            <nav class="tabs" aria-label="公开类别">{tabs}</nav>
            <ul class="notices">{items}</ul>
            {empty}
            <p class="tools">
                <a href=format!("/n/{}/requests/new", community.id)>"我要反映问题"</a>
                <a href="/status">"查询办理进度"</a>
                <a href=format!("/n/{}/requests", community.id)>"诉求办理情况"</a>
            </p>
            <div class="tools">
                {if large {
                    view! { <a href=index_href(community, current.as_deref(), false)>"标准字号"</a> }.into_any()
                } else {
                    view! { <a href=index_href(community, current.as_deref(), true)>"大字阅读"</a> }.into_any()
                }}
                <a href=format!("/n/{}/feed.atom", community.id)>"订阅（Atom）"</a>
                <a href=format!("/n/{}/poster.svg", community.id)>"二维码海报"</a>
            </div>
        </main>
    }
    .into_any();
    document(
        format!("{} · 公开栏", community.name),
        PUBLIC_CSS,
        large,
        public_head(community),
        body,
    )
}

fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1048576.0)
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

pub fn public_notice(community: &CommunityRow, notice: &NoticeRow, files: &[AttachmentRow], view: &View) -> String {
    let large = view.large();
    let href = format!("/n/{}/{}", community.id, notice.id);
    let images = files.iter().filter(|f| f.is_image()).map(|f| {
        view! {
            <figure><img src=format!("{href}/files/{}", f.hash) alt=f.name.clone() loading="lazy"/></figure>
        }
    });
    let documents: Vec<_> = files.iter().filter(|f| !f.is_image()).collect();
    let documents = (!documents.is_empty()).then(|| {
        view! {
            <h2>"附件"</h2>
            <ul>
                {documents.into_iter().map(|f| view! {
                    <li><a href=format!("{href}/files/{}", f.hash)>{f.name.clone()}</a>" （PDF，"{size_text(f.bytes)}"）"</li>
                }).collect_view()}
            </ul>
        }
    });
    let body = view! {
        {public_header(community)}
        <main>
            <article>
                <p class="meta">{category_label(&notice.category)}" · 发布于 "{notice.published_at.map(date)}</p>
                <h1>{notice.title.clone()}</h1>
                <div class="body" inner_html=markdown::to_html(&notice.body)></div>
                {images.collect_view()}
                {documents}
            </article>
            <div class="tools">
                <a href=index_href(community, None, large)>"‹ 全部公告"</a>
                {if large {
                    view! { <a href=href.clone()>"标准字号"</a> }.into_any()
                } else {
                    view! { <a href=format!("{href}?size=large")>"大字阅读"</a> }.into_any()
                }}
                <span class="meta">"可用浏览器的“打印”保存或张贴本页"</span>
            </div>
        </main>
    }
    .into_any();
    document(
        format!("{} · {}", notice.title, community.name),
        PUBLIC_CSS,
        large,
        public_head(community),
        body,
    )
}

pub fn public_error(message: &str) -> String {
    let body = view! {
        <main>
            <article>
                <h1>"无法显示"</h1>
                <p>{message.to_owned()}</p>
            </article>
        </main>
    }
    .into_any();
    document("公开栏".into(), PUBLIC_CSS, false, ().into_any(), body)
}

/// `2026-11-26T06:30:00Z`.
fn rfc3339(epoch_ms: i64) -> String {
    let seconds = (epoch_ms / 1000).rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        app::domain::CivilDate::from_epoch_ms(epoch_ms),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

pub fn atom_feed(base: &str, community: &CommunityRow, notices: &[NoticeRow]) -> String {
    let updated = notices.iter().filter_map(|n| n.published_at).max().unwrap_or_default();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>{} · 公开栏</title><id>{base}/n/{id}</id><link href=\"{base}/n/{id}\"/>\
         <link rel=\"self\" href=\"{base}/n/{id}/feed.atom\"/><updated>{}</updated><author><name>{}</name></author>",
        escape_html(&community.name),
        rfc3339(updated),
        escape_html(&community.name),
        id = community.id,
    );
    for n in notices {
        let at = rfc3339(n.published_at.unwrap_or(n.updated_at));
        xml.push_str(&format!(
            "<entry><title>{}</title><id>{base}/n/{}/{}</id><link href=\"{base}/n/{}/{}\"/>\
             <updated>{at}</updated><published>{at}</published><category term=\"{}\" label=\"{}\"/>\
             <summary>{}</summary><content type=\"html\">{}</content></entry>",
            escape_html(&n.title),
            community.id,
            n.id,
            community.id,
            n.id,
            n.category,
            category_label(&n.category),
            escape_html(&markdown::summary(&n.body, 120)),
            escape_html(&markdown::to_html(&n.body)),
        ));
    }
    xml.push_str("</feed>");
    xml
}

pub async fn register_script() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        "if('serviceWorker' in navigator){navigator.serviceWorker.register('/n/sw.js',{scope:'/n/'}).catch(function(){})}",
    )
}

/// A small service worker for the public pages only (scope `/n/`): network
/// first, the last copy of a page read before when offline.
pub async fn service_worker() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        "const CACHE='gridwalk-notices-v1';\
self.addEventListener('install',()=>self.skipWaiting());\
self.addEventListener('activate',(e)=>e.waitUntil(self.clients.claim()));\
self.addEventListener('fetch',(e)=>{const r=e.request;if(r.method!=='GET')return;\
e.respondWith(fetch(r).then((res)=>{if(res.ok){const c=res.clone();caches.open(CACHE).then((k)=>k.put(r,c));}return res;})\
.catch(()=>caches.match(r).then((hit)=>hit||new Response('<meta charset=utf-8><p>暂时没有网络，这一页还没有保存到手机上。</p>',{status:503,headers:{'content-type':'text/html; charset=utf-8'}}))));});",
    )
}

// ---- authoring ----

fn status_label(status: &str) -> &'static str {
    match status {
        "published" => "已发布",
        "withdrawn" => "已撤回",
        _ => "草稿",
    }
}

/// The status as the lead reads it: a scheduled notice says when it goes out.
fn status_text(notice: &NoticeRow) -> String {
    match notice.published_at {
        Some(at) if notice.status == "published" && at > app::state::now_ms() => {
            format!("定时发布：{} {}", date(at), app::outbox::time_of_day(at))
        }
        _ => status_label(&notice.status).to_owned(),
    }
}

fn manage_header(title: &str) -> AnyView {
    view! {
        <header>
            <a href="/" aria-label="返回">"‹"</a>
            <h1>{title.to_owned()}</h1>
        </header>
    }
    .into_any()
}

fn action_button(id: &str, action: &'static str, label: &'static str, plain: bool) -> impl IntoView {
    view! {
        <form class="inline" method="post" action=format!("/manage/notices/{id}/{action}")>
            <button class=if plain { "plain" } else { "" } type="submit">{label}</button>
        </form>
    }
}

pub fn manage_list(communities: &[CommunityRow], notices: &[NoticeRow]) -> String {
    let items = notices
        .iter()
        .map(|n| {
            let community = communities.iter().find(|c| c.id == n.community_id);
            let public = (n.status == "published").then(|| {
                view! { <a class="muted" href=format!("/n/{}/{}", n.community_id, n.id)>"公开页面"</a> }
            });
            view! {
                <div class="card">
                    <div class="row">
                        <span class=format!("status status-{}", n.status)>{status_text(n)}</span>
                        {n.pinned.then_some("置顶")}
                        <a href=format!("/manage/notices/{}", n.id)><strong>{n.title.clone()}</strong></a>
                    </div>
                    <p class="muted">
                        {category_label(&n.category)}" · "{community.map(|c| c.name.clone())}" · 更新于 "{date(n.updated_at)}
                    </p>
                    <div class="row">
                        {if n.status == "published" {
                            action_button(&n.id, "withdraw", "撤回", true).into_any()
                        } else {
                            action_button(&n.id, "publish", "发布", false).into_any()
                        }}
                        {if n.pinned {
                            action_button(&n.id, "unpin", "取消置顶", true).into_any()
                        } else {
                            action_button(&n.id, "pin", "置顶", true).into_any()
                        }}
                        {public}
                    </div>
                </div>
            }
        })
        .collect_view();
    let links = communities
        .iter()
        .map(|c| view! { <a class="btn plain" href=format!("/n/{}", c.id)>{format!("{} 公开栏", c.name)}</a> })
        .collect_view();
    let body = view! {
        {manage_header("公告管理")}
        <main>
            <div class="row" style="margin-bottom:12px">
                <a class="btn" href="/manage/notices/new" style="display:inline-flex;align-items:center;text-decoration:none">"＋ 新建公告"</a>
                {links}
            </div>
            {items}
            {notices.is_empty().then(|| view! { <p class="muted">"还没有公告。"</p> })}
        </main>
    }
    .into_any();
    document("公告管理".into(), MANAGE_CSS, false, ().into_any(), body)
}

pub fn edit_form(
    communities: &[CommunityRow],
    notice: Option<&NoticeRow>,
    draft: &Draft,
    message: Option<&str>,
    history: &[RevisionRow],
    files: &[AttachmentRow],
) -> String {
    let files_view = notice.map(|n| {
        let base = format!("/manage/notices/{}/files", n.id);
        view! {
            <section class="card">
                <h2>"图片与 PDF 附件"</h2>
                <ul>
                    {files.iter().map(|f| view! {
                        <li>
                            <a href=format!("{base}/{}", f.hash)>{f.name.clone()}</a>
                            " （"{if f.is_image() { "图片" } else { "PDF" }}"，"{size_text(f.bytes)}"）"
                            <form class="inline" method="post" action=format!("{base}/{}/delete", f.hash)>
                                <button class="plain" type="submit">"删除"</button>
                            </form>
                        </li>
                    }).collect_view()}
                </ul>
                <form method="post" action=base.clone() enctype="multipart/form-data">
                    <label>"添加附件（图片不超过8 MB，PDF 不超过10 MB；图片会去除拍摄位置等信息）"
                        <input type="file" name="file" accept="image/jpeg,image/png,image/webp,application/pdf" required/></label>
                    <button type="submit" class="plain">"上传"</button>
                </form>
            </section>
        }
    });
    let action = notice.map_or("/manage/notices".to_string(), |n| format!("/manage/notices/{}", n.id));
    let is_error = message.is_some_and(|m| m != "已保存");
    let community_field = match notice {
        Some(_) => None,
        None => Some(view! {
            <label>"社区"
                <select name="community_id">
                    {communities.iter().map(|c| view! {
                        <option value=c.id.clone() selected=draft.community_id == c.id>{c.name.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
        }),
    };
    let history_view = (!history.is_empty()).then(|| {
        view! {
            <h2>"修改记录"</h2>
            <ul class="muted">
                {history.iter().map(|r| view! {
                    <li>{date(r.at)}" "{r.by.clone()}" "{revision_label(&r.action)}"：「"{r.title.clone()}"」"</li>
                }).collect_view()}
            </ul>
        }
    });
    let status = notice.map(|n| {
        let public = (n.status == "published").then(|| {
            view! { " · " <a href=format!("/n/{}/{}", n.community_id, n.id)>"查看公开页面"</a> }
        });
        view! {
            <p class="muted">"状态："{status_text(n)}{public}</p>
            <div class="row">
                {if n.status == "published" {
                    action_button(&n.id, "withdraw", "撤回", true).into_any()
                } else {
                    action_button(&n.id, "publish", "立即发布", false).into_any()
                }}
            </div>
            <form class="row" method="post" action=format!("/manage/notices/{}/schedule", n.id)>
                <label class="inline">"定时发布（北京时间）"
                    <input type="datetime-local" name="at" required/></label>
                <button type="submit" class="plain">"定时发布"</button>
            </form>
        }
    });
    let body = view! {
        {manage_header(if notice.is_some() { "编辑公告" } else { "新建公告" })}
        <main>
            {message.map(|m| view! { <p class=if is_error { "error" } else { "ok" } role="status">{m.to_owned()}</p> })}
            {status}
            <form class="card" method="post" action=action>
                {community_field}
                <label>"公开类别"
                    <select name="category">
                        {CATEGORIES.iter().map(|(code, label)| view! {
                            <option value=*code selected=draft.category == *code>{*label}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"标题"<input name="title" maxlength="100" required value=draft.title.clone()/></label>
                <label>"正文"
                    <textarea name="body" required>{draft.body.clone()}</textarea>
                </label>
                <p class="muted">"支持简单格式：## 小标题、**加粗**、- 列表、| 表格 |、[链接](https://…)。"</p>
                <button type="submit">"保存"</button>
                <a class="btn plain" href="/manage/notices">"返回列表"</a>
            </form>
            {files_view}
            {history_view}
        </main>
    }
    .into_any();
    document("公告管理".into(), MANAGE_CSS, false, ().into_any(), body)
}

fn revision_label(action: &str) -> &'static str {
    match action {
        "create" => "创建",
        "edit" => "修改",
        "publish" => "发布",
        "withdraw" => "撤回",
        "pin" => "置顶",
        "unpin" => "取消置顶",
        _ => "操作",
    }
}
