//! Seeded splits of a task's examples: a fixed test set, a training pool (the fine-tuning budgets
//! are its prefixes) and a disjoint unannotated pool (CoS-Low ranks it by confidence). Inputs
//! are deduplicated first, so no input appears in two splits.

use std::collections::{BTreeMap, HashSet};

use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;
use rand_chacha::ChaCha8Rng;

use super::normalise::normalise_answer;
use super::task::TextExample;
use crate::curve::MAX_BUDGET;

/// Size of the fixed test set.
pub const TEST_SIZE: usize = 500;
/// Largest unannotated pool (the paper's CoS-Low demo pool has 2,500 prompts).
pub const UNANNOTATED_POOL: usize = 2500;
/// Seed of the default splits (the paper's training seed).
pub const SPLIT_SEED: u64 = 123;

/// How to split.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitConfig {
    pub seed: u64,
    /// Test set size (at most half of the deduplicated examples).
    pub test: usize,
    /// Training pool cap: the largest budget.
    pub train_max: usize,
    /// Unannotated pool cap.
    pub unannotated_max: usize,
    /// When the data cannot fill both pools, the unannotated pool still gets this share of
    /// what the test set leaves.
    pub unannotated_min_share: f64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            seed: SPLIT_SEED,
            test: TEST_SIZE,
            train_max: MAX_BUDGET as usize,
            unannotated_max: UNANNOTATED_POOL,
            unannotated_min_share: 0.2,
        }
    }
}

/// The three splits.
#[derive(Clone, Debug, Default)]
pub struct Splits {
    pub train: Vec<TextExample>,
    pub unannotated: Vec<TextExample>,
    pub test: Vec<TextExample>,
    /// Examples dropped because their input repeated an earlier one.
    pub duplicates: usize,
    /// Deduplicated examples left over once every split is full.
    pub unused: usize,
}

/// One split, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    Train,
    Unannotated,
    Test,
}

impl Splits {
    pub fn get(&self, split: Split) -> &[TextExample] {
        match split {
            Split::Train => &self.train,
            Split::Unannotated => &self.unannotated,
            Split::Test => &self.test,
        }
    }
}

/// Deduplicate by input (first occurrence wins), shuffle with `cfg.seed`, then take the test set,
/// the unannotated pool and the training pool in that order.
pub fn split(examples: &[TextExample], cfg: &SplitConfig) -> Splits {
    let mut seen = HashSet::new();
    let mut unique: Vec<&TextExample> = examples.iter().filter(|e| seen.insert(e.dedup_key())).collect();
    let duplicates = examples.len() - unique.len();
    unique.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed));
    let n = unique.len();
    let test = cfg.test.min(n / 2);
    let rest = n - test;
    let min_unannotated = (rest as f64 * cfg.unannotated_min_share).floor() as usize;
    let unannotated = cfg.unannotated_max.min(rest.saturating_sub(cfg.train_max).max(min_unannotated));
    let train = cfg.train_max.min(rest - unannotated);
    let take = |range: std::ops::Range<usize>| unique[range].iter().map(|e| (*e).clone()).collect::<Vec<_>>();
    Splits {
        test: take(0..test),
        unannotated: take(test..test + unannotated),
        train: take(test + unannotated..test + unannotated + train),
        duplicates,
        unused: rest - unannotated - train,
    }
}

/// Count of each canonical answer (normalised), most frequent first.
pub fn class_balance(examples: &[TextExample]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in examples {
        *counts.entry(normalise_answer(e.target())).or_default() += 1;
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Share of the most frequent answer (0 for no examples).
pub fn majority_share(examples: &[TextExample]) -> f64 {
    class_balance(examples).first().map_or(0.0, |(_, c)| *c as f64 / examples.len() as f64)
}

/// For tasks that list options: how often the answer is the 1st, 2nd, ... option (a model can
/// learn a position bias, so this is the balance that matters there). Empty when no example
/// lists options.
pub fn answer_position_balance(examples: &[TextExample]) -> Vec<usize> {
    let mut counts = Vec::new();
    for e in examples {
        if let Some(i) = e.options.iter().position(|o| o == e.target()) {
            if counts.len() <= i {
                counts.resize(i + 1, 0);
            }
            counts[i] += 1;
        }
    }
    counts
}
