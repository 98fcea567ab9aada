//! What an uploaded file must be before anything is stored, and the clean copy
//! that is stored instead of it. Pure functions of the bytes: every refusal is
//! decided here, before the first write.
//!
//! The checks run cheapest first: size, magic bytes, the file's end (a truncated
//! file, or a second file glued behind the image: the usual polyglot), markup
//! hidden anywhere inside, then the header's pixel count — a small file may
//! declare an enormous image, so this comes before any decoding. Only then is
//! the image decoded, turned upright, shrunk and re-encoded: the stored photo
//! and its thumbnail carry no byte of the original's metadata (EXIF, GPS).

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Long side of the stored photo: what the phone sends already.
pub const MAX_SIDE: u32 = 1600;
/// Long side of the thumbnail lists and the resident page show.
pub const THUMB_SIDE: u32 = 320;

#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub max_bytes: usize,
    pub max_pixels: u64,
}

/// Why a file was not accepted, with the message the worker sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 413: bytes or pixels over the limit.
    TooLarge(String),
    /// 415: not a JPEG, PNG or WebP.
    Unsupported(String),
    /// 422: claims to be an image but is broken or carries something else.
    Invalid(String),
}

impl Refusal {
    /// The HTTP status, the machine-readable code and the message: one
    /// mapping for every place that takes files (photos, notice files, the
    /// desk's request photos).
    pub fn into_parts(self) -> (http::StatusCode, &'static str, String) {
        use http::StatusCode;
        match self {
            Refusal::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            Refusal::Unsupported(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", m),
            Refusal::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_image", m),
        }
    }
}

/// The copies that are stored, and what making them cost.
pub struct Cleaned {
    pub photo: Vec<u8>,
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub decode: Duration,
    pub encode: Duration,
    pub thumbnail: Duration,
}

/// A decoder's error as the worker should read it: over a limit (the decoder
/// checks the declared size against `max_alloc` first), or a broken file.
fn refusal(error: image::ImageError, rules: Rules) -> Refusal {
    match error {
        image::ImageError::Limits(_) => too_many_pixels(rules, None),
        _ => Refusal::Invalid("照片文件已损坏或不完整，请重新拍摄".into()),
    }
}

fn too_many_pixels(rules: Rules, size: Option<(u32, u32)>) -> Refusal {
    let size = size.map(|(w, h)| format!("（{w}×{h}）")).unwrap_or_default();
    Refusal::TooLarge(format!("照片像素过多{size}，最多{}万像素", rules.max_pixels / 10_000))
}

/// The format from the first bytes; the file name and Content-Type are not trusted.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some(ImageFormat::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(ImageFormat::Png),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// The file ends where its image ends: nothing cut off, nothing appended.
fn ends_cleanly(format: ImageFormat, bytes: &[u8]) -> bool {
    match format {
        // Some cameras pad with zero bytes after the end-of-image marker.
        ImageFormat::Jpeg => {
            let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            bytes[..end].ends_with(&[0xFF, 0xD9])
        }
        ImageFormat::Png => bytes.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]),
        ImageFormat::WebP => {
            let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
            // RIFF chunks are padded to an even length.
            declared + 8 == bytes.len() || declared + 9 == bytes.len()
        }
        _ => false,
    }
}

/// The comment and metadata segments of an image: where text hides. The
/// compressed image data itself is not scanned, so a photo is never refused
/// for bytes that happen to spell `<svg`.
fn metadata_segments(format: ImageFormat, bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let slice = |from: usize, len: usize| bytes.get(from..from.saturating_add(len).min(bytes.len()));
    match format {
        // Markers up to the start of scan: APP0–APP15 and COM carry text.
        ImageFormat::Jpeg => {
            let mut at = 2;
            while at + 4 <= bytes.len() && bytes[at] == 0xFF {
                let marker = bytes[at + 1];
                if marker == 0xDA {
                    break;
                }
                let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
                if (0xE0..=0xEF).contains(&marker) || marker == 0xFE {
                    out.extend(slice(at + 4, len.saturating_sub(2)));
                }
                at += 2 + len.max(2);
            }
        }
        // Text chunks: tEXt, iTXt, zTXt (scanned as stored).
        ImageFormat::Png => {
            let mut at = 8;
            while at + 8 <= bytes.len() {
                let len = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
                if matches!(&bytes[at + 4..at + 8], b"tEXt" | b"iTXt" | b"zTXt") {
                    out.extend(slice(at + 8, len));
                }
                at = at.saturating_add(12).saturating_add(len);
            }
        }
        // RIFF chunks after the header: EXIF and XMP.
        _ => {
            let mut at = 12;
            while at + 8 <= bytes.len() {
                let len = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
                if matches!(&bytes[at..at + 4], b"EXIF" | b"XMP ") {
                    out.extend(slice(at + 8, len));
                }
                at = at.saturating_add(8).saturating_add(len.saturating_add(len & 1));
            }
        }
    }
    out
}

/// Markup a browser or an interpreter would act on, hidden in a comment or
/// metadata segment.
fn carries_markup(format: ImageFormat, bytes: &[u8]) -> bool {
    const PATTERNS: [&[u8]; 6] = [b"<script", b"<html", b"<svg", b"<?php", b"<iframe", b"<body"];
    metadata_segments(format, bytes).into_iter().any(|segment| {
        segment.iter().enumerate().filter(|(_, b)| **b == b'<').any(|(i, _)| {
            PATTERNS
                .iter()
                .any(|p| segment.get(i..i + p.len()).is_some_and(|w| w.eq_ignore_ascii_case(p)))
        })
    })
}

/// Checks an upload and makes the copies to store, or says why not.
pub fn clean(bytes: &[u8], rules: Rules) -> Result<Cleaned, Refusal> {
    if bytes.len() > rules.max_bytes {
        return Err(too_many_bytes(rules));
    }
    let format = sniff(bytes).ok_or_else(|| Refusal::Unsupported("只接受 JPEG、PNG 或 WebP 格式的照片".into()))?;
    if !ends_cleanly(format, bytes) {
        return Err(Refusal::Invalid(
            "照片文件不完整，或末尾夹带了其他数据，请重新拍摄".into(),
        ));
    }
    if carries_markup(format, bytes) {
        return Err(Refusal::Invalid("照片中夹带了网页或脚本内容，已拒收".into()));
    }

    let started = Instant::now();
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    // RGBA at the largest size allowed, plus the decoder's working memory.
    limits.max_alloc = Some(rules.max_pixels * 4 + 64 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| refusal(e, rules))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > rules.max_pixels {
        return Err(too_many_pixels(rules, Some((width, height))));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| refusal(e, rules))?;
    image.apply_orientation(orientation);
    let decode = started.elapsed();

    let started = Instant::now();
    if image.width().max(image.height()) > MAX_SIDE {
        image = image.resize(MAX_SIDE, MAX_SIDE, FilterType::Triangle);
    }
    let photo = jpeg(&image, 82)?;
    let encode = started.elapsed();

    let started = Instant::now();
    let thumb = jpeg(&image.thumbnail(THUMB_SIDE, THUMB_SIDE), 75)?;
    Ok(Cleaned {
        width: image.width(),
        height: image.height(),
        photo,
        thumb,
        decode,
        encode,
        thumbnail: started.elapsed(),
    })
}

pub fn too_many_bytes(rules: Rules) -> Refusal {
    Refusal::TooLarge(format!("照片不能超过{} MB", rules.max_bytes / (1024 * 1024)))
}

/// Baseline JPEG with no metadata segments at all: only what the encoder writes.
fn jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&image.to_rgb8())
        .map_err(|_| Refusal::Invalid("照片无法转换，请重新拍摄".into()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        max_bytes: 8 * 1024 * 1024,
        max_pixels: 25_000_000,
    };

    fn sample(format: ImageFormat) -> Vec<u8> {
        let image = DynamicImage::new_rgb8(40, 30);
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn the_three_formats_are_recognised_by_their_bytes() {
        assert_eq!(sniff(&sample(ImageFormat::Jpeg)), Some(ImageFormat::Jpeg));
        assert_eq!(sniff(&sample(ImageFormat::Png)), Some(ImageFormat::Png));
        assert_eq!(sniff(b"GIF89a..."), None);
        assert_eq!(sniff(b"<svg xmlns="), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn a_clean_image_is_re_encoded_as_jpeg_with_a_thumbnail() {
        for format in [ImageFormat::Jpeg, ImageFormat::Png] {
            let cleaned = clean(&sample(format), RULES).unwrap();
            assert_eq!((cleaned.width, cleaned.height), (40, 30));
            assert_eq!(sniff(&cleaned.photo), Some(ImageFormat::Jpeg));
            assert_eq!(sniff(&cleaned.thumb), Some(ImageFormat::Jpeg));
        }
    }

    #[test]
    fn cut_or_padded_files_are_refused() {
        let jpeg = sample(ImageFormat::Jpeg);
        assert!(matches!(
            clean(&jpeg[..jpeg.len() / 2], RULES),
            Err(Refusal::Invalid(_))
        ));
        let mut glued = jpeg.clone();
        glued.extend_from_slice(b"PK\x03\x04 a zip archive follows");
        assert!(matches!(clean(&glued, RULES), Err(Refusal::Invalid(_))));
        let mut padded = jpeg;
        padded.extend_from_slice(&[0, 0, 0]);
        assert!(clean(&padded, RULES).is_ok());
        let png = sample(ImageFormat::Png);
        assert!(matches!(clean(&png[..png.len() - 1], RULES), Err(Refusal::Invalid(_))));
    }

    #[test]
    fn hidden_markup_is_refused() {
        let jpeg = sample(ImageFormat::Jpeg);
        // A comment segment (FF FE) right after the start-of-image marker.
        let payload = b"<SCRIPT>alert(1)</script>";
        let mut polyglot = vec![0xFF, 0xD8, 0xFF, 0xFE, 0, (payload.len() + 2) as u8];
        polyglot.extend_from_slice(payload);
        polyglot.extend_from_slice(&jpeg[2..]);
        assert!(matches!(clean(&polyglot, RULES), Err(Refusal::Invalid(_))));
    }

    #[test]
    fn only_metadata_segments_are_scanned_for_markup() {
        let png = sample(ImageFormat::Png);
        let text = b"Comment\0<svg onload=alert(1)>";
        let mut chunk = (text.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(b"tEXt");
        chunk.extend_from_slice(text);
        chunk.extend_from_slice(&[0, 0, 0, 0]);
        // After the 8-byte signature and the 25-byte IHDR chunk.
        let with_text = [&png[..33], &chunk[..], &png[33..]].concat();
        assert!(carries_markup(ImageFormat::Png, &with_text));
        assert!(!carries_markup(ImageFormat::Png, &png));
        // The same bytes in image data (here: glued after the header of a
        // JPEG's scan) are not a metadata segment.
        let mut jpeg = sample(ImageFormat::Jpeg);
        let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        jpeg.splice(sos + 14..sos + 14, b"<svg".iter().copied());
        assert!(!carries_markup(ImageFormat::Jpeg, &jpeg));
    }

    #[test]
    fn limits_come_before_decoding() {
        let small = Rules {
            max_bytes: 100,
            max_pixels: 25_000_000,
        };
        assert!(matches!(
            clean(&sample(ImageFormat::Png), small),
            Err(Refusal::TooLarge(_))
        ));
        let few_pixels = Rules {
            max_bytes: RULES.max_bytes,
            max_pixels: 1000,
        };
        let Err(Refusal::TooLarge(message)) = clean(&sample(ImageFormat::Jpeg), few_pixels) else {
            panic!("1200 pixels allowed through a limit of 1000");
        };
        assert!(message.contains("40×30"), "{message}");
    }

    #[test]
    fn large_images_are_shrunk_to_the_long_side() {
        let image = DynamicImage::new_rgb8(3200, 100);
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        let cleaned = clean(&out.into_inner(), RULES).unwrap();
        assert_eq!((cleaned.width, cleaned.height), (MAX_SIDE, 50));
    }
}
