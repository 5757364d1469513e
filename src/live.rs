//! The live study's result files: what one sweep cell records, and reading a model's results
//! directory (`results/live/<model>/`) back. Plain data, no model code: the study (`study/`,
//! feature `lm`) writes these, the analyses in `experiments/` read them without candle.
//!
//! Layout of a model's directory:
//!
//! ```text
//! results/live/<model>/
//!   profile.toml                          the profile the cells were run with (a copy)
//!   cells/curve/<task>/n<budget>.json     CurveCell: one fine-tuning budget, scored on test
//!   cells/curve/<task>/n<budget>.predictions.jsonl   one Prediction per test example
//!   cells/confidence/<task>.json          ConfidenceCell: the model's confidence on the pool
//!   cells/metrics/<task>/r<repeat>.json   MetricsCell: CoS-Low and the comparison metrics
//!   timings.jsonl                         Timing: each cell's wall-clock seconds, one per line
//! ```
//!
//! Every cell carries its key (everything its numbers depend on) and the key's sha256, its
//! address: a cell whose recorded key differs from the one a run would use is recomputed.
//! A cell file holds no wall-clock time, so a resumed sweep writes the same bytes as one that
//! never stopped (timings go to `timings.jsonl`, beside the cells, which is not part of that).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The directory name of a model's live results (`results/live/<name>/`): the known model's name
/// or the file's stem, with anything but letters, digits and `-_.` replaced by `_`.
pub fn model_dir_name(spec: &str) -> String {
    let trimmed = spec.trim_end_matches('/');
    let name = Path::new(trimmed).file_stem().map_or_else(|| trimmed.to_string(), |s| s.to_string_lossy().into_owned());
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

/// One (task, budget) cell of a data-efficiency curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurveCell {
    /// `curve/<task>/n<budget>`.
    pub id: String,
    pub key_sha256: String,
    pub key: serde_json::Value,
    pub task: String,
    pub budget: usize,
    /// Why the budget was not run (larger than the task's train pool); then every score is
    /// `None` and a curve carries its last value forward, as the authors' cleaning does.
    pub skipped: Option<String>,
    /// The task's metric as words (`exact match`, `token F1`).
    pub metric: String,
    /// Mean test score with the paper's parsing (exact match or token F1).
    pub score: Option<f64>,
    /// Mean format-free score: 1 when the label with the highest answer log-likelihood is right
    /// (tasks with a closed label set or listed options only).
    pub label_score: Option<f64>,
    pub test_examples: usize,
    /// Optimiser steps run (0 at budget 0) and the step whose weights were kept.
    pub steps: usize,
    pub best_step: usize,
    /// Validation loss at each evaluation (`[step, loss]`), empty without model selection.
    pub validation: Vec<(usize, f64)>,
    /// Training loss of each optimiser step.
    pub train_losses: Vec<f64>,
}

/// One test example's outcome (a line of `n<budget>.predictions.jsonl`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Index in the task's test split.
    pub index: usize,
    pub prompt: String,
    pub target: String,
    /// The generated text (special tokens dropped) and its score.
    pub generated: String,
    pub score: f64,
    /// Each candidate label's answer log-likelihood, in the task's label order (empty when the
    /// task has no closed label set), and whether the best one is right.
    pub label_log_likelihoods: Vec<(String, f64)>,
    pub label_correct: Option<bool>,
}

/// The model's confidence on each prompt of a task's unannotated pool (PAPER.md §4 step 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceCell {
    /// `confidence/<task>`.
    pub id: String,
    pub key_sha256: String,
    pub key: serde_json::Value,
    pub task: String,
    /// Mean max-probability over the generated answer tokens (markers masked), per pool prompt;
    /// `None` when the model generated nothing but the end marker.
    pub confidence: Vec<Option<f64>>,
}

/// One repeat of the per-task metrics (PAPER.md §4): CoS-Low on k low-confidence examples and
/// the paper's comparison metrics on k random ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsCell {
    /// `metrics/<task>/r<repeat>`.
    pub id: String,
    pub key_sha256: String,
    pub key: serde_json::Value,
    pub task: String,
    pub repeat: usize,
    /// Seed of the k-example draws (low-confidence and random) and seed of LoRA's A, apart.
    pub draw_seed: u64,
    pub lora_seed: u64,
    pub k: usize,
    /// Prompts in the pool and in its low-confidence share (the bottom decile by default).
    pub pool: usize,
    pub low_confidence_pool: usize,
    /// Pool indices of the k low-confidence and the k random examples.
    pub low_confidence: Vec<usize>,
    pub random: Vec<usize>,
    /// Median pairwise cosine of the LoRA gradients of the low-confidence examples.
    pub cos_low: f64,
    /// The same on the random examples (`cos_sim_k`).
    pub cos_sim_k: f64,
    /// Mean gradient norm of the random examples (`grad_norm_k`).
    pub grad_norm_k: f64,
    /// Mean confidence of the random examples (`conf_avg_k`).
    pub conf_avg_k: f64,
}

/// A model's live results: every curve and metrics cell found in its directory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveResults {
    /// The directory's name (the model it was run on).
    pub model: String,
    /// Curve cells by task, in budget order.
    pub curves: BTreeMap<String, Vec<CurveCell>>,
    /// Metrics cells by task, in repeat order.
    pub metrics: BTreeMap<String, Vec<MetricsCell>>,
    /// Each run budget's per-example test outcomes (its `n<budget>.predictions.jsonl`, where
    /// present), by task and budget.
    pub outcomes: BTreeMap<String, BTreeMap<usize, TestOutcomes>>,
    /// Wall-clock seconds of each cell (`timings.jsonl`; a cell timed twice, as a resumed run
    /// may do, keeps its last time), by cell id (`curve/<task>/n<budget>`, `confidence/<task>`,
    /// `metrics/<task>/r<repeat>`).
    pub timings: BTreeMap<String, f64>,
}

/// One line of `timings.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub cell: String,
    pub seconds: f64,
}

/// One run budget's per-example test outcomes, in test-example order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestOutcomes {
    /// The paper's score of each example (exact match or token F1).
    pub scores: Vec<f64>,
    /// Whether the best label by answer log-likelihood is right (`None`: no closed label set).
    pub label_correct: Vec<Option<bool>>,
}

impl TestOutcomes {
    /// Read a `n<budget>.predictions.jsonl` file (errors name the file and line).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let mut predictions = Vec::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let p: Prediction = crate::json::parse(line).map_err(|e| anyhow::anyhow!("{}: line {}: {e}", path.display(), i + 1))?;
            predictions.push(p);
        }
        predictions.sort_by_key(|p| p.index);
        Ok(TestOutcomes {
            scores: predictions.iter().map(|p| p.score).collect(),
            label_correct: predictions.iter().map(|p| p.label_correct).collect(),
        })
    }
}

impl LiveResults {
    /// Read every cell under `dir/cells/` (a missing `cells/` is an empty result; a file that
    /// does not parse is an error naming it).
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let model = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut out = LiveResults { model, ..Default::default() };
        for path in cell_files(&dir.join("cells/curve"))? {
            let cell: CurveCell = crate::json::read(&path)?;
            let predictions = path.with_extension("predictions.jsonl");
            if cell.skipped.is_none() && predictions.is_file() {
                let outcomes = TestOutcomes::read(&predictions)?;
                out.outcomes.entry(cell.task.clone()).or_default().insert(cell.budget, outcomes);
            }
            out.curves.entry(cell.task.clone()).or_default().push(cell);
        }
        for path in cell_files(&dir.join("cells/metrics"))? {
            let cell: MetricsCell = crate::json::read(&path)?;
            out.metrics.entry(cell.task.clone()).or_default().push(cell);
        }
        let timings = dir.join("timings.jsonl");
        if timings.is_file() {
            let text = std::fs::read_to_string(&timings).with_context(|| format!("{}: cannot read", timings.display()))?;
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let t: Timing = crate::json::parse(line).map_err(|e| anyhow::anyhow!("{}: line {}: {e}", timings.display(), i + 1))?;
                out.timings.insert(t.cell, t.seconds);
            }
        }
        for cells in out.curves.values_mut() {
            cells.sort_by_key(|c| c.budget);
        }
        for cells in out.metrics.values_mut() {
            cells.sort_by_key(|c| c.repeat);
        }
        Ok(out)
    }

    /// Every model directory under `root` (`results/live/`) with at least one cell, by name.
    pub fn read_all(root: &Path) -> anyhow::Result<Vec<Self>> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(root) else { return Ok(out) };
        let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for dir in dirs {
            let results = Self::read(&dir)?;
            if !results.curves.is_empty() || !results.metrics.is_empty() {
                out.push(results);
            }
        }
        Ok(out)
    }

    /// A task's curve as (budget, score) with the paper's scoring, a skipped budget carrying the
    /// last value before it forward (`None` when the task has no run cell).
    pub fn curve(&self, task: &str) -> Option<Vec<(usize, f64)>> {
        carried(self.curves.get(task)?, |c| c.score)
    }

    /// The task's score at budget 0 (the base model's), when its curve has one.
    pub fn zero_shot(&self, task: &str) -> Option<f64> {
        self.curve(task)?.iter().find(|(n, _)| *n == 0).map(|p| p.1)
    }

    /// The same with the format-free label score (`None` when the task has none).
    pub fn label_curve(&self, task: &str) -> Option<Vec<(usize, f64)>> {
        carried(self.curves.get(task)?, |c| c.label_score)
    }

    /// A task's per-example test scores at every budget of its curve, a skipped budget carrying
    /// the last run budget's forward, as [`Self::curve`] does with the means: the paper's score,
    /// or with `label` 1/0 for the format-free label score. `None` when a run budget has no
    /// predictions file (or, with `label`, an example no label score).
    pub fn test_scores(&self, task: &str, label: bool) -> Option<Vec<(usize, Vec<f64>)>> {
        let outcomes = self.outcomes.get(task)?;
        let mut out: Vec<(usize, Vec<f64>)> = Vec::new();
        for cell in self.curves.get(task)? {
            let scores = match &cell.skipped {
                Some(_) => out.last()?.1.clone(),
                None => {
                    let o = outcomes.get(&cell.budget)?;
                    if label {
                        o.label_correct.iter().map(|c| c.map(|c| if c { 1.0 } else { 0.0 })).collect::<Option<Vec<f64>>>()?
                    } else {
                        o.scores.clone()
                    }
                }
            };
            out.push((cell.budget, scores));
        }
        (!out.is_empty()).then_some(out)
    }
}

impl LiveResults {
    /// The model's budget grid: every fine-tuning budget (> 0) any of its tasks has a curve cell
    /// for, so that all its tasks share one axis.
    pub fn budget_grid(&self) -> Result<crate::curve::BudgetGrid, String> {
        let budgets: std::collections::BTreeSet<u32> =
            self.curves.values().flatten().map(|c| c.budget as u32).filter(|&n| n > 0).collect();
        if budgets.is_empty() {
            return Err("no fine-tuning budget (> 0) in the curve cells".to_string());
        }
        crate::curve::BudgetGrid::new(budgets.into_iter().collect::<Vec<_>>()).map_err(|e| e.to_string())
    }

    /// The summary tables of the results, as CSV text by file name: `curves.csv` (task, budget,
    /// score, format_free_score, n_test, skipped), `auc.csv` (task, auc, zero_shot, ceiling,
    /// auc_se, format_free_auc, format_free_auc_se, note: the AUC on [`Self::budget_grid`] with
    /// ceiling = the curve's best score, and its test-set standard error, `crate::test_noise`) and `metrics.csv` (task, repeat, draw_seed, lora_seed, zero_shot, grad_norm_k,
    /// conf_avg_k, cos_sim_k, coslow).
    pub fn summary_tables(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        let number = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
        let mut curves = csv::Writer::from_writer(Vec::new());
        curves.write_record(["task", "budget", "score", "format_free_score", "n_test", "skipped"])?;
        for (task, cells) in &self.curves {
            for c in cells {
                let skipped = c.skipped.clone().unwrap_or_default();
                curves.write_record([task.clone(), c.budget.to_string(), number(c.score), number(c.label_score), c.test_examples.to_string(), skipped])?;
            }
        }
        let grid = self.budget_grid();
        let auc_of = |points: Option<Vec<(usize, f64)>>| -> Result<crate::curve::AucSummary, String> {
            let grid = grid.as_ref().map_err(Clone::clone)?;
            let points: Vec<(u32, f64)> = points.ok_or("a run budget has no score")?.into_iter().map(|(n, v)| (n as u32, v)).collect();
            grid.auc(&points, None).map_err(|e| e.to_string())
        };
        // The AUC's standard error from the test set alone (crate::test_noise).
        let se_of = |task: &str, label: bool| -> Option<f64> {
            let curve: Vec<(u32, Vec<f64>)> = self.test_scores(task, label)?.into_iter().map(|(n, s)| (n as u32, s)).collect();
            let grid = grid.as_ref().ok()?;
            crate::test_noise::auc_standard_error(grid, &curve, None, crate::test_noise::RESAMPLES, crate::test_noise::SEED)
        };
        let mut aucs = csv::Writer::from_writer(Vec::new());
        aucs.write_record(["task", "auc", "zero_shot", "ceiling", "auc_se", "format_free_auc", "format_free_auc_se", "note"])?;
        for task in self.curves.keys() {
            let zero_shot = self.zero_shot(task);
            let (auc, ceiling, note) = match auc_of(self.curve(task)) {
                Ok(s) => (Some(s.extrapolation_auc), Some(s.human_eval), String::new()),
                Err(e) => (None, None, e),
            };
            let label = self.label_curve(task).map(|p| auc_of(Some(p)));
            let label_auc = label.as_ref().and_then(|r| r.as_ref().ok()).map(|s| s.extrapolation_auc);
            let note = match (&note[..], label) {
                ("", Some(Err(e))) => format!("format-free: {e}"),
                _ => note,
            };
            let auc_se = auc.and_then(|_| se_of(task, false));
            let label_se = label_auc.and_then(|_| se_of(task, true));
            aucs.write_record([
                task.clone(),
                number(auc),
                number(zero_shot),
                number(ceiling),
                number(auc_se),
                number(label_auc),
                number(label_se),
                note,
            ])?;
        }
        let mut metrics = csv::Writer::from_writer(Vec::new());
        metrics.write_record(["task", "repeat", "draw_seed", "lora_seed", "zero_shot", "grad_norm_k", "conf_avg_k", "cos_sim_k", "coslow"])?;
        for (task, cells) in &self.metrics {
            let zero_shot = self.zero_shot(task);
            for c in cells {
                metrics.write_record([
                    task.clone(),
                    c.repeat.to_string(),
                    c.draw_seed.to_string(),
                    c.lora_seed.to_string(),
                    number(zero_shot),
                    c.grad_norm_k.to_string(),
                    c.conf_avg_k.to_string(),
                    c.cos_sim_k.to_string(),
                    c.cos_low.to_string(),
                ])?;
            }
        }
        let text = |w: csv::Writer<Vec<u8>>| -> anyhow::Result<String> { Ok(String::from_utf8(w.into_inner()?)?) };
        Ok(vec![("curves.csv", text(curves)?), ("auc.csv", text(aucs)?), ("metrics.csv", text(metrics)?)])
    }
}

fn carried(cells: &[CurveCell], score: impl Fn(&CurveCell) -> Option<f64>) -> Option<Vec<(usize, f64)>> {
    let mut out = Vec::with_capacity(cells.len());
    let mut last = None;
    for cell in cells {
        let value = match (&cell.skipped, score(cell)) {
            (None, Some(v)) => Some(v),
            (None, None) => return None,
            (Some(_), _) => last,
        };
        if let Some(v) = value {
            out.push((cell.budget, v));
            last = Some(v);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Every `*.json` below `dir` (one level of task directories), sorted.
fn cell_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(dir) else { return Ok(out) };
    for task in tasks {
        let task = task.with_context(|| format!("listing {}", dir.display()))?.path();
        if !task.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&task).with_context(|| format!("listing {}", task.display()))? {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "json") {
                out.push(file);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(budget: usize, score: Option<f64>, skipped: bool) -> CurveCell {
        CurveCell {
            id: format!("curve/t/n{budget}"),
            key_sha256: String::new(),
            key: serde_json::Value::Null,
            task: "t".into(),
            budget,
            skipped: skipped.then(|| "budget larger than the train pool".into()),
            metric: "exact match".into(),
            score,
            label_score: None,
            test_examples: 4,
            steps: 0,
            best_step: 0,
            validation: vec![],
            train_losses: vec![],
        }
    }

    #[test]
    fn test_scores_carry_a_skipped_budget_and_need_every_run_budgets_predictions() {
        let mut results = LiveResults::default();
        results.curves.insert("t".into(), vec![cell(0, Some(0.5), false), cell(8, Some(1.0), false), cell(32, None, true)]);
        let outcomes = |scores: Vec<f64>, labels: Vec<Option<bool>>| TestOutcomes { scores, label_correct: labels };
        let mut by_budget = BTreeMap::new();
        by_budget.insert(0, outcomes(vec![1.0, 0.0], vec![Some(true), None]));
        results.outcomes.insert("t".into(), by_budget.clone());
        assert_eq!(results.test_scores("t", false), None, "budget 8 has no predictions");
        by_budget.insert(8, outcomes(vec![1.0, 1.0], vec![Some(true), Some(true)]));
        results.outcomes.insert("t".into(), by_budget);
        assert_eq!(results.test_scores("t", false), Some(vec![(0, vec![1.0, 0.0]), (8, vec![1.0, 1.0]), (32, vec![1.0, 1.0])]));
        assert_eq!(results.test_scores("t", true), None, "an example without a label score");
    }

    #[test]
    fn a_bad_predictions_line_is_named_by_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n8.predictions.jsonl");
        let good = r#"{"index":0,"prompt":"p","target":"A","generated":"A","score":1.0,"label_log_likelihoods":[],"label_correct":null}"#;
        std::fs::write(&path, format!("{good}\n{{\"index\": \"one\"}}\n")).unwrap();
        let e = TestOutcomes::read(&path).unwrap_err().to_string();
        assert!(e.contains("n8.predictions.jsonl: line 2") && e.contains("index"), "{e}");
    }

    #[test]
    fn a_skipped_budget_carries_the_last_score_forward() {
        let cells = vec![cell(0, Some(0.25), false), cell(8, Some(0.5), false), cell(32, None, true)];
        assert_eq!(carried(&cells, |c| c.score), Some(vec![(0, 0.25), (8, 0.5), (32, 0.5)]));
        assert_eq!(carried(&cells, |c| c.label_score), None);
    }
}
