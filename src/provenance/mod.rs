//! Where the project's outside files come from and where they live: one cache location
//! ([`cache`]), one pin type for every archive we take files from ([`pin`]), the pinned task-data
//! sources and models ([`registry`]), whether a known model's file is the pinned one ([`verify`],
//! hashed once and then trusted from a stamp), and one sha256 helper.
//!
//! Downloading is `cargo xtask`'s job (`fetch-data`, `fetch-model`, with the machine's pip); the
//! library only verifies and reads what is in the cache. Pure and light: no model runtime, so the
//! xtask and the experiments use it without compiling candle.

pub mod cache;
pub mod pin;
pub mod registry;
pub mod verify;

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

pub use cache::cache_dir;
pub use pin::{ArchiveKind, DataSource, KnownModel, ModelPart, Pin};
pub use registry::{DATA_SOURCES, DEFAULT_MODEL, KNOWN_MODELS};

/// Lower-case hex of a digest.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex sha256 of a file, read in 1 MiB blocks.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("{}: cannot read", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(to_hex(&hasher.finalize()))
}
