//! Fused CPU kernels with their own backward pass, as candle custom ops: RMS norm, the attention
//! softmax (scale and causal/window/padding mask folded in), rotate-half rope, the gated MLP
//! activations `silu(g)·u` and `gelu_tanh(g)·u`, and LoRA's dropout.
//!
//! candle's fused `rms_norm`, `softmax_last_dim` and `rope` carry no gradient
//! (../shared/notes/candle.md), and the differentiable "slow" versions are chains of
//! single-threaded elementwise ops, each a full pass over memory. Each kernel here is one pass
//! over its rows, spread over rayon's threads, and its backward is a kernel too.
//!
//! Invariants:
//! - **Exact gradients.** Every op's backward is the analytic derivative of its forward (checked
//!   against the unfused ops and finite differences in tests/model_fused.rs and by the models'
//!   gradient tests).
//! - **Deterministic.** A row is always computed by one thread, in index order, so results do not
//!   depend on the thread count or scheduling.
//! - **f32 and f64 on the CPU.** Other dtypes and devices take the unfused path
//!   ([`supported`]); half precision keeps its upcast to f32 there.

mod dropout;
mod gated;
mod norm;
mod rope;
mod softmax;

use candle_core::{CpuStorage, DType, Layout, Result, Tensor, WithDType};
use rayon::prelude::*;

pub use dropout::dropout;
pub use gated::{Activation, gated};
pub use norm::rms_norm;
pub use rope::rope;
pub use softmax::{AttentionMask, attention_softmax};

/// Whether the fused kernels run on `x`: f32 or f64 on the CPU.
pub fn supported(x: &Tensor) -> bool {
    x.device().is_cpu() && matches!(x.dtype(), DType::F32 | DType::F64)
}

/// The float types the kernels are written for (f32, f64).
trait Float: WithDType + num_traits::Float + Send + Sync {}
impl Float for f32 {}
impl Float for f64 {}

/// Below this many elements a kernel runs on the calling thread: spreading a decoding step's few
/// rows over threads costs more than it saves.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// The contiguous slice a (contiguous) layout describes.
fn contiguous<'a, T: WithDType>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&storage.as_slice::<T>()?[start..end]),
        None => candle_core::bail!("{op}: needs a contiguous input"),
    }
}

/// Fill `out` row by row (rows of `row_len`), `f(row_index, row)`, on rayon's threads when the
/// output is large; each row is written by one thread.
fn for_each_row<T: Send>(out: &mut [T], row_len: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    if row_len == 0 {
        return;
    }
    if out.len() < PARALLEL_MIN_ELEMENTS {
        out.chunks_mut(row_len).enumerate().for_each(|(i, row)| f(i, row));
    } else {
        out.par_chunks_mut(row_len).enumerate().for_each(|(i, row)| f(i, row));
    }
}

/// Run `f` on the dtype of `storage` (f32 or f64), or fail naming `op`.
macro_rules! dispatch {
    ($op:expr, $storage:expr, $f:ident ( $($arg:expr),* )) => {
        match $storage {
            candle_core::CpuStorage::F32(_) => $f::<f32>($($arg),*),
            candle_core::CpuStorage::F64(_) => $f::<f64>($($arg),*),
            _ => candle_core::bail!("{}: f32 or f64 tensors only", $op),
        }
    };
}
use dispatch;
