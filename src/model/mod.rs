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
