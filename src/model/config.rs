//! The shape of a decoder-only transformer, whatever file it came from (GGUF metadata or an HF
//! `config.json`). One struct for both supported architectures; Gemma-3-only fields are ignored by
//! the Llama model.

use serde::{Deserialize, Serialize};

/// Which model code runs the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// Llama family (Llama 3, Mistral, Qwen2 without biases, SmolLM2): pre-norm RMSNorm, rotate-half
    /// rope, SwiGLU MLP, grouped-query attention.
    Llama,
    /// Gemma 3: (1 + w) RMSNorms before and after attention and MLP, q/k norms, GeGLU MLP, scaled
    /// embeddings, interleaved sliding-window (local) and global layers with their own rope bases.
    Gemma3,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub architecture: Architecture,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    /// Rope base of the (global) attention layers.
    pub rope_theta: f64,
    pub max_position_embeddings: usize,
    /// The LM head shares the embedding matrix.
    pub tie_word_embeddings: bool,
    /// Gemma 3: rope base of the sliding-window (local) layers.
    pub rope_local_theta: f64,
    /// Gemma 3: window of the local layers (`None`: every layer is global).
    pub sliding_window: Option<usize>,
    /// Gemma 3: every `sliding_window_pattern`-th layer (1-based) is global, the others local.
    pub sliding_window_pattern: usize,
    /// Gemma 3: attention scores are scaled by `1/sqrt(query_pre_attn_scalar)` (Llama: head_dim).
    pub query_pre_attn_scalar: f64,
}

impl ModelConfig {
    /// Whether layer `i` (0-based) attends only within the sliding window.
    pub fn is_local_layer(&self, i: usize) -> bool {
        self.architecture == Architecture::Gemma3
            && self.sliding_window.is_some()
            && (i + 1) % self.sliding_window_pattern != 0
    }

    /// A tiny random-weight configuration of an architecture, for tests and gradient checks.
    pub fn tiny(architecture: Architecture) -> ModelConfig {
        ModelConfig {
            architecture,
            vocab_size: 37,
            hidden_size: 16,
            intermediate_size: 24,
            num_layers: 2,
            num_heads: 4,
            num_kv_heads: 2,
            head_dim: 8,
            rms_norm_eps: 1e-6,
            rope_theta: 10_000.0,
            max_position_embeddings: 64,
            tie_word_embeddings: architecture == Architecture::Gemma3,
            rope_local_theta: 1_000.0,
            sliding_window: (architecture == Architecture::Gemma3).then_some(3),
            sliding_window_pattern: 2,
            query_pre_attn_scalar: 8.0,
        }
    }
}
