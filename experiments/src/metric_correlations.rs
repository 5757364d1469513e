//! `metric_correlations`: the paper's metric comparison on the live study — Pearson's r of each
//! per-task metric (`cos_low`, `cos_sim_k`, `grad_norm_k`, `conf_avg_k`, and the zero-shot score)
//! with the live AUC, per model: computed per repeat and reported as mean ± SD over the repeats,
//! plus r of the repeat-mean metric; the paper's four values beside. And the spread of CoS-Low
//! itself over the repeats of each task (each repeat draws the 32 examples and LoRA's A anew).

use plotters::coord::Shift;
use plotters::prelude::*;

use dataeff::live::MetricsCell;
use dataeff::stats::{CorrelationKind, mean, pearson, sample_sd};

use crate::correlation::correlate;
use crate::experiment::{Context, Experiment, LIVE_INPUTS, Output};
use crate::figure::{Draw, FONT, palette, plot_err, render, x_tick_labels};
use crate::live_tasks::{LIVE_METRICS, LiveMetric, LiveModel, MIN_TASKS, READINGS, Reading, join, live_models, no_live_results, too_few_tasks};
use crate::prose::above_or_below;
use crate::table::{Cell, Table};

pub struct MetricCorrelations;

/// The format-free reading's bars (the label-score colour of `live_curves`).
const FORMAT_FREE: RGBColor = RGBColor(150, 60, 140);

/// One metric's correlations for one model.
struct Correlations {
    /// r in each repeat with at least [`MIN_TASKS`] tasks.
    per_repeat: Vec<f64>,
    /// Tasks with the metric and an AUC (repeat mean).
    tasks: usize,
    /// r of the repeat-mean metric (zero-shot: of the score), when defined.
    of_mean: Option<f64>,
    note: String,
}

fn correlations(model: &LiveModel, metric: &LiveMetric, reading: Reading) -> (Correlations, Vec<f64>, Vec<f64>) {
    let (x, y): (Vec<f64>, Vec<f64>) = model.metric_and_auc(metric.per_repeat, reading).into_iter().map(|p| (p.1, p.2)).unzip();
    let per_repeat = metric.per_repeat.map_or_else(Vec::new, |f| model.per_repeat_pearson(f, reading));
    let (of_mean, note) = if x.len() < MIN_TASKS {
        (None, too_few_tasks(&model.model, x.len(), " with this metric and an AUC"))
    } else {
        match pearson(&x, &y) {
            Some(r) => (Some(r), String::new()),
            None => (None, "undefined: the metric or the AUC is the same on every task".into()),
        }
    };
    (Correlations { per_repeat, tasks: x.len(), of_mean, note }, x, y)
}

impl Experiment for MetricCorrelations {
    fn id(&self) -> &'static str {
        "metric_correlations"
    }
    fn title(&self) -> &'static str {
        "Table + figure: Pearson r of CoS-Low and the paper's other metrics with the live AUC, over repeats; CoS-Low's spread per task"
    }
    fn inputs(&self) -> &'static [&'static str] {
        LIVE_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let models = live_models(ctx);
        let mut table = Table::new(
            "metric_correlations",
            &[
                "model",
                "reading",
                "metric",
                "tasks",
                "repeats_used",
                "r_mean_over_repeats",
                "r_sd_over_repeats",
                "r_of_repeat_mean",
                "ci_low",
                "ci_high",
                "p_value",
                "paper_r",
                "paper_sd",
                "note",
            ],
        );
        let mut spread = Table::new(
            "metric_correlations_coslow_spread",
            &["model", "task", "repeats", "cos_low_mean", "cos_low_sd", "cos_low_min", "cos_low_max", "draw_seeds", "lora_seeds"],
        );
        if models.is_empty() {
            let summary = no_live_results("the correlation of each metric with the live AUC");
            return Ok(Output { tables: vec![table, spread], summary, ..Default::default() });
        }
        let mut paragraphs = vec![
            "Pearson's r of each per-task metric with the live AUC (ceiling = max score; see `live_curves`), per \
             model: `r_mean_over_repeats` ± `r_sd_over_repeats` is r computed within each repeat (that repeat's \
             metric values across tasks against the AUC) and summarised over the repeats with at least 3 tasks, \
             as the paper reports it; `r_of_repeat_mean` is r of the metric averaged over repeats, with a 95% \
             Fisher-z interval from 4 tasks on. The zero-shot score (the budget-0 curve score) has one value per \
             task, not per repeat. The paper's values (PAPER.md §4, one family) are beside ours. Each correlation \
             is computed twice: on the `exact_match` curves (the paper's metric, every task) and on the \
             `format_free` curves (label log-likelihood, only the tasks with a closed label set or listed options)."
                .to_string(),
        ];
        let mut panels = Vec::new();
        for model in &models {
            let mut bars: Vec<Bar> = LIVE_METRICS.iter().map(|m| Bar { name: m.name, ours: [None, None], paper: m.paper }).collect();
            let mut by_reading = Vec::new();
            for (ri, reading) in READINGS.into_iter().enumerate() {
                let mut described = Vec::new();
                for (mi, metric) in LIVE_METRICS.iter().enumerate() {
                    let (result, x, y) = correlations(model, metric, reading);
                    let interval = correlate(CorrelationKind::Pearson, &x, &y).filter(|_| result.of_mean.is_some());
                    let (r_mean, r_sd) = if result.per_repeat.is_empty() {
                        (None, None)
                    } else {
                        (Some(mean(&result.per_repeat)), Some(sample_sd(&result.per_repeat)).filter(|v| v.is_finite()))
                    };
                    table.push(vec![
                        Cell::text(&model.model),
                        Cell::text(reading.name()),
                        Cell::text(metric.name),
                        Cell::Int(result.tasks as i64),
                        Cell::Int(result.per_repeat.len() as i64),
                        r_mean.into(),
                        r_sd.into(),
                        result.of_mean.into(),
                        interval.map(|c| c.lo).into(),
                        interval.map(|c| c.hi).into(),
                        interval.map_or(Cell::Empty, |c| Cell::Sci(c.p_value)),
                        metric.paper.map(|p| p.0).into(),
                        metric.paper.map(|p| p.1).into(),
                        Cell::text(&result.note),
                    ]);
                    let ours = r_mean.or(result.of_mean);
                    if let Some(r) = ours {
                        let sd = r_sd.map_or(String::new(), |sd| format!(" ± {sd:.3}"));
                        let paper =
                            metric.paper.map_or(String::new(), |(p, s)| format!(", {} the paper's {p} ± {s}", above_or_below(r, p)));
                        described.push(format!("{} r = {r:.3}{sd}{paper}", metric.name));
                    }
                    bars[mi].ours[ri] = ours.map(|r| (r, r_sd.unwrap_or(0.0)));
                }
                let with_coslow = model.coslow_and_auc_in(reading).len();
                by_reading.push(if described.is_empty() {
                    format!(
                        "{}: no correlation can be computed: {}",
                        reading.name(),
                        too_few_tasks(&model.model, with_coslow, " with CoS-Low and an AUC")
                    )
                } else {
                    format!("{} ({with_coslow} tasks with CoS-Low): {}", reading.name(), described.join("; "))
                });
            }
            let mut text = format!("`{}`: {}.", model.model, by_reading.join(". "));
            if bars.iter().any(|b| b.ours.iter().any(Option::is_some)) {
                panels.push((model.model.clone(), bars));
            }
            // CoS-Low's own spread over repeats.
            let mut sds = Vec::new();
            for t in model.tasks.iter().filter(|t| !t.metrics.is_empty()) {
                let values = t.metric_values(|c| c.cos_low);
                let sd = t.metric_sd(|c| c.cos_low);
                if sd.is_finite() {
                    sds.push(sd);
                }
                let seeds = |f: fn(&MetricsCell) -> u64| join(&t.metrics.iter().map(f).collect::<Vec<_>>());
                spread.push(vec![
                    Cell::text(&model.model),
                    Cell::text(&t.task),
                    Cell::Int(values.len() as i64),
                    mean(&values).into(),
                    Some(sd).filter(|v| v.is_finite()).into(),
                    values.iter().copied().fold(f64::INFINITY, f64::min).into(),
                    values.iter().copied().fold(f64::NEG_INFINITY, f64::max).into(),
                    Cell::text(seeds(|c| c.draw_seed)),
                    Cell::text(seeds(|c| c.lora_seed)),
                ]);
            }
            let means: Vec<f64> = model.tasks.iter().filter_map(|t| t.metric_mean(|c| c.cos_low)).collect();
            let between = sample_sd(&means);
            if !sds.is_empty() && between.is_finite() {
                let mut sorted = sds.clone();
                sorted.sort_by(f64::total_cmp);
                let median = dataeff::evaluate::summarise(&sorted).median;
                text += &format!(
                    " CoS-Low's SD over repeats (new draw and LoRA seed each) has median {median:.4} over {} task(s) \
                     (range {:.4}–{:.4}), {} the SD of its repeat mean across tasks ({between:.4}), a number the \
                     paper does not report.",
                    sds.len(),
                    sorted[0],
                    sorted[sorted.len() - 1],
                    above_or_below(median, between),
                );
            }
            paragraphs.push(text);
        }
        let mut figures = Vec::new();
        if !panels.is_empty() {
            figures.push(render("metric_correlations", (700 * panels.len() as u32 + 200, 520), &Bars { panels })?);
        }
        Ok(Output { tables: vec![table, spread], figures, summary: paragraphs.join("\n\n"), ..Default::default() })
    }
}

/// One metric's bars: ours on each reading (r, SD over repeats) and the paper's.
struct Bar {
    name: &'static str,
    ours: [Option<(f64, f64)>; 2],
    paper: Option<(f64, f64)>,
}

/// The right-hand corner the legend covers least: it spans about the last two metrics' bars, so
/// it goes above the axis when those bars (with their SD) reach less far up than down.
fn legend_corner(bars: &[Bar]) -> SeriesLabelPosition {
    let ends = bars.iter().rev().take(2).flat_map(|b| [b.ours[0], b.ours[1], b.paper]).flatten();
    let (up, down) = ends.fold((0f64, 0f64), |(up, down), (r, sd)| (up.max(r + sd), down.max(-(r - sd))));
    if up < down { SeriesLabelPosition::UpperRight } else { SeriesLabelPosition::LowerRight }
}

struct Bars {
    panels: Vec<(String, Vec<Bar>)>,
}

impl Draw for Bars {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let body = root
            .titled("Pearson r with the live AUC (± SD over repeats) and the paper's", (FONT, 18).into_font().color(&palette::INK))
            .map_err(plot_err)?;
        let ours_color = palette::family(dataeff::Family::Llama);
        for (area, (model, bars)) in body.split_evenly((1, self.panels.len())).iter().zip(&self.panels) {
            let mut chart = ChartBuilder::on(area)
                .margin(16)
                .caption(model, (FONT, 15).into_font().color(&palette::INK))
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d(0f64..bars.len() as f64, -1f64..1f64)
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(palette::GRID)
                .x_labels(0)
                .y_desc("Pearson r")
                .label_style((FONT, 12).into_font().color(&palette::INK))
                .draw()
                .map_err(plot_err)?;
            chart.draw_series(LineSeries::new([(0.0, 0.0), (bars.len() as f64, 0.0)], palette::INK)).map_err(plot_err)?;
            let ticks: Vec<(f64, String)> = bars.iter().enumerate().map(|(i, b)| (i as f64 + 0.5, b.name.to_string())).collect();
            x_tick_labels(root, &ticks, |x| chart.backend_coord(&(x, -1.0)), 12)?;
            for (i, bar) in bars.iter().enumerate() {
                let left = i as f64;
                for (value, offset, color) in
                    [(bar.ours[0], 0.08, ours_color), (bar.ours[1], 0.36, FORMAT_FREE), (bar.paper, 0.64, palette::MUTED)]
                {
                    let Some((r, sd)) = value else { continue };
                    let (x0, x1) = (left + offset, left + offset + 0.26);
                    chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, r)], color.mix(0.85).filled()))).map_err(plot_err)?;
                    let mid = (x0 + x1) / 2.0;
                    if sd > 0.0 {
                        chart
                            .draw_series(std::iter::once(PathElement::new(
                                vec![(mid, r - sd), (mid, r + sd)],
                                palette::INK.stroke_width(2),
                            )))
                            .map_err(plot_err)?;
                    }
                }
            }
            chart
                .draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (0.0, 0.0)], ours_color.filled())))
                .map_err(plot_err)?
                .label("ours, exact match")
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], ours_color.filled()));
            chart
                .draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (0.0, 0.0)], FORMAT_FREE.filled())))
                .map_err(plot_err)?
                .label("ours, format-free")
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], FORMAT_FREE.filled()));
            chart
                .draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (0.0, 0.0)], palette::MUTED.filled())))
                .map_err(plot_err)?
                .label("paper (one family)")
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], palette::MUTED.filled()));
            crate::figure::draw_legend(&mut chart, legend_corner(bars))?;
        }
        Ok(())
    }
}
