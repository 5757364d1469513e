//! Control task (difficulty = table size): a table of random keys and values, then one key to
//! look up. Nothing to know, nothing to reason: only reading, so a model's curve here shows how
//! fast fine-tuning teaches a format.

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

use super::Generator;
use crate::tasks::task::{AnswerType, TextExample};

/// Tables of `pairs` rows; keys are 5 lower-case letters, values 4 digits.
#[derive(Clone, Debug)]
pub struct KeyValue {
    pub pairs: usize,
}

impl Default for KeyValue {
    fn default() -> Self {
        Self { pairs: 8 }
    }
}

fn random_string(rng: &mut ChaCha8Rng, alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect()
}

impl Generator for KeyValue {
    fn name(&self) -> &'static str {
        "synthetic_random_kv"
    }

    fn answer(&self) -> AnswerType {
        AnswerType::FreeText
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample {
        let mut keys: Vec<String> = Vec::with_capacity(self.pairs);
        while keys.len() < self.pairs {
            let k = random_string(rng, b"abcdefghijklmnopqrstuvwxyz", 5);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let values: Vec<String> = (0..self.pairs).map(|_| random_string(rng, b"0123456789", 4)).collect();
        let asked = rng.random_range(0..self.pairs);
        let rows: Vec<String> = keys.iter().zip(&values).map(|(k, v)| format!("{k}: {v}")).collect();
        TextExample::new(format!("{}\nQuery key: {}", rows.join("\n"), keys[asked]), values[asked].clone())
    }
}
