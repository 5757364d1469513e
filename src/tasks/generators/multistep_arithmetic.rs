//! Nested integer arithmetic with `+`, `-`, `*` on single-digit (possibly negative) numbers,
//! every operation in parentheses: `((3 + -4) * (7 - 2)) =`. The answer is the integer.

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

use super::Generator;
use crate::tasks::task::{AnswerType, TextExample};

/// Expressions with `min_ops..=max_ops` operations.
#[derive(Clone, Debug)]
pub struct MultistepArithmetic {
    pub min_ops: usize,
    pub max_ops: usize,
}

impl Default for MultistepArithmetic {
    fn default() -> Self {
        Self { min_ops: 2, max_ops: 5 }
    }
}

/// Build a random expression with `ops` operations; returns (text, value).
fn build(rng: &mut ChaCha8Rng, ops: usize) -> (String, i64) {
    if ops == 0 {
        let n: i64 = rng.random_range(-9..=9);
        return (n.to_string(), n);
    }
    let left_ops = rng.random_range(0..ops);
    let (lt, lv) = build(rng, left_ops);
    let (rt, rv) = build(rng, ops - 1 - left_ops);
    let (sym, value) = match rng.random_range(0..3) {
        0 => ('+', lv + rv),
        1 => ('-', lv - rv),
        _ => ('*', lv * rv),
    };
    (format!("({lt} {sym} {rt})"), value)
}

impl Generator for MultistepArithmetic {
    fn name(&self) -> &'static str {
        "multistep_arithmetic"
    }

    fn answer(&self) -> AnswerType {
        AnswerType::Integer
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample {
        let ops = rng.random_range(self.min_ops..=self.max_ops);
        let (text, value) = build(rng, ops);
        TextExample::new(format!("{text} ="), value.to_string())
    }
}
