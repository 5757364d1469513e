//! Named weight tensors in Hugging Face naming (`model.layers.0.self_attn.q_proj.weight`, …),
//! dequantised to f32 on the CPU, whatever file they came from.

use std::collections::HashMap;

use candle_core::Tensor;

#[derive(Debug, thiserror::Error)]
#[error("weight `{name}` is missing{context}")]
pub struct MissingWeight {
    pub name: String,
    pub context: String,
}

/// Tensors by HF name.
#[derive(Clone, Debug, Default)]
pub struct Weights {
    pub tensors: HashMap<String, Tensor>,
    /// Where they came from (file path), for messages.
    pub source: String,
}

impl Weights {
    pub fn get(&self, name: &str) -> Result<&Tensor, MissingWeight> {
        self.tensors.get(name).ok_or_else(|| MissingWeight {
            name: name.to_string(),
            context: if self.source.is_empty() { String::new() } else { format!(" in {}", self.source) },
        })
    }

    /// Every expected weight is there with its shape (extra ones, e.g. biases, are allowed).
    pub fn check_shapes(&self, expected: &[(String, Vec<usize>)]) -> anyhow::Result<()> {
        for (name, shape) in expected {
            let t = self.get(name)?;
            anyhow::ensure!(t.dims() == shape.as_slice(), "weight `{name}` in {} has shape {:?}, expected {shape:?}", self.source, t.dims());
        }
        Ok(())
    }
}
