//! Batched greedy decoding (left-padded prefill, one step per token for the sequences still
//! running, label continuations branched from the prompt cache) gives each sequence what decoding
//! it alone gives, and what a naive decoder that re-reads the whole sequence every step gives —
//! on tiny random f64 models of both architectures (Gemma's window of 3 is shorter than the
//! prompts, so the window and the padding mask meet).

#![cfg(feature = "lm")]

mod common;

use candle_core::{D, DType, Device, Tensor};
use candle_nn::ops::log_softmax;
use common::random_model;
use dataeff::model::generate::{Request, continuation_log_probs, greedy_and_score, greedy_and_score_batch, greedy_and_score_many};
use dataeff::model::gemma3::Gemma3;
use dataeff::model::llama::Llama;
use dataeff::model::{Architecture, CausalLm, ModelConfig};

fn models() -> Vec<(&'static str, Box<dyn CausalLm>)> {
    let llama = ModelConfig::tiny(Architecture::Llama);
    let gemma = ModelConfig::tiny(Architecture::Gemma3);
    vec![
        ("llama", Box::new(Llama::new(&llama, &random_model(&llama, 21).0).unwrap())),
        ("gemma", Box::new(Gemma3::new(&gemma, &random_model(&gemma, 22).0).unwrap())),
    ]
}

/// Greedy decoding without a cache: the whole sequence through the model at every step.
fn naive_greedy(model: &dyn CausalLm, prompt: &[u32], max_new: usize, stop: u32) -> Vec<u32> {
    let mut seq = prompt.to_vec();
    for _ in 0..max_new {
        let ids = Tensor::new(seq.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let hidden = model.hidden_states(&ids).unwrap();
        let last = hidden.narrow(1, seq.len() - 1, 1).unwrap().squeeze(1).unwrap();
        let next = model.logits(&last).unwrap().argmax(D::Minus1).unwrap().flatten_all().unwrap().to_vec1::<u32>().unwrap()[0];
        seq.push(next);
        if next == stop {
            break;
        }
    }
    seq[prompt.len()..].to_vec()
}

const PROMPTS: [&[u32]; 5] = [&[3, 17, 5, 30, 2, 11, 8], &[1, 4], &[9, 9, 9, 12, 14, 2], &[7], &[30, 31, 2, 5, 6, 7, 8, 1, 3]];
const LABELS: [&[u32]; 3] = [&[36, 0, 9], &[5], &[12, 12]];

#[test]
fn a_padded_batch_decodes_each_sequence_as_it_alone_and_as_a_naive_decoder() {
    for (name, model) in models() {
        let vocab = model.config().vocab_size as u32;
        // A stop token that some sequences emit: take the first token the longest prompt decodes to.
        let stop = naive_greedy(model.as_ref(), PROMPTS[4], 1, u32::MAX)[0];
        let requests: Vec<Request> = PROMPTS.iter().map(|p| Request { prompt: p, continuations: LABELS.to_vec() }).collect();
        let batch = greedy_and_score_batch(model.as_ref(), &requests, 6, &|id| id == stop).unwrap();
        let mut stopped = 0;
        for (prompt, (generation, scores)) in PROMPTS.iter().zip(&batch) {
            let (alone, alone_scores) = greedy_and_score(model.as_ref(), prompt, 6, &|id| id == stop, &LABELS).unwrap();
            assert_eq!(generation.ids, alone.ids, "{name} {prompt:?}: batched and alone decode differently");
            assert_eq!(generation.ids, naive_greedy(model.as_ref(), prompt, 6, stop), "{name} {prompt:?}: the cache changed the decode");
            assert!(generation.ids.iter().all(|&t| t < vocab));
            stopped += usize::from(generation.stopped);
            for (a, b) in generation.token_probs.iter().zip(&alone.token_probs) {
                assert!((a - b).abs() < 1e-6, "{name}: token probability {a} vs {b}");
            }
            for ((label, s), a) in LABELS.iter().zip(scores).zip(&alone_scores) {
                let own = continuation_log_probs(model.as_ref(), prompt, label).unwrap();
                for ((x, y), z) in s.iter().zip(a).zip(&own) {
                    assert!((x - z).abs() < 1e-9 && (y - z).abs() < 1e-9, "{name} {label:?}: {x} / {y} vs its own pass {z}");
                }
            }
        }
        assert!(stopped >= 1, "{name}: the stop token ends at least one sequence early");
    }
}

#[test]
fn many_prompts_come_back_in_the_order_given_whatever_the_batch_size() {
    let (_, model) = models().remove(1);
    let requests: Vec<Request> = PROMPTS.iter().map(|p| Request { prompt: p, continuations: vec![] }).collect();
    let one = greedy_and_score_many(model.as_ref(), &requests, 4, &|_| false, 1, &mut |_| {}).unwrap();
    let mut seen = 0;
    let two = greedy_and_score_many(model.as_ref(), &requests, 4, &|_| false, 2, &mut |n| seen += n).unwrap();
    assert_eq!(seen, PROMPTS.len());
    for ((a, _), (b, _)) in one.iter().zip(&two) {
        assert_eq!(a.ids, b.ids);
    }
}

/// Left padding changes no real position's hidden state: the padded batch's rows equal each
/// sequence run alone (positions are shifted by the padding, which rope's relative angles ignore).
#[test]
fn left_padding_is_invisible_to_the_real_tokens() {
    for (name, model) in models() {
        let (a, b): (&[u32], &[u32]) = (&[3, 17, 5, 30, 2, 11, 8], &[1, 4, 22]);
        let mut cache = dataeff::model::KvCache::with_padding(model.config().num_layers, vec![0, 4]);
        let ids = Tensor::new(&[[3u32, 17, 5, 30, 2, 11, 8], [0, 0, 0, 0, 1, 4, 22]], &Device::Cpu).unwrap();
        let batched = model.forward(&ids, Some(&mut cache)).unwrap();
        let alone = |s: &[u32]| model.hidden_states(&Tensor::new(s, &Device::Cpu).unwrap().unsqueeze(0).unwrap()).unwrap();
        let diff = |x: &Tensor, y: &Tensor| (x - y).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f64>().unwrap();
        assert!(diff(&batched.narrow(0, 0, 1).unwrap(), &alone(a)) < 1e-10, "{name}: unpadded row");
        assert!(diff(&batched.narrow(0, 1, 1).unwrap().narrow(1, 4, 3).unwrap(), &alone(b)) < 1e-10, "{name}: padded row");
        // And the logits of the padded row's last position give the same next-token distribution.
        let lp = |h: &Tensor| log_softmax(&model.logits(h).unwrap().to_dtype(DType::F64).unwrap(), D::Minus1).unwrap();
        let last_b = batched.narrow(0, 1, 1).unwrap().narrow(1, 6, 1).unwrap();
        assert!(diff(&lp(&last_b), &lp(&alone(b).narrow(1, 2, 1).unwrap())) < 1e-10, "{name}: next-token distribution");
    }
}

/// CoS-Low's per-example LoRA-B gradients from batched passes (a zero B per example) equal one
/// pass per example, on examples of different lengths and a batch size that splits them unevenly.
#[test]
fn batched_per_example_sketches_equal_one_pass_per_example() {
    use dataeff::model::lora::LoraConfig;
    use dataeff::model::sketch::{lora_b_gradient, lora_b_gradients, prepare};
    use dataeff::model::train::TokenExample;
    for (name, mut model) in models() {
        let lora = LoraConfig { rank: 4, alpha: 8.0, dropout: 0.0, ..LoraConfig::default() };
        let vars = prepare(model.as_mut(), &lora, 5).unwrap();
        let examples: Vec<TokenExample> = PROMPTS
            .iter()
            .zip(LABELS.iter().cycle())
            .map(|(p, a)| TokenExample { prompt: p.to_vec(), answer: a.to_vec() })
            .collect();
        let alone: Vec<_> = examples.iter().map(|e| lora_b_gradient(model.as_ref(), &vars, e).unwrap()).collect();
        let mut done = 0;
        let batched = lora_b_gradients(model.as_mut(), &examples, 2, &mut |n| done += n).unwrap();
        assert_eq!(done, examples.len());
        for (a, b) in alone.iter().zip(&batched) {
            assert_eq!(a.values.len(), b.values.len());
            let scale = a.values.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
            let worst = a.values.iter().zip(&b.values).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(worst <= 1e-5 * scale, "{name}: per-example sketch differs by {worst} (scale {scale})");
        }
    }
}
