//! Inference: greedy generation with a KV cache, the probability of every generated token
//! (PAPER.md §4 step 1), and the log-probability of a given continuation.
//!
//! Both refuse what would give a wrong number: a sequence longer than the model's context, and
//! logits that are not finite (damaged weights), which would print `logprob NaN` or decode to
//! nothing.

use candle_core::{D, DType, Device, Result, Tensor};
use candle_nn::ops::log_softmax;

use super::attention::KvCache;
use super::causal_lm::CausalLm;

/// The tokens a greedy decode produced and how sure the model was of each.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    /// Generated ids, without the prompt; the stop token, when one ended generation, is included.
    pub ids: Vec<u32>,
    /// Probability of each generated token (greedy: also the largest probability at that step).
    pub token_probs: Vec<f32>,
    /// Whether a stop token ended generation (else `max_new_tokens` did).
    pub stopped: bool,
}

impl Generation {
    /// Mean probability of the generated tokens, leaving out the stop token — the paper's
    /// `avg_confidence`, with the end marker masked. `None` when nothing but the marker came out.
    pub fn mean_confidence(&self) -> Option<f64> {
        let n = self.ids.len() - usize::from(self.stopped);
        (n > 0).then(|| self.token_probs[..n].iter().map(|&p| p as f64).sum::<f64>() / n as f64)
    }
}

/// An error that is the message alone: candle's `bail!` also captures a backtrace into the
/// message whenever `RUST_BACKTRACE` is set, which these errors about the input do not need.
fn refuse(message: String) -> candle_core::Error {
    candle_core::Error::Msg(message)
}

fn ids_tensor(ids: &[u32], device: &Device) -> Result<Tensor> {
    Tensor::new(ids, device)?.unsqueeze(0)
}

/// Fail unless `tokens` positions fit in the model's context; `what` says what they are.
fn ensure_fits_context(model: &dyn CausalLm, tokens: usize, what: impl FnOnce() -> String) -> Result<()> {
    let context = model.config().max_position_embeddings;
    if tokens > context {
        return Err(refuse(format!(
            "{} is {tokens} tokens, more than the model's context of {context} tokens (its max_position_embeddings)",
            what()
        )));
    }
    Ok(())
}

/// Fail unless every logit is finite: NaN or ±∞ means damaged weights (a known model's file is
/// caught by its sha256 first; any other file only here).
fn ensure_finite(logits: &Tensor) -> Result<()> {
    // 0·x is 0 for every finite x and NaN for NaN or ±∞: the sum is 0 exactly when all are
    // finite (and adding zeros cannot overflow).
    let probe = logits.affine(0.0, 0.0)?.sum_all()?.to_dtype(DType::F32)?.to_scalar::<f32>()?;
    if probe != 0.0 {
        return Err(refuse(
            "the model's logits are not finite (NaN or infinite): its weights are damaged (a corrupted file, or \
             tensors that are not what the header says)"
                .to_string(),
        ));
    }
    Ok(())
}

/// Log-softmax of the logits of one hidden-state row (1, 1, H) → (vocab,), in f32; the logits
/// must be finite.
fn next_log_probs(model: &dyn CausalLm, hidden_row: &Tensor) -> Result<Tensor> {
    let logits = model.logits(hidden_row)?.flatten_all()?.to_dtype(DType::F32)?;
    ensure_finite(&logits)?;
    log_softmax(&logits, D::Minus1)
}

/// Greedy decoding: feed the prompt once, then one token at a time through the KV cache, until a
/// token with `is_stop(id)` or `max_new_tokens`. The prompt and `max_new_tokens` must fit in the
/// model's context.
pub fn greedy(model: &dyn CausalLm, prompt: &[u32], max_new_tokens: usize, is_stop: &dyn Fn(u32) -> bool) -> Result<Generation> {
    Ok(greedy_and_score(model, prompt, max_new_tokens, is_stop, &[])?.0)
}

/// [`greedy`], and from the same pass over the prompt the natural-log probability of each token
/// of each of `continuations` following it (as [`continuation_log_probs`] gives, up to rounding):
/// scoring a task's labels then costs their own tokens, not another pass over the prompt.
pub fn greedy_and_score(
    model: &dyn CausalLm,
    prompt: &[u32],
    max_new_tokens: usize,
    is_stop: &dyn Fn(u32) -> bool,
    continuations: &[&[u32]],
) -> Result<(Generation, Vec<Vec<f64>>)> {
    if prompt.is_empty() {
        return Err(refuse("cannot generate from an empty prompt (give at least a BOS token)".to_string()));
    }
    if continuations.iter().any(|c| c.is_empty()) {
        return Err(refuse("scoring needs non-empty continuations".to_string()));
    }
    let longest = continuations.iter().map(|c| c.len()).max().unwrap_or(0).max(max_new_tokens);
    ensure_fits_context(model, prompt.len() + longest, || {
        format!("a prompt of {} tokens plus up to {longest} new ones", prompt.len())
    })?;
    let device = model.device().clone();
    let mut cache = KvCache::new(model.config().num_layers);
    let hidden = model.forward(&ids_tensor(prompt, &device)?, Some(&mut cache))?;
    let mut log_probs = next_log_probs(model, &hidden.narrow(1, hidden.dim(1)? - 1, 1)?)?;
    let mut scores = Vec::with_capacity(continuations.len());
    for continuation in continuations {
        let mut picked = vec![f64::from(log_probs.get(continuation[0] as usize)?.to_scalar::<f32>()?)];
        if continuation.len() > 1 {
            let mut branch = cache.clone();
            let rows = model.forward(&ids_tensor(&continuation[..continuation.len() - 1], &device)?, Some(&mut branch))?.squeeze(0)?;
            let logits = model.logits(&rows)?.to_dtype(DType::F32)?;
            ensure_finite(&logits)?;
            let targets = Tensor::new(&continuation[1..], &device)?.unsqueeze(1)?;
            let rest = log_softmax(&logits, D::Minus1)?.gather(&targets, 1)?.flatten_all()?.to_vec1::<f32>()?;
            picked.extend(rest.into_iter().map(f64::from));
        }
        scores.push(picked);
    }
    let mut generation = Generation { ids: Vec::new(), token_probs: Vec::new(), stopped: false };
    for step in 0..max_new_tokens {
        if step > 0 {
            let last = *generation.ids.last().expect("a token per step");
            let hidden = model.forward(&ids_tensor(&[last], &device)?, Some(&mut cache))?;
            log_probs = next_log_probs(model, &hidden)?;
        }
        let next = log_probs.argmax(D::Minus1)?.to_scalar::<u32>()?;
        let p = log_probs.get(next as usize)?.to_scalar::<f32>()?.exp();
        generation.ids.push(next);
        generation.token_probs.push(p);
        if is_stop(next) {
            generation.stopped = true;
            break;
        }
    }
    Ok((generation, scores))
}

/// Natural-log probability of each token of `continuation` following `prompt` (one forward pass;
/// logits only at the continuation's positions). Both must fit in the model's context together.
pub fn continuation_log_probs(model: &dyn CausalLm, prompt: &[u32], continuation: &[u32]) -> Result<Vec<f64>> {
    if prompt.is_empty() || continuation.is_empty() {
        return Err(refuse("scoring needs a non-empty prompt and continuation".to_string()));
    }
    ensure_fits_context(model, prompt.len() + continuation.len(), || {
        format!("the prompt with its continuation ({} + {} tokens)", prompt.len(), continuation.len())
    })?;
    let device = model.device().clone();
    let all: Vec<u32> = prompt.iter().chain(continuation).copied().collect();
    // Position p predicts token p + 1: the continuation is predicted from positions
    // prompt.len()-1 .. all.len()-2.
    let hidden = model.hidden_states(&ids_tensor(&all[..all.len() - 1], &device)?)?;
    let rows = hidden.narrow(1, prompt.len() - 1, continuation.len())?.squeeze(0)?;
    let logits = model.logits(&rows)?.to_dtype(DType::F32)?;
    ensure_finite(&logits)?;
    let log_probs = log_softmax(&logits, D::Minus1)?;
    let targets = Tensor::new(continuation, &device)?.unsqueeze(1)?;
    let picked = log_probs.gather(&targets, 1)?.flatten_all()?.to_vec1::<f32>()?;
    Ok(picked.into_iter().map(f64::from).collect())
}
