//! Our own data files (CSV under `data/published/`): the authors' numbers transcribed into
//! tidy tables, one observation per row. Errors name the file, line, field and what was expected.
//!
//! - `scores.csv`: `family,task,budget,metric,value` (empty value = null in the source)
//! - `human_level.csv`: `task,score,method,note` (empty score = no human level)
//! - `llama_auc.csv`: `task,max_acc,min_acc,extrapolation_auc,human_eval` (the authors' AUC file)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::curve::AucSummary;
use crate::family::Family;
use crate::results::TaskResults;

pub const SCORES_FILE: &str = "scores.csv";
pub const HUMAN_LEVEL_FILE: &str = "human_level.csv";
pub const LLAMA_AUC_FILE: &str = "llama_auc.csv";

#[derive(Debug, thiserror::Error)]
pub enum TidyError {
    #[error("{path}: cannot read or write: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path}: line {line}, field `{field}`: {message}")]
    Row { path: PathBuf, line: u64, field: String, message: String },
    #[error("{path}: no rows below the header (expected {expected})")]
    Empty { path: PathBuf, expected: &'static str },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    pub family: String,
    pub task: String,
    pub budget: u32,
    pub metric: String,
    pub value: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HumanLevelRow {
    pub task: String,
    pub score: Option<f64>,
    pub method: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AucRow {
    pub task: String,
    pub max_acc: f64,
    pub min_acc: f64,
    pub extrapolation_auc: f64,
    pub human_eval: f64,
}

impl AucRow {
    pub fn summary(&self) -> AucSummary {
        AucSummary {
            max_acc: self.max_acc,
            min_acc: self.min_acc,
            extrapolation_auc: self.extrapolation_auc,
            human_eval: self.human_eval,
        }
    }
}

/// Read every row of a CSV file with a header, keeping each row's line number.
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<(u64, T)>, TidyError> {
    let io = |e: &dyn std::fmt::Display| TidyError::Io { path: path.into(), message: e.to_string() };
    let mut reader = csv::Reader::from_path(path).map_err(|e| io(&e))?;
    let headers = reader.headers().map_err(|e| io(&e))?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| row_error(path, &headers, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        let row: T = record.deserialize(Some(&headers)).map_err(|e| row_error(path, &headers, &e))?;
        rows.push((line, row));
    }
    Ok(rows)
}

fn row_error(path: &Path, headers: &csv::StringRecord, e: &csv::Error) -> TidyError {
    let line = e.position().map_or(0, |p| p.line());
    let (field, message) = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let field = err.field().and_then(|i| headers.get(i as usize)).unwrap_or("?").to_string();
            (field, format!("expected {}", describe_expected(err.kind())))
        }
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            ("(row)".to_string(), format!("expected {expected_len} fields, found {len}"))
        }
        _ => ("(row)".to_string(), e.to_string()),
    };
    TidyError::Row { path: path.into(), line, field, message }
}

fn describe_expected(kind: &csv::DeserializeErrorKind) -> String {
    match kind {
        csv::DeserializeErrorKind::ParseInt(e) => format!("a non-negative integer ({e})"),
        csv::DeserializeErrorKind::ParseFloat(e) => format!("a number or empty ({e})"),
        other => other.to_string(),
    }
}

/// Write rows to CSV atomically (see [`crate::fsio::write_atomic`]).
pub fn write_rows<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), TidyError> {
    let io = |e: &dyn std::fmt::Display| TidyError::Io { path: path.into(), message: e.to_string() };
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row).map_err(|e| io(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| io(&e))?;
    crate::fsio::write_atomic(path, &bytes).map_err(|e| io(&e))
}

/// Fine-tuning results per (family, task).
pub type ScoreTable = BTreeMap<(Family, String), TaskResults>;

/// Read `scores.csv` into results per (family, task).
/// Every (family, task, budget, metric) must appear once, and the file must have rows.
pub fn read_scores(path: &Path) -> Result<ScoreTable, TidyError> {
    let mut table = ScoreTable::new();
    let mut first_line: BTreeMap<(String, String, u32, String), u64> = BTreeMap::new();
    for (line, row) in read_rows::<ScoreRow>(path)? {
        let family: Family = row.family.parse().map_err(|message| TidyError::Row {
            path: path.into(),
            line,
            field: "family".into(),
            message,
        })?;
        let key = (row.family.clone(), row.task.clone(), row.budget, row.metric.clone());
        if let Some(earlier) = first_line.insert(key, line) {
            return Err(TidyError::Row {
                path: path.into(),
                line,
                field: "(row)".into(),
                message: format!(
                    "{} {} budget {} metric `{}` is already given on line {earlier}",
                    row.family, row.task, row.budget, row.metric
                ),
            });
        }
        let budgets = &mut table.entry((family, row.task)).or_default().budgets;
        budgets.entry(row.budget).or_default().insert(row.metric, row.value);
    }
    if table.is_empty() {
        return Err(TidyError::Empty { path: path.into(), expected: "one row per family, task, budget and metric" });
    }
    Ok(table)
}

/// Read `human_level.csv` into human level per task (`None` = no human level).
pub fn read_human_levels(path: &Path) -> Result<BTreeMap<String, Option<f64>>, TidyError> {
    Ok(read_rows::<HumanLevelRow>(path)?.into_iter().map(|(_, r)| (r.task, r.score)).collect())
}

/// Read a published-AUC table (`llama_auc.csv`).
pub fn read_auc_table(path: &Path) -> Result<BTreeMap<String, AucSummary>, TidyError> {
    Ok(read_rows::<AucRow>(path)?.into_iter().map(|(_, r)| (r.task.clone(), r.summary())).collect())
}

/// Everything transcribed from the authors' published material.
#[derive(Clone, Debug)]
pub struct PublishedData {
    pub scores: ScoreTable,
    pub human_levels: BTreeMap<String, Option<f64>>,
    pub llama_auc: BTreeMap<String, AucSummary>,
}

impl PublishedData {
    /// Load `data/published/` (the directory is given).
    pub fn load(dir: &Path) -> Result<Self, TidyError> {
        Ok(Self {
            scores: read_scores(&dir.join(SCORES_FILE))?,
            human_levels: read_human_levels(&dir.join(HUMAN_LEVEL_FILE))?,
            llama_auc: read_auc_table(&dir.join(LLAMA_AUC_FILE))?,
        })
    }

    /// Human level of `task` (`None` when unknown).
    pub fn human_level(&self, task: &str) -> Option<f64> {
        self.human_levels.get(task).copied().flatten()
    }

    /// Tasks of one family, sorted by name.
    pub fn tasks(&self, family: Family) -> Vec<&str> {
        self.scores.keys().filter(|(f, _)| *f == family).map(|(_, t)| t.as_str()).collect()
    }

    /// Tasks that every family has (the paper's 30), sorted by name.
    pub fn shared_tasks(&self) -> Vec<&str> {
        let mut tasks = self.tasks(Family::ALL[0]);
        tasks.retain(|t| Family::ALL.iter().all(|f| self.scores.contains_key(&(*f, t.to_string()))));
        tasks
    }

    pub fn results(&self, family: Family, task: &str) -> Option<&TaskResults> {
        self.scores.get(&(family, task.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn scores_round_trip_with_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![
            ScoreRow { family: "llama".into(), task: "t".into(), budget: 0, metric: "accuracy".into(), value: Some(0.25) },
            ScoreRow { family: "llama".into(), task: "t".into(), budget: 50, metric: "accuracy".into(), value: None },
        ];
        let p = dir.path().join("s.csv");
        write_rows(&p, &rows).unwrap();
        let table = read_scores(&p).unwrap();
        let r = &table[&(Family::Llama, "t".to_string())];
        assert_eq!(r.budgets[&0]["accuracy"], Some(0.25));
        assert_eq!(r.budgets[&50]["accuracy"], None);
    }

    #[test]
    fn bad_budget_names_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "s.csv", "family,task,budget,metric,value\nllama,t,0,accuracy,0.5\nllama,t,fifty,accuracy,0.5\n");
        let msg = read_scores(&p).unwrap_err().to_string();
        assert!(msg.contains("s.csv: line 3, field `budget`: expected a non-negative integer"), "{msg}");
    }

    #[test]
    fn bad_value_names_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "s.csv", "family,task,budget,metric,value\nllama,t,0,accuracy,high\n");
        let msg = read_scores(&p).unwrap_err().to_string();
        assert!(msg.contains("line 2, field `value`: expected a number"), "{msg}");
    }

    #[test]
    fn unknown_family_names_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "s.csv", "family,task,budget,metric,value\ngpt,t,0,accuracy,0.5\n");
        let msg = read_scores(&p).unwrap_err().to_string();
        assert!(msg.contains("line 2, field `family`: unknown model family `gpt`"), "{msg}");
    }

    #[test]
    fn short_row_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "s.csv", "family,task,budget,metric,value\nllama,t,0\n");
        let msg = read_scores(&p).unwrap_err().to_string();
        assert!(msg.contains("line 2") && msg.contains("expected 5 fields, found 3"), "{msg}");
    }

    #[test]
    fn missing_file_is_named() {
        let msg = read_scores(Path::new("/nonexistent/scores.csv")).unwrap_err().to_string();
        assert!(msg.contains("/nonexistent/scores.csv"), "{msg}");
    }
}
