//! The sequential label planner (issue 13): a prior on the task's AUC (a CoS-Low prediction and
//! its spread), a curve family, and the fine-tuned scores measured so far give a posterior over
//! the family's curves; the next budget to annotate is the one the posterior says reaches the
//! target with probability [`PlanSettings::confidence`] if the target can be reached within the
//! largest budget at all. Pure.
//!
//! The posterior is a grid over the family's parameters: the AUC on [`AUC_GRID`] (prior normal
//! around the prediction), and for the logistic also its width (prior: the widths fitted to other
//! tasks, each as likely). An observation `(n, y)` weighs each curve `f` by
//! `exp(−(y − f(n))² / 2σ²)`, where σ is how far real curves sit from the family (its misfit).
//! A measured score below the target also says, with certainty, that the need lies above `n`
//! (curves are non-decreasing): curves that would have reached the target by then are dropped.

use crate::curve::BudgetGrid;
use crate::curve_family::{Curve, FamilyModel};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("target score {0} is outside (0, 1]")]
    TargetOutOfRange(f64),
    #[error("observed budget {0} is not a number of examples in (0, {1}]")]
    BudgetOutOfRange(f64, u32),
    #[error("observed score {0} at budget {1} is outside [0, 1] (0 = zero-shot, 1 = the ceiling)")]
    ScoreOutOfRange(f64, f64),
    #[error("the prior's spread {0} is not a positive number")]
    BadSpread(f64),
    #[error("confidence {0} is outside (0, 1)")]
    BadConfidence(f64),
}

/// A normal prior on the task's AUC: the predicted AUC and its standard deviation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prior {
    pub auc: f64,
    pub spread: f64,
}

/// A fine-tuned model's normalised score after `budget` labelled examples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub budget: f64,
    pub score: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanSettings {
    /// Posterior probability that the first proposed budget (from the prior alone) reaches the
    /// target, if it can be reached at all.
    pub first_confidence: f64,
    /// The same for every later budget (the posterior is narrower once a round is measured).
    pub confidence: f64,
    /// After a round that falls short, the next budget is at least this multiple of it.
    pub min_growth: f64,
}

/// The settings `dataeff plan` and the experiments use unless told otherwise: the cheapest point
/// within 2.5 mean rounds of the trade-off `label_planner` measures on the published curves
/// (chosen on those same curves).
pub const DEFAULT_SETTINGS: PlanSettings = PlanSettings { first_confidence: 0.4, confidence: 0.6, min_growth: 1.25 };

/// The AUC values the posterior is computed on: 0.01, 0.02, …, 0.99.
pub const AUC_GRID: (f64, f64, usize) = (0.01, 0.99, 99);
/// Quantiles of the fitted widths that stand for the logistic's width prior, each as likely.
pub const WIDTH_QUANTILES: [f64; 5] = [0.1, 0.3, 0.5, 0.7, 0.9];

fn auc_grid() -> impl Iterator<Item = f64> {
    let (lo, hi, n) = AUC_GRID;
    (0..n).map(move |i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
}

/// A family's curves on the parameter grid: each with its AUC (of [`AUC_GRID`]) and, for the
/// logistic, the prior weight of its width. Built once per family model, shared by every prior.
#[derive(Clone, Debug)]
pub struct Hypotheses {
    curves: Vec<(f64, f64, Curve)>,
    /// Needs computed ahead ([`Hypotheses::precompute`]), by (target, grid).
    needs: Vec<(f64, BudgetGrid, Needs)>,
}

/// Per hypothesis, the budget it needs for one target, and the hypotheses sorted by it
/// (unreachable last).
#[derive(Clone, Debug)]
struct Needs {
    needs: Vec<Option<f64>>,
    order: Vec<usize>,
}

impl Needs {
    fn new(curves: &[(f64, f64, Curve)], grid: &BudgetGrid, target: f64) -> Needs {
        let needs: Vec<Option<f64>> = curves.iter().map(|(_, _, c)| c.budget_for(target, grid)).collect();
        let mut order: Vec<usize> = (0..needs.len()).collect();
        order.sort_by(|&a, &b| match (needs[a], needs[b]) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        Needs { needs, order }
    }
}

impl Hypotheses {
    pub fn new(model: &FamilyModel) -> Hypotheses {
        // The logistic's width prior: quantiles of the widths fitted to other tasks, each as likely.
        let widths: Vec<(f64, f64)> = match model {
            FamilyModel::Logistic { widths, .. } => WIDTH_QUANTILES
                .iter()
                .map(|q| (widths[((q * widths.len() as f64) as usize).min(widths.len() - 1)], 1.0 / WIDTH_QUANTILES.len() as f64))
                .collect(),
            _ => vec![(f64::NAN, 1.0)],
        };
        let mut curves = Vec::new();
        for auc in auc_grid() {
            for &(width, w) in &widths {
                let curve = if width.is_nan() { model.curve_clamped(auc) } else { model.curve_with_width(auc, width) };
                curves.push((auc, w, curve));
            }
        }
        Hypotheses { curves, needs: Vec::new() }
    }

    /// Compute the needs for `targets` on `grid` once, for every plan that starts from these
    /// hypotheses (a simulation runs thousands).
    pub fn precompute(mut self, grid: &BudgetGrid, targets: &[f64]) -> Hypotheses {
        for &t in targets {
            let needs = Needs::new(&self.curves, grid, t);
            self.needs.push((t, grid.clone(), needs));
        }
        self
    }
}

/// The prior over a family's curves and the observation noise σ: everything the planner knows
/// before any round.
#[derive(Clone, Debug)]
pub struct Belief<'a> {
    hypotheses: &'a Hypotheses,
    prior: Vec<f64>,
    noise: f64,
}

/// The planner's answer for the next round.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// The budget to annotate (whole examples, in [1, n_max]); `None` once the target is reached
    /// or the largest budget has been measured.
    pub budget: Option<f64>,
    /// The smallest observed budget whose score already meets the target.
    pub reached_at: Option<f64>,
    /// Posterior probability that `budget` reaches the target.
    pub chance: f64,
    /// Posterior probability that the target can be reached within the largest budget.
    pub reachable: f64,
    /// Posterior median and central 80% interval of the budget the task needs (`None` in a
    /// quantile: beyond the largest budget).
    pub need_median: Option<f64>,
    pub need_interval: (Option<f64>, Option<f64>),
    /// Posterior mean AUC.
    pub auc: f64,
}

impl<'a> Belief<'a> {
    /// The normal prior `prior` over `hypotheses`, with observation noise `noise` (the family's
    /// misfit on other tasks).
    pub fn new(hypotheses: &'a Hypotheses, prior: Prior, noise: f64) -> Result<Belief<'a>, PlanError> {
        if !(prior.spread > 0.0 && prior.spread.is_finite()) {
            return Err(PlanError::BadSpread(prior.spread));
        }
        let mut prior: Vec<f64> = hypotheses
            .curves
            .iter()
            .map(|(auc, w, _)| {
                let z = (auc - prior.auc) / prior.spread;
                w * (-0.5 * z * z).exp()
            })
            .collect();
        // Curves beyond ~7σ of the prediction can never matter: drop them (weight 0).
        let top = prior.iter().copied().fold(0.0, f64::max);
        for p in &mut prior {
            if *p < 1e-12 * top {
                *p = 0.0;
            }
        }
        Ok(Belief { hypotheses, prior, noise: noise.max(1e-3) })
    }

    /// The next budget to annotate for `target`, given what has been measured so far.
    pub fn propose(&self, grid: &BudgetGrid, target: f64, observations: &[Observation], settings: PlanSettings) -> Result<Proposal, PlanError> {
        let mut state = self.start(grid, target, settings)?;
        for &o in observations {
            state.observe(o)?;
        }
        Ok(state.proposal())
    }

    /// A planning state for `target` with no observation yet.
    pub fn start(&self, grid: &'a BudgetGrid, target: f64, settings: PlanSettings) -> Result<Plan<'a, '_>, PlanError> {
        if !(target > 0.0 && target <= 1.0) {
            return Err(PlanError::TargetOutOfRange(target));
        }
        for c in [settings.first_confidence, settings.confidence] {
            if !(c > 0.0 && c < 1.0) {
                return Err(PlanError::BadConfidence(c));
            }
        }
        let needs = match self.hypotheses.needs.iter().find(|(t, g, _)| *t == target && g == grid) {
            Some((_, _, n)) => std::borrow::Cow::Borrowed(n),
            None => std::borrow::Cow::Owned(Needs::new(&self.hypotheses.curves, grid, target)),
        };
        let log_weight = self.prior.iter().map(|&p| if p > 0.0 { p.ln() } else { f64::NEG_INFINITY }).collect();
        Ok(Plan { belief: self, grid, target, settings, needs, log_weight, observations: Vec::new() })
    }
}

/// One planning run for one target: the posterior so far, updated one observation at a time.
pub struct Plan<'a, 'b> {
    belief: &'b Belief<'a>,
    grid: &'a BudgetGrid,
    target: f64,
    settings: PlanSettings,
    /// Per hypothesis: the budget it needs for the target; the hypotheses sorted by it.
    needs: std::borrow::Cow<'a, Needs>,
    /// Per hypothesis: ln prior + ln likelihood of the observations so far.
    log_weight: Vec<f64>,
    observations: Vec<Observation>,
}

impl Plan<'_, '_> {
    /// Take in a measured score.
    pub fn observe(&mut self, o: Observation) -> Result<(), PlanError> {
        let max = f64::from(self.grid.max());
        if !(o.budget > 0.0 && o.budget <= max) {
            return Err(PlanError::BudgetOutOfRange(o.budget, self.grid.max()));
        }
        if !(0.0..=1.0).contains(&o.score) {
            return Err(PlanError::ScoreOutOfRange(o.score, o.budget));
        }
        let noise = self.belief.noise;
        for (w, (_, _, curve)) in self.log_weight.iter_mut().zip(&self.belief.hypotheses.curves) {
            if *w > f64::NEG_INFINITY {
                *w -= 0.5 * ((o.score - curve.score_for(o.budget, self.grid)) / noise).powi(2);
            }
        }
        self.observations.push(o);
        Ok(())
    }

    /// Posterior weights (summing to 1): curves contradicted by a score below the target (they
    /// would have reached it by then) get weight 0.
    fn posterior(&self) -> Vec<f64> {
        let failed = failed_budget(self.target, &self.observations);
        let consistent = |i: usize| failed.is_none_or(|n| self.needs.needs[i].is_none_or(|need| need > n));
        let top = (0..self.needs.needs.len()).filter(|&i| consistent(i)).map(|i| self.log_weight[i]).fold(f64::NEG_INFINITY, f64::max);
        let mut w: Vec<f64> = if top == f64::NEG_INFINITY {
            // Every curve is contradicted: fall back on the prior's support, evenly.
            vec![1.0; self.needs.needs.len()]
        } else {
            (0..self.needs.needs.len()).map(|i| if consistent(i) { (self.log_weight[i] - top).exp() } else { 0.0 }).collect()
        };
        let total: f64 = w.iter().sum();
        for v in &mut w {
            *v /= total;
        }
        w
    }

    /// The proposal after the observations so far.
    pub fn proposal(&self) -> Proposal {
        let post = self.posterior();
        let auc = post.iter().zip(&self.belief.hypotheses.curves).map(|(w, (_, _, c))| w * c.area()).sum();
        // Quantiles of the need, over every curve (`None`: beyond the largest budget) and over the
        // curves that reach the target within it.
        let quantile = |q: f64, total: f64| {
            let mut acc = 0.0;
            for &i in &self.needs.order {
                acc += post[i];
                if acc >= q * total - 1e-12 {
                    return self.needs.needs[i];
                }
            }
            None
        };
        let reachable: f64 = (0..post.len()).filter(|&i| self.needs.needs[i].is_some()).map(|i| post[i]).sum();
        let max = f64::from(self.grid.max());
        let reached_at = self.observations.iter().filter(|o| o.score >= self.target).map(|o| o.budget).reduce(f64::min);
        let failed = failed_budget(self.target, &self.observations);
        let budget = if reached_at.is_some() || failed.is_some_and(|n| n >= max) {
            None
        } else {
            // The budget that reaches the target with the asked confidence if it can be reached at
            // all: a target out of reach costs the largest budget whatever the plan.
            let confidence = if self.observations.is_empty() { self.settings.first_confidence } else { self.settings.confidence };
            let wanted = if reachable > 0.0 { quantile(confidence, reachable) } else { None };
            let wanted = wanted.map_or(max, |n| n.max(1.0));
            let floor = failed.map_or(1.0, |n| n * self.settings.min_growth);
            Some(wanted.max(floor).min(max).ceil())
        };
        let chance = budget.map_or(f64::NAN, |b| {
            (0..post.len()).filter(|&i| self.needs.needs[i].is_some_and(|n| n <= b)).map(|i| post[i]).sum()
        });
        Proposal {
            budget,
            reached_at,
            chance,
            reachable,
            need_median: quantile(0.5, 1.0),
            need_interval: (quantile(0.1, 1.0), quantile(0.9, 1.0)),
            auc,
        }
    }
}

/// The largest observed budget whose score falls short of `target` (the need lies above it).
fn failed_budget(target: f64, observations: &[Observation]) -> Option<f64> {
    observations.iter().filter(|o| o.score < target).map(|o| o.budget).reduce(f64::max)
}

/// What one simulated annotation run spent: labels (the last budget annotated, the earlier ones
/// being part of it), fine-tuning rounds, and whether the target was reached.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run {
    pub budget: f64,
    pub rounds: u32,
    pub reached: bool,
}

/// Run the planner against a curve whose need for `target` is `need` and whose measured score at
/// a budget is `score_at(budget)`: propose, fine-tune (a round reaches the target iff its budget
/// is at least the need, as in [`crate::annotation`]), observe, update, until the target is reached
/// or the largest budget has been tried.
pub fn simulate(
    belief: &Belief,
    grid: &BudgetGrid,
    target: f64,
    need: Option<f64>,
    score_at: impl Fn(f64) -> f64,
    settings: PlanSettings,
) -> Result<Run, PlanError> {
    let mut plan = belief.start(grid, target, settings)?;
    let mut last = 0.0;
    for rounds in 1.. {
        let Some(budget) = plan.proposal().budget else {
            return Ok(Run { budget: last, rounds: rounds - 1, reached: false });
        };
        last = budget;
        if need.is_some_and(|n| budget >= n) {
            return Ok(Run { budget, rounds, reached: true });
        }
        // Below the target by definition of the need (clamped: a real score may sit a hair above
        // it where the need was interpolated).
        let score = score_at(budget).clamp(0.0, 1.0).min(target - 1e-12);
        plan.observe(Observation { budget, score })?;
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve_family::Template;

    fn template() -> FamilyModel {
        let x = BudgetGrid::paper().positions();
        let a = [0.0, 0.3, 0.45, 0.6, 0.75, 0.85, 0.92, 0.97];
        FamilyModel::Template(Template::mean_of(&x, &[&a]).unwrap())
    }

    #[test]
    fn a_score_below_the_target_pushes_the_next_budget_up() {
        let grid = BudgetGrid::paper();
        let hypotheses = Hypotheses::new(&template());
        let belief = Belief::new(&hypotheses, Prior { auc: 0.5, spread: 0.1 }, 0.05).unwrap();
        let first = belief.propose(&grid, 0.9, &[], DEFAULT_SETTINGS).unwrap();
        let n = first.budget.unwrap();
        assert!(n > 50.0 && n <= 5000.0, "{first:?}");
        let low = belief.propose(&grid, 0.9, &[Observation { budget: n, score: 0.4 }], DEFAULT_SETTINGS).unwrap();
        assert!(low.budget.unwrap() >= n * DEFAULT_SETTINGS.min_growth, "{low:?}");
        assert!(low.auc < first.auc);
        let done = belief.propose(&grid, 0.9, &[Observation { budget: n, score: 0.95 }], DEFAULT_SETTINGS).unwrap();
        assert_eq!((done.budget, done.reached_at), (None, Some(n)));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let grid = BudgetGrid::paper();
        let hypotheses = Hypotheses::new(&FamilyModel::Power);
        let belief = Belief::new(&hypotheses, Prior { auc: 0.5, spread: 0.1 }, 0.05).unwrap();
        let s = DEFAULT_SETTINGS;
        assert_eq!(belief.propose(&grid, 0.0, &[], s), Err(PlanError::TargetOutOfRange(0.0)));
        let over = [Observation { budget: 100.0, score: 1.2 }];
        assert_eq!(belief.propose(&grid, 0.9, &over, s), Err(PlanError::ScoreOutOfRange(1.2, 100.0)));
        let zero = [Observation { budget: 0.0, score: 0.2 }];
        assert_eq!(belief.propose(&grid, 0.9, &zero, s), Err(PlanError::BudgetOutOfRange(0.0, 5000)));
        assert!(Belief::new(&hypotheses, Prior { auc: 0.5, spread: 0.0 }, 0.05).is_err());
    }

    #[test]
    fn a_simulated_run_stops_at_the_first_round_past_the_need() {
        let grid = BudgetGrid::paper();
        let hypotheses = Hypotheses::new(&FamilyModel::Power);
        let belief = Belief::new(&hypotheses, Prior { auc: 0.6, spread: 0.1 }, 0.1).unwrap();
        let truth = Curve::Power { auc: 0.4 };
        let need = truth.budget_for(0.8, &grid);
        let run = simulate(&belief, &grid, 0.8, need, |n| truth.score_for(n, &grid), DEFAULT_SETTINGS).unwrap();
        assert!(run.reached && run.budget >= need.unwrap() && run.rounds >= 2, "{run:?}");
        let never = simulate(&belief, &grid, 0.8, None, |_| 0.1, DEFAULT_SETTINGS).unwrap();
        assert!(!never.reached && never.budget == 5000.0, "{never:?}");
    }
}
