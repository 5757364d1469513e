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
pub mod hub;
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

/// candle picks its matmul thread count by asking `num_cpus` for the physical core count — which
/// reads /proc/cpuinfo on every matmul — unless `RAYON_NUM_THREADS` is set (measured: CoS-Low
/// gradients on SmolLM2 18.5 → 14.8 s). Pin it once to candle's own choice. Call first thing in
/// `main`, before any thread exists.
pub fn pin_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = candle_core::utils::get_num_threads();
        // SAFETY: called at the start of `main`, while the program is single-threaded.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
}
