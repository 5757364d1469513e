//! The real models end to end (needs `cargo xtask fetch-model all`, which `cargo xtask test`
//! runs): load, tokenize, generate, score, describe — through the library and the CLI.

#![cfg(feature = "lm")]

use std::process::Command;
use std::sync::OnceLock;

use candle_core::{DType, Device};
use dataeff::model::generate::{continuation_log_probs, greedy};
use dataeff::model::load::ModelFiles;
use dataeff::model::CausalLm;

fn dataeff(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dataeff")).args(args).output().expect("run dataeff");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

struct Loaded {
    files: ModelFiles,
    model: Box<dyn CausalLm>,
}

fn open(name: &str) -> Loaded {
    let files = ModelFiles::open(name, DType::F32, &Device::Cpu).unwrap_or_else(|e| panic!("{e:#}"));
    let model = files.build().unwrap();
    Loaded { files, model }
}

fn gemma() -> &'static Loaded {
    static MODEL: OnceLock<Loaded> = OnceLock::new();
    MODEL.get_or_init(|| open("gemma-3-270m"))
}

fn smollm2() -> &'static Loaded {
    static MODEL: OnceLock<Loaded> = OnceLock::new();
    MODEL.get_or_init(|| open("smollm2-135m-instruct"))
}

#[test]
fn smollm2_answers_paris_when_asked_in_its_chat_format() {
    let m = smollm2();
    let text = m.files.chat.user_turn("What is the capital of France? Answer with one word.").unwrap();
    let prompt = m.files.tokenizer.encode_prompt(&text).unwrap();
    let generation = greedy(m.model.as_ref(), &prompt, 16, &|id| m.files.tokenizer.is_eos(id)).unwrap();
    let answer = m.files.tokenizer.decode(&generation.ids).unwrap();
    let first_sentence = answer.split('.').next().unwrap();
    assert!(first_sentence.contains("Paris"), "{answer:?}");
    assert!(generation.stopped, "an instruct model ends its turn: {answer:?}");
    let confidence = generation.mean_confidence().unwrap();
    assert!(confidence > 0.5 && confidence <= 1.0, "{confidence}");
}

#[test]
fn gemma_continues_the_capitals_pattern_with_berlin() {
    let m = gemma();
    let prompt = m.files.tokenizer.encode_prompt("The capital of France is Paris. The capital of Germany is").unwrap();
    assert_eq!(prompt[0], 2, "Gemma prompts start with BOS");
    let generation = greedy(m.model.as_ref(), &prompt, 3, &|id| m.files.tokenizer.is_eos(id)).unwrap();
    let text = m.files.tokenizer.decode(&generation.ids).unwrap();
    assert!(text.starts_with(" Berlin"), "{text:?}");
    // The score agrees: Berlin is far likelier than Paris here.
    let score = |c: &str| -> f64 {
        let ids = m.files.tokenizer.encode(c).unwrap();
        continuation_log_probs(m.model.as_ref(), &prompt, &ids).unwrap().iter().sum()
    };
    assert!(score(" Berlin") > score(" Paris") + 2.0);
}

#[test]
fn cli_generate_score_and_model_info() {
    let (ok, out, err) = dataeff(&[
        "generate", "--model", "smollm2-135m-instruct", "--chat", "--max-new-tokens", "12",
        "--prompt", "What is the capital of France? Answer with one word.",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("Paris"), "{out}");

    let (ok, out, err) = dataeff(&[
        "score", "--model", "gemma-3-270m", "--prompt", "The capital of France is Paris. The capital of Germany is",
        "--continuation", " Berlin",
    ]);
    assert!(ok, "{err}");
    let fields: Vec<&str> = out.lines().next().unwrap().split('\t').collect();
    assert_eq!(fields[0], "logprob", "{out}");
    let logprob: f64 = fields[1].parse().unwrap();
    assert!(logprob < 0.0 && logprob > -3.0, "{out}");
    assert_eq!(fields[3], "1", "\" Berlin\" is one Gemma token: {out}");

    let (ok, out, err) = dataeff(&["model-info", "--model", "gemma-3-270m", "--json"]);
    assert!(ok, "{err}");
    let info: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["architecture"], "gemma3");
    assert_eq!(info["sha256"], "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818");
    let params = info["parameters"].as_u64().unwrap();
    assert!((260_000_000..280_000_000).contains(&params), "{params}");
    // The base Gemma GGUF carries no chat template, so our `gemma` format stands in.
    assert_eq!(info["chat_format"], "gemma");

    let (ok, _, err) = dataeff(&["generate", "--model", "no-such-model", "--prompt", "x"]);
    assert!(!ok && err.contains("no-such-model") && err.contains("smollm2-135m-instruct"), "{err}");
}

/// bf16 keeps norms and softmax in f32 (as transformers does): its scores stay close to f32's.
/// Before that, Gemma's bf16 log-probability of " Berlin" here was off by 1.1 nats.
#[test]
fn bf16_scores_stay_close_to_f32() {
    for (name, f32_model) in [("gemma-3-270m", gemma()), ("smollm2-135m-instruct", smollm2())] {
        let half = ModelFiles::open(name, DType::BF16, &Device::Cpu).unwrap();
        let half_model = half.build().unwrap();
        let prompt = half.tokenizer.encode_prompt("The capital of Germany is").unwrap();
        let answer = half.tokenizer.encode(" Berlin").unwrap();
        let score = |m: &dyn CausalLm| continuation_log_probs(m, &prompt, &answer).unwrap().iter().sum::<f64>();
        let (full, reduced) = (score(f32_model.model.as_ref()), score(half_model.as_ref()));
        assert!((full - reduced).abs() < 0.15, "{name}: f32 {full:.3} vs bf16 {reduced:.3}");
    }
}
