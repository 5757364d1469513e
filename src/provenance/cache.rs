//! The one cache directory: `$DATAEFF_CACHE` (default `~/.cache/dataeff`). Task data lives in
//! `<cache>/<package>-<version>/`, models in the hf-hub-style `<cache>/hub`, downloads in progress
//! in `<cache>/downloads`.

use std::path::PathBuf;

/// Environment variable that overrides the cache directory.
pub const CACHE_ENV: &str = "DATAEFF_CACHE";

/// The cache directory: `$DATAEFF_CACHE` when set and not empty, else `$HOME/.cache/dataeff`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
            home.join(".cache").join("dataeff")
        }
    }
}

/// Where `cargo xtask fetch-data` and `fetch-model` download archives to, and reuse a verified
/// copy from (also one put there by hand): `<cache>/downloads`.
pub fn downloads_dir(cache: &std::path::Path) -> PathBuf {
    cache.join("downloads")
}

/// The hf-hub-style cache the known models are fetched into: `<cache>/hub`.
pub fn hub_dir(cache: &std::path::Path) -> PathBuf {
    cache.join("hub")
}

/// [`hub_dir`] of [`cache_dir`].
pub fn hub_cache() -> PathBuf {
    hub_dir(&cache_dir())
}
