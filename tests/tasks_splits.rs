//! Splits: deterministic, deduplicated, disjoint, with the documented sizes.

#![cfg(feature = "lm")]

use std::collections::HashSet;

use dataeff::tasks::split::{SplitConfig, class_balance, split};
use dataeff::tasks::{TextExample, load};

fn keys(examples: &[TextExample]) -> HashSet<String> {
    examples.iter().map(|e| e.dedup_key()).collect()
}

fn assert_disjoint(s: &dataeff::tasks::Splits) {
    let (tr, un, te) = (keys(&s.train), keys(&s.unannotated), keys(&s.test));
    assert_eq!(tr.len(), s.train.len(), "duplicate inside train");
    assert!(tr.is_disjoint(&un), "train and unannotated overlap");
    assert!(tr.is_disjoint(&te), "train and test overlap");
    assert!(un.is_disjoint(&te), "unannotated and test overlap");
}

#[test]
fn generated_task_fills_every_split_without_overlap() {
    let task = load("web_of_lies", std::path::Path::new("/nonexistent")).unwrap();
    let s = split(&task.examples, &SplitConfig::default());
    assert_eq!((s.train.len(), s.unannotated.len(), s.test.len()), (5000, 2500, 500));
    assert_disjoint(&s);
    let balance = class_balance(&s.test);
    assert_eq!(balance.len(), 2);
}

#[test]
fn duplicates_are_dropped_before_splitting() {
    // 1,200 distinct inputs, each twice, one of the copies with another answer.
    let mut examples = Vec::new();
    for i in 0..1200 {
        examples.push(TextExample::new(format!("q{i}"), "a"));
        examples.push(TextExample::new(format!("q{i}"), "b"));
    }
    let s = split(&examples, &SplitConfig::default());
    assert_eq!(s.duplicates, 1200);
    assert_disjoint(&s);
    assert_eq!(s.test.len(), 500);
    // 700 left: the unannotated pool takes its minimum share (20%), training the rest.
    assert_eq!((s.unannotated.len(), s.train.len(), s.unused), (140, 560, 0));
    assert!(s.train.iter().chain(&s.test).all(|e| e.target() == "a"), "first occurrence wins");
}

#[test]
fn seed_decides_the_split() {
    let examples: Vec<_> = (0..3000).map(|i| TextExample::new(format!("q{i}"), "x")).collect();
    let a = split(&examples, &SplitConfig::default());
    let b = split(&examples, &SplitConfig::default());
    let c = split(&examples, &SplitConfig { seed: 9, ..SplitConfig::default() });
    assert_eq!(a.test, b.test);
    assert_ne!(a.test, c.test);
}

#[test]
fn tiny_tasks_keep_half_for_training() {
    let examples: Vec<_> = (0..30).map(|i| TextExample::new(format!("q{i}"), "x")).collect();
    let s = split(&examples, &SplitConfig::default());
    assert_eq!(s.test.len(), 15);
    assert_eq!(s.train.len() + s.unannotated.len(), 15);
    assert_disjoint(&s);
}

#[test]
fn answer_positions_are_counted() {
    use dataeff::tasks::split::answer_position_balance;
    let mut a = TextExample::new("q1", "y");
    a.options = vec!["x".into(), "y".into()];
    let mut b = TextExample::new("q2", "x");
    b.options = vec!["x".into(), "y".into()];
    assert_eq!(answer_position_balance(&[a.clone(), a, b]), vec![1, 2]);
    assert!(answer_position_balance(&[TextExample::new("q", "a")]).is_empty());
}
