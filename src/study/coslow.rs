//! CoS-Low and the paper's comparison metrics (PAPER.md §4): the model's confidence on
//! unannotated prompts, the low-confidence share, seeded draws of k examples, their per-example
//! LoRA gradients, and the statistics over them. Used by the sweep's metrics cells and by the
//! practitioner's `select` and `coslow` verbs alike.

use anyhow::{bail, ensure};
use indicatif::ProgressBar;
use rand::SeedableRng as _;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;

use super::render::Renderer;
use crate::model::generate::{DEFAULT_BATCH, Request, greedy_and_score_many};
use crate::model::lora::LoraConfig;
use crate::model::load::ModelFiles;
use crate::model::sketch::{self, GradientSketch};
use crate::model::CausalLm;

/// The model's confidence on each prompt (PAPER.md §4 step 1): greedy-generate up to
/// `max_new_tokens`, then the mean over the generated tokens of the probability of the most
/// likely token — with greedy decoding that is each generated token's probability, the end
/// marker masked. `None` for a prompt whose answer was only the end marker. The prompts are
/// decoded [`DEFAULT_BATCH`] at a time; `on_done(n)` is called as each batch of `n` finishes.
pub fn confidences(
    model: &dyn CausalLm,
    renderer: &Renderer,
    prompts: &[&str],
    max_new_tokens: usize,
    on_done: &mut dyn FnMut(usize),
) -> anyhow::Result<Vec<Option<f64>>> {
    let ids: Vec<Vec<u32>> = prompts.iter().map(|p| renderer.prompt_ids(p)).collect::<anyhow::Result<_>>()?;
    let requests: Vec<Request> = ids.iter().map(|ids| Request { prompt: ids, continuations: Vec::new() }).collect();
    let decoded = greedy_and_score_many(model, &requests, max_new_tokens, &|id| renderer.is_stop(id), DEFAULT_BATCH, on_done)?;
    Ok(decoded.into_iter().map(|(generation, _)| generation.mean_confidence()).collect())
}

/// Indices of the `share` of prompts with the lowest confidence (at least `at_least`, and at
/// least one), lowest first; prompts without a confidence are left out, ties broken by index.
pub fn low_confidence(confidence: &[Option<f64>], share: f64, at_least: usize) -> Vec<usize> {
    let mut ranked: Vec<(usize, f64)> = confidence.iter().enumerate().filter_map(|(i, c)| c.map(|c| (i, c))).collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let take = ((share * ranked.len() as f64).ceil() as usize).max(at_least).max(1).min(ranked.len());
    ranked.into_iter().take(take).map(|(i, _)| i).collect()
}

/// `k` of `from`, uniformly without replacement, in the order drawn.
pub fn draw(from: &[usize], k: usize, rng: &mut ChaCha8Rng) -> anyhow::Result<Vec<usize>> {
    ensure!(from.len() >= k, "{} to draw from, fewer than k = {k}", from.len());
    Ok(sample(rng, from.len(), k).into_iter().map(|i| from[i]).collect())
}

/// The seeded generator of a repeat's draws.
pub fn draw_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The LoRA-B gradient of each (prompt, answer), LoRA's A seeded with `lora_seed`, on a fresh
/// copy of the base model in eval mode (the paper's LoRA settings). `bar` advances per example;
/// an example that cannot be made (empty answer, too long) is an error naming its position.
pub fn gradients(
    files: &ModelFiles,
    renderer: &Renderer,
    examples: &[(String, String)],
    lora_seed: u64,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<GradientSketch>> {
    let mut model = files.build()?;
    sketch::prepare(model.as_mut(), &LoraConfig::default(), lora_seed)?;
    let examples = examples
        .iter()
        .enumerate()
        .map(|(i, (prompt, answer))| renderer.gradient_example(prompt, answer).map_err(|e| anyhow::anyhow!("example {}: {e}", i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    sketch::lora_b_gradients(model.as_mut(), &examples, sketch::SKETCH_BATCH, &mut |n| bar.inc(n as u64))
}

/// CoS-Low's statistic: the median pairwise cosine of the sketches.
pub fn median_cosine(sketches: &[GradientSketch]) -> anyhow::Result<f64> {
    if sketches.iter().any(|s| s.norm() == 0.0) {
        bail!("an example's gradient is zero (its answer is certain already), so its cosine is undefined");
    }
    Ok(sketch::median_pairwise_cosine(sketches)?)
}

/// The mean gradient norm (`grad_norm_k`).
pub fn mean_norm(sketches: &[GradientSketch]) -> f64 {
    sketches.iter().map(GradientSketch::norm).sum::<f64>() / sketches.len().max(1) as f64
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_low_share_is_the_least_confident_prompts() {
        let c = [Some(0.9), None, Some(0.2), Some(0.5), Some(0.2), Some(0.99)];
        assert_eq!(low_confidence(&c, 0.1, 0), vec![2]);
        assert_eq!(low_confidence(&c, 0.5, 0), vec![2, 4, 3]);
        assert_eq!(low_confidence(&c, 1.0, 0).len(), 5);
        assert_eq!(low_confidence(&c, 0.1, 2), vec![2, 4], "widened to k when the share is smaller");
    }

    #[test]
    fn draws_are_seeded_and_refuse_too_few() {
        let from: Vec<usize> = (10..30).collect();
        let a = draw(&from, 5, &mut draw_rng(7)).unwrap();
        assert_eq!(a, draw(&from, 5, &mut draw_rng(7)).unwrap());
        assert_ne!(a, draw(&from, 5, &mut draw_rng(8)).unwrap());
        assert!(a.iter().all(|i| from.contains(i)));
        assert!(draw(&from, 21, &mut draw_rng(7)).is_err());
    }
}
