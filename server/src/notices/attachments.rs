//! Images and PDF files attached to a notice. Images pass the photo checks and
//! are stored as the server's own metadata-free re-encoding; PDFs pass a
//! structural check and are only ever served as downloads in a sandbox, so a
//! PDF never runs anything in the site's origin. Files are named by the
//! SHA-256 of what is stored; the public may fetch one only while its notice
//! is public.

use std::sync::Arc;

use app::error::ApiError;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use object_store::{GetOptions, ObjectStoreExt, PutOptions, PutPayload};
use sha2::{Digest, Sha256};
use store::notices::AttachmentRow;

use crate::photos::PhotoStore;
use crate::photos::check::{self, Refusal};

/// Largest PDF accepted.
pub const MAX_PDF_BYTES: usize = 10 * 1024 * 1024;
/// Files one notice may carry.
pub const MAX_FILES: i64 = 10;

/// Where a file is stored (`notices/ab/<hash>.jpg` or `.pdf`).
pub fn location(hash: &str, kind: &str) -> object_store::path::Path {
    let extension = if kind == "image" { "jpg" } else { "pdf" };
    format!("notices/{}/{hash}.{extension}", &hash[..2]).into()
}

/// Active content a PDF viewer could run or open. PDF object streams may hide
/// names from a byte scan; serving as a sandboxed download covers those.
const PDF_ACTIVE: [&[u8]; 9] = [
    b"/JavaScript",
    b"/JS",
    b"/Launch",
    b"/EmbeddedFile",
    b"/RichMedia",
    b"/XFA",
    b"/AA",
    b"/SubmitForm",
    b"/ImportData",
];

/// PDF names may spell a character as `#hh` (`/J#53` is `/JS`): undone
/// before the scan.
fn unescape_names(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fn check_pdf(bytes: &[u8]) -> Result<(), Refusal> {
    if bytes.len() > MAX_PDF_BYTES {
        return Err(Refusal::TooLarge(format!(
            "PDF 文件不能超过{} MB",
            MAX_PDF_BYTES / (1024 * 1024)
        )));
    }
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    if !bytes[..end].ends_with(b"%%EOF") {
        return Err(Refusal::Invalid("PDF 文件不完整，请重新导出后再上传".into()));
    }
    let names = unescape_names(bytes);
    // A whole name: `/AA` but not a font named `/AAAAAB+SimSun`.
    let delimiter = |b: Option<&u8>| b.is_none_or(|b| b" \t\r\n\x0c\0()<>[]{}/%".contains(b));
    let active = PDF_ACTIVE.iter().any(|p| {
        names
            .windows(p.len())
            .enumerate()
            .any(|(i, w)| w == *p && delimiter(names.get(i + p.len())))
    });
    if active {
        return Err(Refusal::Invalid(
            "PDF 中含有脚本、内嵌文件或自动打开的动作，请另存为普通 PDF 后再上传".into(),
        ));
    }
    Ok(())
}

/// Checks an upload and returns what to store: (kind, bytes).
pub fn accept(bytes: &[u8], rules: check::Rules) -> Result<(&'static str, Vec<u8>), Refusal> {
    if bytes.starts_with(b"%PDF-") {
        check_pdf(bytes)?;
        return Ok(("pdf", bytes.to_vec()));
    }
    if check::sniff(bytes).is_none() {
        return Err(Refusal::Unsupported(
            "附件只接受图片（JPEG、PNG、WebP）和 PDF 文件".into(),
        ));
    }
    Ok(("image", check::clean(bytes, rules)?.photo))
}

/// Stores a checked file under the hash of its bytes; returns the hash.
pub async fn store(photos: &PhotoStore, kind: &str, bytes: &[u8]) -> Result<String, ApiError> {
    let hash = format!("{:x}", Sha256::digest(bytes));
    put(photos, kind, &hash, bytes).await?;
    Ok(hash)
}

async fn put(photos: &PhotoStore, kind: &str, hash: &str, bytes: &[u8]) -> Result<(), ApiError> {
    photos
        .objects()
        .put_opts(
            &location(hash, kind),
            PutPayload::from(bytes.to_vec()),
            PutOptions::default(),
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "notice file storage");
            ApiError::Internal
        })?;
    Ok(())
}

/// Once a notice lists the file (committed under the object's lock, see
/// `Store::add_notice_file`), no sweep removes it; one that removed it
/// before, between `store` and the listing, is undone here.
pub async fn store_again_if_swept(photos: &PhotoStore, kind: &str, hash: &str, bytes: &[u8]) -> Result<(), ApiError> {
    match photos.objects().head(&location(hash, kind)).await {
        Ok(_) => Ok(()),
        Err(object_store::Error::NotFound { .. }) => {
            tracing::info!(%hash, "notice file swept during its upload; stored again");
            put(photos, kind, hash, bytes).await
        }
        Err(e) => {
            tracing::error!(error = %e, "notice file storage");
            Err(ApiError::Internal)
        }
    }
}

/// A file as a response: images inline, PDFs as a download, both in a
/// sandbox; `cache` says who may keep it.
pub async fn serve(
    photos: &Arc<PhotoStore>,
    file: &AttachmentRow,
    request: &HeaderMap,
    cache: &'static str,
) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", file.hash);
    let headers = [
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).map_err(|_| ApiError::Internal)?,
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ),
    ];
    if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let bytes: Bytes = photos
        .objects()
        .get_opts(&location(&file.hash, &file.kind), GetOptions::default())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "notice file read");
            ApiError::Internal
        })?
        .bytes()
        .await
        .map_err(|_| ApiError::Internal)?;
    let (content_type, disposition) = if file.is_image() {
        ("image/jpeg", "inline".to_owned())
    } else {
        ("application/pdf", crate::html::attachment("file.pdf", &file.name))
    };
    Ok((
        headers,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|_| ApiError::Internal)?,
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: check::Rules = check::Rules {
        max_bytes: 8 * 1024 * 1024,
        max_pixels: 25_000_000,
    };

    #[test]
    fn plain_pdfs_pass_and_active_ones_do_not() {
        let plain = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
        assert_eq!(accept(plain, RULES).unwrap().0, "pdf");
        let script = b"%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF";
        assert!(matches!(accept(script, RULES), Err(Refusal::Invalid(_))));
        let escaped = b"%PDF-1.7\n1 0 obj << /OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >> >> endobj\n%%EOF";
        assert!(matches!(accept(escaped, RULES), Err(Refusal::Invalid(_))));
        let font = b"%PDF-1.7\n1 0 obj << /BaseFont /AAAAAB+SimSun /JSON 1 >> endobj\n%%EOF";
        assert_eq!(accept(font, RULES).unwrap().0, "pdf");
        let cut = b"%PDF-1.7\n1 0 obj << /Type /Catalog >>";
        assert!(matches!(accept(cut, RULES), Err(Refusal::Invalid(_))));
        assert!(matches!(accept(b"GIF89a", RULES), Err(Refusal::Unsupported(_))));
    }
}
