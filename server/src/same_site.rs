//! Changes only from this site's own pages. A page elsewhere can make a
//! signed-in browser post a form here; `SameSite=Lax` is the only other guard,
//! and old phone browsers ignore it. Every unsafe method is refused when the
//! browser says it comes from another site — login included, or a stranger's
//! page could sign the worker into the stranger's account and collect what
//! they record. Requests that name no origin at all (the phone's sync in
//! browsers without these headers, scripts, tests) pass: a cross-site form
//! post from a browser that sends neither header is what SameSite covers.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// This site's public authority (`gw.example.org`), from `public_url`, beside
/// the request's own Host, for browsers that send `Origin` but not
/// `Sec-Fetch-Site` behind a proxy that rewrites Host.
#[derive(Debug, Default)]
pub struct SiteAuthority(pub Option<String>);

impl SiteAuthority {
    pub fn from_public_url(url: Option<&str>) -> Self {
        SiteAuthority(url.and_then(authority).map(str::to_owned))
    }
}

pub async fn refuse_cross_site(State(site): State<Arc<SiteAuthority>>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || from_this_site(request.headers(), &site) {
        return next.run(request).await;
    }
    tracing::warn!(
        path = %request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        fetch_site = ?request.headers().get("sec-fetch-site"),
        "cross-site request refused"
    );
    (
        StatusCode::FORBIDDEN,
        Json(serde_json::json!({
            "error": "cross_site",
            "message": "请求来自其他网站，已拒绝。请在网格通的页面中重新操作",
        })),
    )
        .into_response()
}

/// The browser's own word first (`Sec-Fetch-Site`, which a page cannot set),
/// else `Origin`, else `Referer`, compared with this site.
fn from_this_site(headers: &HeaderMap, site: &SiteAuthority) -> bool {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    if let Some(fetch_site) = text("sec-fetch-site") {
        return matches!(fetch_site, "same-origin" | "none");
    }
    let Some(claimed) = text(header::ORIGIN.as_str()).or_else(|| text(header::REFERER.as_str())) else {
        return true;
    };
    let Some(claimed) = authority(claimed) else {
        return false; // "null" (a sandboxed frame, a data: page) or garbage
    };
    let host = text(header::HOST.as_str());
    host.is_some_and(|h| h.eq_ignore_ascii_case(claimed))
        || site.0.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(claimed))
}

/// `host[:port]` of an `http(s)://` URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (header::HeaderName::from_static(name), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn the_fetch_metadata_decides_when_sent() {
        let none = SiteAuthority::default();
        let same = headers(&[("sec-fetch-site", "same-origin"), ("origin", "https://evil.example")]);
        assert!(from_this_site(&same, &none));
        for other in ["cross-site", "same-site"] {
            let h: HeaderMap = [(
                header::HeaderName::from_static("sec-fetch-site"),
                HeaderValue::from_static(other),
            )]
            .into_iter()
            .collect();
            assert!(!from_this_site(&h, &none), "{other}");
        }
    }

    #[test]
    fn otherwise_the_origin_must_be_this_host_or_the_public_address() {
        let site = SiteAuthority::from_public_url(Some("https://gw.example.org/"));
        let local = headers(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")]);
        assert!(from_this_site(&local, &site));
        let proxied = headers(&[("host", "127.0.0.1:3000"), ("origin", "https://gw.example.org")]);
        assert!(from_this_site(&proxied, &site));
        let evil = headers(&[("host", "127.0.0.1:3000"), ("origin", "https://evil.example")]);
        assert!(!from_this_site(&evil, &site));
        let opaque = headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]);
        assert!(!from_this_site(&opaque, &site));
        let referred = headers(&[("host", "gw.example.org"), ("referer", "https://evil.example/x?y")]);
        assert!(!from_this_site(&referred, &site));
    }

    #[test]
    fn a_request_naming_no_origin_passes() {
        assert!(from_this_site(
            &headers(&[("host", "127.0.0.1:3000")]),
            &SiteAuthority::default()
        ));
    }
}
