//! `curves`: the data-efficiency curve grid of each family (the paper's Figure "data efficiency
//! curves"): normalised score (0-shot → 0, human level → 1) against budget on the log2 axis,
//! ordered from hockey-stick (lowest AUC) to quick-slope (highest AUC). The 30 tasks all three
//! families share get one grid per family; Llama's 10 extra tasks get their own grid.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::curve::log2_position;
use dataeff::Family;

use crate::figure::{Draw, FONT, palette, plot_err, render, x_tick_labels};
use crate::study::{TaskCurve, family_curves, published_curves};
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::table::{Cell, Table};

pub struct Curves;

/// Budgets labelled on the x axis of the bottom row.
const TICK_BUDGETS: [u32; 3] = [0, 50, 5000];

impl Experiment for Curves {
    fn id(&self) -> &'static str {
        "curves"
    }
    fn title(&self) -> &'static str {
        "Figure: the data-efficiency curve grid per family, hockey-stick to quick-slope"
    }
    fn inputs(&self) -> &'static [&'static str] {
        PUBLISHED_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let curves = published_curves(ctx)?;
        let mut figures = Vec::new();
        let mut table = Table::new("curves", &["family", "grid", "position", "task", "auc", "budgets", "normalised_scores"]);
        let mut grids: Vec<(String, String, Family, Vec<&TaskCurve>, usize)> = Vec::new();
        for family in Family::ALL {
            let title = format!("{} — data-efficiency curves of the paper's 30 tasks", family.model());
            grids.push((format!("curves_{family}"), title, family, family_curves(&curves, family, true), 10));
        }
        let extra: Vec<&TaskCurve> = family_curves(&curves, Family::Llama, false).into_iter().filter(|c| !c.shared).collect();
        let title = format!("{} — the {} tasks only Llama has", Family::Llama.model(), extra.len());
        grids.push(("curves_llama_extra".into(), title, Family::Llama, extra, 5));

        for (name, title, family, mut tasks, cols) in grids {
            tasks.sort_by(|a, b| a.summary.extrapolation_auc.total_cmp(&b.summary.extrapolation_auc));
            for (i, c) in tasks.iter().enumerate() {
                let join = |v: &[String]| v.join(" ");
                table.push(vec![
                    Cell::text(family.prefix()),
                    Cell::text(&name),
                    Cell::Int(i as i64 + 1),
                    Cell::text(&c.task),
                    c.summary.extrapolation_auc.into(),
                    Cell::text(join(&c.normalised.budgets.iter().map(|b| b.to_string()).collect::<Vec<_>>())),
                    Cell::text(join(&c.normalised.y.iter().map(|y| format!("{y:.6}")).collect::<Vec<_>>())),
                ]);
            }
            let rows = tasks.len().div_ceil(cols);
            let grid = CurveGrid { title, color: palette::family(family), cols, tasks };
            figures.push(render(&name, (1700, 110 + 185 * rows as u32), &grid)?);
        }
        let summary = "Each panel is one task's cleaned curve on the paper's axes (x: log2 budget from 0 to 5000; \
             y: 0-shot to human level), panels ordered by AUC from hockey-stick (top left) to quick-slope \
             (bottom right), as in the paper's curve figure. The table lists each panel's normalised points."
            .to_string();
        Ok(Output { tables: vec![table], figures, summary, ..Default::default() })
    }
}

struct CurveGrid<'a> {
    title: String,
    color: RGBColor,
    cols: usize,
    tasks: Vec<&'a TaskCurve>,
}

impl Draw for CurveGrid<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let rows = self.tasks.len().div_ceil(self.cols);
        let (width, height) = root.dim_in_pixel();
        let title = root.titled(&self.title, (FONT, 24).into_font().color(&palette::INK)).map_err(plot_err)?;
        let body = title.margin(6, 40, 96, 16);
        let cells = body.split_evenly((rows, self.cols));
        let label = (FONT, 13).into_font().color(&palette::INK);
        let x_ticks: Vec<(f64, String)> =
            TICK_BUDGETS.iter().map(|&n| (log2_position(f64::from(n)), n.to_string())).collect();
        for (i, (cell, task)) in cells.iter().zip(&self.tasks).enumerate() {
            let bottom_row = i / self.cols == rows - 1 || i + self.cols >= self.tasks.len();
            let caption = format!("{} · {:.2}", shorten(&task.task, 22), task.summary.extrapolation_auc);
            let mut chart = ChartBuilder::on(cell)
                .margin_left(6)
                .margin_right(10)
                .caption(caption, (FONT, 12).into_font().color(&palette::INK))
                .x_label_area_size(if bottom_row { 20 } else { 4 })
                .y_label_area_size(2)
                .build_cartesian_2d(-0.02f64..1.02f64, -0.04f64..1.06f64)
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .axis_style(palette::INK)
                .x_labels(0)
                .y_labels(0)
                .draw()
                .map_err(plot_err)?;
            if bottom_row {
                x_tick_labels(root, &x_ticks, |x| chart.backend_coord(&(x, -0.04)), 11)?;
            }
            chart
                .draw_series(LineSeries::new([(0.0, 1.0), (1.0, 1.0)], palette::GRID.stroke_width(1)))
                .map_err(plot_err)?;
            let points: Vec<(f64, f64)> = task.normalised.x.iter().copied().zip(task.normalised.y.iter().copied()).collect();
            chart.draw_series(LineSeries::new(points.clone(), self.color.stroke_width(2))).map_err(plot_err)?;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 2, self.color.filled())))
                .map_err(plot_err)?;
            if i % self.cols == 0 {
                for (y, text) in [(1.0, "Human level"), (0.0, "0-shot")] {
                    let (_, py) = chart.backend_coord(&(0.0, y));
                    root.draw(&Text::new(text, (8, py - 7), label.clone())).map_err(plot_err)?;
                }
            }
        }
        let axis_label = (FONT, 16).into_font().color(&palette::INK);
        root.draw(&Text::new(
            "Fine-tuning budget (training examples, log2 axis; 0 = zero-shot)",
            (width as i32 / 2 - 230, height as i32 - 28),
            axis_label,
        ))
        .map_err(plot_err)?;
        Ok(())
    }
}

/// Cut a task name to `max` characters for a panel caption.
fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max { name.to_string() } else { format!("{}…", name.chars().take(max - 1).collect::<String>()) }
}
