//! Runtime benchmark of the real models on this CPU (`cargo bench --bench runtime`, or
//! `cargo xtask bench`): forward, forward+backward (full and LoRA), CoS-Low gradients, greedy
//! generation, peak memory and sketch size. Prints a Markdown table and writes it to
//! `target/bench/runtime.md`. Arguments: model names (default: both known models).
//!
//! The workloads mirror the PyTorch figures in the issue: 128-token forward with logits at every
//! position, full-parameter forward+backward over 128 tokens, CoS-Low on 32 examples of ~27
//! tokens with LoRA r = 64 on all seven projections.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use dataeff::model::generate::greedy;
use dataeff::model::load::{build, load_weights};
use dataeff::model::lora::{LoraConfig, attach};
use dataeff::model::sketch::{lora_b_gradient, median_pairwise_cosine};
use dataeff::model::train::{TokenExample, answer_loss};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Linux: reset the peak-RSS counter (VmHWM) so the next reading covers one phase only.
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

/// Median wall time of `runs` calls of `f`, in seconds.
fn time(runs: usize, mut f: impl FnMut()) -> f64 {
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

fn random_ids(rng: &mut ChaCha8Rng, n: usize, vocab: usize) -> Vec<u32> {
    // Skip the first ids (special tokens in both vocabularies).
    (0..n)
        .map(|_| rng.random_range(300..vocab as u32))
        .collect()
}

struct Row {
    what: String,
    seconds: f64,
    throughput: String,
    peak_mib: f64,
}

fn bench_model(name: &str, phases: &[String], rows: &mut Vec<Row>) -> anyhow::Result<()> {
    let on = |p: &str| phases.is_empty() || phases.iter().any(|q| q == p);
    let device = Device::Cpu;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    reset_peak();
    let start = Instant::now();
    let path = dataeff::model::resolve::locate(name)?;
    let (config, weights) = load_weights(&path, DType::F32, &device)?;
    let model = build(&config, &weights)?;
    rows.push(Row {
        what: format!("{name}: load + dequantise to f32"),
        seconds: start.elapsed().as_secs_f64(),
        throughput: String::new(),
        peak_mib: peak_mib(),
    });
    let vocab = config.vocab_size;
    let ids128 = Tensor::new(random_ids(&mut rng, 128, vocab), &device)?.unsqueeze(0)?;

    if on("forward") {
        reset_peak();
        let s = time(3, || {
            let h = model.hidden_states(&ids128).unwrap();
            model.logits(&h).unwrap();
        });
        rows.push(Row {
            what: format!("{name}: forward, 128 tokens, logits everywhere"),
            seconds: s,
            throughput: format!("{:.0} tok/s", 128.0 / s),
            peak_mib: peak_mib(),
        });
    }

    let example128 = TokenExample {
        prompt: random_ids(&mut rng, 1, vocab),
        answer: random_ids(&mut rng, 127, vocab),
    };
    if on("full") {
        reset_peak();
        let mut trainable = weights.clone();
        let _vars = trainable.to_trainable()?;
        let full = build(&config, &trainable)?;
        let s = time(2, || {
            answer_loss(full.as_ref(), &[&example128])
                .unwrap()
                .backward()
                .unwrap();
        });
        rows.push(Row {
            what: format!("{name}: forward+backward, 128 tokens, all parameters"),
            seconds: s,
            throughput: format!("{:.0} tok/s", 128.0 / s),
            peak_mib: peak_mib(),
        });
    }

    let mut lora_model = build(&config, &weights)?;
    let lora = LoraConfig {
        dropout: 0.0,
        ..LoraConfig::default()
    };
    let vars = attach(lora_model.as_mut(), &lora, 0)?;
    reset_peak();
    if on("lora") {
        let s = time(2, || {
            answer_loss(lora_model.as_ref(), &[&example128])
                .unwrap()
                .backward()
                .unwrap();
        });
        rows.push(Row {
            what: format!("{name}: forward+backward, 128 tokens, LoRA r=64"),
            seconds: s,
            throughput: format!("{:.0} tok/s", 128.0 / s),
            peak_mib: peak_mib(),
        });
    }

    let examples: Vec<TokenExample> = (0..32)
        .map(|_| TokenExample {
            prompt: random_ids(&mut rng, 20, vocab),
            answer: random_ids(&mut rng, 7, vocab),
        })
        .collect();
    if on("coslow") {
        dataeff::model::lora::set_sketch_mode(lora_model.as_mut(), true)?;
        reset_peak();
        let start = Instant::now();
        let sketches = examples
            .iter()
            .map(|e| lora_b_gradient(lora_model.as_ref(), &vars, e))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let grads = start.elapsed().as_secs_f64();
        let cos = median_pairwise_cosine(&sketches)?;
        let s = start.elapsed().as_secs_f64();
        rows.push(Row {
            what: format!("{name}: CoS-Low, 32 examples × 27 tokens (gradients {grads:.1} s)"),
            seconds: s,
            throughput: format!(
                "{:.2} s/example; sketch {} floats = {:.1} MB; median cos {cos:.3}",
                grads / 32.0,
                sketches[0].values.len(),
                sketches[0].bytes() as f64 / 1e6
            ),
            peak_mib: peak_mib(),
        });
    }

    if on("generate") {
        let prompt = random_ids(&mut rng, 16, vocab);
        reset_peak();
        let start = Instant::now();
        let generation = greedy(model.as_ref(), &prompt, 64, &|_| false)?;
        let s = start.elapsed().as_secs_f64();
        rows.push(Row {
            what: format!("{name}: greedy generation, 16-token prompt + 64 new"),
            seconds: s,
            throughput: format!("{:.1} tok/s", generation.ids.len() as f64 / s),
            peak_mib: peak_mib(),
        });
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    dataeff::model::pin_thread_count();
    // `cargo bench` passes `--bench`; `--phases a,b` picks workloads (forward, full, lora, coslow,
    // generate); every other argument not starting with `-` is a model name.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let phases: Vec<String> = args
        .iter()
        .position(|a| a == "--phases")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let mut names: Vec<String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with('-') && (*i == 0 || args[i - 1] != "--phases"))
        .map(|(_, a)| a.clone())
        .collect();
    if names.is_empty() {
        names = dataeff::provenance::KNOWN_MODELS
            .iter()
            .map(|m| m.name.to_string())
            .collect();
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rows = Vec::new();
    for name in &names {
        eprintln!("benchmarking {name} …");
        bench_model(name, &phases, &mut rows)?;
    }
    let mut table = format!(
        "Runtime benchmark (f32, CPU, {threads} threads)\n\n| workload | seconds | throughput | peak RSS (MiB) |\n|---|---:|---|---:|\n"
    );
    for r in &rows {
        table += &format!(
            "| {} | {:.3} | {} | {:.0} |\n",
            r.what, r.seconds, r.throughput, r.peak_mib
        );
    }
    println!("{table}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&out)?;
    dataeff::fsio::write_atomic(&out.join("runtime.md"), table.as_bytes())?;
    Ok(())
}
