//! `extrapolation_baseline`: the practitioner's real alternative to CoS-Low — annotate a little,
//! fine-tune, and extrapolate the learning curve. From the zero-shot point and the first m budgets
//! (m = 2, 3, 4: 100, 200, 500 labels), a power law `a − b·(n+1)^(−c)` and the paper's `x^p` are
//! fitted and scored with the shared error definitions (`dataeff::evaluate`) against the real curve,
//! beside `x^p` from the true AUC (the floor) and from the true AUC off by the paper's ±0.086.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::predict::COSLOW_LABELS;

use crate::baselines::{AucOffset, Method, TARGETS, score};
use crate::figure::{Draw, FONT, palette, plot_err, render};
use crate::study::paper_curves;
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::table::{Cell, Table};

pub struct ExtrapolationBaseline;

/// The methods the summary quotes: the floor, the earliest power law and the latest `x^p` fit.
const HIGHLIGHTED: [Method; 3] =
    [Method::FromAuc(AucOffset::Exact), Method::PowerLaw { rounds: 2 }, Method::ExponentFit { rounds: 4 }];

impl Experiment for ExtrapolationBaseline {
    fn id(&self) -> &'static str {
        "extrapolation_baseline"
    }
    fn title(&self) -> &'static str {
        "Table + figure: learning-curve extrapolation from a few budgets vs x^p from the (true ± error) AUC"
    }
    fn inputs(&self) -> &'static [&'static str] {
        PUBLISHED_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let shared = paper_curves(ctx)?;
        let mut columns = vec!["method", "labels_spent", "curves", "failed_fits", "auc_mae", "auc_mean_rel_error"];
        let names: Vec<String> = TARGETS.iter().map(|t| format!("median_log2_err_t{t}")).collect();
        columns.extend(names.iter().map(String::as_str));
        columns.extend(["mean_log2_err_t0.9", "within_2x_t0.9"]);
        let mut table = Table::new("extrapolation_baseline", &columns);
        let mut lines = Vec::new();
        let mut sentences = Vec::new();
        for method in Method::all() {
            let s = score(method, &shared);
            let mut row = vec![
                Cell::text(method.name()),
                Cell::Int(method.labels() as i64),
                Cell::Int(shared.len() as i64),
                Cell::Int(s.failed as i64),
                s.auc_mae.into(),
                s.auc_rel.into(),
            ];
            row.extend(s.budget.iter().map(|b| Cell::from(b.median)));
            let last = s.budget.last().expect("targets");
            row.extend([Cell::from(last.mean), Cell::Num(last.within_factor_two, 2)]);
            table.push(row);
            if HIGHLIGHTED.contains(&method) {
                sentences.push(format!(
                    "{} ({} labels): AUC MAE {:.3}, median budget error ×{:.2} at target {}",
                    method.name(),
                    method.labels(),
                    s.auc_mae,
                    last.median.exp2(),
                    TARGETS[TARGETS.len() - 1]
                ));
            }
            lines.push((method, s.budget.iter().map(|b| b.median).collect::<Vec<_>>()));
        }
        // Targets at which some power law's median error is zero: read off the measured points.
        let exact: Vec<String> = TARGETS
            .iter()
            .enumerate()
            .filter(|(i, _)| lines.iter().any(|(m, medians)| matches!(m, Method::PowerLaw { .. }) && medians[*i] == 0.0))
            .map(|(_, t)| t.to_string())
            .collect();
        let hence = match exact.split_last() {
            None => String::new(),
            Some((last, [])) => format!(" (hence its zero medians at target {last})"),
            Some((last, rest)) => format!(" (hence its zero medians at targets {} and {last})", rest.join(", ")),
        };
        let tasks: std::collections::BTreeSet<&str> = shared.iter().map(|c| c.task.as_str()).collect();
        let figure = render("extrapolation_baseline", (1100, 560), &ErrorLines { lines })?;
        let summary = format!(
            "Errors are defined once (`dataeff::evaluate`): AUC absolute and relative error, and budget error \
             |log2(predicted/needed)| per target, over the {} curves of the paper's {} tasks; extrapolators see \
             the normalised curve (zero-shot floor and ceiling known; where no human level is published the ceiling \
             is the curve's best score, an advantage to the extrapolators). The power law keeps the measured points, \
             so a target already met within the budgets it saw is read exactly{hence}. {}. CoS-Low spends {} labels.",
            shared.len(),
            tasks.len(),
            sentences.join("; "),
            COSLOW_LABELS
        );
        Ok(Output { tables: vec![table], figures: vec![figure], summary, ..Default::default() })
    }
}

struct ErrorLines {
    /// Each method and its median budget error per target.
    lines: Vec<(Method, Vec<f64>)>,
}

impl Draw for ErrorLines {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let top = self.lines.iter().flat_map(|l| l.1.iter().copied()).filter(|v| v.is_finite()).fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .caption("Median budget error by target (|log2 predicted/needed|; 1 = off by 2×)", (FONT, 20).into_font().color(&palette::INK))
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.45f64..0.95f64, 0f64..top * 1.1)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .light_line_style(palette::GRID.mix(0.5))
            .bold_line_style(palette::GRID)
            .x_desc("target (fraction of the way from zero-shot to human level)")
            .y_desc("median |log2 error|")
            .label_style((FONT, 12).into_font().color(&palette::INK))
            .draw()
            .map_err(plot_err)?;
        for (i, (method, medians)) in self.lines.iter().enumerate() {
            // Greys: x^p from the (true ± error) AUC; oranges: power law; blues: x^p fit; darker = more budgets seen.
            let shade = |rgb: RGBColor, rounds: usize| {
                let k = 1.3 - 0.2 * rounds as f64;
                RGBColor((f64::from(rgb.0) * k) as u8, (f64::from(rgb.1) * k) as u8, (f64::from(rgb.2) * k) as u8)
            };
            let color = match *method {
                Method::FromAuc(_) => palette::INK.mix(1.0 - 0.3 * i as f64).to_rgba(),
                Method::PowerLaw { rounds } => shade(palette::family(dataeff::Family::Mistral), rounds).to_rgba(),
                Method::ExponentFit { rounds } => shade(palette::family(dataeff::Family::Llama), rounds).to_rgba(),
            };
            let style = color.stroke_width(2);
            let pts: Vec<(f64, f64)> = TARGETS.iter().copied().zip(medians.iter().copied()).filter(|p| p.1.is_finite()).collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), style))
                .map_err(plot_err)?
                .label(method.name())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(plot_err)?;
        }
        crate::figure::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}
