//! `family_agreement`: is a task's data efficiency a property of the task or of the model? Rank
//! (Spearman) and linear (Pearson) correlation of AUC between each pair of families over the
//! paper's 30 tasks, with 95% intervals, and the paired scatter plots.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::stats::CorrelationKind;
use dataeff::Family;

use crate::correlation::{COLUMNS, cells, correlate};
use crate::figure::{Draw, FONT, palette, plot_err, render, unit_square_panel};
use crate::study::published_curves;
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::table::{Cell, Table};

pub struct FamilyAgreement;

const PAIRS: [(Family, Family); 3] =
    [(Family::Llama, Family::Mistral), (Family::Llama, Family::Qwen), (Family::Mistral, Family::Qwen)];

impl Experiment for FamilyAgreement {
    fn id(&self) -> &'static str {
        "family_agreement"
    }
    fn title(&self) -> &'static str {
        "Table + figure: agreement of task AUC between model families"
    }
    fn inputs(&self) -> &'static [&'static str] {
        PUBLISHED_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let curves = published_curves(ctx)?;
        let tasks = ctx.published.shared_tasks();
        let auc = |f: Family, t: &str| curves[&(f, t.to_string())].summary.extrapolation_auc;
        let mut columns = vec!["family_a", "family_b", "method"];
        columns.extend(COLUMNS);
        let mut table = Table::new("family_agreement", &columns);
        let mut panels = Vec::new();
        let mut spearmans = Vec::new();
        for (a, b) in PAIRS {
            let xa: Vec<f64> = tasks.iter().map(|t| auc(a, t)).collect();
            let xb: Vec<f64> = tasks.iter().map(|t| auc(b, t)).collect();
            for (method, kind) in [("spearman", CorrelationKind::Spearman), ("pearson", CorrelationKind::Pearson)] {
                let c = correlate(kind, &xa, &xb);
                if method == "spearman" {
                    spearmans.push(format!(
                        "{a}–{b} {}",
                        c.map_or("undefined".into(), |c| format!("ρ = {:.2} [{:.2}, {:.2}]", c.r, c.lo, c.hi))
                    ));
                }
                let mut row = vec![Cell::text(a.prefix()), Cell::text(b.prefix()), Cell::text(method)];
                row.extend(cells(c, xa.len()));
                table.push(row);
            }
            panels.push((a, b, xa.into_iter().zip(xb).collect()));
        }
        let figure = render("family_agreement", (1500, 520), &Pairs { panels })?;
        let summary = format!(
            "How consistently the three families rank the paper's 30 tasks by AUC (Spearman, 95% interval): \
             {}. The paper fits its CoS-Low line per family and does not report this agreement; a high value \
             means data efficiency is largely a property of the task.",
            spearmans.join("; ")
        );
        Ok(Output { tables: vec![table], figures: vec![figure], summary, ..Default::default() })
    }
}

/// One scatter panel: the two families and each task's (AUC of the first, AUC of the second).
type Panel = (Family, Family, Vec<(f64, f64)>);

struct Pairs {
    panels: Vec<Panel>,
}

impl Draw for Pairs {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let body = root
            .titled("Task AUC of one family against another (paper's 30 tasks)", (FONT, 22).into_font().color(&palette::INK))
            .map_err(plot_err)?;
        for (area, (a, b, points)) in body.split_evenly((1, self.panels.len())).iter().zip(&self.panels) {
            let (x_desc, y_desc) = (format!("AUC, {}", a.model()), format!("AUC, {}", b.model()));
            let mut chart = unit_square_panel(area, None, &x_desc, &y_desc)?;
            chart
                .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], palette::MUTED.stroke_width(1)))
                .map_err(plot_err)?;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, palette::INK.mix(0.7).filled())))
                .map_err(plot_err)?;
        }
        Ok(())
    }
}
