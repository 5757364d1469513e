//! `cos_low_value`: when is CoS-Low worth it? One table that puts the beyond-the-paper results side
//! by side for the 90 published curves at a target of 0.9 — labels spent to predict, AUC error,
//! budget error, and the labels and fine-tuning rounds spent to actually reach the target — and a
//! paragraph that reads them.

use dataeff::curve_family::FamilyKind;
use dataeff::evaluate::{budget_error, summarise as summarise_errors};
use dataeff::planner::DEFAULT_SETTINGS;
use dataeff::predict::COSLOW_LABELS;

use crate::baselines::{
    AucOffset, HEADLINE_AUC_ERROR, Method, MethodScore, OBSERVED_ROUNDS, actual_budgets, labels_for_rounds, score, shape_bias,
    target_index,
};
use crate::prose::{cutting_or_raising, more_or_fewer, over_or_under};
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::families::{REPLICATES, family_budget, leave_one_task_out, one_shot_spend, planner_spend, simulated_aucs};
use crate::strategies::{EXTRAPOLATION_ROUNDS, Strategy};
use crate::study::paper_curves;
use crate::table::{Cell, Table};

pub struct CosLowValue;

const TARGET: f64 = 0.9;

/// One row of the table: a way to decide how much to annotate, with the predictor it uses (if
/// any) and the annotation strategy that follows it (if any).
struct Row {
    label: String,
    method: Option<Method>,
    strategy: Option<Strategy>,
}

/// The rows, in table order.
fn rows() -> Vec<Row> {
    let cos_low = |label: String, offset: AucOffset| Row {
        label,
        method: Some(Method::FromAuc(offset)),
        strategy: Some(Strategy::OneShot(offset)),
    };
    let at_error =
        |offset: AucOffset| format!("CoS-Low at the paper's error, AUC {}", offset.shown().unwrap_or_default());
    let late = *OBSERVED_ROUNDS.last().expect("extrapolation observes some rounds");
    vec![
        Row { label: "doubling schedule, no prediction".into(), method: None, strategy: Some(Strategy::Doubling) },
        cos_low("CoS-Low with a perfect AUC (true AUC)".into(), AucOffset::Exact),
        cos_low(at_error(AucOffset::Plus), AucOffset::Plus),
        cos_low(at_error(AucOffset::Minus), AucOffset::Minus),
        Row {
            label: Strategy::PowerLaw.name(),
            method: Some(Method::PowerLaw { rounds: EXTRAPOLATION_ROUNDS }),
            strategy: Some(Strategy::PowerLaw),
        },
        Row {
            label: format!("x^p fit after {} labels", labels_for_rounds(late)),
            method: Some(Method::ExponentFit { rounds: late }),
            strategy: None,
        },
    ]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

impl Experiment for CosLowValue {
    fn id(&self) -> &'static str {
        "cos_low_value"
    }
    fn title(&self) -> &'static str {
        "Table: when is CoS-Low worth it? Prediction error vs labels and fine-tuning rounds, target 0.9"
    }
    fn inputs(&self) -> &'static [&'static str] {
        PUBLISHED_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let shared = paper_curves(ctx)?;
        let t = target_index(TARGET);
        let scores: Vec<(Method, MethodScore)> = Method::all().into_iter().map(|m| (m, score(m, &shared))).collect();
        let scored = |m: Method| &scores.iter().find(|(n, _)| *n == m).expect("every method is scored").1;
        let auc_mae = |m: Method| scored(m).auc_mae;
        let factor = |m: Method| scored(m).budget[t].median.exp2();
        // Mean labels and mean fine-tuning rounds a strategy spends to reach the target.
        let spent = |s: Strategy| {
            let spends: Vec<_> = shared.iter().map(|c| s.spend(c, t)).collect();
            let labels: Vec<f64> = spends.iter().map(|p| p.labels).collect();
            let rounds: Vec<f64> = spends.iter().map(|p| f64::from(p.rounds)).collect();
            (mean(&labels), mean(&rounds))
        };
        let mut table = Table::new(
            "cos_low_value",
            &["predictor", "labels_to_predict", "auc_mae", "median_budget_factor_t0.9", "mean_labels_to_reach_t0.9", "mean_rounds_to_reach_t0.9"],
        );
        for row in rows() {
            let labels_to_predict = match row.method {
                None => 0,
                // A one-shot AUC predictor is CoS-Low: it spends its k labels even when its AUC is perfect.
                Some(Method::FromAuc(_)) => COSLOW_LABELS as i64,
                Some(m) => m.labels() as i64,
            };
            let reach = row.strategy.map(spent);
            table.push(vec![
                Cell::text(row.label),
                Cell::Int(labels_to_predict),
                row.method.map(auc_mae).into(),
                row.method.map(factor).into(),
                reach.map_or(Cell::Empty, |r| Cell::Num(r.0, 0)),
                reach.map_or(Cell::Empty, |r| Cell::Num(r.1, 2)),
            ]);
        }
        // Beyond x^p (`curve_families`, `label_planner`): the family with the smallest median budget
        // error given the true AUC, and the planner with the fewest labels at the paper's error.
        let fits = leave_one_task_out(&shared)?;
        let family_factor = |kind: FamilyKind| {
            let errors: Vec<f64> = shared
                .iter()
                .zip(&fits)
                .filter_map(|(c, f)| budget_error(family_budget(f, kind, c.summary.extrapolation_auc, t), actual_budgets(c)[t]))
                .collect();
            summarise_errors(&errors).median.exp2()
        };
        let best_family = FamilyKind::ALL
            .iter()
            .map(|&k| (k, family_factor(k)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("there are families");
        let perfect_best: Vec<_> =
            shared.iter().zip(&fits).map(|(c, f)| one_shot_spend(c, f, best_family.0, c.summary.extrapolation_auc, t)).collect();
        let draws: Vec<Vec<f64>> = (0..REPLICATES).map(|r| simulated_aucs(&shared, r)).collect();
        let mut planners = Vec::new();
        for kind in FamilyKind::ALL {
            let mut spends = Vec::new();
            for (k, (c, f)) in shared.iter().zip(&fits).enumerate() {
                for draw in &draws {
                    spends.push(planner_spend(c, f, kind, draw[k], t, DEFAULT_SETTINGS)?);
                }
            }
            let labels: Vec<f64> = spends.iter().map(|s| s.labels).collect();
            let rounds: Vec<f64> = spends.iter().map(|s| f64::from(s.rounds)).collect();
            planners.push((kind, mean(&labels), mean(&rounds)));
        }
        let planner = *planners.iter().min_by(|a, b| a.1.total_cmp(&b.1)).expect("there are planners");
        let labels: Vec<f64> = perfect_best.iter().map(|s| s.labels).collect();
        let rounds: Vec<f64> = perfect_best.iter().map(|s| f64::from(s.rounds)).collect();
        table.push(vec![
            Cell::text(format!("CoS-Low with a perfect AUC, {} curve", best_family.0.describe())),
            Cell::Int(COSLOW_LABELS as i64),
            Cell::Num(0.0, 3),
            Cell::Num(best_family.1, 3),
            Cell::Num(mean(&labels), 0),
            Cell::Num(mean(&rounds), 2),
        ]);
        table.push(vec![
            Cell::text(format!("planner, {} curve, CoS-Low at the paper's error (simulated)", planner.0.describe())),
            Cell::Int(COSLOW_LABELS as i64),
            Cell::Empty,
            Cell::Empty,
            Cell::Num(planner.1, 0),
            Cell::Num(planner.2, 2),
        ]);
        let summary = summarise(&Numbers {
            curves: shared.len(),
            cos_low_mae: auc_mae(Method::FromAuc(AucOffset::Plus)).max(auc_mae(Method::FromAuc(AucOffset::Minus))),
            power: Method::PowerLaw { rounds: EXTRAPOLATION_ROUNDS },
            power_mae: auc_mae(Method::PowerLaw { rounds: EXTRAPOLATION_ROUNDS }),
            power_factor: factor(Method::PowerLaw { rounds: EXTRAPOLATION_ROUNDS }),
            error_factors: {
                let (plus, minus) = (factor(Method::FromAuc(AucOffset::Plus)), factor(Method::FromAuc(AucOffset::Minus)));
                (plus.min(minus), plus.max(minus))
            },
            first_below: first_below_paper_error(&scores),
            perfect_factor: factor(Method::FromAuc(AucOffset::Exact)),
            shape_bias: shape_bias(&shared, t),
            doubling: spent(Strategy::Doubling),
            one_shot: spent(Strategy::OneShot(AucOffset::Exact)),
            best_family: (best_family.0.describe().to_string(), best_family.1),
            planner: (planner.0.describe().to_string(), planner.1, planner.2),
        });
        Ok(Output { tables: vec![table], summary, ..Default::default() })
    }
}

/// The numbers the summary reads, at the target.
struct Numbers {
    curves: usize,
    /// AUC MAE of CoS-Low at the paper's error (the larger of its two sides).
    cos_low_mae: f64,
    /// The earliest power law, its AUC MAE and median budget factor.
    power: Method,
    power_mae: f64,
    power_factor: f64,
    /// Median budget factors of CoS-Low at the paper's error, the smaller and the larger side.
    error_factors: (f64, f64),
    /// The extrapolation with the fewest labels whose AUC MAE is below the paper's error.
    first_below: Option<(Method, f64)>,
    /// Median budget factor of `x^p` from the true AUC, and its mean signed log2 budget error.
    perfect_factor: f64,
    shape_bias: f64,
    /// Mean labels and rounds to reach the target: doubling, and one-shot from the true AUC.
    doubling: (f64, f64),
    one_shot: (f64, f64),
    /// The curve family with the smallest median budget factor given the true AUC, and that factor.
    best_family: (String, f64),
    /// The planner family with the fewest mean labels at the paper's error, its labels and rounds.
    planner: (String, f64, f64),
}

/// Of the extrapolations (power law and `x^p` fit) the one with the fewest labels whose AUC MAE
/// is below the paper's error, and that MAE.
fn first_below_paper_error(scores: &[(Method, MethodScore)]) -> Option<(Method, f64)> {
    scores
        .iter()
        .filter(|(m, s)| !matches!(m, Method::FromAuc(_)) && s.auc_mae < HEADLINE_AUC_ERROR)
        .min_by(|a, b| a.0.labels().total_cmp(&b.0.labels()))
        .map(|(m, s)| (*m, s.auc_mae))
}

/// The paragraph: every comparison in it is chosen by comparing the numbers it states.
fn summarise(n: &Numbers) -> String {
    let power_labels = n.power.labels();
    let (low, high) = n.error_factors;
    let versus = match (n.cos_low_mae < n.power_mae, high < n.power_factor) {
        (true, true) => "beats",
        (false, false) => "loses to",
        (true, false) => "has a lower AUC error but a larger budget error than",
        (false, true) => "has a higher AUC error but a smaller budget error than",
    };
    let catching_up = match n.first_below {
        Some((m, mae)) => format!(
            "the first extrapolation below the paper's AUC error needs {} labels ({}: MAE {mae:.3})",
            m.labels(),
            m.name()
        ),
        None => "no extrapolation falls below the paper's AUC error".into(),
    };
    let (more_labels, fewer_rounds) = (n.one_shot.0 > n.doubling.0, n.one_shot.1 < n.doubling.1);
    let so = if n.shape_bias > 0.0 && more_labels { "so" } else { "and" };
    let pays_off = match (more_labels, fewer_rounds) {
        (true, true) => "CoS-Low therefore pays off where retraining cycles are the cost (compute, turnaround, a person \
             waiting on each round), and where a quick first estimate of the order of magnitude is what is needed; \
             where every label is expensive, a doubling schedule that stops at the first round past the target \
             wastes fewer of them.",
        (false, true) => "CoS-Low therefore pays off on both counts.",
        (true, false) => "A doubling schedule is therefore the cheaper choice on both counts.",
        (false, false) => "CoS-Low therefore pays off where labels are the cost, a doubling schedule where retraining \
             cycles are.",
    };
    // What a perfect AUC gains over the paper's error at most, against what the curve shape costs.
    let auc_gain = high.log2() - n.perfect_factor.log2();
    let shape_cost = n.perfect_factor.log2();
    let (help, weak_link) = if shape_cost > auc_gain {
        ("more", "the one-parameter curve `x^p` is the weak link")
    } else {
        ("less", "the AUC error weighs more than the curve shape")
    };
    let planner_verdict = match (n.planner.1 < n.doubling.0, n.planner.2 < n.doubling.1) {
        (true, true) => "With the planner CoS-Low pays off on both counts.".to_string(),
        (false, true) => {
            let (gap, one_shot_gap) = (n.planner.1 - n.doubling.0, n.one_shot.0 - n.doubling.0);
            let narrows = if gap < one_shot_gap { "narrows" } else { "does not narrow" };
            format!(
                "The planner {narrows} the labels gap to doubling ({gap:.0} more, against {one_shot_gap:.0} for the \
                 one-shot budget from a perfect AUC) while keeping most of the saving in rounds; where labels are the \
                 only cost, doubling still wins."
            )
        }
        (true, false) => "The planner saves labels but not rounds against doubling.".to_string(),
        (false, false) => "The planner saves neither labels nor rounds against doubling.".to_string(),
    };
    let cuts = match cutting_or_raising(n.perfect_factor, n.best_family.1) {
        "cutting" => "cuts",
        "raising" => "raises",
        _ => "keeps",
    };
    format!(
        "**When is CoS-Low worth it?** ({} curves, target {TARGET}.) *As an AUC predictor*, CoS-Low at the paper's \
         error (AUC MAE {:.3} for {COSLOW_LABELS} labels) {versus} a power law extrapolated after {power_labels} \
         labels (AUC MAE {:.3}, median budget factor ×{:.2} against ×{low:.2}–×{high:.2}); {catching_up}. *As a \
         budget*, though, {weak_link}: even a perfect AUC is off by a median \
         factor of ×{:.2} and {} the budget (mean signed log2 error {:+.2}), {so} a one-shot budget spends {} labels \
         than a doubling schedule ({:.0} vs {:.0} on average) while {} fine-tuning rounds from {:.1} to {:.1}. \
         {pays_off} A better curve family than `x^p` would help {help} than a better AUC predictor (see \
         `curve_shape_error`): a perfect AUC instead of the paper's error gains at most a factor of ×{:.2} on the \
         median budget (from ×{high:.2} to ×{:.2}), while the curve shape alone costs ×{:.2}. Measured beyond `x^p`: \
         the best AUC-driven family (`curve_families`, leave-one-task-out), the {} curve, {} the median factor given \
         the true AUC from ×{:.2} to ×{:.2}; and a planner that starts from the CoS-Low prediction and updates on each \
         measured round (`label_planner`, {} curve, at the paper's error) spends {:.0} labels in {:.2} rounds — {} \
         labels than doubling and {} rounds than the one-shot budget. {planner_verdict}",
        n.curves,
        n.cos_low_mae,
        n.power_mae,
        n.power_factor,
        n.perfect_factor,
        over_or_under(n.shape_bias),
        n.shape_bias,
        more_or_fewer(n.one_shot.0, n.doubling.0),
        n.one_shot.0,
        n.doubling.0,
        cutting_or_raising(n.doubling.1, n.one_shot.1),
        n.doubling.1,
        n.one_shot.1,
        auc_gain.exp2(),
        n.perfect_factor,
        n.perfect_factor,
        n.best_family.0,
        cuts,
        n.perfect_factor,
        n.best_family.1,
        n.planner.0,
        n.planner.1,
        n.planner.2,
        more_or_fewer(n.planner.1, n.doubling.0),
        more_or_fewer(n.planner.2, n.one_shot.1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers() -> Numbers {
        Numbers {
            curves: 90,
            cos_low_mae: 0.086,
            power: Method::PowerLaw { rounds: EXTRAPOLATION_ROUNDS },
            power_mae: 0.111,
            power_factor: 2.68,
            error_factors: (1.59, 2.58),
            first_below: Some((Method::ExponentFit { rounds: 2 }, 0.073)),
            perfect_factor: 1.99,
            shape_bias: 1.23,
            doubling: (3034.0, 6.5),
            one_shot: (3485.0, 1.5),
            best_family: ("logistic".into(), 1.77),
            planner: ("logistic".into(), 3139.0, 2.37),
        }
    }

    #[test]
    fn the_comparisons_follow_the_numbers() {
        let text = summarise(&numbers());
        for words in ["beats a power law", "needs 100 labels", "overestimates", "spends more labels", "cutting", "help more", "logistic curve, cuts the median factor", "3139 labels in 2.37 rounds — more labels than doubling and more rounds than the one-shot", "narrows the labels gap to doubling (105 more, against 451"] {
            assert!(text.contains(words), "{words:?} missing from {text}");
        }
        let flipped = Numbers {
            power_mae: 0.05,
            power_factor: 1.2,
            first_below: None,
            perfect_factor: 1.1,
            shape_bias: -0.5,
            one_shot: (2000.0, 7.0),
            best_family: ("template".into(), 2.5),
            planner: ("template".into(), 2900.0, 2.0),
            ..numbers()
        };
        let text = summarise(&flipped);
        for words in ["loses to a power law", "no extrapolation", "underestimates", "spends fewer labels", "raising", "help less", "template curve, raises the median factor", "fewer labels than doubling and fewer rounds", "pays off on both counts"] {
            assert!(text.contains(words), "{words:?} missing from {text}");
        }
    }
}
