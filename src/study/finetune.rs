//! Fine-tuning one budget: a fixed number of optimiser steps whatever the budget, with the
//! authors' model selection (PAPER.md §1: validation loss every few steps, keep the best
//! weights, stop after `patience` evaluations without improvement) or without it.

use candle_core::Var;
use indicatif::ProgressBar;

use super::profile::{Method, Profile};
use crate::model::load::ModelFiles;
use crate::model::train::{Trainer, TokenExample, mean_answer_loss, restore, snapshot};
use crate::model::{CausalLm, lora};

/// A model ready to fine-tune: LoRA adapters on the frozen base, or every weight trainable.
pub fn trainable_model(files: &ModelFiles, profile: &Profile) -> anyhow::Result<(Box<dyn CausalLm>, Vec<(String, Var)>)> {
    match profile.train.method {
        Method::Lora => {
            let mut model = files.build()?;
            // LoRA's A is seeded with the training seed (adapter k with seed + k).
            let vars = lora::attach(model.as_mut(), &profile.lora(), profile.train.seed)?;
            Ok((model, vars))
        }
        Method::Full => {
            let mut weights = files.weights.clone();
            let vars = weights.to_trainable()?;
            Ok((crate::model::load::build(&files.config, &weights)?, vars))
        }
    }
}

/// What a fine-tuning run did.
pub struct FinetuneReport {
    pub steps: usize,
    /// The step whose weights the model now has.
    pub best_step: usize,
    pub validation: Vec<(usize, f64)>,
    pub train_losses: Vec<f64>,
}

/// Train `model`'s `vars` on `train` for the profile's steps, selecting on `validation` when
/// model selection is on (`validation` empty: off); the model ends in inference mode
/// ([`lora::set_inference`]: eval, and no autograd graph while it is scored) with the kept weights. `bar` advances once per step.
pub fn finetune(
    model: &mut dyn CausalLm,
    vars: &[(String, Var)],
    train: &[TokenExample],
    validation: &[TokenExample],
    profile: &Profile,
    bar: &ProgressBar,
) -> anyhow::Result<FinetuneReport> {
    let cfg = profile.train_config();
    let total = profile.train.max_steps;
    let selection = profile.selection.enabled && !validation.is_empty();
    let mut trainer = Trainer::new(vars, train.len(), total, &cfg)?;
    lora::set_training(model, Some(cfg.seed));
    let mut report = FinetuneReport { steps: 0, best_step: 0, validation: Vec::new(), train_losses: Vec::new() };
    let mut best: Option<(f64, Vec<candle_core::Tensor>)> = None;
    let mut since_best = 0;
    while trainer.steps_done() < total {
        let step = trainer.step(&*model, vars, train)?;
        report.train_losses.push(step.loss);
        let done = trainer.steps_done();
        bar.inc(1);
        if selection && (done % profile.selection.eval_every == 0 || done == total) {
            let rngs = lora::take_training_rngs(model);
            lora::set_inference(model, true);
            let loss = mean_answer_loss(&*model, validation, profile.train.batch_size);
            lora::set_inference(model, false);
            lora::put_training_rngs(model, rngs);
            let loss = loss?;
            report.validation.push((done, loss));
            if best.as_ref().is_none_or(|(b, _)| loss < *b) {
                best = Some((loss, snapshot(vars)?));
                report.best_step = done;
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= profile.selection.patience {
                    break;
                }
            }
        }
    }
    report.steps = trainer.steps_done();
    lora::set_training(model, None);
    lora::set_inference(model, true);
    match best {
        Some((_, weights)) if report.best_step != report.steps => restore(vars, &weights)?,
        Some(_) => {}
        None => report.best_step = report.steps,
    }
    Ok(report)
}
