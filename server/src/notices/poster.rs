//! Printable posters for building entrances, as SVG (prints sharp at any
//! size): a heading, a line under it, a QR code of a public page and what
//! scanning it gives. The community's poster points at its notices; a
//! building's at who serves that building.

use app::ui::escape_html;
use qrcodegen::{QrCode, QrCodeEcc};

use store::notices::CommunityRow;

/// What a poster says around its code.
pub struct Poster<'a> {
    pub heading: String,
    pub line: &'a str,
    /// What scanning gives, under the code.
    pub call: &'a str,
    pub footer: String,
    pub url: &'a str,
}

/// The community's poster: its public notices.
pub fn svg(community: &CommunityRow, url: &str) -> String {
    poster(&Poster {
        heading: format!("{} · 公开栏", community.name),
        line: "党务公开 · 居务公开 · 财务公开 · 办事指南 · 活动通知",
        call: "用手机扫码，查看社区公告（无需注册）",
        footer: community.street_name.clone(),
        url,
    })
}

pub fn poster(p: &Poster<'_>) -> String {
    let url = p.url;
    // Medium error correction survives a scuffed or sun-bleached print.
    let path = QrCode::encode_text(url, QrCodeEcc::Medium)
        .map(|qr| {
            let size = qr.size();
            let mut d = String::new();
            for y in 0..size {
                for x in 0..size {
                    if qr.get_module(x, y) {
                        d.push_str(&format!("M{x},{y}h1v1h-1z"));
                    }
                }
            }
            (size, d)
        })
        .unwrap_or((1, String::new()));
    let (size, d) = path;
    // A4 proportions in millimetres; the code is 120 mm wide with its quiet zone.
    let scale = 120.0 / f64::from(size + 8);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297">
<rect width="210" height="297" fill="#fff"/>
<rect x="0" y="0" width="210" height="46" fill="#1f6f5c"/>
<text x="105" y="30" font-size="14" text-anchor="middle" fill="#fff" font-family="sans-serif">{heading}</text>
<text x="105" y="66" font-size="11" text-anchor="middle" fill="#1d2327" font-family="sans-serif">{line}</text>
<g transform="translate(45,80) scale({scale})"><rect width="{full}" height="{full}" fill="#fff"/><path transform="translate(4,4)" d="{d}" fill="#000"/></g>
<text x="105" y="222" font-size="12" text-anchor="middle" fill="#1d2327" font-family="sans-serif">{call}</text>
<text x="105" y="236" font-size="5" text-anchor="middle" fill="#5b6a70" font-family="monospace">{url}</text>
<text x="105" y="280" font-size="6" text-anchor="middle" fill="#5b6a70" font-family="sans-serif">{footer}</text>
</svg>"##,
        heading = escape_html(&p.heading),
        line = escape_html(p.line),
        call = escape_html(p.call),
        footer = escape_html(&p.footer),
        url = escape_html(url),
        full = size + 8,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poster_carries_a_code_and_escapes_names() {
        let community = CommunityRow {
            id: "c".into(),
            name: "春华<社区>".into(),
            street_name: "示范街道".into(),
        };
        let svg = svg(&community, "http://example.org/n/c");
        assert!(svg.contains("春华&lt;社区&gt;"));
        assert!(svg.contains("<path transform=\"translate(4,4)\" d=\"M"));
        assert!(svg.contains("http://example.org/n/c"));
    }
}
