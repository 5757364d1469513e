//! Inverted dropout with a counter-based mask: element `i` of a call is kept when the
//! generator's 32-bit word at position `start + i` is below `keep · 2³²`, and kept elements are
//! scaled by `1/keep`. The word positions make the mask independent of how the elements are
//! split over threads, and let the backward pass — the same diagonal map applied to `∂L/∂y` —
//! regenerate the mask instead of storing it.

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use super::{Float, contiguous, dispatch, for_each_row};

const NAME: &str = "fused-dropout";

/// Elements per parallel task (each seeks the generator once).
const CHUNK: usize = 8192;

/// Drop each element of `x` with probability `p` (scaling the rest by `1/(1 − p)`), drawing
/// `x.elem_count()` words from `rng`.
pub fn dropout(x: &Tensor, p: f64, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    let start = rng.get_word_pos();
    let n = x.elem_count();
    rng.set_word_pos(start + n as u128);
    let op = Dropout { rng: rng.clone(), start, keep: 1.0 - p };
    if !super::supported(x) {
        let mask: Vec<f32> = op.mask(0, n).collect();
        return x * Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
    }
    x.contiguous()?.apply_op1(op)
}

#[derive(Clone)]
struct Dropout {
    rng: ChaCha8Rng,
    start: u128,
    keep: f64,
}

impl Dropout {
    /// The mask's factors (0 or 1/keep) of elements `from..from + n`.
    fn mask(&self, from: usize, n: usize) -> impl Iterator<Item = f32> {
        let mut rng = self.rng.clone();
        rng.set_word_pos(self.start + from as u128);
        let threshold = (self.keep * 4_294_967_296.0) as u64;
        let scale = (1.0 / self.keep) as f32;
        (0..n).map(move |_| if u64::from(rng.next_u32()) < threshold { scale } else { 0.0 })
    }
}

fn forward<T: Float>(op: &Dropout, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
    let x = contiguous::<T>(s, l, NAME)?;
    let mut out = vec![T::zero(); x.len()];
    for_each_row(&mut out, CHUNK, |i, y| {
        let (from, n) = (i * CHUNK, y.len());
        for ((y, &x), m) in y.iter_mut().zip(&x[from..]).zip(op.mask(from, n)) {
            *y = x * T::from_f64(f64::from(m));
        }
    });
    Ok((T::to_cpu_storage_owned(out), l.shape().clone()))
}

impl CustomOp1 for Dropout {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        dispatch!(NAME, s, forward(self, s, l))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(dy.contiguous()?.apply_op1(self.clone())?))
    }
}
