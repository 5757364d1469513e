//! Where a model's files are. `--model` takes one of three forms, tried in this order:
//!
//! 1. a name from [`KNOWN_MODELS`] (`smollm2-135m-instruct`, `gemma-3-270m`): a GGUF file that
//!    `cargo xtask fetch-model` put in an hf-hub-style cache under `$DATAEFF_CACHE/hub`;
//! 2. an existing path: a `.gguf` file, or a directory holding `config.json`, `tokenizer.json` and
//!    `*.safetensors` (a Hugging Face checkpoint as `save_pretrained` writes it);
//! 3. a Hugging Face repository, written `org/name[@revision][:file.gguf]`:
//!    - `org/name` — a safetensors checkpoint (the directory form of 2.), branch `main`;
//!    - `org/name@revision` — the same at a branch, tag or commit hash;
//!    - `org/name:file.gguf` (or `org/name@revision:file.gguf`) — one GGUF file of a repository
//!      that holds several (the file may lie in a subfolder: `org/name:q4/model.gguf`).
//!
//!    It is looked up first in the user's Hugging Face cache (`$HF_HUB_CACHE`, else
//!    `$HF_HOME/hub`, else `~/.cache/huggingface/hub`) and downloaded into it only when missing
//!    and `HF_HUB_OFFLINE` is not set. `HF_ENDPOINT` and `HF_TOKEN` are honoured.
//!
//! The answer is a [`ResolvedModel`]: the name to show in messages and a [`ModelSource`] saying
//! which of the two on-disk formats was found.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::hf_dir::{self, INDEX};
use super::hub::{self, hf_cache_dir, hf_offline};
use crate::provenance::cache::hub_cache;
use crate::provenance::{KNOWN_MODELS, KnownModel};

/// The two on-disk forms a model comes in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// One GGUF file: weights, configuration and tokenizer in its metadata.
    Gguf(PathBuf),
    /// A Hugging Face checkpoint directory: `config.json`, `tokenizer.json`, `*.safetensors`.
    HfDir(PathBuf),
}

impl ModelSource {
    /// The file or directory.
    pub fn path(&self) -> &Path {
        match self {
            ModelSource::Gguf(p) | ModelSource::HfDir(p) => p,
        }
    }
}

/// What `--model` named: the name to show in messages, and where its files are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedModel {
    /// The known name, the repository spec or the path as the user wrote it.
    pub name: String,
    pub source: ModelSource,
}

impl fmt::Display for ResolvedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.source {
            ModelSource::Gguf(_) => "GGUF",
            ModelSource::HfDir(_) => "safetensors checkpoint",
        };
        write!(f, "{} ({kind} at {})", self.name, self.source.path().display())
    }
}

/// A Hugging Face repository reference: `org/name[@revision][:file.gguf]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HfRepoSpec {
    /// `org/name`.
    pub repo: String,
    /// Branch, tag or commit hash; `main` when not given.
    pub revision: String,
    /// A GGUF file inside the repository; `None` for a safetensors checkpoint.
    pub file: Option<String>,
}

impl HfRepoSpec {
    /// Parse `org/name[@revision][:file.gguf]`; the error says which part is wrong.
    pub fn parse(spec: &str) -> anyhow::Result<HfRepoSpec> {
        let (repo_rev, file) = match spec.split_once(':') {
            Some((head, file)) => (head, Some(file)),
            None => (spec, None),
        };
        let (repo, revision) = match repo_rev.split_once('@') {
            Some((repo, rev)) => (repo, Some(rev)),
            None => (repo_rev, None),
        };
        let segments: Vec<&str> = repo.split('/').collect();
        let segment_ok = |s: &&str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if segments.len() != 2 || !segments.iter().all(segment_ok) {
            bail!(
                "`{spec}`: `{repo}` is not a Hugging Face repository id (expected `org/name`: two parts of \
                 letters, digits, `-`, `_`, `.`)"
            );
        }
        if let Some(rev) = revision
            && (rev.is_empty() || rev.contains("..") || rev.starts_with('/') || rev.contains(char::is_whitespace))
        {
            bail!("`{spec}`: revision `{rev}` is not a branch, tag or commit name");
        }
        if let Some(file) = file
            && (!file.ends_with(".gguf") || file.starts_with('/') || file.split('/').any(|c| c.is_empty() || c == ".."))
        {
            bail!(
                "`{spec}`: after `:` comes the GGUF file to take from the repository, a relative path ending in \
                 `.gguf` (got `{file}`); for a safetensors checkpoint name the repository alone"
            );
        }
        Ok(HfRepoSpec {
            repo: repo.to_string(),
            revision: revision.unwrap_or("main").to_string(),
            file: file.map(str::to_string),
        })
    }
}

impl fmt::Display for HfRepoSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.repo, self.revision)?;
        if let Some(file) = &self.file {
            write!(f, ":{file}")?;
        }
        Ok(())
    }
}

/// Where [`Resolver::resolve`] looks. [`Resolver::from_env`] reads the environment; tests build
/// one pointing at temporary directories.
#[derive(Clone, Debug)]
pub struct Resolver {
    /// Where `cargo xtask fetch-model` puts the known models (`$DATAEFF_CACHE/hub`).
    pub dataeff_hub: PathBuf,
    /// The Hugging Face hub cache searched for (and downloaded into for) `org/name` specs.
    pub hf_cache: PathBuf,
    /// Never download: a repository not in `hf_cache` is an error.
    pub offline: bool,
    /// The hub to download from (`$HF_ENDPOINT`, default `https://huggingface.co`).
    pub endpoint: String,
}

impl Resolver {
    /// `$DATAEFF_CACHE/hub`, [`hf_cache_dir`], [`hf_offline`] and `$HF_ENDPOINT`.
    pub fn from_env() -> Resolver {
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "https://huggingface.co".to_string());
        Resolver { dataeff_hub: hub_cache(), hf_cache: hf_cache_dir(), offline: hf_offline(), endpoint }
    }

    /// Find the model `spec` names (see the module documentation for the forms).
    pub fn resolve(&self, spec: &str) -> anyhow::Result<ResolvedModel> {
        let found = |source| Ok(ResolvedModel { name: spec.to_string(), source });
        if let Some(known) = KnownModel::by_name(spec) {
            let path = known.path_in(&self.dataeff_hub);
            if !path.is_file() {
                bail!(
                    "model `{spec}` is not fetched yet ({} is missing): run `cargo xtask fetch-model {spec}`",
                    path.display()
                );
            }
            super::gguf::check_magic(&path)?;
            return found(ModelSource::Gguf(path));
        }
        let path = Path::new(spec);
        if path.exists() {
            let path = path.canonicalize().with_context(|| format!("resolving {}", path.display()))?;
            return found(classify_path(&path)?);
        }
        if looks_like_path(spec) {
            bail!("model `{spec}`: no such file or directory");
        }
        match HfRepoSpec::parse(spec) {
            Ok(repo) => found(self.resolve_hf(&repo).with_context(|| format!("model `{spec}`"))?),
            Err(why) if spec.contains('/') => Err(why.context(format!("model `{spec}`: no such file or directory"))),
            Err(_) => {
                let names: Vec<&str> = KNOWN_MODELS.iter().map(|m| m.name).collect();
                bail!(
                    "model `{spec}` is neither a known model ({}), nor an existing .gguf file or model directory, \
                     nor a Hugging Face repository `org/name[@revision][:file.gguf]`",
                    names.join(", ")
                )
            }
        }
    }

    /// The repository's files in [`Self::hf_cache`], downloading what is missing unless offline.
    fn resolve_hf(&self, spec: &HfRepoSpec) -> anyhow::Result<ModelSource> {
        let snapshot = hub::cached_snapshot(&self.hf_cache, spec);
        match (&spec.file, &snapshot) {
            (Some(file), Some(dir)) if dir.join(file).is_file() => {
                let path = dir.join(file);
                super::gguf::check_magic(&path)?;
                return Ok(ModelSource::Gguf(path));
            }
            (None, Some(dir)) if missing_checkpoint_files(dir).is_empty() => {
                return Ok(ModelSource::HfDir(dir.clone()));
            }
            _ => {}
        }
        if self.offline {
            let what = match (&spec.file, &snapshot) {
                (Some(file), _) => format!("{file} is not"),
                (None, Some(dir)) => format!("{} lacks {}", dir.display(), missing_checkpoint_files(dir).join(", ")),
                (None, None) => "it is not".to_string(),
            };
            bail!(
                "{what} in the Hugging Face cache {} and HF_HUB_OFFLINE is set: unset it to download, or pass a \
                 local path",
                self.hf_cache.display()
            );
        }
        hub::download::fetch(&self.hf_cache, &self.endpoint, spec)
    }
}

/// Resolve `--model` with [`Resolver::from_env`].
pub fn resolve(model: &str) -> anyhow::Result<ResolvedModel> {
    Resolver::from_env().resolve(model)
}

/// Resolve `--model` and return only its path: a `.gguf` file or a checkpoint directory.
pub fn locate(model: &str) -> anyhow::Result<PathBuf> {
    Ok(resolve(model)?.source.path().to_path_buf())
}

/// A spec that can only be meant as a path (so a missing one is "no such file", not a repository).
fn looks_like_path(spec: &str) -> bool {
    spec.starts_with(['/', '.', '~']) || spec.contains('\\') || (spec.ends_with(".gguf") && !spec.contains(':'))
}

/// What an existing path holds.
fn classify_path(path: &Path) -> anyhow::Result<ModelSource> {
    if path.is_file() {
        super::gguf::check_magic(path)?;
        return Ok(ModelSource::Gguf(path.to_path_buf()));
    }
    if !path.is_dir() {
        bail!(
            "{}: neither a regular file nor a directory (a device, socket or pipe): --model takes a .gguf file or \
             a checkpoint directory",
            path.display()
        );
    }
    let missing = missing_checkpoint_files(path);
    if missing.is_empty() {
        return Ok(ModelSource::HfDir(path.to_path_buf()));
    }
    let ggufs = files_with_extension(path, "gguf");
    let hint = if ggufs.is_empty() {
        String::new()
    } else {
        format!("; it holds {}: pass that file instead", ggufs.join(", "))
    };
    bail!(
        "{}: not a model directory: missing {} (a checkpoint directory holds config.json, tokenizer.json and \
         *.safetensors weights){hint}",
        path.display(),
        missing.join(", ")
    )
}

/// Names of the files in `dir` ending in `.ext`, sorted.
fn files_with_extension(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file() && e.path().extension().is_some_and(|x| x == ext))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What a checkpoint directory lacks (empty when complete): `config.json`, `tokenizer.json`, and
/// weights — the shards its `model.safetensors.index.json` lists, or else any `*.safetensors`.
pub(super) fn missing_checkpoint_files(dir: &Path) -> Vec<String> {
    let mut missing: Vec<String> =
        ["config.json", "tokenizer.json"].into_iter().filter(|f| !dir.join(f).is_file()).map(String::from).collect();
    let index = dir.join(INDEX);
    if index.is_file() {
        match hf_dir::index_shards(&index) {
            Ok(shards) => missing.extend(shards.into_iter().filter(|s| !dir.join(s).is_file())),
            Err(e) => missing.push(format!("a readable {INDEX} ({e:#})")),
        }
    } else if files_with_extension(dir, "safetensors").is_empty() {
        missing.push("*.safetensors (the weights)".to_string());
    }
    missing
}

