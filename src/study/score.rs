//! Scoring a model on a task's test examples (PAPER.md §1): greedy decoding, the paper's parsing
//! and metric, and — for tasks with a closed label set — a format-free score beside it: the
//! label whose answer (with its end-of-turn marker, so a label that is a prefix of another is not
//! favoured) has the highest log-likelihood. A small model often misses the answer format
//! zero-shot; the label score separates that from knowing the answer.

use indicatif::ProgressBar;

use super::render::{Renderer, parse_answer};
use crate::live::Prediction;
use crate::model::CausalLm;
use crate::model::generate::{DEFAULT_BATCH, Request, continuation_log_probs, greedy_and_score_many};
use crate::model::train::TokenExample;
use crate::tasks::{AnswerType, Task, TextExample};

/// The test score of one model state.
pub struct TestScore {
    pub score: f64,
    pub label_score: Option<f64>,
    pub predictions: Vec<Prediction>,
}

/// The candidate answers of `example` when the task has a closed set (its labels, or the
/// example's listed options); empty otherwise.
pub fn candidates<'t>(task: &'t Task, example: &'t TextExample) -> &'t [String] {
    match &task.answer {
        AnswerType::Labels(labels) => labels,
        AnswerType::Option => &example.options,
        AnswerType::Integer | AnswerType::FreeText => &[],
    }
}

/// Score `model` on `examples` of `task`, decoding [`DEFAULT_BATCH`] prompts at a time; `bar`
/// advances once per example.
pub fn score_test(
    model: &dyn CausalLm,
    renderer: &Renderer,
    task: &Task,
    examples: &[TextExample],
    max_new_tokens: usize,
    label_scores: bool,
    bar: &ProgressBar,
) -> anyhow::Result<TestScore> {
    struct Prepared<'e> {
        prompt: String,
        ids: Vec<u32>,
        labels: &'e [String],
        answers: Vec<TokenExample>,
        /// Every label's prompt part is the generation prompt, so the labels are scored from the
        /// prompt's own pass (true for every template we know; otherwise each label gets a pass
        /// of its own).
        shared: bool,
    }
    let prepared = examples
        .iter()
        .map(|example| {
            let prompt = task.render(example);
            let ids = renderer.prompt_ids(&prompt)?;
            let labels = if label_scores { candidates(task, example) } else { &[] };
            // Each label as the model would answer it (with its end-of-turn marker).
            let answers: Vec<TokenExample> = labels.iter().map(|l| renderer.training_example(&prompt, l)).collect::<anyhow::Result<_>>()?;
            let shared = answers.iter().all(|a| a.prompt == ids);
            Ok(Prepared { prompt, ids, labels, answers, shared })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let requests: Vec<Request> = prepared
        .iter()
        .map(|p| Request {
            prompt: &p.ids,
            continuations: if p.shared { p.answers.iter().map(|a| a.answer.as_slice()).collect() } else { Vec::new() },
        })
        .collect();
    let decoded = greedy_and_score_many(model, &requests, max_new_tokens, &|id| renderer.is_stop(id), DEFAULT_BATCH, &mut |n| {
        bar.inc(n as u64)
    })?;
    let mut predictions = Vec::with_capacity(examples.len());
    for (index, ((example, p), (generation, shared_scores))) in examples.iter().zip(&prepared).zip(decoded).enumerate() {
        let generated = renderer.decode(&generation.ids)?;
        let score = task.score(parse_answer(&generated), example);
        let mut label_log_likelihoods = Vec::new();
        let mut label_correct = None;
        if !p.labels.is_empty() {
            for (i, (label, answer)) in p.labels.iter().zip(&p.answers).enumerate() {
                let log_probs =
                    if p.shared { shared_scores[i].clone() } else { continuation_log_probs(model, &answer.prompt, &answer.answer)? };
                label_log_likelihoods.push((label.clone(), log_probs.iter().sum::<f64>()));
            }
            let best = label_log_likelihoods
                .iter()
                .fold(None::<&(String, f64)>, |best, c| match best {
                    Some(b) if b.1 >= c.1 => Some(b),
                    _ => Some(c),
                })
                .expect("at least one label");
            label_correct = Some(task.score(&best.0, example) > 0.5);
        }
        predictions.push(Prediction {
            index,
            prompt: p.prompt.clone(),
            target: example.target().to_string(),
            generated,
            score,
            label_log_likelihoods,
            label_correct,
        });
    }
    let n = predictions.len().max(1) as f64;
    let score = predictions.iter().map(|p| p.score).sum::<f64>() / n;
    let label_score = predictions
        .iter()
        .map(|p| p.label_correct.map(f64::from))
        .collect::<Option<Vec<f64>>>()
        .filter(|v| !v.is_empty())
        .map(|v| v.iter().sum::<f64>() / n);
    Ok(TestScore { score, label_score, predictions })
}
