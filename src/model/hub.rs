//! The Hugging Face hub cache: where the user's cache is, whether downloads are allowed, finding a
//! repository's snapshot in it, and (only when the cache lacks something) downloading into it
//! through `hf_hub`. The `--model` grammar that leads here is [`super::resolve`]'s.

use std::path::{Path, PathBuf};

use super::resolve::HfRepoSpec;

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


/// The snapshot directory of `spec` in the hub cache, if any: `refs/<revision>` names the commit,
/// or the revision is itself a commit with a `snapshots/<commit>` directory.
pub(super) fn cached_snapshot(hf_cache: &Path, spec: &HfRepoSpec) -> Option<PathBuf> {
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
pub(super) mod download {
    use std::path::{Path, PathBuf};

    use anyhow::{Context as _, bail};
    use hf_hub::api::sync::{ApiBuilder, ApiError, ApiRepo};

    use super::super::gguf::check_magic;
    use super::super::hf_dir::{INDEX, index_shards};
    use super::super::resolve::{HfRepoSpec, ModelSource, missing_checkpoint_files};

    /// Small files a checkpoint may carry that the runtime reads when present (chat template, EOS).
    const OPTIONAL: [&str; 4] =
        ["tokenizer_config.json", "chat_template.jinja", "generation_config.json", "special_tokens_map.json"];

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
    pub(in crate::model) fn fetch(hf_cache: &Path, endpoint: &str, spec: &HfRepoSpec) -> anyhow::Result<ModelSource> {
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
            check_magic(&path)?;
            return Ok(ModelSource::Gguf(path));
        }
        let listing = repo.info().map_err(|e| explain(e, spec, "the file list", endpoint))?;
        let names: Vec<&str> = listing.siblings.iter().map(|s| s.rfilename.as_str()).collect();
        let mut wanted: Vec<String> = vec!["config.json".into(), "tokenizer.json".into()];
        if names.contains(&INDEX) {
            let index = get(&repo, spec, INDEX, endpoint)?;
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
