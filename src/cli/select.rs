//! `dataeff select`: the first step of CoS-Low on your own task — rank an unannotated pool by the
//! model's confidence and pick k low-confidence prompts to annotate.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde_json::json;

use dataeff::model::generate::DEFAULT_BATCH;
use dataeff::study::coslow::{confidences, draw, draw_rng, low_confidence};
use dataeff::study::key::{address, model_key, model_sha256, sha256_text};
use dataeff::study::pool;
use dataeff::study::progress::Progress;
use dataeff::study::render::Renderer;

use super::model_args::ModelArgs;

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Reads: a JSON Lines pool, one object per line with a `prompt` string (other fields are kept).
Writes: --out, the k selected lines as they were plus `confidence` (the model's mean top-token
probability on its own greedy answer) and `pool_line` (the line number in the pool); add an
`answer` string to each and give the file to `dataeff coslow --annotated`.
Resumable: each prompt's confidence is appended to <out>.confidence.jsonl as it is computed (16 prompts
are decoded at a time), and a
rerun with the same model, pool and settings starts where the last one stopped.
Prompts longer than the model's context are skipped and counted.

Example: dataeff select --pool pool.jsonl --k 32 --out to_annotate.jsonl")]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// The unannotated pool (JSON Lines with a `prompt` field).
    #[arg(long)]
    pool: PathBuf,
    /// How many prompts to select (the paper: 32).
    #[arg(long, default_value_t = 32)]
    k: usize,
    /// Where to write the selected prompts (JSON Lines).
    #[arg(long)]
    out: PathBuf,
    /// The low-confidence share to draw from (the paper: the bottom decile, 0.1).
    #[arg(long, default_value_t = 0.1, value_parser = share)]
    share: f64,
    /// Seed of the draw of k from the low-confidence share.
    #[arg(long, default_value_t = 1000)]
    seed: u64,
    /// New tokens the model may generate for its answer (the paper: 30).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=512))]
    max_new_tokens: u64,
    /// Feed the prompts as raw text instead of one user turn of the model's chat template.
    #[arg(long)]
    no_chat: bool,
}

fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!("`{s}` is not a share in (0, 1]")),
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.k < 2 {
        bail!("--k must be at least 2 (CoS-Low is a pairwise cosine), got {}", args.k);
    }
    let lines = pool::read(&args.pool, false)?;
    let (files, model) = args.model.load()?;
    let renderer = Renderer::new(&files, !args.no_chat)?;
    let sha = model_sha256(&files.path)?;
    let key = json!({
        "model": model_key(&files, &sha, &format!("{:?}", args.model.dtype), !args.no_chat)?,
        "max_new_tokens": args.max_new_tokens,
        "dataeff": env!("CARGO_PKG_VERSION"),
    });
    let key_sha = address(&key);
    let cache_path = PathBuf::from(format!("{}.confidence.jsonl", args.out.display()));
    let (cached, mut cache) = open_cache(&cache_path, &key_sha)?;

    let progress = Progress::new();
    let bar = progress.bar(lines.len(), "confidence");
    let context = files.config.max_position_embeddings;
    let mut values = Vec::with_capacity(lines.len());
    let mut too_long = 0usize;
    // A batch of prompts at a time, in pool order. A batch with any prompt not cached is decoded
    // whole, so that every prompt is always decoded beside the same others: batched decoding
    // rounds differently in different company, and a resumed run must give the same numbers as
    // one that never stopped. The new outcomes are appended to the cache before the next batch.
    for batch in lines.chunks(DEFAULT_BATCH) {
        let shas: Vec<String> = batch.iter().map(|line| sha256_text(&line.prompt)).collect();
        let cached_outcomes: Vec<Option<Outcome>> = shas.iter().map(|sha| cached.get(sha).copied()).collect();
        let mut outcomes = cached_outcomes.clone();
        let mut to_decode = Vec::new();
        if cached_outcomes.iter().any(Option::is_none) {
            for (i, line) in batch.iter().enumerate() {
                let at = || format!("{}:{}", args.pool.display(), line.line);
                let ids = renderer.prompt_ids(&line.prompt).with_context(at)?;
                if ids.len() + args.max_new_tokens as usize > context {
                    outcomes[i] = Some(Outcome::TooLong);
                } else {
                    to_decode.push(i);
                }
            }
        }
        let prompts: Vec<&str> = to_decode.iter().map(|&i| batch[i].prompt.as_str()).collect();
        let first = batch[0].line;
        let decoded = confidences(model.as_ref(), &renderer, &prompts, args.max_new_tokens as usize, &mut |_| {})
            .with_context(|| format!("{}: the prompts from line {first}", args.pool.display()))?;
        for (&i, c) in to_decode.iter().zip(decoded) {
            outcomes[i] = Some(match c {
                Some(c) => Outcome::Confidence(c),
                None => Outcome::OnlyEndMarker,
            });
        }
        for (prompt_sha, outcome) in shas.into_iter().zip(outcomes) {
            let outcome = outcome.expect("every prompt has an outcome");
            if !cached.contains_key(&prompt_sha) {
                writeln!(cache, "{}", json!({ "prompt_sha256": prompt_sha, "outcome": outcome }))?;
            }
            too_long += usize::from(outcome == Outcome::TooLong);
            values.push(match outcome {
                Outcome::Confidence(c) => Some(c),
                Outcome::OnlyEndMarker | Outcome::TooLong => None,
            });
            bar.inc(1);
        }
        cache.flush()?;
    }
    let ranked = values.iter().filter(|v| v.is_some()).count();
    let low = low_confidence(&values, args.share, 0);
    if low.len() < args.k {
        bail!(
            "{}: the lowest {:.0}% by confidence of {ranked} usable prompts is {} prompts, fewer than --k {}: give a pool \
             of at least {} prompts, or raise --share",
            args.pool.display(),
            args.share * 100.0,
            low.len(),
            args.k,
            (args.k as f64 / args.share).ceil()
        );
    }
    let chosen = draw(&low, args.k, &mut draw_rng(args.seed))?;
    let mut text = String::new();
    for &i in &chosen {
        let mut object = lines[i].object.clone();
        object.insert("confidence".into(), json!(values[i]));
        object.insert("pool_line".into(), json!(lines[i].line));
        text += &serde_json::to_string(&object)?;
        text.push('\n');
    }
    dataeff::fsio::write_atomic(&args.out, text.as_bytes()).with_context(|| format!("writing {}", args.out.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "pool: {} prompts ({ranked} ranked; {too_long} skipped as longer than the context, {} with no answer)", lines.len(), lines.len() - ranked - too_long)?;
    writeln!(out, "low-confidence share: the lowest {} ({:.0}%), confidence up to {:.4}", low.len(), args.share * 100.0, values[*low.last().expect("k ≥ 2")].unwrap_or(f64::NAN))?;
    writeln!(out, "selected {} prompts (seed {}) -> {}: add an `answer` to each, then run `dataeff coslow --annotated {}`", chosen.len(), args.seed, args.out.display(), args.out.display())?;
    Ok(())
}

/// What the model made of one prompt.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Confidence(f64),
    /// It answered with the end marker alone: no confidence, left out of the ranking.
    OnlyEndMarker,
    /// The prompt and the new tokens do not fit in the model's context: skipped.
    TooLong,
}

/// The outcomes already in the cache file at `path` (by prompt sha256) and the file, open to
/// append. A file written under another key, or none, starts over with a header line holding
/// `key_sha`; a line cut short by a kill does not parse, is recomputed, and gets its end.
fn open_cache(path: &std::path::Path, key_sha: &str) -> anyhow::Result<(std::collections::HashMap<String, Outcome>, std::fs::File)> {
    #[derive(serde::Deserialize)]
    struct Line {
        prompt_sha256: String,
        outcome: Outcome,
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines();
    let header: Option<serde_json::Value> = lines.next().and_then(|l| serde_json::from_str(l).ok());
    if header.as_ref().and_then(|h| h.get("key_sha256")).and_then(|k| k.as_str()) != Some(key_sha) {
        let mut file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        writeln!(file, "{}", json!({ "key_sha256": key_sha }))?;
        return Ok((std::collections::HashMap::new(), file));
    }
    let cached = lines.filter_map(|l| serde_json::from_str::<Line>(l).ok()).map(|l| (l.prompt_sha256, l.outcome)).collect();
    let mut file = std::fs::OpenOptions::new().append(true).open(path).with_context(|| format!("opening {}", path.display()))?;
    if !text.ends_with('\n') {
        writeln!(file)?;
    }
    Ok((cached, file))
}
