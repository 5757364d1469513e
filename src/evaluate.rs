//! How a data-efficiency prediction is scored: defined once, used by every experiment.
//!
//! - AUC absolute error `|AUĈ − AUC|` and relative error `|AUĈ − AUC| / AUC`;
//! - budget error `|log2(n̂ / n)|` at a target: 1 means off by a factor of two either way.
//!   A prediction that the target is not reached within the largest budget counts as that
//!   budget ([`crate::curve::MAX_BUDGET`]); where the real curve never reaches the target the
//!   budget error is undefined (`None`) and such cases are counted, not averaged.

use crate::curve::MAX_BUDGET;

pub fn auc_absolute_error(predicted: f64, actual: f64) -> f64 {
    (predicted - actual).abs()
}

pub fn auc_relative_error(predicted: f64, actual: f64) -> f64 {
    (predicted - actual).abs() / actual
}

/// `|log2(predicted / actual)|`, `None` when the real curve never reaches the target.
pub fn budget_error(predicted: Option<f64>, actual: Option<f64>) -> Option<f64> {
    budget_error_within(MAX_BUDGET, predicted, actual)
}

/// [`budget_error`] on a grid whose largest budget is `max_budget` (a prediction of "not reached"
/// counts as that budget).
pub fn budget_error_within(max_budget: u32, predicted: Option<f64>, actual: Option<f64>) -> Option<f64> {
    let actual = actual?;
    let predicted = predicted.unwrap_or(f64::from(max_budget));
    // Budgets below one example sit at the zero-shot end of the log axis: compare from 1.
    Some((predicted.max(1.0) / actual.max(1.0)).log2().abs())
}

/// Mean, median and share within a factor of two of a set of budget errors, plus the count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorSummary {
    pub n: usize,
    pub mean: f64,
    pub median: f64,
    /// Share of errors ≤ 1 (prediction within a factor of two).
    pub within_factor_two: f64,
}

/// Summarise errors (NaN statistics for an empty set).
pub fn summarise(errors: &[f64]) -> ErrorSummary {
    let mut sorted = errors.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    ErrorSummary {
        n,
        mean: sorted.iter().sum::<f64>() / n as f64,
        median,
        within_factor_two: sorted.iter().filter(|e| **e <= 1.0).count() as f64 / n as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_error_is_symmetric_in_log2() {
        assert_eq!(budget_error(Some(200.0), Some(100.0)), Some(1.0));
        assert_eq!(budget_error(Some(50.0), Some(100.0)), Some(1.0));
        assert_eq!(budget_error(None, Some(2500.0)), Some(1.0));
        assert_eq!(budget_error(Some(100.0), None), None);
        assert_eq!(budget_error_within(512, None, Some(128.0)), Some(2.0));
    }

    #[test]
    fn summary_of_known_errors() {
        let s = summarise(&[0.5, 2.0, 1.0, 0.0]);
        assert_eq!((s.n, s.mean, s.median, s.within_factor_two), (4, 0.875, 0.75, 0.75));
        assert!((auc_relative_error(0.55, 0.5) - 0.1).abs() < 1e-12);
    }
}
