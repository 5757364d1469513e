//! Attention pieces both architectures share, written only with ops that carry gradients:
//! rotate-half rope tables, causal (optionally sliding-window) masks with a cache offset,
//! grouped-query head sharing, scaled-dot-product attention with an explicit softmax, and a
//! concatenating KV cache (candle's in-place `KvCache` cuts the gradient).

use candle_core::{D, DType, Device, Result, Tensor};
use candle_nn::ops::softmax;
use candle_nn::rotary_emb::rope_slow;

/// cos/sin of `position · θ^(−2j/head_dim)` for positions `0..positions`, shape (positions, head_dim/2).
#[derive(Clone, Debug)]
pub struct Rope {
    cos: Tensor,
    sin: Tensor,
}

impl Rope {
    pub fn new(head_dim: usize, theta: f64, positions: usize, dtype: DType, device: &Device) -> Result<Self> {
        let half = head_dim / 2;
        let inv: Vec<f64> = (0..half).map(|j| theta.powf(-((2 * j) as f64) / head_dim as f64)).collect();
        let angles: Vec<f64> = (0..positions).flat_map(|p| inv.iter().map(move |f| p as f64 * f)).collect();
        let angles = Tensor::from_vec(angles, (positions, half), device)?;
        Ok(Rope { cos: angles.cos()?.to_dtype(dtype)?, sin: angles.sin()?.to_dtype(dtype)? })
    }

    /// Rotate `x` of shape (B, heads, T, head_dim) holding positions `start..start+T`.
    pub fn apply(&self, x: &Tensor, start: usize) -> Result<Tensor> {
        let t = x.dim(2)?;
        let max = self.cos.dim(0)?;
        if start + t > max {
            candle_core::bail!("position {} is past the model's {max} rope positions", start + t - 1);
        }
        rope_slow(x, &self.cos.narrow(0, start, t)?, &self.sin.narrow(0, start, t)?)
    }
}

/// Additive mask (T × (past+T)) for `t` new queries after `past` cached keys: 0 where query `i`
/// (absolute position `past+i`) may see key `j`, −∞ where `j` is in its future or, with a
/// `window`, `window` or more positions back (sliding-window attention).
pub fn causal_mask(t: usize, past: usize, window: Option<usize>, dtype: DType, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..t)
        .flat_map(|i| {
            let q = past + i;
            (0..past + t).map(move |j| if j > q || window.is_some_and(|w| q - j >= w) { f32::NEG_INFINITY } else { 0.0 })
        })
        .collect();
    Tensor::from_vec(values, (t, past + t), device)?.to_dtype(dtype)
}

/// (B, kv_heads, T, hd) → (B, kv_heads·n_rep, T, hd), each KV head shared by `n_rep` query heads.
pub fn repeat_kv(x: &Tensor, n_rep: usize) -> Result<Tensor> {
    if n_rep == 1 {
        return Ok(x.clone());
    }
    let (b, kv, t, hd) = x.dims4()?;
    x.unsqueeze(2)?.expand((b, kv, n_rep, t, hd))?.reshape((b, kv * n_rep, t, hd))
}

/// `softmax(q·kᵀ·scale + mask)·v` for q (B, H, T, hd) and k, v (B, H, S, hd); mask (T, S).
pub fn attend(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64, mask: Option<&Tensor>) -> Result<Tensor> {
    let scores = (q.matmul(&k.t()?)? * scale)?;
    let scores = match mask {
        Some(mask) => scores.broadcast_add(mask)?,
        None => scores,
    };
    // Half-precision scores are normalised in f32 (as transformers does), then cast back.
    let weights = match scores.dtype() {
        DType::BF16 | DType::F16 => softmax(&scores.to_dtype(DType::F32)?, D::Minus1)?.to_dtype(scores.dtype())?,
        _ => softmax(&scores, D::Minus1)?,
    };
    weights.matmul(v)
}

/// (B, T, n·hd) → (B, n, T, hd): one projection's output split into heads.
pub fn split_heads(y: &Tensor, heads: usize, head_dim: usize) -> Result<Tensor> {
    let (b, t, _) = y.dims3()?;
    y.reshape((b, t, heads, head_dim))?.transpose(1, 2)?.contiguous()
}

/// The part of a decoder layer's attention both architectures share, after q and k got their
/// rope: store layer `layer`'s new keys and values in `cache` (if any), share each KV head with
/// its query heads, attend, and merge the heads back to (B, T, heads·hd) for the output projection.
pub fn attend_with_cache(
    layer: usize,
    q: &Tensor,
    k: Tensor,
    v: Tensor,
    cache: Option<&mut KvCache>,
    scale: f64,
    mask: Option<&Tensor>,
) -> Result<Tensor> {
    let (b, heads, t, hd) = q.dims4()?;
    let (k, v) = match cache {
        Some(cache) => cache.append(layer, k, v)?,
        None => (k, v),
    };
    let n_rep = heads / k.dim(1)?;
    let out = attend(q, &repeat_kv(&k, n_rep)?, &repeat_kv(&v, n_rep)?, scale, mask)?;
    out.transpose(1, 2)?.reshape((b, t, heads * hd))
}

/// Keys and values of the positions seen so far, per layer, each (B, kv_heads, S, hd) after rope.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
}

impl KvCache {
    pub fn new(num_layers: usize) -> Self {
        KvCache { layers: vec![None; num_layers] }
    }

    /// Positions already cached (0 for a fresh cache).
    pub fn len(&self) -> usize {
        self.layers.first().and_then(|l| l.as_ref()).map(|(k, _)| k.dim(2).unwrap_or(0)).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append the new keys/values of `layer` and return all of them.
    pub fn append(&mut self, layer: usize, k: Tensor, v: Tensor) -> Result<(Tensor, Tensor)> {
        let entry = &mut self.layers[layer];
        let (k, v) = match entry.take() {
            Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 2)?, Tensor::cat(&[&pv, &v], 2)?),
            None => (k, v),
        };
        *entry = Some((k.clone(), v.clone()));
        Ok((k, v))
    }
}
