//! Gemma 3 270M, the real GGUF file: our loader and differentiable [`Gemma3`] give the logits of
//! candle-transformers' Gemma 3 on the same file, at every position of three prompts, and greedy
//! decoding continues "The capital of France is Paris. The capital of Germany is" with " Berlin".
//!
//! The reference is candle-transformers' `gemma3::Model` run on tensors that this test reads
//! from the file itself with candle's GGUF reader and its own small GGUF → HF name table, so a
//! naming, norm-offset or config mistake in the loader shows up. It is not
//! `quantized_gemma3::ModelWeights`: in candle-transformers 0.11.1 its MLP applies SiLU where
//! Gemma 3 uses gelu_tanh (candle issue #3745). Measured on the Berlin prompt: against it our
//! logits differ by up to 10.7 (mean 1.8) with a different top-1 at 5 of 13 positions; with
//! SiLU swapped into our MLP they agree on the top-1 everywhere (max |Δ| 1.2, from its 8-bit
//! activations). `gemma3::Model` applies the configured gelu_pytorch_tanh.
//!
//! Needs the model file (`cargo xtask fetch-model gemma-3-270m`); about 10 s and 1.3 GB of memory.

#![cfg(feature = "lm")]

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use candle_core::quantized::gguf_file;
use candle_core::{DType, Device, IndexOp, Tensor};
use candle_transformers::models::gemma3;
use dataeff::model::gemma3::Gemma3;
use dataeff::model::{Architecture, CausalLm, KvCache, gguf, resolve};

/// Prompts as SentencePiece pieces (each must be one token of the file's vocabulary), BOS first.
const PROMPTS: [&[&str]; 3] = [
    &["<bos>", "The", "▁capital", "▁of", "▁France", "▁is", "▁Paris", ".", "▁The", "▁capital", "▁of", "▁Germany", "▁is"],
    &["<bos>", "Once", "▁upon", "▁a", "▁time", ",", "▁there", "▁was", "▁a", "▁little", "▁girl", "▁named"],
    &["<bos>", "I", "▁like", "▁to", "▁eat", "▁apples", "▁and", "▁bananas", "▁because", "▁they", "▁are"],
];

/// Largest |Δlogit| accepted against the reference. Both sides compute in f32 from the same
/// dequantised weights, in a different order (fused vs explicit ops, a full pass vs a KV cache):
/// measured max 4.8e-5 (mean 4.5e-6) over the three prompts. The bound leaves 20× room and is
/// far below real mistakes: SiLU for gelu_tanh alone moves the logits by up to 10.9.
const MAX_LOGIT_DIFF: f32 = 1e-3;

fn vocabulary(ct: &gguf_file::Content) -> Vec<String> {
    let tokens = ct.metadata["tokenizer.ggml.tokens"].to_vec().expect("tokenizer.ggml.tokens is an array");
    tokens.iter().map(|t| t.to_string().expect("tokens are strings").clone()).collect()
}

fn token_id(vocab: &[String], piece: &str) -> u32 {
    vocab.iter().position(|t| t == piece).unwrap_or_else(|| panic!("{piece:?} is not a token of the vocabulary")) as u32
}

/// Every tensor of the file dequantised to f32 under its HF name, norms reduced by the 1 that
/// GGUF adds — written here independently of `dataeff::model::gguf`.
fn reference_tensors(ct: &gguf_file::Content, file: &mut File) -> HashMap<String, Tensor> {
    let mut out = HashMap::new();
    for name in ct.tensor_infos.keys() {
        let (hf, is_norm) = match name.as_str() {
            "token_embd.weight" => ("model.embed_tokens".to_string(), false),
            "output_norm.weight" => ("model.norm".to_string(), true),
            _ => {
                let (layer, part) = name.strip_prefix("blk.").and_then(|r| r.split_once('.')).expect("blk.N.*");
                let (hf, is_norm) = match part.trim_end_matches(".weight") {
                    "attn_norm" => ("input_layernorm", true),
                    "attn_q" => ("self_attn.q_proj", false),
                    "attn_k" => ("self_attn.k_proj", false),
                    "attn_v" => ("self_attn.v_proj", false),
                    "attn_output" => ("self_attn.o_proj", false),
                    "attn_q_norm" => ("self_attn.q_norm", true),
                    "attn_k_norm" => ("self_attn.k_norm", true),
                    "post_attention_norm" => ("post_attention_layernorm", true),
                    "ffn_norm" => ("pre_feedforward_layernorm", true),
                    "post_ffw_norm" => ("post_feedforward_layernorm", true),
                    "ffn_gate" => ("mlp.gate_proj", false),
                    "ffn_up" => ("mlp.up_proj", false),
                    "ffn_down" => ("mlp.down_proj", false),
                    other => panic!("unexpected tensor {other} in layer {layer}"),
                };
                (format!("model.layers.{layer}.{hf}"), is_norm)
            }
        };
        let t = ct.tensor(file, name, &Device::Cpu).unwrap().dequantize(&Device::Cpu).unwrap();
        out.insert(format!("{hf}.weight"), if is_norm { (t - 1.0).unwrap() } else { t });
    }
    out
}

/// Gemma 3 270M's HF config.json: shapes from the file's metadata; the rest (which the GGUF
/// does not all carry) as Google publishes it.
fn reference_config(ct: &gguf_file::Content) -> gemma3::Config {
    let md = |key: &str| ct.metadata[&format!("gemma3.{key}")].to_u32().unwrap() as usize;
    gemma3::Config {
        attention_bias: false,
        head_dim: md("attention.key_length"),
        hidden_activation: candle_nn::Activation::GeluPytorchTanh,
        hidden_size: md("embedding_length"),
        intermediate_size: md("feed_forward_length"),
        num_attention_heads: md("attention.head_count"),
        num_hidden_layers: md("block_count"),
        num_key_value_heads: md("attention.head_count_kv"),
        rms_norm_eps: 1e-6,
        rope_theta: 1_000_000.0,
        rope_local_base_freq: 10_000.0,
        vocab_size: 262_144,
        final_logit_softcapping: None,
        attn_logit_softcapping: None,
        query_pre_attn_scalar: 256,
        sliding_window: 512,
        sliding_window_pattern: 6,
        // Only sizes the reference's rope tables and cache; the prompts are far shorter.
        max_position_embeddings: 512,
    }
}

/// Our logits (T, V) for each prompt, from one full pass, and the greedy continuation of the
/// first prompt (3 tokens through the KV cache).
fn our_logits(path: &Path, prompts: &[Vec<u32>], reference: &gemma3::Config) -> (Vec<Tensor>, Vec<u32>) {
    let (cfg, weights) = gguf::load(path, DType::F32, &Device::Cpu).unwrap();
    // The loader's config must be Gemma 3 270M's.
    assert_eq!(cfg.architecture, Architecture::Gemma3);
    assert_eq!((cfg.vocab_size, cfg.hidden_size, cfg.intermediate_size), (reference.vocab_size, reference.hidden_size, reference.intermediate_size));
    assert_eq!((cfg.num_layers, cfg.num_heads, cfg.num_kv_heads, cfg.head_dim), (reference.num_hidden_layers, reference.num_attention_heads, reference.num_key_value_heads, reference.head_dim));
    assert_eq!((cfg.rope_theta, cfg.rope_local_theta), (reference.rope_theta, reference.rope_local_base_freq));
    assert_eq!((cfg.sliding_window, cfg.sliding_window_pattern), (Some(reference.sliding_window), reference.sliding_window_pattern));
    assert_eq!(cfg.query_pre_attn_scalar, reference.query_pre_attn_scalar as f64);
    assert!((cfg.rms_norm_eps - reference.rms_norm_eps).abs() < 1e-12 && cfg.tie_word_embeddings, "{cfg:?}");
    let model = Gemma3::new(&cfg, &weights).unwrap();

    let logits = prompts
        .iter()
        .map(|ids| {
            let ids = Tensor::new(ids.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
            model.logits(&model.hidden_states(&ids).unwrap()).unwrap().i(0).unwrap()
        })
        .collect();

    let mut cache = KvCache::new(cfg.num_layers);
    let mut next = Tensor::new(prompts[0].as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let mut generated = Vec::new();
    for _ in 0..3 {
        let hidden = model.forward(&next, Some(&mut cache)).unwrap();
        let last = hidden.narrow(1, hidden.dim(1).unwrap() - 1, 1).unwrap();
        let id = model.logits(&last).unwrap().flatten_all().unwrap().argmax(0).unwrap().to_scalar::<u32>().unwrap();
        generated.push(id);
        next = Tensor::new(&[[id]], &Device::Cpu).unwrap();
    }
    (logits, generated)
}

/// The reference's logits (T, V) for each prompt, fed one token at a time through its cache
/// (its forward returns the last position only).
fn reference_logits(ct: &gguf_file::Content, file: &mut File, prompts: &[Vec<u32>]) -> Vec<Tensor> {
    let vb = candle_nn::VarBuilder::from_tensors(reference_tensors(ct, file), DType::F32, &Device::Cpu);
    let mut model = gemma3::Model::new(false, &reference_config(ct), vb).unwrap();
    prompts
        .iter()
        .map(|ids| {
            model.clear_kv_cache();
            let rows: Vec<Tensor> = ids
                .iter()
                .enumerate()
                .map(|(pos, &id)| model.forward(&Tensor::new(&[[id]], &Device::Cpu).unwrap(), pos).unwrap().flatten_all().unwrap())
                .collect();
            Tensor::stack(&rows, 0).unwrap()
        })
        .collect()
}

#[test]
fn gemma3_270m_matches_candle_transformers_at_every_position_and_says_berlin() {
    let path = resolve::locate("gemma-3-270m").unwrap();
    let mut file = File::open(&path).unwrap();
    let ct = gguf_file::Content::read(&mut file).unwrap();
    let vocab = vocabulary(&ct);
    let prompts: Vec<Vec<u32>> = PROMPTS.iter().map(|p| p.iter().map(|piece| token_id(&vocab, piece)).collect()).collect();
    assert_eq!(prompts[0][0], 2, "BOS");

    // One model at a time keeps the peak memory near one f32 copy of the weights.
    let (ours, generated) = our_logits(&path, &prompts, &reference_config(&ct));
    let reference = reference_logits(&ct, &mut file, &prompts);

    let berlin = token_id(&vocab, "▁Berlin");
    let continuation: Vec<&str> = generated.iter().map(|&id| vocab[id as usize].as_str()).collect();
    eprintln!("greedy continuation of the Berlin prompt: {continuation:?}");
    assert_eq!(generated[0], berlin, "the model continues with {:?}, not ▁Berlin ({berlin})", continuation[0]);

    let (mut worst, mut sum, mut count) = (0.0f32, 0.0f64, 0usize);
    for (p, (ours, reference)) in ours.iter().zip(&reference).enumerate() {
        assert_eq!(ours.dims(), reference.dims(), "prompt {p}");
        let diff = (ours - reference).unwrap().abs().unwrap();
        let max = diff.max_all().unwrap().to_scalar::<f32>().unwrap();
        let mean = diff.mean_all().unwrap().to_scalar::<f32>().unwrap();
        eprintln!("prompt {p} ({} tokens): max |Δlogit| {max:.2e}, mean {mean:.2e}", prompts[p].len());
        worst = worst.max(max);
        sum += mean as f64 * diff.elem_count() as f64;
        count += diff.elem_count();
        let top_ours: Vec<u32> = ours.argmax(1).unwrap().to_vec1().unwrap();
        let top_reference: Vec<u32> = reference.argmax(1).unwrap().to_vec1().unwrap();
        assert_eq!(top_ours, top_reference, "prompt {p}: top-1 token per position");
    }
    eprintln!("all prompts: max |Δlogit| {worst:.2e}, mean {:.2e}", sum / count as f64);
    assert!(worst <= MAX_LOGIT_DIFF, "max |Δlogit| {worst} exceeds {MAX_LOGIT_DIFF}");
}
