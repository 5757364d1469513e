//! Our seeded generators: unlimited examples for the tasks whose shipped files are too small (or
//! absent), each example's answer computed by the generator's own model of the task. Every
//! generator has an independently written solver in [`crate::tasks::evaluators`] that reads only
//! the example's text; the tests check that the two agree.
//!
//! Randomness: one `ChaCha8Rng` seeded from a `u64`, so a seed fixes the examples on every
//! platform.

pub mod alphabet_mapping;
pub mod boolean_expressions;
pub mod key_value;
pub mod multistep_arithmetic;
pub mod object_counting;
pub mod tracking_shuffled_objects;
pub mod web_of_lies;
mod words;

use std::collections::HashSet;

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use super::task::{AnswerType, TextExample};

/// A seeded example generator.
pub trait Generator {
    /// The task name the generated examples belong to.
    fn name(&self) -> &'static str;
    /// The task whose prompt template and solver these examples use: the generator's own, but
    /// a base task's for a difficulty [`Variant`].
    fn base_task(&self) -> &'static str {
        self.name()
    }
    /// The answer type of its examples.
    fn answer(&self) -> AnswerType;
    /// One example drawn from `rng`, its first target being the correct answer.
    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample;
}

/// Draws before giving up on the requested label (labels never this rare in practice).
const MAX_LABEL_TRIES: usize = 256;

/// `n` examples from `seed`. For a fixed label set the label of each example is drawn uniformly
/// first and examples are re-drawn until one has it, so the classes are balanced.
pub fn generate(generator: &dyn Generator, seed: u64, n: usize) -> Vec<TextExample> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels = match generator.answer() {
        AnswerType::Labels(labels) => labels,
        _ => Vec::new(),
    };
    (0..n)
        .map(|_| {
            if labels.is_empty() {
                return generator.sample(&mut rng);
            }
            let wanted = &labels[rng.random_range(0..labels.len())];
            let mut example = generator.sample(&mut rng);
            for _ in 1..MAX_LABEL_TRIES {
                if example.target() == wanted {
                    break;
                }
                example = generator.sample(&mut rng);
            }
            example
        })
        .collect()
}

/// Up to `n` examples with distinct inputs from `seed` (fewer only when the generator runs out of
/// new inputs within `20 n` draws).
pub fn generate_unique(generator: &dyn Generator, seed: u64, n: usize) -> Vec<TextExample> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(n);
    let batch = n.max(1);
    for round in 0..20u64 {
        for example in generate(generator, seed.wrapping_add(round.wrapping_mul(0x9E37_79B9_7F4A_7C15)), batch) {
            if out.len() == n {
                return out;
            }
            if seen.insert(example.dedup_key()) {
                out.push(example);
            }
        }
    }
    out
}

/// A task of its own made from a base generator at other difficulty knobs: its own name and
/// examples, the base task's prompt template, answer type and solver. The variants spread the
/// suite's difficulties (and so its AUCs) now that BIG-bench's files cannot be had.
pub struct Variant {
    pub name: &'static str,
    /// The knobs, in words (for `dataeff tasks list` and the report).
    pub knobs: &'static str,
    pub base: Box<dyn Generator>,
}

impl Generator for Variant {
    fn name(&self) -> &'static str {
        self.name
    }

    fn base_task(&self) -> &'static str {
        self.base.name()
    }

    fn answer(&self) -> AnswerType {
        self.base.answer()
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample {
        self.base.sample(rng)
    }
}

/// The difficulty variants, easier and harder than their base tasks' defaults.
pub fn variants() -> Vec<Variant> {
    let variant = |name, knobs, base: Box<dyn Generator>| Variant { name, knobs, base };
    vec![
        variant("web_of_lies_short", "2-3 people", Box::new(web_of_lies::WebOfLies { min_people: 2, max_people: 3 })),
        variant("web_of_lies_long", "7-9 people", Box::new(web_of_lies::WebOfLies { min_people: 7, max_people: 9 })),
        variant(
            "multistep_arithmetic_short",
            "1-2 operations",
            Box::new(multistep_arithmetic::MultistepArithmetic { min_ops: 1, max_ops: 2 }),
        ),
        variant(
            "object_counting_small",
            "2-4 kinds of thing, at most two of each",
            Box::new(object_counting::ObjectCounting { min_items: 2, max_items: 4, max_quantity: 2 }),
        ),
        variant(
            "tracking_shuffled_objects_three",
            "three people only",
            Box::new(tracking_shuffled_objects::TrackingShuffledObjects { sizes: vec![3] }),
        ),
        variant("synthetic_random_kv_small", "3 rows", Box::new(key_value::KeyValue { pairs: 3 })),
        variant(
            "synthetic_alphabet_mapping_short",
            "3-letter words, 1 unused row",
            Box::new(alphabet_mapping::AlphabetMapping { word_len: 3, distractors: 1 }),
        ),
    ]
}

/// Every generator: each task's default difficulty, then the [`variants`].
pub fn all() -> Vec<Box<dyn Generator>> {
    let mut all: Vec<Box<dyn Generator>> = vec![
        Box::new(boolean_expressions::BooleanExpressions::default()),
        Box::new(web_of_lies::WebOfLies::default()),
        Box::new(object_counting::ObjectCounting::default()),
        Box::new(tracking_shuffled_objects::TrackingShuffledObjects::default()),
        Box::new(multistep_arithmetic::MultistepArithmetic::default()),
        Box::new(key_value::KeyValue::default()),
        Box::new(alphabet_mapping::AlphabetMapping::default()),
    ];
    all.extend(variants().into_iter().map(|v| Box::new(v) as Box<dyn Generator>));
    all
}

/// The generator of task `name`, if it is a generated task.
pub fn by_name(name: &str) -> Option<Box<dyn Generator>> {
    all().into_iter().find(|g| g.name() == name)
}

/// Pick `k` distinct items of `pool` in random order.
pub(crate) fn pick<'a, T>(rng: &mut ChaCha8Rng, pool: &'a [T], k: usize) -> Vec<&'a T> {
    rand::seq::index::sample(rng, pool.len(), k).into_iter().map(|i| &pool[i]).collect()
}
