//! `sweep plan`'s ETA: a short calibration on this machine (a training step, a prefill, decoded
//! tokens, a per-example gradient on the first task's examples) turned into seconds per token,
//! then every cell's cost from its task's token counts and the profile's sizes.

use std::time::Instant;

use indicatif::ProgressBar;

use super::cells::CellId;
use super::coslow::gradients;
use super::finetune::trainable_model;
use super::render::Renderer;
use super::sweep::{LoadedTask, Study};
use crate::model::generate::{DEFAULT_BATCH, Request, greedy_and_score_batch};
use crate::model::lora;
use crate::model::train::Trainer;

/// Seconds per token of each kind of work, measured.
#[derive(Clone, Copy, Debug)]
pub struct Calibration {
    /// Forward + backward + optimiser, per token of a training batch.
    pub train: f64,
    /// A forward pass over a batch of prompts, per token.
    pub prefill: f64,
    /// One generated token of one sequence, decoded in a batch of [`DEFAULT_BATCH`].
    pub decode: f64,
    /// Per-example LoRA gradients, per token, taken a batch at a time as the metrics cells do.
    pub gradient: f64,
}

/// Mean prompt and answer tokens of a task (the first examples of its train split).
#[derive(Clone, Copy, Debug)]
pub struct TokenCounts {
    pub prompt: f64,
    pub answer: f64,
}

pub fn token_counts(study: &Study, loaded: &LoadedTask) -> anyhow::Result<TokenCounts> {
    let renderer = Renderer::new(&study.files, true)?;
    let examples = &loaded.splits.train[..loaded.splits.train.len().min(16)];
    anyhow::ensure!(!examples.is_empty(), "task `{}` has no training examples", loaded.task.name);
    let (mut prompt, mut answer) = (0usize, 0usize);
    for e in examples {
        let t = renderer.training_example(&loaded.task.render(e), e.target())?;
        prompt += t.prompt.len();
        answer += t.answer.len();
    }
    let n = examples.len() as f64;
    Ok(TokenCounts { prompt: prompt as f64 / n, answer: answer as f64 / n })
}

/// Time each kind of work twice on the first task and keep the second (the first pays for
/// allocation and caches).
pub fn calibrate(study: &Study) -> anyhow::Result<Calibration> {
    let p = &study.profile;
    let loaded = study.task(&p.tasks[0])?;
    let (task, splits) = (&loaded.task, &loaded.splits);
    let renderer = Renderer::new(&study.files, true)?;
    let batch: Vec<_> = splits.train[..p.train.batch_size.min(splits.train.len())]
        .iter()
        .map(|e| renderer.training_example(&task.render(e), e.target()))
        .collect::<anyhow::Result<_>>()?;
    let tokens: usize = batch.iter().map(|e| e.len()).sum();

    let (mut model, vars) = trainable_model(&study.files, p)?;
    let mut trainer = Trainer::new(&vars, batch.len(), 2, &p.train_config())?;
    lora::set_training(model.as_mut(), Some(p.train.seed));
    trainer.step(model.as_ref(), &vars, &batch)?;
    let t = Instant::now();
    trainer.step(model.as_ref(), &vars, &batch)?;
    let train = t.elapsed().as_secs_f64() / tokens as f64;

    // Prefill and decoding as the sweep runs them: a batch of test prompts decoded together.
    let base = study.files.build()?;
    let prompts: Vec<Vec<u32>> = splits.test[..DEFAULT_BATCH.min(splits.test.len())]
        .iter()
        .map(|e| renderer.prompt_ids(&task.render(e)))
        .collect::<anyhow::Result<_>>()?;
    let requests: Vec<Request> = prompts.iter().map(|p| Request { prompt: p, continuations: Vec::new() }).collect();
    let prompt_tokens: usize = prompts.iter().map(Vec::len).sum();
    let generated = 8;
    let (mut prefill, mut total) = (0.0, 0.0);
    for _ in 0..2 {
        let t = Instant::now();
        greedy_and_score_batch(base.as_ref(), &requests, 1, &|_| false)?;
        prefill = t.elapsed().as_secs_f64();
        let t = Instant::now();
        greedy_and_score_batch(base.as_ref(), &requests, 1 + generated, &|_| false)?;
        total = t.elapsed().as_secs_f64();
    }
    // Per sequence-token of a batch: what one test example's generated token costs.
    let decode = ((total - prefill) / (generated * requests.len()) as f64).max(0.0);

    // Gradients as the metrics cells take them: a batch of examples per pass.
    let n = crate::model::sketch::SKETCH_BATCH.min(splits.train.len());
    let pairs: Vec<(String, String)> = splits.train[..n].iter().map(|e| (task.render(e), e.target().to_string())).collect();
    let hidden = ProgressBar::hidden();
    gradients(&study.files, &renderer, &pairs, 0, &hidden)?;
    let t = Instant::now();
    gradients(&study.files, &renderer, &pairs, 0, &hidden)?;
    let tokens: usize = pairs.iter().map(|(p, a)| renderer.gradient_example(p, a).map(|e| e.len())).sum::<anyhow::Result<usize>>()?;
    // A gradient call also builds the model and attaches LoRA: that is part of the cost.
    let gradient = t.elapsed().as_secs_f64() / tokens as f64;
    Ok(Calibration { train, prefill: prefill / prompt_tokens as f64, decode, gradient })
}

/// Tokens of each kind of work a cell does: what a [`Calibration`] prices, and what another
/// machine's throughput turns into its own hours.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Work {
    /// Tokens through forward + backward + optimiser (fine-tuning steps).
    pub train: f64,
    /// Tokens through a forward pass (prompts, validation, label scores).
    pub prefill: f64,
    /// Tokens generated one at a time.
    pub decode: f64,
    /// Tokens of per-example LoRA gradients (CoS-Low and the comparison metrics).
    pub gradient: f64,
}

impl Work {
    /// Seconds on the machine `cal` measured.
    pub fn seconds(&self, cal: &Calibration) -> f64 {
        self.train * cal.train + self.prefill * cal.prefill + self.decode * cal.decode + self.gradient * cal.gradient
    }
}

impl std::ops::AddAssign for Work {
    fn add_assign(&mut self, other: Work) {
        self.train += other.train;
        self.prefill += other.prefill;
        self.decode += other.decode;
        self.gradient += other.gradient;
    }
}

/// The work of `cell` (an upper bound on generation: the zero-shot model is assumed to use all
/// its new tokens, a fine-tuned one its answer's length plus the end marker).
pub fn work(study: &Study, cell: &CellId, tokens: &TokenCounts, labels: usize) -> Work {
    let p = &study.profile;
    let seq = tokens.prompt + tokens.answer;
    // Labels are scored from the generation's prompt pass: each is a short pass through the
    // KV cache, batched like decoding, and costs about what one decoding step does.
    let test = |generated: f64| Work {
        prefill: p.test_examples as f64 * tokens.prompt,
        decode: p.test_examples as f64 * (generated + labels as f64),
        ..Work::default()
    };
    match cell {
        CellId::Curve { budget: 0, .. } => test(p.eval.max_new_tokens as f64),
        CellId::Curve { budget, .. } => {
            let steps = p.train.max_steps as f64;
            let per_step = (p.train.batch_size * p.train.grad_accumulation).min(*budget) as f64 * seq;
            let evals = if p.selection.enabled { (steps / p.selection.eval_every as f64).ceil() } else { 0.0 };
            let mut out = test((tokens.answer + 1.0).min(p.eval.max_new_tokens as f64));
            out.train = steps * per_step;
            out.prefill += evals * p.validation_size(*budget) as f64 * seq;
            out
        }
        CellId::Confidence { .. } => Work {
            prefill: p.pool_examples as f64 * tokens.prompt,
            decode: p.pool_examples as f64 * p.metrics.max_new_tokens as f64,
            ..Work::default()
        },
        CellId::Metrics { .. } => Work { gradient: 2.0 * p.metrics.k as f64 * seq, ..Work::default() },
    }
}

/// Estimated seconds of `cell` on the machine `cal` measured: its [`work`] priced.
pub fn estimate(study: &Study, cell: &CellId, cal: &Calibration, tokens: &TokenCounts, labels: usize) -> f64 {
    work(study, cell, tokens, labels).seconds(cal)
}
