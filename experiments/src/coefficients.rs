//! `coefficients`: the paper's per-family line `AUC' = c · CoS-Low + I` and what it implies — the
//! predicted curve `x^p` and the budget for a target score at each CoS-Low from 0 to 0.7.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::curve::log2_position;
use dataeff::predict::{Coefficients, budget_for_target, curve_exponent, predicted_auc, predicted_score_at, published_coefficients};
use dataeff::Family;

use crate::figure::{Draw, FONT, palette, plot_err, render, x_tick_labels};
use crate::experiment::{Context, Experiment, Output};
use crate::table::{Cell, Table};

pub struct CoefficientsExperiment;

/// CoS-Low values drawn and tabulated (the paper's tasks span roughly this range).
const COSLOW_GRID: [f64; 8] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
/// Targets tabulated for the budget.
const TARGETS: [f64; 2] = [0.8, 0.9];

/// The authors' worked example (PAPER.md §5: CoS-Low 0.65 on their line 0.54 · CoS-Low + 0.31,
/// target 0.9, "about 1,028 examples") and the same task on Llama's published line.
const AUTHORS_SLOPE: f64 = 0.54;
const AUTHORS_INTERCEPT: f64 = 0.31;
const WORKED_EXAMPLE: PredictCall =
    PredictCall { line: Line::Own { slope: AUTHORS_SLOPE, intercept: AUTHORS_INTERCEPT }, coslow: 0.65, target: 0.9 };
const WORKED_EXAMPLE_ON_LLAMA: PredictCall = PredictCall { line: Line::Published(Family::Llama), ..WORKED_EXAMPLE };

/// A `dataeff predict` call that the report quotes with its answer. The README shows the same
/// calls; tests/cli_hardening.rs runs every call the report quotes and checks the number.
struct PredictCall {
    line: Line,
    coslow: f64,
    target: f64,
}

/// Which line maps CoS-Low to AUC: a family's published one (`--family`) or given (`--slope`, `--intercept`).
enum Line {
    Published(Family),
    Own { slope: f64, intercept: f64 },
}

impl PredictCall {
    /// The command line.
    fn command(&self) -> String {
        let line = match self.line {
            Line::Published(family) => format!("--family {family}"),
            Line::Own { slope, intercept } => format!("--slope {slope} --intercept {intercept}"),
        };
        format!("dataeff predict {line} --coslow {} --target {}", self.coslow, self.target)
    }

    /// The budget it prints (`n = …`), from the same two calls the verb makes.
    fn budget(&self) -> anyhow::Result<f64> {
        let line = match self.line {
            Line::Published(family) => published_coefficients()[&family],
            Line::Own { slope, intercept } => Coefficients { slope, slope_pm: 0.0, intercept, intercept_pm: 0.0 },
        };
        Ok(budget_for_target(self.target, predicted_auc(self.coslow, &line))?)
    }
}

impl Experiment for CoefficientsExperiment {
    fn id(&self) -> &'static str {
        "coefficients"
    }
    fn title(&self) -> &'static str {
        "Table + figure: published coefficients per family and the curves and budgets they imply"
    }
    fn inputs(&self) -> &'static [&'static str] {
        &["data/coefficients.csv"]
    }

    fn run(&self, _ctx: &Context) -> anyhow::Result<Output> {
        let coefficients = published_coefficients();
        let mut published = Table::new("coefficients", &["family", "model", "coslow_slope", "slope_pm", "intercept", "intercept_pm"]);
        for (family, c) in &coefficients {
            published.push(vec![
                Cell::text(family.prefix()),
                Cell::text(family.model()),
                Cell::Num(c.slope, 3),
                Cell::Num(c.slope_pm, 3),
                Cell::Num(c.intercept, 3),
                Cell::Num(c.intercept_pm, 3),
            ]);
        }
        let mut implied = Table::new("coefficients_implied", &["family", "coslow", "predicted_auc", "curve_exponent", "budget_t0.8", "budget_t0.9"]);
        for (family, c) in &coefficients {
            for coslow in COSLOW_GRID {
                let auc = predicted_auc(coslow, c);
                let mut row = vec![Cell::text(family.prefix()), Cell::Num(coslow, 1), auc.into(), curve_exponent(auc)?.into()];
                for t in TARGETS {
                    row.push(Cell::Num(budget_for_target(t, auc)?, 0));
                }
                implied.push(row);
            }
        }
        let llama = &coefficients[&Family::Llama];
        let (from, to) = (COSLOW_GRID[0], COSLOW_GRID[COSLOW_GRID.len() - 1]);
        let (auc_from, auc_to) = (predicted_auc(from, llama), predicted_auc(to, llama));
        let summary = format!(
            "The paper's coefficients (its Table of learned coefficients) turned into curves: a CoS-Low of \
             {from} to {to} moves Llama's predicted AUC from {auc_from:.3} to {auc_to:.3} and the budget for 90% of \
             human level from {:.0} to {:.0} examples. The authors' worked example (CoS-Low {}, coefficients \
             {AUTHORS_SLOPE} and {AUTHORS_INTERCEPT}, target {}) gives about 1,028 examples in the paper; `{}` \
             gives n = {:.1}, and on Llama's published line ({} and {:.3}) `{}` gives n = {:.1}.",
            budget_for_target(0.9, auc_from)?,
            budget_for_target(0.9, auc_to)?,
            WORKED_EXAMPLE.coslow,
            WORKED_EXAMPLE.target,
            WORKED_EXAMPLE.command(),
            WORKED_EXAMPLE.budget()?,
            llama.slope,
            llama.intercept,
            WORKED_EXAMPLE_ON_LLAMA.command(),
            WORKED_EXAMPLE_ON_LLAMA.budget()?,
        );
        let figure = render("coefficients", (1700, 500), &Implied { coefficients: coefficients.into_iter().collect() })?;
        Ok(Output { tables: vec![published, implied], figures: vec![figure], summary, ..Default::default() })
    }
}

struct Implied {
    coefficients: Vec<(Family, Coefficients)>,
}

impl Draw for Implied {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let body = root
            .titled("Curves and budgets implied by the published coefficients (CoS-Low 0 → 0.7, light → dark)", (FONT, 22).into_font().color(&palette::INK))
            .map_err(plot_err)?;
        let areas = body.split_evenly((1, self.coefficients.len() + 1));
        let ticks: Vec<(f64, String)> =
            [0u32, 10, 50, 200, 1000, 5000].iter().map(|&n| (log2_position(f64::from(n)), n.to_string())).collect();
        for (area, (family, c)) in areas.iter().zip(&self.coefficients) {
            let mut chart = ChartBuilder::on(area)
                .margin(14)
                .caption(family.model(), (FONT, 16).into_font().color(&palette::INK))
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .light_line_style(palette::GRID.mix(0.5))
                .bold_line_style(palette::GRID)
                .x_labels(0)
                .x_desc("budget (log2 axis)")
                .y_desc("predicted normalised score")
                .label_style((FONT, 12).into_font().color(&palette::INK))
                .draw()
                .map_err(plot_err)?;
            x_tick_labels(root, &ticks, |x| chart.backend_coord(&(x, 0.0)), 12)?;
            for (i, coslow) in COSLOW_GRID.iter().enumerate() {
                let auc = predicted_auc(*coslow, c);
                let color = palette::sequential(i as f64 / (COSLOW_GRID.len() - 1) as f64);
                let points = (0..=200).map(|k| {
                    let x = f64::from(k) / 200.0;
                    (x, predicted_score_at(x, auc).unwrap_or(f64::NAN))
                });
                chart.draw_series(LineSeries::new(points, color.stroke_width(2))).map_err(plot_err)?;
            }
        }
        let area = areas.last().expect("one area per family plus one");
        let mut chart = ChartBuilder::on(area)
            .margin(14)
            .caption("Budget for 90% of human level", (FONT, 16).into_font().color(&palette::INK))
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..0.7f64, (1f64..5000f64).log_scale())
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .light_line_style(palette::GRID.mix(0.5))
            .bold_line_style(palette::GRID)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("CoS-Low")
            .y_desc("examples")
            .label_style((FONT, 12).into_font().color(&palette::INK))
            .draw()
            .map_err(plot_err)?;
        for (family, c) in &self.coefficients {
            let color = palette::family(*family);
            let points = (0..=70).filter_map(|k| {
                let coslow = f64::from(k) / 100.0;
                budget_for_target(0.9, predicted_auc(coslow, c)).ok().map(|n| (coslow, n))
            });
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(plot_err)?
                .label(family.prefix())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        crate::figure::draw_legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
        Ok(())
    }
}
