//! Shared by `curve_families`, `label_planner` and `cos_low_value`: the curve families of
//! `dataeff::curve_family` fitted to each published curve leave-one-task-out (on the other tasks
//! of its model family, never on the curve itself), and a simulated CoS-Low prediction: the true
//! AUC plus normal noise whose mean absolute value is the paper's headline error, drawn from a
//! fixed seed (the published data have no per-task CoS-Low to predict from). Curves without a
//! zero-shot score (a few) are judged like the others but never fitted on.

use anyhow::Context as _;
use dataeff::curve::BudgetGrid;
use dataeff::curve_family::{FamilyKind, FamilyModel, best_logistic_width};
use dataeff::planner::Hypotheses;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::baselines::HEADLINE_AUC_ERROR;
use crate::study::TaskCurve;

/// Seed of the simulated prediction errors.
pub const SIMULATION_SEED: u64 = 13;
/// Independent draws of the prediction error per curve; every mean is over curves × draws.
pub const REPLICATES: usize = 10;

/// σ of the simulated prediction error: a normal with mean absolute value
/// [`HEADLINE_AUC_ERROR`] has σ = 0.086 · √(π/2) ≈ 0.108. It is also the planner's prior spread.
pub fn paper_sigma() -> f64 {
    dataeff::predict::spread_from_mae(HEADLINE_AUC_ERROR)
}

/// The grid the published curves are measured on.
pub fn grid() -> BudgetGrid {
    BudgetGrid::paper()
}

/// One family fitted on the other tasks: the model, its planner hypotheses and its misfit there
/// (the planner's observation noise).
pub struct Fitted {
    pub model: FamilyModel,
    pub hypotheses: Hypotheses,
    pub noise: f64,
}

/// For each curve, each of [`FamilyKind::ALL`] fitted on the other tasks of the curve's family.
pub fn leave_one_task_out(curves: &[TaskCurve]) -> anyhow::Result<Vec<Vec<Fitted>>> {
    let grid = grid();
    let x = grid.positions();
    // Each curve's best logistic width, computed once (it does not depend on the held-out task).
    let widths: Vec<Option<f64>> = curves
        .iter()
        .map(|c| (c.normalised.x.len() == x.len()).then(|| best_logistic_width(&x, &c.normalised.y, c.summary.extrapolation_auc)))
        .collect();
    curves
        .iter()
        .map(|held_out| {
            let other_widths: Vec<f64> = curves
                .iter()
                .zip(&widths)
                .filter(|(c, _)| c.family == held_out.family && c.task != held_out.task)
                .filter_map(|(_, w)| *w)
                .collect();
            let others: Vec<(f64, &[f64])> = curves
                .iter()
                // A curve without a zero-shot score is not on the grid's positions: it is judged, but
                // no template or width is fitted on it.
                .filter(|c| c.family == held_out.family && c.task != held_out.task && c.normalised.x.len() == x.len())
                .map(|c| (c.summary.extrapolation_auc, c.normalised.y.as_slice()))
                .collect();
            FamilyKind::ALL
                .iter()
                .map(|&kind| {
                    let model = match kind {
                        FamilyKind::Logistic => FamilyModel::logistic(&grid, other_widths.clone()),
                        _ => FamilyModel::fit(kind, &grid, &others)
                            .with_context(|| format!("{kind} without {} {}", held_out.family, held_out.task))?,
                    };
                    let noise = model.misfit(&x, &others);
                    Ok(Fitted { hypotheses: Hypotheses::new(&model), model, noise })
                })
                .collect()
        })
        .collect()
}

/// The simulated CoS-Low prediction of every curve for draw `replicate`: the true AUC plus
/// N(0, [`paper_sigma`]), the same for every policy and family.
pub fn simulated_aucs(curves: &[TaskCurve], replicate: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(SIMULATION_SEED + replicate as u64);
    curves
        .iter()
        .map(|c| {
            // Box–Muller: one standard normal from two uniforms.
            let (u, v): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
            let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            c.summary.extrapolation_auc + paper_sigma() * z
        })
        .collect()
}
