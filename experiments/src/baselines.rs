//! Shared by the beyond-the-paper experiments: for one published curve, the budget its real curve
//! needs for each target and what each predictor says (the paper's `x^p` from an AUC, a power-law
//! extrapolation and an `x^p` fit from the first few measured budgets).

use anyhow::Context as _;
use dataeff::curve::{BUDGETS, carry_running_maximum, trapezoid};
use dataeff::learning_curve::{budget_to_reach, fit_curve_exponent, fit_power_law};
use dataeff::predict::{budget_for_target, curve_auc};

use crate::study::TaskCurve;

/// Target normalised scores evaluated (fractions of the way from zero-shot to human level).
pub const TARGETS: [f64; 4] = [0.5, 0.7, 0.8, 0.9];
/// Extrapolation sees the zero-shot point and the first `m` fine-tuning budgets.
pub const OBSERVED_ROUNDS: [usize; 3] = [2, 3, 4];
/// The paper's headline error, read as an absolute AUC error.
pub const HEADLINE_AUC_ERROR: f64 = 0.086;

/// A predicted AUC and the budget it implies for each of [`TARGETS`] (`None`: not within 5000).
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub auc: f64,
    pub budgets: Vec<Option<f64>>,
    /// Labels spent to make the prediction.
    pub labels: f64,
}

/// The budget the real (cleaned) curve needs for each target.
pub fn actual_budgets(c: &TaskCurve) -> Vec<Option<f64>> {
    TARGETS.iter().map(|&t| budget_to_reach(&c.normalised.x, &c.normalised.y, t)).collect()
}

/// The paper's curve `x^p` from an AUC (clamped into (0, 1)).
pub fn from_auc(auc: f64, labels: f64) -> Prediction {
    let auc = auc.clamp(1e-3, 1.0 - 1e-3);
    let budgets = TARGETS.iter().map(|&t| budget_for_target(t, auc).ok()).collect();
    Prediction { auc, budgets, labels }
}

/// Labels spent when the first `m` budgets have been annotated (the subsets are nested).
pub fn labels_for_rounds(m: usize) -> f64 {
    f64::from(BUDGETS[m - 1])
}

/// Indices of the curve's points that are observed after `m` rounds.
fn observed(c: &TaskCurve, m: usize) -> usize {
    let last = BUDGETS[m - 1];
    c.normalised.budgets.iter().take_while(|&&n| n <= last).count()
}

/// Fit `a − b·(n+1)^(−c)` to the normalised points of the first `m` rounds (zero-shot included),
/// predict the unobserved budgets (clamped to [0, 1], running maximum as for a real curve), and
/// read AUC and budgets off the completed curve.
pub fn power_law_extrapolation(c: &TaskCurve, m: usize) -> anyhow::Result<Prediction> {
    let k = observed(c, m);
    let pts: Vec<(f64, f64)> =
        c.normalised.budgets[..k].iter().zip(&c.normalised.y[..k]).map(|(&n, &y)| (f64::from(n), y)).collect();
    let law = fit_power_law(&pts).with_context(|| format!("power law on {} {}", c.family, c.task))?;
    let mut y: Vec<f64> = c.normalised.y[..k].to_vec();
    for &n in &c.normalised.budgets[k..] {
        y.push(law.at(f64::from(n)).clamp(0.0, 1.0));
    }
    carry_running_maximum(&mut y);
    let budgets = TARGETS.iter().map(|&t| budget_to_reach(&c.normalised.x, &y, t)).collect();
    Ok(Prediction { auc: trapezoid(&c.normalised.x, &y), budgets, labels: labels_for_rounds(m) })
}

/// Fit the paper's `x^p` to the normalised points of the first `m` rounds.
pub fn exponent_extrapolation(c: &TaskCurve, m: usize) -> anyhow::Result<Prediction> {
    let k = observed(c, m);
    let pts: Vec<(f64, f64)> = c.normalised.x[..k].iter().copied().zip(c.normalised.y[..k].iter().copied()).collect();
    let p = fit_curve_exponent(&pts).with_context(|| format!("x^p on {} {}", c.family, c.task))?;
    Ok(from_auc(curve_auc(p)?, labels_for_rounds(m)))
}
