//! Runtime benchmark of the real models on this CPU (`cargo bench --bench runtime`, or
//! `cargo xtask bench`, which can also run the same work in PyTorch beside it): the live sweep's
//! hot loops, with tokens/s or examples/s and peak memory for each.
//!
//! Workloads (ids: `--phases forward,train_step,generate,confidence,coslow,full,train_long`):
//! - `forward`: one pass over 128 tokens, logits at every position;
//! - `train_step`: one LoRA r = 64 optimiser step (forward, backward, clipping, AdamW) on a batch
//!   of 8 examples of ~96 tokens, answer-only loss, dropout on;
//! - `generate`: greedy decoding of 16 prompts of ~60 tokens, 6 new tokens each, as one batch;
//! - `confidence`: the confidence pass over a pool of 64 prompts (~60 tokens, 8 new tokens, 16 at
//!   a time) and each prompt's mean top-token probability;
//! - `coslow`: CoS-Low over 32 examples of 27 tokens (per-example LoRA-B gradients, 8 examples per
//!   pass, and their median cosine);
//! - `full`: forward + backward of every parameter over 128 tokens (no PyTorch counterpart);
//! - `train_long`: the `train_step` update on 8 MMLU-sized examples (~600-token prompts, 1–2
//!   answer tokens): the batch is over `MAX_BATCH_TOKENS`, so the step runs in token-bounded
//!   parts; its peak RSS is the figure that bound keeps in 24 GiB (no PyTorch counterpart).
//!
//! Writes `target/bench/runtime.md` (the table), `target/bench/dataeff.json` (the measurements)
//! and `target/bench/workloads.json` (every workload's token ids, so that the PyTorch side,
//! xtask/py/bench_torch.py, does exactly the same work). Arguments: model names (default: both
//! known models), `--phases a,b`.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use dataeff::model::generate::{Generation, Request, greedy_and_score_many};
use dataeff::model::load::{build, load_weights};
use dataeff::model::lora::{LoraConfig, attach, set_training};
use dataeff::model::sketch::{SKETCH_BATCH, lora_b_gradient, lora_b_gradients, median_pairwise_cosine};
use dataeff::model::train::{MAX_BATCH_TOKENS, TokenExample, TrainConfig, Trainer, answer_loss, token_bounded_parts};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// Linux: reset the peak-RSS counter (VmHWM) so the next reading covers one workload only.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset, in MiB (0 where /proc is missing).
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Median wall time of `runs` calls of `f` after one warm-up call, in seconds.
fn time(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Random ids (the first 300 are left out: special tokens in both vocabularies).
fn random_ids(rng: &mut ChaCha8Rng, n: usize, vocab: usize) -> Vec<u32> {
    (0..n).map(|_| rng.random_range(300..vocab as u32)).collect()
}

fn examples(rng: &mut ChaCha8Rng, n: usize, prompt: std::ops::Range<usize>, answer: std::ops::Range<usize>, vocab: usize) -> Vec<TokenExample> {
    (0..n)
        .map(|_| {
            let (p, a) = (rng.random_range(prompt.clone()), rng.random_range(answer.clone()));
            TokenExample { prompt: random_ids(rng, p, vocab), answer: random_ids(rng, a, vocab) }
        })
        .collect()
}

fn examples_json(examples: &[TokenExample]) -> Value {
    examples.iter().map(|e| json!({ "prompt": e.prompt, "answer": e.answer })).collect()
}

/// Greedy decoding of `prompts`, `batch` at a time, running to `max_new` tokens (no stop token).
fn decode_all(model: &dyn dataeff::model::CausalLm, prompts: &[Vec<u32>], max_new: usize, batch: usize) -> Vec<Generation> {
    let requests: Vec<Request> = prompts.iter().map(|p| Request { prompt: p, continuations: Vec::new() }).collect();
    greedy_and_score_many(model, &requests, max_new, &|_| false, batch, &mut |_| {}).unwrap().into_iter().map(|(g, _)| g).collect()
}

struct Row {
    model: String,
    workload: &'static str,
    unit: &'static str,
    value: f64,
    seconds: f64,
    peak_mib: f64,
    note: String,
}

const LORA_RANK: usize = 64;
const LORA_ALPHA: f64 = 32.0;
const LORA_DROPOUT: f64 = 0.05;
const LEARNING_RATE: f64 = 5e-4;

/// A fresh model with LoRA r = 64 on every projection, in training mode (dropout on), and an
/// AdamW trainer for `steps` steps over `examples` examples in batches of 8.
fn lora_trainer(
    config: &dataeff::model::ModelConfig,
    weights: &dataeff::model::Weights,
    examples: usize,
    steps: usize,
) -> anyhow::Result<(Box<dyn dataeff::model::CausalLm>, Vec<(String, candle_core::Var)>, Trainer)> {
    let mut model = build(config, weights)?;
    let lora = LoraConfig { rank: LORA_RANK, alpha: LORA_ALPHA, dropout: LORA_DROPOUT, ..LoraConfig::default() };
    let vars = attach(model.as_mut(), &lora, 0)?;
    let cfg = TrainConfig { learning_rate: LEARNING_RATE, batch_size: 8, warmup_ratio: 0.0, ..TrainConfig::default() };
    let trainer = Trainer::new(&vars, examples, steps, &cfg)?;
    set_training(model.as_mut(), Some(cfg.seed));
    Ok((model, vars, trainer))
}

fn bench_model(name: &str, phases: &[String], rows: &mut Vec<Row>) -> anyhow::Result<Value> {
    let on = |p: &str| phases.is_empty() || phases.iter().any(|q| q == p);
    let device = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let path = dataeff::model::resolve::locate(name)?;
    let (config, weights) = load_weights(&path, DType::F32, &device)?;
    let model = build(&config, &weights)?;
    let vocab = config.vocab_size;
    let lora_json = json!({ "rank": LORA_RANK, "alpha": LORA_ALPHA, "dropout": LORA_DROPOUT,
        "targets": dataeff::model::lora::ALL_PROJECTIONS });
    let mut spec = json!({ "name": name, "gguf": path.display().to_string(), "vocab_size": vocab });
    let mut row = |workload, unit, value, seconds, note: String| {
        rows.push(Row { model: name.to_string(), workload, unit, value, seconds, peak_mib: peak_mib(), note })
    };

    // Inputs are drawn whether or not a workload runs, so each workload's ids do not depend on
    // which others were asked for.
    let ids128 = random_ids(&mut rng, 128, vocab);
    let train_batch = examples(&mut rng, 8, 84..104, 4..9, vocab);
    let gen_prompts: Vec<Vec<u32>> = (0..16).map(|_| { let n = rng.random_range(48..72); random_ids(&mut rng, n, vocab) }).collect();
    let pool: Vec<Vec<u32>> = (0..64).map(|_| { let n = rng.random_range(48..72); random_ids(&mut rng, n, vocab) }).collect();
    let coslow_examples = examples(&mut rng, 32, 20..21, 7..8, vocab);
    let long_batch = examples(&mut rng, 8, 560..640, 1..3, vocab);

    if on("forward") {
        spec["forward"] = json!({ "ids": ids128 });
        let ids = Tensor::new(ids128.as_slice(), &device)?.unsqueeze(0)?;
        reset_peak();
        let s = time(3, || {
            let h = model.hidden_states(&ids).unwrap();
            model.logits(&h).unwrap();
        });
        row("forward", "tokens/s", 128.0 / s, s, "128 tokens, logits everywhere".into());
    }

    if on("train_step") {
        let steps = 3;
        spec["train_step"] = json!({ "examples": examples_json(&train_batch), "lora": lora_json, "learning_rate": LEARNING_RATE, "steps": steps });
        let (lora_model, vars, mut trainer) = lora_trainer(&config, &weights, train_batch.len(), steps + 1)?;
        let tokens: usize = train_batch.iter().map(TokenExample::len).sum();
        reset_peak();
        let s = time(steps, || {
            trainer.step(lora_model.as_ref(), &vars, &train_batch).unwrap();
        });
        row("train_step", "tokens/s", tokens as f64 / s, s, format!("8 examples, {tokens} tokens, LoRA r=64, AdamW"));
    }

    if on("generate") {
        spec["generate"] = json!({ "prompts": gen_prompts, "max_new_tokens": 6 });
        reset_peak();
        let s = time(3, || {
            decode_all(model.as_ref(), &gen_prompts, 6, 16);
        });
        row("generate", "examples/s", 16.0 / s, s, "16 prompts of 48-71 tokens, 6 new tokens, one batch".into());
    }

    if on("confidence") {
        spec["confidence"] = json!({ "prompts": pool, "max_new_tokens": 8, "batch_size": 16 });
        decode_all(model.as_ref(), &pool[..16], 8, 16);
        reset_peak();
        let start = Instant::now();
        let mean: f64 = decode_all(model.as_ref(), &pool, 8, 16).iter().filter_map(Generation::mean_confidence).sum::<f64>() / pool.len() as f64;
        let s = start.elapsed().as_secs_f64();
        row("confidence", "examples/s", pool.len() as f64 / s, s, format!("64 prompts, 8 new tokens, 16 at a time; mean confidence {mean:.3}"));
    }

    if on("coslow") {
        spec["coslow"] = json!({ "examples": examples_json(&coslow_examples), "lora": lora_json });
        let mut lora_model = build(&config, &weights)?;
        let lora = LoraConfig { rank: LORA_RANK, alpha: LORA_ALPHA, dropout: 0.0, ..LoraConfig::default() };
        let vars = attach(lora_model.as_mut(), &lora, 0)?;
        dataeff::model::lora::set_sketch_mode(lora_model.as_mut(), true)?;
        lora_b_gradient(lora_model.as_ref(), &vars, &coslow_examples[0])?;
        reset_peak();
        let start = Instant::now();
        let sketches = lora_b_gradients(lora_model.as_mut(), &coslow_examples, SKETCH_BATCH, &mut |_| {})?;
        let cos = median_pairwise_cosine(&sketches)?;
        let s = start.elapsed().as_secs_f64();
        row("coslow", "examples/s", 32.0 / s, s, format!("32 examples of 27 tokens; median cosine {cos:.3}"));
    }

    if on("train_long") {
        let (lora_model, vars, mut trainer) = lora_trainer(&config, &weights, long_batch.len(), 3)?;
        let lengths: Vec<usize> = long_batch.iter().map(TokenExample::len).collect();
        let parts = token_bounded_parts(&lengths, long_batch.len(), MAX_BATCH_TOKENS).len();
        let tokens: usize = lengths.iter().sum();
        reset_peak();
        let s = time(1, || {
            trainer.step(lora_model.as_ref(), &vars, &long_batch).unwrap();
        });
        row("train_long", "tokens/s", tokens as f64 / s, s, format!("8 examples, {tokens} tokens in {parts} parts of ≤ {MAX_BATCH_TOKENS} padded tokens"));
    }

    if on("full") {
        let mut trainable = weights.clone();
        let _vars = trainable.to_trainable()?;
        let full = build(&config, &trainable)?;
        let example = TokenExample { prompt: ids128[..1].to_vec(), answer: ids128[1..].to_vec() };
        reset_peak();
        let s = time(2, || {
            answer_loss(full.as_ref(), &[&example]).unwrap().backward().unwrap();
        });
        row("full", "tokens/s", 128.0 / s, s, "forward+backward of every parameter, 128 tokens".into());
    }
    Ok(spec)
}

fn main() -> anyhow::Result<()> {
    dataeff::model::pin_thread_count();
    dataeff::model::keep_freed_memory();
    // `cargo bench` passes `--bench`; `--phases a,b` picks workloads; every other argument not
    // starting with `-` is a model name.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let phases: Vec<String> = args
        .iter()
        .position(|a| a == "--phases")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let mut names: Vec<String> =
        args.iter().enumerate().filter(|(i, a)| !a.starts_with('-') && (*i == 0 || args[i - 1] != "--phases")).map(|(_, a)| a.clone()).collect();
    if names.is_empty() {
        names = dataeff::provenance::KNOWN_MODELS.iter().map(|m| m.name.to_string()).collect();
    }
    let threads: usize = std::env::var("RAYON_NUM_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(1);
    let mut rows = Vec::new();
    let mut specs = Vec::new();
    for name in &names {
        eprintln!("benchmarking {name} …");
        specs.push(bench_model(name, &phases, &mut rows)?);
    }
    let mut table = format!(
        "Runtime benchmark (f32, CPU, {threads} threads)\n\n| model | workload | throughput | seconds | peak RSS (MiB) | what |\n|---|---|---:|---:|---:|---|\n"
    );
    for r in &rows {
        table += &format!("| {} | {} | {:.2} {} | {:.3} | {:.0} | {} |\n", r.model, r.workload, r.value, r.unit, r.seconds, r.peak_mib, r.note);
    }
    println!("{table}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&out)?;
    let write = |name: &str, bytes: &[u8]| dataeff::fsio::write_atomic(&out.join(name), bytes);
    write("runtime.md", table.as_bytes())?;
    let measured = json!({
        "runtime": "dataeff",
        "versions": { "dataeff": env!("CARGO_PKG_VERSION"), "candle-core": "0.11.1" },
        "threads": threads,
        "rows": rows.iter().map(|r| json!({ "model": r.model, "workload": r.workload, "unit": r.unit, "value": r.value,
            "seconds": r.seconds, "peak_rss_mib": r.peak_mib, "note": r.note })).collect::<Vec<_>>(),
    });
    write("dataeff.json", serde_json::to_string_pretty(&measured)?.as_bytes())?;
    let workloads = json!({ "seed": 0, "threads": threads, "models": specs });
    write("workloads.json", serde_json::to_string(&workloads)?.as_bytes())?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
