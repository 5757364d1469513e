//! Ordinary least squares of AUC on one metric (PAPER.md §5: `AUC = c · metric + I`), with
//! standard errors, t-based intervals, a seeded pairs bootstrap and leave-one-task-out prediction.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::stats::mean;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegressionError {
    #[error("need at least {needed} points, got {got}")]
    TooFewPoints { needed: usize, got: usize },
    #[error("all x values are equal: the slope is undefined")]
    ConstantX,
}

/// A fitted line `y = slope · x + intercept` with its uncertainty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OlsFit {
    pub slope: f64,
    pub intercept: f64,
    /// Standard errors (NaN with only 2 points: no residual degrees of freedom).
    pub slope_se: f64,
    pub intercept_se: f64,
    /// Residual standard error `sqrt(SSR/(n − 2))`.
    pub residual_se: f64,
    pub r_squared: f64,
    pub n: usize,
}

/// Least-squares line through `(x, y)`.
pub fn ols(x: &[f64], y: &[f64]) -> Result<OlsFit, RegressionError> {
    assert_eq!(x.len(), y.len(), "ols needs paired samples");
    let n = x.len();
    if n < 2 {
        return Err(RegressionError::TooFewPoints { needed: 2, got: n });
    }
    let (mx, my) = (mean(x), mean(y));
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    if sxx == 0.0 {
        return Err(RegressionError::ConstantX);
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ssr: f64 = x.iter().zip(y).map(|(a, b)| (b - (slope * a + intercept)).powi(2)).sum();
    let sst: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    let dof = n as f64 - 2.0;
    let residual_se = if dof > 0.0 { (ssr / dof).sqrt() } else { f64::NAN };
    Ok(OlsFit {
        slope,
        intercept,
        slope_se: residual_se / sxx.sqrt(),
        intercept_se: residual_se * (1.0 / n as f64 + mx * mx / sxx).sqrt(),
        residual_se,
        r_squared: if sst > 0.0 { 1.0 - ssr / sst } else { 1.0 },
        n,
    })
}

impl OlsFit {
    pub fn predict(&self, x: f64) -> f64 {
        self.slope * x + self.intercept
    }

    /// Two-sided `level` t quantile with n − 2 degrees of freedom (NaN when n = 2).
    fn t_quantile(&self, level: f64) -> f64 {
        let dof = self.n as f64 - 2.0;
        StudentsT::new(0.0, 1.0, dof).map_or(f64::NAN, |t| t.inverse_cdf(0.5 + level / 2.0))
    }

    /// t-based `level` confidence interval of the slope.
    pub fn slope_interval(&self, level: f64) -> (f64, f64) {
        let half = self.t_quantile(level) * self.slope_se;
        (self.slope - half, self.slope + half)
    }

    /// t-based `level` confidence interval of the intercept.
    pub fn intercept_interval(&self, level: f64) -> (f64, f64) {
        let half = self.t_quantile(level) * self.intercept_se;
        (self.intercept - half, self.intercept + half)
    }
}

/// Percentile bootstrap intervals of slope and intercept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BootstrapInterval {
    pub slope: (f64, f64),
    pub intercept: (f64, f64),
    /// Resamples that had a defined fit (a resample with one distinct x is skipped).
    pub resamples: usize,
}

/// Pairs bootstrap: resample the `(x, y)` pairs with replacement `resamples` times from `seed`,
/// refit, and take the `level` percentile interval of each coefficient. Deterministic per seed.
pub fn bootstrap(x: &[f64], y: &[f64], resamples: usize, level: f64, seed: u64) -> Result<BootstrapInterval, RegressionError> {
    let (mut slopes, mut intercepts) = bootstrap_coefficients(x, y, resamples, seed)?;
    Ok(BootstrapInterval {
        slope: percentile_interval(&mut slopes, level),
        intercept: percentile_interval(&mut intercepts, level),
        resamples: slopes.len(),
    })
}

/// The slopes and intercepts of the pairs-bootstrap refits behind [`bootstrap`] (a resample with
/// one distinct x is skipped), for a spread other than a percentile interval (e.g. their SD).
pub fn bootstrap_coefficients(x: &[f64], y: &[f64], resamples: usize, seed: u64) -> Result<(Vec<f64>, Vec<f64>), RegressionError> {
    ols(x, y)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = x.len();
    let (mut slopes, mut intercepts) = (Vec::with_capacity(resamples), Vec::with_capacity(resamples));
    let (mut bx, mut by) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..resamples {
        for j in 0..n {
            let i = rng.random_range(0..n);
            bx[j] = x[i];
            by[j] = y[i];
        }
        if let Ok(fit) = ols(&bx, &by) {
            slopes.push(fit.slope);
            intercepts.push(fit.intercept);
        }
    }
    Ok((slopes, intercepts))
}

/// The central `level` interval of `values` (nearest-rank percentiles).
pub fn percentile_interval(values: &mut [f64], level: f64) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    let at = |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    (at(tail), at(1.0 - tail))
}

/// Leave-one-out predictions: entry `i` is the prediction for `x[i]` of the line fitted to every
/// other point (leave-one-task-out when each point is a task).
pub fn leave_one_out_predictions(x: &[f64], y: &[f64]) -> Result<Vec<f64>, RegressionError> {
    Ok(leave_one_out_fits(x, y)?.iter().zip(x).map(|(fit, &xi)| fit.predict(xi)).collect())
}

/// Leave-one-out fits: entry `i` is the line fitted to every point but `i` (at least 3 points).
pub fn leave_one_out_fits(x: &[f64], y: &[f64]) -> Result<Vec<OlsFit>, RegressionError> {
    assert_eq!(x.len(), y.len(), "leave-one-out needs paired samples");
    if x.len() < 3 {
        return Err(RegressionError::TooFewPoints { needed: 3, got: x.len() });
    }
    (0..x.len())
        .map(|i| {
            let (ox, oy): (Vec<f64>, Vec<f64>) =
                x.iter().zip(y).enumerate().filter(|(j, _)| *j != i).map(|(_, (a, b))| (*a, *b)).unzip();
            ols(&ox, &oy)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_fit() {
        // y = 1 + 2x with residuals (0.1, -0.2, 0.1): slope 2, intercept 1.1 - 0.1·... checked below.
        let x = [0.0, 1.0, 2.0];
        let y = [1.1, 2.8, 5.1];
        let f = ols(&x, &y).unwrap();
        assert!((f.slope - 2.0).abs() < 1e-12);
        assert!((f.intercept - (3.0 - 2.0)).abs() < 1e-12);
        // Residuals 0.1, -0.2, 0.1 → SSR 0.06, dof 1, s = sqrt(0.06), sxx = 2.
        assert!((f.residual_se - 0.06f64.sqrt()).abs() < 1e-12);
        assert!((f.slope_se - (0.06f64 / 2.0).sqrt()).abs() < 1e-12);
        // t(0.975, 1) = 12.706.
        let (lo, hi) = f.slope_interval(0.95);
        assert!((hi - f.slope - 12.7062 * f.slope_se).abs() < 1e-3);
        assert!(lo < f.slope);
    }

    #[test]
    fn errors_on_degenerate_input() {
        assert_eq!(ols(&[1.0], &[2.0]), Err(RegressionError::TooFewPoints { needed: 2, got: 1 }));
        assert_eq!(ols(&[1.0, 1.0], &[2.0, 3.0]), Err(RegressionError::ConstantX));
        assert!(leave_one_out_predictions(&[1.0, 2.0], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn bootstrap_is_deterministic_and_brackets_the_fit() {
        let x: Vec<f64> = (0..30).map(|i| f64::from(i) / 30.0).collect();
        let y: Vec<f64> = x.iter().enumerate().map(|(i, a)| 0.5 * a + 0.3 + 0.02 * ((i * 7 % 5) as f64 - 2.0)).collect();
        let a = bootstrap(&x, &y, 500, 0.95, 7).unwrap();
        assert_eq!(a, bootstrap(&x, &y, 500, 0.95, 7).unwrap());
        assert_ne!(a, bootstrap(&x, &y, 500, 0.95, 8).unwrap());
        let fit = ols(&x, &y).unwrap();
        assert!(a.slope.0 < fit.slope && fit.slope < a.slope.1);
        assert!(a.intercept.0 < fit.intercept && fit.intercept < a.intercept.1);
    }

    #[test]
    fn leave_one_out_on_noisy_point_predicts_from_the_others() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [0.0, 1.0, 2.0, 10.0];
        let p = leave_one_out_predictions(&x, &y).unwrap();
        assert!((p[3] - 3.0).abs() < 1e-12);
        let fits = leave_one_out_fits(&x, &y).unwrap();
        assert!((fits[3].slope - 1.0).abs() < 1e-12 && fits[3].intercept.abs() < 1e-12);
    }
}
