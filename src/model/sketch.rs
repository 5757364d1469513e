//! Per-example gradient sketches for CoS-Low (PAPER.md §4 steps 3–4): the LoRA-B gradient of
//! each example's answer loss, with the base model frozen and LoRA in eval mode. With B = 0 this
//! is `(α/r)·∂L/∂W·Aᵀ` — the full weight gradient projected by the fixed random A, whose seed is
//! the `seed` given to [`super::lora::attach`].

use candle_core::{DType, Device, Result, Tensor, Var};
use statrs::statistics::Median as _;

use super::causal_lm::CausalLm;
use super::lora::LoraConfig;
use super::train::{MAX_BATCH_TOKENS, TokenExample, answer_loss, summed_example_losses, token_bounded_parts};

/// Make `model` ready for CoS-Low sketches: attach fresh LoRA adapters (A seeded with `seed`,
/// B = 0) in eval mode and switch on [`super::lora::set_sketch_mode`]. Returns the variables for
/// [`lora_b_gradient`].
pub fn prepare(model: &mut dyn CausalLm, lora: &LoraConfig, seed: u64) -> anyhow::Result<Vec<(String, Var)>> {
    let vars = super::lora::attach(model, lora, seed)?;
    super::lora::set_training(model, None);
    super::lora::set_sketch_mode(model, true)?;
    Ok(vars)
}

/// One example's gradient, flattened over every kept tensor (those with ≥ 2 dimensions, in the
/// order of `vars`), in f32.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientSketch {
    pub values: Vec<f32>,
}

impl GradientSketch {
    pub fn norm(&self) -> f64 {
        self.values.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt()
    }

    /// Size in bytes (f32), for reporting.
    pub fn bytes(&self) -> usize {
        self.values.len() * std::mem::size_of::<f32>()
    }
}

/// The gradient of `example`'s answer loss with respect to the LoRA B matrices in `vars`
/// (A receives none while B = 0, and the paper keeps every ≥2-D trainable tensor, so B is all
/// that carries information). The model must be in eval mode (no dropout).
pub fn lora_b_gradient(model: &dyn CausalLm, vars: &[(String, Var)], example: &TokenExample) -> anyhow::Result<GradientSketch> {
    let loss = answer_loss(model, &[example])?;
    let grads = loss.backward()?;
    let mut values = Vec::new();
    for (name, var) in vars.iter().filter(|(n, _)| n.ends_with(".lora_B")) {
        let g = grads.get(var).ok_or_else(|| anyhow::anyhow!("LoRA tensor `{name}` got no gradient"))?;
        values.extend(g.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?);
    }
    anyhow::ensure!(!values.is_empty(), "no LoRA B tensors among the {} variables given", vars.len());
    Ok(GradientSketch { values })
}

/// Examples differentiated together by [`lora_b_gradients`]: enough rows for the matmuls to run
/// at speed, few enough that the per-example B copies stay small (8 × 40 MB on SmolLM2).
pub const SKETCH_BATCH: usize = 8;

/// [`lora_b_gradient`] of every example, `batch` examples per forward and backward pass (fewer
/// where they are long: at most [`MAX_BATCH_TOKENS`] padded tokens): in
/// sketch mode each adapter gets a zero B per example ([`super::lora::LoraAdapter::per_example_b`]),
/// the loss is the sum of the examples' own mean answer losses, and example e's gradient is the
/// gradient of its own B_e — the same numbers as one pass per example, up to rounding. `on_batch`
/// is told how many examples each pass finished.
pub fn lora_b_gradients(
    model: &mut dyn CausalLm,
    examples: &[TokenExample],
    batch: usize,
    on_batch: &mut dyn FnMut(usize),
) -> anyhow::Result<Vec<GradientSketch>> {
    let mut out = Vec::with_capacity(examples.len());
    let lengths: Vec<usize> = examples.iter().map(TokenExample::len).collect();
    // Long examples go fewer to a pass (the same bound as training's, see MAX_BATCH_TOKENS).
    for part in token_bounded_parts(&lengths, batch, MAX_BATCH_TOKENS) {
        let chunk = &examples[part];
        let e = chunk.len();
        let mut per_example = Vec::new();
        for (name, linear) in model.projections_mut() {
            if let Some(adapter) = &mut linear.lora {
                anyhow::ensure!(adapter.sketch_mode, "`{name}`: per-example gradients need sketch mode (sketch::prepare)");
                let (out_dim, rank) = adapter.b.as_tensor().dims2()?;
                let b = Var::zeros((e, out_dim, rank), adapter.b.dtype(), adapter.b.device())?;
                adapter.per_example_b = Some(b.clone());
                per_example.push((name, b));
            }
        }
        let refs: Vec<&TokenExample> = chunk.iter().collect();
        let grads = summed_example_losses(&*model, &refs).and_then(|loss| loss.backward());
        for (_, linear) in model.projections_mut() {
            if let Some(adapter) = &mut linear.lora {
                adapter.per_example_b = None;
            }
        }
        let grads = grads?;
        let mut values: Vec<Vec<f32>> = vec![Vec::new(); e];
        for (name, b) in &per_example {
            let g = grads.get(b).ok_or_else(|| anyhow::anyhow!("LoRA tensor `{name}.lora_B` got no gradient"))?;
            let flat = g.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
            let size = flat.len() / e;
            for (i, v) in values.iter_mut().enumerate() {
                v.extend_from_slice(&flat[i * size..(i + 1) * size]);
            }
        }
        anyhow::ensure!(!per_example.is_empty(), "the model has no LoRA adapters");
        out.extend(values.into_iter().map(|values| GradientSketch { values }));
        on_batch(e);
    }
    Ok(out)
}

/// Cosine similarity of two sketches (dot product over the product of the global norms).
pub fn cosine(a: &GradientSketch, b: &GradientSketch) -> f64 {
    assert_eq!(a.values.len(), b.values.len(), "sketches of different models");
    let dot: f64 = a.values.iter().zip(&b.values).map(|(&x, &y)| x as f64 * y as f64).sum();
    dot / (a.norm() * b.norm())
}

/// Columns per block of the Gram matrix: 32 sketches × 2²⁰ f32 = 128 MiB at a time.
const GRAM_BLOCK: usize = 1 << 20;

/// All pairwise dot products `G[i][j] = ⟨s_i, s_j⟩`, as a matrix product over blocks of columns
/// (f32 products within a block, f64 sums across blocks): k(k−1)/2 plain dot products of
/// 10-million-float sketches take seconds; this takes a fraction of one.
pub fn gram_matrix(sketches: &[GradientSketch]) -> Result<Vec<Vec<f64>>> {
    let k = sketches.len();
    let d = sketches.first().map_or(0, |s| s.values.len());
    if sketches.iter().any(|s| s.values.len() != d) {
        candle_core::bail!("sketches of different lengths (different models or LoRA settings)");
    }
    let mut gram = vec![vec![0.0; k]; k];
    let mut start = 0;
    while start < d {
        let width = GRAM_BLOCK.min(d - start);
        let mut block = Vec::with_capacity(k * width);
        for s in sketches {
            block.extend_from_slice(&s.values[start..start + width]);
        }
        let block = Tensor::from_vec(block, (k, width), &Device::Cpu)?;
        let partial = block.matmul(&block.t()?)?.to_dtype(DType::F64)?.to_vec2::<f64>()?;
        for (row, partial_row) in gram.iter_mut().zip(&partial) {
            for (g, p) in row.iter_mut().zip(partial_row) {
                *g += p;
            }
        }
        start += width;
    }
    Ok(gram)
}

/// CoS-Low's statistic: the median cosine over all k(k−1)/2 pairs of sketches.
pub fn median_pairwise_cosine(sketches: &[GradientSketch]) -> Result<f64> {
    if sketches.len() < 2 {
        candle_core::bail!("a pairwise cosine needs at least 2 examples, got {}", sketches.len());
    }
    let gram = gram_matrix(sketches)?;
    let mut cosines = Vec::with_capacity(sketches.len() * (sketches.len() - 1) / 2);
    for i in 0..sketches.len() {
        for j in i + 1..sketches.len() {
            cosines.push(gram[i][j] / (gram[i][i] * gram[j][j]).sqrt());
        }
    }
    Ok(statrs::statistics::Data::new(cosines).median())
}
