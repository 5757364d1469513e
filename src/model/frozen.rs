//! `y = x·Wᵀ` for a weight that is not trained. candle's matmul backward always computes the
//! gradient of both operands, so a frozen weight costs a second matmul and a weight-sized
//! buffer per projection on every backward pass (for Gemma's 262k-row tied LM head, 671 MB).
//! This op's backward gives `x` its gradient and nothing else (notes/candle.md measured 1.7 →
//! 1.2 s and 5.0 → 2.7 GB for a LoRA backward). CPU only; elsewhere the plain matmul is used.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Result, Shape, Storage, Tensor, WithDType};

struct FrozenMatmul {
    weight: Tensor,
}

/// A copy of the (contiguous, see [`project`]) input as a tensor of its own.
fn to_tensor(storage: &CpuStorage, layout: &Layout) -> Result<Tensor> {
    fn gather<T: WithDType>(data: &[T], layout: &Layout) -> Result<Tensor> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("frozen-matmul needs a contiguous input")
        };
        Tensor::from_slice(&data[start..end], layout.shape(), &candle_core::Device::Cpu)
    }
    match storage {
        CpuStorage::F32(d) => gather(d, layout),
        CpuStorage::F64(d) => gather(d, layout),
        CpuStorage::BF16(d) => gather(d, layout),
        CpuStorage::F16(d) => gather(d, layout),
        _ => candle_core::bail!("frozen-matmul supports float tensors only"),
    }
}

impl CustomOp1 for FrozenMatmul {
    fn name(&self) -> &'static str {
        "frozen-matmul"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let y = to_tensor(storage, layout)?.broadcast_matmul(&self.weight.t()?)?;
        let shape = y.shape().clone();
        let (storage, layout) = y.storage_and_layout();
        let Storage::Cpu(cpu) = &*storage else { candle_core::bail!("frozen-matmul: result left the CPU") };
        match layout.contiguous_offsets() {
            Some((0, end)) if end == cpu_len(cpu) => Ok((cpu.clone(), shape)),
            _ => candle_core::bail!("frozen-matmul: matmul gave a non-contiguous result"),
        }
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, grad_y: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(grad_y.broadcast_matmul(&self.weight)?))
    }
}

fn cpu_len(storage: &CpuStorage) -> usize {
    match storage {
        CpuStorage::F32(d) => d.len(),
        CpuStorage::F64(d) => d.len(),
        CpuStorage::BF16(d) => d.len(),
        CpuStorage::F16(d) => d.len(),
        _ => 0,
    }
}

/// `x·Wᵀ` for `x` of shape (…, in) and `weight` (out, in). When `weight` is a constant (neither a
/// variable nor computed from one) and `x` will be differentiated, skip the weight's gradient.
pub fn project(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    let frozen = !weight.track_op() && x.track_op() && x.device().is_cpu() && weight.dtype() == x.dtype();
    if frozen && matches!(x.dtype(), DType::F32 | DType::F64 | DType::BF16 | DType::F16) {
        x.contiguous()?.apply_op1(FrozenMatmul { weight: weight.clone() })
    } else {
        x.broadcast_matmul(&weight.t()?)
    }
}
