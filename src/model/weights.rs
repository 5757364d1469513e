//! Named weight tensors in Hugging Face naming (`model.layers.0.self_attn.q_proj.weight`, …),
//! in the dtype and on the device the loader was asked for, whatever file they came from.

use std::collections::HashMap;

use candle_core::{Tensor, Var};

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
            let source = if self.source.is_empty() { String::new() } else { format!(" in {}", self.source) };
            anyhow::ensure!(t.dims() == shape.as_slice(), "weight `{name}`{source} has shape {:?}, expected {shape:?}", t.dims());
        }
        Ok(())
    }
}

impl Weights {
    /// Make every tensor a trainable variable (full fine-tuning): the returned variables share
    /// storage with the tensors left in `self`, so a model built from `self` afterwards trains them.
    /// Sorted by name, for a deterministic order.
    pub fn to_trainable(&mut self) -> candle_core::Result<Vec<(String, Var)>> {
        let mut names: Vec<String> = self.tensors.keys().cloned().collect();
        names.sort();
        let mut vars = Vec::with_capacity(names.len());
        for name in names {
            let var = Var::from_tensor(&self.tensors[&name])?;
            self.tensors.insert(name.clone(), var.as_tensor().clone());
            vars.push((name, var));
        }
        Ok(vars)
    }
}
