//! Fine-tuning: the loss on answer tokens only, AdamW, a cosine schedule with linear warm-up,
//! gradient accumulation and clipping — seeded, so a run on the CPU is deterministic.
//!
//! The trainable variables are either LoRA adapters ([`super::lora::attach`]) or, for full
//! fine-tuning, the base weights themselves ([`super::Weights::to_trainable`]).

use candle_core::{D, DType, Result, Tensor, Var};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::causal_lm::CausalLm;

/// One supervised example as token ids (the runtime's; `tasks::TextExample` is the text it is
/// rendered from): the model reads `prompt ++ answer` and is trained (or
/// differentiated) on the answer tokens only.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenExample {
    pub prompt: Vec<u32>,
    pub answer: Vec<u32>,
}

impl TokenExample {
    pub fn len(&self) -> usize {
        self.prompt.len() + self.answer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Mean next-token cross-entropy over the answer tokens of a batch (each answer token counts
/// once, whatever its example). Sequences are right-padded, which causal attention makes harmless:
/// no real position ever attends to a pad. Logits are computed for answer positions only.
pub fn answer_loss(model: &dyn CausalLm, batch: &[&TokenExample]) -> Result<Tensor> {
    let (logits, targets, _) = answer_logits(model, batch)?;
    candle_nn::loss::cross_entropy(&logits, &targets)
}

/// The sum over the batch of each example's own mean answer loss: its gradient with respect to
/// anything one example alone uses is that example's gradient (per-example sketches).
pub fn summed_example_losses(model: &dyn CausalLm, batch: &[&TokenExample]) -> Result<Tensor> {
    let (logits, targets, owners) = answer_logits(model, batch)?;
    let weights: Vec<f32> = owners.iter().map(|&b| 1.0 / batch[b].answer.len() as f32).collect();
    let weights = Tensor::new(weights.as_slice(), logits.device())?;
    let picked = candle_nn::ops::log_softmax(&logits, D::Minus1)?.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?;
    (picked * weights)?.sum_all()?.neg()
}

/// The logits (f32) at every answer position of a right-padded batch, the tokens they predict,
/// and which example each row belongs to.
fn answer_logits(model: &dyn CausalLm, batch: &[&TokenExample]) -> Result<(Tensor, Tensor, Vec<usize>)> {
    let device = model.device();
    if batch.iter().any(|e| e.prompt.is_empty() || e.answer.is_empty()) {
        candle_core::bail!("every example needs a non-empty prompt and answer");
    }
    // Inputs are each sequence without its last token; position p predicts token p + 1.
    let t = batch.iter().map(|e| e.len() - 1).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(batch.len() * t);
    let (mut rows, mut targets, mut owners) = (Vec::new(), Vec::new(), Vec::new());
    for (b, e) in batch.iter().enumerate() {
        let seq: Vec<u32> = e.prompt.iter().chain(&e.answer).copied().collect();
        ids.extend_from_slice(&seq[..seq.len() - 1]);
        ids.extend(std::iter::repeat_n(0, t - (seq.len() - 1)));
        for (j, &target) in e.answer.iter().enumerate() {
            rows.push((b * t + e.prompt.len() - 1 + j) as u32);
            targets.push(target);
            owners.push(b);
        }
    }
    let ids = Tensor::from_vec(ids, (batch.len(), t), device)?;
    let hidden = model.hidden_states(&ids)?;
    let hidden = hidden.reshape((batch.len() * t, hidden.dim(D::Minus1)?))?;
    let picked = hidden.index_select(&Tensor::new(rows.as_slice(), device)?, 0)?;
    let logits = model.logits(&picked)?.to_dtype(DType::F32)?;
    Ok((logits, Tensor::new(targets.as_slice(), device)?, owners))
}

/// Optimiser and schedule settings (defaults: the paper's fine-tuning recipe where it gives one,
/// Hugging Face Trainer's defaults otherwise).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub learning_rate: f64,
    pub epochs: usize,
    pub batch_size: usize,
    /// Micro-batches whose gradients are averaged into one optimiser step.
    pub grad_accumulation: usize,
    /// Fraction of the optimiser steps spent warming the learning rate up linearly from 0.
    pub warmup_ratio: f64,
    /// Decoupled weight decay, applied to tensors with ≥ 2 dimensions only (not norms, biases).
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Clip the global gradient norm to this (`None`: no clipping).
    pub max_grad_norm: Option<f64>,
    /// Seeds the example order and the LoRA dropout masks.
    pub seed: u64,
    /// Batch examples of similar length (Hugging Face Trainer's `group_by_length`): each epoch's
    /// shuffled order is cut into groups of [`LENGTH_GROUP`] batches, each group sorted by length
    /// and cut into batches, and the batches shuffled; a batch then pads little.
    pub group_by_length: bool,
    /// A micro-batch of more padded tokens than this is differentiated in parts (same gradient,
    /// less memory; default [`MAX_BATCH_TOKENS`]).
    pub max_batch_tokens: usize,
}

/// Most padded tokens (examples × longest sequence) one forward-and-backward pass may hold: a
/// longer batch is split into parts that each fit ([`token_bounded_parts`]), whose losses, weighted
/// by their share of the batch's answer tokens, add up to the batch's loss — so the step's
/// gradient is the batch's, only never all in memory at once. Measured on SmolLM2-135M (f32, LoRA
/// r = 64): a training pass holds about 4.5 MB per padded token, so 2,560 tokens ≈ 12 GB; every
/// batch of the `cpu` profile's tasks fits whole (the longest, tracking_shuffled_objects_gen's,
/// is 8 × 285 = 2,280) except MMLU's, whose 600-token questions needed 24 GB and more.
pub const MAX_BATCH_TOKENS: usize = 2560;

/// `lengths` (the sequences of one batch, in order) cut into consecutive parts of at most
/// `max_count` sequences whose padded size (count × longest) is at most `max_tokens`; a sequence
/// longer than `max_tokens` alone is a part of its own. One part when the whole batch fits.
pub fn token_bounded_parts(lengths: &[usize], max_count: usize, max_tokens: usize) -> Vec<std::ops::Range<usize>> {
    let mut parts = Vec::new();
    let (mut start, mut longest) = (0, 0);
    for (i, &len) in lengths.iter().enumerate() {
        let wider = longest.max(len);
        if i > start && ((i - start + 1) * wider > max_tokens || i - start >= max_count.max(1)) {
            parts.push(start..i);
            (start, longest) = (i, len);
        } else {
            longest = wider;
        }
    }
    if start < lengths.len() {
        parts.push(start..lengths.len());
    }
    parts
}

/// Batches per length-sorted group when [`TrainConfig::group_by_length`] is on.
pub const LENGTH_GROUP: usize = 8;

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            learning_rate: 2e-4,
            epochs: 1,
            batch_size: 8,
            grad_accumulation: 1,
            warmup_ratio: 0.03,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            max_grad_norm: Some(1.0),
            seed: 42,
            group_by_length: false,
            max_batch_tokens: MAX_BATCH_TOKENS,
        }
    }
}

/// Learning rate at optimiser step `step` (0-based) of `total`: linear warm-up from 0 over
/// `warmup` steps, then a half cosine from the peak down to 0 — Hugging Face's
/// `get_cosine_schedule_with_warmup`, including its quirk that a warmed-up run's first step has
/// learning rate 0.
pub fn cosine_with_warmup(step: usize, total: usize, warmup: usize, peak: f64) -> f64 {
    if step < warmup {
        return peak * step as f64 / warmup as f64;
    }
    let progress = (step - warmup) as f64 / (total - warmup).max(1) as f64;
    peak * 0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos())
}

/// AdamW (Loshchilov & Hutter) with bias correction and decoupled weight decay, kept in the
/// variables' dtype. candle-nn's AdamW has no parameter groups, so it would decay norms too.
pub struct AdamW {
    vars: Vec<(String, Var)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: usize,
    cfg: TrainConfig,
}

impl AdamW {
    pub fn new(vars: Vec<(String, Var)>, cfg: &TrainConfig) -> Result<Self> {
        let m = vars.iter().map(|(_, v)| v.zeros_like()).collect::<Result<Vec<_>>>()?;
        let v = m.clone();
        Ok(AdamW { vars, m, v, step: 0, cfg: cfg.clone() })
    }

    /// One update with gradients `grads[i]` for `vars[i]` at learning rate `lr`.
    pub fn step(&mut self, grads: &[Tensor], lr: f64) -> Result<()> {
        self.step += 1;
        let (b1, b2) = (self.cfg.beta1, self.cfg.beta2);
        let c1 = 1.0 - b1.powi(self.step as i32);
        let c2 = 1.0 - b2.powi(self.step as i32);
        for (i, ((_, var), g)) in self.vars.iter().zip(grads).enumerate() {
            self.m[i] = ((&self.m[i] * b1)? + (g * (1.0 - b1))?)?;
            self.v[i] = ((&self.v[i] * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let update = ((&self.m[i] / c1)? / ((&self.v[i] / c2)?.sqrt()? + self.cfg.eps)?)?;
            let decay = if var.rank() >= 2 { self.cfg.weight_decay } else { 0.0 };
            let next = ((var.as_tensor() * (1.0 - lr * decay))? - (update * lr)?)?;
            var.set(&next)?;
        }
        Ok(())
    }
}

/// What a training run did, step by step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainReport {
    /// Mean micro-batch loss of each optimiser step.
    pub step_losses: Vec<f64>,
    /// Global gradient norm before clipping, per step.
    pub grad_norms: Vec<f64>,
    pub learning_rates: Vec<f64>,
}

/// Number of optimiser steps a run of `n` examples takes.
pub fn total_steps(n: usize, cfg: &TrainConfig) -> usize {
    let micro = n.div_ceil(cfg.batch_size);
    cfg.epochs * micro.div_ceil(cfg.grad_accumulation)
}

/// What one optimiser step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Mean micro-batch loss of the step.
    pub loss: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    pub learning_rate: f64,
}

/// One epoch's micro-batches of `examples` (indices), in a fresh order from `rng`: the shuffled
/// order cut into batches of `cfg.batch_size`, or with [`TrainConfig::group_by_length`], cut into
/// groups of [`LENGTH_GROUP`] batches, each sorted longest first (ties keep the shuffled order)
/// and cut into batches, the batches then shuffled.
pub fn epoch_batches(examples: &[TokenExample], cfg: &TrainConfig, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(rng);
    let size = cfg.batch_size.max(1);
    if !cfg.group_by_length {
        return order.chunks(size).map(<[usize]>::to_vec).collect();
    }
    let mut batches = Vec::with_capacity(order.len().div_ceil(size));
    for group in order.chunks(size * LENGTH_GROUP) {
        let mut group = group.to_vec();
        group.sort_by_key(|&i| std::cmp::Reverse(examples[i].len()));
        batches.extend(group.chunks(size).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    batches
}

/// Fine-tuning one optimiser step at a time, for a fixed number of steps whatever the number of
/// examples (small budgets run many epochs): each epoch visits the examples in a fresh seeded
/// order, in micro-batches of `batch_size` grouped `grad_accumulation` to a step. The caller
/// can evaluate between steps (model selection) and stop early. [`train`] is this run to the end.
pub struct Trainer {
    optimiser: AdamW,
    rng: ChaCha8Rng,
    /// The current epoch's micro-batches in step groups, and the next group to take.
    groups: Vec<Vec<Vec<usize>>>,
    next_group: usize,
    step: usize,
    total: usize,
    warmup: usize,
    cfg: TrainConfig,
}

impl Trainer {
    /// A run of `total` optimiser steps over `n` examples.
    pub fn new(vars: &[(String, Var)], n: usize, total: usize, cfg: &TrainConfig) -> anyhow::Result<Self> {
        anyhow::ensure!(n > 0, "no training examples");
        anyhow::ensure!(cfg.batch_size > 0 && cfg.grad_accumulation > 0, "batch size and accumulation must be positive");
        anyhow::ensure!(total > 0, "a run needs at least one optimiser step");
        let warmup = (cfg.warmup_ratio * total as f64).ceil() as usize;
        Ok(Trainer {
            optimiser: AdamW::new(vars.to_vec(), cfg)?,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            groups: Vec::new(),
            next_group: 0,
            step: 0,
            total,
            warmup,
            cfg: cfg.clone(),
        })
    }

    /// Optimiser steps taken so far, and in all.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    pub fn total_steps(&self) -> usize {
        self.total
    }

    fn next_group(&mut self, examples: &[TokenExample]) -> Vec<Vec<usize>> {
        if self.next_group == self.groups.len() {
            let batches = epoch_batches(examples, &self.cfg, &mut self.rng);
            self.groups = batches.chunks(self.cfg.grad_accumulation).map(<[Vec<usize>]>::to_vec).collect();
            self.next_group = 0;
        }
        self.next_group += 1;
        self.groups[self.next_group - 1].clone()
    }

    /// One optimiser step on the next group of micro-batches of `examples` (the same examples
    /// every call). LoRA dropout must be on ([`super::lora::set_training`]) for a LoRA run.
    pub fn step(&mut self, model: &dyn CausalLm, vars: &[(String, Var)], examples: &[TokenExample]) -> anyhow::Result<StepReport> {
        anyhow::ensure!(self.step < self.total, "the run's {} steps are done", self.total);
        let group = self.next_group(examples);
        let mut sums: Vec<Option<Tensor>> = vec![None; vars.len()];
        let mut loss_sum = 0.0;
        for batch in &group {
            let batch: Vec<&TokenExample> = batch.iter().map(|&i| &examples[i]).collect();
            let lengths: Vec<usize> = batch.iter().map(|e| e.len()).collect();
            let parts = token_bounded_parts(&lengths, batch.len(), self.cfg.max_batch_tokens);
            let answer_tokens: usize = batch.iter().map(|e| e.answer.len()).sum();
            for part in parts.iter() {
                let part_batch = &batch[part.clone()];
                let mut loss = answer_loss(model, part_batch)?;
                if parts.len() > 1 {
                    // The part's mean over its answer tokens, weighted to its share of the batch's.
                    let share: usize = part_batch.iter().map(|e| e.answer.len()).sum();
                    loss = (loss * (share as f64 / answer_tokens as f64))?;
                }
                loss_sum += loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
                let grads = loss.backward()?;
                for ((name, var), sum) in vars.iter().zip(&mut sums) {
                    let g = grads
                        .get(var)
                        .ok_or_else(|| anyhow::anyhow!("trainable `{name}` got no gradient: it is not used by the model"))?;
                    *sum = Some(match sum.take() {
                        Some(s) => (s + g)?,
                        None => g.clone(),
                    });
                }
            }
        }
        let n = group.len() as f64;
        let mut grads: Vec<Tensor> = sums.into_iter().map(|s| s.expect("one micro-batch at least") / n).collect::<Result<_>>()?;
        let norm = global_norm(&grads)?;
        if let Some(max) = self.cfg.max_grad_norm
            && norm > max
        {
            let factor = max / (norm + 1e-6);
            grads = grads.iter().map(|g| g * factor).collect::<Result<_>>()?;
        }
        let lr = cosine_with_warmup(self.step, self.total, self.warmup, self.cfg.learning_rate);
        self.optimiser.step(&grads, lr)?;
        self.step += 1;
        Ok(StepReport { loss: loss_sum / n, grad_norm: norm, learning_rate: lr })
    }
}

/// Train `vars` (which must all be used by `model`) on `examples` for `cfg.epochs` epochs;
/// `on_step(step, total, loss)` is called after every optimiser step (for progress bars). LoRA
/// dropout is on during the run and off afterwards.
pub fn train(
    model: &mut dyn CausalLm,
    vars: &[(String, Var)],
    examples: &[TokenExample],
    cfg: &TrainConfig,
    on_step: &mut dyn FnMut(usize, usize, f64),
) -> anyhow::Result<TrainReport> {
    anyhow::ensure!(!examples.is_empty(), "no training examples");
    anyhow::ensure!(cfg.batch_size > 0 && cfg.grad_accumulation > 0 && cfg.epochs > 0, "batch size, accumulation and epochs must be positive");
    let total = total_steps(examples.len(), cfg);
    let mut trainer = Trainer::new(vars, examples.len(), total, cfg)?;
    super::lora::set_training(model, Some(cfg.seed));
    let mut report = TrainReport::default();
    while trainer.steps_done() < total {
        let step = trainer.step(&*model, vars, examples)?;
        report.step_losses.push(step.loss);
        report.grad_norms.push(step.grad_norm);
        report.learning_rates.push(step.learning_rate);
        on_step(trainer.steps_done(), total, step.loss);
    }
    super::lora::set_training(model, None);
    Ok(report)
}

/// The current values of `vars` (a checkpoint for model selection), and putting them back.
pub fn snapshot(vars: &[(String, Var)]) -> Result<Vec<Tensor>> {
    vars.iter().map(|(_, v)| v.as_tensor().copy()).collect()
}

pub fn restore(vars: &[(String, Var)], values: &[Tensor]) -> Result<()> {
    for ((_, var), value) in vars.iter().zip(values) {
        var.set(value)?;
    }
    Ok(())
}

/// Mean answer loss over `examples` in batches of `batch_size`, each answer token counting once
/// (a validation loss: no gradient is kept).
pub fn mean_answer_loss(model: &dyn CausalLm, examples: &[TokenExample], batch_size: usize) -> anyhow::Result<f64> {
    anyhow::ensure!(!examples.is_empty(), "no examples to compute a loss on");
    let (mut sum, mut tokens) = (0.0, 0usize);
    for batch in examples.chunks(batch_size.max(1)) {
        let refs: Vec<&TokenExample> = batch.iter().collect();
        let n: usize = batch.iter().map(|e| e.answer.len()).sum();
        let loss = answer_loss(model, &refs)?.detach().to_dtype(DType::F64)?.to_scalar::<f64>()?;
        sum += loss * n as f64;
        tokens += n;
    }
    Ok(sum / tokens as f64)
}

/// √(Σ‖g‖²) over all tensors.
pub fn global_norm(grads: &[Tensor]) -> Result<f64> {
    let mut sum = 0.0;
    for g in grads {
        sum += g.to_dtype(DType::F64)?.sqr()?.sum_all()?.to_scalar::<f64>()?;
    }
    Ok(sum.sqrt())
}
