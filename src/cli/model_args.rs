//! The `--model`, `--dtype` and `--chat-format` options every model verb shares.

use candle_core::{DType, Device};
use clap::ValueEnum;

use dataeff::model::CausalLm;
use dataeff::model::chat::ChatChoice;
use dataeff::model::load::ModelFiles;
use dataeff::provenance::DEFAULT_MODEL;

#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// A known model (smollm2-135m-instruct, gemma-3-270m; fetch with `cargo xtask fetch-model`),
    /// a .gguf file, a directory with config.json + *.safetensors + tokenizer.json, or a Hugging
    /// Face repo id.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    /// Precision the weights are dequantised to and computed in.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    pub dtype: Precision,
    /// How chat turns are written: `auto` (the model's own chat template when it carries one, else
    /// our format for its architecture, else `plain`), `template` (the model's own, or an error),
    /// or one of our formats in prompts/chat/: `smollm2`, `gemma`, `plain`.
    #[arg(long, value_name = "NAME", default_value = "auto")]
    pub chat_format: ChatChoice,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Precision {
    F32,
    Bf16,
    F64,
}

impl Precision {
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
            Precision::F64 => DType::F64,
        }
    }
}

impl ModelArgs {
    /// The model's files (weights, tokenizer, chat template), not yet built.
    pub fn open(&self) -> anyhow::Result<ModelFiles> {
        ModelFiles::open_with_chat(&self.model, self.dtype.dtype(), &Device::Cpu, &self.chat_format)
    }

    /// The files and the model built on them, ready to run.
    pub fn load(&self) -> anyhow::Result<(ModelFiles, Box<dyn CausalLm>)> {
        let files = self.open()?;
        let model = files.build()?;
        Ok((files, model))
    }
}
