//! Reader for a directory laid out like the authors' published results:
//! `DIR/finetune_results/<family>_<task>_full_result_v2.json` and `DIR/human_eval.json`.
//!
//! Every error names the file, the key and what was expected; nothing here panics on bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::results::{Metrics, TaskResults};

/// Sub-directory holding the per-task result files.
pub const RESULTS_SUBDIR: &str = "finetune_results";
/// File of human-level scores.
pub const HUMAN_EVAL_FILE: &str = "human_eval.json";
/// Suffix of a result file after `<family>_<task>`.
pub const RESULT_SUFFIX: &str = "_full_result_v2.json";

#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not valid JSON at line {line}, column {column}: {message}")]
    Json { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: {key}: expected {expected}, found {found}")]
    Field { path: PathBuf, key: String, expected: &'static str, found: String },
    #[error("{dir}: no files named `{family}_<task>{RESULT_SUFFIX}`")]
    NoTasks { dir: PathBuf, family: String },
}

/// Human level of one task as the authors' file gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum HumanLevel {
    /// A numeric score.
    Score(f64),
    /// `score` is null: no human level; the ceiling falls back to the best observed score.
    Unknown,
    /// `score` holds something other than a number or null (e.g. the string `"sequence_f1"`).
    /// Kept as an error value so that only tasks that need it fail.
    Invalid(String),
}

/// Human level per task.
pub type HumanEval = BTreeMap<String, HumanLevel>;

fn read_json(path: &Path) -> Result<Value, PublishedError> {
    let text = std::fs::read_to_string(path).map_err(|source| PublishedError::Io { path: path.into(), source })?;
    serde_json::from_str(&text).map_err(|e| PublishedError::Json {
        path: path.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

/// Parse one `<family>_<task>_full_result_v2.json` document: `{budget: {metric: number|null}}`.
pub fn parse_result_file(path: &Path, doc: &Value) -> Result<TaskResults, PublishedError> {
    let field = |key: String, expected, found: &Value| PublishedError::Field {
        path: path.into(),
        key,
        expected,
        found: describe(found),
    };
    let top = doc.as_object().ok_or_else(|| field("(top level)".into(), "an object keyed by budget", doc))?;
    let mut results = TaskResults::default();
    for (budget_key, metrics_value) in top {
        let budget: u32 = budget_key.parse().map_err(|_| PublishedError::Field {
            path: path.into(),
            key: format!("key {budget_key:?}"),
            expected: "a budget (non-negative integer)",
            found: format!("{budget_key:?}"),
        })?;
        let obj = metrics_value
            .as_object()
            .ok_or_else(|| field(format!("\"{budget_key}\""), "an object of metrics", metrics_value))?;
        let mut metrics = Metrics::new();
        for (name, value) in obj {
            let v = match value {
                Value::Null => None,
                Value::Number(n) => n.as_f64(),
                other => return Err(field(format!("\"{budget_key}\".\"{name}\""), "a number or null", other)),
            };
            metrics.insert(name.clone(), v);
        }
        results.budgets.insert(budget, metrics);
    }
    Ok(results)
}

/// Read one result file.
pub fn read_result_file(path: &Path) -> Result<TaskResults, PublishedError> {
    parse_result_file(path, &read_json(path)?)
}

/// Parse `human_eval.json`: `{task: {"score": number|null, "method": ...}}`.
pub fn parse_human_eval(path: &Path, doc: &Value) -> Result<HumanEval, PublishedError> {
    let field = |key: String, expected, found: &Value| PublishedError::Field {
        path: path.into(),
        key,
        expected,
        found: describe(found),
    };
    let top = doc.as_object().ok_or_else(|| field("(top level)".into(), "an object keyed by task", doc))?;
    let mut out = HumanEval::new();
    for (task, entry) in top {
        let obj = entry.as_object().ok_or_else(|| field(format!("\"{task}\""), "an object with a `score`", entry))?;
        let level = match obj.get("score") {
            None => return Err(field(format!("\"{task}\""), "a `score` key", entry)),
            Some(Value::Null) => HumanLevel::Unknown,
            Some(Value::Number(n)) => n.as_f64().map_or(HumanLevel::Unknown, HumanLevel::Score),
            Some(other) => HumanLevel::Invalid(describe(other)),
        };
        out.insert(task.clone(), level);
    }
    Ok(out)
}

/// Read `human_eval.json`.
pub fn read_human_eval(path: &Path) -> Result<HumanEval, PublishedError> {
    parse_human_eval(path, &read_json(path)?)
}

/// The human level `task` needs, or an error naming the file and key when it is not a number.
/// A task absent from the file, or with a null score, has no human level.
pub fn human_level_of(path: &Path, human: &HumanEval, task: &str) -> Result<Option<f64>, PublishedError> {
    match human.get(task) {
        None | Some(HumanLevel::Unknown) => Ok(None),
        Some(HumanLevel::Score(s)) => Ok(Some(*s)),
        Some(HumanLevel::Invalid(found)) => Err(PublishedError::Field {
            path: path.into(),
            key: format!("\"{task}\".\"score\""),
            expected: "a number or null",
            found: found.clone(),
        }),
    }
}

/// Tasks of `family` in `DIR/finetune_results`, sorted by name, with their files.
pub fn family_task_files(dir: &Path, family: &str) -> Result<Vec<(String, PathBuf)>, PublishedError> {
    let results_dir = dir.join(RESULTS_SUBDIR);
    let entries =
        std::fs::read_dir(&results_dir).map_err(|source| PublishedError::Io { path: results_dir.clone(), source })?;
    let prefix = format!("{family}_");
    let mut tasks = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| PublishedError::Io { path: results_dir.clone(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(task) = name.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(RESULT_SUFFIX)) {
            tasks.push((task.to_string(), entry.path()));
        }
    }
    if tasks.is_empty() {
        return Err(PublishedError::NoTasks { dir: results_dir, family: family.into() });
    }
    tasks.sort();
    Ok(tasks)
}

/// Every task of one family in an authors'-layout directory, with the human-level file.
pub struct FamilyResults {
    pub tasks: BTreeMap<String, (PathBuf, TaskResults)>,
    pub human_eval_path: PathBuf,
    pub human_eval: HumanEval,
}

/// Read all of `family`'s result files and `human_eval.json` under `dir`.
pub fn read_family(dir: &Path, family: &str) -> Result<FamilyResults, PublishedError> {
    let human_eval_path = dir.join(HUMAN_EVAL_FILE);
    let human_eval = read_human_eval(&human_eval_path)?;
    let mut tasks = BTreeMap::new();
    for (task, path) in family_task_files(dir, family)? {
        let results = read_result_file(&path)?;
        tasks.insert(task, (path, results));
    }
    Ok(FamilyResults { tasks, human_eval_path, human_eval })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_budgets_and_nulls() {
        let doc = json!({"0": {"accuracy": 0.5}, "50": {"accuracy": null, "exact_string_match_accuracy": 0.6}});
        let r = parse_result_file(Path::new("f.json"), &doc).unwrap();
        assert_eq!(r.budgets[&0]["accuracy"], Some(0.5));
        assert_eq!(r.budgets[&50]["accuracy"], None);
    }

    #[test]
    fn bad_budget_key_is_named() {
        let err = parse_result_file(Path::new("f.json"), &json!({"fifty": {"accuracy": 0.5}})).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("f.json") && msg.contains("fifty") && msg.contains("budget"), "{msg}");
    }

    #[test]
    fn non_numeric_metric_is_named_with_its_key_path() {
        let err = parse_result_file(Path::new("f.json"), &json!({"50": {"accuracy": "high"}})).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"50\".\"accuracy\"") && msg.contains("a number or null"), "{msg}");
    }

    #[test]
    fn non_object_top_level_is_an_error() {
        let err = parse_result_file(Path::new("f.json"), &json!([1, 2])).unwrap_err();
        assert!(err.to_string().contains("an object keyed by budget"), "{err}");
        let err = parse_result_file(Path::new("f.json"), &json!({"50": 0.5})).unwrap_err();
        assert!(err.to_string().contains("an object of metrics"), "{err}");
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\n  \"0\": {\"accuracy\": 0.5,}\n}").unwrap();
        let msg = read_result_file(&path).unwrap_err().to_string();
        assert!(msg.contains("bad.json") && msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn missing_file_is_named() {
        let msg = read_result_file(Path::new("/nonexistent/x.json")).unwrap_err().to_string();
        assert!(msg.contains("/nonexistent/x.json"), "{msg}");
    }

    #[test]
    fn human_level_invalid_only_fails_the_task_that_needs_it() {
        let doc = json!({"a": {"score": 0.9}, "b": {"score": null}, "c": {"score": "sequence_f1"}});
        let h = parse_human_eval(Path::new("h.json"), &doc).unwrap();
        let p = Path::new("h.json");
        assert_eq!(human_level_of(p, &h, "a").unwrap(), Some(0.9));
        assert_eq!(human_level_of(p, &h, "b").unwrap(), None);
        assert_eq!(human_level_of(p, &h, "zz").unwrap(), None);
        let msg = human_level_of(p, &h, "c").unwrap_err().to_string();
        assert!(msg.contains("\"c\".\"score\"") && msg.contains("sequence_f1"), "{msg}");
    }

    #[test]
    fn human_eval_entry_without_score_is_an_error() {
        let err = parse_human_eval(Path::new("h.json"), &json!({"a": {"method": "x"}})).unwrap_err();
        assert!(err.to_string().contains("`score`"), "{err}");
    }

    #[test]
    fn empty_directory_names_the_family() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(RESULTS_SUBDIR)).unwrap();
        let msg = family_task_files(dir.path(), "llama").err().unwrap().to_string();
        assert!(msg.contains("llama_<task>"), "{msg}");
    }
}
