//! "I own a plum, two carrots and a goat. How many vegetables do I own?" The answer is the count
//! in digits (the number word is also accepted).

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

use super::{Generator, pick};
use crate::tasks::task::{AnswerType, TextExample};

/// A category of countable things: its plural name and its members as (singular, plural).
pub struct Category {
    pub name: &'static str,
    pub items: &'static [(&'static str, &'static str)],
}

/// The categories and their members (shared with the solver: it is data, not logic).
pub const CATEGORIES: &[Category] = &[
    Category {
        name: "fruits",
        items: &[
            ("apple", "apples"),
            ("banana", "bananas"),
            ("peach", "peaches"),
            ("plum", "plums"),
            ("pear", "pears"),
            ("lemon", "lemons"),
            ("mango", "mangoes"),
            ("apricot", "apricots"),
        ],
    },
    Category {
        name: "vegetables",
        items: &[
            ("carrot", "carrots"),
            ("onion", "onions"),
            ("potato", "potatoes"),
            ("cabbage", "cabbages"),
            ("leek", "leeks"),
            ("turnip", "turnips"),
            ("beetroot", "beetroots"),
            ("zucchini", "zucchinis"),
        ],
    },
    Category {
        name: "animals",
        items: &[
            ("goat", "goats"),
            ("rabbit", "rabbits"),
            ("donkey", "donkeys"),
            ("hamster", "hamsters"),
            ("parrot", "parrots"),
            ("tortoise", "tortoises"),
            ("sheep", "sheep"),
            ("duck", "ducks"),
        ],
    },
    Category {
        name: "musical instruments",
        items: &[
            ("violin", "violins"),
            ("flute", "flutes"),
            ("trumpet", "trumpets"),
            ("harp", "harps"),
            ("cello", "cellos"),
            ("ukulele", "ukuleles"),
            ("oboe", "oboes"),
            ("banjo", "banjos"),
        ],
    },
];

/// Number words for quantities 1..=10 (index = quantity).
pub const NUMBER_WORDS: [&str; 11] =
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/// Lists of `min_items..=max_items` distinct things, each 1..=`max_quantity` times.
#[derive(Clone, Debug)]
pub struct ObjectCounting {
    pub min_items: usize,
    pub max_items: usize,
    pub max_quantity: usize,
}

impl Default for ObjectCounting {
    fn default() -> Self {
        Self { min_items: 3, max_items: 8, max_quantity: 4 }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

impl Generator for ObjectCounting {
    fn name(&self) -> &'static str {
        "object_counting_gen"
    }

    fn answer(&self) -> AnswerType {
        AnswerType::Integer
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample {
        let asked = rng.random_range(0..CATEGORIES.len());
        let pool: Vec<(usize, (&str, &str))> =
            CATEGORIES.iter().enumerate().flat_map(|(c, cat)| cat.items.iter().map(move |it| (c, *it))).collect();
        let k = rng.random_range(self.min_items..=self.max_items);
        let mut chosen = pick(rng, &pool, k);
        // At least one thing of the asked category, so the answer is rarely zero by accident.
        if !chosen.iter().any(|(c, _)| *c == asked) {
            let own: Vec<_> = pool.iter().filter(|(c, _)| *c == asked).collect();
            let first = own[rng.random_range(0..own.len())];
            if !chosen.iter().any(|x| x.1 == first.1) {
                chosen[0] = first;
            }
        }
        let mut count = 0;
        let phrases: Vec<String> = chosen
            .iter()
            .map(|(c, (one, many))| {
                let q = rng.random_range(1..=self.max_quantity);
                if *c == asked {
                    count += q;
                }
                if q == 1 { format!("{} {one}", article(one)) } else { format!("{} {many}", NUMBER_WORDS[q]) }
            })
            .collect();
        let (last, rest) = phrases.split_last().expect("at least one item");
        let list = if rest.is_empty() { last.clone() } else { format!("{} and {last}", rest.join(", ")) };
        let input = format!("I own {list}. How many {} do I own?", CATEGORIES[asked].name);
        let mut example = TextExample::new(input, count.to_string());
        if let Some(word) = NUMBER_WORDS.get(count) {
            example.targets.push((*word).to_string());
        }
        example
    }
}
