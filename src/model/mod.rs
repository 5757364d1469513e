//! Language models we can run, generate with, fine-tune and differentiate per example.

pub mod config;
pub mod llama;
pub mod lora;
pub mod weights;

pub use config::{Architecture, ModelConfig};
pub use weights::Weights;
