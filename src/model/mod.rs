//! Language models we can run, generate with, fine-tune and differentiate per example.

pub mod attention;
pub mod causal_lm;
pub mod chat;
pub mod config;
pub mod frozen;
pub mod gemma3;
pub mod generate;
pub mod gguf;
pub mod hf_dir;
pub mod llama;
pub mod load;
pub mod lora;
pub mod resolve;
pub mod sketch;
pub mod tokenizer;
pub mod train;
pub mod weights;

pub use attention::KvCache;
pub use causal_lm::CausalLm;
pub use config::{Architecture, ModelConfig};
pub use weights::Weights;

/// Every weight the architecture of `cfg` needs, with its HF name and shape.
pub fn weight_shapes(cfg: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    match cfg.architecture {
        Architecture::Llama => llama::weight_shapes(cfg),
        Architecture::Gemma3 => gemma3::weight_shapes(cfg),
    }
}
