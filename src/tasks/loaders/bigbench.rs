//! BIG-bench `task.json` files: `{"examples": [{"input": ..., "target_scores": {...}} | {"input":
//! ..., "target": "..." | [...]}]}`. The authors' task prefixes are ignored: our prompts replace
//! them.

use std::path::Path;

use serde_json::Value;

use crate::tasks::cache::{DataError, read_cached};
use crate::tasks::task::Example;

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

fn bad(path: &Path, index: usize, field: &str, message: &str) -> DataError {
    DataError::bad(path, format!("example {index}, field `{field}`: {message}"))
}

/// The examples of one `task.json`.
pub fn load(path: &Path, answer: BigBenchAnswer) -> Result<Vec<Example>, DataError> {
    let text = read_cached(path)?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| DataError::bad(path, format!("invalid JSON at line {}, column {}: {e}", e.line(), e.column())))?;
    let examples = json
        .get("examples")
        .and_then(Value::as_array)
        .ok_or_else(|| DataError::bad(path, "field `examples`: missing or not a list"))?;
    if examples.is_empty() {
        return Err(DataError::bad(path, "field `examples`: empty"));
    }
    examples.iter().enumerate().map(|(i, ex)| example(path, i, ex, answer)).collect()
}

fn example(path: &Path, i: usize, ex: &Value, answer: BigBenchAnswer) -> Result<Example, DataError> {
    let input =
        ex.get("input").and_then(Value::as_str).ok_or_else(|| bad(path, i, "input", "missing or not a string"))?;
    match answer {
        BigBenchAnswer::Labels | BigBenchAnswer::Options => {
            let scores = ex
                .get("target_scores")
                .and_then(Value::as_object)
                .ok_or_else(|| bad(path, i, "target_scores", "missing or not an object"))?;
            let mut best: Option<(&str, f64)> = None;
            for (key, score) in scores {
                let s =
                    score.as_f64().ok_or_else(|| bad(path, i, "target_scores", &format!("`{key}` is not a number")))?;
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((key, s));
                }
            }
            let (target, score) = best.ok_or_else(|| bad(path, i, "target_scores", "empty"))?;
            if score <= 0.0 {
                return Err(bad(path, i, "target_scores", "no option scores above 0"));
            }
            let mut example = Example::new(input, target);
            if answer == BigBenchAnswer::Options {
                example.options = scores.keys().cloned().collect();
            }
            Ok(example)
        }
        BigBenchAnswer::Text | BigBenchAnswer::Count => {
            let mut targets: Vec<String> = match ex.get("target") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|t| {
                        t.as_str().map(str::to_string).ok_or_else(|| bad(path, i, "target", "list holds a non-string"))
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(bad(path, i, "target", "missing, or neither a string nor a list of strings")),
            };
            if targets.is_empty() {
                return Err(bad(path, i, "target", "empty list"));
            }
            if answer == BigBenchAnswer::Count {
                targets.sort_by_key(|t| !t.chars().all(|c| c.is_ascii_digit()));
            }
            let mut example = Example::new(input, targets[0].clone());
            example.targets = targets;
            Ok(example)
        }
    }
}

/// The fixed label set of a `Labels` task: every key of every `target_scores`, first seen first.
pub fn label_set(examples: &[Example]) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for ex in examples {
        if !labels.contains(&ex.targets[0]) {
            labels.push(ex.targets[0].clone());
        }
    }
    labels
}
