//! The differentiable Llama on a tiny random model (f64): backward matches finite differences on
//! every kind of weight (embedding, norms, attention with rope and GQA, MLP, LM head, LoRA A and B),
//! and the LoRA-B gradient equals the full weight gradient projected by A (PAPER.md §4 step 3).

#![cfg(feature = "lm")]

mod common;

use candle_core::{Device, Tensor};
use common::{check_finite_differences, check_lora_b_is_projected_gradient, random_model, randomise_lora_b, scalar};
use dataeff::model::CausalLm;
use dataeff::model::llama::Llama;
use dataeff::model::lora::{LoraConfig, attach};
use dataeff::model::{Architecture, ModelConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn ids() -> Tensor {
    Tensor::new(&[[3u32, 17, 5, 30, 2, 11, 8], [1, 4, 4, 22, 36, 0, 9]], &Device::Cpu).unwrap()
}

#[test]
fn backward_matches_finite_differences_on_every_kind_of_weight() {
    let mut cfg = ModelConfig::tiny(Architecture::Llama);
    cfg.tie_word_embeddings = false;
    let (weights, base_vars) = random_model(&cfg, 1);
    let mut model = Llama::new(&cfg, &weights).unwrap();
    let lora = LoraConfig { rank: 4, alpha: 8.0, dropout: 0.0, ..LoraConfig::default() };
    let lora_vars = attach(&mut model, &lora, 7).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    randomise_lora_b(&lora_vars, &mut rng);
    let vars: Vec<_> = base_vars.iter().chain(&lora_vars).cloned().collect();
    let (checked, worst, _) = check_finite_differences(&model, &ids(), &vars, &mut rng);
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
    let compared = check_lora_b_is_projected_gradient(&model, &ids(), &base_vars, &lora_vars, &lora);
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
