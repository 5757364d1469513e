//! The attention weights `softmax(scale · scores + mask)` over the last axis of (B, H, T, S)
//! scores, with the mask described rather than stored: query `t` (absolute position
//! `first_query + t`) sees key `s` (absolute position `first_key + s`) when the key is not in
//! its future, within the sliding window if any, and not left padding of its batch element.
//! A row that sees no key (a padding query) gets weight 0 everywhere.
//!
//! Backward: `∂L/∂scores = scale · y ⊙ (∂L/∂y − Σ_row(y ⊙ ∂L/∂y))`; hidden keys have y = 0.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};

use super::{Float, contiguous, dispatch, for_each_row};

const NAME: &str = "fused-attention-softmax";

/// Which keys each query may see (see the module doc). Causal always: a query never sees a key
/// at a later position.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttentionMask {
    /// Absolute position of query row 0 and of key column 0.
    pub first_query: usize,
    pub first_key: usize,
    /// Sliding window: only the last `window` positions, the query's own included.
    pub window: Option<usize>,
    /// Left padding: batch element `b`'s real tokens start at absolute position `padding[b]`.
    pub padding: Option<Arc<[usize]>>,
}

impl AttentionMask {
    /// The keys (columns) query row `t` of batch element `b` sees, as a half-open range of
    /// columns, for `keys` columns.
    pub fn visible(&self, b: usize, t: usize, keys: usize) -> std::ops::Range<usize> {
        let q = self.first_query + t;
        let mut oldest = self.window.map_or(0, |w| (q + 1).saturating_sub(w));
        if let Some(pad) = &self.padding {
            oldest = oldest.max(pad[b]);
        }
        let lo = oldest.saturating_sub(self.first_key).min(keys);
        let hi = (q + 1).saturating_sub(self.first_key).min(keys);
        lo..hi.max(lo)
    }
}

/// `softmax(scale · scores + mask)` over the last axis of `scores` (B, H, T, S); `None` lets
/// every query see every key. f32/f64 on the CPU only (the caller keeps the unfused path for
/// the rest, see [`super::supported`]).
pub fn attention_softmax(scores: &Tensor, scale: f64, mask: Option<&AttentionMask>) -> Result<Tensor> {
    let (b, ..) = scores.dims4()?;
    if let Some(pad) = mask.and_then(|m| m.padding.as_ref())
        && pad.len() != b
    {
        candle_core::bail!("{NAME}: padding for {} sequences, scores for {b}", pad.len());
    }
    scores.contiguous()?.apply_op1(AttentionSoftmax { scale, mask: mask.cloned() })
}

struct AttentionSoftmax {
    scale: f64,
    mask: Option<AttentionMask>,
}

fn forward<T: Float>(op: &AttentionSoftmax, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
    let x = contiguous::<T>(s, l, NAME)?;
    let (_, heads, queries, keys) = l.shape().dims4()?;
    let scale = T::from_f64(op.scale);
    let mut out = vec![T::zero(); x.len()];
    for_each_row(&mut out, keys, |i, y| {
        let row = &x[i * keys..(i + 1) * keys];
        let range = match &op.mask {
            Some(m) => m.visible(i / (heads * queries), i % queries, keys),
            None => 0..keys,
        };
        if range.is_empty() {
            return;
        }
        let max = row[range.clone()].iter().fold(T::neg_infinity(), |m, &v| num_traits::Float::max(m, v * scale));
        let mut sum = 0.0f64;
        for (y, &v) in y[range.clone()].iter_mut().zip(&row[range.clone()]) {
            *y = (v * scale - max).exp();
            sum += y.to_f64();
        }
        let inv = T::from_f64(1.0 / sum);
        y[range].iter_mut().for_each(|y| *y = *y * inv);
    });
    Ok((T::to_cpu_storage_owned(out), l.shape().clone()))
}

impl CustomOp1 for AttentionSoftmax {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        dispatch!(NAME, s, forward(self, s, l))
    }

    fn bwd(&self, _scores: &Tensor, y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(y.apply_op2_no_bwd(&dy.contiguous()?, &SoftmaxBackward { scale: self.scale })?))
    }
}

/// `scale · y ⊙ (dy − Σ_row y ⊙ dy)` over the last axis.
struct SoftmaxBackward {
    scale: f64,
}

fn backward<T: Float>(op: &SoftmaxBackward, (ys, yl): (&CpuStorage, &Layout), (gs, gl): (&CpuStorage, &Layout)) -> Result<(CpuStorage, Shape)> {
    let (y, dy) = (contiguous::<T>(ys, yl, NAME)?, contiguous::<T>(gs, gl, NAME)?);
    let keys = yl.dims().last().copied().unwrap_or(0);
    if dy.len() != y.len() {
        candle_core::bail!("{NAME}: gradient of {} elements for {} weights", dy.len(), y.len());
    }
    let scale = T::from_f64(op.scale);
    let mut out = vec![T::zero(); y.len()];
    for_each_row(&mut out, keys, |i, dx| {
        let (y, dy) = (&y[i * keys..(i + 1) * keys], &dy[i * keys..(i + 1) * keys]);
        let dot = T::from_f64(y.iter().zip(dy).map(|(&y, &g)| y.to_f64() * g.to_f64()).sum::<f64>());
        for ((dx, &y), &g) in dx.iter_mut().zip(y).zip(dy) {
            *dx = scale * y * (g - dot);
        }
    });
    Ok((T::to_cpu_storage_owned(out), yl.shape().clone()))
}

impl CustomOp2 for SoftmaxBackward {
    fn name(&self) -> &'static str {
        "fused-attention-softmax-backward"
    }

    fn cpu_fwd(&self, ys: &CpuStorage, yl: &Layout, gs: &CpuStorage, gl: &Layout) -> Result<(CpuStorage, Shape)> {
        dispatch!(NAME, ys, backward(self, (ys, yl), (gs, gl)))
    }
}
