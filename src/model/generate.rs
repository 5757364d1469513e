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
    let request = Request { prompt, continuations: continuations.to_vec() };
    Ok(greedy_and_score_batch(model, std::slice::from_ref(&request), max_new_tokens, is_stop)?.remove(0))
}

/// One prompt of a batch, and the continuations to score after it.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    pub prompt: &'a [u32],
    pub continuations: Vec<&'a [u32]>,
}

/// Prompts decoded together by [`greedy_and_score_many`]: enough to share each weight read
/// across sequences, few enough that padding and finished sequences waste little.
pub const DEFAULT_BATCH: usize = 16;

/// [`greedy_and_score`] for many prompts: sorted by length, decoded `batch` at a time by
/// [`greedy_and_score_batch`], and returned in the order given.
pub fn greedy_and_score_many(
    model: &dyn CausalLm,
    requests: &[Request],
    max_new_tokens: usize,
    is_stop: &dyn Fn(u32) -> bool,
    batch: usize,
    on_batch: &mut dyn FnMut(usize),
) -> Result<Vec<(Generation, Vec<Vec<f64>>)>> {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| (requests[i].prompt.len(), i));
    let mut out: Vec<Option<(Generation, Vec<Vec<f64>>)>> = vec![None; requests.len()];
    for chunk in order.chunks(batch.max(1)) {
        let group: Vec<Request> = chunk.iter().map(|&i| requests[i].clone()).collect();
        for (&i, result) in chunk.iter().zip(greedy_and_score_batch(model, &group, max_new_tokens, is_stop)?) {
            out[i] = Some(result);
        }
        on_batch(chunk.len());
    }
    Ok(out.into_iter().map(|r| r.expect("every request decoded")).collect())
}

/// Greedy decoding of a batch with its label scores: the prompts left-padded into one prefill
/// (padding hidden by the attention mask, see [`KvCache::with_padding`]), then one step at a
/// time for the sequences still running — a sequence leaves the batch when it emits a stop
/// token. Each request's continuations are scored in one batched pass that branches from its
/// prompt's cache. Per sequence this is [`greedy_and_score`] up to rounding.
pub fn greedy_and_score_batch(
    model: &dyn CausalLm,
    requests: &[Request],
    max_new_tokens: usize,
    is_stop: &dyn Fn(u32) -> bool,
) -> Result<Vec<(Generation, Vec<Vec<f64>>)>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    for request in requests {
        if request.prompt.is_empty() {
            return Err(refuse("cannot generate from an empty prompt (give at least a BOS token)".to_string()));
        }
        if request.continuations.iter().any(|c| c.is_empty()) {
            return Err(refuse("scoring needs non-empty continuations".to_string()));
        }
        let longest = request.continuations.iter().map(|c| c.len()).max().unwrap_or(0).max(max_new_tokens);
        ensure_fits_context(model, request.prompt.len() + longest, || {
            format!("a prompt of {} tokens plus up to {longest} new ones", request.prompt.len())
        })?;
    }
    let device = model.device().clone();
    let width = requests.iter().map(|r| r.prompt.len()).max().unwrap_or(0);
    let padding: Vec<usize> = requests.iter().map(|r| width - r.prompt.len()).collect();
    let longest = requests.iter().flat_map(|r| r.continuations.iter().map(|c| c.len())).max().unwrap_or(0).max(max_new_tokens);
    ensure_fits_context(model, width + longest, || format!("a batch padded to {width} tokens plus up to {longest} new ones"))?;
    let mut cache = if padding.iter().all(|&p| p == 0) {
        KvCache::new(model.config().num_layers)
    } else {
        KvCache::with_padding(model.config().num_layers, padding.clone())
    };
    let mut ids = Vec::with_capacity(requests.len() * width);
    for (request, &pad) in requests.iter().zip(&padding) {
        ids.extend(std::iter::repeat_n(0, pad));
        ids.extend_from_slice(request.prompt);
    }
    let hidden = model.forward(&Tensor::from_vec(ids, (requests.len(), width), &device)?, Some(&mut cache))?;
    let mut log_probs = rows_log_probs(model, &hidden.narrow(1, width - 1, 1)?.squeeze(1)?)?;
    let scores = score_continuations(model, requests, &cache, &log_probs)?;

    let mut generations = vec![Generation { ids: Vec::new(), token_probs: Vec::new(), stopped: false }; requests.len()];
    // `running[r]` is the request in row r of the batch (and of `log_probs` and the cache).
    let mut running: Vec<usize> = (0..requests.len()).collect();
    for step in 0..max_new_tokens {
        let next = log_probs.argmax(D::Minus1)?.to_vec1::<u32>()?;
        let picked = log_probs.gather(&Tensor::new(next.as_slice(), &device)?.unsqueeze(1)?, 1)?.flatten_all()?.to_vec1::<f32>()?;
        let mut keep = Vec::with_capacity(running.len());
        for (row, (&request, (&token, &log_p))) in running.iter().zip(next.iter().zip(&picked)).enumerate() {
            let generation = &mut generations[request];
            generation.ids.push(token);
            generation.token_probs.push(log_p.exp());
            if is_stop(token) {
                generation.stopped = true;
            } else {
                keep.push(row);
            }
        }
        if keep.is_empty() || step + 1 == max_new_tokens {
            break;
        }
        if keep.len() < running.len() {
            cache = cache.select(&keep)?;
            running = keep.iter().map(|&row| running[row]).collect();
        }
        let last: Vec<u32> = running.iter().map(|&r| *generations[r].ids.last().expect("a token per step")).collect();
        let hidden = model.forward(&Tensor::from_vec(last, (running.len(), 1), &device)?, Some(&mut cache))?;
        log_probs = rows_log_probs(model, &hidden.squeeze(1)?)?;
    }
    Ok(generations.into_iter().zip(scores).collect())
}

/// Log-softmax over the vocabulary of hidden-state rows (N, H) → (N, vocab), in f32; the logits
/// must be finite.
fn rows_log_probs(model: &dyn CausalLm, rows: &Tensor) -> Result<Tensor> {
    let logits = model.logits(rows)?.to_dtype(DType::F32)?;
    ensure_finite(&logits)?;
    log_softmax(&logits, D::Minus1)
}

/// Continuations scored per token: the first token from the prompt's own next-token
/// `log_probs` (row per request), the rest from one forward pass of every continuation (all but
/// its last token, right-padded) through a branch of `cache` — right padding is harmless, as no
/// real position attends to a later one.
fn score_continuations(model: &dyn CausalLm, requests: &[Request], cache: &KvCache, log_probs: &Tensor) -> Result<Vec<Vec<Vec<f64>>>> {
    let device = model.device().clone();
    let mut scores: Vec<Vec<Vec<f64>>> = Vec::with_capacity(requests.len());
    for (row, request) in requests.iter().enumerate() {
        let first = log_probs.get(row)?;
        scores.push(request.continuations.iter().map(|c| Ok(vec![f64::from(first.get(c[0] as usize)?.to_scalar::<f32>()?)])).collect::<Result<_>>()?);
    }
    // (request, continuation) pairs with more than one token, a bounded number per pass.
    let pairs: Vec<(usize, usize)> = requests
        .iter()
        .enumerate()
        .flat_map(|(r, request)| request.continuations.iter().enumerate().filter(|(_, c)| c.len() > 1).map(move |(j, _)| (r, j)))
        .collect();
    for group in pairs.chunks(2 * DEFAULT_BATCH) {
        let width = group.iter().map(|&(r, j)| requests[r].continuations[j].len() - 1).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(group.len() * width);
        for &(r, j) in group {
            let feed = &requests[r].continuations[j][..requests[r].continuations[j].len() - 1];
            ids.extend_from_slice(feed);
            ids.extend(std::iter::repeat_n(0, width - feed.len()));
        }
        let mut branch = cache.select(&group.iter().map(|&(r, _)| r).collect::<Vec<_>>())?;
        let hidden = model.forward(&Tensor::from_vec(ids, (group.len(), width), &device)?, Some(&mut branch))?;
        let (mut rows, mut targets) = (Vec::new(), Vec::new());
        for (p, &(r, j)) in group.iter().enumerate() {
            let continuation = requests[r].continuations[j];
            for (i, &target) in continuation[1..].iter().enumerate() {
                rows.push((p * width + i) as u32);
                targets.push(target);
            }
        }
        let hidden = hidden.reshape((group.len() * width, hidden.dim(D::Minus1)?))?;
        let picked_rows = hidden.index_select(&Tensor::new(rows.as_slice(), &device)?, 0)?;
        let lp = rows_log_probs(model, &picked_rows)?;
        let picked = lp.gather(&Tensor::new(targets.as_slice(), &device)?.unsqueeze(1)?, 1)?.flatten_all()?.to_vec1::<f32>()?;
        let mut at = 0;
        for &(r, j) in group {
            let rest = requests[r].continuations[j].len() - 1;
            scores[r][j].extend(picked[at..at + rest].iter().map(|&v| f64::from(v)));
            at += rest;
        }
    }
    Ok(scores)
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
