//! The differentiable Gemma 3 on tiny random models (f64). The tiny config has a window of 3 and
//! pattern 2 (layer 0 local, layer 1 global), and the sequences are longer than the window, so
//! both layer kinds and the window mask are exercised: backward matches finite differences on
//! every weight and on LoRA A and B, the KV cache reproduces a full pass, the window hides exactly
//! the positions it should, and the LoRA-B gradient is the weight gradient projected by A.

#![cfg(feature = "lm")]

mod common;

use candle_core::{DType, Device, IndexOp, Tensor};
use common::{check_finite_differences, check_lora_b_is_projected_gradient, max_abs_diff, random_model, randomise_lora_b};
use dataeff::model::gemma3::Gemma3;
use dataeff::model::lora::{LoraConfig, attach};
use dataeff::model::{Architecture, CausalLm, KvCache, ModelConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Two sequences of 9 tokens, three times the tiny window.
fn ids() -> Tensor {
    Tensor::new(&[[3u32, 17, 5, 30, 2, 11, 8, 26, 14], [1, 4, 4, 22, 36, 0, 9, 9, 33]], &Device::Cpu).unwrap()
}

#[test]
fn tiny_config_has_both_layer_kinds_and_short_window() {
    let cfg = ModelConfig::tiny(Architecture::Gemma3);
    assert!(cfg.is_local_layer(0) && !cfg.is_local_layer(1));
    assert!(cfg.sliding_window.unwrap() < ids().dim(1).unwrap());
}

#[test]
fn backward_matches_finite_differences_on_every_weight() {
    let cfg = ModelConfig::tiny(Architecture::Gemma3);
    let (weights, base_vars) = random_model(&cfg, 1);
    let mut model = Gemma3::new(&cfg, &weights).unwrap();
    let lora = LoraConfig { rank: 4, alpha: 8.0, dropout: 0.0, ..LoraConfig::default() };
    let lora_vars = attach(&mut model, &lora, 7).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    randomise_lora_b(&lora_vars, &mut rng);
    let vars: Vec<_> = base_vars.iter().chain(&lora_vars).cloned().collect();
    let (checked, worst, at) = check_finite_differences(&model, &ids(), &vars, &mut rng);
    // candle's gelu backward uses 6-digit constants (0.797885, …), so gradients carry a relative
    // error of ~1e-6 (exact ops elsewhere give ~1e-8); small entries show it most.
    eprintln!("checked {checked} entries, worst relative error {worst:.2e} at {at}");
    // 13 weights per layer + embedding + final norm; 7 adapters per layer with A and B.
    assert_eq!(base_vars.len(), 13 * cfg.num_layers + 2);
    assert_eq!(lora_vars.len(), 2 * 7 * cfg.num_layers);
    assert_eq!(checked, 3 * (base_vars.len() + lora_vars.len()));
}

/// Feeding sequences in pieces through the KV cache — 3, 1 and 3 tokens, then one at a time well
/// past the window — gives the same hidden states as one full pass.
#[test]
fn kv_cache_matches_a_full_pass() {
    let cfg = ModelConfig::tiny(Architecture::Gemma3);
    let (weights, _) = random_model(&cfg, 4);
    let model = Gemma3::new(&cfg, &weights).unwrap();
    let ids = ids();
    let t = ids.dim(1).unwrap();
    let full = model.hidden_states(&ids).unwrap();
    let mut cache = KvCache::new(cfg.num_layers);
    let mut pieces = vec![(0, 3), (3, 1), (4, 3)];
    pieces.extend((7..t).map(|s| (s, 1)));
    let mut outputs = Vec::new();
    for (start, len) in pieces {
        outputs.push(model.forward(&ids.narrow(1, start, len).unwrap(), Some(&mut cache)).unwrap());
    }
    assert_eq!(cache.len(), t);
    let diff = max_abs_diff(&full, &Tensor::cat(&outputs, 1).unwrap());
    assert!(diff < 1e-12, "max |Δ| {diff}");
}

/// Hidden state of the last position, from a full pass or token by token through the KV cache.
fn last_hidden(model: &Gemma3, ids: &[u32], stepped: bool) -> Tensor {
    let ids = Tensor::new(ids, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let t = ids.dim(1).unwrap();
    let h = if stepped {
        let mut cache = KvCache::new(model.config().num_layers);
        (0..t).map(|s| model.forward(&ids.narrow(1, s, 1).unwrap(), Some(&mut cache)).unwrap()).last().unwrap()
    } else {
        model.hidden_states(&ids).unwrap()
    };
    h.i((0, h.dim(1).unwrap() - 1)).unwrap()
}

/// In a model of `layers` local layers with window w, the last position q sees tokens back to
/// q − layers·(w − 1) and no further: changing any earlier token leaves its output exactly as it
/// was, changing the oldest visible one does not. With the window mask dropped (the same weights
/// as an all-global model) the far tokens do matter, so the first check would catch it.
#[test]
fn sliding_window_hides_exactly_the_positions_outside_it() {
    let base: Vec<u32> = vec![3, 17, 5, 30, 2, 11, 8, 26, 14, 20, 6];
    let q = base.len() - 1;
    for layers in [1, 2] {
        let mut cfg = ModelConfig::tiny(Architecture::Gemma3);
        cfg.num_layers = layers;
        cfg.sliding_window_pattern = layers + 1; // every layer local
        let w = cfg.sliding_window.unwrap();
        assert!((0..layers).all(|l| cfg.is_local_layer(l)));
        let (weights, _) = random_model(&cfg, 5);
        let local = Gemma3::new(&cfg, &weights).unwrap();
        let global = Gemma3::new(&ModelConfig { sliding_window: None, ..cfg.clone() }, &weights).unwrap();
        let oldest_visible = q - layers * (w - 1);
        let changed = |p: usize| {
            let mut ids = base.clone();
            ids[p] = (ids[p] + 1) % cfg.vocab_size as u32;
            ids
        };
        for stepped in [false, true] {
            let reference = last_hidden(&local, &base, stepped);
            for p in 0..oldest_visible {
                let diff = max_abs_diff(&reference, &last_hidden(&local, &changed(p), stepped));
                assert!(diff <= 1e-12, "{layers} local layer(s), stepped {stepped}: token {p} is outside the window of {q} but moves it by {diff}");
            }
            let diff = max_abs_diff(&reference, &last_hidden(&local, &changed(oldest_visible), stepped));
            assert!(diff > 1e-6, "{layers} local layer(s), stepped {stepped}: token {oldest_visible} is inside the window of {q} but moves it by {diff}");
        }
        // Without the window the same change of the first token is visible at q.
        let diff = max_abs_diff(&last_hidden(&global, &base, false), &last_hidden(&global, &changed(0), false));
        assert!(diff > 1e-6, "all-global model: the first token moves position {q} by only {diff}");
    }
}

#[test]
fn lora_b_gradient_is_the_weight_gradient_projected_by_a() {
    let cfg = ModelConfig::tiny(Architecture::Gemma3);
    let (weights, base_vars) = random_model(&cfg, 2);
    let mut model = Gemma3::new(&cfg, &weights).unwrap();
    let lora = LoraConfig { rank: 3, alpha: 6.0, dropout: 0.0, ..LoraConfig::default() };
    let lora_vars = attach(&mut model, &lora, 11).unwrap();
    let compared = check_lora_b_is_projected_gradient(&model, &ids(), &base_vars, &lora_vars, &lora);
    assert_eq!(compared, 7 * cfg.num_layers);
}

#[test]
fn missing_or_misshapen_weight_is_named_with_its_source() {
    let cfg = ModelConfig::tiny(Architecture::Gemma3);
    let (mut weights, _) = random_model(&cfg, 3);
    weights.source = "tiny.gguf".into();
    let mut missing = weights.clone();
    missing.tensors.remove("model.layers.1.self_attn.k_norm.weight");
    let err = Gemma3::new(&cfg, &missing).err().unwrap().to_string();
    assert!(err.contains("model.layers.1.self_attn.k_norm.weight") && err.contains("tiny.gguf"), "{err}");

    let name = "model.layers.0.pre_feedforward_layernorm.weight";
    weights.tensors.insert(name.into(), Tensor::zeros(cfg.hidden_size + 1, DType::F64, &Device::Cpu).unwrap());
    let err = Gemma3::new(&cfg, &weights).err().unwrap().to_string();
    assert!(err.contains(name) && err.contains("tiny.gguf") && err.contains(&format!("[{}]", cfg.hidden_size)), "{err}");
}
