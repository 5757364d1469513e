//! `prediction_error`: how well CoS-Low predicts a held-out task on the live study — leave one
//! task out, fit `AUC' = c · CoS-Low + I` on the others, predict its AUC and, through the paper's
//! curve `x^p`, the budget for a target on the live grid; scored with the shared error
//! definitions (`dataeff::evaluate`), and the labels a one-shot prediction spends against a
//! doubling schedule (`dataeff::annotation`). The paper's headline 8.6% beside.

use dataeff::annotation::doubling_within;
use dataeff::curve::BudgetGrid;
use dataeff::evaluate::{auc_absolute_error, auc_relative_error, budget_error_within, summarise};
use dataeff::learning_curve::budget_to_reach_on;
use dataeff::predict::{COSLOW_LABELS, budget_for_target_on};
use dataeff::regression::{RegressionError, leave_one_out_predictions};

use crate::baselines::{HEADLINE_AUC_ERROR, clamp_auc};
use crate::experiment::{Context, Experiment, LIVE_INPUTS, Output};
use crate::live_tasks::{LiveModel, LiveTask, READINGS, Reading, live_models, no_live_results, too_few_tasks};
use crate::prose::{above_or_below, more_or_fewer};
use crate::table::{Cell, Table};

pub struct PredictionError;

/// Target normalised scores whose budget is predicted.
pub const TARGETS: [f64; 3] = [0.5, 0.7, 0.9];
/// The target whose labels are counted.
const LABEL_TARGET: f64 = 0.9;

/// One held-out task's prediction.
struct Held<'a> {
    task: &'a LiveTask,
    coslow: f64,
    auc: f64,
    predicted: f64,
    /// Per target: the budget the measured curve needs and the one `x^p` predicts.
    needed: Vec<Option<f64>>,
    predicted_budgets: Vec<f64>,
    /// Labels to first reach [`LABEL_TARGET`]: one-shot (CoS-Low's k, then the predicted budget,
    /// doubling if short) and a doubling schedule from the grid's first budget.
    one_shot: f64,
    doubling: f64,
}

/// Leave-one-task-out predictions for one model, or the sentence that says why there are none.
fn held_out<'a>(model: &'a LiveModel, reading: Reading) -> Result<(Vec<Held<'a>>, &'a BudgetGrid), String> {
    let grid = model.grid.as_ref().map_err(|why| format!("no budget grid: {why}"))?;
    let pairs = model.coslow_and_auc_in(reading);
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
    // Each leave-one-out fit needs 2 distinct CoS-Low values among the others.
    let predictions = leave_one_out_predictions(&x, &y).map_err(|e| match e {
        RegressionError::TooFewPoints { .. } => too_few_tasks(&model.model, x.len(), " with CoS-Low and an AUC"),
        RegressionError::ConstantX => "a leave-one-out fit has one distinct CoS-Low: its slope is undefined".into(),
    })?;
    let mut out = Vec::new();
    for ((task, coslow, auc), predicted) in pairs.into_iter().zip(predictions) {
        let normalised = &task.live_auc_in(reading).expect("coslow_and_auc_in keeps tasks with an AUC").normalised;
        let needed: Vec<Option<f64>> = TARGETS.iter().map(|&t| budget_to_reach_on(grid, &normalised.x, &normalised.y, t)).collect();
        let predicted_budgets: Vec<f64> = TARGETS
            .iter()
            .map(|&t| budget_for_target_on(grid, t, clamp_auc(predicted)).expect("AUC clamped into (0, 1), target in (0, 1]"))
            .collect();
        let i = TARGETS.iter().position(|&t| t == LABEL_TARGET).expect("the label target is a target");
        let k = task.metrics.first().map_or(COSLOW_LABELS, |c| c.k) as f64;
        let first = f64::from(grid.budgets()[0]);
        let one_shot = doubling_within(grid.max(), predicted_budgets[i], needed[i], k).labels;
        let doubling = doubling_within(grid.max(), first, needed[i], 0.0).labels;
        out.push(Held { task, coslow, auc, predicted, needed, predicted_budgets, one_shot, doubling });
    }
    Ok((out, grid))
}

impl Experiment for PredictionError {
    fn id(&self) -> &'static str {
        "prediction_error"
    }
    fn title(&self) -> &'static str {
        "Table: leave-one-task-out error of CoS-Low's AUC and budget predictions on the live study, and the labels they spend"
    }
    fn inputs(&self) -> &'static [&'static str] {
        LIVE_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let models = live_models(ctx);
        let mut summary_table =
            Table::new("prediction_error", &["model", "reading", "measure", "target", "tasks", "mean", "median", "paper", "note"]);
        let mut columns: Vec<String> =
            ["model", "reading", "task", "coslow", "auc", "predicted_auc", "abs_error", "rel_error"].map(String::from).to_vec();
        for t in TARGETS {
            columns.extend([format!("needed_t{t}"), format!("predicted_t{t}"), format!("budget_error_t{t}")]);
        }
        columns.extend([format!("labels_one_shot_t{LABEL_TARGET}"), format!("labels_doubling_t{LABEL_TARGET}")]);
        let mut by_task = Table::new("prediction_error_by_task", &columns.iter().map(String::as_str).collect::<Vec<_>>());
        if models.is_empty() {
            let summary = no_live_results("the leave-one-task-out error of the CoS-Low line");
            return Ok(Output { tables: vec![summary_table, by_task], summary, ..Default::default() });
        }
        let mut paragraphs = vec![format!(
            "Leave one task out: fit the line on the other tasks (repeat-mean CoS-Low, live AUC with ceiling = max \
             score), predict the held-out AUC, and turn it into the budget `x^p` needs for targets {} on the \
             model's own grid (x = log2 n / log2 n_max); the measured need is read off the cleaned curve on the same \
             axis. Budget error is |log2(predicted/needed)| (1 = a factor of two). Labels to reach {LABEL_TARGET}: \
             one-shot spends CoS-Low's k labels, annotates the predicted budget and doubles if short; the doubling \
             schedule starts at the grid's first budget; both stop at the grid's largest. The paper's headline \
             {:.1}% error is read as a leave-one-out AUC MAE of {HEADLINE_AUC_ERROR} (PAPER.md §5). Computed on \
             the `exact_match` curves (the paper's metric) and on the `format_free` ones (closed label sets only).",
            TARGETS.map(|t| t.to_string()).join(", "),
            100.0 * HEADLINE_AUC_ERROR,
        )];
        for model in &models {
            for reading in READINGS {
                let (held, grid) = match held_out(model, reading) {
                    Ok(h) => h,
                    Err(why) => {
                        summary_table.push(vec![
                            Cell::text(&model.model),
                            Cell::text(reading.name()),
                            Cell::text("auc_absolute_error"),
                            Cell::Empty,
                            Cell::Int(model.coslow_and_auc_in(reading).len() as i64),
                            Cell::Empty,
                            Cell::Empty,
                            Cell::Num(HEADLINE_AUC_ERROR, 3),
                            Cell::text(&why),
                        ]);
                        paragraphs.push(format!("`{}`, {}: no leave-one-task-out prediction: {why}.", model.model, reading.name()));
                        continue;
                    }
                };
                for h in &held {
                    let mut row = vec![
                        Cell::text(&model.model),
                        Cell::text(reading.name()),
                        Cell::text(&h.task.task),
                        h.coslow.into(),
                        h.auc.into(),
                        h.predicted.into(),
                        auc_absolute_error(h.predicted, h.auc).into(),
                        auc_relative_error(h.predicted, h.auc).into(),
                    ];
                    for (i, needed) in h.needed.iter().enumerate() {
                        let predicted = h.predicted_budgets[i];
                        let error = budget_error_within(grid.max(), Some(predicted), *needed);
                        row.extend([needed.map(|n| Cell::Num(n, 1)).unwrap_or(Cell::Empty), Cell::Num(predicted, 1), error.into()]);
                    }
                    row.extend([Cell::Num(h.one_shot, 0), Cell::Num(h.doubling, 0)]);
                    by_task.push(row);
                }
                let abs: Vec<f64> = held.iter().map(|h| auc_absolute_error(h.predicted, h.auc)).collect();
                let rel: Vec<f64> = held.iter().map(|h| auc_relative_error(h.predicted, h.auc)).collect();
                let (abs_s, rel_s) = (summarise(&abs), summarise(&rel));
                let mut push = |measure: &str, target: Option<f64>, s: dataeff::evaluate::ErrorSummary, paper: Option<f64>, note: &str| {
                    summary_table.push(vec![
                        Cell::text(&model.model),
                        Cell::text(reading.name()),
                        Cell::text(measure),
                        target.map_or(Cell::Empty, |t| Cell::Num(t, 1)),
                        Cell::Int(s.n as i64),
                        Some(s.mean).filter(|v| v.is_finite()).into(),
                        Some(s.median).filter(|v| v.is_finite()).into(),
                        paper.map_or(Cell::Empty, |p| Cell::Num(p, 3)),
                        Cell::text(note),
                    ]);
                };
                push("auc_absolute_error", None, abs_s, Some(HEADLINE_AUC_ERROR), "");
                push("auc_relative_error", None, rel_s, Some(HEADLINE_AUC_ERROR), "");
                let mut budget_medians = Vec::new();
                for (i, &t) in TARGETS.iter().enumerate() {
                    let errors: Vec<f64> =
                        held.iter().filter_map(|h| budget_error_within(grid.max(), Some(h.predicted_budgets[i]), h.needed[i])).collect();
                    let unreached = held.len() - errors.len();
                    let note =
                        if unreached > 0 { format!("{unreached} task(s) never reach the target: not averaged") } else { String::new() };
                    let s = summarise(&errors);
                    budget_medians.push((t, s.median));
                    push("budget_error_log2", Some(t), s, None, &note);
                }
                let one_shot: Vec<f64> = held.iter().map(|h| h.one_shot).collect();
                let doubling: Vec<f64> = held.iter().map(|h| h.doubling).collect();
                let (one_shot_s, doubling_s) = (summarise(&one_shot), summarise(&doubling));
                push("labels_one_shot", Some(LABEL_TARGET), one_shot_s, None, "");
                push("labels_doubling", Some(LABEL_TARGET), doubling_s, None, "");
                paragraphs.push(format!(
                    "`{}`, {} ({} tasks): leave-one-task-out AUC MAE {:.3} ({} the paper's {HEADLINE_AUC_ERROR}), median \
                 {:.3}; relative error mean {:.1}%, median {:.1}%. Median budget error {}. To reach {LABEL_TARGET}, \
                 a one-shot prediction spends {} labels than a doubling schedule ({:.0} vs {:.0} on average).",
                    model.model,
                    reading.name(),
                    held.len(),
                    abs_s.mean,
                    above_or_below(abs_s.mean, HEADLINE_AUC_ERROR),
                    abs_s.median,
                    100.0 * rel_s.mean,
                    100.0 * rel_s.median,
                    budget_medians
                        .iter()
                        .map(|(t, m)| if m.is_finite() { format!("×{:.2} at {t}", m.exp2()) } else { format!("undefined at {t}") })
                        .collect::<Vec<_>>()
                        .join(", "),
                    more_or_fewer(one_shot_s.mean, doubling_s.mean),
                    one_shot_s.mean,
                    doubling_s.mean,
                ));
            }
        }
        Ok(Output { tables: vec![summary_table, by_task], summary: paragraphs.join("\n\n"), ..Default::default() })
    }
}
