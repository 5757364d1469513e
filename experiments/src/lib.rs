//! The experiments: one module per table or figure of the report, and the registry that lists them.
//!
//! Each experiment declares its inputs and turns the [`Context`] (data loaded from `data/`) into an
//! [`Output`]: tables (written to `results/<name>.md` and `.csv`), figures (written to
//! `paper_figures/<name>.svg` and `.png`) and a short report section. Numbers flow one way:
//! `data/` in, `results/` and `paper_figures/` out; no experiment reads another's output files.
//! The contract lives in [`experiment`], the writer in [`write`]; what several experiments share
//! in [`study`] (the published curves), `live_tasks` (the live study's curves and metrics, read
//! from `results/live/`), `live_line` (the CoS-Low line of a live model), `baselines` (predictors and their errors), `strategies`
//! (annotation strategies) and `correlation`; `prose` picks a summary's comparative words
//! from its numbers. No experiment imports another.

pub mod experiment;
pub mod figure;
pub mod study;
pub mod table;
pub mod write;

mod baselines;
mod correlation;
mod live_line;
mod live_tasks;
mod families;
mod prose;
mod strategies;

mod annotation_savings;
mod auc_table;
mod coefficients;
mod coefficients_live;
mod cos_low_value;
mod curve_families;
mod curve_shape_error;
mod curves;
mod extrapolation_baseline;
mod family_agreement;
mod findings;
mod live_curves;
mod metric_correlations;
mod prediction_error;
mod label_planner;
mod report;
mod task_agreement;
mod uncertainty;
mod zero_shot_vs_auc;

pub use experiment::{Context, Experiment, FIGURES_DIR, Output, PUBLISHED_DIR, RESULTS_DIR};
pub use figure::Figure;
pub use table::{Cell, Table};
pub use write::{reproduce, reproduce_into, run_and_write, write_output};

/// The experiments whose outputs are the report's sections, in report order.
pub fn sections() -> Vec<Box<dyn Experiment>> {
    vec![
        Box::new(curves::Curves),
        Box::new(auc_table::AucTable),
        Box::new(zero_shot_vs_auc::ZeroShotVsAuc),
        Box::new(family_agreement::FamilyAgreement),
        Box::new(coefficients::CoefficientsExperiment),
        Box::new(curve_shape_error::CurveShapeError),
        Box::new(curve_families::CurveFamilies),
        Box::new(extrapolation_baseline::ExtrapolationBaseline),
        Box::new(annotation_savings::AnnotationSavings),
        Box::new(label_planner::LabelPlanner),
        Box::new(uncertainty::Uncertainty),
        Box::new(cos_low_value::CosLowValue),
        Box::new(findings::Findings),
        Box::new(live_curves::LiveCurves),
        Box::new(metric_correlations::MetricCorrelations),
        Box::new(coefficients_live::CoefficientsLive),
        Box::new(prediction_error::PredictionError),
        Box::new(task_agreement::TaskAgreement),
    ]
}

/// Every experiment, in report order: the sections, then the report composed from them.
pub fn registry() -> Vec<Box<dyn Experiment>> {
    let mut all = sections();
    all.push(Box::new(report::Report { sections }));
    all
}
