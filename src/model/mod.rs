//! Language models we can run, generate with, fine-tune and differentiate per example.

pub mod attention;
pub mod causal_lm;
pub mod chat;
pub mod config;
pub mod frozen;
pub mod fused;
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

/// HF names and shapes (`[out, in]`) of decoder layer `l`'s attention projections q, k, v, o:
/// the same in both architectures.
fn attention_shapes(cfg: &ModelConfig, l: usize) -> [(String, Vec<usize>); 4] {
    let (h, q, kv) = (cfg.hidden_size, cfg.num_heads * cfg.head_dim, cfg.num_kv_heads * cfg.head_dim);
    let name = |m: &str| format!("model.layers.{l}.self_attn.{m}_proj.weight");
    [(name("q"), vec![q, h]), (name("k"), vec![kv, h]), (name("v"), vec![kv, h]), (name("o"), vec![h, q])]
}

/// HF names and shapes of decoder layer `l`'s gated-MLP projections gate, up, down (both architectures).
fn mlp_shapes(cfg: &ModelConfig, l: usize) -> [(String, Vec<usize>); 3] {
    let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
    let name = |m: &str| format!("model.layers.{l}.mlp.{m}_proj.weight");
    [(name("gate"), vec![i, h]), (name("up"), vec![i, h]), (name("down"), vec![h, i])]
}

/// A norm weight's name and shape: `model.layers.{l}.{module}.weight` of length `n`.
fn norm_shape(l: usize, module: &str, n: usize) -> (String, Vec<usize>) {
    (format!("model.layers.{l}.{module}.weight"), vec![n])
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

/// glibc hands a freed block above its mmap threshold back to the OS, so each step's activation
/// buffers (a few MB each) are page-faulted in and zeroed by the kernel anew: about a tenth of a
/// training step went to page faults and clearing pages (perf). Keep blocks up to 32 MiB (glibc's
/// largest threshold) in the heap and the heap untrimmed, so freed buffers are reused. Only the
/// allocator's policy changes, never a result. Call at the start of `main`; a no-op elsewhere
/// than on glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before the program allocates much.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
