//! Attention pieces both architectures share, written only with ops that carry gradients:
//! rotate-half rope tables, causal (optionally sliding-window) masks with a cache offset,
//! grouped-query head sharing, scaled-dot-product attention with an explicit softmax, and a
//! concatenating KV cache (candle's in-place `KvCache` cuts the gradient).
//!
//! Long sequences are attended in blocks of queries ([`attend_in_blocks`]): each block's scores
//! against the keys it may see, masked, softmax, times V, and the blocks concatenated. Memory is
//! then bounded by [`SCORE_BLOCK_BYTES`] rather than growing with T² (a 20,000-token prompt on
//! Gemma 3 would need 6.4 GB of scores and a 1.6 GB mask at once); sequences whose scores fit in
//! one block (training batches, prompts up to about 2,000 tokens) take the single-block path as
//! before. The mask is a description ([`CausalMask`]) materialised one block at a time.
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use candle_core::{D, DType, Device, Result, Tensor};
use candle_nn::ops::softmax;
use candle_nn::rotary_emb::rope_slow;

use super::fused::{self, AttentionMask};

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
        let (cos, sin) = (self.cos.narrow(0, start, t)?, self.sin.narrow(0, start, t)?);
        if fused::supported(x) { fused::rope(x, &cos, &sin) } else { rope_slow(x, &cos, &sin) }
    }
}

/// Which keys the queries of one forward pass may see: `queries` new positions after `past`
/// cached ones, each seeing itself and the positions before it — with a `window`, only the last
/// `window` of them, itself included (sliding-window attention). Built once per forward pass and
/// shared by its layers.
#[derive(Clone, Debug)]
pub struct CausalMask {
    pub queries: usize,
    pub past: usize,
    pub window: Option<usize>,
    /// Left padding: sequence `b` of the batch starts at position `padding[b]` (see [`KvCache::with_padding`]).
    pub padding: Option<Arc<[usize]>>,
    /// The whole mask, once a single-block layer has needed it.
    whole: OnceLock<Tensor>,
}

impl CausalMask {
    pub fn new(queries: usize, past: usize, window: Option<usize>) -> Self {
        CausalMask { queries, past, window, padding: None, whole: OnceLock::new() }
    }

    /// The same mask over a left-padded batch.
    pub fn with_padding(mut self, padding: Option<Arc<[usize]>>) -> Self {
        self.padding = padding;
        self
    }

    /// The fused softmax's description of queries `rows` (0-based among the new ones) against
    /// key positions `keys`.
    pub fn spec(&self, rows: Range<usize>, keys: Range<usize>) -> AttentionMask {
        AttentionMask { first_query: self.past + rows.start, first_key: keys.start, window: self.window, padding: self.padding.clone() }
    }

    /// The whole mask (queries × (past+queries)), built once and then shared by every layer.
    pub fn whole(&self, dtype: DType, device: &Device) -> Result<Tensor> {
        if let Some(mask) = self.whole.get()
            && mask.dtype() == dtype
            && mask.device().same_device(device)
        {
            return Ok(mask.clone());
        }
        let mask = self.tensor(0..self.queries, 0..self.past + self.queries, dtype, device)?;
        let _ = self.whole.set(mask.clone());
        Ok(mask)
    }

    /// The keys that queries `rows` (0-based among the new ones) may see between them: from the
    /// first one's oldest visible position to the last one's own.
    pub fn visible_keys(&self, rows: Range<usize>) -> Range<usize> {
        let oldest = self.window.map_or(0, |w| (self.past + rows.start + 1).saturating_sub(w));
        oldest..self.past + rows.end
    }

    /// Additive mask (rows × keys) of queries `rows` against key positions `keys`: 0 where query
    /// `i` (absolute position `past+i`) may see key `j`, −∞ where `j` is in its future or, with a
    /// window, `window` or more positions back. With padding it is (B, 1, rows, keys), and also
    /// −∞ on each sequence's padding.
    pub fn tensor(&self, rows: Range<usize>, keys: Range<usize>, dtype: DType, device: &Device) -> Result<Tensor> {
        if let Some(padding) = &self.padding {
            let spec = self.spec(rows.clone(), keys.clone());
            let (n_rows, n_keys) = (rows.len(), keys.len());
            let mut values = Vec::with_capacity(padding.len() * n_rows * n_keys);
            for b in 0..padding.len() {
                for i in 0..n_rows {
                    let visible = spec.visible(b, i, n_keys);
                    values.extend((0..n_keys).map(|j| if visible.contains(&j) { 0.0f32 } else { f32::NEG_INFINITY }));
                }
            }
            return Tensor::from_vec(values, (padding.len(), 1, rows.len(), keys.len()), device)?.to_dtype(dtype);
        }
        let shape = (rows.len(), keys.len());
        let values: Vec<f32> = rows
            .flat_map(|i| {
                let q = self.past + i;
                let window = self.window;
                keys.clone()
                    .map(move |j| if j > q || window.is_some_and(|w| q - j >= w) { f32::NEG_INFINITY } else { 0.0 })
            })
            .collect();
        Tensor::from_vec(values, shape, device)?.to_dtype(dtype)
    }
}

/// The whole additive mask (T × (past+T)) of [`CausalMask`] `(t, past, window)`.
pub fn causal_mask(t: usize, past: usize, window: Option<usize>, dtype: DType, device: &Device) -> Result<Tensor> {
    CausalMask::new(t, past, window).whole(dtype, device)
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

/// Most bytes of attention scores one block holds (B·heads·rows·keys elements, counted as f32
/// at least: half-precision scores are normalised in f32): 128 MiB. An f32 training batch of
/// 8 × 512 tokens with 9 heads (75 MiB) is one block.
pub const SCORE_BLOCK_BYTES: usize = 128 << 20;

/// How many query rows one block takes, for `batch_heads` (B·heads) × `queries` × `keys` scores
/// of `dtype`: all of them when they fit in [`SCORE_BLOCK_BYTES`], else as many as fit (≥ 1).
pub fn query_block_rows(batch_heads: usize, queries: usize, keys: usize, dtype: DType) -> usize {
    let budget = SCORE_BLOCK_BYTES / dtype.size_in_bytes().max(4);
    let per_row = batch_heads.saturating_mul(keys).max(1);
    if per_row.saturating_mul(queries) <= budget { queries } else { (budget / per_row).clamp(1, queries.max(1)) }
}

/// [`attend`] for q (B, H, T, hd) and k, v (B, H, S, hd), taking the queries `rows` at a time:
/// each block is scored against the keys its [`CausalMask`] lets it see (keys no query of the
/// block may see are left out rather than masked: they would weigh exactly 0), and the blocks'
/// outputs are concatenated. With `rows ≥ T` it is one [`attend`] with the whole mask.
pub fn attend_in_blocks(q: &Tensor, k: &Tensor, v: &Tensor, scale: f64, mask: Option<&CausalMask>, rows: usize) -> Result<Tensor> {
    let (t, s) = (q.dim(2)?, k.dim(2)?);
    if let Some(m) = mask
        && (m.queries != t || m.past + t != s)
    {
        candle_core::bail!("a mask for {} queries after {} cached positions, given {t} queries and {s} keys", m.queries, m.past);
    }
    let (dtype, device) = (q.dtype(), q.device());
    if fused::supported(q) {
        // The fused softmax reads the mask's description: no mask tensor is built.
        let attend = |q: &Tensor, k: &Tensor, v: &Tensor, spec: Option<AttentionMask>| -> Result<Tensor> {
            fused::attention_softmax(&q.matmul(&k.t()?)?, scale, spec.as_ref())?.matmul(v)
        };
        if rows >= t {
            return attend(q, k, v, mask.map(|m| m.spec(0..t, 0..s)));
        }
        let mut blocks = Vec::with_capacity(t.div_ceil(rows.max(1)));
        for start in (0..t).step_by(rows.max(1)) {
            let queries = start..(start + rows).min(t);
            let keys = mask.map_or(0..s, |m| m.visible_keys(queries.clone()));
            let narrow = |x: &Tensor, r: &Range<usize>| x.narrow(2, r.start, r.len());
            let spec = mask.map(|m| m.spec(queries.clone(), keys.clone()));
            blocks.push(attend(&narrow(q, &queries)?, &narrow(k, &keys)?, &narrow(v, &keys)?, spec)?);
        }
        return Tensor::cat(&blocks, 2);
    }
    if rows >= t {
        let whole = mask.map(|m| m.whole(dtype, device)).transpose()?;
        return attend(q, k, v, scale, whole.as_ref());
    }
    let block_mask = |queries: Range<usize>, keys: Range<usize>| mask.map(|m| m.tensor(queries, keys, dtype, device)).transpose();
    let mut blocks = Vec::with_capacity(t.div_ceil(rows.max(1)));
    for start in (0..t).step_by(rows.max(1)) {
        let queries = start..(start + rows).min(t);
        let keys = mask.map_or(0..s, |m| m.visible_keys(queries.clone()));
        let narrow = |x: &Tensor, r: &Range<usize>| x.narrow(2, r.start, r.len());
        let m = block_mask(queries.clone(), keys.clone())?;
        blocks.push(attend(&narrow(q, &queries)?, &narrow(k, &keys)?, &narrow(v, &keys)?, scale, m.as_ref())?);
    }
    Tensor::cat(&blocks, 2)
}

/// The part of a decoder layer's attention both architectures share, after q and k got their
/// rope: store layer `layer`'s new keys and values in `cache` (if any), share each KV head with
/// its query heads, attend (in blocks of queries when the scores would not fit in
/// [`SCORE_BLOCK_BYTES`]), and merge the heads back to (B, T, heads·hd) for the output projection.
pub fn attend_with_cache(
    layer: usize,
    q: &Tensor,
    k: Tensor,
    v: Tensor,
    cache: Option<&mut KvCache>,
    scale: f64,
    mask: Option<&CausalMask>,
) -> Result<Tensor> {
    let (b, heads, t, hd) = q.dims4()?;
    let (k, v) = match cache {
        Some(cache) => cache.append(layer, k, v)?,
        None => (k, v),
    };
    let n_rep = heads / k.dim(1)?;
    let (k, v) = (repeat_kv(&k, n_rep)?, repeat_kv(&v, n_rep)?);
    let rows = query_block_rows(b * heads, t, k.dim(2)?, q.dtype());
    attend_in_blocks(q, &k, &v, scale, mask, rows)?.transpose(1, 2)?.reshape((b, t, heads * hd))
}

/// Keys and values of the positions seen so far, per layer, each (B, kv_heads, S, hd) after rope.
/// A cache for a left-padded batch also holds where each sequence starts, so that every forward
/// pass through it hides the padding.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    padding: Option<Arc<[usize]>>,
}

impl KvCache {
    pub fn new(num_layers: usize) -> Self {
        KvCache { layers: vec![None; num_layers], padding: None }
    }

    /// A cache for a batch whose sequence `b` is left-padded up to position `padding[b]`: its
    /// real tokens sit at positions `padding[b]..` (rope is relative, so the shift changes
    /// nothing but rounding) and no query sees a padding key.
    pub fn with_padding(num_layers: usize, padding: Vec<usize>) -> Self {
        KvCache { layers: vec![None; num_layers], padding: Some(padding.into()) }
    }

    /// Each sequence's first real position, for a left-padded batch.
    pub fn padding(&self) -> Option<Arc<[usize]>> {
        self.padding.clone()
    }

    /// The cache of the batch's sequences `rows` (in that order; repeats allowed), e.g. to drop
    /// finished sequences or to branch each sequence into several continuations.
    pub fn select(&self, rows: &[usize]) -> Result<Self> {
        let device = self.layers.iter().flatten().next().map(|(k, _)| k.device().clone());
        let index = match &device {
            Some(device) => Some(Tensor::new(rows.iter().map(|&r| r as u32).collect::<Vec<_>>().as_slice(), device)?),
            None => None,
        };
        let layers = self
            .layers
            .iter()
            .map(|layer| match (layer, &index) {
                (Some((k, v)), Some(index)) => Ok(Some((k.index_select(index, 0)?, v.index_select(index, 0)?))),
                _ => Ok(None),
            })
            .collect::<Result<_>>()?;
        let padding = self.padding.as_ref().map(|p| rows.iter().map(|&r| p[r]).collect());
        Ok(KvCache { layers, padding })
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
