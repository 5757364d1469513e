//! From `--model` to a runnable model: resolve the name, read the config and weights (GGUF or a
//! Hugging Face directory), build the architecture's model code, and bring the tokenizer and
//! chat format along.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use candle_core::{DType, Device};

use super::chat::ChatTemplate;
use super::gguf::GgufFile;
use super::tokenizer::ModelTokenizer;
use super::{Architecture, CausalLm, ModelConfig, Weights, gemma3, gguf, hf_dir, llama, resolve};

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
    /// Resolve `spec` and read everything, weights converted to `dtype` on `device`.
    pub fn open(spec: &str, dtype: DType, device: &Device) -> anyhow::Result<Self> {
        let resolved = resolve::resolve(spec)?;
        let path = resolved.source.path().to_path_buf();
        let (config, weights, tokenizer, chat) = match &resolved.source {
            resolve::ModelSource::HfDir(dir) => {
                let (config, weights) = hf_dir::load(dir, dtype, device)?;
                let chat = hf_chat_template(dir, config.architecture)?;
                (config, weights, ModelTokenizer::from_hf_dir(dir)?, chat)
            }
            // One header read for everything (Gemma's 262k-token vocabulary takes ~1 s to read).
            resolve::ModelSource::Gguf(file) => {
                let mut file = GgufFile::open(file)?;
                let config = file.config()?;
                let weights = file.weights(&config, dtype, device)?;
                (config, weights, ModelTokenizer::from_gguf_file(&file)?, ChatTemplate::for_gguf_file(&file)?)
            }
        };
        Ok(ModelFiles { spec: spec.to_string(), path, config, weights, tokenizer, chat })
    }

    /// Build the model code of the config's architecture on these weights.
    pub fn build(&self) -> anyhow::Result<Box<dyn CausalLm>> {
        build(&self.config, &self.weights)
    }
}

/// The chat format of an HF directory: from `tokenizer_config.json`'s `chat_template` when it has
/// one, else from the architecture.
fn hf_chat_template(dir: &Path, architecture: Architecture) -> anyhow::Result<ChatTemplate> {
    let config_path = dir.join("tokenizer_config.json");
    let template = match std::fs::read_to_string(&config_path) {
        Ok(text) => {
            let json: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", config_path.display()))?;
            json.get("chat_template").and_then(|t| t.as_str()).map(str::to_string)
        }
        Err(_) => None,
    };
    let architecture = match architecture {
        Architecture::Llama => "llama",
        Architecture::Gemma3 => "gemma3",
    };
    ChatTemplate::select(template.as_deref(), architecture)
}

/// Config and weights of a GGUF file or a Hugging Face directory.
pub fn load_weights(path: &Path, dtype: DType, device: &Device) -> anyhow::Result<(ModelConfig, Weights)> {
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
