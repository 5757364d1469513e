//! Rotate-half rope on (B, H, T, D): with `x = [x₁, x₂]` split in halves and `cos`, `sin` of
//! shape (T, D/2), `y = [x₁·cos − x₂·sin, x₂·cos + x₁·sin]` — candle's `rope_slow`.
//!
//! A rotation's gradient is the rotation back: `∂L/∂x` is the same op with `−sin`.

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

use super::{Float, contiguous, dispatch, for_each_row};

const NAME: &str = "fused-rope";

/// Rotate `x` (B, H, T, D) by the angles whose cos and sin are `cos`, `sin` (T, D/2). The tables
/// are constants (a model's); tables that are being differentiated take candle's `rope_slow`.
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    if !super::supported(x) || cos.track_op() || sin.track_op() {
        return candle_nn::rotary_emb::rope_slow(x, cos, sin);
    }
    x.contiguous()?.apply_op3(&cos.contiguous()?, &sin.contiguous()?, Rope { inverse: false })
}

struct Rope {
    /// Rotate by −angle (the backward pass).
    inverse: bool,
}

fn forward<T: Float>(
    op: &Rope,
    (xs, xl): (&CpuStorage, &Layout),
    (cs, cl): (&CpuStorage, &Layout),
    (ss, sl): (&CpuStorage, &Layout),
) -> Result<(CpuStorage, Shape)> {
    let (x, cos, sin) = (contiguous::<T>(xs, xl, NAME)?, contiguous::<T>(cs, cl, NAME)?, contiguous::<T>(ss, sl, NAME)?);
    let (_, _, t, d) = xl.shape().dims4()?;
    let half = d / 2;
    if d % 2 != 0 || cl.dims() != [t, half] || sl.dims() != [t, half] {
        candle_core::bail!("{NAME}: cos {:?} and sin {:?} for input {:?} (expected ({t}, {half}))", cl.dims(), sl.dims(), xl.dims());
    }
    let sign = if op.inverse { -T::one() } else { T::one() };
    let mut out = vec![T::zero(); x.len()];
    for_each_row(&mut out, d, |i, y| {
        let (row, p) = (&x[i * d..(i + 1) * d], (i % t) * half);
        let (cos, sin) = (&cos[p..p + half], &sin[p..p + half]);
        let (y1, y2) = y.split_at_mut(half);
        let (x1, x2) = row.split_at(half);
        for j in 0..half {
            let s = sign * sin[j];
            y1[j] = x1[j] * cos[j] - x2[j] * s;
            y2[j] = x2[j] * cos[j] + x1[j] * s;
        }
    });
    Ok((T::to_cpu_storage_owned(out), xl.shape().clone()))
}

impl CustomOp3 for Rope {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        cs: &CpuStorage,
        cl: &Layout,
        ss: &CpuStorage,
        sl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        dispatch!(NAME, xs, forward(self, (xs, xl), (cs, cl), (ss, sl)))
    }

    fn bwd(&self, _x: &Tensor, cos: &Tensor, sin: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dx = dy.contiguous()?.apply_op3(cos, sin, Rope { inverse: !self.inverse })?;
        Ok((Some(dx), None, None))
    }
}
