//! The built front end as the server sees it: cargo-leptos content-hashes the
//! file names (listed in `hash.txt` beside the server binary), and the service
//! worker is rendered at start-up with the exact list of files to precache.

use std::path::Path;

use sha2::{Digest, Sha256};

/// Unhashed files the shell needs offline, besides everything in `pkg/`, and
/// `/shell`, the empty page app routes fall back to offline (its content
/// changes only with the hashed names).
const PUBLIC_SHELL: [&str; 6] = [
    "/shell",
    "/icons/icon.svg",
    "/icons/icon-192.png",
    "/manifest.webmanifest",
    "/offline.html",
    "/phone.js",
];

#[derive(Debug, Clone)]
pub struct Assets {
    /// Whether `hash.txt` was found (a release build); Leptos then asks for the
    /// hashed names, and reading a missing hash file would panic.
    pub hashed: bool,
    pub stylesheet: String,
    pub service_worker: String,
}

impl Assets {
    pub fn load(site_root: &Path, output_name: &str) -> Self {
        let hashes = std::env::current_exe()
            .ok()
            .and_then(|exe| std::fs::read_to_string(exe.with_file_name("hash.txt")).ok());
        let css_hash = hashes.as_deref().and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("css:").map(|h| h.trim().to_owned()))
        });
        let stylesheet = match &css_hash {
            Some(hash) => format!("/pkg/{output_name}.{hash}.css"),
            None => format!("/pkg/{output_name}.css"),
        };
        let mut precache: Vec<String> = std::fs::read_dir(site_root.join("pkg"))
            .map(|dir| {
                dir.filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                    .filter(|name| [".js", ".wasm", ".css"].iter().any(|ext| name.ends_with(ext)))
                    .map(|name| format!("/pkg/{name}"))
                    .collect()
            })
            .unwrap_or_default();
        precache.sort();
        // The version changes whenever a precached file does: hashed names stand
        // for their content, the few unhashed public files are hashed here.
        let mut version = Sha256::new();
        for name in &precache {
            version.update(name.as_bytes());
        }
        for path in PUBLIC_SHELL {
            version.update(std::fs::read(site_root.join(&path[1..])).unwrap_or_default());
        }
        let version: String = version.finalize()[..6].iter().map(|b| format!("{b:02x}")).collect();
        precache.extend(PUBLIC_SHELL.iter().map(|p| p.to_string()));
        let list = serde_json::to_string(&precache).unwrap_or_else(|_| "[]".into());
        let service_worker = include_str!("sw.js")
            .replace("__VERSION__", &version)
            .replace("__PRECACHE__", &list);
        Assets {
            hashed: css_hash.is_some(),
            stylesheet,
            service_worker,
        }
    }
}
