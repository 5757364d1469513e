//! A differentiable Gemma 3 text decoder, written only with candle ops that carry gradients (see
//! ../shared/notes/candle.md and [`super::attention`]). Same layout as [`super::llama`]: names,
//! blocks, model.
//!
//! Differences from Llama, all following Hugging Face transformers' `Gemma3ForCausalLM`:
//! - every RMSNorm multiplies by `(1 + w)`: weights are stored in HF convention (GGUF files hold
//!   `1 + w`; the loader subtracts the 1);
//! - the embedding is scaled by `√hidden_size`, and the LM head is the (unscaled) embedding;
//! - per layer `x += post_attn_norm(attn(input_norm(x)))`, `x += post_ffw_norm(mlp(pre_ffw_norm(x)))`;
//! - q and k get a per-head RMSNorm over `head_dim` before rope;
//! - local layers attend to the last `sliding_window` positions (themselves included) with rope
//!   base `rope_local_theta`; every `sliding_window_pattern`-th layer is global, with `rope_theta`;
//! - scores are scaled by `1/√query_pre_attn_scalar`; the MLP is `down(gelu_tanh(gate(x)) ⊙ up(x))`.

use anyhow::bail;
use candle_core::{Result, Tensor};

use super::attention::{CausalMask, KvCache, Rope, attend_with_cache, split_heads};
use super::causal_lm::CausalLm;
use super::config::ModelConfig;
use super::fused::{self, Activation, gated};
use super::lora::{Linear, named_projections};
use super::weights::Weights;

/// Every weight of a Gemma 3 model, with its HF name and shape (the LM head is the embedding).
pub fn weight_shapes(cfg: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    let (h, hd) = (cfg.hidden_size, cfg.head_dim);
    let mut out = vec![("model.embed_tokens.weight".to_string(), vec![cfg.vocab_size, h])];
    for l in 0..cfg.num_layers {
        out.push(super::norm_shape(l, "input_layernorm", h));
        out.extend(super::attention_shapes(cfg, l));
        out.extend([super::norm_shape(l, "self_attn.q_norm", hd), super::norm_shape(l, "self_attn.k_norm", hd)]);
        out.extend(
            ["post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"]
                .map(|norm| super::norm_shape(l, norm, h)),
        );
        out.extend(super::mlp_shapes(cfg, l));
    }
    out.push(("model.norm.weight".to_string(), vec![h]));
    out
}

/// Gemma's RMSNorm over the last axis: `x / √(mean(x²) + eps) · (1 + w)`.
/// Adding the 1 here (not once at load time) keeps `w` itself the trainable leaf.
fn norm(x: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
    fused::rms_norm(x, w, eps, 1.0)
}

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: Tensor,
    k_norm: Tensor,
}

struct Mlp {
    gate: Linear,
    up: Linear,
    down: Linear,
}

struct Layer {
    input_norm: Tensor,
    attn: Attention,
    post_attn_norm: Tensor,
    pre_ffw_norm: Tensor,
    mlp: Mlp,
    post_ffw_norm: Tensor,
    /// Sliding-window width of a local layer; `None` for a global one.
    window: Option<usize>,
}

pub struct Gemma3 {
    cfg: ModelConfig,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    rope_local: Rope,
    rope_global: Rope,
}

impl Gemma3 {
    /// Build from HF-named weights in HF norm convention (any dtype; all must share one). Every
    /// weight must be present with the shape [`weight_shapes`] gives.
    pub fn new(cfg: &ModelConfig, w: &Weights) -> anyhow::Result<Self> {
        w.check_shapes(&weight_shapes(cfg))?;
        if cfg.num_heads % cfg.num_kv_heads != 0 {
            bail!("Gemma 3 config: {} attention heads are not a multiple of {} KV heads", cfg.num_heads, cfg.num_kv_heads);
        }
        let get = |name: &str| -> anyhow::Result<Tensor> { Ok(w.get(name)?.clone()) };
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for l in 0..cfg.num_layers {
            let p = format!("model.layers.{l}");
            let lin = |n: &str| -> anyhow::Result<Linear> { Ok(Linear::new(get(&format!("{p}.{n}.weight"))?)) };
            let norm = |n: &str| get(&format!("{p}.{n}.weight"));
            layers.push(Layer {
                input_norm: norm("input_layernorm")?,
                attn: Attention {
                    q: lin("self_attn.q_proj")?,
                    k: lin("self_attn.k_proj")?,
                    v: lin("self_attn.v_proj")?,
                    o: lin("self_attn.o_proj")?,
                    q_norm: norm("self_attn.q_norm")?,
                    k_norm: norm("self_attn.k_norm")?,
                },
                post_attn_norm: norm("post_attention_layernorm")?,
                pre_ffw_norm: norm("pre_feedforward_layernorm")?,
                mlp: Mlp { gate: lin("mlp.gate_proj")?, up: lin("mlp.up_proj")?, down: lin("mlp.down_proj")? },
                post_ffw_norm: norm("post_feedforward_layernorm")?,
                window: if cfg.is_local_layer(l) { cfg.sliding_window } else { None },
            });
        }
        let embed = get("model.embed_tokens.weight")?;
        let (dtype, device) = (embed.dtype(), embed.device().clone());
        let rope = |theta: f64| Rope::new(cfg.head_dim, theta, cfg.max_position_embeddings, dtype, &device);
        Ok(Gemma3 {
            cfg: cfg.clone(),
            rope_local: rope(cfg.rope_local_theta)?,
            rope_global: rope(cfg.rope_theta)?,
            norm: get("model.norm.weight")?,
            embed,
            layers,
        })
    }

    fn attention(&self, l: usize, x: &Tensor, start: usize, mask: Option<&CausalMask>, cache: Option<&mut KvCache>) -> Result<Tensor> {
        let layer = &self.layers[l];
        let attn = &layer.attn;
        let (nh, nkv, hd, eps) = (self.cfg.num_heads, self.cfg.num_kv_heads, self.cfg.head_dim, self.cfg.rms_norm_eps);
        let rope = if layer.window.is_some() { &self.rope_local } else { &self.rope_global };
        let q = rope.apply(&norm(&split_heads(&attn.q.forward(x)?, nh, hd)?, &attn.q_norm, eps)?, start)?;
        let k = rope.apply(&norm(&split_heads(&attn.k.forward(x)?, nkv, hd)?, &attn.k_norm, eps)?, start)?;
        let v = split_heads(&attn.v.forward(x)?, nkv, hd)?;
        // The cache keeps every position, also for local layers: their mask hides the old ones.
        let scale = 1.0 / self.cfg.query_pre_attn_scalar.sqrt();
        attn.o.forward(&attend_with_cache(l, &q, k, v, cache, scale, mask)?)
    }

    fn mlp(&self, mlp: &Mlp, x: &Tensor) -> Result<Tensor> {
        // candle's `gelu` is the tanh approximation (HF's gelu_pytorch_tanh).
        mlp.down.forward(&gated(&mlp.gate.forward(x)?, &mlp.up.forward(x)?, Activation::GeluTanh)?)
    }
}

impl CausalLm for Gemma3 {
    fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    fn embedding(&self) -> &Tensor {
        &self.embed
    }

    fn forward(&self, ids: &Tensor, mut cache: Option<&mut KvCache>) -> Result<Tensor> {
        let t = ids.dim(1)?;
        let (eps, start) = (self.cfg.rms_norm_eps, cache.as_ref().map_or(0, |c| c.len()));
        let padding = cache.as_ref().and_then(|c| c.padding());
        // Gemma scales its embeddings by √H.
        let mut x = (self.embed_tokens(ids)? * (self.cfg.hidden_size as f64).sqrt())?;
        // A mask is needed unless every query may see every key: a single new token on a global
        // layer, or on a local one while the whole sequence still fits in the window.
        let mask_for = |window: Option<usize>| -> Option<CausalMask> {
            let sees_all = t == 1 && window.is_none_or(|w| start < w) && padding.is_none();
            (!sees_all).then(|| CausalMask::new(t, start, window).with_padding(padding.clone()))
        };
        let global_mask = mask_for(None);
        let local_mask = self.cfg.sliding_window.and_then(|w| mask_for(Some(w)));
        for (l, layer) in self.layers.iter().enumerate() {
            let mask = if layer.window.is_some() { local_mask.as_ref() } else { global_mask.as_ref() };
            let h = self.attention(l, &norm(&x, &layer.input_norm, eps)?, start, mask, cache.as_deref_mut())?;
            x = (&x + norm(&h, &layer.post_attn_norm, eps)?)?;
            let h = self.mlp(&layer.mlp, &norm(&x, &layer.pre_ffw_norm, eps)?)?;
            x = (&x + norm(&h, &layer.post_ffw_norm, eps)?)?;
        }
        norm(&x, &self.norm, eps)
    }

    fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        super::frozen::project(hidden, &self.embed)
    }

    fn projections_mut(&mut self) -> Vec<(String, &mut Linear)> {
        named_projections(&mut self.layers, |Layer { attn: a, mlp: m, .. }| {
            [&mut a.q, &mut a.k, &mut a.v, &mut a.o, &mut m.gate, &mut m.up, &mut m.down]
        })
    }
}
