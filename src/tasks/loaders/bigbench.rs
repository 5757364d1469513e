//! BIG-bench `task.json` files: `{"examples": [{"input": ..., "target_scores": {...}} | {"input":
//! ..., "target": "..." | [...]}]}`. The authors' task prefixes are ignored: our prompts replace
//! them.

use std::path::Path;

use serde::Deserialize;

use crate::json::{self, Entries};
use crate::tasks::cache::{DataError, read_cached};
use crate::tasks::task::TextExample;

/// How a BIG-bench task's answers are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BigBenchAnswer {
    /// `target_scores` with the same keys in every example (a fixed label set); options not shown.
    Labels,
    /// `target_scores` whose keys vary per example: they become the example's options.
    Options,
    /// `target` (a string or a list of accepted strings).
    Text,
    /// `target` as for `Text`, the all-digit target first (object_counting lists "three" and "3").
    Count,
}

/// A `task.json`, the fields read.
#[derive(Deserialize)]
struct TaskFile {
    examples: Vec<TaskExample>,
}

#[derive(Deserialize)]
struct TaskExample {
    input: String,
    /// Option → score, in the file's order (the first of equal best scores is the answer).
    target_scores: Option<Entries<f64>>,
    target: Option<Targets>,
}

#[derive(Deserialize)]
#[serde(untagged, expecting = "expected a string or a list of strings")]
enum Targets {
    One(String),
    Any(Vec<String>),
}

/// The examples of one `task.json`.
pub fn load(path: &Path, answer: BigBenchAnswer) -> Result<Vec<TextExample>, DataError> {
    let file: TaskFile = json::parse(&read_cached(path)?).map_err(|e| DataError::bad(path, e.to_string()))?;
    if file.examples.is_empty() {
        return Err(DataError::bad(path, "field `examples`: empty"));
    }
    file.examples.into_iter().enumerate().map(|(i, ex)| example(path, i, ex, answer)).collect()
}

fn example(path: &Path, i: usize, ex: TaskExample, answer: BigBenchAnswer) -> Result<TextExample, DataError> {
    let bad = |field: &str, message: &str| DataError::bad(path, format!("field `examples[{i}].{field}`: {message}"));
    match answer {
        BigBenchAnswer::Labels | BigBenchAnswer::Options => {
            let Entries(scores) = ex.target_scores.ok_or_else(|| bad("target_scores", "missing"))?;
            let mut best: Option<(&str, f64)> = None;
            for (key, score) in &scores {
                if best.is_none_or(|(_, b)| *score > b) {
                    best = Some((key, *score));
                }
            }
            let (target, score) = best.ok_or_else(|| bad("target_scores", "empty"))?;
            if score <= 0.0 {
                return Err(bad("target_scores", "no option scores above 0"));
            }
            let mut example = TextExample::new(ex.input, target);
            if answer == BigBenchAnswer::Options {
                example.options = scores.into_iter().map(|(key, _)| key).collect();
            }
            Ok(example)
        }
        BigBenchAnswer::Text | BigBenchAnswer::Count => {
            let mut targets = match ex.target {
                Some(Targets::One(target)) => vec![target],
                Some(Targets::Any(targets)) => targets,
                None => return Err(bad("target", "missing")),
            };
            if targets.is_empty() {
                return Err(bad("target", "empty list"));
            }
            if answer == BigBenchAnswer::Count {
                targets.sort_by_key(|t| !t.chars().all(|c| c.is_ascii_digit()));
            }
            let mut example = TextExample::new(ex.input, targets[0].clone());
            example.targets = targets;
            Ok(example)
        }
    }
}

/// The fixed label set of a `Labels` task: every key of every `target_scores`, first seen first.
pub fn label_set(examples: &[TextExample]) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for ex in examples {
        if !labels.contains(&ex.targets[0]) {
            labels.push(ex.targets[0].clone());
        }
    }
    labels
}
