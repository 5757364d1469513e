//! Loading models: the two registry GGUFs give the configurations and HF-named, HF-laid-out
//! weights we expect (q/k rows unpermuted for Llama — checked against candle-transformers'
//! interleaved-rope model —, Gemma's norm offset removed), and malformed files are named in errors.
//!
//! The real files come from `cargo xtask fetch-model`; each is loaded once per test binary.

#![cfg(feature = "lm")]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::OnceLock;

use candle_core::quantized::gguf_file::{self, Content};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{D, DType, Device, IndexOp, Tensor};
use candle_transformers::models::quantized_llama;
use dataeff::model::gguf::{self, GgufFile};
use dataeff::model::llama::{self, Llama};
use dataeff::model::resolve::locate;
use dataeff::model::{Architecture, CausalLm, ModelConfig, Weights};

const SMOLLM2: &str = "smollm2-135m-instruct";
const GEMMA: &str = "gemma-3-270m";

/// SmolLM2 loaded once (f32: the precision of candle-transformers' model it is compared with).
fn smollm2() -> &'static (ModelConfig, Weights) {
    static MODEL: OnceLock<(ModelConfig, Weights)> = OnceLock::new();
    MODEL.get_or_init(|| gguf::load(&locate(SMOLLM2).unwrap(), DType::F32, &Device::Cpu).unwrap())
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
}

fn shapes(weights: &Weights) -> BTreeMap<String, Vec<usize>> {
    weights.tensors.iter().map(|(name, t)| (name.clone(), t.dims().to_vec())).collect()
}

#[test]
fn smollm2_config_from_metadata() {
    let cfg = gguf::read_config(&locate(SMOLLM2).unwrap()).unwrap();
    let expected = ModelConfig {
        architecture: Architecture::Llama,
        vocab_size: 49_152,
        hidden_size: 576,
        intermediate_size: 1536,
        num_layers: 30,
        num_heads: 9,
        num_kv_heads: 3,
        head_dim: 64,
        rms_norm_eps: 1e-5,
        rope_theta: 100_000.0,
        max_position_embeddings: 8192,
        tie_word_embeddings: true,
        rope_local_theta: 100_000.0,
        sliding_window: None,
        sliding_window_pattern: 1,
        query_pre_attn_scalar: 64.0,
    };
    assert_eq!(cfg, expected);
}

#[test]
fn gemma_config_from_metadata() {
    let cfg = gguf::read_config(&locate(GEMMA).unwrap()).unwrap();
    let expected = ModelConfig {
        architecture: Architecture::Gemma3,
        vocab_size: 262_144,
        hidden_size: 640,
        intermediate_size: 2048,
        num_layers: 18,
        num_heads: 4,
        num_kv_heads: 1,
        head_dim: 256,
        rms_norm_eps: 1e-6,
        rope_theta: 1_000_000.0,
        max_position_embeddings: 32_768,
        tie_word_embeddings: true,
        rope_local_theta: 10_000.0,
        sliding_window: Some(512),
        sliding_window_pattern: 6,
        query_pre_attn_scalar: 256.0,
    };
    assert_eq!(cfg, expected);
    // Layers 6, 12 and 18 (1-based) are global, the others local: HF's `layer_types` for this model.
    let global: Vec<usize> = (0..cfg.num_layers).filter(|&i| !cfg.is_local_layer(i)).collect();
    assert_eq!(global, [5, 11, 17]);
}

#[test]
fn smollm2_weights_are_exactly_the_llama_list() {
    let (cfg, weights) = smollm2();
    let expected: BTreeMap<String, Vec<usize>> = llama::weight_shapes(cfg).into_iter().collect();
    assert_eq!(expected.len(), 1 + 9 * 30 + 1);
    assert_eq!(shapes(weights), expected);
    assert!(weights.tensors.values().all(|t| t.dtype() == DType::F32));
}

/// The weights of an HF Gemma 3 text model (`Gemma3ForCausalLM`, tied embeddings), written
/// from HF's module names.
fn hf_gemma3_shapes(cfg: &ModelConfig) -> BTreeMap<String, Vec<usize>> {
    let (h, i, hd) = (cfg.hidden_size, cfg.intermediate_size, cfg.head_dim);
    let mut out = BTreeMap::new();
    out.insert("model.embed_tokens.weight".to_string(), vec![cfg.vocab_size, h]);
    out.insert("model.norm.weight".to_string(), vec![h]);
    for l in 0..cfg.num_layers {
        let p = format!("model.layers.{l}");
        for (name, shape) in [
            ("input_layernorm", vec![h]),
            ("self_attn.q_proj", vec![cfg.num_heads * hd, h]),
            ("self_attn.k_proj", vec![cfg.num_kv_heads * hd, h]),
            ("self_attn.v_proj", vec![cfg.num_kv_heads * hd, h]),
            ("self_attn.o_proj", vec![h, cfg.num_heads * hd]),
            ("self_attn.q_norm", vec![hd]),
            ("self_attn.k_norm", vec![hd]),
            ("post_attention_layernorm", vec![h]),
            ("pre_feedforward_layernorm", vec![h]),
            ("post_feedforward_layernorm", vec![h]),
            ("mlp.gate_proj", vec![i, h]),
            ("mlp.up_proj", vec![i, h]),
            ("mlp.down_proj", vec![h, i]),
        ] {
            out.insert(format!("{p}.{name}.weight"), shape);
        }
    }
    out
}

/// Gemma: names and shapes are HF's, and every norm weight is the stored value minus 1 while
/// every other tensor is the stored value.
#[test]
fn gemma_weights_have_hf_names_and_norms_without_the_offset() {
    let path = locate(GEMMA).unwrap();
    let (cfg, weights) = gguf::load(&path, DType::F32, &Device::Cpu).unwrap();
    assert_eq!(shapes(&weights), hf_gemma3_shapes(&cfg));

    let mut file = GgufFile::open(&path).unwrap();
    let norms: Vec<String> = file.tensor_names().into_iter().filter(|n| n.ends_with("norm.weight")).map(str::to_string).collect();
    assert_eq!(norms.len(), 1 + 6 * cfg.num_layers);
    for name in &norms {
        let stored = file.raw_tensor(name, &Device::Cpu).unwrap();
        let loaded = weights.get(&gguf::hf_name(name, Architecture::Gemma3).unwrap()).unwrap();
        assert_eq!(max_abs_diff(loaded, &(stored - 1.0).unwrap()), 0.0, "{name}");
    }
    // A non-norm tensor is untouched.
    let stored = file.raw_tensor("blk.3.attn_q.weight", &Device::Cpu).unwrap();
    assert_eq!(max_abs_diff(weights.get("model.layers.3.self_attn.q_proj.weight").unwrap(), &stored), 0.0);
    // The offset is real: stored final-norm weights are far from 0 (HF's trained w are ~ stored − 1).
    let stored = file.raw_tensor("output_norm.weight", &Device::Cpu).unwrap();
    let mean = stored.mean_all().unwrap().to_scalar::<f32>().unwrap();
    assert!(mean > 1.0, "mean stored final norm weight {mean}");
}

/// Ids of single tokens given by their strings in the GGUF vocabulary (byte-level BPE: `Ġ` is a
/// leading space).
fn token_ids(file: &GgufFile, tokens: &[&str]) -> Vec<u32> {
    let vocab = file.metadata().get("tokenizer.ggml.tokens").unwrap().to_vec().unwrap();
    let index: std::collections::HashMap<&str, u32> =
        vocab.iter().enumerate().map(|(i, t)| (t.to_string().unwrap().as_str(), i as u32)).collect();
    tokens.iter().map(|t| *index.get(t).unwrap_or_else(|| panic!("`{t}` is not one token"))).collect()
}

/// The GGUF file rewritten with every tensor as plain f32 (the same dequantised values we load),
/// so that candle-transformers' model computes in f32 like ours instead of quantising its
/// activations to 8 bits for the quantised matmuls: the comparison then isolates the layout.
fn f32_gguf(file: &mut GgufFile) -> Vec<u8> {
    let names: Vec<String> = file.tensor_names().into_iter().map(str::to_string).collect();
    let tensors: Vec<(String, QTensor)> = names
        .iter()
        .map(|n| (n.clone(), QTensor::quantize(&file.raw_tensor(n, &Device::Cpu).unwrap(), GgmlDType::F32).unwrap()))
        .collect();
    let metadata: Vec<(&str, &gguf_file::Value)> = file.content().metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut out = Cursor::new(Vec::new());
    gguf_file::write(&mut out, &metadata, &tensor_refs).unwrap();
    out.into_inner()
}

/// Our rotate-half Llama on the unpermuted q/k weights computes the same logits as
/// candle-transformers' quantized_llama, which applies interleaved rope to the weights as stored.
/// A wrong (or missing) unpermutation scrambles every query and key, so attention and hence the
/// logits change at every position after the first.
#[test]
fn smollm2_unpermuted_weights_match_interleaved_rope_reference() {
    let (cfg, weights) = smollm2();
    let ours = Llama::new(cfg, weights).unwrap();
    let mut file = GgufFile::open(&locate(SMOLLM2).unwrap()).unwrap();
    let sentences: [&[&str]; 3] = [
        &["The", "Ġcapital", "Ġof", "ĠFrance", "Ġis", "ĠParis", ".", "ĠThe", "Ġcapital", "Ġof", "ĠGermany", "Ġis", "ĠBerlin", ".", "ĠThe", "Ġcapital", "Ġof", "ĠItaly", "Ġis", "ĠRome", ".", "ĠThe", "Ġcapital", "Ġof", "ĠSpain", "Ġis"],
        &["Monday", ",", "ĠTuesday", ",", "ĠWednesday", ",", "ĠThursday", ",", "ĠFriday", ".", "ĠJanuary", ",", "ĠFebruary", ",", "ĠMarch", ",", "ĠApril", ",", "ĠMay", ",", "ĠJune", ","],
        &["Once", "Ġupon", "Ġa", "Ġtime", ",", "Ġthere", "Ġwas", "Ġa", "Ġlittle", "Ġgirl", "Ġwho", "Ġlived", "Ġin", "Ġa", "Ġsmall", "Ġhouse", "Ġnear", "Ġthe", "Ġforest", ".", "ĠShe"],
    ];
    let bytes = f32_gguf(&mut file);
    let mut reader = Cursor::new(bytes);
    let content = Content::read(&mut reader).unwrap();
    let mut reference = quantized_llama::ModelWeights::from_gguf(content, &mut reader, &Device::Cpu).unwrap();

    let mut worst: f64 = 0.0;
    let mut positions = 0;
    for tokens in sentences {
        let ids = token_ids(&file, tokens);
        let input = Tensor::new(ids.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let logits = ours.logits(&ours.hidden_states(&input).unwrap()).unwrap().squeeze(0).unwrap();
        // The reference returns the last position's logits only: feed one token at a time
        // through its KV cache.
        reference.clear_kv_cache();
        for (pos, &id) in ids.iter().enumerate() {
            let step = Tensor::new(&[[id]], &Device::Cpu).unwrap();
            let expected = reference.forward(&step, pos).unwrap().squeeze(0).unwrap();
            let got = logits.i(pos).unwrap();
            let diff = max_abs_diff(&got, &expected);
            worst = worst.max(diff);
            let argmax = |t: &Tensor| t.argmax(D::Minus1).unwrap().to_scalar::<u32>().unwrap();
            assert_eq!(argmax(&got), argmax(&expected), "sentence {tokens:?}, position {pos}");
            positions += 1;
        }
    }
    eprintln!("max |Δ logit| over {positions} positions: {worst:.3e}");
    // Both compute in f32 on identical weights and differ only in the order of operations (rope
    // variant, fused vs explicit norm and softmax, one pass vs a KV cache): rounding differences
    // across 30 layers, measured 8.1e-5. A layout error changes the argmax from position 1 on
    // (checked by skipping the q unpermutation).
    assert!(worst < 1e-3, "max |Δ logit| {worst}");
}

/// The unpermutation is the inverse of llama.cpp's permutation (a small case written out).
#[test]
fn unpermute_inverts_the_converter_permutation() {
    // One head of dimension 4 over one input column: HF rows [a0, a1, b0, b1] (halves a, b pair
    // up as (a0, b0), (a1, b1)); llama.cpp stores them interleaved as [a0, b0, a1, b1].
    let stored = Tensor::new(&[[0f32], [2.], [1.], [3.], [10.], [12.], [11.], [13.]], &Device::Cpu).unwrap();
    let hf = gguf::unpermute_rope_rows(&stored, 2).unwrap();
    assert_eq!(hf.flatten_all().unwrap().to_vec1::<f32>().unwrap(), [0., 1., 2., 3., 10., 11., 12., 13.]);
    let bias = Tensor::new(&[0f32, 2., 1., 3.], &Device::Cpu).unwrap();
    assert_eq!(gguf::unpermute_rope_rows(&bias, 1).unwrap().to_vec1::<f32>().unwrap(), [0., 1., 2., 3.]);
}

#[test]
fn gguf_name_mapping_per_architecture() {
    use Architecture::{Gemma3, Llama};
    let cases = [
        ("token_embd.weight", Llama, Some("model.embed_tokens.weight")),
        ("output.weight", Llama, Some("lm_head.weight")),
        ("output_norm.weight", Gemma3, Some("model.norm.weight")),
        ("blk.12.attn_q.weight", Llama, Some("model.layers.12.self_attn.q_proj.weight")),
        ("blk.0.attn_q.bias", Llama, Some("model.layers.0.self_attn.q_proj.bias")),
        ("blk.1.attn_output.weight", Gemma3, Some("model.layers.1.self_attn.o_proj.weight")),
        ("blk.1.ffn_norm.weight", Llama, Some("model.layers.1.post_attention_layernorm.weight")),
        ("blk.1.ffn_norm.weight", Gemma3, Some("model.layers.1.pre_feedforward_layernorm.weight")),
        ("blk.2.post_attention_norm.weight", Gemma3, Some("model.layers.2.post_attention_layernorm.weight")),
        ("blk.2.post_ffw_norm.weight", Gemma3, Some("model.layers.2.post_feedforward_layernorm.weight")),
        ("blk.2.attn_k_norm.weight", Gemma3, Some("model.layers.2.self_attn.k_norm.weight")),
        ("blk.2.ffn_down.weight", Gemma3, Some("model.layers.2.mlp.down_proj.weight")),
        ("blk.2.attn_k_norm.weight", Llama, None),
        ("rope_freqs.weight", Llama, None),
        ("blk.x.attn_q.weight", Llama, None),
    ];
    for (gguf_name, arch, hf) in cases {
        assert_eq!(gguf::hf_name(gguf_name, arch).as_deref(), hf, "{gguf_name} ({arch:?})");
    }
}

// ---- malformed files ----

fn error_of<T>(result: anyhow::Result<T>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn not_a_gguf_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.gguf");
    std::fs::write(&path, b"PK\x03\x04 this is a zip").unwrap();
    let err = error_of(gguf::read_config(&path));
    assert!(err.contains(&path.display().to_string()) && err.contains("not a GGUF file") && err.contains("\"GGUF\""), "{err}");
    std::fs::write(&path, b"GG").unwrap();
    let err = error_of(gguf::read_config(&path));
    assert!(err.contains(&path.display().to_string()) && err.contains("not a GGUF file"), "{err}");
}

#[test]
fn truncated_gguf_is_named() {
    let source = locate(SMOLLM2).unwrap();
    let bytes = std::fs::read(&source).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Cut inside the header (in the token list) and inside the tensor data.
    for (cut, what) in [(100_000, "header"), (bytes.len() - 1000, "tensor")] {
        let path = dir.path().join(format!("cut-{cut}.gguf"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = error_of(gguf::load(&path, DType::F32, &Device::Cpu));
        assert!(err.contains(&path.display().to_string()) && err.contains(what), "{err}");
    }
}

/// A tiny GGUF with the given metadata and one f32 embedding tensor.
fn write_gguf(path: &std::path::Path, metadata: &[(&str, gguf_file::Value)], vocab: usize, hidden: usize) {
    let embed = QTensor::quantize(&Tensor::zeros((vocab, hidden), DType::F32, &Device::Cpu).unwrap(), GgmlDType::F32).unwrap();
    let meta: Vec<(&str, &gguf_file::Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let mut file = std::fs::File::create(path).unwrap();
    gguf_file::write(&mut file, &meta, &[("token_embd.weight", &embed)]).unwrap();
}

#[test]
fn metadata_errors_name_the_file_key_and_type() {
    use gguf_file::Value::{F32, String as S, U32};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    let file = path.display().to_string();
    let arch = |a: &str| ("general.architecture", S(a.to_string()));
    let complete = vec![
        arch("llama"),
        ("llama.embedding_length", U32(16)),
        ("llama.block_count", U32(2)),
        ("llama.attention.head_count", U32(4)),
        ("llama.attention.head_count_kv", U32(2)),
        ("llama.attention.layer_norm_rms_epsilon", F32(1e-6)),
        ("llama.rope.freq_base", F32(10_000.0)),
        ("llama.feed_forward_length", U32(24)),
        ("llama.context_length", U32(64)),
    ];
    write_gguf(&path, &complete, 37, 16);
    let cfg = gguf::read_config(&path).unwrap();
    assert_eq!((cfg.vocab_size, cfg.head_dim, cfg.num_kv_heads, cfg.rms_norm_eps), (37, 4, 2, 1e-6));

    let without: Vec<_> = complete.iter().filter(|(k, _)| *k != "llama.block_count").cloned().collect();
    write_gguf(&path, &without, 37, 16);
    let err = error_of(gguf::read_config(&path));
    assert!(err.contains(&file) && err.contains("`llama.block_count` is missing") && err.contains("unsigned integer"), "{err}");

    let mut mistyped = complete.clone();
    mistyped[1] = ("llama.embedding_length", S("576".into()));
    write_gguf(&path, &mistyped, 37, 16);
    let err = error_of(gguf::read_config(&path));
    assert!(err.contains(&file) && err.contains("`llama.embedding_length`") && err.contains("String") && err.contains("unsigned integer"), "{err}");

    let mut other = complete.clone();
    other[0] = arch("phi3");
    write_gguf(&path, &other, 37, 16);
    let err = error_of(gguf::read_config(&path));
    assert!(err.contains(&file) && err.contains("`phi3`") && err.contains("llama, gemma3"), "{err}");
}

// ---- Hugging Face directories ----

use dataeff::model::hf_dir;
use serde_json::json;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs").join(name)
}

/// SmolLM2 cut to its first two layers, and the `config.json` HF would write for it.
fn two_layer_smollm2() -> (ModelConfig, Weights, serde_json::Value) {
    let (cfg, weights) = smollm2();
    let cfg = ModelConfig { num_layers: 2, ..cfg.clone() };
    let tensors = llama::weight_shapes(&cfg).into_iter().map(|(n, _)| (n.clone(), weights.get(&n).unwrap().clone())).collect();
    let config_json = json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": 49152,
        "hidden_size": 576,
        "intermediate_size": 1536,
        "num_hidden_layers": 2,
        "num_attention_heads": 9,
        "num_key_value_heads": 3,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-05,
        "rope_theta": 100000,
        "rope_scaling": null,
        "max_position_embeddings": 8192,
        "tie_word_embeddings": true,
        "torch_dtype": "bfloat16"
    });
    (cfg, Weights { tensors, source: String::new() }, config_json)
}

fn assert_same_weights(got: &Weights, expected: &Weights) {
    assert_eq!(shapes(got), shapes(expected));
    for (name, t) in &expected.tensors {
        assert_eq!(max_abs_diff(got.get(name).unwrap(), t), 0.0, "{name}");
    }
}

#[test]
fn hf_dir_round_trip_single_file() {
    let (cfg, weights, config_json) = two_layer_smollm2();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), config_json.to_string()).unwrap();
    candle_core::safetensors::save(&weights.tensors, dir.path().join("model.safetensors")).unwrap();
    assert_eq!(hf_dir::read_config(dir.path()).unwrap(), cfg);
    let (loaded_cfg, loaded) = hf_dir::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(loaded_cfg, cfg);
    assert_same_weights(&loaded, &weights);
    // And converted on the way in.
    let (_, f64_weights) = hf_dir::load(dir.path(), DType::F64, &Device::Cpu).unwrap();
    assert!(f64_weights.tensors.values().all(|t| t.dtype() == DType::F64));
}

#[test]
fn hf_dir_round_trip_sharded() {
    let (cfg, weights, config_json) = two_layer_smollm2();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), config_json.to_string()).unwrap();
    // Layer 1 and the final norm in the second shard, the rest in the first.
    let (second, first): (std::collections::HashMap<_, _>, std::collections::HashMap<_, _>) =
        weights.tensors.clone().into_iter().partition(|(n, _)| n.starts_with("model.layers.1.") || n == "model.norm.weight");
    let mut weight_map = serde_json::Map::new();
    for (file, part) in [("model-00001-of-00002.safetensors", &first), ("model-00002-of-00002.safetensors", &second)] {
        candle_core::safetensors::save(part, dir.path().join(file)).unwrap();
        weight_map.extend(part.keys().map(|n| (n.clone(), json!(file))));
    }
    let index = json!({ "metadata": { "total_size": 0 }, "weight_map": weight_map });
    std::fs::write(dir.path().join("model.safetensors.index.json"), index.to_string()).unwrap();
    let index_path = dir.path().join("model.safetensors.index.json");
    assert_eq!(hf_dir::index_shards(&index_path).unwrap(), ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    let (loaded_cfg, loaded) = hf_dir::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(loaded_cfg, cfg);
    assert_same_weights(&loaded, &weights);

    // An index that promises a tensor no shard has is an error naming it.
    let mut index = index;
    index["weight_map"]["model.layers.1.extra.weight"] = json!("model-00002-of-00002.safetensors");
    std::fs::write(dir.path().join("model.safetensors.index.json"), index.to_string()).unwrap();
    let err = error_of(hf_dir::load(dir.path(), DType::F32, &Device::Cpu));
    assert!(err.contains("model.layers.1.extra.weight") && err.contains("model.safetensors.index.json"), "{err}");
    // A shard named by something other than a file name is refused, naming the tensor.
    let mut bad = index.clone();
    bad["weight_map"]["model.norm.weight"] = json!(2);
    std::fs::write(&index_path, bad.to_string()).unwrap();
    let err = error_of(hf_dir::index_shards(&index_path));
    assert!(err.contains("field `weight_map.model.norm.weight`: invalid type: integer `2`, expected a string"), "{err}");
    std::fs::write(&index_path, index.to_string()).unwrap();
    // A shard that is missing is named.
    std::fs::remove_file(dir.path().join("model-00002-of-00002.safetensors")).unwrap();
    let err = error_of(hf_dir::load(dir.path(), DType::F32, &Device::Cpu));
    assert!(err.contains("model-00002-of-00002.safetensors") && err.contains("missing"), "{err}");
}

#[test]
fn mistral_and_qwen2_configs() {
    let mistral = hf_dir::read_config_file(&fixture("mistral.json")).unwrap();
    let expected = ModelConfig {
        architecture: Architecture::Llama,
        vocab_size: 32_000,
        hidden_size: 4096,
        intermediate_size: 14_336,
        num_layers: 32,
        num_heads: 32,
        num_kv_heads: 8,
        head_dim: 128,
        rms_norm_eps: 1e-5,
        rope_theta: 10_000.0,
        max_position_embeddings: 32_768,
        tie_word_embeddings: false,
        rope_local_theta: 10_000.0,
        sliding_window: None,
        sliding_window_pattern: 1,
        query_pre_attn_scalar: 128.0,
    };
    assert_eq!(mistral, expected);

    let qwen2 = hf_dir::read_config_file(&fixture("qwen2.json")).unwrap();
    let expected = ModelConfig {
        architecture: Architecture::Llama,
        vocab_size: 151_936,
        hidden_size: 896,
        intermediate_size: 4864,
        num_layers: 24,
        num_heads: 14,
        num_kv_heads: 2,
        head_dim: 64,
        rms_norm_eps: 1e-6,
        rope_theta: 1_000_000.0,
        max_position_embeddings: 32_768,
        tie_word_embeddings: true,
        rope_local_theta: 1_000_000.0,
        sliding_window: None,
        sliding_window_pattern: 1,
        query_pre_attn_scalar: 64.0,
    };
    assert_eq!(qwen2, expected);
}

/// HF's config of Gemma 3 270M describes exactly the model the GGUF metadata describes.
#[test]
fn gemma3_text_config_matches_the_gguf() {
    let from_json = hf_dir::read_config_file(&fixture("gemma3_text.json")).unwrap();
    assert_eq!(from_json, gguf::read_config(&locate(GEMMA).unwrap()).unwrap());
    // The older way of giving the layout (`sliding_window_pattern`) gives the same.
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("gemma3_text.json")).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("layer_types");
    json.as_object_mut().unwrap().remove("_sliding_window_pattern");
    json["sliding_window_pattern"] = json!(6);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), json.to_string()).unwrap();
    assert_eq!(hf_dir::read_config(dir.path()).unwrap(), from_json);
    // A layout no period describes is refused.
    json["layer_types"] = json!(["full_attention"; 17].into_iter().chain(["sliding_attention"]).collect::<Vec<_>>());
    std::fs::write(dir.path().join("config.json"), json.to_string()).unwrap();
    let err = error_of(hf_dir::read_config(dir.path()));
    assert!(err.contains("`layer_types`"), "{err}");
}

/// The multimodal wrapper: the text model's config is `text_config`, filled with
/// `Gemma3TextConfig` defaults; its rope scaling (4B and larger) is refused; its weights lose the
/// `language_model.` prefix and the vision tower.
#[test]
fn gemma3_multimodal_config_and_weights() {
    let err = error_of(hf_dir::read_config_file(&fixture("gemma3_multimodal.json")));
    assert!(err.contains("gemma3_multimodal.json") && err.contains("`text_config.rope_scaling`") && err.contains("linear"), "{err}");

    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("gemma3_multimodal.json")).unwrap()).unwrap();
    json["text_config"].as_object_mut().unwrap().remove("rope_scaling");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), json.to_string()).unwrap();
    let expected = ModelConfig {
        architecture: Architecture::Gemma3,
        vocab_size: 262_208,
        hidden_size: 2560,
        intermediate_size: 10_240,
        num_layers: 34,
        num_heads: 8,
        num_kv_heads: 4,
        head_dim: 256,
        rms_norm_eps: 1e-6,
        rope_theta: 1_000_000.0,
        max_position_embeddings: 131_072,
        tie_word_embeddings: true,
        rope_local_theta: 10_000.0,
        sliding_window: Some(1024),
        sliding_window_pattern: 6,
        query_pre_attn_scalar: 256.0,
    };
    assert_eq!(hf_dir::read_config(dir.path()).unwrap(), expected);

    // The weights: a 2-layer text model small enough to write, under the multimodal prefixes,
    // next to vision tensors that must be dropped.
    for (field, value) in [("hidden_size", 16), ("intermediate_size", 24), ("num_hidden_layers", 2), ("num_attention_heads", 4), ("num_key_value_heads", 2), ("head_dim", 8), ("vocab_size", 37)] {
        json["text_config"][field] = value.into();
    }
    std::fs::write(dir.path().join("config.json"), json.to_string()).unwrap();
    let small_cfg = hf_dir::read_config(dir.path()).unwrap();
    let mut tensors: std::collections::HashMap<String, Tensor> = dataeff::model::weight_shapes(&small_cfg)
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            (format!("language_model.{name}"), Tensor::arange(0f32, n as f32, &Device::Cpu).unwrap().reshape(shape).unwrap())
        })
        .collect();
    tensors.insert("vision_tower.vision_model.post_layernorm.weight".into(), Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap());
    tensors.insert("multi_modal_projector.mm_input_projection_weight".into(), Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap());
    candle_core::safetensors::save(&tensors, dir.path().join("model.safetensors")).unwrap();
    let (_, weights) = hf_dir::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
    let names: std::collections::BTreeSet<String> = weights.tensors.keys().cloned().collect();
    let expected_names: std::collections::BTreeSet<String> = dataeff::model::weight_shapes(&small_cfg).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, expected_names, "prefixes stripped, vision tower dropped");
    let norm = &tensors["language_model.model.norm.weight"];
    assert_eq!(max_abs_diff(weights.get("model.norm.weight").unwrap(), norm), 0.0);
}

#[test]
fn config_json_errors_name_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let file = path.display().to_string();
    let base: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("qwen2.json")).unwrap()).unwrap();
    let check = |edit: &dyn Fn(&mut serde_json::Value), wanted: &[&str]| {
        let mut json = base.clone();
        edit(&mut json);
        std::fs::write(&path, json.to_string()).unwrap();
        let err = error_of(hf_dir::read_config(dir.path()));
        assert!(err.contains(&file), "{err}");
        for w in wanted {
            assert!(err.contains(w), "`{w}` not in: {err}");
        }
    };
    check(&|j| drop(j.as_object_mut().unwrap().remove("num_hidden_layers")), &["`num_hidden_layers` is missing", "unsigned integer"]);
    check(&|j| j["hidden_size"] = json!("896"), &["field `hidden_size`: invalid type: string \"896\", expected usize", "line 1"]);
    check(&|j| j["num_attention_heads"] = json!(-14), &["field `num_attention_heads`: invalid value: integer `-14`, expected usize"]);
    check(&|j| j["rope_theta"] = json!("1e6"), &["field `rope_theta`: invalid type: string \"1e6\", expected f64"]);
    check(&|j| j["num_key_value_heads"] = json!(3), &["14 attention heads cannot share 3 key/value heads"]);
    check(&|j| drop(j.as_object_mut().unwrap().remove("model_type")), &["`model_type` is missing"]);
    check(&|j| j["model_type"] = json!("phi3"), &["`phi3`", "llama, mistral, qwen2, gemma3_text, gemma3"]);
    check(&|j| j["rope_scaling"] = json!({"rope_type": "llama3", "factor": 32.0}), &["`rope_scaling`", "llama3"]);
    check(&|j| j["use_sliding_window"] = json!(true), &["`use_sliding_window`"]);
    check(&|j| j["hidden_act"] = json!("gelu"), &["`hidden_act`", "gelu"]);
    check(&|j| j["model_type"] = json!("gemma3"), &["`text_config` is missing"]);
    let gemma3_with_layers = |j: &mut serde_json::Value| {
        j["model_type"] = json!("gemma3");
        j["text_config"] = json!({"num_hidden_layers": 2, "layer_types": ["sliding_attention", "global"]});
    };
    check(&gemma3_with_layers, &["field `text_config.layer_types[1]`: unknown variant `global`"]);
    std::fs::write(&path, "{ not json").unwrap();
    let err = error_of(hf_dir::read_config(dir.path()));
    assert!(err.contains(&file) && err.contains("not valid JSON"), "{err}");
}

#[test]
fn hf_dir_without_weights_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("qwen2.json"), dir.path().join("config.json")).unwrap();
    std::fs::write(dir.path().join("pytorch_model.bin"), b"").unwrap();
    let err = error_of(hf_dir::load(dir.path(), DType::F32, &Device::Cpu));
    assert!(err.contains(&dir.path().display().to_string()) && err.contains("model.safetensors") && err.contains("pytorch_model.bin"), "{err}");
}
