//! The fused kernels (src/model/fused/) against the unfused candle ops they replace, values and
//! gradients, in f64 (to 1e-12) and f32, on shapes large enough to take the multithreaded path;
//! and against finite differences. The models' own gradient tests run through them as well.

#![cfg(feature = "lm")]

use std::sync::Arc;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::rotary_emb::rope_slow;
use dataeff::model::fused::{Activation, AttentionMask, attention_softmax, gated, rms_norm, rope};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(shape: &[usize], seed: u64, dtype: DType) -> Var {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let values: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu).unwrap().to_dtype(dtype).unwrap()).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

/// Values of `fused` and `unfused` on the same inputs, and the gradients of `Σ y ⊙ probe` with
/// respect to every input, agree within `tol` (relative to the largest magnitude).
fn agree(inputs: &[Var], fused: impl Fn(&[Tensor]) -> Tensor, unfused: impl Fn(&[Tensor]) -> Tensor, tol: f64) {
    let xs: Vec<Tensor> = inputs.iter().map(|v| v.as_tensor().clone()).collect();
    let (a, b) = (fused(&xs), unfused(&xs));
    let scale = b.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap().max(1.0);
    assert!(max_diff(&a, &b) <= tol * scale, "values differ by {:.3e}", max_diff(&a, &b));
    let probe = random(a.dims(), 99, a.dtype());
    let ga = (a * probe.as_tensor()).unwrap().sum_all().unwrap().backward().unwrap();
    let gb = (b * probe.as_tensor()).unwrap().sum_all().unwrap().backward().unwrap();
    for (i, v) in inputs.iter().enumerate() {
        let (da, db) = (ga.get(v).expect("fused gradient"), gb.get(v).expect("unfused gradient"));
        let scale = db.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap().max(1.0);
        assert!(max_diff(da, db) <= tol * scale, "input {i}: gradients differ by {:.3e}", max_diff(da, db));
    }
}

fn unfused_rms_norm(x: &Tensor, w: &Tensor, eps: f64, offset: f64) -> Tensor {
    let mean_sq = x.sqr().unwrap().mean_keepdim(D::Minus1).unwrap();
    x.broadcast_div(&(mean_sq + eps).unwrap().sqrt().unwrap()).unwrap().broadcast_mul(&(w + offset).unwrap()).unwrap()
}

#[test]
fn rms_norm_matches_the_unfused_ops_with_both_offsets() {
    for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 2e-5)] {
        for offset in [0.0, 1.0] {
            // 8 × 96 rows of 64: above the threshold where rows are spread over threads.
            let inputs = [random(&[8, 96, 64], 1, dtype), random(&[64], 2, dtype)];
            agree(&inputs, |t| rms_norm(&t[0], &t[1], 1e-6, offset).unwrap(), |t| unfused_rms_norm(&t[0], &t[1], 1e-6, offset), tol);
        }
    }
}

fn unfused_softmax(scores: &Tensor, scale: f64, mask: &Tensor) -> Tensor {
    candle_nn::ops::softmax(&(scores * scale).unwrap().broadcast_add(mask).unwrap(), D::Minus1).unwrap()
}

/// The additive mask tensor of `spec` for (B, T, S) scores, built from its definition.
fn mask_tensor(spec: &AttentionMask, b: usize, t: usize, s: usize, dtype: DType) -> Tensor {
    let mut values = Vec::new();
    for bi in 0..b {
        for ti in 0..t {
            let q = spec.first_query + ti;
            for si in 0..s {
                let k = spec.first_key + si;
                let pad = spec.padding.as_ref().map_or(0, |p| p[bi]);
                let visible = k <= q && spec.window.is_none_or(|w| q - k < w) && k >= pad;
                values.push(if visible { 0.0f64 } else { f64::NEG_INFINITY });
            }
        }
    }
    Tensor::from_vec(values, (b, 1, t, s), &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}

#[test]
fn attention_softmax_matches_scale_mask_and_softmax() {
    let cases = [
        AttentionMask { first_query: 0, first_key: 0, window: None, padding: None },
        AttentionMask { first_query: 5, first_key: 2, window: Some(4), padding: None },
        AttentionMask { first_query: 3, first_key: 0, window: None, padding: Some(Arc::from(vec![0, 3, 1])) },
    ];
    for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
        for spec in &cases {
            let (b, h, t, s) = (3, 4, 6, spec.first_query + 6 - spec.first_key);
            let scores = [random(&[b, h, t, s], 3, dtype)];
            let mask = mask_tensor(spec, b, t, s, dtype);
            agree(&scores, |x| attention_softmax(&x[0], 0.3, Some(spec)).unwrap(), |x| unfused_softmax(&x[0], 0.3, &mask), tol);
        }
    }
    // No mask: every key is seen.
    let scores = [random(&[2, 3, 4, 7], 4, DType::F64)];
    let none = Tensor::zeros((4, 7), DType::F64, &Device::Cpu).unwrap();
    agree(&scores, |x| attention_softmax(&x[0], 0.5, None).unwrap(), |x| unfused_softmax(&x[0], 0.5, &none), 1e-12);
}

#[test]
fn a_padding_query_that_sees_no_key_gets_zero_weights() {
    let spec = AttentionMask { first_query: 0, first_key: 0, window: None, padding: Some(Arc::from(vec![2])) };
    let scores = random(&[1, 1, 3, 3], 5, DType::F64);
    let y = attention_softmax(scores.as_tensor(), 1.0, Some(&spec)).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
    assert_eq!(&y[..6], &[0.0; 6], "queries 0 and 1 are padding");
    assert_eq!(y[6..], [0.0, 0.0, 1.0], "query 2 sees only itself");
}

#[test]
fn rope_matches_rope_slow_and_its_gradient_is_the_inverse_rotation() {
    for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
        let (t, d) = (40, 32);
        let angles = random(&[t, d / 2], 6, DType::F64).as_tensor().detach();
        let (cos, sin) = (angles.cos().unwrap().to_dtype(dtype).unwrap(), angles.sin().unwrap().to_dtype(dtype).unwrap());
        let x = [random(&[2, 9, t, d], 7, dtype)];
        agree(&x, |x| rope(&x[0], &cos, &sin).unwrap(), |x| rope_slow(&x[0], &cos, &sin).unwrap(), tol);
    }
}

#[test]
fn gated_activations_match_the_unfused_ops() {
    for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
        let inputs = [random(&[8, 96, 48], 8, dtype), random(&[8, 96, 48], 9, dtype)];
        agree(&inputs, |t| gated(&t[0], &t[1], Activation::Silu).unwrap(), |t| (candle_nn::ops::silu(&t[0]).unwrap() * &t[1]).unwrap(), tol);
        // candle's own gelu backward uses 6-digit constants (its gradient is off by ~1e-6); ours
        // is exact (fused_gradients_match_finite_differences), so the bound is candle's.
        agree(&inputs, |t| gated(&t[0], &t[1], Activation::GeluTanh).unwrap(), |t| (t[0].gelu().unwrap() * &t[1]).unwrap(), tol.max(1e-5));
    }
}

/// Central finite differences of `Σ f(x) ⊙ probe` against the fused backward, on a few entries
/// of each input (f64). The gelu check is the one the unfused path could not pass below 1e-4
/// (candle's gelu backward has 6-digit constants); ours is exact.
#[test]
fn fused_gradients_match_finite_differences() {
    let spec = AttentionMask { first_query: 0, first_key: 0, window: Some(2), padding: Some(Arc::from(vec![1, 0])) };
    let angles = random(&[3, 4], 11, DType::F64).as_tensor().detach();
    let (cos, sin) = (angles.cos().unwrap(), angles.sin().unwrap());
    type Op<'a> = Box<dyn Fn(&[Tensor]) -> Tensor + 'a>;
    let ops: Vec<(&str, Vec<Var>, Op)> = vec![
        ("rms_norm", vec![random(&[2, 3, 8], 12, DType::F64), random(&[8], 13, DType::F64)], Box::new(|t| rms_norm(&t[0], &t[1], 1e-5, 1.0).unwrap())),
        ("softmax", vec![random(&[2, 3, 4, 4], 14, DType::F64)], Box::new(|t| attention_softmax(&t[0], 0.7, Some(&spec)).unwrap())),
        ("rope", vec![random(&[2, 1, 3, 8], 15, DType::F64)], Box::new(|t| rope(&t[0], &cos, &sin).unwrap())),
        ("silu", vec![random(&[2, 3, 8], 16, DType::F64), random(&[2, 3, 8], 17, DType::F64)], Box::new(|t| gated(&t[0], &t[1], Activation::Silu).unwrap())),
        ("gelu", vec![random(&[2, 3, 8], 18, DType::F64), random(&[2, 3, 8], 19, DType::F64)], Box::new(|t| gated(&t[0], &t[1], Activation::GeluTanh).unwrap())),
    ];
    for (name, vars, f) in &ops {
        let xs: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let probe = random(f(&xs).dims(), 10, DType::F64);
        let objective = |xs: &[Tensor]| (f(xs) * probe.as_tensor()).unwrap().sum_all().unwrap();
        let grads = objective(&xs).backward().unwrap();
        for (i, var) in vars.iter().enumerate() {
            let analytic = grads.get(var).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
            let base = var.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap();
            for j in [0, base.len() / 2, base.len() - 1] {
                let at = |delta: f64| {
                    let mut v = base.clone();
                    v[j] += delta;
                    let mut shifted = xs.clone();
                    shifted[i] = Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap();
                    objective(&shifted).to_scalar::<f64>().unwrap()
                };
                let h = 1e-6;
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                let err = (numeric - analytic[j]).abs() / numeric.abs().max(1e-3);
                assert!(err < 1e-6, "{name} input {i} entry {j}: numeric {numeric} analytic {}", analytic[j]);
            }
        }
    }
}

#[test]
fn fused_kernels_are_deterministic_across_runs() {
    let x = random(&[8, 96, 576], 20, DType::F32);
    let w = random(&[576], 21, DType::F32);
    let first = rms_norm(x.as_tensor(), w.as_tensor(), 1e-5, 0.0).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for _ in 0..3 {
        let again = rms_norm(x.as_tensor(), w.as_tensor(), 1e-5, 0.0).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(first.iter().zip(&again).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

/// LoRA's dropout: factors 0 or 1/keep at about the keep rate; the mask depends only on the
/// generator's position (two calls equal one call on the concatenation, whatever the split over
/// threads); the backward pass applies the same mask to the gradient.
#[test]
fn dropout_masks_follow_the_generator_position_and_the_gradient_reuses_them() {
    use dataeff::model::fused::dropout;
    use rand::SeedableRng;
    let p = 0.05;
    let ones = Tensor::ones((300, 1000), DType::F32, &Device::Cpu).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let whole = dropout(&ones, p, &mut rng.clone()).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let scale = (1.0 / (1.0 - p)) as f32;
    assert!(whole.iter().all(|&v| v == 0.0 || v == scale));
    let kept = whole.iter().filter(|&&v| v != 0.0).count() as f64 / whole.len() as f64;
    assert!((kept - 0.95).abs() < 0.005, "kept {kept}");
    let first = dropout(&ones.narrow(0, 0, 7).unwrap(), p, &mut rng).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let rest = dropout(&ones.narrow(0, 7, 293).unwrap(), p, &mut rng).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!([first, rest].concat(), whole, "masks are a function of the word position");

    let x = random(&[40, 1000], 30, DType::F64);
    let probe = random(&[40, 1000], 31, DType::F64);
    let start = ChaCha8Rng::seed_from_u64(8);
    let y = dropout(x.as_tensor(), p, &mut start.clone()).unwrap();
    let grad = (&y * probe.as_tensor()).unwrap().sum_all().unwrap().backward().unwrap();
    let expected = dropout(probe.as_tensor(), p, &mut start.clone()).unwrap();
    assert_eq!(max_diff(grad.get(&x).unwrap(), &expected), 0.0);
}
