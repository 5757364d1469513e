//! `dataeff coslow`: CoS-Low of your own annotated low-confidence examples — the median pairwise
//! cosine of their per-example LoRA gradients, repeated over seeds of LoRA's random A.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::json;

use dataeff::stats::{mean, sample_sd};
use dataeff::study::coslow::{gradients, median_cosine};
use dataeff::study::key::{address, model_key, model_sha256, sha256_text};
use dataeff::study::pool;
use dataeff::study::progress::Progress;
use dataeff::study::render::Renderer;

use super::model_args::ModelArgs;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Reads: JSON Lines with a `prompt` and a non-empty `answer` string per line (what `dataeff select`
wrote, annotated). The loss is on the answer tokens, without the end-of-turn marker, as in the
authors' script; LoRA r = 64, alpha = 32 on all seven projections, the base model frozen.
Prints `coslow <value>` (the mean over repeats), its spread, and the examples used; --json prints
the whole record instead. Writes nothing but a cache of finished repeats under
$DATAEFF_CACHE/coslow/, so a killed run resumes and a rerun is instant.

Example: dataeff coslow --annotated annotated.jsonl --repeats 5")]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// The annotated examples (JSON Lines with `prompt` and `answer`).
    #[arg(long)]
    annotated: PathBuf,
    /// Repeats over seeds of LoRA's A (repeat r uses --lora-seed + r); the spread is over them.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    repeats: u64,
    #[arg(long, default_value_t = 2000)]
    lora_seed: u64,
    /// Feed the prompts as raw text instead of one user turn of the model's chat template.
    #[arg(long)]
    no_chat: bool,
    /// Print the whole record as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let lines = pool::read(&args.annotated, true)?;
    anyhow::ensure!(lines.len() >= 2, "{}: CoS-Low needs at least 2 annotated examples, got {}", args.annotated.display(), lines.len());
    let files = args.model.open()?;
    let renderer = Renderer::new(&files, !args.no_chat)?;
    let examples: Vec<(String, String)> =
        lines.iter().map(|l| (l.prompt.clone(), l.answer.clone().expect("read with need_answer"))).collect();
    // Every example must make a gradient example before any gradient is computed.
    for (line, (prompt, answer)) in lines.iter().zip(&examples) {
        renderer.gradient_example(prompt, answer).with_context(|| format!("{}:{}", args.annotated.display(), line.line))?;
    }
    let sha = model_sha256(&files.path)?;
    let mut listing = String::new();
    for (p, a) in &examples {
        listing += &format!("{}\u{1f}{}\n", sha256_text(p), sha256_text(a));
    }
    let base_key = json!({
        "model": model_key(&files, &sha, &format!("{:?}", args.model.dtype), !args.no_chat)?,
        "examples_sha256": sha256_text(&listing),
        "dataeff": env!("CARGO_PKG_VERSION"),
    });
    let cache_dir = dataeff::provenance::cache_dir().join("coslow");
    let progress = Progress::new();
    let mut repeats = Vec::new();
    for r in 0..args.repeats {
        let seed = args.lora_seed + r;
        let key = json!({ "base": base_key, "lora_seed": seed });
        let cache = cache_dir.join(format!("{}.json", address(&key)));
        let cached = std::fs::read_to_string(&cache).ok().and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        let value = match cached.and_then(|v| v.get("coslow").and_then(|c| c.as_f64())) {
            Some(v) => v,
            None => {
                let bar = progress.bar(examples.len(), format!("repeat {} of {}", r + 1, args.repeats));
                let sketches = gradients(&files, &renderer, &examples, seed, &bar)?;
                bar.finish_and_clear();
                let v = median_cosine(&sketches)?;
                let text = serde_json::to_string_pretty(&json!({ "key": key, "coslow": v }))?;
                dataeff::fsio::write_atomic(&cache, text.as_bytes()).with_context(|| format!("writing {}", cache.display()))?;
                v
            }
        };
        repeats.push((seed, value));
    }
    let values: Vec<f64> = repeats.iter().map(|r| r.1).collect();
    // One repeat has no spread to speak of: 0 rather than sample_sd's NaN.
    let (mean, sd) = (mean(&values), if values.len() > 1 { sample_sd(&values) } else { 0.0 });
    let mut out = std::io::stdout().lock();
    if args.json {
        let record = json!({
            "coslow": mean,
            "sd": sd,
            "examples": examples.len(),
            "model": files.spec,
            "annotated": args.annotated.display().to_string(),
            "repeats": repeats.iter().map(|(seed, v)| json!({ "lora_seed": seed, "coslow": v })).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&record)?)?;
    } else {
        writeln!(out, "coslow {mean:.6}")?;
        writeln!(out, "sd {sd:.6} over {} repeats (LoRA A seeds {}..={})", args.repeats, args.lora_seed, args.lora_seed + args.repeats - 1)?;
        writeln!(out, "examples {}", examples.len())?;
        writeln!(out, "next: dataeff predict --coefficients <family or file> --coslow {mean:.4} --target 0.9")?;
    }
    Ok(())
}
