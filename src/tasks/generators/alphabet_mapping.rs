//! Control task (difficulty = word length): a letter substitution table and a word to rewrite
//! with it. The table covers the word's letters plus a few unused ones, in random order.

use rand::Rng as _;
use rand::seq::SliceRandom as _;
use rand_chacha::ChaCha8Rng;

use super::Generator;
use crate::tasks::task::{AnswerType, TextExample};

/// Words of `word_len` random letters; `distractors` extra table rows.
#[derive(Clone, Debug)]
pub struct AlphabetMapping {
    pub word_len: usize,
    pub distractors: usize,
}

impl Default for AlphabetMapping {
    fn default() -> Self {
        Self { word_len: 5, distractors: 3 }
    }
}

impl Generator for AlphabetMapping {
    fn name(&self) -> &'static str {
        "synthetic_alphabet_mapping"
    }

    fn answer(&self) -> AnswerType {
        AnswerType::FreeText
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample {
        let mut image: Vec<u8> = (b'a'..=b'z').collect();
        image.shuffle(rng);
        let map = |c: u8| image[usize::from(c - b'a')] as char;
        let word: Vec<u8> = (0..self.word_len).map(|_| rng.random_range(b'a'..=b'z')).collect();
        let mut shown: Vec<u8> = word.clone();
        shown.sort_unstable();
        shown.dedup();
        let mut extra = 0;
        while extra < self.distractors && shown.len() < 26 {
            let c = rng.random_range(b'a'..=b'z');
            if !shown.contains(&c) {
                shown.push(c);
                extra += 1;
            }
        }
        shown.shuffle(rng);
        let table: Vec<String> = shown.iter().map(|&c| format!("{} -> {}", c as char, map(c))).collect();
        let answer: String = word.iter().map(|&c| map(c)).collect();
        let word: String = word.iter().map(|&c| c as char).collect();
        TextExample::new(format!("Table: {}\nWord: {word}", table.join(", ")), answer)
    }
}
