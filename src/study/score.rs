//! Scoring a model on a task's test examples (PAPER.md §1): greedy decoding, the paper's parsing
//! and metric, and — for tasks with a closed label set — a format-free score beside it: the
//! label whose answer (with its end-of-turn marker, so a label that is a prefix of another is not
//! favoured) has the highest log-likelihood. A small model often misses the answer format
//! zero-shot; the label score separates that from knowing the answer.

use indicatif::ProgressBar;

use super::render::{Renderer, parse_answer};
use crate::live::Prediction;
use crate::model::CausalLm;
use crate::model::generate::{continuation_log_probs, greedy_and_score};
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

/// Score `model` on `examples` of `task`; `bar` advances once per example.
pub fn score_test(
    model: &dyn CausalLm,
    renderer: &Renderer,
    task: &Task,
    examples: &[TextExample],
    max_new_tokens: usize,
    label_scores: bool,
    bar: &ProgressBar,
) -> anyhow::Result<TestScore> {
    let mut predictions = Vec::with_capacity(examples.len());
    for (index, example) in examples.iter().enumerate() {
        let prompt = task.render(example);
        let ids = renderer.prompt_ids(&prompt)?;
        let labels = if label_scores { candidates(task, example) } else { &[] };
        // Each label as the model would answer it (with its end-of-turn marker), scored from the
        // prompt's own pass when the label's prompt part is the generation prompt (it is for
        // every template we know; otherwise it gets a pass of its own).
        let answers: Vec<_> = labels.iter().map(|l| renderer.training_example(&prompt, l)).collect::<anyhow::Result<_>>()?;
        let shared: Vec<&[u32]> = answers.iter().filter(|a| a.prompt == ids).map(|a| a.answer.as_slice()).collect();
        let all_shared = shared.len() == answers.len();
        let (generation, shared_scores) =
            greedy_and_score(model, &ids, max_new_tokens, &|id| renderer.is_stop(id), if all_shared { &shared } else { &[] })?;
        let generated = renderer.decode(&generation.ids)?;
        let score = task.score(parse_answer(&generated), example);
        let mut label_log_likelihoods = Vec::new();
        let mut label_correct = None;
        if !labels.is_empty() {
            for (i, (label, answer)) in labels.iter().zip(&answers).enumerate() {
                let log_probs = if all_shared {
                    shared_scores[i].clone()
                } else {
                    continuation_log_probs(model, &answer.prompt, &answer.answer)?
                };
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
            prompt,
            target: example.target().to_string(),
            generated,
            score,
            label_log_likelihoods,
            label_correct,
        });
        bar.inc(1);
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
