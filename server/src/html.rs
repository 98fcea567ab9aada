//! The frame of the plain server-rendered pages (notices, coverage): no WASM,
//! CSS inline so one request brings the whole page.

use leptos::prelude::*;

pub fn document(title: String, css: &'static str, large: bool, extra_head: AnyView, body: AnyView) -> String {
    let html = view! {
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{title}</title>
                <style>{css}</style>
                {extra_head}
            </head>
            <body class=if large { "large" } else { "" }>{body}</body>
        </html>
    }
    .to_html();
    format!("<!DOCTYPE html>{html}")
}

/// "2026-11-26" in Beijing time.
pub fn date(epoch_ms: i64) -> String {
    app::domain::CivilDate::from_epoch_ms(epoch_ms + 8 * 3_600_000).to_string()
}

/// `Content-Disposition` of a download named `name`, Chinese included
/// (RFC 5987: the UTF-8 name survives in every browser; `fallback` is for
/// those that read only the plain one).
pub fn attachment(fallback: &str, name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}
