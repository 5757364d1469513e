//! Curve families beyond the paper's `x^p` (issue 13). Each is driven by an AUC, so that a CoS-Low
//! prediction can feed it, and lives on the normalised axes of PAPER.md §2 (x on the log2 budget
//! axis of a [`BudgetGrid`], y from zero-shot 0 to ceiling 1). Pure functions.
//!
//! - [`FamilyKind::Power`]: the paper's `x^p`, continuous, area exactly the AUC (`predict`).
//! - [`FamilyKind::Template`]: the mean normalised shape of other tasks' curves on the grid,
//!   warped `y ↦ y^q` (monotone, keeps 0 and 1) with `q` chosen so that its trapezoid area is the AUC.
//! - [`FamilyKind::Logistic`]: a logistic in log budget that starts at 0 at zero-shot,
//!   `f(x) = 1 − σ((m − x)/s) / σ(m/s)`, sampled on the grid; the width `s` comes from other
//!   tasks (the median of each one's best width), the midpoint `m` is chosen for the AUC.
//!
//! The template and the logistic are *sampled* curves: piecewise linear between the grid's
//! positions, exactly as a measured curve is read (its AUC by the trapezoid, the budget for a target
//! by linear interpolation on the log2 axis), so that "area = AUC" means the AUC a measurement of
//! that curve would give.

use std::str::FromStr;

use crate::curve::{BudgetGrid, trapezoid};
use crate::predict::{PredictError, predicted_score_at, target_position};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FamilyError {
    #[error("AUC {auc} is outside [{low:.4}, {high:.4}], the areas a {family} curve can have")]
    AucOutOfReach { family: &'static str, auc: f64, low: f64, high: f64 },
    #[error(transparent)]
    Predict(#[from] PredictError),
    #[error("no curves to build a {0} from")]
    NoCurves(&'static str),
    #[error("curve {index} has {got} points, expected {expected} (zero-shot plus one per grid budget)")]
    WrongLength { index: usize, got: usize, expected: usize },
    #[error("curve {index} has a score {value} outside [0, 1] at point {point}")]
    ScoreOutOfRange { index: usize, point: usize, value: f64 },
}

/// The curve families, by the names the command line uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FamilyKind {
    Power,
    Template,
    Logistic,
}

impl FamilyKind {
    pub const ALL: [FamilyKind; 3] = [FamilyKind::Power, FamilyKind::Template, FamilyKind::Logistic];

    /// `xp`, `template`, `logistic`.
    pub fn name(self) -> &'static str {
        match self {
            FamilyKind::Power => "xp",
            FamilyKind::Template => "template",
            FamilyKind::Logistic => "logistic",
        }
    }

    /// How the family is written in prose.
    pub fn describe(self) -> &'static str {
        match self {
            FamilyKind::Power => "x^p",
            FamilyKind::Template => "template",
            FamilyKind::Logistic => "logistic",
        }
    }
}

impl std::fmt::Display for FamilyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FamilyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FamilyKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown curve family `{s}`: expected one of xp, template, logistic"))
    }
}

/// One curve on the normalised axes.
#[derive(Clone, Debug, PartialEq)]
pub enum Curve {
    /// The paper's `x^p` with the area `auc`.
    Power { auc: f64 },
    /// Piecewise linear through `(x, y)`: x increasing from 0, y non-decreasing in [0, 1].
    Sampled { x: Vec<f64>, y: Vec<f64> },
}

impl Curve {
    /// The normalised score at position `x ∈ [0, 1]` (a sampled curve is held beyond its last point).
    pub fn score_at(&self, x: f64) -> f64 {
        match self {
            Curve::Power { auc } => predicted_score_at(x.clamp(0.0, 1.0), *auc).unwrap_or(f64::NAN),
            Curve::Sampled { x: xs, y } => match xs.iter().position(|&v| v >= x) {
                None => *y.last().unwrap_or(&0.0),
                Some(0) => y[0],
                Some(i) => y[i - 1] + (x - xs[i - 1]) / (xs[i] - xs[i - 1]) * (y[i] - y[i - 1]),
            },
        }
    }

    /// The area over [0, 1] (the trapezoid for a sampled curve, as for a measured one).
    pub fn area(&self) -> f64 {
        match self {
            Curve::Power { auc } => *auc,
            Curve::Sampled { x, y } => trapezoid(x, y),
        }
    }

    /// The first position at which the curve reaches `target` (`None`: not within x ≤ 1).
    pub fn position_for(&self, target: f64) -> Option<f64> {
        match self {
            Curve::Power { auc } => target_position(target, *auc).ok(),
            Curve::Sampled { x, y } => {
                let i = y.iter().position(|&v| v >= target)?;
                if i == 0 {
                    return Some(x[0]);
                }
                Some(x[i - 1] + (target - y[i - 1]) / (y[i] - y[i - 1]) * (x[i] - x[i - 1]))
            }
        }
    }

    /// The budget at which the curve reaches `target` on `grid`'s axis (`None`: not within its
    /// largest budget). A target met at zero-shot needs 0 examples.
    pub fn budget_for(&self, target: f64, grid: &BudgetGrid) -> Option<f64> {
        let x = self.position_for(target)?;
        Some(if x <= 0.0 { 0.0 } else { grid.budget_at(x) })
    }

    /// The normalised score the curve gives `budget` examples on `grid`'s axis.
    pub fn score_for(&self, budget: f64, grid: &BudgetGrid) -> f64 {
        if budget <= 0.0 { self.score_at(0.0) } else { self.score_at(grid.position(budget).min(1.0)) }
    }
}

/// Bisection of a decreasing function `area(u)` on `[lo, hi]` for `area(u) = target` (64 steps:
/// below 1e-17 of the brackets used here).
fn solve_decreasing(mut lo: f64, mut hi: f64, target: f64, area: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..64 {
        let mid = 0.5 * (lo + hi);
        if area(mid) > target { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// The mean normalised shape of a set of curves on one grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// The AUC every curve is warped to before the template averages them.
pub const REGISTRATION_AUC: f64 = 0.5;

/// `ln q` range of the template's warp `y^q` (q from e^-30 to e^30: every reachable area).
const WARP_LOG_RANGE: (f64, f64) = (-30.0, 30.0);

impl Template {
    /// The pointwise mean of `curves`, each given by its y at `x` (the grid's [`BudgetGrid::positions`]).
    pub fn mean_of(x: &[f64], curves: &[&[f64]]) -> Result<Template, FamilyError> {
        if curves.is_empty() {
            return Err(FamilyError::NoCurves("template"));
        }
        check_curves(x, curves)?;
        let y = (0..x.len()).map(|i| curves.iter().map(|c| c[i]).sum::<f64>() / curves.len() as f64).collect();
        Ok(Template { x: x.to_vec(), y })
    }

    /// The pointwise mean of `curves` after each is warped (`y^q`) to the area `common`: shapes
    /// registered to one AUC before they are averaged, so that a steep and a slow curve do not
    /// average into a flat one. Curves that cannot reach `common` are taken at their nearest area.
    pub fn registered_mean_of(x: &[f64], curves: &[&[f64]], common: f64) -> Result<Template, FamilyError> {
        if curves.is_empty() {
            return Err(FamilyError::NoCurves("template"));
        }
        check_curves(x, curves)?;
        let warped: Vec<Vec<f64>> = curves
            .iter()
            .map(|c| {
                let own = Template { x: x.to_vec(), y: c.to_vec() };
                let (lo, hi) = own.auc_range();
                let q = own.warp_for(common.clamp(lo, hi)).expect("an area clamped into range is reachable");
                c.iter().map(|v| v.powf(q)).collect()
            })
            .collect();
        let rows: Vec<&[f64]> = warped.iter().map(Vec::as_slice).collect();
        Template::mean_of(x, &rows)
    }

    /// `y ↦ y^q` at every point: monotone, keeps 0 and 1, area decreasing in `q`.
    pub fn warped(&self, q: f64) -> Curve {
        Curve::Sampled { x: self.x.clone(), y: self.y.iter().map(|v| v.max(0.0).powf(q)).collect() }
    }

    /// The areas the warped template can take, lowest first.
    pub fn auc_range(&self) -> (f64, f64) {
        let area = |lq: f64| self.warped(lq.exp()).area();
        (area(WARP_LOG_RANGE.1), area(WARP_LOG_RANGE.0))
    }

    /// The warp exponent `q` whose warped template has area `auc`.
    pub fn warp_for(&self, auc: f64) -> Result<f64, FamilyError> {
        let (low, high) = self.auc_range();
        if !(low..=high).contains(&auc) {
            return Err(FamilyError::AucOutOfReach { family: "template", auc, low, high });
        }
        let lq = solve_decreasing(WARP_LOG_RANGE.0, WARP_LOG_RANGE.1, auc, |lq| self.warped(lq.exp()).area());
        Ok(lq.exp())
    }

    /// The template warped to have area `auc`.
    pub fn curve(&self, auc: f64) -> Result<Curve, FamilyError> {
        Ok(self.warped(self.warp_for(auc)?))
    }
}

fn check_curves(x: &[f64], curves: &[&[f64]]) -> Result<(), FamilyError> {
    for (index, c) in curves.iter().enumerate() {
        if c.len() != x.len() {
            return Err(FamilyError::WrongLength { index, got: c.len(), expected: x.len() });
        }
        if let Some((point, &value)) = c.iter().enumerate().find(|(_, v)| !(0.0..=1.0).contains(*v)) {
            return Err(FamilyError::ScoreOutOfRange { index, point, value });
        }
    }
    Ok(())
}

/// `ln σ(z)`, stable for large |z|.
fn log_sigmoid(z: f64) -> f64 {
    if z >= 0.0 { -(-z).exp().ln_1p() } else { z - z.exp().ln_1p() }
}

/// `f(x) = 1 − σ((m − x)/s) / σ(m/s)`: a logistic in log budget with midpoint `m` and width `s`,
/// shifted so that f(0) = 0; it rises towards 1 and decreases in `m` at every x > 0.
pub fn logistic_score(x: f64, midpoint: f64, width: f64) -> f64 {
    1.0 - (log_sigmoid((midpoint - x) / width) - log_sigmoid(midpoint / width)).exp()
}

/// The logistic sampled at the positions `x` (a measured curve of it).
pub fn logistic_curve(x: &[f64], midpoint: f64, width: f64) -> Curve {
    Curve::Sampled { x: x.to_vec(), y: x.iter().map(|&v| logistic_score(v, midpoint, width)).collect() }
}

/// Midpoints searched, in position units (far beyond the axis either way).
const MIDPOINT_RANGE: (f64, f64) = (-20.0, 20.0);

/// The areas a logistic of `width` sampled at `x` can take, lowest first.
pub fn logistic_auc_range(x: &[f64], width: f64) -> (f64, f64) {
    let area = |m: f64| logistic_curve(x, m, width).area();
    (area(MIDPOINT_RANGE.1), area(MIDPOINT_RANGE.0))
}

/// The logistic of `width` sampled at `x` whose area is `auc`.
pub fn logistic_for_auc(x: &[f64], auc: f64, width: f64) -> Result<Curve, FamilyError> {
    let (low, high) = logistic_auc_range(x, width);
    if !(low..=high).contains(&auc) {
        return Err(FamilyError::AucOutOfReach { family: "logistic", auc, low, high });
    }
    let m = solve_decreasing(MIDPOINT_RANGE.0, MIDPOINT_RANGE.1, auc, |m| logistic_curve(x, m, width).area());
    Ok(logistic_curve(x, m, width))
}

/// The widths searched when a logistic is fitted to a curve: 40 log-spaced values, 0.02 to 2
/// position units.
pub fn logistic_widths() -> Vec<f64> {
    (0..40).map(|i| 0.02 * 100f64.powf(f64::from(i) / 39.0)).collect()
}

/// The width (of [`logistic_widths`]) whose logistic with the curve's own area `auc` is closest
/// to the curve `(x, y)` in squared error.
pub fn best_logistic_width(x: &[f64], y: &[f64], auc: f64) -> f64 {
    let sse = |w: f64| {
        let c = clamped(logistic_for_auc(x, auc, w), || {
            let (lo, hi) = logistic_auc_range(x, w);
            logistic_for_auc(x, auc.clamp(lo, hi), w)
        });
        x.iter().zip(y).map(|(&xi, &yi)| (c.score_at(xi) - yi).powi(2)).sum::<f64>()
    };
    logistic_widths().into_iter().min_by(|a, b| sse(*a).total_cmp(&sse(*b))).expect("the width grid is not empty")
}

fn clamped(first: Result<Curve, FamilyError>, fallback: impl FnOnce() -> Result<Curve, FamilyError>) -> Curve {
    first.or_else(|_| fallback()).expect("an AUC clamped into a family's range has a curve")
}

/// A family ready to draw a curve for any AUC: `x^p`, or a template or logistic fitted to other
/// tasks' curves on one grid.
#[derive(Clone, Debug, PartialEq)]
pub enum FamilyModel {
    Power,
    Template(Template),
    /// Sampled at `x`; `widths` are the best widths of the curves it was fitted on (sorted), the
    /// width used for one curve is their median.
    Logistic { x: Vec<f64>, widths: Vec<f64> },
}

impl FamilyModel {
    /// Fit `kind` to `curves` (each its normalised y at `grid`'s positions, with its AUC):
    /// nothing for `x^p`, the mean shape for the template, the widths for the logistic.
    pub fn fit(kind: FamilyKind, grid: &BudgetGrid, curves: &[(f64, &[f64])]) -> Result<FamilyModel, FamilyError> {
        let x = grid.positions();
        let ys: Vec<&[f64]> = curves.iter().map(|c| c.1).collect();
        match kind {
            FamilyKind::Power => Ok(FamilyModel::Power),
            FamilyKind::Template => Ok(FamilyModel::Template(Template::registered_mean_of(&x, &ys, REGISTRATION_AUC)?)),
            FamilyKind::Logistic => {
                if curves.is_empty() {
                    return Err(FamilyError::NoCurves("logistic"));
                }
                check_curves(&x, &ys)?;
                let widths = curves.iter().map(|(auc, y)| best_logistic_width(&x, y, *auc)).collect();
                Ok(FamilyModel::logistic(grid, widths))
            }
        }
    }

    /// The logistic on `grid` from the best widths of the curves it is fitted on (each
    /// [`best_logistic_width`]; given so that a caller fitting many subsets computes each once).
    pub fn logistic(grid: &BudgetGrid, mut widths: Vec<f64>) -> FamilyModel {
        widths.sort_by(f64::total_cmp);
        FamilyModel::Logistic { x: grid.positions(), widths }
    }

    pub fn kind(&self) -> FamilyKind {
        match self {
            FamilyModel::Power => FamilyKind::Power,
            FamilyModel::Template(_) => FamilyKind::Template,
            FamilyModel::Logistic { .. } => FamilyKind::Logistic,
        }
    }

    /// The logistic's width for one curve: the median of the fitted widths.
    pub fn width(&self) -> Option<f64> {
        match self {
            FamilyModel::Logistic { widths, .. } => Some(widths[widths.len() / 2]),
            _ => None,
        }
    }

    /// The areas this family's curves can have (`x^p`: any in (0, 1)).
    pub fn auc_range(&self) -> (f64, f64) {
        match self {
            FamilyModel::Power => (0.0, 1.0),
            FamilyModel::Template(t) => t.auc_range(),
            FamilyModel::Logistic { x, .. } => logistic_auc_range(x, self.width().expect("a logistic has a width")),
        }
    }

    /// The family's curve with area `auc`.
    pub fn curve(&self, auc: f64) -> Result<Curve, FamilyError> {
        match self {
            FamilyModel::Power => {
                crate::predict::curve_exponent(auc)?;
                Ok(Curve::Power { auc })
            }
            FamilyModel::Template(t) => t.curve(auc),
            FamilyModel::Logistic { x, .. } => logistic_for_auc(x, auc, self.width().expect("a logistic has a width")),
        }
    }

    /// The curve of the AUC nearest to `auc` that the family can draw (x^p: within 0.001 of 0 and 1).
    pub fn curve_clamped(&self, auc: f64) -> Curve {
        let (lo, hi) = self.auc_range();
        let (lo, hi) = match self {
            FamilyModel::Power => (1e-3, 1.0 - 1e-3),
            _ => (lo, hi),
        };
        self.curve(auc.clamp(lo, hi)).expect("an AUC clamped into a family's range has a curve")
    }

    /// The logistic of one of `widths` with area `auc` clamped into its range (the planner's
    /// second parameter); other families ignore the width.
    pub fn curve_with_width(&self, auc: f64, width: f64) -> Curve {
        match self {
            FamilyModel::Logistic { x, .. } => {
                let (lo, hi) = logistic_auc_range(x, width);
                logistic_for_auc(x, auc.clamp(lo, hi), width).expect("an AUC clamped into a family's range has a curve")
            }
            _ => self.curve_clamped(auc),
        }
    }

    /// Root mean squared distance, over the points at x > 0, between each of `curves` and this
    /// family's curve with that curve's own AUC: how far real curves sit from the family.
    pub fn misfit(&self, x: &[f64], curves: &[(f64, &[f64])]) -> f64 {
        let (mut sum, mut n) = (0.0, 0usize);
        for (auc, y) in curves {
            let c = self.curve_clamped(*auc);
            for (&xi, &yi) in x.iter().zip(y.iter()).filter(|(xi, _)| **xi > 0.0) {
                sum += (c.score_at(xi) - yi).powi(2);
                n += 1;
            }
        }
        (sum / n as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x() -> Vec<f64> {
        BudgetGrid::paper().positions()
    }

    #[test]
    fn template_is_the_mean_and_warps_to_any_reachable_area() {
        let x = x();
        let a = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0];
        let b = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8];
        let t = Template::mean_of(&x, &[&a, &b]).unwrap();
        assert!((t.y[1] - 0.3).abs() < 1e-12 && (t.y[7] - 0.9).abs() < 1e-12);
        let c = t.curve(0.4).unwrap();
        assert!((c.area() - 0.4).abs() < 1e-9);
        let (lo, hi) = t.auc_range();
        assert!(lo < 0.01 && hi > 0.7, "{lo} {hi}");
        assert!(matches!(t.curve(0.99), Err(FamilyError::AucOutOfReach { .. })));
        assert!(matches!(Template::mean_of(&x, &[&a[..3]]), Err(FamilyError::WrongLength { .. })));
        assert!(matches!(Template::mean_of(&x, &[]), Err(FamilyError::NoCurves(_))));
    }

    #[test]
    fn logistic_starts_at_zero_and_falls_with_its_midpoint() {
        assert_eq!(logistic_score(0.0, 0.4, 0.1), 0.0);
        assert!(logistic_score(0.5, 0.3, 0.1) > logistic_score(0.5, 0.6, 0.1));
        let c = logistic_for_auc(&x(), 0.5, 0.1).unwrap();
        assert!((c.area() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_sampled_curve_reads_budgets_like_a_measured_one() {
        let grid = BudgetGrid::paper();
        let x = grid.positions();
        let y = vec![0.0, 0.4, 0.8, 0.8, 0.9, 0.9, 1.0, 1.0];
        let c = Curve::Sampled { x, y: y.clone() };
        // Halfway between 50 and 100 in log2.
        assert!((c.budget_for(0.6, &grid).unwrap() - 5000f64.sqrt()).abs() < 1e-9);
        assert_eq!(c.budget_for(0.0, &grid), Some(0.0));
        assert!((c.score_for(100.0, &grid) - 0.8).abs() < 1e-12);
        let never = Curve::Sampled { x: grid.positions(), y: vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] };
        assert_eq!(never.budget_for(0.9, &grid), None);
    }

    #[test]
    fn names_parse_back() {
        for k in FamilyKind::ALL {
            assert_eq!(k.name().parse::<FamilyKind>(), Ok(k));
        }
        assert!("cubic".parse::<FamilyKind>().unwrap_err().contains("xp, template, logistic"));
    }
}
