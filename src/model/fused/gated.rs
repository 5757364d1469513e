//! The gated MLP's activation `y = act(g) ⊙ u`, act = SiLU (Llama) or tanh-approximated GELU
//! (Gemma, HF's `gelu_pytorch_tanh`).
//!
//! Backward: `∂L/∂u = act(g) ⊙ ∂L/∂y` (the same op on `(g, ∂L/∂y)`) and
//! `∂L/∂g = act'(g) ⊙ u ⊙ ∂L/∂y`, with
//! `silu'(x) = σ(x)·(1 + x·(1 − σ(x)))` and, for `t = tanh(k·(x + a·x³))`,
//! `gelu'(x) = ½(1 + t) + ½·x·(1 − t²)·k·(1 + 3a·x²)`, `k = √(2/π)`, `a = 0.044715`.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};

use super::{Float, contiguous, dispatch, for_each_row};

const NAME: &str = "fused-gated-activation";

/// Elements per parallel task of these elementwise kernels.
const CHUNK: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Silu,
    GeluTanh,
}

const GELU_K: f64 = 0.797_884_560_802_865_4; // √(2/π)
const GELU_A: f64 = 0.044_715;

impl Activation {
    fn value<T: Float>(self, x: T) -> T {
        let one = T::one();
        match self {
            Activation::Silu => x / (one + (-x).exp()),
            Activation::GeluTanh => {
                let (k, a, half) = (T::from_f64(GELU_K), T::from_f64(GELU_A), T::from_f64(0.5));
                half * x * (one + (k * (x + a * x * x * x)).tanh())
            }
        }
    }

    fn derivative<T: Float>(self, x: T) -> T {
        let one = T::one();
        match self {
            Activation::Silu => {
                let s = one / (one + (-x).exp());
                s * (one + x * (one - s))
            }
            Activation::GeluTanh => {
                let (k, a, half, three) = (T::from_f64(GELU_K), T::from_f64(GELU_A), T::from_f64(0.5), T::from_f64(3.0));
                let t = (k * (x + a * x * x * x)).tanh();
                half * (one + t) + half * x * (one - t * t) * k * (one + three * a * x * x)
            }
        }
    }

    /// The unfused ops: candle's `silu` and `gelu` (its tanh approximation).
    fn unfused(self, g: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Silu => candle_nn::ops::silu(g),
            Activation::GeluTanh => g.gelu(),
        }
    }
}

/// `act(gate) ⊙ up` for tensors of one shape.
pub fn gated(gate: &Tensor, up: &Tensor, activation: Activation) -> Result<Tensor> {
    if !super::supported(gate) {
        return activation.unfused(gate)? * up;
    }
    gate.contiguous()?.apply_op2(&up.contiguous()?, Gated(activation))
}

struct Gated(Activation);

fn same_len(a: &[impl Sized], b: &[impl Sized]) -> Result<()> {
    if a.len() != b.len() {
        candle_core::bail!("{NAME}: operands of {} and {} elements", a.len(), b.len());
    }
    Ok(())
}

fn forward<T: Float>(act: Activation, (gs, gl): (&CpuStorage, &Layout), (us, ul): (&CpuStorage, &Layout)) -> Result<(CpuStorage, Shape)> {
    let (g, u) = (contiguous::<T>(gs, gl, NAME)?, contiguous::<T>(us, ul, NAME)?);
    same_len(g, u)?;
    let mut out = vec![T::zero(); g.len()];
    for_each_row(&mut out, CHUNK, |i, y| {
        let (g, u) = (&g[i * CHUNK..], &u[i * CHUNK..]);
        for ((y, &g), &u) in y.iter_mut().zip(g).zip(u) {
            *y = act.value(g) * u;
        }
    });
    Ok((T::to_cpu_storage_owned(out), gl.shape().clone()))
}

impl CustomOp2 for Gated {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cpu_fwd(&self, gs: &CpuStorage, gl: &Layout, us: &CpuStorage, ul: &Layout) -> Result<(CpuStorage, Shape)> {
        dispatch!(NAME, gs, forward(self.0, (gs, gl), (us, ul)))
    }

    fn bwd(&self, g: &Tensor, u: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let du = g.apply_op2_no_bwd(&dy, &Gated(self.0))?;
        let dg = g.apply_op3_no_bwd(u, &dy, &GatedBackward(self.0))?;
        Ok((Some(dg), Some(du)))
    }
}

/// `act'(g) ⊙ u ⊙ dy`.
struct GatedBackward(Activation);

fn backward<T: Float>(
    act: Activation,
    (gs, gl): (&CpuStorage, &Layout),
    (us, ul): (&CpuStorage, &Layout),
    (ds, dl): (&CpuStorage, &Layout),
) -> Result<(CpuStorage, Shape)> {
    let (g, u, dy) = (contiguous::<T>(gs, gl, NAME)?, contiguous::<T>(us, ul, NAME)?, contiguous::<T>(ds, dl, NAME)?);
    same_len(g, u)?;
    same_len(g, dy)?;
    let mut out = vec![T::zero(); g.len()];
    for_each_row(&mut out, CHUNK, |i, dg| {
        let (g, u, dy) = (&g[i * CHUNK..], &u[i * CHUNK..], &dy[i * CHUNK..]);
        for (((dg, &g), &u), &d) in dg.iter_mut().zip(g).zip(u).zip(dy) {
            *dg = act.derivative(g) * u * d;
        }
    });
    Ok((T::to_cpu_storage_owned(out), gl.shape().clone()))
}

impl CustomOp3 for GatedBackward {
    fn name(&self) -> &'static str {
        "fused-gated-activation-backward"
    }

    fn cpu_fwd(
        &self,
        gs: &CpuStorage,
        gl: &Layout,
        us: &CpuStorage,
        ul: &Layout,
        ds: &CpuStorage,
        dl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        dispatch!(NAME, gs, backward(self.0, (gs, gl), (us, ul), (ds, dl)))
    }
}
