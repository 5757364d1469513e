//! What damaged files and long prompts do: a known model whose sha256 is wrong is refused (and a
//! right one is hashed once, then trusted from its stamp); a file whose weights give NaN logits is
//! an error naming it, never `logprob NaN` with exit 0; attention over long sequences goes in
//! blocks of queries with the same values and gradients as one block; a prompt longer than the
//! model's context is refused in words.

#![cfg(feature = "lm")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::quantized::gguf_file::Content;
use candle_core::{DType, Device, Tensor, Var};
use common::{max_abs_diff, random_model};
use dataeff::model::attention::{CausalMask, SCORE_BLOCK_BYTES, attend, attend_in_blocks, causal_mask, query_block_rows};
use dataeff::model::generate::{continuation_log_probs, greedy};
use dataeff::model::load::build;
use dataeff::model::{Architecture, CausalLm, KvCache, ModelConfig};
use dataeff::provenance::verify::{Verified, verify_if_known};
use dataeff::provenance::{KnownModel, cache::hub_cache};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SMOLLM2: &str = "smollm2-135m-instruct";

fn dataeff(args: &[&str], cache: Option<&Path>) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dataeff"));
    if let Some(cache) = cache {
        command.env("DATAEFF_CACHE", cache);
    }
    let out = command.args(args).output().expect("run dataeff");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn random(shape: &[usize], rng: &mut ChaCha8Rng) -> Var {
    let n = shape.iter().product();
    let values: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu).unwrap()).unwrap()
}

// ---- attention in blocks of queries ----

/// Blocks of 1, 4, 7 and 22 queries give the values and the gradients (with respect to q, k and
/// v) of one block with the whole mask, with and without a window, after 9 cached positions.
#[test]
fn blocked_attention_equals_one_block_in_values_and_gradients() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (b, h, t, past, hd) = (2, 4, 23, 9, 8);
    let (q, k, v) = (random(&[b, h, t, hd], &mut rng), random(&[b, h, past + t, hd], &mut rng), random(&[b, h, past + t, hd], &mut rng));
    // A random weighting of the output, so every output entry gets its own gradient.
    let weighting = random(&[b, h, t, hd], &mut rng).as_tensor().clone();
    let run = |out: Tensor| -> (Tensor, Vec<Tensor>) {
        let grads = (&out * &weighting).unwrap().sum_all().unwrap().backward().unwrap();
        let of = |x: &Var| grads.get(x.as_tensor()).expect("a gradient").clone();
        (out, vec![of(&q), of(&k), of(&v)])
    };
    for window in [None, Some(5), Some(1)] {
        let whole = causal_mask(t, past, window, DType::F64, &Device::Cpu).unwrap();
        let (expected, expected_grads) = run(attend(&q, &k, &v, 0.35, Some(&whole)).unwrap());
        for rows in [1, 4, 7, 22] {
            let mask = CausalMask::new(t, past, window);
            let (out, grads) = run(attend_in_blocks(&q, &k, &v, 0.35, Some(&mask), rows).unwrap());
            let diff = max_abs_diff(&out, &expected);
            assert!(diff < 1e-12, "window {window:?}, {rows} rows: output max |Δ| {diff}");
            for (name, (g, e)) in ["q", "k", "v"].iter().zip(grads.iter().zip(&expected_grads)) {
                let diff = max_abs_diff(g, e);
                assert!(diff < 1e-12, "window {window:?}, {rows} rows: d/d{name} max |Δ| {diff}");
            }
        }
    }
    // Without a mask every query sees every key, in blocks too.
    let (expected, _) = run(attend(&q, &k, &v, 0.35, None).unwrap());
    let (out, _) = run(attend_in_blocks(&q, &k, &v, 0.35, None, 5).unwrap());
    assert!(max_abs_diff(&out, &expected) < 1e-12);
}

#[test]
fn windows_and_blocks_see_the_keys_they_should() {
    let mask = CausalMask::new(6, 4, Some(3));
    assert_eq!(mask.visible_keys(0..2), 2..6);
    assert_eq!(mask.visible_keys(4..6), 6..10);
    assert_eq!(CausalMask::new(6, 4, None).visible_keys(2..4), 0..8);
    let block = mask.tensor(4..6, 6..10, DType::F32, &Device::Cpu).unwrap().to_vec2::<f32>().unwrap();
    let ninf = f32::NEG_INFINITY;
    // Query 4 is position 8 (sees 6, 7, 8); query 5 is position 9 (sees 7, 8, 9).
    assert_eq!(block, vec![vec![0.0, 0.0, 0.0, ninf], vec![ninf, 0.0, 0.0, 0.0]]);
}

#[test]
fn short_sequences_are_one_block_and_long_prompts_are_split() {
    // An f32 training batch of 8 × 512 tokens with SmolLM2's 9 heads: one block, as before.
    assert_eq!(query_block_rows(8 * 9, 512, 512, DType::F32), 512);
    assert_eq!(query_block_rows(9, 1, 8_192, DType::F32), 1);
    // 20,000 tokens on Gemma 3's 4 heads: blocks whose scores stay within the budget.
    let rows = query_block_rows(4, 20_000, 20_000, DType::F32);
    assert!(rows < 20_000 && rows * 4 * 20_000 * 4 <= SCORE_BLOCK_BYTES, "{rows}");
    // Half precision is normalised in f32, so it is counted as f32.
    assert_eq!(query_block_rows(4, 20_000, 20_000, DType::BF16), rows);
    assert_eq!(query_block_rows(4, 20_000, 20_000, DType::F64), rows / 2);
}

/// A tiny model (f64) that can take `positions` tokens.
fn tiny(architecture: Architecture, positions: usize, seed: u64) -> (ModelConfig, Box<dyn CausalLm>) {
    let cfg = ModelConfig { max_position_embeddings: positions, ..ModelConfig::tiny(architecture) };
    let (weights, _) = random_model(&cfg, seed);
    let model = build(&cfg, &weights).unwrap();
    (cfg, model)
}

fn random_ids(n: usize, vocab: usize, seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ids: Vec<u32> = (0..n).map(|_| rng.random_range(0..vocab as u32)).collect();
    Tensor::new(ids, &Device::Cpu).unwrap().unsqueeze(0).unwrap()
}

/// Hidden states of `ids` fed through a KV cache in pieces of `piece` tokens.
fn in_pieces(model: &dyn CausalLm, ids: &Tensor, piece: usize) -> Tensor {
    let t = ids.dim(1).unwrap();
    let mut cache = KvCache::new(model.config().num_layers);
    let outputs: Vec<Tensor> = (0..t)
        .step_by(piece)
        .map(|s| model.forward(&ids.narrow(1, s, piece.min(t - s)).unwrap(), Some(&mut cache)).unwrap())
        .collect();
    Tensor::cat(&outputs, 1).unwrap()
}

/// 2,300 tokens on a tiny model are more scores than one block holds, so a full pass goes in
/// blocks; 250-token pieces through the KV cache are one block each. Both give the same hidden
/// states — with Gemma 3's window (layer 0) and without (Llama, Gemma's layer 1), from position 0
/// and after 300 cached positions.
#[test]
fn long_sequences_on_tiny_models_give_the_same_hidden_states_in_blocks() {
    let (t, past, piece) = (2_300, 300, 250);
    let heads = ModelConfig::tiny(Architecture::Llama).num_heads;
    assert!(query_block_rows(heads, t, t, DType::F64) < t);
    assert!(query_block_rows(heads, t - past, t, DType::F64) < t - past);
    assert_eq!(query_block_rows(heads, piece, t, DType::F64), piece);
    for architecture in [Architecture::Llama, Architecture::Gemma3] {
        let (cfg, model) = tiny(architecture, 4_096, 5);
        let ids = random_ids(t, cfg.vocab_size, 6);
        let reference = in_pieces(model.as_ref(), &ids, piece);

        let full = model.hidden_states(&ids).unwrap();
        let diff = max_abs_diff(&full, &reference);
        assert!(diff < 1e-12, "{architecture:?} from position 0: max |Δ| {diff}");

        let mut cache = KvCache::new(cfg.num_layers);
        let head = model.forward(&ids.narrow(1, 0, past).unwrap(), Some(&mut cache)).unwrap();
        let tail = model.forward(&ids.narrow(1, past, t - past).unwrap(), Some(&mut cache)).unwrap();
        let diff = max_abs_diff(&Tensor::cat(&[head, tail], 1).unwrap(), &reference);
        assert!(diff < 1e-12, "{architecture:?} after {past} cached positions: max |Δ| {diff}");
    }
}

// ---- the model's context, and non-finite logits ----

#[test]
fn prompts_longer_than_the_context_are_refused_in_words() {
    let (cfg, model) = tiny(Architecture::Llama, 64, 2);
    let prompt: Vec<u32> = (0..60).map(|i| i % cfg.vocab_size as u32).collect();
    let e = greedy(model.as_ref(), &prompt, 5, &|_| false).unwrap_err().to_string();
    assert!(e.contains("60 tokens") && e.contains("5 new") && e.contains("the model's context of 64 tokens"), "{e}");
    assert_eq!(greedy(model.as_ref(), &prompt, 4, &|_| false).unwrap().ids.len(), 4);

    let e = continuation_log_probs(model.as_ref(), &prompt, &[1, 2, 3, 4, 5]).unwrap_err().to_string();
    assert!(e.contains("65 tokens") && e.contains("the model's context of 64 tokens"), "{e}");
    assert_eq!(continuation_log_probs(model.as_ref(), &prompt, &[1, 2, 3, 4]).unwrap().len(), 4);
}

#[test]
fn non_finite_logits_are_an_error_not_a_number() {
    let cfg = ModelConfig::tiny(Architecture::Llama);
    let (mut weights, _) = random_model(&cfg, 3);
    let name = "model.layers.0.self_attn.q_proj.weight";
    let damaged = weights.get(name).unwrap().affine(0.0, f64::NAN).unwrap();
    weights.tensors.insert(name.to_string(), damaged);
    let model = build(&cfg, &weights).unwrap();
    let e = greedy(model.as_ref(), &[1, 2, 3], 4, &|_| false).unwrap_err().to_string();
    assert!(e.contains("not finite"), "{e}");
    let e = continuation_log_probs(model.as_ref(), &[1, 2, 3], &[4]).unwrap_err().to_string();
    assert!(e.contains("not finite"), "{e}");
}

// ---- real files, through the binary ----

/// A copy of SmolLM2's GGUF with random bytes over the tensor data of its first attention
/// query projection: not a known model (it lies outside the hub), so only its logits tell.
fn damaged_copy(dir: &Path) -> PathBuf {
    let source = KnownModel::by_name(SMOLLM2).unwrap().cached_path();
    let copy = dir.join("damaged.gguf");
    std::fs::copy(&source, &copy).unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask fetch-model all`)", source.display()));
    let content = Content::read(&mut std::fs::File::open(&copy).unwrap()).unwrap();
    let info = &content.tensor_infos["blk.0.attn_q.weight"];
    let bytes = info.shape.elem_count() / info.ggml_dtype.block_size() * info.ggml_dtype.type_size();
    let start = (content.tensor_data_offset + info.offset) as usize;
    let mut file = std::fs::read(&copy).unwrap();
    ChaCha8Rng::seed_from_u64(7).fill_bytes(&mut file[start..start + bytes]);
    std::fs::write(&copy, file).unwrap();
    copy
}

#[test]
fn a_gguf_with_damaged_tensor_bytes_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = damaged_copy(tmp.path());
    let model = copy.to_str().unwrap();
    let (ok, out, err) = dataeff(&["score", "--model", model, "--prompt", "The capital of France is", "--continuation", " Paris"], None);
    assert!(!ok, "exit 0 with {out}");
    assert!(!out.contains("NaN"), "{out}");
    assert!(err.contains("damaged.gguf") && err.contains("not finite"), "{err}");
    let (ok, out, err) = dataeff(&["generate", "--model", model, "--prompt", "The capital of France is", "--max-new-tokens", "3"], None);
    assert!(!ok, "exit 0 with {out:?}");
    assert!(err.contains("damaged.gguf") && err.contains("not finite"), "{err}");
}

/// A file in a known model's place that is not the pinned one (here a few bytes behind the GGUF
/// magic), named by the model's name or by its path.
#[test]
fn a_known_model_with_the_wrong_sha256_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let smollm = KnownModel::by_name(SMOLLM2).unwrap();
    let path = smollm.path_in(&tmp.path().join("hub"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"GGUF\x03\x00\x00\x00 and not the model").unwrap();
    for spec in [SMOLLM2, path.to_str().unwrap()] {
        let (ok, _, err) = dataeff(&["score", "--model", spec, "--prompt", "a", "--continuation", " b"], Some(tmp.path()));
        assert!(!ok);
        assert!(err.contains("SmolLM2-135M-Instruct.Q4_1.gguf: damaged or replaced") && err.contains(smollm.sha256), "{err}");
        assert!(err.contains("run `cargo xtask fetch-model smollm2-135m-instruct`"), "{err}");
    }
}

/// The real model's file is hashed at most once: the second check trusts the stamp.
#[test]
fn the_second_load_of_a_known_model_trusts_its_stamp() {
    let path = KnownModel::by_name(SMOLLM2).unwrap().path_in(&hub_cache());
    let first = verify_if_known(&path).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(matches!(first, Some(Verified::Hashed | Verified::FromStamp)), "{first:?}");
    assert_eq!(verify_if_known(&path).unwrap(), Some(Verified::FromStamp));
}

#[test]
fn a_prompt_longer_than_smollm2s_context_is_refused_through_the_binary() {
    let prompt = " word".repeat(9_000);
    let (ok, out, err) = dataeff(&["score", "--model", SMOLLM2, "--prompt", &prompt, "--continuation", " end"], None);
    assert!(!ok, "{out}");
    assert!(err.contains("the model's context of 8192 tokens"), "{err}");
}
