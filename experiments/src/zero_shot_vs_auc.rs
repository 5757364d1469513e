//! `zero_shot_vs_auc`: the paper's first finding — a task's zero-shot score does not tell how much
//! data it needs. Pearson and Spearman correlation (95% intervals) of AUC with the zero-shot score
//! and with the normalised zero-shot gap `(ceiling − zero-shot)/ceiling`, per family.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::stats::CorrelationKind;
use dataeff::Family;

use crate::correlation::{COLUMNS, cells, correlate};
use crate::figure::{Draw, FONT, palette, plot_err, render, unit_square_panel};
use crate::study::{TaskCurve, family_curves, published_curves};
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::table::{Cell, Table};

pub struct ZeroShotVsAuc;

/// A per-task quantity correlated with AUC.
type Feature = fn(&TaskCurve) -> Option<f64>;

/// The normalised zero-shot gap: the share of the ceiling still missing at zero-shot.
fn zero_shot_gap(c: &TaskCurve) -> Option<f64> {
    c.zero_shot.map(|z| (c.summary.human_eval - z) / c.summary.human_eval)
}

impl Experiment for ZeroShotVsAuc {
    fn id(&self) -> &'static str {
        "zero_shot_vs_auc"
    }
    fn title(&self) -> &'static str {
        "Table + figure: correlation of zero-shot score (and zero-shot gap) with AUC per family"
    }
    fn inputs(&self) -> &'static [&'static str] {
        PUBLISHED_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let curves = published_curves(ctx)?;
        let mut columns = vec!["family", "tasks", "predictor", "method"];
        columns.extend(COLUMNS);
        let mut table = Table::new("zero_shot_vs_auc", &columns);
        let mut panels = Vec::new();
        let mut pearson_by_family = Vec::new();
        let sets: Vec<(Family, &str, Vec<&TaskCurve>)> = Family::ALL
            .into_iter()
            .map(|f| (f, "paper_30", family_curves(&curves, f, true)))
            .chain(std::iter::once((Family::Llama, "all_40", family_curves(&curves, Family::Llama, false))))
            .collect();
        for (family, set, tasks) in &sets {
            let predictors: [(&str, Feature); 2] =
                [("zero_shot", |c| c.zero_shot), ("zero_shot_gap", zero_shot_gap)];
            for (name, predictor) in predictors {
                let (x, y): (Vec<f64>, Vec<f64>) =
                    tasks.iter().filter_map(|c| Some((predictor(c)?, c.summary.extrapolation_auc))).unzip();
                for (method, kind) in [("pearson", CorrelationKind::Pearson), ("spearman", CorrelationKind::Spearman)] {
                    let c = correlate(kind, &x, &y);
                    if *set == "paper_30" && name == "zero_shot" && method == "pearson" {
                        pearson_by_family.push((*family, c.map(|c| (c.r, c.lo, c.hi))));
                    }
                    let mut row = vec![Cell::text(family.prefix()), Cell::text(*set), Cell::text(name), Cell::text(method)];
                    row.extend(cells(c, x.len()));
                    table.push(row);
                }
            }
            if *set == "paper_30" {
                let points = tasks.iter().filter_map(|c| Some((c.zero_shot?, c.summary.extrapolation_auc))).collect();
                panels.push((*family, points));
            }
        }
        let figure = render("zero_shot_vs_auc", (1500, 520), &Scatter { panels })?;
        let described: Vec<String> = pearson_by_family
            .iter()
            .map(|(f, c)| match c {
                Some((r, lo, hi)) => format!("{} r = {r:.2} [{lo:.2}, {hi:.2}]", f.model()),
                None => format!("{} undefined", f.model()),
            })
            .collect();
        let summary = format!(
            "The paper reports that AUC is not consistently correlated with zero-shot accuracy. On the \
             published curves of the paper's 30 tasks, Pearson's correlation of zero-shot score with AUC \
             (95% Fisher-z interval) is: {}. Each point of the figure is one task.",
            described.join("; ")
        );
        Ok(Output { tables: vec![table], figures: vec![figure], summary, ..Default::default() })
    }
}

struct Scatter {
    panels: Vec<(Family, Vec<(f64, f64)>)>,
}

impl Draw for Scatter {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let body = root
            .titled("Zero-shot score vs data-efficiency AUC (paper's 30 tasks)", (FONT, 22).into_font().color(&palette::INK))
            .map_err(plot_err)?;
        for (area, (family, points)) in body.split_evenly((1, self.panels.len())).iter().zip(&self.panels) {
            let mut chart = unit_square_panel(area, Some(family.model()), "zero-shot score", "AUC")?;
            let color = palette::family(*family);
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.mix(0.8).filled())))
                .map_err(plot_err)?;
        }
        Ok(())
    }
}
