//! `curve_shape_error`: how much of the paper's budget error comes from the curve family itself.
//! Give `x^p` each published curve's *true* AUC and compare the budget it predicts for each target
//! with the budget the real curve needs: the floor any AUC predictor (CoS-Low included) inherits.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::curve::MAX_BUDGET;
use dataeff::evaluate::{budget_error, summarise};
use dataeff::Family;

use crate::baselines::{HEADLINE_AUC_ERROR, TARGETS, actual_budgets, from_auc, signed_budget_error};
use crate::figure::{Draw, FONT, palette, plot_err, render};
use crate::study::{paper_curves, scopes};
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::table::{Cell, Table};

pub struct CurveShapeError;

impl Experiment for CurveShapeError {
    fn id(&self) -> &'static str {
        "curve_shape_error"
    }
    fn title(&self) -> &'static str {
        "Table + figure: budget error of x^p given each curve's true AUC (the floor of any AUC predictor)"
    }
    fn inputs(&self) -> &'static [&'static str] {
        PUBLISHED_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let shared = paper_curves(ctx)?;
        let mut by_task = Table::new(
            "curve_shape_error_by_task",
            &["family", "task", "auc", "target", "actual_budget", "predicted_budget", "log2_error"],
        );
        // (family, target index, signed log2 error or None when the real curve never gets there)
        let mut records: Vec<(Family, usize, Option<f64>)> = Vec::new();
        let mut points: Vec<(Family, usize, f64, f64)> = Vec::new();
        for c in &shared {
            let actual = actual_budgets(c);
            let predicted = from_auc(c.summary.extrapolation_auc);
            for (i, &t) in TARGETS.iter().enumerate() {
                let (a, p) = (actual[i], predicted.budgets[i]);
                let err = budget_error(p, a);
                records.push((c.family, i, signed_budget_error(p, a)));
                if let (Some(a), Some(p)) = (a, p) {
                    points.push((c.family, i, a.max(1.0), p.max(1.0)));
                }
                by_task.push(vec![
                    Cell::text(c.family.prefix()),
                    Cell::text(&c.task),
                    c.summary.extrapolation_auc.into(),
                    Cell::Num(t, 1),
                    a.map_or(Cell::Empty, |v| Cell::Num(v, 0)),
                    p.map_or(Cell::Empty, |v| Cell::Num(v, 0)),
                    err.into(),
                ]);
            }
        }
        let mut summary_table = Table::new(
            "curve_shape_error",
            &["scope", "target", "curves", "never_reached", "mean_log2_error", "median_log2_error", "within_2x", "mean_signed_log2"],
        );
        let mut headline = String::new();
        for (scope, family) in scopes() {
            for (i, &t) in TARGETS.iter().enumerate() {
                let chosen: Vec<Option<f64>> = records
                    .iter()
                    .filter(|(f, j, _)| *j == i && family.is_none_or(|g| g == *f))
                    .map(|r| r.2)
                    .collect();
                let signed: Vec<f64> = chosen.iter().flatten().copied().collect();
                let abs: Vec<f64> = signed.iter().map(|e| e.abs()).collect();
                let s = summarise(&abs);
                if family.is_none() && t == 0.9 {
                    headline = format!(
                        "for a target of 0.9 over all {} curves that reach it, the median budget error is a factor \
                         of {:.2} (mean |log2| {:.2}), and {:.0}% of predictions are within a factor of two",
                        s.n,
                        s.median.exp2(),
                        s.mean,
                        100.0 * s.within_factor_two
                    );
                }
                summary_table.push(vec![
                    Cell::text(&scope),
                    Cell::Num(t, 1),
                    Cell::Int(chosen.len() as i64),
                    Cell::Int((chosen.len() - signed.len()) as i64),
                    s.mean.into(),
                    s.median.into(),
                    Cell::Num(s.within_factor_two, 2),
                    (signed.iter().sum::<f64>() / signed.len() as f64).into(),
                ]);
            }
        }
        let figure = render("curve_shape_error", (1700, 480), &BudgetScatter { points })?;
        let summary = format!(
            "Even with a perfect AUC, the one-parameter curve `x^p` misreads real curves' shapes: {headline}. \
             A curve that never reaches a target within {MAX_BUDGET} examples is counted in `never_reached` and \
             left out of the averages; `mean_signed_log2` > 0 means `x^p` asks for more examples than needed. \
             This is the floor under the paper's {:.1}% error that no better AUC predictor can remove.",
            100.0 * HEADLINE_AUC_ERROR
        );
        Ok(Output { tables: vec![summary_table, by_task], figures: vec![figure], summary, ..Default::default() })
    }
}

struct BudgetScatter {
    points: Vec<(Family, usize, f64, f64)>,
}

impl Draw for BudgetScatter {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let body = root
            .titled(
                "Budget predicted by x^p from the true AUC vs budget the real curve needs (paper's 30 tasks × 3 families)",
                (FONT, 20).into_font().color(&palette::INK),
            )
            .map_err(plot_err)?;
        for (i, area) in body.split_evenly((1, TARGETS.len())).iter().enumerate() {
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .caption(format!("target {}", TARGETS[i]), (FONT, 16).into_font().color(&palette::INK))
                .x_label_area_size(40)
                .y_label_area_size(55)
                .build_cartesian_2d((1f64..5000f64).log_scale(), (1f64..5000f64).log_scale())
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .light_line_style(palette::GRID.mix(0.5))
                .bold_line_style(palette::GRID)
                .x_desc("examples needed (real curve)")
                .y_desc("examples predicted")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .label_style((FONT, 11).into_font().color(&palette::INK))
                .draw()
                .map_err(plot_err)?;
            for (factor, style) in [(1.0, palette::MUTED.stroke_width(1)), (2.0, palette::GRID.stroke_width(1)), (0.5, palette::GRID.stroke_width(1))] {
                chart
                    .draw_series(LineSeries::new([(1.0, factor), (5000.0, 5000.0 * factor)], style))
                    .map_err(plot_err)?;
            }
            for family in Family::ALL {
                let color = palette::family(family);
                chart
                    .draw_series(
                        self.points
                            .iter()
                            .filter(|p| p.0 == family && p.1 == i)
                            .map(|p| Circle::new((p.2, p.3), 3, color.mix(0.8).filled())),
                    )
                    .map_err(plot_err)?;
            }
        }
        Ok(())
    }
}
