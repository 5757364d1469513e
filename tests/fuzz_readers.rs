//! Every file reader against generated bad inputs: seeded mutations (byte flips, truncations,
//! insertions, duplicated spans, hostile numbers) of a valid file of each kind — the authors'
//! result JSON and human_eval.json, our scores CSV, a coefficients file as `dataeff fit` writes it,
//! a `task,coslow` table, a Hugging Face config.json and a GGUF header.
//! Each reader must return an error (or a value), never panic, and every error must name its file.
//!
//! `DATAEFF_FUZZ_CASES` sets the cases per reader (CI: the default below); `cargo xtask fuzz`
//! runs the full count.

#![cfg(feature = "lm")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Cases per reader when `DATAEFF_FUZZ_CASES` is not set (about 10 s in all on 2 cores).
const CI_CASES: usize = 2_000;

fn cases() -> usize {
    std::env::var("DATAEFF_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CI_CASES)
}

/// Tokens that readers of numbers and structure are most likely to trip on.
const HOSTILE: &[&str] = &[
    "NaN", "-inf", "1e308", "1e999", "-0", "18446744073709551616", "-1", "\"\"", "null", "[]", "{}", "\"50\"",
    "0x10", "\u{feff}", "\u{0}", "\"\\ud800\"", ",", ":", "\"", "\n", "93.06", "true",
];

/// One seeded mutation of `seed`.
fn mutate(seed: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = bytes.len().max(1);
        let at = rng.random_range(0..len).min(bytes.len());
        match rng.random_range(0..6) {
            0 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] ^= 1 << rng.random_range(0..8);
            }
            1 => bytes.truncate(at),
            2 => {
                let token = HOSTILE[rng.random_range(0..HOSTILE.len())];
                bytes.splice(at..at, token.bytes());
            }
            3 if !bytes.is_empty() => {
                let end = (at + rng.random_range(1..64)).min(bytes.len());
                let span: Vec<u8> = bytes[at..end].to_vec();
                bytes.splice(at..at, span);
            }
            4 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] = rng.random();
            }
            _ => {
                let end = (at + rng.random_range(1..16)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    bytes
}

/// Run `read` on `n` mutations of `seed` written to `path`; every failure must name `path`.
/// Returns (cases, errors) and fails the test on a panic or an anonymous error.
fn fuzz(name: &str, seed: &[u8], path: &Path, n: usize, read: impl Fn(&Path) -> Result<(), String>) -> (usize, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(name.bytes().map(u64::from).sum());
    let shown = path.display().to_string();
    let mut errors = 0;
    // The seed itself reads.
    std::fs::write(path, seed).unwrap();
    read(path).unwrap_or_else(|e| panic!("{name}: the unmutated seed fails: {e}"));
    for case in 0..n {
        let bytes = mutate(seed, &mut rng);
        std::fs::write(path, &bytes).unwrap();
        match catch_unwind(AssertUnwindSafe(|| read(path))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                errors += 1;
                assert!(e.contains(&shown), "{name} case {case}: the error does not name {shown}: {e}");
            }
            Err(_) => panic!("{name} case {case}: the reader panicked on {:?}", String::from_utf8_lossy(&bytes)),
        }
    }
    (n, errors)
}

fn result_seed() -> Vec<u8> {
    br#"{"0": {"accuracy": 0.31, "exact_string_match_accuracy": null}, "50": {"accuracy": 0.42}, "100": {"accuracy": 0.5}, "5000": {"accuracy": 0.77}}"#.to_vec()
}

fn human_seed() -> Vec<u8> {
    br#"{"anli": {"score": 0.92, "method": "accuracy"}, "coqa": {"score": null, "method": "sequence_f1"}}"#.to_vec()
}

fn scores_seed() -> Vec<u8> {
    b"family,task,budget,metric,value\nllama,anli,0,accuracy,0.47\nllama,anli,50,accuracy,\nqwen,coqa,100,sequence_f1,0.5\n".to_vec()
}

fn config_seed() -> Vec<u8> {
    br#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16, "intermediate_size": 32,
"num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-6,
"rope_theta": 10000.0, "vocab_size": 32, "max_position_embeddings": 64, "tie_word_embeddings": true}"#
        .to_vec()
}

fn gguf_seed() -> Vec<u8> {
    use gguf_file::Value::{F32, String as S, U32};
    let metadata = [
        ("general.architecture", S("llama".into())),
        ("llama.embedding_length", U32(8)),
        ("llama.block_count", U32(1)),
        ("llama.attention.head_count", U32(2)),
        ("llama.attention.head_count_kv", U32(1)),
        ("llama.attention.layer_norm_rms_epsilon", F32(1e-6)),
        ("llama.rope.freq_base", F32(10_000.0)),
        ("llama.feed_forward_length", U32(16)),
        ("llama.context_length", U32(64)),
    ];
    let embed = QTensor::quantize(&Tensor::zeros((4, 8), DType::F32, &Device::Cpu).unwrap(), GgmlDType::F32).unwrap();
    let meta: Vec<(&str, &gguf_file::Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let mut out = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut out, &meta, &[("token_embd.weight", &embed)]).unwrap();
    out.into_inner()
}

fn pool_seed() -> Vec<u8> {
    b"{\"prompt\": \"Is 4 even?\", \"answer\": \"yes\", \"id\": 1}\n{\"prompt\": \"Is 7 even?\", \"answer\": \"no\"}\n".to_vec()
}

fn profile_seed() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/profiles/quick.toml")).unwrap()
}

fn coefficients_seed() -> Vec<u8> {
    b"family,model,slope,slope_pm,intercept,intercept_pm,n_tasks,r,loo_mae\nmine,,0.5164,0.0219,0.2903,0.0110,5,0.997,0.0093\n".to_vec()
}

fn task_values_seed() -> Vec<u8> {
    b"task,coslow,seed\na,0.2,1\na,0.24,2\nb,0.3,1\nc,0.5,1\n".to_vec()
}

fn err(e: impl std::fmt::Display) -> String {
    format!("{e:#}")
}

#[test]
fn no_reader_panics_on_generated_bad_input_and_every_error_names_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let n = cases();
    let mut total = (0, 0);
    let mut add = |(c, e): (usize, usize)| {
        total.0 += c;
        total.1 += e;
    };
    add(fuzz("result json", &result_seed(), &dir.path().join("llama_x_full_result_v2.json"), n, |p| {
        dataeff::published::read_result_file(p).map(drop).map_err(err)
    }));
    add(fuzz("human_eval.json", &human_seed(), &dir.path().join("human_eval.json"), n, |p| {
        dataeff::published::read_human_eval(p).map(drop).map_err(err)
    }));
    add(fuzz("scores.csv", &scores_seed(), &dir.path().join("scores.csv"), n, |p| {
        dataeff::tidy::read_scores(p).map(drop).map_err(err)
    }));
    add(fuzz("coefficients.csv", &coefficients_seed(), &dir.path().join("coefficients.csv"), n, |p| {
        dataeff::tidy::read_coefficients(p).map(drop).map_err(err)
    }));
    add(fuzz("metrics.csv", &task_values_seed(), &dir.path().join("metrics.csv"), n, |p| {
        dataeff::tidy::read_task_values(p, "coslow").map(drop).map_err(err)
    }));
    add(fuzz("config.json", &config_seed(), &dir.path().join("config.json"), n, |p| {
        dataeff::model::hf_dir::read_config_file(p).map(drop).map_err(err)
    }));
    add(fuzz("gguf header", &gguf_seed(), &dir.path().join("tiny.gguf"), n, |p| {
        dataeff::model::gguf::GgufFile::open(p).and_then(|f| f.config()).map(drop).map_err(err)
    }));
    add(fuzz("pool jsonl", &pool_seed(), &dir.path().join("pool.jsonl"), n, |p| {
        dataeff::study::pool::read(p, true).map(drop).map_err(err)
    }));
    add(fuzz("profile toml", &profile_seed(), &dir.path().join("profile.toml"), n, |p| {
        dataeff::study::Profile::load(p.to_str().unwrap(), Path::new(".")).map(drop).map_err(err)
    }));
    eprintln!("fuzz_readers: {} generated inputs, {} rejected with an error naming the file, 0 panics", total.0, total.1);
    assert!(total.1 > 0, "the mutations never produced an error: the generator is broken");
}
