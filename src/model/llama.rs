//! A differentiable Llama-family decoder (Llama 3, Mistral, SmolLM2), written only with candle
//! ops that carry gradients (see ../shared/notes/candle.md): `rms_norm_slow`, `rope_slow`,
//! `ops::softmax`, an additive causal mask. Read top to bottom: names, blocks, model.
//!
//! Per layer: `x += o(attn(rope(q(n₁(x))), rope(k(n₁(x))), v(n₁(x))))`, then
//! `x += down(silu(gate(n₂(x))) ⊙ up(n₂(x)))`; finally `logits = lm_head(norm(x))`.

use candle_core::{D, DType, Device, Result, Tensor, Var};
use candle_nn::ops::{rms_norm_slow, softmax};
use candle_nn::rotary_emb::rope_slow;

use super::config::ModelConfig;
use super::lora::{Linear, LoraAdapter, LoraConfig};
use super::weights::Weights;

/// Every weight of a Llama model, with its HF name and shape.
pub fn weight_shapes(cfg: &ModelConfig) -> Vec<(String, Vec<usize>)> {
    let (h, i, hd) = (cfg.hidden_size, cfg.intermediate_size, cfg.head_dim);
    let mut out = vec![("model.embed_tokens.weight".to_string(), vec![cfg.vocab_size, h])];
    for l in 0..cfg.num_layers {
        let p = format!("model.layers.{l}");
        out.extend([
            (format!("{p}.input_layernorm.weight"), vec![h]),
            (format!("{p}.self_attn.q_proj.weight"), vec![cfg.num_heads * hd, h]),
            (format!("{p}.self_attn.k_proj.weight"), vec![cfg.num_kv_heads * hd, h]),
            (format!("{p}.self_attn.v_proj.weight"), vec![cfg.num_kv_heads * hd, h]),
            (format!("{p}.self_attn.o_proj.weight"), vec![h, cfg.num_heads * hd]),
            (format!("{p}.post_attention_layernorm.weight"), vec![h]),
            (format!("{p}.mlp.gate_proj.weight"), vec![i, h]),
            (format!("{p}.mlp.up_proj.weight"), vec![i, h]),
            (format!("{p}.mlp.down_proj.weight"), vec![h, i]),
        ]);
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
    /// Rope tables for positions 0..max_position_embeddings, shape (positions, head_dim/2).
    cos: Tensor,
    sin: Tensor,
}

/// cos/sin of `position · θ^(−2j/head_dim)` for rotate-half rope.
fn rope_tables(cfg: &ModelConfig, theta: f64, dtype: DType, device: &Device) -> Result<(Tensor, Tensor)> {
    let half = cfg.head_dim / 2;
    let inv: Vec<f64> = (0..half).map(|j| theta.powf(-((2 * j) as f64) / cfg.head_dim as f64)).collect();
    let n = cfg.max_position_embeddings;
    let angles: Vec<f64> = (0..n).flat_map(|p| inv.iter().map(move |f| p as f64 * f)).collect();
    let angles = Tensor::from_vec(angles, (n, half), device)?;
    Ok((angles.cos()?.to_dtype(dtype)?, angles.sin()?.to_dtype(dtype)?))
}

/// Additive causal mask (T × T): 0 where a position may attend, −∞ where it may not.
/// `window`: also mask keys more than `window − 1` positions back (sliding-window attention).
pub fn causal_mask(t: usize, window: Option<usize>, dtype: DType, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i || window.is_some_and(|w| i - j >= w) { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (t, t), device)?.to_dtype(dtype)
}

/// (B, kv_heads, T, hd) → (B, kv_heads·n_rep, T, hd), each KV head shared by `n_rep` query heads.
pub fn repeat_kv(x: &Tensor, n_rep: usize) -> Result<Tensor> {
    if n_rep == 1 {
        return Ok(x.clone());
    }
    let (b, kv, t, hd) = x.dims4()?;
    x.unsqueeze(2)?.expand((b, kv, n_rep, t, hd))?.reshape((b, kv * n_rep, t, hd))
}

impl Llama {
    /// Build from HF-named weights (any dtype; all must share one).
    pub fn new(cfg: &ModelConfig, w: &Weights) -> anyhow::Result<Self> {
        let get = |name: &str| -> anyhow::Result<Tensor> { Ok(w.get(name)?.clone()) };
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for l in 0..cfg.num_layers {
            let p = format!("model.layers.{l}");
            let lin = |n: &str| -> anyhow::Result<Linear> { Ok(Linear::new(get(&format!("{p}.{n}.weight"))?)) };
            layers.push(Layer {
                input_norm: get(&format!("{p}.input_layernorm.weight"))?,
                attn: Attention { q: lin("self_attn.q_proj")?, k: lin("self_attn.k_proj")?, v: lin("self_attn.v_proj")?, o: lin("self_attn.o_proj")? },
                post_norm: get(&format!("{p}.post_attention_layernorm.weight"))?,
                mlp: Mlp { gate: lin("mlp.gate_proj")?, up: lin("mlp.up_proj")?, down: lin("mlp.down_proj")? },
            });
        }
        let embed = get("model.embed_tokens.weight")?;
        let lm_head = if cfg.tie_word_embeddings { embed.clone() } else { get("lm_head.weight")? };
        let (cos, sin) = rope_tables(cfg, cfg.rope_theta, embed.dtype(), embed.device())?;
        Ok(Llama { cfg: cfg.clone(), embed, layers, norm: get("model.norm.weight")?, lm_head, cos, sin })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// Attach LoRA adapters to the configured projections; adapter `k` (in layer order) is seeded
    /// with `seed + k`. Returns the trainable variables by name (`….lora_A`, `….lora_B`).
    pub fn attach_lora(&mut self, config: &LoraConfig, seed: u64) -> Result<Vec<(String, Var)>> {
        let mut vars = Vec::new();
        let mut k = 0;
        for (l, layer) in self.layers.iter_mut().enumerate() {
            let projections: [(&str, &mut Linear); 7] = [
                ("self_attn.q_proj", &mut layer.attn.q),
                ("self_attn.k_proj", &mut layer.attn.k),
                ("self_attn.v_proj", &mut layer.attn.v),
                ("self_attn.o_proj", &mut layer.attn.o),
                ("mlp.gate_proj", &mut layer.mlp.gate),
                ("mlp.up_proj", &mut layer.mlp.up),
                ("mlp.down_proj", &mut layer.mlp.down),
            ];
            for (name, linear) in projections {
                let short = name.rsplit('.').next().expect("dotted name");
                if !config.targets.iter().any(|t| t == short) {
                    continue;
                }
                let (out_dim, in_dim) = linear.weight.dims2()?;
                let adapter = LoraAdapter::new(in_dim, out_dim, config, seed + k, linear.weight.dtype(), linear.weight.device())?;
                k += 1;
                vars.push((format!("model.layers.{l}.{name}.lora_A"), adapter.a.clone()));
                vars.push((format!("model.layers.{l}.{name}.lora_B"), adapter.b.clone()));
                linear.lora = Some(adapter);
            }
        }
        Ok(vars)
    }

    fn attention(&self, layer: &Attention, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let (nh, nkv, hd) = (self.cfg.num_heads, self.cfg.num_kv_heads, self.cfg.head_dim);
        let heads = |y: Tensor, n: usize| y.reshape((b, t, n, hd))?.transpose(1, 2)?.contiguous();
        let q = heads(layer.q.forward(x)?, nh)?;
        let k = heads(layer.k.forward(x)?, nkv)?;
        let v = heads(layer.v.forward(x)?, nkv)?;
        let (cos, sin) = (self.cos.narrow(0, 0, t)?, self.sin.narrow(0, 0, t)?);
        let q = rope_slow(&q, &cos, &sin)?;
        let k = repeat_kv(&rope_slow(&k, &cos, &sin)?, nh / nkv)?;
        let v = repeat_kv(&v, nh / nkv)?;
        let scores = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?.broadcast_add(mask)?;
        let out = softmax(&scores, D::Minus1)?.matmul(&v)?;
        layer.o.forward(&out.transpose(1, 2)?.reshape((b, t, nh * hd))?)
    }

    fn mlp(&self, layer: &Mlp, x: &Tensor) -> Result<Tensor> {
        layer.down.forward(&(candle_nn::ops::silu(&layer.gate.forward(x)?)? * layer.up.forward(x)?)?)
    }

    /// Final hidden states (after the last norm) for token ids of shape (B, T).
    pub fn hidden_states(&self, ids: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let eps = self.cfg.rms_norm_eps as f32;
        let mut x = self.embed.index_select(&ids.flatten_all()?, 0)?.reshape((b, t, self.cfg.hidden_size))?;
        let mask = causal_mask(t, None, x.dtype(), x.device())?;
        for layer in &self.layers {
            x = (&x + self.attention(&layer.attn, &rms_norm_slow(&x, &layer.input_norm, eps)?, &mask)?)?;
            x = (&x + self.mlp(&layer.mlp, &rms_norm_slow(&x, &layer.post_norm, eps)?)?)?;
        }
        rms_norm_slow(&x, &self.norm, eps)
    }

    /// Logits over the vocabulary for hidden states of shape (…, H). Apply it only to the rows
    /// that need logits (answer positions): the LM head is the largest matmul of the model.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        hidden.broadcast_matmul(&self.lm_head.t()?)
    }
}
