//! How much of a measured curve is the test set's own sampling noise: the standard error of a
//! curve's AUC, by a seeded bootstrap over the test examples, and the two warnings a reader needs
//! before trusting a task in a correlation — a *flat* curve (its best score is not above its
//! zero-shot score by more than the noise: the model never learnt the task within the budgets)
//! and a *noisy* one (the AUC's standard error is as large as the differences being explained).
//! Pure; the test scores come in as numbers.
//!
//! Every budget of a curve is scored on the same test examples, so one bootstrap resample draws
//! example indices once and uses them at every budget (the budgets' noise is correlated, and the
//! normalisation by zero-shot and best score is redone per resample).

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use crate::curve::BudgetGrid;
use crate::stats::sample_sd;

/// Bootstrap resamples of the test set, and their seed (fixed: a report is deterministic).
pub const RESAMPLES: usize = 1000;
pub const SEED: u64 = 48_151_623;
/// A curve is flat when its rise (best score − zero-shot) is under this many standard errors.
pub const FLAT_SIGMAS: f64 = 2.0;
/// A curve is noisy when its AUC's standard error is at least this (the paper's whole
/// prediction error is 0.086).
pub const NOISY_AUC_SE: f64 = 0.1;

/// One budget of a curve: the per-example test scores, in test-example order (the same
/// examples at every budget of the curve).
pub type BudgetScores = (u32, Vec<f64>);

/// Mean of `scores` at the resampled `indices`.
fn resampled_mean(scores: &[f64], indices: &[usize]) -> f64 {
    indices.iter().map(|&i| scores[i]).sum::<f64>() / indices.len() as f64
}

/// The test examples every budget of `curve` shares (`None`: none, or the budgets disagree).
fn examples(curve: &[BudgetScores]) -> Option<usize> {
    let n = curve.first()?.1.len();
    (n > 0 && curve.iter().all(|(_, s)| s.len() == n)).then_some(n)
}

/// The standard error of the curve's AUC on `grid` (ceiling `human_level` as in
/// [`BudgetGrid::auc`]) from the test set alone: the SD of the AUC over [`RESAMPLES`] bootstrap
/// resamples of the test examples. `None` when the budgets do not share one non-empty test set
/// or fewer than two resamples have an AUC (e.g. a curve flat in every resample).
pub fn auc_standard_error(grid: &BudgetGrid, curve: &[BudgetScores], human_level: Option<f64>, resamples: usize, seed: u64) -> Option<f64> {
    let n = examples(curve)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut indices = vec![0; n];
    let mut aucs = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        indices.iter_mut().for_each(|i| *i = rng.random_range(0..n));
        let points: Vec<(u32, f64)> = curve.iter().map(|(b, s)| (*b, resampled_mean(s, &indices))).collect();
        if let Ok(summary) = grid.auc(&points, human_level) {
            aucs.push(summary.extrapolation_auc);
        }
    }
    (aucs.len() >= 2).then(|| sample_sd(&aucs))
}

/// The standard error of each budget's mean score (SD of the per-example scores / √n).
pub fn point_standard_errors(curve: &[BudgetScores]) -> Vec<(u32, f64)> {
    curve.iter().map(|(b, s)| (*b, sample_sd(s) / (s.len() as f64).sqrt())).collect()
}

/// How far the curve's best fine-tuned score rises above its zero-shot score, with the paired
/// standard error of that difference (same test examples at both budgets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rise {
    /// The budget with the best mean score (> 0), the rise, and its standard error.
    pub best_budget: u32,
    pub rise: f64,
    pub se: f64,
}

/// The [`Rise`] of a curve with a budget 0 and at least one fine-tuning budget.
pub fn rise(curve: &[BudgetScores]) -> Option<Rise> {
    let n = examples(curve)?;
    let zero = &curve.iter().find(|(b, _)| *b == 0)?.1;
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let (best_budget, best) = curve.iter().filter(|(b, _)| *b > 0).max_by(|a, b| mean(&a.1).total_cmp(&mean(&b.1)))?;
    let differences: Vec<f64> = best.iter().zip(zero).map(|(b, z)| b - z).collect();
    let se = if n > 1 { sample_sd(&differences) / (n as f64).sqrt() } else { f64::NAN };
    Some(Rise { best_budget: *best_budget, rise: mean(best) - mean(zero), se })
}

/// A warning on a measured curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurveFlag {
    /// The best score is not [`FLAT_SIGMAS`] standard errors above zero-shot.
    Flat,
    /// The AUC's test-set standard error is at least [`NOISY_AUC_SE`].
    Noisy,
}

impl CurveFlag {
    pub fn name(self) -> &'static str {
        match self {
            CurveFlag::Flat => "flat",
            CurveFlag::Noisy => "noisy",
        }
    }
}

/// The warnings on a curve with this rise and AUC standard error (unknown ones raise none).
pub fn flags(rise: Option<Rise>, auc_se: Option<f64>) -> Vec<CurveFlag> {
    let mut out = Vec::new();
    if rise.is_some_and(|r| !(r.rise > FLAT_SIGMAS * r.se.max(0.0))) {
        out.push(CurveFlag::Flat);
    }
    if auc_se.is_some_and(|se| se >= NOISY_AUC_SE) {
        out.push(CurveFlag::Noisy);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> BudgetGrid {
        BudgetGrid::new(vec![16, 32, 64]).unwrap()
    }

    /// A 0/1 score vector of `n` examples with the first `k` right.
    fn hits(k: usize, n: usize) -> Vec<f64> {
        (0..n).map(|i| if i < k { 1.0 } else { 0.0 }).collect()
    }

    #[test]
    fn more_test_examples_shrink_the_auc_standard_error() {
        let curve = |n: usize| vec![(0, hits(n / 4, n)), (16, hits(n / 2, n)), (32, hits(n * 5 / 8, n)), (64, hits(n * 3 / 4, n))];
        let small = auc_standard_error(&grid(), &curve(48), None, RESAMPLES, SEED).unwrap();
        let large = auc_standard_error(&grid(), &curve(480), None, RESAMPLES, SEED).unwrap();
        assert!(small > 0.0 && large < small / 2.0, "{small} {large}");
        assert_eq!(Some(small), auc_standard_error(&grid(), &curve(48), None, RESAMPLES, SEED), "seeded");
    }

    #[test]
    fn a_curve_without_one_shared_test_set_has_no_standard_error() {
        assert_eq!(auc_standard_error(&grid(), &[(0, hits(1, 4)), (16, hits(2, 5))], None, 10, 1), None);
        assert_eq!(rise(&[(0, vec![]), (16, vec![])]), None);
    }

    #[test]
    fn flat_and_noisy_flags() {
        let n = 48;
        // Same examples right at every budget: no rise at all.
        let flat = vec![(0, hits(24, n)), (16, hits(24, n)), (32, hits(24, n))];
        let r = rise(&flat).unwrap();
        assert_eq!((r.rise, r.se), (0.0, 0.0));
        assert_eq!(flags(Some(r), Some(0.0)), vec![CurveFlag::Flat]);
        // A rise of 24 examples of 48: far above the noise.
        let steep = vec![(0, hits(0, n)), (16, hits(24, n)), (32, hits(12, n))];
        let r = rise(&steep).unwrap();
        assert_eq!((r.best_budget, r.rise), (16, 0.5));
        assert!(flags(Some(r), Some(0.02)).is_empty());
        assert_eq!(flags(Some(r), Some(NOISY_AUC_SE)), vec![CurveFlag::Noisy]);
        assert!(flags(None, None).is_empty());
    }

    #[test]
    fn point_errors_are_the_binomial_ones_for_hits() {
        let se = point_standard_errors(&[(0, hits(2, 4))]);
        // SD of 1,1,0,0 (n − 1) = √(1/3); / √4.
        assert!((se[0].1 - (1.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
    }
}
