//! What the gradient tests of both architectures share: random tiny models whose weights are
//! variables, the next-token loss, and the two checks every architecture must pass (backward
//! against central finite differences; LoRA-B gradient = weight gradient projected by A).

#![allow(dead_code)] // each test binary uses its own subset

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::loss::cross_entropy;
use dataeff::model::lora::LoraConfig;
use dataeff::model::{Architecture, CausalLm, ModelConfig, Weights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Random f64 weights as variables: matrices uniform in ±0.5, norm weights within ±0.2 of their
/// neutral value (1 for Llama's `x·w`, 0 for Gemma's `x·(1 + w)`).
pub fn random_model(cfg: &ModelConfig, seed: u64) -> (Weights, Vec<(String, Var)>) {
    let neutral_norm = match cfg.architecture {
        Architecture::Llama => 1.0,
        Architecture::Gemma3 => 0.0,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut weights = Weights::default();
    let mut vars = Vec::new();
    for (name, shape) in dataeff::model::weight_shapes(cfg) {
        let n: usize = shape.iter().product();
        let (center, bound) = if name.ends_with("norm.weight") { (neutral_norm, 0.2) } else { (0.0, 0.5) };
        let values: Vec<f64> = (0..n).map(|_| center + rng.random_range(-bound..bound)).collect();
        let var = Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu).unwrap()).unwrap();
        weights.tensors.insert(name.clone(), var.as_tensor().clone());
        vars.push((name, var));
    }
    (weights, vars)
}

/// Mean next-token cross-entropy over every position of every sequence of `ids` (B, T).
pub fn loss(model: &dyn CausalLm, ids: &Tensor) -> Tensor {
    let (b, t) = ids.dims2().unwrap();
    let h = model.hidden_states(&ids.narrow(1, 0, t - 1).unwrap()).unwrap();
    let logits = model.logits(&h).unwrap().reshape((b * (t - 1), model.config().vocab_size)).unwrap();
    cross_entropy(&logits, &ids.narrow(1, 1, t - 1).unwrap().flatten_all().unwrap()).unwrap()
}

pub fn scalar(t: &Tensor) -> f64 {
    t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    scalar(&(a - b).unwrap().abs().unwrap().max_all().unwrap())
}

/// Give every LoRA B values in ±0.3 so that A receives a gradient too.
pub fn randomise_lora_b(lora_vars: &[(String, Var)], rng: &mut ChaCha8Rng) {
    for (name, var) in lora_vars {
        if name.ends_with("lora_B") {
            let v: Vec<f64> = (0..var.elem_count()).map(|_| rng.random_range(-0.3..0.3)).collect();
            var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap()).unwrap();
        }
    }
}

/// Backward against central finite differences on 3 random entries of every variable:
/// asserts a relative error ≤ 1e-3 for each and returns (entries checked, worst error, where).
pub fn check_finite_differences(model: &dyn CausalLm, ids: &Tensor, vars: &[(String, Var)], rng: &mut ChaCha8Rng) -> (usize, f64, String) {
    let grads = loss(model, ids).backward().unwrap();
    let mut checked = 0;
    let mut worst = (0.0f64, String::new());
    for (name, var) in vars {
        let grad = grads.get(var).unwrap_or_else(|| panic!("{name} got no gradient")).flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let original = var.flatten_all().unwrap().to_vec1::<f64>().unwrap();
        for _ in 0..3 {
            let i = rng.random_range(0..var.elem_count());
            let eps = 1e-5;
            let shifted = |delta: f64| {
                let mut v = original.clone();
                v[i] += delta;
                var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap()).unwrap();
                scalar(&loss(model, ids))
            };
            let fd = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
            var.set(&Tensor::from_vec(original.clone(), var.shape(), &Device::Cpu).unwrap()).unwrap();
            let rel = (fd - grad[i]).abs() / fd.abs().max(grad[i].abs()).max(1e-6);
            if rel > worst.0 {
                worst = (rel, format!("{name}[{i}]"));
            }
            assert!(rel <= 1e-3, "{name}[{i}]: backward {} vs finite difference {fd} (rel {rel:.2e})", grad[i]);
            checked += 1;
        }
    }
    (checked, worst.0, worst.1)
}

/// With B = 0, every adapter's B gradient equals (α/r)·∂L/∂W·Aᵀ (to 1e-12 relative) and A gets
/// none. Returns how many adapters were compared.
pub fn check_lora_b_is_projected_gradient(
    model: &dyn CausalLm,
    ids: &Tensor,
    base_vars: &[(String, Var)],
    lora_vars: &[(String, Var)],
    lora: &LoraConfig,
) -> usize {
    let grads = loss(model, ids).backward().unwrap();
    let scale = lora.alpha / lora.rank as f64;
    let mut compared = 0;
    for (name, b) in lora_vars.iter().filter(|(n, _)| n.ends_with("lora_B")) {
        let base = name.trim_end_matches(".lora_B").to_string() + ".weight";
        let a = &lora_vars.iter().find(|(n, _)| *n == name.replace("lora_B", "lora_A")).unwrap().1;
        let w = &base_vars.iter().find(|(n, _)| *n == base).unwrap().1;
        let projected = (grads.get(w).unwrap().matmul(&a.as_tensor().t().unwrap()).unwrap() * scale).unwrap();
        let diff = max_abs_diff(grads.get(b).unwrap(), &projected);
        let size = scalar(&projected.abs().unwrap().max_all().unwrap());
        assert!(size > 0.0 && diff <= 1e-12 * size.max(1.0), "{name}: max |Δ| {diff} (max |grad| {size})");
        // With B = 0 the adapter has no effect yet, so A gets no gradient.
        let grad_a = grads.get(a).map(|g| scalar(&g.abs().unwrap().max_all().unwrap())).unwrap_or(0.0);
        assert_eq!(grad_a, 0.0, "{name}");
        compared += 1;
    }
    compared
}

// ---- a tiny HF checkpoint with a template of its own ----

/// Not a template of ours: its own turn markers, Python's `.strip()`, BOS, `raise_exception`.
pub const TINY_TEMPLATE: &str = "{{ bos_token }}{% for message in messages %}\
{% if message['role'] == 'user' %}{{ '<|user|>' + message['content'].strip() + '\n' }}\
{% elif message['role'] == 'assistant' %}{{ '<|bot|>' + message['content'] + '<|end|>\n' }}\
{% else %}{{ raise_exception('Only user and assistant roles are supported') }}{% endif %}\
{% endfor %}{% if add_generation_prompt %}{{ '<|bot|>' }}{% endif %}";

pub const SPECIALS: [&str; 5] = ["<s>", "</s>", "<|user|>", "<|bot|>", "<|end|>"];

/// A tiny random Llama as an HF directory: `config.json`, `model.safetensors`, a byte-level
/// `tokenizer.json` (every byte a token, no merges, [`SPECIALS`] added), and
/// `tokenizer_config.json` with `chat_template` (left out when `None`).
pub fn tiny_checkpoint(chat_template: Option<&str>) -> tempfile::TempDir {
    tiny_checkpoint_with(chat_template, ModelConfig::tiny(Architecture::Llama).max_position_embeddings, 7)
}

/// [`tiny_checkpoint`] with a context of `context` positions and weights drawn with `seed`.
pub fn tiny_checkpoint_with(chat_template: Option<&str>, context: usize, seed: u64) -> tempfile::TempDir {
    use tokenizers::models::bpe::{BPE, Vocab};
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    use tokenizers::{AddedToken, Tokenizer};

    let dir = tempfile::tempdir().unwrap();
    let mut alphabet: Vec<char> = ByteLevel::alphabet().into_iter().collect();
    alphabet.sort();
    let vocab: Vocab = alphabet.iter().enumerate().map(|(id, c)| (c.to_string(), id as u32)).collect();
    let bpe = BPE::builder().vocab_and_merges(vocab, vec![]).build().unwrap();
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(ByteLevel::new(false, false, false)));
    tokenizer.with_decoder(Some(ByteLevel::default()));
    tokenizer.add_special_tokens(SPECIALS.map(|s| AddedToken::from(s, true))).unwrap();
    tokenizer.save(dir.path().join("tokenizer.json"), false).unwrap();

    let mut config = serde_json::json!({"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true});
    if let Some(template) = chat_template {
        config["chat_template"] = template.into();
    }
    std::fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).unwrap();

    let cfg = ModelConfig { vocab_size: alphabet.len() + SPECIALS.len(), max_position_embeddings: context, ..ModelConfig::tiny(Architecture::Llama) };
    let config_json = serde_json::json!({
        "model_type": "llama", "vocab_size": cfg.vocab_size, "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size, "num_hidden_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_heads, "num_key_value_heads": cfg.num_kv_heads, "head_dim": cfg.head_dim,
        "rms_norm_eps": cfg.rms_norm_eps, "rope_theta": cfg.rope_theta,
        "max_position_embeddings": cfg.max_position_embeddings, "tie_word_embeddings": cfg.tie_word_embeddings,
    });
    std::fs::write(dir.path().join("config.json"), config_json.to_string()).unwrap();
    let (weights, _) = random_model(&cfg, seed);
    candle_core::safetensors::save(&weights.tensors, dir.path().join("model.safetensors")).unwrap();
    dir
}


// ---- a sweep profile for tests ----

/// The quick profile, smaller still (a tiny model learns nothing; only the mechanics count), with
/// `max_steps` optimiser steps, written to `dir/test-<max_steps>.toml`.
pub fn test_profile(dir: &std::path::Path, max_steps: usize) -> std::path::PathBuf {
    let quick = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/profiles/quick.toml")).unwrap();
    let text = quick
        .replace("name = \"quick\"", "name = \"test\"")
        .replace("test_examples = 16", "test_examples = 6")
        .replace("pool_examples = 40", "pool_examples = 30")
        .replace("max_steps = 6", &format!("max_steps = {max_steps}"))
        .replace("k = 4", "k = 2");
    assert_ne!(text, quick, "data/profiles/quick.toml no longer has the values the test profile replaces");
    let path = dir.join(format!("test-{max_steps}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

// ---- the BIG-bench data, which PyPI no longer serves ----

/// Whether the BIG-bench 1.0.0 files are in the cache (`dataeff::tasks::cache::bigbench_available`).
/// When they are not, prints `SKIPPED <test>: BIG-bench 1.0.0 data not in the cache (...)` on
/// stderr and returns false: the test should return. PyPI no longer serves bigbench 1.0.0, so
/// `cargo xtask fetch-data` cannot fetch it (data/SOURCES.md); CI has no copy either, so this is
/// a skip there too.
pub fn bigbench_or_skip(test: &str) -> bool {
    let cache = dataeff::provenance::cache_dir();
    if dataeff::tasks::cache::bigbench_available(&cache) {
        return true;
    }
    let dir = dataeff::provenance::registry::BIGBENCH.dir(&cache);
    eprintln!(
        "SKIPPED {test}: BIG-bench 1.0.0 data not in the cache ({} is not a complete extraction; PyPI no longer \
         serves bigbench 1.0.0: see data/SOURCES.md to supply it by hand)",
        dir.display()
    );
    false
}
