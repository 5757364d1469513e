//! A differentiable Llama-family decoder (Llama 3, Mistral, SmolLM2), written only with candle
//! ops that carry gradients (see ../shared/notes/candle.md and [`super::attention`]). Read top to
//! bottom: names, blocks, model.
//!
//! Per layer: `x += o(attn(rope(q(n₁(x))), rope(k(n₁(x))), v(n₁(x))))`, then
//! `x += down(silu(gate(n₂(x))) ⊙ up(n₂(x)))`; finally `logits = lm_head(norm(x))`.

use candle_core::{Result, Tensor};

use super::attention::{CausalMask, KvCache, Rope, attend_with_cache, split_heads};
use super::causal_lm::CausalLm;
use super::config::ModelConfig;
use super::fused::{Activation, gated, rms_norm};
use super::lora::{Linear, named_projections};
use super::weights::Weights;

/// Every weight of a Llama model, with its HF name and shape.
pub fn weight_shapes(cfg: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    let h = cfg.hidden_size;
    let mut out = vec![("model.embed_tokens.weight".to_string(), vec![cfg.vocab_size, h])];
    for l in 0..cfg.num_layers {
        out.push(super::norm_shape(l, "input_layernorm", h));
        out.extend(super::attention_shapes(cfg, l));
        out.push(super::norm_shape(l, "post_attention_layernorm", h));
        out.extend(super::mlp_shapes(cfg, l));
    }
    out.push(("model.norm.weight".to_string(), vec![h]));
    if !cfg.tie_word_embeddings {
        out.push(("lm_head.weight".to_string(), vec![cfg.vocab_size, h]));
    }
    out
}

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
}

struct Mlp {
    gate: Linear,
    up: Linear,
    down: Linear,
}

struct Layer {
    input_norm: Tensor,
    attn: Attention,
    post_norm: Tensor,
    mlp: Mlp,
}

pub struct Llama {
    cfg: ModelConfig,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    lm_head: Tensor,
    rope: Rope,
}

impl Llama {
    /// Build from HF-named weights (any dtype; all must share one).
    pub fn new(cfg: &ModelConfig, w: &Weights) -> anyhow::Result<Self> {
        let get = |name: &str| -> anyhow::Result<Tensor> { Ok(w.get(name)?.clone()) };
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for l in 0..cfg.num_layers {
            let p = format!("model.layers.{l}");
            // Biases are optional (Qwen2 has them on q, k, v).
            let lin = |n: &str| -> anyhow::Result<Linear> {
                Ok(Linear::with_bias(get(&format!("{p}.{n}.weight"))?, w.tensors.get(&format!("{p}.{n}.bias")).cloned()))
            };
            layers.push(Layer {
                input_norm: get(&format!("{p}.input_layernorm.weight"))?,
                attn: Attention { q: lin("self_attn.q_proj")?, k: lin("self_attn.k_proj")?, v: lin("self_attn.v_proj")?, o: lin("self_attn.o_proj")? },
                post_norm: get(&format!("{p}.post_attention_layernorm.weight"))?,
                mlp: Mlp { gate: lin("mlp.gate_proj")?, up: lin("mlp.up_proj")?, down: lin("mlp.down_proj")? },
            });
        }
        let embed = get("model.embed_tokens.weight")?;
        let lm_head = if cfg.tie_word_embeddings { embed.clone() } else { get("lm_head.weight")? };
        let rope = Rope::new(cfg.head_dim, cfg.rope_theta, cfg.max_position_embeddings, embed.dtype(), embed.device())?;
        Ok(Llama { cfg: cfg.clone(), embed, layers, norm: get("model.norm.weight")?, lm_head, rope })
    }

    fn attention(&self, l: usize, x: &Tensor, start: usize, mask: Option<&CausalMask>, cache: Option<&mut KvCache>) -> Result<Tensor> {
        let layer = &self.layers[l].attn;
        let (nh, nkv, hd) = (self.cfg.num_heads, self.cfg.num_kv_heads, self.cfg.head_dim);
        let q = self.rope.apply(&split_heads(&layer.q.forward(x)?, nh, hd)?, start)?;
        let k = self.rope.apply(&split_heads(&layer.k.forward(x)?, nkv, hd)?, start)?;
        let v = split_heads(&layer.v.forward(x)?, nkv, hd)?;
        layer.o.forward(&attend_with_cache(l, &q, k, v, cache, 1.0 / (hd as f64).sqrt(), mask)?)
    }

    fn mlp(&self, layer: &Mlp, x: &Tensor) -> Result<Tensor> {
        layer.down.forward(&gated(&layer.gate.forward(x)?, &layer.up.forward(x)?, Activation::Silu)?)
    }
}

impl CausalLm for Llama {
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
        let mut x = self.embed_tokens(ids)?;
        // A single new token may see every cached position (but padding): no mask needed.
        let mask = (t > 1 || padding.is_some()).then(|| CausalMask::new(t, start, None).with_padding(padding));
        for (l, layer) in self.layers.iter().enumerate() {
            let h = rms_norm(&x, &layer.input_norm, eps, 0.0)?;
            x = (&x + self.attention(l, &h, start, mask.as_ref(), cache.as_deref_mut())?)?;
            x = (&x + self.mlp(&layer.mlp, &rms_norm(&x, &layer.post_norm, eps, 0.0)?)?)?;
        }
        rms_norm(&x, &self.norm, eps, 0.0)
    }

    fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        super::frozen::project(hidden, &self.lm_head)
    }

    fn projections_mut(&mut self) -> Vec<(String, &mut Linear)> {
        named_projections(&mut self.layers, |Layer { attn: a, mlp: m, .. }| {
            [&mut a.q, &mut a.k, &mut a.v, &mut a.o, &mut m.gate, &mut m.up, &mut m.down]
        })
    }
}
