//! `coefficients_live`: the paper's line `AUC' = c · CoS-Low + I` fitted to the live study, per
//! model (OLS of the live AUC on the repeat-mean CoS-Low over tasks), with three spreads named
//! apart — OLS standard errors, the SD of a seeded pairs bootstrap, the SD of the leave-one-task-out
//! refits — because the paper's ± (PAPER.md §5) is of unstated origin; the paper's table beside.

use dataeff::Family;
use dataeff::predict::published_coefficients;
use dataeff::regression::{OlsFit, RegressionError, bootstrap_coefficients, leave_one_out_fits, ols};
use dataeff::stats::sample_sd;

use crate::experiment::{Context, Experiment, LIVE_INPUTS, Output};
use crate::live_tasks::{LiveModel, MIN_TASKS, READINGS, Reading, live_models, no_live_results, too_few_tasks};
use crate::table::{Cell, Table};

pub struct CoefficientsLive;

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
fn model_line(model: &LiveModel, reading: Reading) -> (usize, Result<LiveLine, String>) {
    let pairs = model.coslow_and_auc_in(reading);
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
    let line = fit_line(&x, &y).map_err(|e| match e {
        RegressionError::TooFewPoints { .. } => too_few_tasks(&model.model, x.len(), " with CoS-Low and an AUC"),
        RegressionError::ConstantX => "every task has the same CoS-Low: the slope is undefined".into(),
    });
    (x.len(), line)
}

impl Experiment for CoefficientsLive {
    fn id(&self) -> &'static str {
        "coefficients_live"
    }
    fn title(&self) -> &'static str {
        "Table: the CoS-Low → AUC line fitted to the live study per model, with OLS, bootstrap and leave-one-out spreads"
    }
    fn inputs(&self) -> &'static [&'static str] {
        LIVE_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let models = live_models(ctx);
        let mut columns = vec![
            "model",
            "reading",
            "tasks",
            "coefficient",
            "estimate",
            "ols_se",
            "bootstrap_sd",
            "bootstrap_resamples",
            "loo_sd",
            "loo_min",
            "loo_max",
            "r_squared",
        ];
        let paper_columns: Vec<String> = Family::ALL.iter().map(|f| format!("paper_{}", f.prefix())).collect();
        columns.extend(paper_columns.iter().map(String::as_str));
        columns.push("note");
        let mut table = Table::new("coefficients_live", &columns);
        if models.is_empty() {
            return Ok(Output { tables: vec![table], summary: no_live_results("the CoS-Low line of each model"), ..Default::default() });
        }
        let published = published_coefficients();
        let mut paragraphs = vec![format!(
            "Per model, OLS of the live AUC (ceiling = max score) on the repeat-mean CoS-Low over tasks: \
             `AUC' = c · CoS-Low + I`. Three spreads, named apart: `ols_se` (the OLS standard error), \
             `bootstrap_sd` (SD of {RESAMPLES} pairs-bootstrap refits, seed {SEED}; a resample with one distinct \
             CoS-Low is skipped) and `loo_sd` (SD of the leave-one-task-out refits, with their range). The paper's \
             ± is of unknown origin (PAPER.md §5) and is shown as published. Our live AUC is on our own budget grid \
             and ceiling, so the intercept is not comparable with the paper's; the slope's sign and size are. \
             Fitted twice: on the `exact_match` AUCs (the paper's metric) and on the `format_free` ones (tasks with \
             a closed label set only)."
        )];
        for model in &models {
            for reading in READINGS {
                let (tasks, line) = model_line(model, reading);
                let paper = |slope: bool| -> Vec<Cell> {
                    Family::ALL
                        .iter()
                        .map(|f| {
                            let c = &published[f];
                            let (v, pm) = if slope { (c.slope, c.slope_pm) } else { (c.intercept, c.intercept_pm) };
                            Cell::text(format!("{v} ± {pm}"))
                        })
                        .collect()
                };
                match &line {
                    Ok(l) => {
                        let coefficients = [
                            ("slope", l.fit.slope, l.fit.slope_se, l.bootstrap_sd.0, l.loo_sd.0, l.loo_range.0),
                            ("intercept", l.fit.intercept, l.fit.intercept_se, l.bootstrap_sd.1, l.loo_sd.1, l.loo_range.1),
                        ];
                        for (name, estimate, se, boot, loo, (lo, hi)) in coefficients {
                            let mut row = vec![
                                Cell::text(&model.model),
                                Cell::text(reading.name()),
                                Cell::Int(tasks as i64),
                                Cell::text(name),
                                estimate.into(),
                                Some(se).filter(|v| v.is_finite()).into(),
                                Some(boot).filter(|v| v.is_finite()).into(),
                                Cell::Int(l.resamples as i64),
                                Some(loo).filter(|v| v.is_finite()).into(),
                                lo.into(),
                                hi.into(),
                                l.fit.r_squared.into(),
                            ];
                            row.extend(paper(name == "slope"));
                            row.push(Cell::Empty);
                            table.push(row);
                        }
                        paragraphs.push(format!(
                            "`{}`, {} ({tasks} tasks): c = {:.3} (OLS SE {:.3}, bootstrap SD {:.3}, leave-one-out SD {:.3}), \
                         I = {:.3} (OLS SE {:.3}, bootstrap SD {:.3}, leave-one-out SD {:.3}), R² = {:.3}; the paper's \
                         slopes are {} (Llama, Mistral, Qwen).",
                            model.model,
                            reading.name(),
                            l.fit.slope,
                            l.fit.slope_se,
                            l.bootstrap_sd.0,
                            l.loo_sd.0,
                            l.fit.intercept,
                            l.fit.intercept_se,
                            l.bootstrap_sd.1,
                            l.loo_sd.1,
                            l.fit.r_squared,
                            Family::ALL
                                .iter()
                                .map(|f| format!("{} ± {}", published[f].slope, published[f].slope_pm))
                                .collect::<Vec<_>>()
                                .join(", "),
                        ));
                    }
                    Err(why) => {
                        for (name, slope) in [("slope", true), ("intercept", false)] {
                            let mut row =
                                vec![Cell::text(&model.model), Cell::text(reading.name()), Cell::Int(tasks as i64), Cell::text(name)];
                            row.extend(std::iter::repeat_n(Cell::Empty, 8));
                            row.extend(paper(slope));
                            row.push(Cell::text(why));
                            table.push(row);
                        }
                        paragraphs.push(format!("`{}`, {}: no line: {why}.", model.model, reading.name()));
                    }
                }
            }
        }
        Ok(Output { tables: vec![table], summary: paragraphs.join("\n\n"), ..Default::default() })
    }
}
