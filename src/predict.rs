//! From CoS-Low to a predicted data-efficiency curve and budget (PAPER.md §5). Pure functions.
//!
//! `AUC' = c · CoS-Low + I`; curve `f(x) = x^p` with `p = (1 − AUC')/AUC'` on the normalised
//! log2 budget axis (its area over [0, 1] is exactly AUC'); budget for a target score `t`:
//! `x_t = t^(AUC'/(1 − AUC'))`, `n_t = 2^(x_t · log2 5000)`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::curve::{BudgetGrid, budget_at_position, log2_position};
use crate::family::Family;

/// A family's published line from CoS-Low to AUC, with the ± the paper reports.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Coefficients {
    /// `c`: AUC gained per unit of CoS-Low.
    pub slope: f64,
    pub slope_pm: f64,
    /// `I`: AUC at CoS-Low = 0.
    pub intercept: f64,
    pub intercept_pm: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    #[error("predicted AUC {0} is outside (0, 1): no curve x^p has that area")]
    AucOutOfRange(f64),
    #[error("target score {0} is outside (0, 1]")]
    TargetOutOfRange(f64),
    #[error("budget {0} is outside [1, 5000], the range the curve is defined on")]
    BudgetOutOfRange(f64),
    #[error("curve exponent {0} is not a finite number above 0: x^p has no area in (0, 1)")]
    ExponentOutOfRange(f64),
}

/// Labelled low-confidence examples CoS-Low needs (the paper's k).
pub const COSLOW_LABELS: usize = 32;

/// The paper's headline error of the predicted AUC (8.6%), read as a mean absolute error.
pub const PAPER_AUC_ERROR: f64 = 0.086;

/// `σ = MAE · √(π/2)`: the standard deviation of a normal error whose mean absolute value is `mae`
/// (how a reported mean absolute error becomes a prior's spread).
pub fn spread_from_mae(mae: f64) -> f64 {
    mae * (std::f64::consts::PI / 2.0).sqrt()
}

/// The paper's coefficient table (`data/coefficients.csv`, embedded at build time).
pub const PUBLISHED_COEFFICIENTS_CSV: &str = include_str!("../data/coefficients.csv");

#[derive(Deserialize)]
struct CoefficientRow {
    family: String,
    #[allow(dead_code)]
    model: String,
    #[serde(flatten)]
    coefficients: Coefficients,
}

/// The published coefficients of each family.
pub fn published_coefficients() -> BTreeMap<Family, Coefficients> {
    let mut reader = csv::Reader::from_reader(PUBLISHED_COEFFICIENTS_CSV.as_bytes());
    reader
        .deserialize::<CoefficientRow>()
        .map(|row| {
            let row = row.expect("data/coefficients.csv is well-formed (checked by a unit test)");
            let family = row.family.parse().expect("data/coefficients.csv names known families");
            (family, row.coefficients)
        })
        .collect()
}

/// `AUC' = c · CoS-Low + I`.
pub fn predicted_auc(coslow: f64, coefficients: &Coefficients) -> f64 {
    coefficients.slope * coslow + coefficients.intercept
}

fn check_auc(auc: f64) -> Result<f64, PredictError> {
    if auc > 0.0 && auc < 1.0 { Ok(auc) } else { Err(PredictError::AucOutOfRange(auc)) }
}

/// `p = (1 − AUC)/AUC`: the exponent of the curve `x^p` whose area on [0, 1] is `AUC`.
pub fn curve_exponent(auc: f64) -> Result<f64, PredictError> {
    let auc = check_auc(auc)?;
    Ok((1.0 - auc) / auc)
}

/// `AUC = 1/(1 + p)`: the area on [0, 1] under the curve `x^p`, the inverse of [`curve_exponent`].
pub fn curve_auc(exponent: f64) -> Result<f64, PredictError> {
    if exponent > 0.0 && exponent.is_finite() {
        Ok(1.0 / (1.0 + exponent))
    } else {
        Err(PredictError::ExponentOutOfRange(exponent))
    }
}

/// `f(x) = x^p`: the predicted normalised score at position `x ∈ [0, 1]` of the log2 budget axis.
pub fn predicted_score_at(x: f64, auc: f64) -> Result<f64, PredictError> {
    Ok(x.powf(curve_exponent(auc)?))
}

/// `x_t = t^(AUC/(1 − AUC))`: where on the log2 axis the curve reaches target `t`.
pub fn target_position(target: f64, auc: f64) -> Result<f64, PredictError> {
    if !(target > 0.0 && target <= 1.0) {
        return Err(PredictError::TargetOutOfRange(target));
    }
    Ok(target.powf(1.0 / curve_exponent(auc)?))
}

/// `n_t = 2^(x_t · log2 5000)`: the budget at which the predicted curve reaches target `t`.
pub fn budget_for_target(target: f64, auc: f64) -> Result<f64, PredictError> {
    Ok(budget_at_position(target_position(target, auc)?))
}

/// [`budget_for_target`] on `grid`'s log2 axis: `n_t = 2^(x_t · log2 n_max)`.
pub fn budget_for_target_on(grid: &BudgetGrid, target: f64, auc: f64) -> Result<f64, PredictError> {
    Ok(grid.budget_at(target_position(target, auc)?))
}

/// The inverse of [`budget_for_target`]: the normalised score the predicted curve reaches with
/// `budget` examples.
pub fn target_for_budget(budget: f64, auc: f64) -> Result<f64, PredictError> {
    if !(1.0..=5000.0).contains(&budget) {
        return Err(PredictError::BudgetOutOfRange(budget));
    }
    predicted_score_at(log2_position(budget), auc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_table_parses_with_three_families() {
        let c = published_coefficients();
        assert_eq!(c.len(), 3);
        assert_eq!(c[&Family::Llama].slope, 0.545);
        assert_eq!(c[&Family::Mistral].intercept, 0.357);
        assert_eq!(c[&Family::Qwen].slope_pm, 0.025);
    }

    #[test]
    fn authors_worked_example() {
        // CoS-Low 0.65 with (0.54, 0.31): AUC' = 0.661; t = 0.9 needs about 1,028 examples.
        let coef = Coefficients { slope: 0.54, slope_pm: 0.0, intercept: 0.31, intercept_pm: 0.0 };
        let auc = predicted_auc(0.65, &coef);
        assert!((auc - 0.661).abs() < 1e-12);
        let n = budget_for_target(0.9, auc).unwrap();
        assert!((n - 1028.0).abs() < 1.0, "{n}");
    }

    #[test]
    fn out_of_range_inputs_are_errors() {
        assert_eq!(curve_exponent(1.0), Err(PredictError::AucOutOfRange(1.0)));
        assert_eq!(curve_exponent(0.0), Err(PredictError::AucOutOfRange(0.0)));
        assert_eq!(curve_auc(0.0), Err(PredictError::ExponentOutOfRange(0.0)));
        assert_eq!(curve_auc(f64::INFINITY), Err(PredictError::ExponentOutOfRange(f64::INFINITY)));
        assert_eq!(target_position(0.0, 0.5), Err(PredictError::TargetOutOfRange(0.0)));
        assert_eq!(target_position(1.5, 0.5), Err(PredictError::TargetOutOfRange(1.5)));
        assert_eq!(target_for_budget(6000.0, 0.5), Err(PredictError::BudgetOutOfRange(6000.0)));
    }

    #[test]
    fn target_one_needs_the_full_budget() {
        assert!((budget_for_target(1.0, 0.3).unwrap() - 5000.0).abs() < 1e-9);
        let grid = BudgetGrid::new([16, 512]).unwrap();
        assert!((budget_for_target_on(&grid, 1.0, 0.3).unwrap() - 512.0).abs() < 1e-9);
        assert_eq!(budget_for_target_on(&BudgetGrid::paper(), 0.9, 0.661), budget_for_target(0.9, 0.661));
    }
}
