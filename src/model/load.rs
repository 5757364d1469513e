//! From `--model` to a runnable model: resolve the name, read the config and weights (GGUF or a
//! Hugging Face directory), build the architecture's model code, and bring the tokenizer and
//! chat format along.

use std::path::PathBuf;

use candle_core::{DType, Device};

use super::chat::ChatTemplate;
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
        let path = resolve::locate(spec)?;
        let (config, weights, tokenizer, chat) = if path.is_dir() {
            let (config, weights) = hf_dir::load(&path, dtype, device)?;
            let tokenizer = ModelTokenizer::from_hf_dir(&path)?;
            let chat = ChatTemplate::for_architecture(config.architecture);
            (config, weights, tokenizer, chat)
        } else {
            let (config, weights) = gguf::load(&path, dtype, device)?;
            (config, weights, ModelTokenizer::from_gguf(&path)?, ChatTemplate::for_gguf(&path)?)
        };
        Ok(ModelFiles { spec: spec.to_string(), path, config, weights, tokenizer, chat })
    }

    /// Build the model code of the config's architecture on these weights.
    pub fn build(&self) -> anyhow::Result<Box<dyn CausalLm>> {
        build(&self.config, &self.weights)
    }
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
