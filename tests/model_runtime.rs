//! Inference, training and gradient sketches on a tiny random Llama (the same code runs the real
//! models): the KV-cached greedy decode agrees with full passes, scores are log-softmax sums,
//! padding never leaks into the loss, a 50-step LoRA fine-tune learns a synthetic task, runs are
//! deterministic, and answer-only logits give the same sketch as logits everywhere.

#![cfg(feature = "lm")]

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::ops::log_softmax;
use dataeff::model::generate::{continuation_log_probs, greedy, greedy_and_score};
use dataeff::model::llama::{Llama, weight_shapes};
use dataeff::model::lora::{LoraConfig, attach};
use dataeff::model::lora::set_sketch_mode;
use dataeff::model::sketch::{cosine, lora_b_gradient, median_pairwise_cosine, prepare};
use dataeff::model::train::{AdamW, TokenExample, TrainConfig, answer_loss, cosine_with_warmup, train};
use dataeff::model::{Architecture, CausalLm, ModelConfig, Weights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_weights(cfg: &ModelConfig, seed: u64, dtype: DType) -> Weights {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut weights = Weights::default();
    for (name, shape) in weight_shapes(cfg) {
        let n: usize = shape.iter().product();
        let norm = name.ends_with("norm.weight");
        let v: Vec<f64> = (0..n).map(|_| if norm { 1.0 } else { rng.random_range(-0.5..0.5) }).collect();
        weights.tensors.insert(name, Tensor::from_vec(v, shape, &Device::Cpu).unwrap().to_dtype(dtype).unwrap());
    }
    weights
}

fn tiny(dtype: DType, seed: u64) -> Llama {
    let cfg = ModelConfig::tiny(Architecture::Llama);
    Llama::new(&cfg, &random_weights(&cfg, seed, dtype)).unwrap()
}

fn full_log_probs(model: &Llama, ids: &[u32]) -> Vec<Vec<f32>> {
    let t = Tensor::new(ids, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let logits = model.logits(&model.hidden_states(&t).unwrap()).unwrap().squeeze(0).unwrap();
    log_softmax(&logits.to_dtype(DType::F32).unwrap(), D::Minus1).unwrap().to_vec2::<f32>().unwrap()
}

#[test]
fn greedy_decoding_with_the_cache_agrees_with_full_passes() {
    let model = tiny(DType::F64, 1);
    let prompt = [3u32, 17, 5, 30];
    let generation = greedy(&model, &prompt, 6, &|_| false).unwrap();
    assert_eq!(generation.ids.len(), 6);
    let mut seq = prompt.to_vec();
    for (i, &id) in generation.ids.iter().enumerate() {
        let lp = full_log_probs(&model, &seq);
        let last = lp.last().unwrap();
        let argmax = (0..last.len()).max_by(|&a, &b| last[a].total_cmp(&last[b])).unwrap() as u32;
        assert_eq!(id, argmax, "step {i}");
        assert!((generation.token_probs[i] - last[argmax as usize].exp()).abs() < 1e-6);
        seq.push(id);
    }
    // A stop token ends generation and is left out of the mean confidence.
    let stop = generation.ids[2];
    let stopped = greedy(&model, &prompt, 6, &|id| id == stop).unwrap();
    assert!(stopped.stopped && stopped.ids.len() <= 3 && *stopped.ids.last().unwrap() == stop);
    let n = stopped.ids.len() - 1;
    if n > 0 {
        let mean = stopped.token_probs[..n].iter().map(|&p| p as f64).sum::<f64>() / n as f64;
        assert!((stopped.mean_confidence().unwrap() - mean).abs() < 1e-12);
    }
}

#[test]
fn continuation_score_is_the_sum_of_next_token_log_probs() {
    let model = tiny(DType::F64, 2);
    let (prompt, cont) = ([1u32, 4, 4, 22], [36u32, 0, 9]);
    let scored = continuation_log_probs(&model, &prompt, &cont).unwrap();
    let all: Vec<u32> = prompt.iter().chain(&cont).copied().collect();
    let lp = full_log_probs(&model, &all);
    for (j, &tok) in cont.iter().enumerate() {
        let expected = lp[prompt.len() - 1 + j][tok as usize] as f64;
        assert!((scored[j] - expected).abs() < 1e-5, "token {j}: {} vs {expected}", scored[j]);
    }
}

#[test]
fn continuations_scored_from_the_generation_prefill_match_their_own_passes() {
    let model = tiny(DType::F64, 2);
    let prompt = [1u32, 4, 4, 22, 7];
    let continuations: [&[u32]; 3] = [&[36, 0, 9], &[5], &[12, 12]];
    let (generation, scores) = greedy_and_score(&model, &prompt, 4, &|_| false, &continuations).unwrap();
    assert_eq!(generation, greedy(&model, &prompt, 4, &|_| false).unwrap(), "scoring leaves the decode alone");
    for (c, s) in continuations.iter().zip(&scores) {
        let own = continuation_log_probs(&model, &prompt, c).unwrap();
        assert_eq!(own.len(), s.len());
        for (a, b) in own.iter().zip(s) {
            assert!((a - b).abs() < 1e-9, "{c:?}: {a} vs {b}");
        }
    }
}

#[test]
fn padding_never_changes_the_answer_loss() {
    let model = tiny(DType::F64, 3);
    let a = TokenExample { prompt: vec![3, 17, 5, 30, 2, 11], answer: vec![8, 9] };
    let b = TokenExample { prompt: vec![1, 4], answer: vec![22] };
    let loss = |batch: &[&TokenExample]| answer_loss(&model, batch).unwrap().to_scalar::<f32>().unwrap() as f64;
    let (la, lb) = (loss(&[&a]), loss(&[&b]));
    // Token-weighted mean: a has 2 answer tokens, b one.
    let together = loss(&[&a, &b]);
    assert!((together - (2.0 * la + lb) / 3.0).abs() < 1e-5, "{together} vs {la}, {lb}");
    assert!((loss(&[&b, &a]) - together).abs() < 1e-6);
}

/// A synthetic task: the answer is a fixed random function of the prompt's first token.
fn synthetic_task(n: usize, seed: u64) -> (Vec<TokenExample>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mapping: Vec<u32> = (0..8).map(|_| rng.random_range(0..37)).collect();
    let examples = (0..n)
        .map(|_| {
            let x = rng.random_range(0..8u32);
            TokenExample { prompt: vec![x, 30, rng.random_range(10..20)], answer: vec![mapping[x as usize]] }
        })
        .collect();
    (examples, mapping)
}

fn accuracy(model: &Llama, mapping: &[u32]) -> f64 {
    let hits = (0..8u32)
        .filter(|&x| greedy(model, &[x, 30, 15], 1, &|_| false).unwrap().ids[0] == mapping[x as usize])
        .count();
    hits as f64 / 8.0
}

#[test]
fn a_50_step_lora_fine_tune_learns_a_synthetic_task() {
    let mut model = tiny(DType::F32, 4);
    let lora = LoraConfig { rank: 8, alpha: 16.0, dropout: 0.05, ..LoraConfig::default() };
    let vars = attach(&mut model, &lora, 5).unwrap();
    let (examples, mapping) = synthetic_task(200, 6);
    let before_acc = accuracy(&model, &mapping);
    let before = answer_loss(&model, &examples.iter().collect::<Vec<_>>()).unwrap().to_scalar::<f32>().unwrap();
    let cfg = TrainConfig { learning_rate: 3e-2, epochs: 2, batch_size: 8, warmup_ratio: 0.1, seed: 9, ..TrainConfig::default() };
    let report = train(&mut model, &vars, &examples, &cfg, &mut |_, _, _| {}).unwrap();
    assert_eq!(report.step_losses.len(), 50);
    let after = answer_loss(&model, &examples.iter().collect::<Vec<_>>()).unwrap().to_scalar::<f32>().unwrap();
    let after_acc = accuracy(&model, &mapping);
    eprintln!("loss {before:.3} -> {after:.3}, accuracy {before_acc} -> {after_acc}");
    assert!(after < 0.5 * before, "loss {before} -> {after}");
    assert!(after_acc >= 0.75 && after_acc > before_acc, "accuracy {before_acc} -> {after_acc}");
    // Warm-up then cosine decay to (almost) zero.
    assert_eq!(report.learning_rates[0], 0.0);
    assert!(report.learning_rates[5] == 3e-2 && *report.learning_rates.last().unwrap() < 1e-3);
}

#[test]
fn training_is_deterministic_for_a_seed_and_full_fine_tuning_trains_every_weight() {
    let run = |seed: u64| {
        let cfg = ModelConfig::tiny(Architecture::Llama);
        let mut weights = random_weights(&cfg, 7, DType::F32);
        let vars = weights.to_trainable().unwrap();
        let mut model = Llama::new(&cfg, &weights).unwrap();
        let mut vars_all = vars.clone();
        let lora = LoraConfig { rank: 2, alpha: 4.0, dropout: 0.3, ..LoraConfig::default() };
        vars_all.extend(attach(&mut model, &lora, 1).unwrap());
        let (examples, _) = synthetic_task(24, 8);
        let cfg = TrainConfig { learning_rate: 1e-2, batch_size: 4, grad_accumulation: 2, seed, ..TrainConfig::default() };
        let report = train(&mut model, &vars_all, &examples, &cfg, &mut |_, _, _| {}).unwrap();
        let w: Vec<f32> = vars[0].1.flatten_all().unwrap().to_vec1().unwrap();
        (report, w)
    };
    let (r1, w1) = run(11);
    let (r2, w2) = run(11);
    let (r3, _) = run(12);
    assert_eq!(r1, r2);
    assert_eq!(w1, w2);
    assert_ne!(r1.step_losses, r3.step_losses, "the seed must matter (order, dropout)");
    assert_eq!(r1.step_losses.len(), 3, "24 examples / batch 4 / accumulation 2");
}

#[test]
fn schedule_and_adamw_follow_their_definitions() {
    assert_eq!(cosine_with_warmup(0, 100, 10, 1.0), 0.0);
    assert!((cosine_with_warmup(5, 100, 10, 1.0) - 0.5).abs() < 1e-12);
    assert!((cosine_with_warmup(10, 100, 10, 1.0) - 1.0).abs() < 1e-12);
    assert!((cosine_with_warmup(55, 100, 10, 1.0) - 0.5).abs() < 1e-12);
    assert!(cosine_with_warmup(99, 100, 10, 1.0) < 1e-3);
    // First AdamW step with bias correction: θ ← θ(1 − lr·wd) − lr·g/(|g| + ε).
    let var = Var::from_tensor(&Tensor::new(&[[1.0f64, -2.0], [0.5, 3.0]], &Device::Cpu).unwrap()).unwrap();
    let g = Tensor::new(&[[0.1f64, -4.0], [0.0, 2.0]], &Device::Cpu).unwrap();
    let cfg = TrainConfig { weight_decay: 0.1, eps: 1e-8, ..TrainConfig::default() };
    let mut opt = AdamW::new(vec![("w".into(), var.clone())], &cfg).unwrap();
    opt.step(std::slice::from_ref(&g), 0.01).unwrap();
    let got = var.as_tensor().to_vec2::<f64>().unwrap();
    let (theta, grad) = ([[1.0, -2.0], [0.5, 3.0]], g.to_vec2::<f64>().unwrap());
    for i in 0..2 {
        for j in 0..2 {
            let expected = theta[i][j] * (1.0 - 0.01 * 0.1) - 0.01 * grad[i][j] / (grad[i][j].abs() + 1e-8);
            assert!((got[i][j] - expected).abs() < 1e-12);
        }
    }
}

#[test]
fn sketches_from_answer_only_logits_equal_those_from_all_logits() {
    let mut model = tiny(DType::F64, 9);
    let lora = LoraConfig { rank: 4, alpha: 2.0, dropout: 0.05, ..LoraConfig::default() };
    // Sketch mode (only B differentiated) for the sketch ...
    let vars = prepare(&mut model, &lora, 3).unwrap();
    let e = TokenExample { prompt: vec![3, 17, 5, 30, 2], answer: vec![11, 8] };
    let sketch = lora_b_gradient(&model, &vars, &e).unwrap();
    // ... and the full graph for the reference.
    set_sketch_mode(&mut model, false).unwrap();
    // The same loss written the plain way: logits at every position, answer positions picked after.
    let ids = Tensor::new(&[3u32, 17, 5, 30, 2, 11], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let lp = log_softmax(&model.logits(&model.hidden_states(&ids).unwrap()).unwrap().squeeze(0).unwrap(), D::Minus1).unwrap();
    let loss = ((lp.get(4).unwrap().get(11).unwrap() + lp.get(5).unwrap().get(8).unwrap()).unwrap() * -0.5).unwrap();
    let grads = loss.backward().unwrap();
    let plain: Vec<f32> = vars
        .iter()
        .filter(|(n, _)| n.ends_with("lora_B"))
        .flat_map(|(_, v)| grads.get(v).unwrap().to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect();
    assert_eq!(sketch.values.len(), plain.len());
    // Layers × rank × Σ output widths of q, k, v, o, gate, up, down.
    assert_eq!(sketch.values.len(), 2 * 4 * (32 + 16 + 16 + 16 + 24 + 24 + 16));
    let worst = sketch.values.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-6 && sketch.norm() > 0.0, "max |Δ| {worst}");
    assert!((cosine(&sketch, &sketch) - 1.0).abs() < 1e-9);
    let other = lora_b_gradient(&model, &vars, &TokenExample { prompt: vec![1, 4, 4], answer: vec![22] }).unwrap();
    let median = median_pairwise_cosine(&[sketch.clone(), sketch.clone(), other.clone()]).unwrap();
    assert!((median - cosine(&sketch, &other)).abs() < 1e-6, "pairs: 1, c, c → median c");
}

#[test]
fn frozen_projection_gives_the_input_the_plain_matmul_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut rand = |n: usize| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect::<Vec<f64>>();
    let w = Tensor::from_vec(rand(5 * 3), (5, 3), &Device::Cpu).unwrap();
    let x = Var::from_tensor(&Tensor::from_vec(rand(2 * 4 * 3), (2, 4, 3), &Device::Cpu).unwrap()).unwrap();
    // A strided input (a transposed view) goes through the same path.
    let xt = x.as_tensor().transpose(0, 1).unwrap();
    let frozen = dataeff::model::frozen::project(&xt, &w).unwrap();
    let plain = xt.broadcast_matmul(&w.t().unwrap()).unwrap();
    let forward_diff = (&frozen - &plain).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
    assert!(forward_diff < 1e-12, "{forward_diff}");
    let weights = Tensor::from_vec(rand(4 * 2 * 5), (4, 2, 5), &Device::Cpu).unwrap();
    let g_frozen = (frozen * &weights).unwrap().sum_all().unwrap().backward().unwrap();
    let g_plain = (plain * &weights).unwrap().sum_all().unwrap().backward().unwrap();
    let (a, b) = (g_frozen.get(&x).unwrap(), g_plain.get(&x).unwrap());
    let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
    assert!(diff < 1e-12, "{diff}");
}

#[test]
fn the_blocked_gram_matrix_matches_plain_cosines() {
    use dataeff::model::sketch::{GradientSketch, gram_matrix};
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    // Longer than one block of columns (2^20), so the blocks are summed.
    let d = (1 << 20) + 12_345;
    let common: Vec<f32> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let sketches: Vec<GradientSketch> = (0..4)
        .map(|i| GradientSketch { values: common.iter().map(|&c| c * i as f32 + rng.random_range(-1.0f32..1.0)).collect() })
        .collect();
    let gram = gram_matrix(&sketches).unwrap();
    for i in 0..4 {
        for j in 0..4 {
            let from_gram = gram[i][j] / (gram[i][i] * gram[j][j]).sqrt();
            let plain = cosine(&sketches[i], &sketches[j]);
            assert!((from_gram - plain).abs() < 1e-5, "({i},{j}): {from_gram} vs {plain}");
        }
    }
    let mut pairs: Vec<f64> = (0..4).flat_map(|i| (i + 1..4).map(move |j| (i, j))).map(|(i, j)| cosine(&sketches[i], &sketches[j])).collect();
    pairs.sort_by(f64::total_cmp);
    let median = median_pairwise_cosine(&sketches).unwrap();
    assert!((median - (pairs[2] + pairs[3]) / 2.0).abs() < 1e-5, "six pairs: the mean of the middle two");
}

#[test]
fn sketch_mode_refuses_trained_adapters() {
    let mut model = tiny(DType::F32, 10);
    let vars = attach(&mut model, &LoraConfig { rank: 2, ..LoraConfig::default() }, 1).unwrap();
    let b = &vars.iter().find(|(n, _)| n.ends_with("layers.1.mlp.up_proj.lora_B")).unwrap().1;
    b.set(&b.ones_like().unwrap()).unwrap();
    let err = set_sketch_mode(&mut model, true).unwrap_err().to_string();
    assert!(err.contains("model.layers.1.mlp.up_proj"), "{err}");
}

/// Grouping by length: every epoch still visits each example once, deterministically for a
/// seed, and the batches pad less than the plain shuffled ones.
#[test]
fn length_grouped_batches_cover_the_epoch_and_pad_less() {
    use dataeff::model::train::epoch_batches;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let examples: Vec<TokenExample> = (0..203)
        .map(|_| TokenExample { prompt: vec![1; rng.random_range(5..80)], answer: vec![2; rng.random_range(1..4)] })
        .collect();
    let padding = |batches: &[Vec<usize>]| -> usize {
        batches.iter().map(|b| b.iter().map(|&i| examples.iter().map(TokenExample::len).nth(i).unwrap()).max().unwrap() * b.len() - b.iter().map(|&i| examples[i].len()).sum::<usize>()).sum()
    };
    let plain = TrainConfig { batch_size: 8, ..TrainConfig::default() };
    let grouped = TrainConfig { group_by_length: true, ..plain.clone() };
    let a = epoch_batches(&examples, &grouped, &mut ChaCha8Rng::seed_from_u64(3));
    assert_eq!(a, epoch_batches(&examples, &grouped, &mut ChaCha8Rng::seed_from_u64(3)));
    let mut seen: Vec<usize> = a.iter().flatten().copied().collect();
    seen.sort();
    assert_eq!(seen, (0..examples.len()).collect::<Vec<_>>());
    assert!(a.iter().all(|b| b.len() <= 8));
    let p = epoch_batches(&examples, &plain, &mut ChaCha8Rng::seed_from_u64(3));
    assert!(padding(&a) * 3 < padding(&p), "grouped padding {} vs plain {}", padding(&a), padding(&p));
}

/// A batch longer than the token bound is differentiated in parts: the step's loss, gradient
/// norm and update are the whole batch's (to rounding), whatever the cut.
#[test]
fn a_batch_split_for_memory_takes_the_same_step_as_the_whole_batch() {
    use dataeff::model::train::{Trainer, snapshot};
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    // Answers of different lengths, so the parts' weights (their answer-token shares) matter.
    let examples: Vec<TokenExample> = (0..6)
        .map(|_| TokenExample {
            prompt: (0..rng.random_range(3..9)).map(|_| rng.random_range(0..37)).collect(),
            answer: (0..rng.random_range(1..4)).map(|_| rng.random_range(0..37)).collect(),
        })
        .collect();
    let step = |max_batch_tokens: usize| {
        let mut model = tiny(DType::F64, 8);
        let lora = LoraConfig { rank: 4, alpha: 8.0, dropout: 0.0, ..LoraConfig::default() };
        let vars = attach(&mut model, &lora, 2).unwrap();
        // B starts at 0; one step first so that A gets a gradient too in the compared step.
        let cfg = TrainConfig { learning_rate: 1e-2, batch_size: 6, warmup_ratio: 0.0, max_batch_tokens, ..TrainConfig::default() };
        let mut trainer = Trainer::new(&vars, examples.len(), 3, &cfg).unwrap();
        let reports: Vec<_> = (0..2).map(|_| trainer.step(&model, &vars, &examples).unwrap()).collect();
        let values: Vec<Vec<f64>> = snapshot(&vars).unwrap().iter().map(|t| t.flatten_all().unwrap().to_vec1().unwrap()).collect();
        (reports, values)
    };
    let (whole, whole_values) = step(10_000);
    for bound in [20, 12, 1] {
        let (parts, part_values) = step(bound);
        for (a, b) in whole.iter().zip(&parts) {
            // The loss is taken in f32 (as the logits are), so parts agree to f32 rounding.
            assert!((a.loss - b.loss).abs() < 1e-6 * a.loss && (a.grad_norm - b.grad_norm).abs() < 1e-6 * a.grad_norm, "bound {bound}: {a:?} vs {b:?}");
        }
        let worst = whole_values.iter().flatten().zip(part_values.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-6, "bound {bound}: max |Δ| {worst}");
    }
}

#[test]
fn token_bounded_parts_cut_a_batch_in_order_within_the_bound() {
    use dataeff::model::train::token_bounded_parts;
    assert_eq!(token_bounded_parts(&[5, 5, 5], 8, 100), vec![0..3]);
    assert_eq!(token_bounded_parts(&[], 8, 100), Vec::<std::ops::Range<usize>>::new());
    // 4 × 30 > 100: a new part at the fourth; the long one alone even though it is over the bound.
    assert_eq!(token_bounded_parts(&[30, 20, 30, 10, 150, 1], 8, 100), vec![0..3, 3..4, 4..5, 5..6]);
    assert_eq!(token_bounded_parts(&[1; 5], 2, 100), vec![0..2, 2..4, 4..5]);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..200 {
        let lengths: Vec<usize> = (0..rng.random_range(0..20)).map(|_| rng.random_range(1..60)).collect();
        let (count, bound) = (rng.random_range(1..9), rng.random_range(1..200));
        let parts = token_bounded_parts(&lengths, count, bound);
        let covered: Vec<usize> = parts.iter().flat_map(|p| p.clone()).collect();
        assert_eq!(covered, (0..lengths.len()).collect::<Vec<_>>());
        for p in &parts {
            let padded = p.len() * lengths[p.clone()].iter().max().unwrap();
            assert!(p.len() <= count && (padded <= bound || p.len() == 1), "{lengths:?} {count} {bound}: {p:?}");
        }
    }
}

/// Inference mode gives the same numbers as eval mode, with no graph: the adapters' variables
/// get no gradient through it.
#[test]
fn lora_inference_mode_gives_the_same_loss_and_records_no_graph() {
    use dataeff::model::lora::set_inference;
    let mut model = tiny(DType::F64, 12);
    let lora = LoraConfig { rank: 4, alpha: 8.0, dropout: 0.1, ..LoraConfig::default() };
    let vars = attach(&mut model, &lora, 3).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for (_, var) in &vars {
        let v: Vec<f64> = (0..var.elem_count()).map(|_| rng.random_range(-0.3..0.3)).collect();
        var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap()).unwrap();
    }
    let e = TokenExample { prompt: vec![3, 17, 5, 30, 2], answer: vec![11, 8] };
    let eval = answer_loss(&model, &[&e]).unwrap();
    assert!(eval.backward().unwrap().get(&vars[0].1).is_some());
    set_inference(&mut model, true);
    let inference = answer_loss(&model, &[&e]).unwrap();
    assert_eq!(eval.to_scalar::<f32>().unwrap(), inference.to_scalar::<f32>().unwrap());
    let grads = inference.backward().unwrap();
    assert!(vars.iter().all(|(_, v)| grads.get(v).is_none()), "inference mode must not track the adapters");
    set_inference(&mut model, false);
    assert!(answer_loss(&model, &[&e]).unwrap().backward().unwrap().get(&vars[0].1).is_some());
}
