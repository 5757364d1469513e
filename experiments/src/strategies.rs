//! Annotation strategies: how many labels and fine-tuning rounds it takes to first reach a target
//! when annotating by a doubling schedule (50, 100, 200, …), by the exact need (the oracle), by a
//! one-shot budget prediction from an AUC (annotate the predicted budget, keep doubling if short),
//! or by a power law extrapolated from the first rounds.

use dataeff::annotation::{Spend, doubling_from, doubling_schedule, one_shot};
use dataeff::curve::MAX_BUDGET;
use dataeff::predict::COSLOW_LABELS;

use crate::baselines::{AucOffset, actual_budgets, from_auc, labels_for_rounds, power_law_extrapolation};
use crate::study::TaskCurve;

/// Rounds a power-law extrapolation observes before predicting (50 and 100 labels).
pub const EXTRAPOLATION_ROUNDS: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Doubling,
    /// Annotate exactly the budget the real curve needs: the least any strategy can spend.
    Oracle,
    /// Pay CoS-Low's labels, then annotate the budget `x^p` gives for the (offset) true AUC.
    OneShot(AucOffset),
    /// Double for [`EXTRAPOLATION_ROUNDS`] rounds, then annotate the power law's budget.
    PowerLaw,
}

impl Strategy {
    /// The strategies compared, in table order.
    pub const ALL: [Strategy; 6] = [
        Strategy::Doubling,
        Strategy::Oracle,
        Strategy::OneShot(AucOffset::Exact),
        Strategy::OneShot(AucOffset::Plus),
        Strategy::OneShot(AucOffset::Minus),
        Strategy::PowerLaw,
    ];

    /// Position in [`Strategy::ALL`].
    pub fn index(self) -> usize {
        Strategy::ALL.iter().position(|&s| s == self).expect("every strategy is in Strategy::ALL")
    }

    pub fn name(self) -> String {
        match self {
            Strategy::Doubling => "doubling".into(),
            Strategy::Oracle => "oracle (exact need)".into(),
            Strategy::OneShot(offset) => match offset.shown() {
                None => "one-shot x^p, true AUC".into(),
                Some(shown) => format!("one-shot x^p, AUC {shown}"),
            },
            Strategy::PowerLaw => format!("power law after {} labels", labels_for_rounds(EXTRAPOLATION_ROUNDS)),
        }
    }

    /// Labels and rounds this strategy spends on one curve for target index `i`.
    pub fn spend(self, c: &TaskCurve, i: usize) -> Spend {
        let need = actual_budgets(c)[i];
        let horizon = f64::from(MAX_BUDGET);
        match self {
            Strategy::Doubling => doubling_schedule(need),
            Strategy::Oracle => match need {
                Some(n) => Spend { labels: n.ceil(), rounds: 1, reached: true },
                None => Spend { labels: horizon, rounds: 1, reached: false },
            },
            Strategy::OneShot(offset) => {
                let predicted = from_auc(offset.apply(c.summary.extrapolation_auc)).budgets[i].unwrap_or(horizon);
                one_shot(predicted, need, COSLOW_LABELS as f64)
            }
            Strategy::PowerLaw => {
                let observed = labels_for_rounds(EXTRAPOLATION_ROUNDS);
                if need.is_some_and(|n| n <= observed) {
                    // The target is already met within the rounds the extrapolation observes.
                    doubling_schedule(need)
                } else {
                    let guess = power_law_extrapolation(c, EXTRAPOLATION_ROUNDS)
                        .ok()
                        .and_then(|p| p.budgets[i])
                        .unwrap_or(horizon);
                    let after = doubling_from(guess.max(2.0 * observed), need, 0.0);
                    Spend { rounds: after.rounds + EXTRAPOLATION_ROUNDS as u32, ..after }
                }
            }
        }
    }
}
