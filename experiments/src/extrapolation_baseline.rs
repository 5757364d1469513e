//! `extrapolation_baseline`: the practitioner's real alternative to CoS-Low — annotate a little,
//! fine-tune, and extrapolate the learning curve. From the zero-shot point and the first m budgets
//! (m = 2, 3, 4: 100, 200, 500 labels), a power law `a − b·(n+1)^(−c)` and the paper's `x^p` are
//! fitted and scored with the shared error definitions (`dataeff::evaluate`) against the real curve,
//! beside `x^p` from the true AUC (the floor) and from the true AUC off by the paper's ±0.086.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::evaluate::{auc_absolute_error, auc_relative_error, budget_error, summarise};
use dataeff::predict::COSLOW_LABELS;

use crate::baselines::{
    HEADLINE_AUC_ERROR, OBSERVED_ROUNDS, Prediction, TARGETS, actual_budgets, exponent_extrapolation, from_auc,
    power_law_extrapolation,
};
use crate::figure::{Draw, FONT, palette, plot_err, render};
use crate::study::{TaskCurve, paper_curves};
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::table::{Cell, Table};

pub struct ExtrapolationBaseline;

/// Predicts one curve's data efficiency (`None`: the fit failed).
pub type Predictor = Box<dyn Fn(&TaskCurve) -> Option<Prediction>>;

/// A predictor of one curve's data efficiency: its name and how it predicts (None: the fit failed).
pub struct Method {
    pub name: String,
    pub labels: f64,
    pub predict: Predictor,
}

/// Every predictor compared, in table order.
pub fn methods() -> Vec<Method> {
    let k = COSLOW_LABELS as f64;
    let mut out = vec![
        Method { name: "x^p, true AUC (floor)".into(), labels: 0.0, predict: Box::new(|c| Some(from_auc(c.summary.extrapolation_auc, 0.0))) },
        Method {
            name: format!("x^p, true AUC + {HEADLINE_AUC_ERROR}"),
            labels: k,
            predict: Box::new(move |c| Some(from_auc(c.summary.extrapolation_auc + HEADLINE_AUC_ERROR, k))),
        },
        Method {
            name: format!("x^p, true AUC − {HEADLINE_AUC_ERROR}"),
            labels: k,
            predict: Box::new(move |c| Some(from_auc(c.summary.extrapolation_auc - HEADLINE_AUC_ERROR, k))),
        },
    ];
    for m in OBSERVED_ROUNDS {
        let labels = crate::baselines::labels_for_rounds(m);
        out.push(Method { name: format!("power law, first {m} budgets"), labels, predict: Box::new(move |c| power_law_extrapolation(c, m).ok()) });
        out.push(Method { name: format!("x^p fit, first {m} budgets"), labels, predict: Box::new(move |c| exponent_extrapolation(c, m).ok()) });
    }
    out
}

/// Per-method scores over a set of curves.
pub struct MethodScore {
    pub auc_mae: f64,
    pub auc_rel: f64,
    /// Per target: summary of |log2| budget errors.
    pub budget: Vec<dataeff::evaluate::ErrorSummary>,
    pub failed: usize,
}

pub fn score(method: &Method, curves: &[TaskCurve]) -> MethodScore {
    let (mut abs, mut rel, mut failed) = (Vec::new(), Vec::new(), 0);
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); TARGETS.len()];
    for c in curves {
        let Some(p) = (method.predict)(c) else {
            failed += 1;
            continue;
        };
        let truth = c.summary.extrapolation_auc;
        abs.push(auc_absolute_error(p.auc, truth));
        rel.push(auc_relative_error(p.auc, truth));
        for (i, a) in actual_budgets(c).into_iter().enumerate() {
            errors[i].extend(budget_error(p.budgets[i], a));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    MethodScore { auc_mae: mean(&abs), auc_rel: mean(&rel), budget: errors.iter().map(|e| summarise(e)).collect(), failed }
}

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
        for method in methods() {
            let s = score(&method, &shared);
            let mut row = vec![
                Cell::text(&method.name),
                Cell::Int(method.labels as i64),
                Cell::Int(shared.len() as i64),
                Cell::Int(s.failed as i64),
                s.auc_mae.into(),
                s.auc_rel.into(),
            ];
            row.extend(s.budget.iter().map(|b| Cell::from(b.median)));
            let last = s.budget.last().expect("targets");
            row.extend([Cell::from(last.mean), Cell::Num(last.within_factor_two, 2)]);
            table.push(row);
            if method.name.starts_with("power law, first 2") || method.name.starts_with("x^p, true AUC (") || method.name.starts_with("x^p fit, first 4") {
                sentences.push(format!(
                    "{} ({} labels): AUC MAE {:.3}, median budget error ×{:.2} at target 0.9",
                    method.name, method.labels, s.auc_mae, last.median.exp2()
                ));
            }
            lines.push((method.name.clone(), s.budget.iter().map(|b| b.median).collect::<Vec<_>>()));
        }
        let figure = render("extrapolation_baseline", (1100, 560), &ErrorLines { lines })?;
        let summary = format!(
            "Errors are defined once (`dataeff::evaluate`): AUC absolute and relative error, and budget error \
             |log2(predicted/needed)| per target, over the 90 curves of the paper's 30 tasks; extrapolators see \
             the normalised curve (zero-shot floor and ceiling known; where no human level is published the ceiling \
             is the curve's best score, an advantage to the extrapolators). The power law keeps the measured points, \
             so a target already met within the budgets it saw is read exactly (hence its zero medians at low \
             targets). {}. CoS-Low spends {} labels.",
            sentences.join("; "),
            COSLOW_LABELS
        );
        Ok(Output { tables: vec![table], figures: vec![figure], summary, ..Default::default() })
    }
}

struct ErrorLines {
    lines: Vec<(String, Vec<f64>)>,
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
        for (i, (name, medians)) in self.lines.iter().enumerate() {
            // Greys: x^p from the (true ± error) AUC; oranges: power law; blues: x^p fit; darker = more budgets seen.
            let shade = |rgb: RGBColor, k: f64| RGBColor(
                (f64::from(rgb.0) * k) as u8, (f64::from(rgb.1) * k) as u8, (f64::from(rgb.2) * k) as u8);
            let m = name.chars().rev().find_map(|ch| ch.to_digit(10)).map_or(0.0, f64::from);
            let color = if name.starts_with("x^p, true") {
                palette::INK.mix(1.0 - 0.3 * i as f64).to_rgba()
            } else if name.starts_with("power law") {
                shade(palette::family(dataeff::Family::Mistral), 1.3 - 0.2 * m).to_rgba()
            } else {
                shade(palette::family(dataeff::Family::Llama), 1.3 - 0.2 * m).to_rgba()
            };
            let style = color.stroke_width(2);
            let pts: Vec<(f64, f64)> = TARGETS.iter().copied().zip(medians.iter().copied()).filter(|p| p.1.is_finite()).collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), style))
                .map_err(plot_err)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(plot_err)?;
        }
        crate::figure::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}
