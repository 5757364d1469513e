//! Reading and extrapolating learning curves on the paper's normalised axes (pure functions).
//!
//! - [`budget_to_reach`]: the budget at which a measured (cleaned, non-decreasing) curve first
//!   reaches a target score, interpolating linearly on the log2 budget axis between measured budgets.
//! - [`fit_power_law`]: the classic learning-curve fit `y(n) = a − b·(n + 1)^(−c)` (the `+1` lets the
//!   zero-shot point take part), least squares by variable projection: for a fixed `c` the model is
//!   linear in `(a, b)`, so only `c` is searched (grid, then Brent's method from argmin).
//! - [`fit_curve_exponent`]: the paper's one-parameter family `y = x^p` fitted to observed points.

use argmin::core::{CostFunction, Executor};
use argmin::solver::brent::BrentOpt;

use crate::curve::{BudgetGrid, log2_position};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("need at least {needed} points to fit, got {got}")]
    TooFewPoints { needed: usize, got: usize },
    #[error("the optimiser failed: {0}")]
    Optimiser(String),
}

/// Budget at which the curve `(x, y)` (x on the log2 axis, y non-decreasing) first reaches
/// `target`, interpolated linearly in x between the two measured points that bracket it.
/// `None` when the curve never reaches the target (within its last budget).
pub fn budget_to_reach(x: &[f64], y: &[f64], target: f64) -> Option<f64> {
    budget_to_reach_on(&BudgetGrid::paper(), x, y, target)
}

/// [`budget_to_reach`] for a curve whose x is on `grid`'s log2 axis (`None`: not within `grid`'s
/// largest budget).
pub fn budget_to_reach_on(grid: &BudgetGrid, x: &[f64], y: &[f64], target: f64) -> Option<f64> {
    let i = y.iter().position(|&v| v >= target)?;
    if i == 0 {
        return Some(if x[0] <= 0.0 { 0.0 } else { grid.budget_at(x[0]) });
    }
    let (x0, x1, y0, y1) = (x[i - 1], x[i], y[i - 1], y[i]);
    let xt = x0 + (target - y0) / (y1 - y0) * (x1 - x0);
    Some(grid.budget_at(xt))
}

/// `y(n) = a − b·(n + 1)^(−c)`: `a` is the asymptote, `b` the gap at n = 0, `c` the decay rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerLaw {
    pub a: f64,
    pub b: f64,
    pub c: f64,
}

impl PowerLaw {
    pub fn at(&self, n: f64) -> f64 {
        self.a - self.b * (n + 1.0).powf(-self.c)
    }
}

/// Range of the decay rate searched by [`fit_power_law`].
pub const POWER_LAW_C_RANGE: (f64, f64) = (1e-3, 4.0);

/// Best `(a, b)` and squared error for a fixed `c` (ordinary least squares of y on −(n+1)^(−c)).
fn power_law_given_c(points: &[(f64, f64)], c: f64) -> (PowerLaw, f64) {
    let g: Vec<f64> = points.iter().map(|(n, _)| -(n + 1.0).powf(-c)).collect();
    let y: Vec<f64> = points.iter().map(|p| p.1).collect();
    let k = points.len() as f64;
    let (mg, my) = (g.iter().sum::<f64>() / k, y.iter().sum::<f64>() / k);
    let sgg: f64 = g.iter().map(|v| (v - mg).powi(2)).sum();
    let sgy: f64 = g.iter().zip(&y).map(|(u, v)| (u - mg) * (v - my)).sum();
    let b = if sgg > 0.0 { sgy / sgg } else { 0.0 };
    let law = PowerLaw { a: my - b * mg, b, c };
    let sse = points.iter().map(|(n, v)| (v - law.at(*n)).powi(2)).sum();
    (law, sse)
}

struct PowerLawCost<'a>(&'a [(f64, f64)]);

impl CostFunction for PowerLawCost<'_> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, c: &f64) -> Result<f64, argmin::core::Error> {
        Ok(power_law_given_c(self.0, *c).1)
    }
}

/// Least-squares fit of `y(n) = a − b·(n + 1)^(−c)` to `(n, y)` points (at least 3).
pub fn fit_power_law(points: &[(f64, f64)]) -> Result<PowerLaw, FitError> {
    if points.len() < 3 {
        return Err(FitError::TooFewPoints { needed: 3, got: points.len() });
    }
    let (lo, hi) = POWER_LAW_C_RANGE;
    // A log-spaced grid brackets the global minimum; Brent's method then refines inside the bracket.
    let grid: Vec<f64> = (0..=200).map(|i| lo * (hi / lo).powf(f64::from(i) / 200.0)).collect();
    let best = (0..grid.len())
        .min_by(|&i, &j| power_law_given_c(points, grid[i]).1.total_cmp(&power_law_given_c(points, grid[j]).1))
        .expect("non-empty grid");
    let (left, right) = (grid[best.saturating_sub(1)], grid[(best + 1).min(grid.len() - 1)]);
    let solver = BrentOpt::new(left, right).set_tolerance(1e-12, 1e-14);
    let result = Executor::new(PowerLawCost(points), solver)
        .configure(|state| state.max_iters(200))
        .run()
        .map_err(|e| FitError::Optimiser(e.to_string()))?;
    let c = result.state().best_param.unwrap_or(grid[best]);
    let (refined, sse) = power_law_given_c(points, c);
    let (coarse, coarse_sse) = power_law_given_c(points, grid[best]);
    Ok(if sse <= coarse_sse { refined } else { coarse })
}

/// Range of the exponent searched by [`fit_curve_exponent`] (AUC from 1/101 to 100/101).
pub const EXPONENT_RANGE: (f64, f64) = (0.01, 100.0);

struct ExponentCost<'a>(&'a [(f64, f64)]);

impl CostFunction for ExponentCost<'_> {
    type Param = f64;
    type Output = f64;
    /// Parameterised by ln p, so that the search treats p and 1/p alike.
    fn cost(&self, log_p: &f64) -> Result<f64, argmin::core::Error> {
        let p = log_p.exp();
        Ok(self.0.iter().map(|(x, y)| (y - x.powf(p)).powi(2)).sum())
    }
}

/// Least-squares `p` of `y = x^p` through observed normalised points `(x, y)` with `x ∈ (0, 1]`
/// (points at x = 0 carry no information about p and are ignored). At least one point is needed.
pub fn fit_curve_exponent(points: &[(f64, f64)]) -> Result<f64, FitError> {
    let informative: Vec<(f64, f64)> = points.iter().copied().filter(|(x, _)| *x > 0.0).collect();
    if informative.is_empty() {
        return Err(FitError::TooFewPoints { needed: 1, got: 0 });
    }
    let (lo, hi) = (EXPONENT_RANGE.0.ln(), EXPONENT_RANGE.1.ln());
    let cost = ExponentCost(&informative);
    let grid: Vec<f64> = (0..=200).map(|i| lo + (hi - lo) * f64::from(i) / 200.0).collect();
    let best = (0..grid.len())
        .min_by(|&i, &j| cost.cost(&grid[i]).unwrap().total_cmp(&cost.cost(&grid[j]).unwrap()))
        .expect("non-empty grid");
    let (left, right) = (grid[best.saturating_sub(1)], grid[(best + 1).min(grid.len() - 1)]);
    let solver = BrentOpt::new(left, right).set_tolerance(1e-12, 1e-14);
    let result = Executor::new(ExponentCost(&informative), solver)
        .configure(|state| state.max_iters(200))
        .run()
        .map_err(|e| FitError::Optimiser(e.to_string()))?;
    let log_p = result.state().best_param.unwrap_or(grid[best]);
    Ok(log_p.exp())
}

/// Normalised score of the curve `(x, y)` at `budget`, interpolated on the log2 axis (held
/// constant beyond the last point, 0 before the first).
pub fn score_at_budget(x: &[f64], y: &[f64], budget: f64) -> f64 {
    let xb = log2_position(budget);
    match x.iter().position(|&v| v >= xb) {
        None => *y.last().unwrap_or(&0.0),
        Some(0) => if xb >= x[0] { y[0] } else { 0.0 },
        Some(i) => y[i - 1] + (xb - x[i - 1]) / (x[i] - x[i - 1]) * (y[i] - y[i - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_interpolated_on_the_log_axis() {
        let x = [0.0, log2_position(50.0), log2_position(100.0)];
        let y = [0.0, 0.4, 0.8];
        // Halfway (in log2) between 50 and 100 is sqrt(50·100).
        let n = budget_to_reach(&x, &y, 0.6).unwrap();
        assert!((n - (5000f64).sqrt()).abs() < 1e-9, "{n}");
        assert_eq!(budget_to_reach(&x, &y, 0.9), None);
        // On a grid up to 512, halfway between 16 and 64 is 32.
        let grid = BudgetGrid::new([16, 64, 512]).unwrap();
        let (gx, gy) = ([0.0, grid.position(16.0), grid.position(64.0)], [0.0, 0.4, 0.8]);
        assert!((budget_to_reach_on(&grid, &gx, &gy, 0.6).unwrap() - 32.0).abs() < 1e-9);
        assert!((budget_to_reach(&x, &y, 0.8).unwrap() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn power_law_fit_needs_three_points() {
        assert_eq!(fit_power_law(&[(0.0, 0.1), (50.0, 0.3)]), Err(FitError::TooFewPoints { needed: 3, got: 2 }));
    }

    #[test]
    fn exponent_fit_recovers_a_square() {
        let pts: Vec<(f64, f64)> = [0.2, 0.5, 0.9].iter().map(|&x: &f64| (x, x * x)).collect();
        assert!((fit_curve_exponent(&pts).unwrap() - 2.0).abs() < 1e-6);
        assert!(fit_curve_exponent(&[(0.0, 0.0)]).is_err());
    }

    #[test]
    fn score_at_budget_interpolates_and_holds_at_the_ends() {
        let x = [0.0, log2_position(50.0), 1.0];
        let y = [0.0, 0.5, 1.0];
        assert!((score_at_budget(&x, &y, 50.0) - 0.5).abs() < 1e-12);
        assert!((score_at_budget(&x, &y, 5000.0) - 1.0).abs() < 1e-12);
        assert!((score_at_budget(&x, &y, 9000.0) - 1.0).abs() < 1e-12);
        assert!((score_at_budget(&x, &y, 0.0)).abs() < 1e-12);
    }
}
