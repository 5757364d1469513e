//! RMS norm over the last axis: `y = x · r · (w + offset)`, `r = 1/√(mean(x²) + eps)` — offset 0
//! for Llama's norm, 1 for Gemma's `(1 + w)`.
//!
//! Backward, with `n = x·r` and `g = ∂L/∂y · (w + offset)` per row of length H:
//! `∂L/∂x = r · (g − n · Σ(g·n)/H)` and `∂L/∂w = Σ_rows ∂L/∂y · n`.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, D, DType, Layout, Result, Shape, Tensor};

use super::{Float, contiguous, dispatch, for_each_row};

const NAME: &str = "fused-rms-norm";

/// `x / √(mean(x²) + eps) · (w + offset)` over the last axis of `x`; `w` has that axis' length.
/// The unfused ops for dtypes or devices the kernels do not cover; half precision is normalised
/// in f32 and cast back, as transformers does.
pub fn rms_norm(x: &Tensor, w: &Tensor, eps: f64, offset: f64) -> Result<Tensor> {
    if !super::supported(x) {
        let dtype = x.dtype();
        let compute = if matches!(dtype, DType::BF16 | DType::F16) { DType::F32 } else { dtype };
        let (x, w) = (x.to_dtype(compute)?, w.to_dtype(compute)?);
        let mean_sq = x.sqr()?.mean_keepdim(D::Minus1)?;
        let scale = if offset == 0.0 { w } else { (w + offset)? };
        return x.broadcast_div(&(mean_sq + eps)?.sqrt()?)?.broadcast_mul(&scale)?.to_dtype(dtype);
    }
    x.contiguous()?.apply_op2(&w.contiguous()?, RmsNorm { eps, offset })
}

struct RmsNorm {
    eps: f64,
    offset: f64,
}

/// `1/√(Σx²/H + eps)` of one row, summed in f64.
fn inverse_rms<T: Float>(row: &[T], eps: f64) -> f64 {
    let sum: f64 = row.iter().map(|&v| v.to_f64() * v.to_f64()).sum();
    1.0 / (sum / row.len() as f64 + eps).sqrt()
}

fn check(x: &Layout, w: &[impl Sized]) -> Result<usize> {
    let h = w.len();
    if h == 0 || x.dims().last() != Some(&h) {
        candle_core::bail!("{NAME}: weight of length {h} for input of shape {:?}", x.dims());
    }
    Ok(h)
}

fn forward<T: Float>(op: &RmsNorm, xs: &CpuStorage, xl: &Layout, ws: &CpuStorage, wl: &Layout) -> Result<(CpuStorage, Shape)> {
    let (x, w) = (contiguous::<T>(xs, xl, NAME)?, contiguous::<T>(ws, wl, NAME)?);
    let h = check(xl, w)?;
    let scale: Vec<T> = w.iter().map(|&w| w + T::from_f64(op.offset)).collect();
    let mut out = vec![T::zero(); x.len()];
    for_each_row(&mut out, h, |i, y| {
        let row = &x[i * h..(i + 1) * h];
        let r = T::from_f64(inverse_rms(row, op.eps));
        for ((y, &x), &s) in y.iter_mut().zip(row).zip(&scale) {
            *y = x * r * s;
        }
    });
    Ok((T::to_cpu_storage_owned(out), xl.shape().clone()))
}

impl CustomOp2 for RmsNorm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout, ws: &CpuStorage, wl: &Layout) -> Result<(CpuStorage, Shape)> {
        dispatch!(NAME, xs, forward(self, xs, xl, ws, wl))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let dx = x.apply_op3_no_bwd(w, &dy, &RmsNormBackward { eps: self.eps, offset: self.offset })?;
        // The weight's gradient only when it is trained (full fine-tuning): Σ_rows ∂L/∂y · n.
        let dw = if w.track_op() {
            let n = x.apply_op2_no_bwd(&w.ones_like()?, &RmsNorm { eps: self.eps, offset: 0.0 })?;
            let h = w.elem_count();
            Some((dy * n)?.reshape(((), h))?.sum(0)?.reshape(w.shape())?)
        } else {
            None
        };
        Ok((Some(dx), dw))
    }
}

/// `∂L/∂x` of [`RmsNorm`] from `x`, `w` and `∂L/∂y`.
struct RmsNormBackward {
    eps: f64,
    offset: f64,
}

fn backward<T: Float>(
    op: &RmsNormBackward,
    (xs, xl): (&CpuStorage, &Layout),
    (ws, wl): (&CpuStorage, &Layout),
    (gs, gl): (&CpuStorage, &Layout),
) -> Result<(CpuStorage, Shape)> {
    let (x, w, dy) = (contiguous::<T>(xs, xl, NAME)?, contiguous::<T>(ws, wl, NAME)?, contiguous::<T>(gs, gl, NAME)?);
    let h = check(xl, w)?;
    if dy.len() != x.len() {
        candle_core::bail!("{NAME}: gradient of {} elements for an input of {}", dy.len(), x.len());
    }
    let scale: Vec<T> = w.iter().map(|&w| w + T::from_f64(op.offset)).collect();
    let mut out = vec![T::zero(); x.len()];
    for_each_row(&mut out, h, |i, dx| {
        let (row, grad) = (&x[i * h..(i + 1) * h], &dy[i * h..(i + 1) * h]);
        let r = inverse_rms(row, op.eps);
        let dot: f64 = row.iter().zip(grad).zip(&scale).map(|((&x, &g), &s)| (g * s).to_f64() * x.to_f64()).sum();
        let c = T::from_f64(dot * r * r / h as f64);
        let r = T::from_f64(r);
        for (((dx, &x), &g), &s) in dx.iter_mut().zip(row).zip(grad).zip(&scale) {
            *dx = r * (g * s - x * c);
        }
    });
    Ok((T::to_cpu_storage_owned(out), xl.shape().clone()))
}

impl CustomOp3 for RmsNormBackward {
    fn name(&self) -> &'static str {
        "fused-rms-norm-backward"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        dispatch!(NAME, xs, backward(self, (xs, xl), (ws, wl), (gs, gl)))
    }
}
