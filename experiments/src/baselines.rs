//! Shared by the beyond-the-paper experiments: for one published curve, the budget its real curve
//! needs for each target and what each predictor says (the paper's `x^p` from an AUC, a power-law
//! extrapolation and an `x^p` fit from the first few measured budgets), scored with the shared
//! error definitions (`dataeff::evaluate`).

use anyhow::Context as _;
use dataeff::curve::{BUDGETS, MAX_BUDGET, carry_running_maximum, trapezoid};
use dataeff::evaluate::{ErrorSummary, auc_absolute_error, auc_relative_error, budget_error, summarise};
use dataeff::learning_curve::{budget_to_reach, fit_curve_exponent, fit_power_law};
use dataeff::predict::{COSLOW_LABELS, budget_for_target, curve_auc};

use crate::study::TaskCurve;

/// Target normalised scores evaluated (fractions of the way from zero-shot to human level).
pub const TARGETS: [f64; 4] = [0.5, 0.7, 0.8, 0.9];
/// Extrapolation sees the zero-shot point and the first `m` fine-tuning budgets.
pub const OBSERVED_ROUNDS: [usize; 3] = [2, 3, 4];
/// The paper's headline error, read as an absolute AUC error.
pub const HEADLINE_AUC_ERROR: f64 = dataeff::predict::PAPER_AUC_ERROR;

/// The index of `target` in [`TARGETS`].
pub fn target_index(target: f64) -> usize {
    TARGETS.iter().position(|&t| t == target).unwrap_or_else(|| panic!("{target} is not one of {TARGETS:?}"))
}

/// A predicted AUC and the budget it implies for each of [`TARGETS`] (`None`: not within 5000).
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub auc: f64,
    pub budgets: Vec<Option<f64>>,
}

/// The budget the real (cleaned) curve needs for each target.
pub fn actual_budgets(c: &TaskCurve) -> Vec<Option<f64>> {
    TARGETS.iter().map(|&t| budget_to_reach(&c.normalised.x, &c.normalised.y, t)).collect()
}

/// An AUC kept inside (0, 1), where a curve `x^p` with that area exists.
pub fn clamp_auc(auc: f64) -> f64 {
    auc.clamp(1e-3, 1.0 - 1e-3)
}

/// The paper's curve `x^p` from an AUC (clamped into (0, 1)).
pub fn from_auc(auc: f64) -> Prediction {
    let auc = clamp_auc(auc);
    let budgets = TARGETS.iter().map(|&t| budget_for_target(t, auc).ok()).collect();
    Prediction { auc, budgets }
}

/// The signed budget error `log2(predicted/needed)` (see [`budget_error`]): above 0 when the
/// prediction asks for more examples than needed; `None` when the real curve never gets there.
pub fn signed_budget_error(predicted: Option<f64>, actual: Option<f64>) -> Option<f64> {
    let e = budget_error(predicted, actual)?;
    Some(if predicted.unwrap_or(f64::from(MAX_BUDGET)) >= actual.unwrap_or(0.0) { e } else { -e })
}

/// The bias of the curve shape: the mean signed budget error of `x^p` given each curve's true
/// AUC, at target index `i`, over the curves that reach the target.
pub fn shape_bias(curves: &[TaskCurve], i: usize) -> f64 {
    let signed: Vec<f64> = curves
        .iter()
        .filter_map(|c| signed_budget_error(from_auc(c.summary.extrapolation_auc).budgets[i], actual_budgets(c)[i]))
        .collect();
    signed.iter().sum::<f64>() / signed.len() as f64
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
    Ok(Prediction { auc: trapezoid(&c.normalised.x, &y), budgets })
}

/// Fit the paper's `x^p` to the normalised points of the first `m` rounds.
pub fn exponent_extrapolation(c: &TaskCurve, m: usize) -> anyhow::Result<Prediction> {
    let k = observed(c, m);
    let pts: Vec<(f64, f64)> = c.normalised.x[..k].iter().copied().zip(c.normalised.y[..k].iter().copied()).collect();
    let p = fit_curve_exponent(&pts).with_context(|| format!("x^p on {} {}", c.family, c.task))?;
    Ok(from_auc(curve_auc(p)?))
}

/// An AUC predictor of known accuracy: the curve's true AUC, exact or off by the paper's headline
/// error ([`HEADLINE_AUC_ERROR`]) either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AucOffset {
    Exact,
    Plus,
    Minus,
}

impl AucOffset {
    pub fn apply(self, auc: f64) -> f64 {
        match self {
            AucOffset::Exact => auc,
            AucOffset::Plus => auc + HEADLINE_AUC_ERROR,
            AucOffset::Minus => auc - HEADLINE_AUC_ERROR,
        }
    }

    /// `+ 0.086`, `− 0.086`; `None` for the exact AUC.
    pub fn shown(self) -> Option<String> {
        match self {
            AucOffset::Exact => None,
            AucOffset::Plus => Some(format!("+ {HEADLINE_AUC_ERROR}")),
            AucOffset::Minus => Some(format!("− {HEADLINE_AUC_ERROR}")),
        }
    }
}

/// A predictor of one curve's data efficiency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `x^p` from the true AUC, exact (the floor of any AUC predictor) or off by the paper's error.
    FromAuc(AucOffset),
    /// A power law extrapolated from the first `rounds` budgets.
    PowerLaw { rounds: usize },
    /// The paper's `x^p` fitted to the first `rounds` budgets.
    ExponentFit { rounds: usize },
}

impl Method {
    /// Every predictor compared, in table order.
    pub fn all() -> Vec<Method> {
        let mut out: Vec<Method> = [AucOffset::Exact, AucOffset::Plus, AucOffset::Minus].map(Method::FromAuc).to_vec();
        for rounds in OBSERVED_ROUNDS {
            out.extend([Method::PowerLaw { rounds }, Method::ExponentFit { rounds }]);
        }
        out
    }

    pub fn name(self) -> String {
        match self {
            Method::FromAuc(offset) => match offset.shown() {
                None => "x^p, true AUC (floor)".into(),
                Some(shown) => format!("x^p, true AUC {shown}"),
            },
            Method::PowerLaw { rounds } => format!("power law, first {rounds} budgets"),
            Method::ExponentFit { rounds } => format!("x^p fit, first {rounds} budgets"),
        }
    }

    /// Labels spent to make the prediction (an exact AUC is given, not predicted: 0).
    pub fn labels(self) -> f64 {
        match self {
            Method::FromAuc(AucOffset::Exact) => 0.0,
            Method::FromAuc(_) => COSLOW_LABELS as f64,
            Method::PowerLaw { rounds } | Method::ExponentFit { rounds } => labels_for_rounds(rounds),
        }
    }

    /// The prediction for one curve (`None`: the fit failed).
    pub fn predict(self, c: &TaskCurve) -> Option<Prediction> {
        match self {
            Method::FromAuc(offset) => Some(from_auc(offset.apply(c.summary.extrapolation_auc))),
            Method::PowerLaw { rounds } => power_law_extrapolation(c, rounds).ok(),
            Method::ExponentFit { rounds } => exponent_extrapolation(c, rounds).ok(),
        }
    }
}

/// A method's errors over a set of curves.
pub struct MethodScore {
    pub auc_mae: f64,
    pub auc_rel: f64,
    /// Per target: summary of |log2| budget errors.
    pub budget: Vec<ErrorSummary>,
    pub failed: usize,
}

pub fn score(method: Method, curves: &[TaskCurve]) -> MethodScore {
    let (mut abs, mut rel, mut failed) = (Vec::new(), Vec::new(), 0);
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); TARGETS.len()];
    for c in curves {
        let Some(p) = method.predict(c) else {
            failed += 1;
            continue;
        };
        let truth = c.summary.extrapolation_auc;
        abs.push(auc_absolute_error(p.auc, truth));
        rel.push(auc_relative_error(p.auc, truth));
        for (i, a) in actual_budgets(c).into_iter().enumerate() {
            errors[i].extend(budget_error(p.budgets[i], a));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    MethodScore { auc_mae: mean(&abs), auc_rel: mean(&rel), budget: errors.iter().map(|e| summarise(e)).collect(), failed }
}
