//! From `--model` to a runnable model: resolve the name, read the config and weights (GGUF or a
//! Hugging Face directory), build the architecture's model code, and bring the tokenizer and
//! chat template along. A known model's file must have its pinned sha256 (hashed on its first
//! load, then trusted from the stamp `cargo xtask fetch-model` also keeps).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use candle_core::{DType, Device};
use serde::Deserialize;

use super::chat::{ChatChoice, ChatTemplate, SpecialTokens};
use super::gguf::GgufFile;
use super::tokenizer::ModelTokenizer;
use super::{Architecture, CausalLm, ModelConfig, Weights, gemma3, gguf, hf_dir, llama, resolve};
use crate::provenance::verify::verify_if_known;

/// Everything read from a model's files, before the model code is built (full fine-tuning turns
/// `weights` into variables first: [`Weights::to_trainable`]).
pub struct ModelFiles {
    /// What the user asked for (`smollm2-135m-instruct`, a path, an HF id).
    pub spec: String,
    /// The GGUF file or the HF directory.
    pub path: PathBuf,
    pub config: ModelConfig,
    pub weights: Weights,
    pub tokenizer: ModelTokenizer,
    pub chat: ChatTemplate,
}

impl ModelFiles {
    /// Resolve `spec` and read everything, weights converted to `dtype` on `device`; the chat
    /// template is the model's own when it has one ([`ChatChoice::Auto`]). A known model's file
    /// that is not the pinned one is an error naming it and `cargo xtask fetch-model`.
    pub fn open(spec: &str, dtype: DType, device: &Device) -> anyhow::Result<Self> {
        Self::open_with_chat(spec, dtype, device, &ChatChoice::Auto)
    }

    /// [`Self::open`] with the chat template that `chat` picks.
    pub fn open_with_chat(spec: &str, dtype: DType, device: &Device, chat: &ChatChoice) -> anyhow::Result<Self> {
        let resolved = resolve::resolve(spec)?;
        let path = resolved.source.path().to_path_buf();
        verify_if_known(&path)?;
        let (config, weights, tokenizer, chat) = match &resolved.source {
            resolve::ModelSource::HfDir(dir) => {
                let (config, weights) = hf_dir::load(dir, dtype, device)?;
                let tokenizer = ModelTokenizer::from_hf_dir(dir)?;
                let chat = hf_chat_template(dir, config.architecture, &tokenizer, chat)?;
                (config, weights, tokenizer, chat)
            }
            // One header read for everything (Gemma's 262k-token vocabulary takes ~1 s to read).
            resolve::ModelSource::Gguf(file) => {
                let mut file = GgufFile::open(file)?;
                let config = file.config()?;
                let weights = file.weights(&config, dtype, device)?;
                let tokenizer = ModelTokenizer::from_gguf_file(&file)?;
                let chat = ChatTemplate::for_gguf_file(&file, &tokenizer, chat)?;
                (config, weights, tokenizer, chat)
            }
        };
        Ok(ModelFiles { spec: spec.to_string(), path, config, weights, tokenizer, chat })
    }

    /// Build the model code of the config's architecture on these weights.
    pub fn build(&self) -> anyhow::Result<Box<dyn CausalLm>> {
        build(&self.config, &self.weights)
    }
}

/// The file transformers saves a checkpoint's chat template in (before 4.43: `tokenizer_config.json`).
const CHAT_TEMPLATE_FILE: &str = "chat_template.jinja";

/// The chat template of an HF directory that `choice` picks: its own from `chat_template.jinja`
/// or `tokenizer_config.json`'s `chat_template` when it has one, else ours by architecture.
fn hf_chat_template(
    dir: &Path,
    architecture: Architecture,
    tokenizer: &ModelTokenizer,
    choice: &ChatChoice,
) -> anyhow::Result<ChatTemplate> {
    // A format named outright needs nothing from the files (a malformed template included).
    let own = match choice {
        ChatChoice::Format(_) => None,
        _ => hf_own_chat_template(dir)?,
    };
    let architecture = match architecture {
        Architecture::Llama => "llama",
        Architecture::Gemma3 => "gemma3",
    };
    let own = own.as_ref().map(|(source, origin)| (source.as_str(), origin.as_str()));
    ChatTemplate::choose(choice, own, architecture, SpecialTokens::of(tokenizer))
        .with_context(|| format!("choosing the chat template of {}", dir.display()))
}

/// The chat template of an HF directory and where it was found, if it has one.
fn hf_own_chat_template(dir: &Path) -> anyhow::Result<Option<(String, String)>> {
    let file = dir.join(CHAT_TEMPLATE_FILE);
    if file.is_file() {
        let source = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(Some((source, file.display().to_string())));
    }
    /// `chat_template`: one template, or a list of named ones of which `default` is the chat one.
    #[derive(Deserialize)]
    struct TokenizerConfig {
        chat_template: Option<OneOrNamed>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrNamed {
        One(String),
        Named(Vec<Named>),
    }
    #[derive(Deserialize)]
    struct Named {
        name: String,
        template: String,
    }
    let path = dir.join("tokenizer_config.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(None) };
    let config: TokenizerConfig = serde_json::from_str(&text).with_context(|| {
        format!("{}: not JSON whose `chat_template` is a string or a list of {{name, template}}", path.display())
    })?;
    let origin = format!("{}: chat_template", path.display());
    Ok(match config.chat_template {
        None => None,
        Some(OneOrNamed::One(source)) => Some((source, origin)),
        Some(OneOrNamed::Named(named)) => {
            let names: Vec<&str> = named.iter().map(|n| n.name.as_str()).collect();
            let default = named.iter().find(|n| n.name == "default").with_context(|| {
                format!("{}: `chat_template` names no `default` template (it has {})", path.display(), names.join(", "))
            })?;
            Some((default.template.clone(), format!("{origin} (default)")))
        }
    })
}

/// Config and weights of a GGUF file or a Hugging Face directory (a known model's file checked
/// against its sha256 first).
pub fn load_weights(path: &Path, dtype: DType, device: &Device) -> anyhow::Result<(ModelConfig, Weights)> {
    verify_if_known(path)?;
    if path.is_dir() { hf_dir::load(path, dtype, device) } else { gguf::load(path, dtype, device) }
}

/// The model code of `config.architecture` on `weights`.
pub fn build(config: &ModelConfig, weights: &Weights) -> anyhow::Result<Box<dyn CausalLm>> {
    Ok(match config.architecture {
        Architecture::Llama => Box::new(llama::Llama::new(config, weights)?),
        Architecture::Gemma3 => Box::new(gemma3::Gemma3::new(config, weights)?),
    })
}

/// Number of parameters (a tied LM head counted once).
pub fn parameter_count(weights: &Weights) -> usize {
    weights.tensors.values().map(|t| t.elem_count()).sum()
}
