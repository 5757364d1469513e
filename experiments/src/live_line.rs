//! The CoS-Low → AUC line of one model's live study, `AUC' = c · CoS-Low + I`, with its three
//! spreads named apart (OLS standard errors, a seeded pairs bootstrap, the leave-one-task-out
//! refits): shared by `coefficients_live` and `findings`.

use dataeff::regression::{OlsFit, RegressionError, bootstrap_coefficients, leave_one_out_fits, ols};
use dataeff::stats::sample_sd;

use crate::live_tasks::{LiveModel, MIN_TASKS, Reading, too_few_tasks};

/// Pairs-bootstrap resamples and seed (fixed: `cargo xtask reproduce` is deterministic).
pub const RESAMPLES: usize = 2000;
pub const SEED: u64 = 20250;

/// The line and its three spreads for one model.
pub struct LiveLine {
    pub fit: OlsFit,
    /// SD of slope and intercept over the bootstrap refits, and how many refits were defined.
    pub bootstrap_sd: (f64, f64),
    pub resamples: usize,
    /// SD and (min, max) of slope and intercept over the leave-one-task-out refits.
    pub loo_sd: (f64, f64),
    pub loo_range: ((f64, f64), (f64, f64)),
}

/// Fit the line to `(CoS-Low, AUC)` pairs (at least [`MIN_TASKS`]).
pub fn fit_line(x: &[f64], y: &[f64]) -> Result<LiveLine, RegressionError> {
    if x.len() < MIN_TASKS {
        return Err(RegressionError::TooFewPoints { needed: MIN_TASKS, got: x.len() });
    }
    let fit = ols(x, y)?;
    let (slopes, intercepts) = bootstrap_coefficients(x, y, RESAMPLES, SEED)?;
    let loo = leave_one_out_fits(x, y)?;
    let range = |v: &[f64]| (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let (loo_slopes, loo_intercepts): (Vec<f64>, Vec<f64>) = loo.iter().map(|f| (f.slope, f.intercept)).unzip();
    Ok(LiveLine {
        fit,
        bootstrap_sd: (sample_sd(&slopes), sample_sd(&intercepts)),
        resamples: slopes.len(),
        loo_sd: (sample_sd(&loo_slopes), sample_sd(&loo_intercepts)),
        loo_range: (range(&loo_slopes), range(&loo_intercepts)),
    })
}


/// A model's line, or the sentence that says why there is none.
pub fn model_line(model: &LiveModel, reading: Reading) -> (usize, Result<LiveLine, String>) {
    let pairs = model.coslow_and_auc_in(reading);
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
    let line = fit_line(&x, &y).map_err(|e| match e {
        RegressionError::TooFewPoints { .. } => too_few_tasks(&model.model, x.len(), " with CoS-Low and an AUC"),
        RegressionError::ConstantX => "every task has the same CoS-Low: the slope is undefined".into(),
    });
    (x.len(), line)
}

