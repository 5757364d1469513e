//! `uncertainty`: how sensitive a predicted budget is to an error in the AUC. For each AUC, the
//! budget `x^p` gives for a target, and the interval implied by an AUC error of ±0.05 and ±0.086
//! (the paper's headline error, read as absolute); the real curves' needs are drawn on top.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::predict::budget_for_target;
use dataeff::Family;

use crate::baselines::{HEADLINE_AUC_ERROR, actual_budgets, clamp_auc, target_index};
use crate::figure::{Draw, FONT, palette, plot_err, render};
use crate::study::paper_curves;
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::table::{Cell, Table};

pub struct Uncertainty;

/// AUC errors whose budget intervals are shown.
pub const AUC_ERRORS: [f64; 2] = [0.05, HEADLINE_AUC_ERROR];
/// The target drawn in the figure.
const FIGURE_TARGET: f64 = 0.9;

/// Budget for `target` at `auc`, with the AUC kept inside (0, 1).
fn budget(target: f64, auc: f64) -> f64 {
    budget_for_target(target, clamp_auc(auc)).expect("AUC clamped into (0, 1) and target in (0, 1]")
}

/// The AUC at which the summary reads the interval.
const EXAMPLE_AUC: f64 = 0.4;

/// The paragraph: where on `aucs` an AUC error of ±0.05 moves the budget for [`FIGURE_TARGET`]
/// most (in examples and as a ratio), found by comparing the intervals, and the interval at
/// [`EXAMPLE_AUC`].
fn summarise(aucs: &[f64]) -> String {
    let e = AUC_ERRORS[0];
    // (AUC, low, high) of the ±e interval at each AUC: a higher AUC means fewer examples.
    let intervals: Vec<(f64, f64, f64)> =
        aucs.iter().map(|&a| (a, budget(FIGURE_TARGET, a + e), budget(FIGURE_TARGET, a - e))).collect();
    let widest = |key: fn(&(f64, f64, f64)) -> f64| {
        *intervals.iter().max_by(|a, b| key(a).total_cmp(&key(b))).expect("a grid of AUCs")
    };
    let (a_abs, lo_abs, hi_abs) = widest(|(_, lo, hi)| hi - lo);
    let (a_rel, lo_rel, hi_rel) = widest(|(_, lo, hi)| hi / lo);
    let mid = EXAMPLE_AUC;
    format!(
        "For {:.0}% of human level, an AUC error of ±{e} moves the budget most in examples at AUC {a_abs:.2} \
         ({lo_abs:.0}–{hi_abs:.0}) and most as a ratio at AUC {a_rel:.2} ({lo_rel:.0}–{hi_rel:.0}, \
         ×{:.2}); at AUC {mid} the budget is {:.0} examples, and ±{e} widens it to {:.0}–{:.0} \
         (±{HEADLINE_AUC_ERROR}: {:.0}–{:.0}). The dots are the real curves' needs at their true AUC: their scatter \
         around the line is the curve-shape error of `curve_shape_error`.",
        100.0 * FIGURE_TARGET,
        hi_rel / lo_rel,
        budget(FIGURE_TARGET, mid),
        budget(FIGURE_TARGET, mid + e),
        budget(FIGURE_TARGET, mid - e),
        budget(FIGURE_TARGET, mid + HEADLINE_AUC_ERROR),
        budget(FIGURE_TARGET, mid - HEADLINE_AUC_ERROR),
    )
}

impl Experiment for Uncertainty {
    fn id(&self) -> &'static str {
        "uncertainty"
    }
    fn title(&self) -> &'static str {
        "Table + figure: the budget interval implied by an AUC error of ±0.05 and ±0.086"
    }
    fn inputs(&self) -> &'static [&'static str] {
        PUBLISHED_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let aucs: Vec<f64> = (2..=18).map(|i| f64::from(i) * 0.05).collect();
        let mut table = Table::new(
            "uncertainty",
            &["auc", "target", "budget", "low_pm0.05", "high_pm0.05", "ratio_pm0.05", "low_pm0.086", "high_pm0.086", "ratio_pm0.086"],
        );
        for &t in &[0.8, FIGURE_TARGET] {
            for &a in &aucs {
                let mut row = vec![Cell::Num(a, 2), Cell::Num(t, 1), Cell::Num(budget(t, a), 0)];
                for e in AUC_ERRORS {
                    // A higher AUC means a faster curve: fewer examples.
                    let (lo, hi) = (budget(t, a + e), budget(t, a - e));
                    row.extend([Cell::Num(lo, 0), Cell::Num(hi, 0), Cell::Num(hi / lo, 2)]);
                }
                table.push(row);
            }
        }
        let curves = paper_curves(ctx)?;
        let i = target_index(FIGURE_TARGET);
        let real: Vec<(Family, f64, f64)> = curves
            .iter()
            .filter_map(|c| Some((c.family, c.summary.extrapolation_auc, actual_budgets(c)[i]?.max(1.0))))
            .collect();
        let summary = summarise(&aucs);
        let figure = render("uncertainty", (1100, 600), &Bands { real })?;
        Ok(Output { tables: vec![table], figures: vec![figure], summary, ..Default::default() })
    }
}

struct Bands {
    real: Vec<(Family, f64, f64)>,
}

impl Draw for Bands {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .caption(
                format!("Budget for target {FIGURE_TARGET} vs AUC, with the interval of an AUC error of ±0.05 (dark) and ±{HEADLINE_AUC_ERROR} (light)"),
                (FONT, 17).into_font().color(&palette::INK),
            )
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.05f64..0.95f64, (1f64..5000f64).log_scale())
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .light_line_style(palette::GRID.mix(0.5))
            .bold_line_style(palette::GRID)
            .x_desc("AUC")
            .y_desc("examples")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style((FONT, 12).into_font().color(&palette::INK))
            .draw()
            .map_err(plot_err)?;
        let grid: Vec<f64> = (0..=180).map(|i| 0.05 + 0.9 * f64::from(i) / 180.0).collect();
        for (e, alpha) in [(HEADLINE_AUC_ERROR, 0.18), (0.05, 0.35)] {
            let upper = grid.iter().map(|&a| (a, budget(FIGURE_TARGET, a - e)));
            let lower = grid.iter().rev().map(|&a| (a, budget(FIGURE_TARGET, a + e)));
            let polygon: Vec<(f64, f64)> = upper.chain(lower).collect();
            chart
                .draw_series(std::iter::once(Polygon::new(polygon, palette::sequential(0.8).mix(alpha).filled())))
                .map_err(plot_err)?;
        }
        chart
            .draw_series(LineSeries::new(grid.iter().map(|&a| (a, budget(FIGURE_TARGET, a))), palette::INK.stroke_width(2)))
            .map_err(plot_err)?;
        for family in Family::ALL {
            let color = palette::family(family);
            chart
                .draw_series(self.real.iter().filter(|p| p.0 == family).map(|p| Circle::new((p.1, p.2), 3, color.filled())))
                .map_err(plot_err)?
                .label(family.model())
                .legend(move |(x, y)| Circle::new((x + 6, y), 3, color.filled()));
        }
        crate::figure::draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        Ok(())
    }
}
