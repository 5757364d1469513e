//! The differentiable Llama on a tiny random model (f64): backward matches finite differences on
//! every kind of weight (embedding, norms, attention with rope and GQA, MLP, LM head, LoRA A and B),
//! and the LoRA-B gradient equals the full weight gradient projected by A (PAPER.md §4 step 3).

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::loss::cross_entropy;
use dataeff::model::llama::{Llama, weight_shapes};
use dataeff::model::lora::{LoraConfig, attach};
use dataeff::model::CausalLm;
use dataeff::model::{Architecture, ModelConfig, Weights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Random weights as variables (norm weights near 1, matrices ~ N(0, 0.3²)-ish uniform).
fn random_model(cfg: &ModelConfig, seed: u64) -> (Weights, Vec<(String, Var)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut weights = Weights::default();
    let mut vars = Vec::new();
    for (name, shape) in weight_shapes(cfg) {
        let n: usize = shape.iter().product();
        let is_norm = name.ends_with("norm.weight");
        let values: Vec<f64> =
            (0..n).map(|_| if is_norm { 1.0 + rng.random_range(-0.2..0.2) } else { rng.random_range(-0.5..0.5) }).collect();
        let var = Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu).unwrap()).unwrap();
        weights.tensors.insert(name.clone(), var.as_tensor().clone());
        vars.push((name, var));
    }
    (weights, vars)
}

fn ids() -> Tensor {
    Tensor::new(&[[3u32, 17, 5, 30, 2, 11, 8], [1, 4, 4, 22, 36, 0, 9]], &Device::Cpu).unwrap()
}

/// Mean next-token cross-entropy over every position of both sequences.
fn loss(model: &Llama, ids: &Tensor) -> Tensor {
    let (b, t) = ids.dims2().unwrap();
    let h = model.hidden_states(&ids.narrow(1, 0, t - 1).unwrap()).unwrap();
    let logits = model.logits(&h).unwrap().reshape((b * (t - 1), model.config().vocab_size)).unwrap();
    cross_entropy(&logits, &ids.narrow(1, 1, t - 1).unwrap().flatten_all().unwrap()).unwrap()
}

fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

#[test]
fn backward_matches_finite_differences_on_every_kind_of_weight() {
    let mut cfg = ModelConfig::tiny(Architecture::Llama);
    cfg.tie_word_embeddings = false;
    let (weights, base_vars) = random_model(&cfg, 1);
    let mut model = Llama::new(&cfg, &weights).unwrap();
    let lora = LoraConfig { rank: 4, alpha: 8.0, dropout: 0.0, ..LoraConfig::default() };
    let lora_vars = attach(&mut model, &lora, 7).unwrap();
    // Give B non-zero values so that A receives a gradient too.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (name, var) in &lora_vars {
        if name.ends_with("lora_B") {
            let n = var.elem_count();
            let v: Vec<f64> = (0..n).map(|_| rng.random_range(-0.3..0.3)).collect();
            var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap()).unwrap();
        }
    }
    let ids = ids();
    let grads = loss(&model, &ids).backward().unwrap();
    let mut checked = 0;
    let mut worst: f64 = 0.0;
    for (name, var) in base_vars.iter().chain(&lora_vars) {
        let grad = grads.get(var).unwrap_or_else(|| panic!("{name} got no gradient")).flatten_all().unwrap().to_vec1::<f64>().unwrap();
        for _ in 0..3 {
            let i = rng.random_range(0..var.elem_count());
            let original = var.flatten_all().unwrap().to_vec1::<f64>().unwrap();
            let eps = 1e-5;
            let shifted = |delta: f64| {
                let mut v = original.clone();
                v[i] += delta;
                var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap()).unwrap();
                scalar(&loss(&model, &ids))
            };
            let fd = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
            var.set(&Tensor::from_vec(original, var.shape(), &Device::Cpu).unwrap()).unwrap();
            let rel = (fd - grad[i]).abs() / fd.abs().max(grad[i].abs()).max(1e-6);
            worst = worst.max(rel);
            assert!(rel <= 1e-3, "{name}[{i}]: backward {} vs finite difference {fd} (rel {rel:.2e})", grad[i]);
            checked += 1;
        }
    }
    eprintln!("checked {checked} weights, worst relative error {worst:.2e}");
    assert_eq!(checked, 3 * (base_vars.len() + lora_vars.len()));
}

#[test]
fn lora_b_gradient_is_the_weight_gradient_projected_by_a() {
    let cfg = ModelConfig::tiny(Architecture::Llama);
    let (weights, base_vars) = random_model(&cfg, 2);
    let mut model = Llama::new(&cfg, &weights).unwrap();
    let lora = LoraConfig { rank: 3, alpha: 6.0, dropout: 0.0, ..LoraConfig::default() };
    let lora_vars = attach(&mut model, &lora, 11).unwrap();
    let grads = loss(&model, &ids()).backward().unwrap();
    let scale = lora.alpha / lora.rank as f64;
    let mut compared = 0;
    for (name, b) in lora_vars.iter().filter(|(n, _)| n.ends_with("lora_B")) {
        let base = name.trim_end_matches(".lora_B").to_string() + ".weight";
        let a = &lora_vars.iter().find(|(n, _)| *n == name.replace("lora_B", "lora_A")).unwrap().1;
        let w = &base_vars.iter().find(|(n, _)| *n == base).unwrap().1;
        let grad_b = grads.get(b).unwrap();
        let projected = (grads.get(w).unwrap().matmul(&a.as_tensor().t().unwrap()).unwrap() * scale).unwrap();
        let diff = scalar(&(grad_b - &projected).unwrap().abs().unwrap().max_all().unwrap());
        let size = scalar(&projected.abs().unwrap().max_all().unwrap());
        assert!(size > 0.0 && diff <= 1e-12 * size.max(1.0), "{name}: max |Δ| {diff} (max |grad| {size})");
        // With B = 0 the adapter has no effect yet, so A gets no gradient.
        let grad_a = grads.get(a).map(|g| scalar(&g.abs().unwrap().max_all().unwrap())).unwrap_or(0.0);
        assert_eq!(grad_a, 0.0, "{name}");
        compared += 1;
    }
    assert_eq!(compared, 7 * cfg.num_layers);
}

#[test]
fn missing_weight_is_named() {
    let cfg = ModelConfig::tiny(Architecture::Llama);
    let (mut weights, _) = random_model(&cfg, 3);
    weights.tensors.remove("model.layers.1.mlp.up_proj.weight");
    weights.source = "tiny.gguf".into();
    let err = Llama::new(&cfg, &weights).err().unwrap().to_string();
    assert!(err.contains("model.layers.1.mlp.up_proj.weight") && err.contains("tiny.gguf"), "{err}");
}

/// Feeding a sequence in pieces through the KV cache gives the same hidden states as one pass.
#[test]
fn kv_cache_matches_a_full_pass() {
    let cfg = ModelConfig::tiny(Architecture::Llama);
    let (weights, _) = random_model(&cfg, 4);
    let model = Llama::new(&cfg, &weights).unwrap();
    let ids = ids();
    let full = model.hidden_states(&ids).unwrap();
    let mut cache = dataeff::model::KvCache::new(cfg.num_layers);
    let mut pieces = Vec::new();
    for (start, len) in [(0, 3), (3, 1), (4, 3)] {
        pieces.push(model.forward(&ids.narrow(1, start, len).unwrap(), Some(&mut cache)).unwrap());
    }
    assert_eq!(cache.len(), 7);
    let stepped = Tensor::cat(&pieces, 1).unwrap();
    let diff = scalar(&(full - stepped).unwrap().abs().unwrap().max_all().unwrap());
    assert!(diff < 1e-12, "max |Δ| {diff}");
}
