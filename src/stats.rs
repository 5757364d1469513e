//! Correlation with confidence intervals (pure). Pearson's r with a Fisher-z interval; Spearman's
//! rho as Pearson on average ranks, with the Bonett–Wright variance `(1 + ρ²/2)/(n − 3)` in z space.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Arithmetic mean (NaN for an empty slice).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (n − 1 in the denominator); NaN with fewer than 2 values.
pub fn sample_sd(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

/// Pearson's correlation coefficient; `None` when fewer than 2 points or a variable is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    assert_eq!(x.len(), y.len(), "pearson needs paired samples");
    if x.len() < 2 {
        return None;
    }
    let (mx, my) = (mean(x), mean(y));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Ranks from 1, ties sharing their average rank.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0; // mean of 1-based ranks start+1..=end
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman's rank correlation.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Kendall's rank correlation τ-b (ties corrected); `None` when fewer than 2 points or a
/// variable is constant.
pub fn kendall(x: &[f64], y: &[f64]) -> Option<f64> {
    assert_eq!(x.len(), y.len(), "kendall needs paired samples");
    let (mut concordant, mut discordant, mut tied_x, mut tied_y) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let (dx, dy) = (x[i] - x[j], y[i] - y[j]);
            match (dx == 0.0, dy == 0.0) {
                (true, true) => {}
                (true, false) => tied_x += 1.0,
                (false, true) => tied_y += 1.0,
                (false, false) if (dx > 0.0) == (dy > 0.0) => concordant += 1.0,
                (false, false) => discordant += 1.0,
            }
        }
    }
    let denominator: f64 = ((concordant + discordant + tied_x) * (concordant + discordant + tied_y)).sqrt();
    (denominator > 0.0).then(|| (concordant - discordant) / denominator)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CorrelationKind {
    Pearson,
    Spearman,
}

/// A correlation with its confidence interval and two-sided p-value (t test of zero correlation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Correlation {
    pub r: f64,
    pub n: usize,
    pub lo: f64,
    pub hi: f64,
    pub p_value: f64,
}

/// Correlation of `x` and `y` with a `level` (e.g. 0.95) interval; `None` when undefined (n < 4 or a
/// constant variable).
pub fn correlation(kind: CorrelationKind, x: &[f64], y: &[f64], level: f64) -> Option<Correlation> {
    let n = x.len();
    if n < 4 {
        return None;
    }
    let r = match kind {
        CorrelationKind::Pearson => pearson(x, y)?,
        CorrelationKind::Spearman => spearman(x, y)?,
    };
    let variance = match kind {
        CorrelationKind::Pearson => 1.0 / (n as f64 - 3.0),
        CorrelationKind::Spearman => (1.0 + r * r / 2.0) / (n as f64 - 3.0),
    };
    let z = Normal::standard().inverse_cdf(0.5 + level / 2.0);
    let centre = r.clamp(-0.999_999_999, 0.999_999_999).atanh();
    let (lo, hi) = ((centre - z * variance.sqrt()).tanh(), (centre + z * variance.sqrt()).tanh());
    let dof = n as f64 - 2.0;
    let p_value = if r.abs() >= 1.0 {
        0.0
    } else {
        let t = r * (dof / (1.0 - r * r)).sqrt();
        let dist = StudentsT::new(0.0, 1.0, dof).expect("dof > 0");
        2.0 * dist.cdf(-t.abs())
    };
    Some(Correlation { r, n, lo, hi, p_value })
}

/// The non-decreasing sequence closest to `values` in summed absolute error (L1 isotonic
/// regression by pool-adjacent-violators, each pooled block taking its lower median).
pub fn isotonic_l1(values: &[f64]) -> Vec<f64> {
    // Blocks of consecutive values, each with its median.
    let mut blocks: Vec<(Vec<f64>, f64)> = Vec::new();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[(v.len() - 1) / 2]
    };
    for &value in values {
        blocks.push((vec![value], value));
        while blocks.len() > 1 && blocks[blocks.len() - 2].1 > blocks[blocks.len() - 1].1 {
            let (mut last, _) = blocks.pop().expect("two blocks");
            let prev = blocks.last_mut().expect("two blocks");
            prev.0.append(&mut last);
            prev.1 = median(&mut prev.0);
        }
    }
    blocks.into_iter().flat_map(|(v, m)| std::iter::repeat_n(m, v.len())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sd_and_kendall_known_values() {
        assert!((sample_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!(sample_sd(&[1.0]).is_nan());
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(kendall(&x, &[1.0, 3.0, 2.0, 5.0, 4.0]), Some(0.6)); // 8 concordant, 2 discordant
        assert_eq!(kendall(&x, &[5.0, 4.0, 3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(kendall(&x, &[1.0; 5]), None);
        // One tie in y: τ-b = (C − D)/sqrt((C + D + Tx)(C + D + Ty)) = 9/sqrt(10·9).
        let tau = kendall(&x, &[1.0, 2.0, 2.0, 4.0, 5.0]).unwrap();
        assert!((tau - 9.0 / 90f64.sqrt()).abs() < 1e-12, "{tau}");
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(average_ranks(&[10.0, 20.0, 10.0, 5.0]), vec![2.5, 4.0, 2.5, 1.0]);
    }

    #[test]
    fn perfect_and_anti_correlation() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[25.0, 16.0, 9.0, 4.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&x, &[1.0; 5]), None);
    }

    #[test]
    fn known_pearson_value_and_interval() {
        // r for these points is 0.8 (checked by hand: sxy = 8, sxx = syy = 10).
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [1.0, 3.0, 2.0, 5.0, 4.0];
        let c = correlation(CorrelationKind::Pearson, &x, &y, 0.95).unwrap();
        assert!((c.r - 0.8).abs() < 1e-12);
        // Fisher z: atanh(0.8) ± 1.959964/sqrt(2).
        let lo = (0.8f64.atanh() - 1.959_963_984_540_054 / 2f64.sqrt()).tanh();
        assert!((c.lo - lo).abs() < 1e-9 && c.lo < c.r && c.r < c.hi);
        // t = 0.8·sqrt(3/0.36) = 2.309; two-sided p with 3 dof ≈ 0.104.
        assert!((c.p_value - 0.1041).abs() < 1e-3, "{}", c.p_value);
    }

    #[test]
    fn isotonic_l1_pools_violators_to_their_median() {
        assert_eq!(isotonic_l1(&[1.0, 3.0, 2.0, 4.0]), vec![1.0, 2.0, 2.0, 4.0]);
        // Both (1, 1, 2) and (2, 2, 2) are off by 4 in total; the lower median picks the first.
        assert_eq!(isotonic_l1(&[5.0, 1.0, 2.0]), vec![1.0, 1.0, 2.0]);
        assert_eq!(isotonic_l1(&[]), Vec::<f64>::new());
        let v = [0.3, 0.1, 0.9, 0.5, 0.7];
        assert!(isotonic_l1(&v).windows(2).all(|w| w[0] <= w[1]));
    }
}
