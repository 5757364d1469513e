//! `annotation_savings`: the paper's "hundreds of annotations saved", made concrete per task. For
//! each curve and target, the labels a doubling annotate-and-fine-tune schedule (50, 100, 200, …)
//! spends before it first reaches the target, against a one-shot budget prediction (annotate the
//! predicted budget, keep doubling if short) from (a) the true AUC — the best an AUC predictor can
//! do —, (b) the true AUC off by ±0.086, (c) a power-law extrapolation from the first 100 labels.

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::annotation::Spend;
use dataeff::curve::MAX_BUDGET;
use dataeff::predict::COSLOW_LABELS;

use crate::baselines::{AucOffset, TARGETS, actual_budgets, shape_bias, target_index};
use crate::prose::over_or_under;
use crate::figure::{Draw, FONT, palette, plot_err, render};
use crate::strategies::Strategy;
use crate::study::{paper_curves, scopes};
use crate::experiment::{Context, Experiment, Output, PUBLISHED_INPUTS};
use crate::table::{Cell, Table};

pub struct AnnotationSavings;

/// The target the summary reads.
const SUMMARY_TARGET: f64 = 0.9;

/// One strategy's means over a set of curves at one target.
struct Mean {
    labels: f64,
    /// Labels saved against the doubling schedule (negative: spent more).
    saving: f64,
    /// Share of curves on which it spends fewer labels than doubling.
    cheaper: f64,
    rounds: f64,
}

/// The paragraph, its comparisons chosen by comparing the numbers it states: `doubling` and
/// `one_shot` (from the true AUC) over `curves` curves, and the mean signed log2 budget error of
/// `x^p` at the target.
fn summarise(curves: usize, doubling: &Mean, one_shot: &Mean, shape_bias: f64) -> String {
    let saving = if one_shot.saving >= 0.0 {
        format!("a saving of {:.0}", one_shot.saving)
    } else {
        format!("{:.0} more", -one_shot.saving)
    };
    let fewer_rounds = one_shot.rounds < doubling.rounds;
    let rounds = match (one_shot.saving < 0.0, fewer_rounds) {
        (true, true) => "but needs only",
        (false, true) => "and needs only",
        (_, false) => "and needs",
    };
    let saves = match (one_shot.saving > 0.0, fewer_rounds) {
        (false, true) => "fine-tuning rounds here, not labels",
        (true, true) => "both labels and fine-tuning rounds here",
        (true, false) => "labels here, not fine-tuning rounds",
        (false, false) => "neither labels nor fine-tuning rounds here",
    };
    format!(
        "Labels spent until the fine-tuned model first reaches the target, per strategy (one-shot strategies pay \
         CoS-Low's {COSLOW_LABELS} labels up front and double from their prediction when it falls short; a target \
         never reached costs all {MAX_BUDGET}). Over the paper's 30 tasks × 3 families, for {:.0}% of human level, a \
         doubling schedule spends {:.0} labels on average over the {curves} curves in {:.1} fine-tuning rounds; a \
         one-shot budget from the true AUC spends {:.0} ({saving}: it is cheaper on {:.0}% of curves) {rounds} {:.1} \
         rounds. Because `x^p` {} the budget of this target (mean signed log2 error {shape_bias:+.2}, see \
         `curve_shape_error`), a one-shot prediction saves {saves}; the oracle row is the least any strategy can \
         spend.",
        100.0 * SUMMARY_TARGET,
        doubling.labels,
        doubling.rounds,
        one_shot.labels,
        100.0 * one_shot.cheaper,
        one_shot.rounds,
        over_or_under(shape_bias),
    )
}

impl Experiment for AnnotationSavings {
    fn id(&self) -> &'static str {
        "annotation_savings"
    }
    fn title(&self) -> &'static str {
        "Table + figure: labels spent by a doubling schedule vs one-shot budget predictions"
    }
    fn inputs(&self) -> &'static [&'static str] {
        PUBLISHED_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let shared = paper_curves(ctx)?;
        let names: Vec<String> = Strategy::ALL.iter().map(|s| s.name()).collect();
        let mut by_task_columns = vec!["family", "task", "target", "need"];
        by_task_columns.extend(names.iter().map(String::as_str));
        let mut by_task = Table::new("annotation_savings_by_task", &by_task_columns);
        // spent[curve][target][strategy], strategies in the order of Strategy::ALL
        let spent: Vec<Vec<Vec<Spend>>> = shared
            .iter()
            .map(|c| (0..TARGETS.len()).map(|i| Strategy::ALL.iter().map(|s| s.spend(c, i)).collect()).collect())
            .collect();
        let doubling = Strategy::Doubling.index();
        for (c, per_target) in shared.iter().zip(&spent) {
            for (i, row) in per_target.iter().enumerate() {
                let mut cells = vec![
                    Cell::text(c.family.prefix()),
                    Cell::text(&c.task),
                    Cell::Num(TARGETS[i], 1),
                    actual_budgets(c)[i].map_or(Cell::Empty, |n| Cell::Num(n, 0)),
                ];
                cells.extend(row.iter().map(|s| Cell::Num(s.labels, 0)));
                by_task.push(cells);
            }
        }
        let mut summary_table = Table::new(
            "annotation_savings",
            &["scope", "target", "strategy", "mean_labels", "median_labels", "mean_saving_vs_doubling", "share_cheaper_than_doubling", "mean_rounds", "never_reached"],
        );
        let mut bars = Vec::new();
        // Over all curves at the summary's target, per strategy in the order of Strategy::ALL.
        let mut headline: Vec<Mean> = Vec::new();
        for (scope, family) in scopes() {
            let members: Vec<usize> = (0..shared.len()).filter(|&j| family.is_none_or(|f| shared[j].family == f)).collect();
            for (i, &t) in TARGETS.iter().enumerate() {
                let mut means = Vec::new();
                for (s, strategy) in Strategy::ALL.iter().enumerate() {
                    let labels: Vec<f64> = members.iter().map(|&j| spent[j][i][s].labels).collect();
                    let saving: Vec<f64> =
                        members.iter().map(|&j| spent[j][i][doubling].labels - spent[j][i][s].labels).collect();
                    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
                    let mut sorted = labels.clone();
                    sorted.sort_by(f64::total_cmp);
                    let median = dataeff::evaluate::summarise(&sorted).median;
                    let cheaper = saving.iter().filter(|v| **v > 0.0).count() as f64 / saving.len() as f64;
                    let rounds: Vec<f64> = members.iter().map(|&j| f64::from(spent[j][i][s].rounds)).collect();
                    let unreached = members.iter().filter(|&&j| !spent[j][i][s].reached).count();
                    means.push(mean(&labels));
                    if family.is_none() && t == SUMMARY_TARGET {
                        headline.push(Mean { labels: mean(&labels), saving: mean(&saving), cheaper, rounds: mean(&rounds) });
                    }
                    summary_table.push(vec![
                        Cell::text(&scope),
                        Cell::Num(t, 1),
                        Cell::text(strategy.name()),
                        Cell::Num(mean(&labels), 1),
                        Cell::Num(median, 1),
                        Cell::Num(mean(&saving), 1),
                        Cell::Num(cheaper, 2),
                        Cell::Num(mean(&rounds), 2),
                        Cell::Int(unreached as i64),
                    ]);
                }
                if family.is_none() {
                    bars.push(means);
                }
            }
        }
        let figure = render("annotation_savings", (1300, 560), &Bars { bars })?;
        let one_shot = &headline[Strategy::OneShot(AucOffset::Exact).index()];
        let summary = summarise(
            shared.len(),
            &headline[doubling],
            one_shot,
            shape_bias(&shared, target_index(SUMMARY_TARGET)),
        );
        Ok(Output { tables: vec![summary_table, by_task], figures: vec![figure], summary, ..Default::default() })
    }
}

struct Bars {
    /// bars[target][strategy] = mean labels.
    bars: Vec<Vec<f64>>,
}

impl Draw for Bars {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let top = self.bars.iter().flatten().copied().fold(0.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(root)
            .margin(16)
            .caption("Mean labels spent to reach each target (90 curves)", (FONT, 20).into_font().color(&palette::INK))
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..TARGETS.len() as f64, 0f64..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(palette::GRID.mix(0.5))
            .bold_line_style(palette::GRID)
            .x_labels(0)
            .y_desc("labels")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style((FONT, 12).into_font().color(&palette::INK))
            .draw()
            .map_err(plot_err)?;
        let ticks: Vec<(f64, String)> = TARGETS.iter().enumerate().map(|(i, t)| (i as f64 + 0.5, format!("target {t}"))).collect();
        crate::figure::x_tick_labels(root, &ticks, |x| chart.backend_coord(&(x, 0.0)), 13)?;
        let count = Strategy::ALL.len();
        let width = 0.8 / count as f64;
        for (s, strategy) in Strategy::ALL.iter().enumerate() {
            let color = match strategy {
                Strategy::Doubling => palette::MUTED,
                _ => palette::sequential(s as f64 / (count - 1) as f64),
            };
            let rects = self.bars.iter().enumerate().map(|(i, means)| {
                let x0 = i as f64 + 0.1 + s as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width * 0.9, means[s])], color.filled())
            });
            chart
                .draw_series(rects)
                .map_err(plot_err)?
                .label(strategy.name())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        }
        crate::figure::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comparisons_follow_the_numbers() {
        let doubling = Mean { labels: 3034.0, saving: 0.0, cheaper: 0.0, rounds: 6.5 };
        let dearer = Mean { labels: 3485.0, saving: -451.0, cheaper: 0.08, rounds: 1.5 };
        let text = summarise(90, &doubling, &dearer, 1.23);
        for words in ["(451 more:", "but needs only 1.5", "overestimates", "saves fine-tuning rounds here, not labels"] {
            assert!(text.contains(words), "{words:?} missing from {text}");
        }
        let cheaper = Mean { labels: 2800.0, saving: 234.0, cheaper: 0.6, rounds: 1.5 };
        let text = summarise(90, &doubling, &cheaper, -0.2);
        for words in ["(a saving of 234:", "and needs only 1.5", "underestimates", "saves both labels and fine-tuning rounds"] {
            assert!(text.contains(words), "{words:?} missing from {text}");
        }
    }
}
