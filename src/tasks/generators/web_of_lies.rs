//! Chains of people vouching for (or accusing) the previous one; is the last one truthful?
//! The answer is `Yes` or `No`.

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

use super::{Generator, pick, words::NAMES};
use crate::tasks::task::{AnswerType, TextExample};

/// Chains of `min_people..=max_people` people.
#[derive(Clone, Debug)]
pub struct WebOfLies {
    pub min_people: usize,
    pub max_people: usize,
}

impl Default for WebOfLies {
    fn default() -> Self {
        Self { min_people: 3, max_people: 6 }
    }
}

impl Generator for WebOfLies {
    fn name(&self) -> &'static str {
        "web_of_lies"
    }

    fn answer(&self) -> AnswerType {
        AnswerType::Labels(vec!["Yes".into(), "No".into()])
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample {
        let k = rng.random_range(self.min_people..=self.max_people);
        let people = pick(rng, NAMES, k);
        let verb = |honest: bool| if honest { "tells the truth" } else { "lies" };
        let mut honest = rng.random_bool(0.5);
        let mut sentences = vec![format!("{} {}.", people[0], verb(honest))];
        for pair in people.windows(2) {
            // The speaker claims something about the previous person; the speaker is honest
            // exactly when the claim matches the truth.
            let claims_honest = rng.random_bool(0.5);
            sentences.push(format!("{} says {} {}.", pair[1], pair[0], verb(claims_honest)));
            honest = claims_honest == honest;
        }
        sentences.push(format!("Does {} tell the truth?", people[k - 1]));
        TextExample::new(sentences.join(" "), if honest { "Yes" } else { "No" })
    }
}
