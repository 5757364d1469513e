//! The data-efficiency curve and its AUC, exactly as PAPER.md §2 (pure functions, no I/O).
//!
//! A curve is a list of `(budget, score)` points. The published AUC is obtained by
//! [`select_scores`] → [`clean`] → [`normalise`] on the [`log2_position`] axis → [`trapezoid`];
//! [`auc`] chains them and returns the same four numbers as the authors' `auc_res` files.

use serde::{Deserialize, Serialize};

use crate::results::{Metrics, TaskResults};

/// The fine-tuning budgets of the paper (number of training examples).
pub const BUDGETS: [u32; 7] = [50, 100, 200, 500, 1000, 2500, 5000];
/// The largest budget: x = 1 on the normalised log axis.
pub const MAX_BUDGET: u32 = 5000;
/// The smallest fine-tuning budget kept; the authors' 4/8/16/32-example runs are dropped.
pub const MIN_FINETUNE_BUDGET: u32 = 50;

/// Tasks whose score is token-level F1 (generation tasks) rather than accuracy.
pub const F1_TASKS: [&str; 7] = [
    "coqa",
    "squad_v2",
    "disfl_qa",
    "qa_wikidata",
    "sciq",
    "typescript_chunks",
    "polish_sequence_labeling",
];

/// Why a curve could not be turned into an AUC.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CurveError {
    #[error("budget {budget}: no usable score: expected `{expected}` to be a number")]
    MissingScore { budget: u32, expected: &'static str },
    #[error("no budget in 0 or {MIN_FINETUNE_BUDGET}..={MAX_BUDGET} has a score")]
    Empty,
    #[error(
        "cannot normalise: the ceiling ({ceiling}) equals the curve's minimum ({floor}), so every \
         score is both 0-shot and human level"
    )]
    Degenerate { floor: f64, ceiling: f64 },
    #[error("budget grid {budgets:?}: {reason}")]
    BadGrid { budgets: Vec<u32>, reason: &'static str },
}

/// The four numbers the authors publish per task (same field names as their `auc_res` JSON).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AucSummary {
    /// Best raw score over the kept budgets.
    pub max_acc: f64,
    /// Worst raw score over the kept budgets (before missing budgets are filled).
    pub min_acc: f64,
    /// Area under the cleaned, normalised curve on the log2 axis.
    pub extrapolation_auc: f64,
    /// The ceiling `h = max(human level, max_acc)` (named `human_eval` in the authors' files).
    pub human_eval: f64,
}

/// True for the budgets that enter the AUC: the zero-shot point and 50..=5000.
pub fn is_kept_budget(n: u32) -> bool {
    n == 0 || (MIN_FINETUNE_BUDGET..=MAX_BUDGET).contains(&n)
}

/// Name of the metric that scores `task`, for messages.
pub fn expected_metric(task: &str) -> &'static str {
    if F1_TASKS.contains(&task) { "f1" } else { "accuracy` or `exact_string_match_accuracy" }
}

/// Score of one budget (§2 step 1): `f1` for generation tasks, else `accuracy` when it is a
/// number, else `exact_string_match_accuracy`.
pub fn select_score(task: &str, metrics: &Metrics) -> Option<f64> {
    let number = |name: &str| metrics.get(name).copied().flatten().filter(|v| !v.is_nan());
    if F1_TASKS.contains(&task) {
        number("f1")
    } else {
        number("accuracy").or_else(|| number("exact_string_match_accuracy"))
    }
}

/// The kept `(budget, score)` points of one task's results, sorted by budget (§2 step 1).
pub fn select_scores(task: &str, results: &TaskResults) -> Result<Vec<(u32, f64)>, CurveError> {
    let points = results
        .budgets
        .iter()
        .filter(|(n, _)| is_kept_budget(**n))
        .map(|(&budget, metrics)| {
            select_score(task, metrics)
                .map(|s| (budget, s))
                .ok_or(CurveError::MissingScore { budget, expected: expected_metric(task) })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if points.is_empty() {
        return Err(CurveError::Empty);
    }
    Ok(points)
}

/// §2 steps 3–4: add every paper budget missing from `points` with score 0, sort by budget, and
/// make the curve non-decreasing by carrying the running maximum forward. Idempotent.
pub fn clean(points: &[(u32, f64)]) -> Vec<(u32, f64)> {
    BudgetGrid::paper().clean(points)
}

/// §2 step 4: make scores (in budget order) non-decreasing, in place, by replacing each with the
/// running maximum of the scores up to it.
pub fn carry_running_maximum<'a>(scores: impl IntoIterator<Item = &'a mut f64>) {
    let mut best = f64::NEG_INFINITY;
    for score in scores {
        best = best.max(*score);
        *score = best;
    }
}

/// §2 step 2: the ceiling is the human level when known, never below the best observed score.
pub fn ceiling(human_level: Option<f64>, max_score: f64) -> f64 {
    human_level.map_or(max_score, |h| h.max(max_score))
}

/// §2 step 5: `y = (score − floor) / (ceiling − floor)`, so the floor maps to 0 and the ceiling to 1.
pub fn normalise(scores: &[f64], floor: f64, ceiling: f64) -> Result<Vec<f64>, CurveError> {
    if ceiling == floor {
        return Err(CurveError::Degenerate { floor, ceiling });
    }
    Ok(scores.iter().map(|s| (s - floor) / (ceiling - floor)).collect())
}

/// §2 step 6: `x = log2(max(n, 1)) / log2(5000)`; n = 0 and n = 1 both sit at 0, n = 5000 at 1.
pub fn log2_position(budget: f64) -> f64 {
    budget.max(1.0).log2() / f64::from(MAX_BUDGET).log2()
}

/// Inverse of [`log2_position`] for x > 0: the budget `n = 2^(x · log2 5000)`.
pub fn budget_at_position(x: f64) -> f64 {
    (x * f64::from(MAX_BUDGET).log2()).exp2()
}

/// §2 step 7: trapezoidal area under `(x, y)` (summed left to right, as numpy's `trapz` does for
/// curves of this length).
pub fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "trapezoid needs as many x as y");
    x.windows(2).zip(y.windows(2)).map(|(xs, ys)| (xs[1] - xs[0]) * (ys[1] + ys[0]) / 2.0).sum()
}

/// The budgets a curve is measured at (PAPER.md §2): fine-tuning budgets in increasing order, the
/// largest of which sits at x = 1 on the log2 axis, `x = log2(max(n, 1)) / log2(n_max)`. The
/// paper's grid is [`BudgetGrid::paper`] (and the free functions of this module use it); the live
/// study brings its own, e.g. 16..=512 on a CPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetGrid {
    budgets: Vec<u32>,
}

impl BudgetGrid {
    /// 50, 100, 200, 500, 1000, 2500, 5000.
    pub fn paper() -> Self {
        BudgetGrid { budgets: BUDGETS.to_vec() }
    }

    /// A grid of fine-tuning budgets (the zero-shot point is implied): increasing, each > 0, the
    /// largest > 1 (it defines the axis).
    pub fn new(budgets: impl Into<Vec<u32>>) -> Result<Self, CurveError> {
        let budgets = budgets.into();
        let bad = |reason| Err(CurveError::BadGrid { budgets: budgets.clone(), reason });
        if budgets.is_empty() {
            return bad("no budgets");
        }
        if budgets[0] == 0 {
            return bad("budgets must be > 0 (the zero-shot point is always on the curve)");
        }
        if budgets.windows(2).any(|w| w[0] >= w[1]) {
            return bad("budgets must increase");
        }
        if *budgets.last().expect("not empty") < 2 {
            return bad("the largest budget must be at least 2");
        }
        Ok(BudgetGrid { budgets })
    }

    pub fn budgets(&self) -> &[u32] {
        &self.budgets
    }

    /// `n_max`, at x = 1.
    pub fn max(&self) -> u32 {
        *self.budgets.last().expect("a grid is never empty")
    }

    /// `x = log2(max(n, 1)) / log2(n_max)` (for the paper's grid, exactly [`log2_position`]).
    pub fn position(&self, budget: f64) -> f64 {
        budget.max(1.0).log2() / f64::from(self.max()).log2()
    }

    /// Inverse of [`BudgetGrid::position`] for x > 0: `n = 2^(x · log2 n_max)` (for the paper's
    /// grid, exactly [`budget_at_position`]).
    pub fn budget_at(&self, x: f64) -> f64 {
        (x * f64::from(self.max()).log2()).exp2()
    }

    /// The positions of the zero-shot point and of every grid budget: the x of a cleaned curve.
    pub fn positions(&self) -> Vec<f64> {
        std::iter::once(0.0).chain(self.budgets.iter().map(|&n| self.position(f64::from(n)))).collect()
    }

    /// §2 steps 3–4 on this grid: add every grid budget missing from `points` with score 0, sort,
    /// carry the running maximum forward.
    pub fn clean(&self, points: &[(u32, f64)]) -> Vec<(u32, f64)> {
        let mut filled: Vec<(u32, f64)> = points.to_vec();
        for &budget in &self.budgets {
            if !filled.iter().any(|(n, _)| *n == budget) {
                filled.push((budget, 0.0));
            }
        }
        filled.sort_by_key(|(n, _)| *n);
        carry_running_maximum(filled.iter_mut().map(|(_, score)| score));
        filled
    }

    /// §2 steps 2–6 on this grid (`points` must be non-empty).
    pub fn normalised_curve(&self, points: &[(u32, f64)], human_level: Option<f64>) -> Result<NormalisedCurve, CurveError> {
        let max_score = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        if !max_score.is_finite() {
            return Err(CurveError::Empty);
        }
        let h = ceiling(human_level, max_score);
        let cleaned = self.clean(points);
        let scores: Vec<f64> = cleaned.iter().map(|p| p.1).collect();
        // The floor is the cleaned curve's minimum: 0 when a grid budget was missing and filled.
        let floor = scores.iter().copied().fold(f64::INFINITY, f64::min);
        let y = normalise(&scores, floor, h)?;
        let budgets: Vec<u32> = cleaned.iter().map(|p| p.0).collect();
        let x = budgets.iter().map(|&n| self.position(f64::from(n))).collect();
        Ok(NormalisedCurve { budgets, x, y, floor, ceiling: h })
    }

    /// The data-efficiency metric of §2 on this grid.
    pub fn auc(&self, points: &[(u32, f64)], human_level: Option<f64>) -> Result<AucSummary, CurveError> {
        let curve = self.normalised_curve(points, human_level)?;
        let max_acc = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let min_acc = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        Ok(AucSummary {
            max_acc,
            min_acc,
            extrapolation_auc: trapezoid(&curve.x, &curve.y),
            human_eval: curve.ceiling,
        })
    }
}

/// A cleaned curve on the normalised axes: x on the log2 budget axis, y from 0 (floor) to 1 (ceiling).
#[derive(Clone, Debug, PartialEq)]
pub struct NormalisedCurve {
    pub budgets: Vec<u32>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Floor `m` (minimum of the cleaned curve) and ceiling `h` in raw score units.
    pub floor: f64,
    pub ceiling: f64,
}

/// §2 steps 2–6 on already selected points (`points` must be non-empty), on the paper's grid.
pub fn normalised_curve(points: &[(u32, f64)], human_level: Option<f64>) -> Result<NormalisedCurve, CurveError> {
    BudgetGrid::paper().normalised_curve(points, human_level)
}

/// The data-efficiency metric of §2 from selected points, on the paper's grid: the published
/// `auc_res` entry.
pub fn auc(points: &[(u32, f64)], human_level: Option<f64>) -> Result<AucSummary, CurveError> {
    BudgetGrid::paper().auc(points, human_level)
}

/// [`select_scores`] then [`auc`]: one task's published AUC from its raw results.
pub fn task_auc(task: &str, results: &TaskResults, human_level: Option<f64>) -> Result<AucSummary, CurveError> {
    auc(&select_scores(task, results)?, human_level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_is_increasing_positive_and_its_positions_match_the_papers() {
        let paper = BudgetGrid::paper();
        for n in [0, 1, 50, 128, 5000] {
            assert_eq!(paper.position(f64::from(n)).to_bits(), log2_position(f64::from(n)).to_bits());
        }
        let cpu = BudgetGrid::new([16, 32, 64, 128, 256, 512]).unwrap();
        assert_eq!((cpu.max(), cpu.position(512.0), cpu.position(16.0)), (512, 1.0, 4.0 / 9.0));
        assert_eq!((cpu.budget_at(1.0), cpu.budget_at(4.0 / 9.0)), (512.0, 16.0));
        for x in [0.1, 0.5, 0.9] {
            assert_eq!(paper.budget_at(x).to_bits(), budget_at_position(x).to_bits());
        }
        for (bad, why) in [(vec![], "no budgets"), (vec![0, 8], "> 0"), (vec![8, 8], "increase"), (vec![1], "at least 2")] {
            let e = BudgetGrid::new(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
        // A missing grid budget is filled with 0 and then carried up, as on the paper's grid.
        let cleaned = cpu.clean(&[(0, 0.2), (16, 0.5), (64, 0.4), (512, 0.9)]);
        assert_eq!(cleaned.iter().map(|p| p.1).collect::<Vec<_>>(), [0.2, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9]);
    }

    fn metrics(pairs: &[(&str, Option<f64>)]) -> Metrics {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn accuracy_wins_over_exact_match_unless_null_or_nan() {
        let m = metrics(&[("accuracy", Some(0.5)), ("exact_string_match_accuracy", Some(0.7))]);
        assert_eq!(select_score("boolq", &m), Some(0.5));
        let m = metrics(&[("accuracy", None), ("exact_string_match_accuracy", Some(0.7))]);
        assert_eq!(select_score("boolq", &m), Some(0.7));
        let m = metrics(&[("accuracy", Some(f64::NAN)), ("exact_string_match_accuracy", Some(0.7))]);
        assert_eq!(select_score("boolq", &m), Some(0.7));
    }

    #[test]
    fn generation_tasks_use_f1() {
        let m = metrics(&[("accuracy", Some(0.5)), ("f1", Some(0.3))]);
        assert_eq!(select_score("coqa", &m), Some(0.3));
        assert_eq!(select_score("coqa", &metrics(&[("accuracy", Some(0.5))])), None);
    }

    #[test]
    fn missing_score_names_budget_and_metric() {
        let mut r = TaskResults::default();
        r.budgets.insert(0, metrics(&[("accuracy", Some(0.1))]));
        r.budgets.insert(50, metrics(&[("bleu", Some(0.1))]));
        let err = select_scores("boolq", &r).unwrap_err();
        assert_eq!(err, CurveError::MissingScore { budget: 50, expected: expected_metric("boolq") });
        assert!(err.to_string().contains("budget 50"), "{err}");
    }

    #[test]
    fn off_grid_budgets_are_dropped() {
        let mut r = TaskResults::default();
        for n in [0, 4, 32, 50, 4700, 5000, 10000] {
            r.budgets.insert(n, metrics(&[("accuracy", Some(f64::from(n)))]));
        }
        let kept: Vec<u32> = select_scores("x", &r).unwrap().iter().map(|p| p.0).collect();
        assert_eq!(kept, vec![0, 50, 4700, 5000]);
    }

    #[test]
    fn clean_fills_missing_budgets_with_zero_then_carries_maximum() {
        let cleaned = clean(&[(0, 0.4), (50, 0.3), (200, 0.6)]);
        let scores: Vec<f64> = cleaned.iter().map(|p| p.1).collect();
        // 100 is missing (0) and lies below the best so far (0.4), so it takes 0.4.
        assert_eq!(scores, vec![0.4, 0.4, 0.4, 0.6, 0.6, 0.6, 0.6, 0.6]);
    }

    #[test]
    fn degenerate_curve_is_an_error_not_nan() {
        let flat: Vec<(u32, f64)> = std::iter::once(0).chain(BUDGETS).map(|n| (n, 1.0)).collect();
        assert!(matches!(auc(&flat, Some(1.0)), Err(CurveError::Degenerate { .. })));
    }

    #[test]
    fn step_curve_has_known_area() {
        // Zero-shot 0, human level everywhere from 50 on: area = 1 - x(50).
        let pts: Vec<(u32, f64)> = std::iter::once((0, 0.0)).chain(BUDGETS.map(|n| (n, 1.0))).collect();
        let a = auc(&pts, Some(1.0)).unwrap().extrapolation_auc;
        let x50 = log2_position(50.0);
        assert!((a - (1.0 - x50 / 2.0)).abs() < 1e-15, "{a}");
    }

    #[test]
    fn position_and_budget_invert() {
        assert_eq!(log2_position(0.0), 0.0);
        assert_eq!(log2_position(1.0), 0.0);
        assert!((log2_position(5000.0) - 1.0).abs() < 1e-15);
        assert!((budget_at_position(log2_position(1234.0)) - 1234.0).abs() < 1e-9);
    }
}
