//! The live study's results (`results/live/<model>/`, read by `Context::load`) turned into what
//! the live analyses share, once per (model, task): the curve on the model's budget grid, its AUC
//! under two ceilings, the label-score curve, and the repeats of the metrics. What `study.rs` is
//! for the published curves.
//!
//! The AUC of a live curve: the grid is every fine-tuning budget any of the model's tasks has a
//! cell for (so every task of a model is on one axis, x = log2(n)/log2(n_max)); a skipped budget
//! (larger than the task's train pool) carries the last score forward (`LiveResults::curve`), a
//! budget with no cell at all is filled by the paper's cleaning (0, then the running maximum). The
//! primary ceiling is the curve's own best score ([`Ceiling::MaxScore`]); the paper's rule
//! h = max(human level, max score) is the second ([`Ceiling::Paper`]), where the task has a
//! transcribed human level.

use std::collections::BTreeSet;

use dataeff::curve::{AucSummary, BudgetGrid, CurveError, NormalisedCurve};
use dataeff::live::{LiveResults, MetricsCell};
use dataeff::stats::{mean, sample_sd};
use dataeff::test_noise::{self, CurveFlag, Rise};

use crate::experiment::{Context, LIVE_DIR};

/// Fewest tasks a correlation or a regression across tasks is computed on (and the fewest a
/// leave-one-task-out fit leaves two of).
pub const MIN_TASKS: usize = 3;

/// The summary of a live analysis when `results/live/` holds no model directory with cells.
pub fn no_live_results(what: &str) -> String {
    format!(
        "No live results yet (run `dataeff sweep run …` to fill `{LIVE_DIR}/<model>/`): {what} appears here once \
         the live study has written its cells."
    )
}

/// What a cross-task analysis says for a model with too few tasks (`n` of them have what it needs).
pub fn too_few_tasks(model: &str, n: usize, with: &str) -> String {
    format!("needs at least {MIN_TASKS} tasks; {LIVE_DIR}/{model} has {n}{with}")
}

/// How a live curve is normalised to [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ceiling {
    /// Zero-shot → 0, the curve's own best score → 1 (the primary AUC: a small model never gets
    /// near human level, so the paper's ceiling would squash every curve near 0).
    MaxScore,
    /// The paper's h = max(human level, max score) (PAPER.md §2), with the transcribed human level.
    Paper,
}

/// A per-task quantity correlated with the AUC: the paper's four metrics (PAPER.md §4), then the
/// zero-shot score.
pub struct LiveMetric {
    pub name: &'static str,
    /// Its value in one repeat's metrics cell (`None`: the zero-shot score, one per task).
    pub per_repeat: Option<fn(&MetricsCell) -> f64>,
    /// The paper's Pearson r with AUC, mean ± spread over repeats (PAPER.md §4).
    pub paper: Option<(f64, f64)>,
}

pub const LIVE_METRICS: [LiveMetric; 5] = [
    LiveMetric { name: "cos_low", per_repeat: Some(|c| c.cos_low), paper: Some((0.675, 0.05)) },
    LiveMetric { name: "cos_sim_k", per_repeat: Some(|c| c.cos_sim_k), paper: Some((0.29, 0.061)) },
    LiveMetric { name: "grad_norm_k", per_repeat: Some(|c| c.grad_norm_k), paper: Some((0.152, 0.03)) },
    LiveMetric { name: "conf_avg_k", per_repeat: Some(|c| c.conf_avg_k), paper: Some((-0.024, 0.029)) },
    LiveMetric { name: "zero_shot", per_repeat: None, paper: None },
];

/// Which of a live curve's two scores an analysis reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// The paper's metric: exact match of the parsed answer (token F1 on free-text QA).
    ExactMatch,
    /// The format-free label score: right when the label with the highest answer log-likelihood
    /// is the target (tasks with a closed label set or listed options only). A small model that
    /// knows the answer but not yet the answer format scores here from the start.
    FormatFree,
}

/// Both readings, the headline (exact match, the paper's metric) first.
pub const READINGS: [Reading; 2] = [Reading::ExactMatch, Reading::FormatFree];

impl Reading {
    pub fn name(self) -> &'static str {
        match self {
            Reading::ExactMatch => "exact_match",
            Reading::FormatFree => "format_free",
        }
    }
}

/// The test set's own noise on one curve (`dataeff::test_noise`).
#[derive(Clone, Debug, Default)]
pub struct Noise {
    /// Test examples per budget (`None`: no per-example predictions to resample).
    pub test_examples: Option<usize>,
    /// The AUC's bootstrap standard error over the test examples.
    pub auc_se: Option<f64>,
    /// Best fine-tuned score − zero-shot, with its paired standard error.
    pub rise: Option<Rise>,
    pub flags: Vec<CurveFlag>,
}

impl Noise {
    /// The flags as text (`flat, noisy`; empty when none).
    pub fn flags_text(&self) -> String {
        self.flags.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
    }
}

fn noise(grid: &Result<BudgetGrid, String>, scores: Option<Vec<(usize, Vec<f64>)>>) -> Noise {
    let Some(scores) = scores else {
        return Noise::default();
    };
    let curve: Vec<(u32, Vec<f64>)> = scores.into_iter().map(|(n, s)| (n as u32, s)).collect();
    let auc_se = grid.as_ref().ok().and_then(|g| test_noise::auc_standard_error(g, &curve, None, test_noise::RESAMPLES, test_noise::SEED));
    let rise = test_noise::rise(&curve);
    Noise { test_examples: curve.first().map(|c| c.1.len()), auc_se, rise, flags: test_noise::flags(rise, auc_se) }
}

/// A curve's AUC on the live grid and its normalised points.
#[derive(Clone, Debug)]
pub struct LiveAuc {
    pub summary: AucSummary,
    pub normalised: NormalisedCurve,
}

impl LiveAuc {
    pub fn value(&self) -> f64 {
        self.summary.extrapolation_auc
    }
}

/// One task of one model's live results.
#[derive(Clone, Debug)]
pub struct LiveTask {
    pub task: String,
    /// The task's metric as the cells name it (`exact match`, `token F1`).
    pub metric: Option<String>,
    /// Budgets with a run cell, budgets skipped (carried forward), and grid budgets with no cell.
    pub run: Vec<u32>,
    pub skipped: Vec<u32>,
    pub missing: Vec<u32>,
    /// The curve (paper's parsing) and the format-free label-score curve, skipped budgets carried.
    pub points: Option<Vec<(u32, f64)>>,
    pub label_points: Option<Vec<(u32, f64)>>,
    pub human_level: Option<f64>,
    /// The primary AUC (ceiling = max score), or why there is none.
    pub auc: Result<LiveAuc, String>,
    /// The AUC with the paper's ceiling (`None`: no transcribed human level).
    pub auc_paper_ceiling: Option<Result<LiveAuc, String>>,
    /// The label-score curve's AUC, ceiling = its max score (`None`: no label scores).
    pub label_auc: Option<Result<LiveAuc, String>>,
    /// The metrics cells, in repeat order.
    pub metrics: Vec<MetricsCell>,
    /// The test set's noise on the curve and on the label-score curve.
    pub noise: Noise,
    pub label_noise: Noise,
}

impl LiveTask {
    /// The primary AUC, when there is one.
    pub fn auc_value(&self) -> Option<f64> {
        self.auc.as_ref().ok().map(LiveAuc::value)
    }

    /// The AUC under `ceiling`, when there is one.
    pub fn auc_under(&self, ceiling: Ceiling) -> Option<f64> {
        match ceiling {
            Ceiling::MaxScore => self.auc_value(),
            Ceiling::Paper => self.auc_paper_ceiling.as_ref()?.as_ref().ok().map(LiveAuc::value),
        }
    }

    /// The score at budget 0 (the zero-shot score), when the curve has one.
    pub fn zero_shot(&self) -> Option<f64> {
        self.points.as_ref()?.iter().find(|p| p.0 == 0).map(|p| p.1)
    }

    /// The primary AUC (ceiling = max score) of `reading`'s curve.
    pub fn auc_in(&self, reading: Reading) -> Option<f64> {
        self.live_auc_in(reading).map(LiveAuc::value)
    }

    /// The primary AUC and normalised curve of `reading`'s curve.
    pub fn live_auc_in(&self, reading: Reading) -> Option<&LiveAuc> {
        match reading {
            Reading::ExactMatch => self.auc.as_ref().ok(),
            Reading::FormatFree => self.label_auc.as_ref()?.as_ref().ok(),
        }
    }

    /// The zero-shot score of `reading`'s curve.
    pub fn zero_shot_in(&self, reading: Reading) -> Option<f64> {
        let points = match reading {
            Reading::ExactMatch => &self.points,
            Reading::FormatFree => &self.label_points,
        };
        points.as_ref()?.iter().find(|p| p.0 == 0).map(|p| p.1)
    }

    /// The test set's noise on `reading`'s curve.
    pub fn noise_in(&self, reading: Reading) -> &Noise {
        match reading {
            Reading::ExactMatch => &self.noise,
            Reading::FormatFree => &self.label_noise,
        }
    }

    /// `metric` of each repeat, in repeat order.
    pub fn metric_values(&self, metric: fn(&MetricsCell) -> f64) -> Vec<f64> {
        self.metrics.iter().map(metric).collect()
    }

    /// The repeat-mean of `metric` (`None`: no metrics cell).
    pub fn metric_mean(&self, metric: fn(&MetricsCell) -> f64) -> Option<f64> {
        (!self.metrics.is_empty()).then(|| mean(&self.metric_values(metric)))
    }

    /// The SD of `metric` across repeats (NaN with one repeat).
    pub fn metric_sd(&self, metric: fn(&MetricsCell) -> f64) -> f64 {
        sample_sd(&self.metric_values(metric))
    }

    /// `metric` in repeat `repeat`, when the task has that repeat.
    pub fn metric_in_repeat(&self, repeat: usize, metric: fn(&MetricsCell) -> f64) -> Option<f64> {
        self.metrics.iter().find(|c| c.repeat == repeat).map(metric)
    }
}

/// One model directory's live results.
#[derive(Clone, Debug)]
pub struct LiveModel {
    pub model: String,
    /// Every fine-tuning budget (> 0) any task has a cell for, or why there is no grid.
    pub grid: Result<BudgetGrid, String>,
    /// Every task with a curve or metrics cell, by name.
    pub tasks: Vec<LiveTask>,
}

impl LiveModel {
    /// Every repeat number any task's metrics have, in order.
    pub fn repeats(&self) -> Vec<usize> {
        let set: BTreeSet<usize> = self.tasks.iter().flat_map(|t| t.metrics.iter().map(|c| c.repeat)).collect();
        set.into_iter().collect()
    }

    /// The tasks with an AUC on `reading`'s curves and at least one metrics cell, with
    /// (repeat-mean CoS-Low, AUC).
    pub fn coslow_and_auc_in(&self, reading: Reading) -> Vec<(&LiveTask, f64, f64)> {
        self.tasks.iter().filter_map(|t| Some((t, t.metric_mean(|c| c.cos_low)?, t.auc_in(reading)?))).collect()
    }

    /// The tasks with `metric` (its repeat mean; `None`: the zero-shot score of `reading`'s
    /// curve) and an AUC on `reading`'s curves, with both.
    pub fn metric_and_auc(&self, metric: Option<fn(&MetricsCell) -> f64>, reading: Reading) -> Vec<(&LiveTask, f64, f64)> {
        self.tasks
            .iter()
            .filter_map(|t| {
                let value = match metric {
                    Some(f) => t.metric_mean(f)?,
                    None => t.zero_shot_in(reading)?,
                };
                Some((t, value, t.auc_in(reading)?))
            })
            .collect()
    }

    /// Pearson's r of `metric` with the AUC of `reading`'s curves within each repeat (that
    /// repeat's values across tasks), for the repeats with at least [`MIN_TASKS`] tasks.
    pub fn per_repeat_pearson(&self, metric: fn(&MetricsCell) -> f64, reading: Reading) -> Vec<f64> {
        let mut out = Vec::new();
        for repeat in self.repeats() {
            let (x, y): (Vec<f64>, Vec<f64>) =
                self.tasks.iter().filter_map(|t| Some((t.metric_in_repeat(repeat, metric)?, t.auc_in(reading)?))).unzip();
            if x.len() >= MIN_TASKS {
                out.extend(dataeff::stats::pearson(&x, &y));
            }
        }
        out
    }

    /// The grid's budgets as text (`16 32 64`), or why there is none.
    pub fn grid_text(&self) -> String {
        match &self.grid {
            Ok(grid) => join(grid.budgets()),
            Err(why) => why.clone(),
        }
    }
}

/// Every model's live results, in directory-name order.
pub fn live_models(ctx: &Context) -> Vec<LiveModel> {
    ctx.live.iter().map(|results| live_model(ctx, results)).collect()
}

fn live_model(ctx: &Context, results: &LiveResults) -> LiveModel {
    let grid = results.budget_grid();
    let names: BTreeSet<&String> = results.curves.keys().chain(results.metrics.keys()).collect();
    let tasks = names.into_iter().map(|task| live_task(ctx, results, &grid, task)).collect();
    LiveModel { model: results.model.clone(), grid, tasks }
}

fn live_task(ctx: &Context, results: &LiveResults, grid: &Result<BudgetGrid, String>, task: &str) -> LiveTask {
    let cells = results.curves.get(task).map(Vec::as_slice).unwrap_or_default();
    let budget = |c: &dataeff::live::CurveCell| c.budget as u32;
    let run: Vec<u32> = cells.iter().filter(|c| c.skipped.is_none()).map(budget).collect();
    let skipped: Vec<u32> = cells.iter().filter(|c| c.skipped.is_some()).map(budget).collect();
    let missing: Vec<u32> = match grid {
        Ok(g) => g.budgets().iter().copied().filter(|n| !cells.iter().any(|c| c.budget as u32 == *n)).collect(),
        Err(_) => Vec::new(),
    };
    let to_u32 = |v: Vec<(usize, f64)>| v.into_iter().map(|(n, s)| (n as u32, s)).collect::<Vec<_>>();
    let points = results.curve(task).map(to_u32);
    let label_points = results.label_curve(task).map(to_u32);
    let human_level = ctx.published.human_level(task);
    let auc_of = |points: &Option<Vec<(u32, f64)>>, human: Option<f64>| -> Result<LiveAuc, String> {
        let grid = grid.as_ref().map_err(Clone::clone)?;
        let points = match points {
            Some(p) => p,
            None if cells.is_empty() => return Err("no curve cells".into()),
            None => return Err("a run budget's cell has no score".into()),
        };
        let auc = |e: CurveError| match e {
            CurveError::Degenerate { .. } if human.is_none() => {
                "the curve never rises above its lowest score: with ceiling = max score its AUC is undefined".to_string()
            }
            e => e.to_string(),
        };
        Ok(LiveAuc { summary: grid.auc(points, human).map_err(auc)?, normalised: grid.normalised_curve(points, human).map_err(auc)? })
    };
    LiveTask {
        task: task.to_string(),
        metric: cells.first().map(|c| c.metric.clone()),
        auc: auc_of(&points, None),
        auc_paper_ceiling: human_level.map(|h| auc_of(&points, Some(h))),
        label_auc: label_points.is_some().then(|| auc_of(&label_points, None)),
        run,
        skipped,
        missing,
        points,
        label_points,
        human_level,
        metrics: results.metrics.get(task).cloned().unwrap_or_default(),
        noise: noise(grid, results.test_scores(task, false)),
        label_noise: noise(grid, results.test_scores(task, true)),
    }
}

/// Numbers as space-separated text (`0 8 32`).
pub fn join<T: ToString>(values: &[T]) -> String {
    values.iter().map(T::to_string).collect::<Vec<_>>().join(" ")
}

/// Scores as space-separated text at 3 decimals.
pub fn join_scores(values: impl IntoIterator<Item = f64>) -> String {
    values.into_iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" ")
}

/// A file stem for a figure of `model` (letters, digits, `.`, `_` and `-` kept, the rest `_`).
pub fn figure_name(prefix: &str, model: &str) -> String {
    let model: String = model.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    format!("{prefix}_{model}")
}
