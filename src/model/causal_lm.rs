//! What the rest of dataeff needs from a decoder-only language model, whatever its architecture.

use candle_core::{DType, Device, Result, Tensor};

use super::attention::KvCache;
use super::config::ModelConfig;
use super::lora::Linear;

pub trait CausalLm: Send + Sync {
    fn config(&self) -> &ModelConfig;

    /// The token-embedding matrix (V, H): every weight shares its device and dtype.
    fn embedding(&self) -> &Tensor;

    /// Where the weights live (the embedding's device).
    fn device(&self) -> &Device {
        self.embedding().device()
    }

    /// The weights' dtype (the embedding's).
    fn dtype(&self) -> DType {
        self.embedding().dtype()
    }

    /// Final hidden states (after the last norm), shape (B, T, H), for token ids (B, T) that follow
    /// the `cache.len()` positions already in `cache`; their keys and values are appended to it.
    /// Without a cache the ids start at position 0.
    fn forward(&self, ids: &Tensor, cache: Option<&mut KvCache>) -> Result<Tensor>;

    /// Logits over the vocabulary for hidden states of shape (…, H). Apply it only to the rows
    /// that need logits (answer positions): the LM head is the largest matmul of the model.
    fn logits(&self, hidden: &Tensor) -> Result<Tensor>;

    /// Every projection LoRA can attach to, by HF module name
    /// (`model.layers.3.self_attn.q_proj`), in layer order.
    fn projections_mut(&mut self) -> Vec<(String, &mut Linear)>;

    /// Token embeddings (B, T, H) of ids (B, T): rows of [`Self::embedding`].
    fn embed_tokens(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        self.embedding().index_select(&ids.flatten_all()?, 0)?.reshape((b, t, self.config().hidden_size))
    }

    /// Hidden states of a whole sequence from position 0.
    fn hidden_states(&self, ids: &Tensor) -> Result<Tensor> {
        self.forward(ids, None)
    }
}
