//! Plausibility checks on a task's curve before its AUC is trusted. The AUC formula accepts any
//! numbers; a typo (a percent-scale score, a human level below zero-shot, a curve of one point)
//! would give a number that looks fine. These checks turn such inputs into findings that name
//! the budget, the value and what was expected. Pure: no I/O.

use std::fmt;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth saying, never wrong in itself (a curve that dips and is carried up by the cleaning).
    Warning,
    /// Almost surely a mistake, but a user who knows better may go on (`--allow-implausible`).
    Implausible,
    /// No AUC can be computed from it (a score that is not a finite number).
    Fatal,
}

/// One thing wrong with a curve.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn finding(severity: Severity, message: String) -> Finding {
    Finding { severity, message }
}

/// A number as a reader wrote it: `1e308` rather than 309 digits.
fn show(v: f64) -> String {
    if v.is_finite() && v.abs() >= 1e6 { format!("{v:e}") } else { v.to_string() }
}

/// Check a selected curve (`(budget, score)` points, as [`crate::curve::select_scores`] gives)
/// and its human level. Scores are fractions in [0, 1]; a curve needs at least two fine-tuning
/// budgets (> 0) to have a shape; the human level must be a finite number above 0. A human level
/// at or below the curve's lowest score, and a non-monotone curve, are warnings (the latter says
/// how much the running maximum of the cleaning changes it).
pub fn check_curve(points: &[(u32, f64)], human_level: Option<f64>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut sorted = points.to_vec();
    sorted.sort_by_key(|p| p.0);
    for &(budget, score) in &sorted {
        if !score.is_finite() {
            out.push(finding(Severity::Fatal, format!("budget {budget}: score {score} is not a finite number")));
        }
    }
    let finite: Vec<(u32, f64)> = sorted.iter().copied().filter(|p| p.1.is_finite()).collect();
    let outside: Vec<&(u32, f64)> = finite.iter().filter(|p| !(0.0..=1.0).contains(&p.1)).collect();
    if let Some(&&(budget, score)) = outside.first() {
        let max = finite.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let min = finite.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hint = if min >= 0.0 && max > 1.0 && max <= 100.0 {
            "; the scores look like percentages: divide them by 100"
        } else {
            ""
        };
        out.push(finding(
            Severity::Implausible,
            format!(
                "{} score(s) outside [0, 1] (first: budget {budget}, score {}): scores are fractions of \
                 the examples right (accuracy, token F1){hint}",
                outside.len(),
                show(score)
            ),
        ));
    }
    let finetuned: Vec<u32> = finite.iter().map(|p| p.0).filter(|&n| n > 0).collect();
    if finetuned.len() < 2 {
        let list = if finetuned.is_empty() { "none".to_string() } else { format!("only {}", finetuned[0]) };
        out.push(finding(
            Severity::Implausible,
            format!("fine-tuning budgets with a score: {list}; a curve needs at least two budgets > 0 to have a shape"),
        ));
    }
    if let Some(h) = human_level {
        let min = finite.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        if !h.is_finite() {
            out.push(finding(Severity::Fatal, format!("human level {h} is not a finite number")));
        } else if h <= 0.0 {
            out.push(finding(Severity::Implausible, format!("human level {} is ≤ 0: expected a score in (0, 1]", show(h))));
        } else if min.is_finite() && h <= min {
            // Legitimate in the authors' own data (Qwen beats its human level on `qqp` zero-shot).
            out.push(finding(
                Severity::Warning,
                format!(
                    "human level {h} is at or below the curve's lowest score {min}: the ceiling falls back to the \
                     best score, so the AUC does not measure the way to human level"
                ),
            ));
        }
    }
    if let Some(dip) = largest_dip(&finite) {
        out.push(finding(
            Severity::Warning,
            format!(
                "not monotone: the running maximum raises {} of {} points, by up to {:.4} (budget {} scores {} after {} \
                 at a smaller budget)",
                dip.raised,
                finite.len(),
                dip.size,
                dip.budget,
                dip.score,
                dip.best
            ),
        ));
    }
    out
}

/// Where carrying the running maximum forward changes a curve the most.
struct Dip {
    /// How many points it raises.
    raised: usize,
    size: f64,
    budget: u32,
    score: f64,
    best: f64,
}

fn largest_dip(sorted: &[(u32, f64)]) -> Option<Dip> {
    let mut best = f64::NEG_INFINITY;
    let mut dip: Option<Dip> = None;
    let mut raised = 0;
    for &(budget, score) in sorted {
        if score < best {
            raised += 1;
            if dip.as_ref().is_none_or(|d| best - score > d.size) {
                dip = Some(Dip { raised: 0, size: best - score, budget, score, best });
            }
        }
        best = best.max(score);
    }
    dip.map(|d| Dip { raised, ..d })
}

/// The findings of at least `severity`.
pub fn at_least(findings: &[Finding], severity: Severity) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(move |f| f.severity >= severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn severities(points: &[(u32, f64)], human: Option<f64>) -> Vec<Severity> {
        check_curve(points, human).into_iter().map(|f| f.severity).collect()
    }

    const GOOD: [(u32, f64); 4] = [(0, 0.2), (50, 0.3), (100, 0.5), (5000, 0.9)];

    #[test]
    fn a_plausible_curve_has_no_findings() {
        assert!(check_curve(&GOOD, Some(0.95)).is_empty());
        assert!(check_curve(&GOOD, None).is_empty());
    }

    #[test]
    fn percent_scores_get_a_hint_and_other_ranges_do_not() {
        let pct: Vec<_> = GOOD.iter().map(|&(n, s)| (n, s * 100.0)).collect();
        let f = check_curve(&pct, None);
        assert_eq!(f[0].severity, Severity::Implausible);
        assert!(f[0].message.contains("4 score(s) outside [0, 1]") && f[0].message.contains("percentages"), "{}", f[0]);
        let neg = [(0, -0.1), (50, 0.3), (100, 0.5)];
        let f = check_curve(&neg, None);
        assert!(f[0].message.contains("budget 0, score -0.1") && !f[0].message.contains("percent"), "{}", f[0]);
        assert!(check_curve(&[(0, 0.1), (50, 1e308), (100, 0.2)], None)[0].message.contains("1e308"));
    }

    #[test]
    fn non_finite_scores_and_human_levels_are_fatal() {
        assert!(severities(&[(0, f64::NAN), (50, 0.3), (100, 0.4)], None).contains(&Severity::Fatal));
        assert!(severities(&GOOD, Some(f64::INFINITY)).contains(&Severity::Fatal));
    }

    #[test]
    fn too_few_budgets_and_non_positive_human_levels_are_implausible() {
        let only_zero = check_curve(&[(0, 0.3)], None);
        assert!(only_zero[0].message.contains("none"), "{}", only_zero[0]);
        let one = check_curve(&[(0, 0.3), (5000, 0.8)], None);
        assert!(one[0].message.contains("only 5000"), "{}", one[0]);
        assert_eq!(severities(&GOOD, Some(0.0)), [Severity::Implausible]);
        assert_eq!(severities(&GOOD, Some(-2.0)), [Severity::Implausible]);
        let low = check_curve(&GOOD, Some(0.2));
        assert!(low[0].message.contains("lowest score 0.2") && low[0].severity == Severity::Warning, "{}", low[0]);
        assert!(check_curve(&GOOD, Some(0.21)).is_empty(), "above the lowest score is fine");
    }

    #[test]
    fn a_dip_is_a_warning_with_its_size() {
        let f = check_curve(&[(0, 0.2), (50, 0.6), (100, 0.4), (200, 0.55), (500, 0.7)], None);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].message.contains("raises 2 of 5 points, by up to 0.2000 (budget 100"), "{}", f[0]);
        assert_eq!(at_least(&f, Severity::Implausible).count(), 0);
    }
}
