//! Shared by `curve_families`, `label_planner` and `cos_low_value`: the curve families of
//! `dataeff::curve_family` fitted to each published curve leave-one-task-out (on the other tasks
//! of its model family, never on the curve itself), and a simulated CoS-Low prediction: the true
//! AUC plus normal noise whose mean absolute value is the paper's headline error, drawn from a
//! fixed seed (the published data have no per-task CoS-Low to predict from). Curves without a
//! zero-shot score (a few) are judged like the others but never fitted on.

use anyhow::Context as _;
use dataeff::curve::BudgetGrid;
use dataeff::curve_family::{FamilyKind, FamilyModel, best_logistic_width};
use dataeff::annotation::{Spend, one_shot};
use dataeff::curve::MAX_BUDGET;
use dataeff::learning_curve::score_at_budget;
use dataeff::planner::{Belief, Hypotheses, PlanSettings, Prior, simulate};
use dataeff::predict::COSLOW_LABELS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::baselines::{HEADLINE_AUC_ERROR, TARGETS, actual_budgets};
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
                    Ok(Fitted { hypotheses: Hypotheses::new(&model).precompute(&grid, &TARGETS), model, noise })
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

/// `kind` of the curve's fitted families.
pub fn fitted(fits: &[Fitted], kind: FamilyKind) -> &Fitted {
    &fits[FamilyKind::ALL.iter().position(|&k| k == kind).expect("every family is fitted")]
}

/// The budget `kind` gives target index `i` from `auc` (clamped into the family's range; `None`:
/// not within the largest budget).
pub fn family_budget(fits: &[Fitted], kind: FamilyKind, auc: f64, i: usize) -> Option<f64> {
    fitted(fits, kind).model.curve_clamped(auc).budget_for(TARGETS[i], &grid())
}

/// A one-shot budget from `kind` at `auc`: CoS-Low's labels, the predicted budget, doubling on
/// from there when it falls short.
pub fn one_shot_spend(c: &TaskCurve, fits: &[Fitted], kind: FamilyKind, auc: f64, i: usize) -> Spend {
    let predicted = family_budget(fits, kind, auc, i).unwrap_or(f64::from(MAX_BUDGET));
    one_shot(predicted, actual_budgets(c)[i], COSLOW_LABELS as f64)
}

/// The planner with `kind` on curve `c` for target index `i`, from the prediction `auc` with the
/// paper's spread: CoS-Low's labels, then the rounds it proposes, each read off the measured curve.
pub fn planner_spend(c: &TaskCurve, fits: &[Fitted], kind: FamilyKind, auc: f64, i: usize, settings: PlanSettings) -> anyhow::Result<Spend> {
    let grid = grid();
    let f = fitted(fits, kind);
    let belief = Belief::new(&f.hypotheses, Prior { auc, spread: paper_sigma() }, f.noise)?;
    let need = actual_budgets(c)[i];
    let run = simulate(&belief, &grid, TARGETS[i], need, |n| score_at_budget(&c.normalised.x, &c.normalised.y, n), settings)?;
    Ok(Spend { labels: COSLOW_LABELS as f64 + run.budget, rounds: run.rounds, reached: run.reached })
}
