//! `auc_table`: AUC, zero-shot score, best score and ceiling of every task × family, beside the
//! authors' published AUC where they published it (Llama).

use dataeff::Family;

use crate::study::published_curves;
use crate::experiment::{Context, Experiment, Output};
use crate::table::{Cell, Table};

pub struct AucTable;

impl Experiment for AucTable {
    fn id(&self) -> &'static str {
        "auc_table"
    }
    fn title(&self) -> &'static str {
        "Table: data-efficiency AUC, zero-shot, max score and ceiling per task and family"
    }
    fn inputs(&self) -> &'static [&'static str] {
        &["data/published/scores.csv", "data/published/human_level.csv", "data/published/llama_auc.csv"]
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let curves = published_curves(ctx)?;
        let mut table = Table::new(
            "auc_table",
            &["family", "task", "in_paper_30", "zero_shot", "max_score", "ceiling", "auc", "published_auc", "abs_diff"],
        );
        let mut worst: f64 = 0.0;
        let mut compared = 0;
        for family in Family::ALL {
            let mut rows: Vec<_> = curves.values().filter(|c| c.family == family).collect();
            rows.sort_by(|a, b| a.summary.extrapolation_auc.total_cmp(&b.summary.extrapolation_auc));
            for c in rows {
                let published = match family {
                    Family::Llama => ctx.published.llama_auc.get(&c.task).map(|s| s.extrapolation_auc),
                    _ => None,
                };
                let diff = published.map(|p| (p - c.summary.extrapolation_auc).abs());
                if let Some(d) = diff {
                    worst = worst.max(d);
                    compared += 1;
                }
                table.push(vec![
                    Cell::text(family.prefix()),
                    Cell::text(&c.task),
                    Cell::text(if c.shared { "yes" } else { "no" }),
                    c.zero_shot.into(),
                    c.summary.max_acc.into(),
                    c.summary.human_eval.into(),
                    c.summary.extrapolation_auc.into(),
                    published.into(),
                    diff.map_or(Cell::Empty, Cell::Sci),
                ]);
            }
        }
        let summary = format!(
            "AUC of every published curve (Llama 40 tasks, Mistral 30, Qwen 30), sorted from hockey-stick \
             (low AUC) to quick-slope (high AUC) within each family. Against the authors' published Llama \
             AUC file ({compared} tasks) our largest absolute difference is {worst:.1e}. A missing zero-shot \
             cell is a task whose result file has no budget-0 entry (Qwen's `overruling`); its curve starts at 50."
        );
        Ok(Output { tables: vec![table], summary, ..Default::default() })
    }
}
