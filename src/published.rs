//! Reader for a directory laid out like the authors' published results:
//! `DIR/finetune_results/<family>_<task>_full_result_v2.json` and `DIR/human_eval.json`.
//!
//! Every error names the file, the key and what was expected; nothing here panics on bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::json::{self, JsonError, UniqueMap};
use crate::results::TaskResults;

/// Sub-directory holding the per-task result files.
pub const RESULTS_SUBDIR: &str = "finetune_results";
/// File of human-level scores.
pub const HUMAN_EVAL_FILE: &str = "human_eval.json";
/// Suffix of a result file after `<family>_<task>`.
pub const RESULT_SUFFIX: &str = "_full_result_v2.json";

/// The layout of a result file, for messages.
const RESULT_LAYOUT: &str = "a result file is {budget: {metric: number or null}}";
/// The layout of `human_eval.json`, for messages.
const HUMAN_EVAL_LAYOUT: &str = "human_eval.json is {task: {\"score\": number or null, \"method\": string}}";

#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    // The OS text is the error's source: `{e:#}` prints it once, after this.
    #[error("{path}: cannot read")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {error} ({layout})")]
    Json { path: PathBuf, error: JsonError, layout: &'static str },
    #[error("{path}: field `{key}`: expected {expected}, found {found}")]
    Field { path: PathBuf, key: String, expected: &'static str, found: String },
    #[error("{dir}: no files named `{family}_<task>{RESULT_SUFFIX}`")]
    NoTasks { dir: PathBuf, family: String },
}

/// Human level of one task as the authors' file gives it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "Value")]
pub enum HumanLevel {
    /// A numeric score.
    Score(f64),
    /// `score` is null: no human level; the ceiling falls back to the best observed score.
    Unknown,
    /// `score` holds something other than a number or null (e.g. the string `"sequence_f1"`).
    /// Kept as an error value so that only tasks that need it fail.
    Invalid(String),
}

/// A score may be anything: what is not a number or null is kept, described, as
/// [`HumanLevel::Invalid`].
impl From<Value> for HumanLevel {
    fn from(score: Value) -> Self {
        match score {
            Value::Null => HumanLevel::Unknown,
            Value::Number(n) => n.as_f64().map_or(HumanLevel::Unknown, HumanLevel::Score),
            Value::String(s) => HumanLevel::Invalid(format!("the string {s:?}")),
            Value::Array(_) => HumanLevel::Invalid("an array".into()),
            Value::Object(_) => HumanLevel::Invalid("an object".into()),
            Value::Bool(b) => HumanLevel::Invalid(b.to_string()),
        }
    }
}

/// One task's entry in `human_eval.json`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct HumanEntry {
    pub score: HumanLevel,
    /// The metric the score is in (`accuracy`, `sequence_f1`).
    pub method: Option<String>,
}

/// Human level per task.
pub type HumanEval = BTreeMap<String, HumanEntry>;

/// A budget key of a result file: the number of fine-tuning examples, written as a string.
#[derive(PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
struct Budget(u32);

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<String> for Budget {
    type Error = String;
    fn try_from(key: String) -> Result<Self, String> {
        key.parse().map(Budget).map_err(|_| format!("key {key:?} is not a budget (a non-negative integer)"))
    }
}

fn read_text(path: &Path) -> Result<String, PublishedError> {
    std::fs::read_to_string(path).map_err(|source| PublishedError::Io { path: path.into(), source })
}

/// Parse one `<family>_<task>_full_result_v2.json` document: `{budget: {metric: number|null}}`.
pub fn parse_result_file(path: &Path, text: &str) -> Result<TaskResults, PublishedError> {
    let UniqueMap(doc): UniqueMap<Budget, UniqueMap<String, Option<f64>>> =
        json::parse(text).map_err(|error| PublishedError::Json { path: path.into(), error, layout: RESULT_LAYOUT })?;
    Ok(TaskResults { budgets: doc.into_iter().map(|(Budget(b), UniqueMap(metrics))| (b, metrics)).collect() })
}

/// Read one result file.
pub fn read_result_file(path: &Path) -> Result<TaskResults, PublishedError> {
    parse_result_file(path, &read_text(path)?)
}

/// Parse `human_eval.json`: `{task: {"score": number|null, "method": ...}}`.
pub fn parse_human_eval(path: &Path, text: &str) -> Result<HumanEval, PublishedError> {
    json::parse(text)
        .map(|UniqueMap(human)| human)
        .map_err(|error| PublishedError::Json { path: path.into(), error, layout: HUMAN_EVAL_LAYOUT })
}

/// Read `human_eval.json`.
pub fn read_human_eval(path: &Path) -> Result<HumanEval, PublishedError> {
    parse_human_eval(path, &read_text(path)?)
}

/// The human level `task` needs, or an error naming the file and key when it is not a number.
/// A task absent from the file, or with a null score, has no human level.
pub fn human_level_of(path: &Path, human: &HumanEval, task: &str) -> Result<Option<f64>, PublishedError> {
    match human.get(task).map(|entry| &entry.score) {
        None | Some(HumanLevel::Unknown) => Ok(None),
        Some(HumanLevel::Score(s)) => Ok(Some(*s)),
        Some(HumanLevel::Invalid(found)) => Err(PublishedError::Field {
            path: path.into(),
            key: format!("{task}.score"),
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

    fn parse(doc: Value) -> Result<TaskResults, PublishedError> {
        parse_result_file(Path::new("f.json"), &doc.to_string())
    }

    #[test]
    fn parses_budgets_and_nulls() {
        let r = parse(json!({"0": {"accuracy": 0.5}, "50": {"accuracy": null, "exact_string_match_accuracy": 0.6}})).unwrap();
        assert_eq!(r.budgets[&0]["accuracy"], Some(0.5));
        assert_eq!(r.budgets[&50]["accuracy"], None);
    }

    #[test]
    fn bad_budget_key_is_named() {
        let msg = parse(json!({"fifty": {"accuracy": 0.5}})).unwrap_err().to_string();
        assert!(msg.contains("f.json") && msg.contains("\"fifty\" is not a budget"), "{msg}");
    }

    #[test]
    fn non_numeric_metric_is_named_with_its_key_path() {
        let msg = parse(json!({"50": {"accuracy": "high"}})).unwrap_err().to_string();
        assert!(msg.contains("field `50.accuracy`: invalid type: string \"high\"") && msg.contains("number or null"), "{msg}");
    }

    #[test]
    fn non_object_top_level_is_an_error() {
        let msg = parse(json!([1, 2])).unwrap_err().to_string();
        assert!(msg.contains("invalid type: sequence, expected a map") && msg.contains(RESULT_LAYOUT), "{msg}");
        let msg = parse(json!({"50": 0.5})).unwrap_err().to_string();
        assert!(msg.contains("field `50`: invalid type: floating point `0.5`, expected a map"), "{msg}");
    }

    #[test]
    fn invalid_json_reports_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\n  \"0\": {\"accuracy\": 0.5,}\n}").unwrap();
        let msg = read_result_file(&path).unwrap_err().to_string();
        assert!(msg.contains("bad.json: not valid JSON") && msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn missing_file_is_named() {
        let msg = read_result_file(Path::new("/nonexistent/x.json")).unwrap_err().to_string();
        assert!(msg.contains("/nonexistent/x.json"), "{msg}");
    }

    #[test]
    fn human_level_invalid_only_fails_the_task_that_needs_it() {
        let doc = json!({"a": {"score": 0.9, "method": "accuracy"}, "b": {"score": null}, "c": {"score": "sequence_f1"}});
        let p = Path::new("h.json");
        let h = parse_human_eval(p, &doc.to_string()).unwrap();
        assert_eq!(h["a"].method.as_deref(), Some("accuracy"));
        assert_eq!(human_level_of(p, &h, "a").unwrap(), Some(0.9));
        assert_eq!(human_level_of(p, &h, "b").unwrap(), None);
        assert_eq!(human_level_of(p, &h, "zz").unwrap(), None);
        let msg = human_level_of(p, &h, "c").unwrap_err().to_string();
        assert!(msg.contains("field `c.score`") && msg.contains("the string \"sequence_f1\""), "{msg}");
    }

    #[test]
    fn human_eval_entry_without_score_is_an_error() {
        let err = parse_human_eval(Path::new("h.json"), r#"{"a": {"method": "x"}}"#).unwrap_err();
        assert!(err.to_string().contains("field `a`: missing field `score`"), "{err}");
    }

    #[test]
    fn empty_directory_names_the_family() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(RESULTS_SUBDIR)).unwrap();
        let msg = family_task_files(dir.path(), "llama").err().unwrap().to_string();
        assert!(msg.contains("llama_<task>"), "{msg}");
    }
}
