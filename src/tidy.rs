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

/// One row of a coefficients file: the columns of `data/coefficients.csv`, then what
/// `dataeff fit` adds (each optional, so the published file reads too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoefficientsRow {
    pub family: String,
    pub model: String,
    pub slope: f64,
    /// The ± of the slope (the paper's; `fit` writes the OLS standard error).
    pub slope_pm: f64,
    pub intercept: f64,
    pub intercept_pm: f64,
    #[serde(default)]
    pub n_tasks: Option<usize>,
    #[serde(default)]
    pub r: Option<f64>,
    /// Mean absolute leave-one-task-out error of the AUC it predicts.
    #[serde(default)]
    pub loo_mae: Option<f64>,
}

impl CoefficientsRow {
    pub fn coefficients(&self) -> crate::predict::Coefficients {
        crate::predict::Coefficients {
            slope: self.slope,
            slope_pm: self.slope_pm,
            intercept: self.intercept,
            intercept_pm: self.intercept_pm,
        }
    }
}

/// Read a coefficients file with exactly one row (as `dataeff fit` writes). A row whose numbers
/// are not finite, or a ± below 0, is an error naming its line and field.
pub fn read_coefficients(path: &Path) -> Result<CoefficientsRow, TidyError> {
    let rows = read_rows::<CoefficientsRow>(path)?;
    let bad = |line: u64, field: &str, message: String| TidyError::Row { path: path.into(), line, field: field.into(), message };
    match rows.as_slice() {
        [] => Err(TidyError::Empty { path: path.into(), expected: "one row: family,model,slope,slope_pm,intercept,intercept_pm" }),
        [(line, row)] => {
            for (field, value) in [("slope", row.slope), ("slope_pm", row.slope_pm), ("intercept", row.intercept), ("intercept_pm", row.intercept_pm)] {
                if !value.is_finite() {
                    return Err(bad(*line, field, format!("expected a finite number, found {value}")));
                }
            }
            for (field, value) in [("slope_pm", row.slope_pm), ("intercept_pm", row.intercept_pm)] {
                if value < 0.0 {
                    return Err(bad(*line, field, format!("expected a ± of 0 or more, found {value}")));
                }
            }
            if let Some(mae) = row.loo_mae.filter(|m| !(m.is_finite() && *m > 0.0)) {
                return Err(bad(*line, "loo_mae", format!("expected a positive number, found {mae}")));
            }
            Ok(row.clone())
        }
        [_, (line, _), ..] => Err(bad(
            *line,
            "(row)",
            format!("expected one row of coefficients, found {}: keep the line you mean", rows.len()),
        )),
    }
}

/// Values of one numeric column per task, in file order with their line numbers: `task,<column>`
/// (other columns are ignored). A task may have several rows (repeats).
pub fn read_task_values(path: &Path, column: &'static str) -> Result<BTreeMap<String, Vec<(u64, f64)>>, TidyError> {
    let rows = read_rows::<BTreeMap<String, String>>(path)?;
    let mut out: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    for (line, row) in rows {
        let bad = |field: &str, message: String| TidyError::Row { path: path.into(), line, field: field.into(), message };
        let task = row.get("task").ok_or_else(|| bad("task", "no such column: expected a header with `task`".into()))?;
        if task.trim().is_empty() {
            return Err(bad("task", "expected a task name, found an empty field".into()));
        }
        let text = row.get(column).ok_or_else(|| bad(column, format!("no such column: expected a header with `{column}`")))?;
        let value: f64 = text.trim().parse().map_err(|_| bad(column, format!("expected a number, found `{text}`")))?;
        if !value.is_finite() {
            return Err(bad(column, format!("expected a finite number, found `{text}`")));
        }
        out.entry(task.trim().to_string()).or_default().push((line, value));
    }
    if out.is_empty() {
        return Err(TidyError::Empty { path: path.into(), expected: if column == "auc" { "task,auc rows" } else { "task,coslow rows" } });
    }
    Ok(out)
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

    #[test]
    fn the_published_coefficients_and_a_fitted_file_both_read() {
        let dir = tempfile::tempdir().unwrap();
        let published = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/coefficients.csv")).unwrap();
        let first: String = published.lines().take(2).map(|l| format!("{l}\n")).collect();
        let p = write(dir.path(), "one.csv", &first);
        let row = read_coefficients(&p).unwrap();
        assert_eq!((row.slope, row.loo_mae), (0.545, None));
        let fitted = CoefficientsRow { family: "mine".into(), model: "".into(), slope: 0.5, slope_pm: 0.1, intercept: 0.3, intercept_pm: 0.05, n_tasks: Some(5), r: Some(0.8), loo_mae: Some(0.07) };
        let p = dir.path().join("fit.csv");
        write_rows(&p, std::slice::from_ref(&fitted)).unwrap();
        assert_eq!(read_coefficients(&p).unwrap(), fitted);
        let all = write(dir.path(), "all.csv", &published);
        let msg = read_coefficients(&all).unwrap_err().to_string();
        assert!(msg.contains("line 3") && msg.contains("found 3"), "{msg}");
    }

    #[test]
    fn task_values_name_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "m.csv", "task,coslow,seed\na,0.5,1\na,0.7,2\nb,high,1\n");
        let msg = read_task_values(&p, "coslow").unwrap_err().to_string();
        assert!(msg.contains("m.csv: line 4, field `coslow`: expected a number, found `high`"), "{msg}");
        let p = write(dir.path(), "n.csv", "task,coslow\na,0.5\na,0.7\n");
        assert_eq!(read_task_values(&p, "coslow").unwrap()["a"], vec![(2, 0.5), (3, 0.7)]);
        let msg = read_task_values(&p, "auc").unwrap_err().to_string();
        assert!(msg.contains("field `auc`: no such column"), "{msg}");
    }
}
