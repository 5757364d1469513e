//! `live_curves`: the live study's data-efficiency curves — one panel per task of each model
//! (score against budget on a log2 axis, the paper's parsing and the format-free label score),
//! beside the published Llama/Mistral/Qwen normalised curve of a task of the same name; and the
//! table of budgets, scores and AUCs on the live budget grid under two ceilings.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::Family;
use dataeff::test_noise;

use crate::experiment::{Context, Experiment, LIVE_INPUTS, Output};
use crate::figure::{Draw, FONT, palette, plot_err, render, x_tick_labels};
use crate::live_tasks::{LiveAuc, LiveModel, LiveTask, figure_name, join, join_scores, live_models, no_live_results};
use crate::study::{TaskCurve, published_curves};
use crate::table::{Cell, Table};

pub struct LiveCurves;

/// Budgets labelled on the x axis.
const TICK_BUDGETS: [u32; 5] = [0, 8, 64, 512, 5000];
/// The largest budget drawn (the paper's).
const X_MAX_BUDGET: f64 = 5000.0;
/// Panels per row.
const COLUMNS: usize = 5;
/// The label-score line's colour.
const LABEL_COLOR: RGBColor = RGBColor(150, 60, 140);

/// Where budget `n` sits on the figure's x axis: log2(max(n, 1)).
fn x_of(n: f64) -> f64 {
    n.max(1.0).log2()
}

impl Experiment for LiveCurves {
    fn id(&self) -> &'static str {
        "live_curves"
    }
    fn title(&self) -> &'static str {
        "Figure + table: the live study's curves per task, beside the published curve of a same-named task, and their AUC"
    }
    fn inputs(&self) -> &'static [&'static str] {
        LIVE_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let models = live_models(ctx);
        let mut table = Table::new(
            "live_curves",
            &[
                "model",
                "task",
                "metric",
                "budgets_run",
                "skipped_carried",
                "missing_filled",
                "scores",
                "zero_shot",
                "max_score",
                "auc",
                "auc_se",
                "test_examples",
                "rise",
                "rise_se",
                "flags",
                "human_level",
                "auc_paper_ceiling",
                "label_scores",
                "label_auc",
                "label_auc_se",
                "label_flags",
                "note",
            ],
        );
        if models.is_empty() {
            return Ok(Output { tables: vec![table], summary: no_live_results("each task's live curve"), ..Default::default() });
        }
        let published = published_curves(ctx)?;
        let mut figures = Vec::new();
        let mut paragraphs = vec![
            "The primary `auc` normalises each live curve from its zero-shot score (0) to its own best score (1) on the \
             live budget grid (x = log2 n / log2 n_max, n_max the largest budget the model was run at): a model this \
             small never gets near human level, so the paper's ceiling h = max(human level, max score) squashes \
             every curve towards 0. `auc_paper_ceiling` is that paper-rule AUC where the task has a transcribed \
             human level, and `label_auc` the primary AUC of the format-free label score (the label with the \
             highest answer log-likelihood), which a model that knows the answer but not the format still scores \
             on. A skipped budget (larger than the task's train pool) carries the last score forward; a grid \
             budget with no cell is filled by the paper's cleaning (running maximum). The figure's panels draw raw \
             scores (ours) beside the published curves normalised 0-shot → 0, human level → 1, on one log2 \
             budget axis up to the paper's 5000."
                .to_string(),
            format!(
                "How far to trust each curve: `auc_se` is the AUC's standard error from the test set alone (SD over \
                 {} bootstrap resamples of the test examples, the same resample at every budget, seed {}); `rise` is \
                 the best fine-tuned score minus zero-shot, with its paired standard error. A curve is flagged \
                 **flat** when its rise is under {} standard errors (the model did not learn the task within the \
                 budgets: its AUC normalises noise) and **noisy** when its `auc_se` is at least {} (the test set is \
                 too small for the AUC to say more than the paper's whole prediction error). Flagged tasks are kept \
                 in every analysis and named; `findings` also gives the headline correlation without them.",
                test_noise::RESAMPLES,
                test_noise::SEED,
                test_noise::FLAT_SIGMAS,
                test_noise::NOISY_AUC_SE,
            ),
        ];
        for model in &models {
            for task in &model.tasks {
                table.push(row(model, task));
            }
            paragraphs.push(model_paragraph(model));
            let panels: Vec<Panel> = model
                .tasks
                .iter()
                .filter(|t| t.points.is_some())
                .map(|t| Panel {
                    task: t,
                    published: Family::ALL
                        .into_iter()
                        .filter_map(|f| published.get(&(f, t.task.clone())).map(|c| (f, published_points(c))))
                        .collect(),
                })
                .collect();
            if !panels.is_empty() {
                let rows = panels.len().div_ceil(COLUMNS);
                let grid = Grid { title: format!("{} — live data-efficiency curves (grid {})", model.model, model.grid_text()), panels };
                figures.push(render(&figure_name("live_curves", &model.model), (1700, 150 + 200 * rows as u32), &grid)?);
            }
        }
        Ok(Output { tables: vec![table], figures, summary: paragraphs.join("\n\n"), ..Default::default() })
    }
}

fn auc_cell(auc: &Option<Result<LiveAuc, String>>) -> Cell {
    auc.as_ref().and_then(|a| a.as_ref().ok()).map(LiveAuc::value).into()
}

fn row(model: &LiveModel, t: &LiveTask) -> Vec<Cell> {
    let mut notes: Vec<String> = Vec::new();
    if let Err(why) = &t.auc {
        notes.push(format!("auc: {why}"));
    }
    if let Some(Err(why)) = &t.label_auc {
        notes.push(format!("label_auc: {why}"));
    }
    if !t.skipped.is_empty() {
        notes.push(format!("budget {} larger than the train pool: last score carried forward", join(&t.skipped)));
    }
    if !t.missing.is_empty() {
        notes.push(format!("budget {} not run: filled by the cleaning", join(&t.missing)));
    }
    let scores = |p: &Option<Vec<(u32, f64)>>| p.as_ref().map_or(Cell::Empty, |p| Cell::text(join_scores(p.iter().map(|x| x.1))));
    let max_score = t.points.as_ref().map(|p| p.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max));
    vec![
        Cell::text(&model.model),
        Cell::text(&t.task),
        t.metric.clone().map_or(Cell::Empty, Cell::text),
        Cell::text(join(&t.run)),
        Cell::text(join(&t.skipped)),
        Cell::text(join(&t.missing)),
        scores(&t.points),
        t.zero_shot().into(),
        max_score.into(),
        t.auc_value().into(),
        t.noise.auc_se.into(),
        t.noise.test_examples.map_or(Cell::Empty, |n| Cell::Int(n as i64)),
        t.noise.rise.map(|r| r.rise).into(),
        t.noise.rise.map(|r| r.se).filter(|v| v.is_finite()).into(),
        Cell::text(t.noise.flags_text()),
        t.human_level.into(),
        auc_cell(&t.auc_paper_ceiling),
        scores(&t.label_points),
        auc_cell(&t.label_auc),
        t.label_noise.auc_se.into(),
        Cell::text(t.label_noise.flags_text()),
        Cell::text(notes.join("; ")),
    ]
}

/// One model's paragraph: its grid, tasks, AUC range, and which budgets were skipped or missing.
fn model_paragraph(model: &LiveModel) -> String {
    let aucs: Vec<(&str, f64)> = model.tasks.iter().filter_map(|t| Some((t.task.as_str(), t.auc_value()?))).collect();
    let mut text = format!(
        "`{}`: {} task(s) on the budget grid {} ({} repeat(s) of the metrics).",
        model.model,
        model.tasks.len(),
        model.grid_text(),
        model.repeats().len()
    );
    if let (Some(lo), Some(hi)) = (aucs.iter().min_by(|a, b| a.1.total_cmp(&b.1)), aucs.iter().max_by(|a, b| a.1.total_cmp(&b.1))) {
        let mean = aucs.iter().map(|a| a.1).sum::<f64>() / aucs.len() as f64;
        text += &format!(
            " The AUC (ceiling = max score) of the {} task(s) with one runs from {:.3} ({}) to {:.3} ({}), mean {mean:.3}.",
            aucs.len(),
            lo.1,
            lo.0,
            hi.1,
            hi.0
        );
    }
    let ses: Vec<f64> = model.tasks.iter().filter_map(|t| t.noise.auc_se).collect();
    if !ses.is_empty() {
        let mut sorted = ses.clone();
        sorted.sort_by(f64::total_cmp);
        text += &format!(
            " The AUC's test-set standard error runs from {:.3} to {:.3} (median {:.3}).",
            sorted[0],
            sorted[sorted.len() - 1],
            dataeff::evaluate::summarise(&sorted).median
        );
    }
    for flag in [test_noise::CurveFlag::Flat, test_noise::CurveFlag::Noisy] {
        let flagged: Vec<&str> = model.tasks.iter().filter(|t| t.noise.flags.contains(&flag)).map(|t| t.task.as_str()).collect();
        if !flagged.is_empty() {
            text += &format!(" Flagged {} ({}): {}.", flag.name(), flagged.len(), flagged.join(", "));
        }
    }
    let without: Vec<&str> = model.tasks.iter().filter(|t| t.auc.is_err()).map(|t| t.task.as_str()).collect();
    if !without.is_empty() {
        text += &format!(" No AUC for {} (the table's note says why).", without.join(", "));
    }
    let skipped: Vec<String> =
        model.tasks.iter().filter(|t| !t.skipped.is_empty()).map(|t| format!("{} ({})", t.task, join(&t.skipped))).collect();
    if !skipped.is_empty() {
        text += &format!(" Skipped as larger than the train pool, last score carried forward: {}.", skipped.join(", "));
    }
    let missing: Vec<String> =
        model.tasks.iter().filter(|t| !t.missing.is_empty()).map(|t| format!("{} ({})", t.task, join(&t.missing))).collect();
    if !missing.is_empty() {
        text += &format!(" Not run yet, filled by the cleaning: {}.", missing.join(", "));
    }
    text
}

/// A published curve's normalised points on the figure's x axis.
fn published_points(c: &TaskCurve) -> Vec<(f64, f64)> {
    c.normalised.budgets.iter().zip(&c.normalised.y).map(|(&n, &y)| (x_of(f64::from(n)), y)).collect()
}

struct Panel<'a> {
    task: &'a LiveTask,
    published: Vec<(Family, Vec<(f64, f64)>)>,
}

struct Grid<'a> {
    title: String,
    panels: Vec<Panel<'a>>,
}

impl Draw for Grid<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let rows = self.panels.len().div_ceil(COLUMNS);
        let (width, height) = root.dim_in_pixel();
        let title = root.titled(&self.title, (FONT, 24).into_font().color(&palette::INK)).map_err(plot_err)?;
        let body = title.margin(6, 80, 40, 16);
        let cells = body.split_evenly((rows, COLUMNS));
        let x_ticks: Vec<(f64, String)> = TICK_BUDGETS.iter().map(|&n| (x_of(f64::from(n)), n.to_string())).collect();
        let x_max = x_of(X_MAX_BUDGET);
        for (cell, panel) in cells.iter().zip(&self.panels) {
            let t = panel.task;
            let flags = t.noise.flags_text();
            let caption = match (t.auc_value(), t.noise.auc_se) {
                (Some(a), Some(se)) => format!("{} · AUC {a:.2}±{se:.2}", t.task),
                (Some(a), None) => format!("{} · AUC {a:.2}", t.task),
                (None, _) => format!("{} · no AUC", t.task),
            } + &if flags.is_empty() { String::new() } else { format!(" · {flags}") };
            let mut chart = ChartBuilder::on(cell)
                .margin_left(8)
                .margin_right(10)
                .caption(caption, (FONT, 13).into_font().color(&palette::INK))
                .x_label_area_size(22)
                .y_label_area_size(30)
                .build_cartesian_2d(-0.2f64..x_max + 0.2, -0.04f64..1.06f64)
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(palette::GRID)
                .x_labels(0)
                .y_labels(3)
                .y_label_formatter(&|v| format!("{v:.1}"))
                .label_style((FONT, 11).into_font().color(&palette::INK))
                .axis_style(palette::INK)
                .draw()
                .map_err(plot_err)?;
            x_tick_labels(root, &x_ticks, |x| chart.backend_coord(&(x, -0.04)), 10)?;
            for (family, points) in &panel.published {
                let color = palette::family(*family).mix(0.55);
                chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(1))).map_err(plot_err)?;
            }
            let lines = [(t.label_points.as_ref(), LABEL_COLOR), (t.points.as_ref(), palette::INK)];
            for (points, color) in lines {
                let Some(points) = points else { continue };
                let xy: Vec<(f64, f64)> = points.iter().map(|&(n, s)| (x_of(f64::from(n)), s)).collect();
                chart.draw_series(LineSeries::new(xy.clone(), color.stroke_width(2))).map_err(plot_err)?;
                chart.draw_series(xy.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(plot_err)?;
            }
            for &n in &t.skipped {
                if let Some(&(_, s)) = t.points.as_ref().and_then(|p| p.iter().find(|p| p.0 == n)) {
                    chart
                        .draw_series(std::iter::once(Circle::new((x_of(f64::from(n)), s), 5, palette::INK.stroke_width(1))))
                        .map_err(plot_err)?;
                }
            }
        }
        // The legend and the axis description along the bottom.
        let font = (FONT, 14).into_font().color(&palette::INK);
        let y = height as i32 - 30;
        let mut x = 40;
        let mut entries: Vec<(String, RGBColor)> =
            vec![("live score (paper's parsing)".into(), palette::INK), ("live label score (format-free)".into(), LABEL_COLOR)];
        entries.extend(Family::ALL.map(|f| (format!("published {}, normalised", f.model()), palette::family(f))));
        for (text, color) in entries {
            root.draw(&PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))).map_err(plot_err)?;
            root.draw(&Text::new(text.clone(), (x + 30, y - 8), font.clone())).map_err(plot_err)?;
            x += 48 + 7 * text.chars().count() as i32;
        }
        root.draw(&Text::new(
            "budget (training examples, log2 axis; 0 = zero-shot); open ring = skipped budget, carried forward",
            (width as i32 / 2 - 330, y - 36),
            font,
        ))
        .map_err(plot_err)?;
        Ok(())
    }
}
