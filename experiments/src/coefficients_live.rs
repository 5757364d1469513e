//! `coefficients_live`: the paper's line `AUC' = c · CoS-Low + I` fitted to the live study, per
//! model (OLS of the live AUC on the repeat-mean CoS-Low over tasks), with three spreads named
//! apart — OLS standard errors, the SD of a seeded pairs bootstrap, the SD of the leave-one-task-out
//! refits — because the paper's ± (PAPER.md §5) is of unstated origin; the paper's table beside.

use dataeff::Family;
use plotters::coord::Shift;
use plotters::prelude::*;
use dataeff::predict::published_coefficients;

use crate::experiment::{Context, Experiment, LIVE_INPUTS, Output};
use crate::live_line::{RESAMPLES, SEED, model_line};
use crate::figure::{Draw, FONT, palette, plot_err, render};
use crate::live_tasks::{READINGS, Reading, live_models, no_live_results};
use crate::table::{Cell, Table};

pub struct CoefficientsLive;

/// The reading the figure draws (the headline: exact match).
const HEADLINE: Reading = Reading::ExactMatch;

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
        let panels: Vec<Panel> = models
            .iter()
            .filter_map(|m| {
                let (_, line) = model_line(m, HEADLINE);
                let line = line.ok()?;
                let points = m
                    .coslow_and_auc_in(HEADLINE)
                    .into_iter()
                    .map(|(t, coslow, auc)| Point {
                        task: t.task.clone(),
                        coslow,
                        coslow_sd: Some(t.metric_sd(|c| c.cos_low)).filter(|v| v.is_finite()).unwrap_or(0.0),
                        auc,
                        auc_se: t.noise.auc_se.unwrap_or(0.0),
                        flagged: !t.noise.flags.is_empty(),
                    })
                    .collect();
                Some(Panel { model: m.model.clone(), slope: line.fit.slope, intercept: line.fit.intercept, points })
            })
            .collect();
        let mut figures = Vec::new();
        if !panels.is_empty() {
            figures.push(render("coefficients_live", (620 * panels.len() as u32 + 80, 600), &Scatter { panels })?);
            paragraphs.push(
                "The figure: each task's repeat-mean CoS-Low (± its SD over repeats) against its exact-match AUC (± its \
                 test-set standard error), hollow where the curve is flagged flat or noisy; the fitted line in black, \
                 the paper's three published lines in their families' colours."
                    .to_string(),
            );
        }
        Ok(Output { tables: vec![table], figures, summary: paragraphs.join("\n\n"), ..Default::default() })
    }
}

/// One task in the scatter.
struct Point {
    task: String,
    coslow: f64,
    coslow_sd: f64,
    auc: f64,
    auc_se: f64,
    flagged: bool,
}

/// One model's panel: its tasks and its fitted line.
struct Panel {
    model: String,
    slope: f64,
    intercept: f64,
    points: Vec<Point>,
}

struct Scatter {
    panels: Vec<Panel>,
}

impl Draw for Scatter {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let body = root
            .titled("CoS-Low vs the live AUC (exact match): each model's line and the paper's", (FONT, 20).into_font().color(&palette::INK))
            .map_err(plot_err)?;
        let published = published_coefficients();
        for (area, panel) in body.split_evenly((1, self.panels.len())).iter().zip(&self.panels) {
            let lo = panel.points.iter().map(|p| p.coslow - p.coslow_sd).fold(f64::INFINITY, f64::min);
            let hi = panel.points.iter().map(|p| p.coslow + p.coslow_sd).fold(f64::NEG_INFINITY, f64::max);
            let pad = ((hi - lo) * 0.1).max(0.005);
            let (x0, x1) = (lo - pad, hi + pad);
            let mut chart = ChartBuilder::on(area)
                .margin(14)
                .caption(&panel.model, (FONT, 16).into_font().color(&palette::INK))
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d(x0..x1, 0f64..1.05f64)
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .light_line_style(palette::GRID.mix(0.5))
                .bold_line_style(palette::GRID)
                .x_desc("CoS-Low (repeat mean ± SD)")
                .y_desc("AUC (± test-set SE)")
                .x_label_formatter(&|v| format!("{v:.3}"))
                .label_style((FONT, 12).into_font().color(&palette::INK))
                .draw()
                .map_err(plot_err)?;
            for family in Family::ALL {
                let c = &published[&family];
                let line = [(x0, c.slope * x0 + c.intercept), (x1, c.slope * x1 + c.intercept)];
                chart
                    .draw_series(LineSeries::new(line, palette::family(family).mix(0.7).stroke_width(1)))
                    .map_err(plot_err)?
                    .label(format!("paper, {}", family.model()))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], palette::family(family).stroke_width(2)));
            }
            let fitted = [(x0, panel.slope * x0 + panel.intercept), (x1, panel.slope * x1 + panel.intercept)];
            chart
                .draw_series(LineSeries::new(fitted, palette::INK.stroke_width(2)))
                .map_err(plot_err)?
                .label(format!("ours: {:.2} · CoS-Low + {:.2}", panel.slope, panel.intercept))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], palette::INK.stroke_width(2)));
            let label_style = (FONT, 10).into_font().color(&palette::INK.mix(0.8));
            let anchors: Vec<(i32, i32)> = panel.points.iter().map(|p| chart.backend_coord(&(p.coslow, p.auc))).collect();
            let sizes = panel
                .points
                .iter()
                .map(|p| area.estimate_text_size(&p.task, &label_style).map_err(plot_err))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let offsets = crate::figure::label_offsets(&anchors, &sizes, chart.plotting_area().get_pixel_range().0.end);
            for (p, offset) in panel.points.iter().zip(offsets) {
                let bars = [
                    vec![(p.coslow - p.coslow_sd, p.auc), (p.coslow + p.coslow_sd, p.auc)],
                    vec![(p.coslow, p.auc - p.auc_se), (p.coslow, p.auc + p.auc_se)],
                ];
                for bar in bars {
                    chart.draw_series(std::iter::once(PathElement::new(bar, palette::MUTED.stroke_width(1)))).map_err(plot_err)?;
                }
                let style = if p.flagged { palette::INK.stroke_width(1) } else { palette::INK.filled() };
                chart.draw_series(std::iter::once(Circle::new((p.coslow, p.auc), 4, style))).map_err(plot_err)?;
                let label = EmptyElement::at((p.coslow, p.auc))
                    + Text::new(p.task.clone(), offset, label_style.clone());
                chart.draw_series(std::iter::once(label)).map_err(plot_err)?;
            }
            crate::figure::draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}
