//! People each hold one object and trade in pairs; who holds what at the end? The options are
//! the objects; the answer is one of them.

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

use super::{
    Generator, pick,
    words::{COLOURS, NAMES, THINGS},
};
use crate::tasks::task::{AnswerType, TextExample};

/// Games of `people` ∈ `sizes` players and as many trades as players (as in BIG-bench's
/// three/five/seven-object subtasks, pooled).
#[derive(Clone, Debug)]
pub struct TrackingShuffledObjects {
    pub sizes: Vec<usize>,
}

impl Default for TrackingShuffledObjects {
    fn default() -> Self {
        Self { sizes: vec![3, 5, 7] }
    }
}

fn join_names(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

impl Generator for TrackingShuffledObjects {
    fn name(&self) -> &'static str {
        "tracking_shuffled_objects_gen"
    }

    fn answer(&self) -> AnswerType {
        AnswerType::Option
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample {
        let n = self.sizes[rng.random_range(0..self.sizes.len())];
        let people: Vec<&str> = pick(rng, NAMES, n).into_iter().copied().collect();
        let thing = THINGS[rng.random_range(0..THINGS.len())];
        let objects: Vec<String> = pick(rng, COLOURS, n).into_iter().map(|c| format!("{c} {thing}")).collect();
        // holding[p] = index of the object person p holds now.
        let mut holding: Vec<usize> = (0..n).collect();
        let start: Vec<String> = people.iter().zip(&objects).map(|(p, o)| format!("{p} has the {o}")).collect();
        let mut text = format!(
            "{} each hold one {thing}: {}. They then trade, one pair at a time.",
            join_names(&people),
            start.join(", ")
        );
        for step in 0..n {
            let pair = rand::seq::index::sample(rng, n, 2);
            let (a, b) = (pair.index(0), pair.index(1));
            holding.swap(a, b);
            let when = match step {
                0 => "First".to_string(),
                s if s + 1 == n => "Finally".to_string(),
                _ => "Next".to_string(),
            };
            text.push_str(&format!(" {when}, {} and {} trade {thing}s.", people[a], people[b]));
        }
        let asked = rng.random_range(0..n);
        text.push_str(&format!(" After all trades, {} holds the", people[asked]));
        let mut example = TextExample::new(text, objects[holding[asked]].clone());
        example.options = objects;
        example
    }
}
