//! The sweep's unit of work: a cell, named by an id (`curve/<task>/n<budget>`,
//! `confidence/<task>`, `metrics/<task>/r<repeat>`), stored as one JSON file under the results
//! directory, written atomically when done, and found done only when its recorded key address
//! is the one a run would use now.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::bail;

/// One cell of a sweep.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CellId {
    /// Fine-tune on `budget` examples of `task` (budget 0: the base model) and score on test.
    Curve { task: String, budget: usize },
    /// The base model's confidence on the task's unannotated pool.
    Confidence { task: String },
    /// CoS-Low and the comparison metrics, repeat `repeat`.
    Metrics { task: String, repeat: usize },
}

impl CellId {
    pub fn task(&self) -> &str {
        match self {
            CellId::Curve { task, .. } | CellId::Confidence { task } | CellId::Metrics { task, .. } => task,
        }
    }

    /// The cell's file under the results directory `out`.
    pub fn path(&self, out: &Path) -> PathBuf {
        out.join("cells").join(format!("{self}.json"))
    }

    /// The test predictions beside a curve cell.
    pub fn predictions_path(&self, out: &Path) -> Option<PathBuf> {
        matches!(self, CellId::Curve { .. }).then(|| out.join("cells").join(format!("{self}.predictions.jsonl")))
    }
}

impl fmt::Display for CellId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CellId::Curve { task, budget } => write!(f, "curve/{task}/n{budget}"),
            CellId::Confidence { task } => write!(f, "confidence/{task}"),
            CellId::Metrics { task, repeat } => write!(f, "metrics/{task}/r{repeat}"),
        }
    }
}

impl FromStr for CellId {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        let number = |text: &str, prefix: char| text.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
        Ok(match parts.as_slice() {
            ["curve", task, n] if !task.is_empty() => match number(n, 'n') {
                Some(budget) => CellId::Curve { task: task.to_string(), budget },
                None => bail!("cell `{s}`: the budget part must be n<number>, e.g. curve/{task}/n32"),
            },
            ["confidence", task] if !task.is_empty() => CellId::Confidence { task: task.to_string() },
            ["metrics", task, r] if !task.is_empty() => match number(r, 'r') {
                Some(repeat) => CellId::Metrics { task: task.to_string(), repeat },
                None => bail!("cell `{s}`: the repeat part must be r<number>, e.g. metrics/{task}/r0"),
            },
            _ => bail!(
                "cell `{s}` is not curve/<task>/n<budget>, confidence/<task> or metrics/<task>/r<repeat> \
                 (`dataeff sweep plan` lists them)"
            ),
        })
    }
}

/// Where a cell stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Its file holds the key a run would use now.
    Done,
    /// Its file holds another key (a parameter, the model, the template or the data changed).
    Stale,
    Missing,
}

/// The key address recorded in the cell file at `path`, if the file is there and readable.
pub fn recorded_address(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("key_sha256")?.as_str().map(str::to_string)
}

pub fn status(path: &Path, address: &str) -> Status {
    match recorded_address(path) {
        Some(a) if a == address => Status::Done,
        Some(_) => Status::Stale,
        None if path.exists() => Status::Stale,
        None => Status::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_bad_ones_say_the_forms() {
        for id in ["curve/hyperbaton/n32", "confidence/web_of_lies", "metrics/mmlu/r4"] {
            assert_eq!(id.parse::<CellId>().unwrap().to_string(), id);
        }
        let err = "curve/hyperbaton/32".parse::<CellId>().unwrap_err().to_string();
        assert!(err.contains("n<number>"), "{err}");
        let err = "sweep/x".parse::<CellId>().unwrap_err().to_string();
        assert!(err.contains("curve/<task>/n<budget>"), "{err}");
    }
}
