//! LoRA (Hu et al., 2021) as PEFT configures it: `y = x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ` on the chosen
//! projections, `A` random (seeded), `B` zero, so only `B` receives a gradient at the start and
//! `∂L/∂B = (α/r)·∂L/∂W·Aᵀ` — a random projection of the full weight gradient (PAPER.md §4 step 3).

use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Result, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The paper's LoRA settings (r = 64, α = 32, dropout 0.05, all seven projections).
#[derive(Clone, Debug, PartialEq)]
pub struct LoraConfig {
    pub rank: usize,
    pub alpha: f64,
    /// Dropout on the adapter input while training (inactive in eval mode, as for CoS-Low).
    pub dropout: f64,
    /// Projection names the adapters attach to (`q_proj`, …, `down_proj`).
    pub targets: Vec<String>,
}

/// PEFT's target modules for Llama-family models, the paper's choice.
pub const ALL_PROJECTIONS: [&str; 7] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

impl Default for LoraConfig {
    fn default() -> Self {
        LoraConfig { rank: 64, alpha: 32.0, dropout: 0.05, targets: ALL_PROJECTIONS.iter().map(|s| s.to_string()).collect() }
    }
}

/// One adapter: `A` (r × in) and `B` (out × r), both trainable variables.
#[derive(Clone, Debug)]
pub struct LoraAdapter {
    pub a: Var,
    pub b: Var,
    pub scale: f64,
    /// Dropout probability on the adapter's input, applied only in training mode.
    pub dropout: f64,
    /// Training mode: the seeded generator of dropout masks (`None`: eval mode, no dropout).
    pub train_rng: Option<Arc<Mutex<ChaCha8Rng>>>,
    /// Gradient-sketch mode (see [`set_sketch_mode`]): only `B` is differentiated.
    pub sketch_mode: bool,
    /// In sketch mode, a zero B per example of the batch, (E, out, r): example e's rows go through
    /// `B_e`, so one backward pass gives every example its own ∂L_e/∂B (see
    /// [`super::sketch::lora_b_gradients`]).
    pub per_example_b: Option<Var>,
    /// Inference mode (see [`set_inference`]): A and B enter the forward pass detached.
    pub inference: bool,
}

impl LoraAdapter {
    /// `A` ~ U(−1/√in, 1/√in) from `seed` (PEFT's Kaiming-uniform bound), `B` = 0.
    pub fn new(in_dim: usize, out_dim: usize, config: &LoraConfig, seed: u64, dtype: DType, device: &Device) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let bound = 1.0 / (in_dim as f64).sqrt();
        let values: Vec<f64> = (0..config.rank * in_dim).map(|_| rng.random_range(-bound..bound)).collect();
        let a = Tensor::from_vec(values, (config.rank, in_dim), device)?.to_dtype(dtype)?;
        Ok(LoraAdapter {
            a: Var::from_tensor(&a)?,
            b: Var::zeros((out_dim, config.rank), dtype, device)?,
            scale: config.alpha / config.rank as f64,
            dropout: config.dropout,
            train_rng: None,
            sketch_mode: false,
            per_example_b: None,
            inference: false,
        })
    }

    /// `(α/r)·(dropout(x)·Aᵀ)·Bᵀ` for `x` of shape (…, in).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = match &self.train_rng {
            Some(rng) if self.dropout > 0.0 => {
                // Inverted dropout from our own seeded generator (candle's is not seedable).
                let mut rng = rng.lock().expect("dropout generator poisoned");
                super::fused::dropout(x, self.dropout, &mut rng)?
            }
            _ => x.clone(),
        };
        if self.sketch_mode {
            // With B = 0 the adapter passes no gradient back to x and A gets none: cut both so
            // the backward pass computes only ∂L/∂B (the same value, without the wasted work).
            let xa = super::frozen::project(&x.detach(), &self.a.as_tensor().detach())?;
            if let Some(b) = &self.per_example_b {
                // (E, T, r) · (E, r, out): each example through its own B (the scale on the small
                // side, so no B-sized tensor is made in either pass but B's gradient).
                return (xa * self.scale)?.matmul(&b.as_tensor().transpose(1, 2)?);
            }
            return xa.broadcast_matmul(&(self.b.as_tensor() * self.scale)?.t()?);
        }
        // In inference mode the same values, but A and B enter detached: no operand is a
        // variable, so the pass records no graph.
        let (a, b) = match self.inference {
            true => (self.a.as_tensor().detach(), self.b.as_tensor().detach()),
            false => (self.a.as_tensor().clone(), self.b.as_tensor().clone()),
        };
        // The scale goes on B (out × r) rather than on the output (tokens × out): a smaller pass.
        x.broadcast_matmul(&a.t()?)?.broadcast_matmul(&(b * self.scale)?.t()?)
    }
}

/// A projection `y = x·Wᵀ (+ b)`, optionally with a LoRA adapter.
#[derive(Clone, Debug)]
pub struct Linear {
    pub weight: Tensor,
    /// Qwen2 has biases on q, k and v; the other supported models have none.
    pub bias: Option<Tensor>,
    pub lora: Option<LoraAdapter>,
}

impl Linear {
    pub fn new(weight: Tensor) -> Self {
        Linear { weight, bias: None, lora: None }
    }

    pub fn with_bias(weight: Tensor, bias: Option<Tensor>) -> Self {
        Linear { weight, bias, lora: None }
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut y = super::frozen::project(x, &self.weight)?;
        if let Some(bias) = &self.bias {
            y = y.broadcast_add(bias)?;
        }
        match &self.lora {
            Some(lora) => y + lora.forward(x)?,
            None => Ok(y),
        }
    }
}

/// PEFT's module names of a decoder layer's seven projections, in [`ALL_PROJECTIONS`]'s order.
const MODULES: [&str; 7] =
    ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

/// Every layer's projections `[q, k, v, o, gate, up, down]` (as `parts` picks them out of a
/// layer) under their HF module names (`model.layers.3.self_attn.q_proj`), in layer order: what
/// [`super::CausalLm::projections_mut`] returns for both architectures.
pub fn named_projections<'a, L>(
    layers: &'a mut [L],
    parts: impl Fn(&'a mut L) -> [&'a mut Linear; 7],
) -> Vec<(String, &'a mut Linear)> {
    let mut out = Vec::with_capacity(7 * layers.len());
    for (l, layer) in layers.iter_mut().enumerate() {
        out.extend(MODULES.into_iter().zip(parts(layer)).map(|(module, linear)| (format!("model.layers.{l}.{module}"), linear)));
    }
    out
}

/// Attach LoRA adapters to the projections of `model` that `config` targets; adapter `k` (in
/// layer order) is seeded with `seed + k`. Returns the trainable variables by name
/// (`model.layers.0.self_attn.q_proj.lora_A`, `….lora_B`).
pub fn attach(model: &mut dyn super::CausalLm, config: &LoraConfig, seed: u64) -> Result<Vec<(String, Var)>> {
    let mut vars = Vec::new();
    let mut k = 0;
    for (name, linear) in model.projections_mut() {
        let short = name.rsplit('.').next().expect("dotted name");
        if !config.targets.iter().any(|t| t == short) {
            continue;
        }
        let (out_dim, in_dim) = linear.weight.dims2()?;
        let adapter = LoraAdapter::new(in_dim, out_dim, config, seed + k, linear.weight.dtype(), linear.weight.device())?;
        k += 1;
        vars.push((format!("{name}.lora_A"), adapter.a.clone()));
        vars.push((format!("{name}.lora_B"), adapter.b.clone()));
        linear.lora = Some(adapter);
    }
    if vars.is_empty() {
        candle_core::bail!("LoRA targets {:?} match no projection of the model", config.targets);
    }
    Ok(vars)
}

/// Switch every adapter of `model` to training mode (dropout on, adapter `k` drawing its masks
/// from a generator seeded with `seed + k`) or, with `None`, to eval mode.
pub fn set_training(model: &mut dyn super::CausalLm, seed: Option<u64>) {
    for (k, (_, linear)) in model.projections_mut().into_iter().enumerate() {
        if let Some(adapter) = &mut linear.lora {
            adapter.train_rng = seed.map(|s| Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(s.wrapping_add(k as u64)))));
        }
    }
}

/// Dropout generators of `model`'s adapters, one per projection: take them out to evaluate in
/// eval mode midway through training ([`put_training_rngs`] puts them back, so the masks go on
/// where they stopped rather than starting over).
pub type TrainingRngs = Vec<Option<Arc<Mutex<ChaCha8Rng>>>>;

pub fn take_training_rngs(model: &mut dyn super::CausalLm) -> TrainingRngs {
    model.projections_mut().into_iter().map(|(_, linear)| linear.lora.as_mut().and_then(|a| a.train_rng.take())).collect()
}

pub fn put_training_rngs(model: &mut dyn super::CausalLm, rngs: TrainingRngs) {
    for ((_, linear), rng) in model.projections_mut().into_iter().zip(rngs) {
        if let Some(adapter) = &mut linear.lora {
            adapter.train_rng = rng;
        }
    }
}

/// Inference mode on or off for every adapter of `model`. A pass through an adapter whose A and
/// B are variables records the autograd graph, and every tensor after it keeps its inputs alive
/// (a KV cache keeps whole layers' activations): scoring a fine-tuned model on long prompts then
/// holds gigabytes it never differentiates. In inference mode the adapters read detached copies
/// of A and B — the same numbers — so nothing downstream is tracked. Gradients need it off.
pub fn set_inference(model: &mut dyn super::CausalLm, on: bool) {
    for (_, linear) in model.projections_mut() {
        if let Some(adapter) = &mut linear.lora {
            adapter.inference = on;
        }
    }
}

/// Gradient-sketch mode for CoS-Low (PAPER.md §4 step 3): while every B is zero, the adapters
/// give x and A no gradient, so the backward pass can skip both and compute ∂L/∂B alone — same
/// values, less work. Refused if some B is not zero (then the shortcut would be wrong).
pub fn set_sketch_mode(model: &mut dyn super::CausalLm, on: bool) -> Result<()> {
    for (name, linear) in model.projections_mut() {
        if let Some(adapter) = &mut linear.lora {
            if on && adapter.b.as_tensor().abs()?.max_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()? != 0.0 {
                candle_core::bail!("sketch mode needs fresh adapters (B = 0), but `{name}` has a trained B");
            }
            adapter.sketch_mode = on;
        }
    }
    Ok(())
}
