//! `findings`: what the live study says about the paper's four claims, generated from the
//! numbers — each claim's published number, ours with its spread, and whether ours agrees by a
//! rule fixed before the numbers came in; then, per task, the budget a practitioner would have
//! been told from CoS-Low alone against the budget the measured curve needed; and what the study
//! cost (one task's full curve against its CoS-Low).
//!
//! The headline reading is exact match (the paper's metric; defined on every task); the
//! format-free reading (label log-likelihood, tasks with a closed label set) is given beside.

use dataeff::Family;
use dataeff::evaluate::{auc_absolute_error, budget_error_within};
use dataeff::learning_curve::budget_to_reach_on;
use dataeff::live::MetricsCell;
use dataeff::predict::{budget_for_target, budget_for_target_on, predicted_auc, published_coefficients};
use dataeff::regression::leave_one_out_predictions;
use dataeff::stats::{CorrelationKind, mean, sample_sd};

use crate::baselines::{HEADLINE_AUC_ERROR, clamp_auc};
use crate::correlation::correlate;
use crate::experiment::{Context, Experiment, LIVE_INPUTS, Output};
use crate::live_line::model_line;
use crate::live_tasks::{LIVE_METRICS, LiveModel, MIN_TASKS, READINGS, Reading, live_models, no_live_results};
use crate::study::{family_curves, published_curves};
use crate::table::{Cell, Table};

pub struct Findings;

/// The reading the headline numbers use.
const HEADLINE: Reading = Reading::ExactMatch;
/// The target normalised score whose budget a practitioner asks for (the paper's example).
const TARGET: f64 = 0.9;
/// Standard errors apart for two numbers to count as different.
const APART: f64 = 2.0;
/// The paper's metric comparison: the metrics with a published r (CoS-Low first).
fn paper_metrics() -> impl Iterator<Item = (&'static str, fn(&MetricsCell) -> f64, f64)> {
    LIVE_METRICS.iter().filter_map(|m| Some((m.name, m.per_repeat?, m.paper?.0)))
}

/// One claim's verdict for one model and reading.
struct Verdict {
    claim: &'static str,
    tasks: usize,
    paper: String,
    ours: String,
    agrees: Option<bool>,
    sentence: String,
}

fn agreement(agrees: Option<bool>) -> &'static str {
    match agrees {
        Some(true) => "agrees",
        Some(false) => "disagrees",
        None => "cannot tell",
    }
}

/// Claim 1: the zero-shot score does not tell the AUC (its correlation's interval includes 0).
fn zero_shot_claim(model: &LiveModel, reading: Reading, paper: &str) -> Verdict {
    let pairs = model.metric_and_auc(None, reading);
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
    let c = correlate(CorrelationKind::Pearson, &x, &y).filter(|_| x.len() >= MIN_TASKS);
    let (ours, agrees, sentence) = match c {
        Some(c) => {
            let includes = c.lo <= 0.0 && c.hi >= 0.0;
            let sentence = if includes {
                format!("Agrees: the zero-shot score does not tell the AUC here either (r = {:.2}, 95% interval {:.2} to {:.2} includes 0).", c.r, c.lo, c.hi)
            } else {
                format!("Disagrees: here the zero-shot score does go with the AUC (r = {:.2}, 95% interval {:.2} to {:.2} excludes 0).", c.r, c.lo, c.hi)
            };
            (format!("r = {:.3} [{:.3}, {:.3}]", c.r, c.lo, c.hi), Some(includes), sentence)
        }
        None => ("-".into(), None, format!("Cannot tell: {}.", why_no_correlation(&x, &y))),
    };
    Verdict { claim: "1. zero-shot score does not tell data need", tasks: x.len(), paper: paper.to_string(), ours, agrees, sentence }
}

/// Why the zero-shot claim has no correlation: too few tasks, or a side with no spread (a base
/// model scoring 0 zero-shot on every task is the common case).
fn why_no_correlation(zero_shot: &[f64], auc: &[f64]) -> String {
    let constant = |v: &[f64]| v.iter().all(|&a| a == v[0]);
    match zero_shot.len() {
        n if n < MIN_TASKS => format!("only {n} task(s) with a zero-shot score and an AUC (at least {MIN_TASKS} needed)"),
        n if constant(zero_shot) => format!("the zero-shot score is {:.3} on all {n} tasks, so it cannot go with the AUC or against it", zero_shot[0]),
        n if constant(auc) => format!("the AUC is {:.3} on all {n} tasks", auc[0]),
        n => format!("no correlation over {n} tasks (a degenerate spread)"),
    }
}

/// Per metric of the paper's comparison: its name, its mean r over repeats, and their SD.
fn metric_rs(model: &LiveModel, reading: Reading) -> Vec<(&'static str, Option<f64>, f64)> {
    paper_metrics()
        .map(|(name, f, _)| {
            let per_repeat = model.per_repeat_pearson(f, reading);
            (name, (!per_repeat.is_empty()).then(|| mean(&per_repeat)), sample_sd(&per_repeat))
        })
        .collect()
}

/// Claim 2: CoS-Low predicts the AUC, and better than the other three metrics.
fn coslow_claim(model: &LiveModel, reading: Reading) -> Verdict {
    let rs = metric_rs(model, reading);
    let pairs = model.coslow_and_auc_in(reading);
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
    let interval = correlate(CorrelationKind::Pearson, &x, &y).filter(|_| x.len() >= MIN_TASKS);
    let paper = paper_metrics().map(|m| format!("{} {}", m.0, m.2)).collect::<Vec<_>>().join(", ");
    let Some(coslow) = rs[0].1 else {
        return Verdict {
            claim: "2. CoS-Low predicts AUC, better than the other metrics",
            tasks: x.len(),
            paper,
            ours: "-".into(),
            agrees: None,
            sentence: format!("Cannot tell: {} task(s) with CoS-Low and an AUC.", x.len()),
        };
    };
    let ours = rs
        .iter()
        .map(|(name, m, sd)| match m {
            Some(m) if sd.is_finite() => format!("{name} {m:.3} ± {sd:.3}"),
            Some(m) => format!("{name} {m:.3}"),
            None => format!("{name} -"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let best_other = rs[1..].iter().filter_map(|r| r.1.map(|v| (r.0, v))).max_by(|a, b| a.1.total_cmp(&b.1));
    let highest = best_other.is_none_or(|(_, v)| coslow > v);
    let positive = interval.is_some_and(|c| c.lo > 0.0);
    let agrees = Some(highest && positive);
    let interval_text = interval.map_or("no interval".to_string(), |c| format!("95% interval of the repeat-mean r {:.2} to {:.2}", c.lo, c.hi));
    let rank = match best_other {
        Some((name, v)) if highest => format!("the highest of the four (next: {name} {v:.2})"),
        Some((name, v)) => format!("below {name}'s {v:.2}"),
        None => "the only one defined".into(),
    };
    let sentence = format!(
        "{}: CoS-Low's r is {coslow:.2} ({interval_text}; the paper's 0.675), {rank}.",
        if agrees == Some(true) { "Agrees" } else { "Disagrees" }
    );
    Verdict { claim: "2. CoS-Low predicts AUC, better than the other metrics", tasks: x.len(), paper, ours, agrees, sentence }
}

/// Claim 4: the leave-one-task-out AUC error is about the paper's 8.6%; with the error of the
/// no-predictor baseline (each task's AUC predicted as the mean of the others').
fn error_claim(model: &LiveModel, reading: Reading) -> Verdict {
    let pairs = model.coslow_and_auc_in(reading);
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
    let claim = "4. leave-one-task-out AUC error about 8.6%";
    let paper = format!("MAE {HEADLINE_AUC_ERROR}");
    let Ok(predicted) = leave_one_out_predictions(&x, &y) else {
        let sentence = format!("Cannot tell: {} task(s) with CoS-Low and an AUC (at least {MIN_TASKS} with two CoS-Low values needed).", x.len());
        return Verdict { claim, tasks: x.len(), paper, ours: "-".into(), agrees: None, sentence };
    };
    let errors: Vec<f64> = predicted.iter().zip(&y).map(|(p, a)| auc_absolute_error(*p, *a)).collect();
    let n = errors.len() as f64;
    let mae = mean(&errors);
    let se = sample_sd(&errors) / n.sqrt();
    let total: f64 = y.iter().sum();
    let baseline: Vec<f64> = y.iter().map(|a| ((total - a) / (n - 1.0) - a).abs()).collect();
    let baseline_mae = mean(&baseline);
    let (agrees, how) = if mae - APART * se > HEADLINE_AUC_ERROR {
        (false, "above")
    } else if mae + APART * se < HEADLINE_AUC_ERROR {
        (true, "below")
    } else {
        (true, "within two standard errors of")
    };
    let versus = if mae < baseline_mae {
        format!("better than predicting each task as the mean of the others ({baseline_mae:.3})")
    } else {
        format!("no better than predicting each task as the mean of the others ({baseline_mae:.3})")
    };
    let sentence = format!(
        "{}: our error {mae:.3} ± {se:.3} is {how} the paper's {HEADLINE_AUC_ERROR}, and {versus}.",
        if agrees { "Agrees" } else { "Disagrees" }
    );
    Verdict { claim, tasks: x.len(), paper, ours: format!("MAE {mae:.3} ± {se:.3} (mean-of-others {baseline_mae:.3})"), agrees: Some(agrees), sentence }
}

/// Claim 3: the line is specific to the model — across our two models, do the lines differ by
/// more than [`APART`] bootstrap SDs in slope or intercept?
fn family_claim(models: &[LiveModel], reading: Reading) -> Verdict {
    let published = published_coefficients();
    let paper = Family::ALL
        .iter()
        .map(|f| format!("{} c {} I {}", f.prefix(), published[f].slope, published[f].intercept))
        .collect::<Vec<_>>()
        .join("; ");
    let claim = "3. the CoS-Low line is family-specific";
    let lines: Vec<(&str, usize, crate::live_line::LiveLine)> = models
        .iter()
        .filter_map(|m| {
            let (n, line) = model_line(m, reading);
            Some((m.model.as_str(), n, line.ok()?))
        })
        .collect();
    let ours = lines
        .iter()
        .map(|(m, _, l)| format!("{m}: c {:.3} ± {:.3}, I {:.3} ± {:.3}", l.fit.slope, l.bootstrap_sd.0, l.fit.intercept, l.bootstrap_sd.1))
        .collect::<Vec<_>>()
        .join("; ");
    let tasks = lines.iter().map(|l| l.1).min().unwrap_or(0);
    let [(a, _, la), (b, _, lb)] = &lines[..] else {
        let sentence = format!("Cannot tell: {} model(s) with a line; the comparison needs two.", lines.len());
        return Verdict { claim, tasks, paper, ours: if ours.is_empty() { "-".into() } else { ours }, agrees: None, sentence };
    };
    let apart = |x: f64, sx: f64, y: f64, sy: f64| (x - y).abs() / (sx * sx + sy * sy).sqrt();
    let slope_z = apart(la.fit.slope, la.bootstrap_sd.0, lb.fit.slope, lb.bootstrap_sd.0);
    let intercept_z = apart(la.fit.intercept, la.bootstrap_sd.1, lb.fit.intercept, lb.bootstrap_sd.1);
    let differ = slope_z > APART || intercept_z > APART;
    let sentence = if differ {
        format!("Agrees: {a}'s and {b}'s lines differ (slopes {slope_z:.1}, intercepts {intercept_z:.1} bootstrap SDs apart).")
    } else {
        format!(
            "Cannot confirm: {a}'s and {b}'s lines are within their spreads of each other (slopes {slope_z:.1}, intercepts {intercept_z:.1} bootstrap SDs apart), so these two models do not show a model-specific line."
        )
    };
    Verdict { claim, tasks, paper, ours, agrees: Some(differ), sentence }
}

/// Claim 1's published side: Pearson r of zero-shot score and AUC per family on the paper's 30 tasks.
fn published_zero_shot(ctx: &Context) -> anyhow::Result<String> {
    let curves = published_curves(ctx)?;
    let mut parts = Vec::new();
    for family in Family::ALL {
        let (x, y): (Vec<f64>, Vec<f64>) =
            family_curves(&curves, family, true).iter().filter_map(|c| Some((c.zero_shot?, c.summary.extrapolation_auc))).unzip();
        if let Some(c) = correlate(CorrelationKind::Pearson, &x, &y) {
            parts.push(format!("{} r = {:.2} [{:.2}, {:.2}]", family.prefix(), c.r, c.lo, c.hi));
        }
    }
    Ok(format!("no number given (\"not consistently correlated\"); from the published curves: {}", parts.join(", ")))
}

impl Experiment for Findings {
    fn id(&self) -> &'static str {
        "findings"
    }
    fn title(&self) -> &'static str {
        "Findings: the paper's four claims on the live study (its number, ours, whether ours agrees), each task's budget from CoS-Low alone vs measured, and the study's compute"
    }
    fn inputs(&self) -> &'static [&'static str] {
        LIVE_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let models = live_models(ctx);
        let mut claims = Table::new("findings", &["model", "reading", "claim", "tasks", "paper", "ours", "verdict", "finding"]);
        let mut budgets = Table::new(
            "findings_budgets",
            &[
                "model", "task", "flags", "auc", "auc_se", "coslow", "needed", "own_line_auc", "own_line_budget", "own_line_error_log2",
                "paper_llama_auc", "paper_llama_budget",
            ],
        );
        let mut compute = Table::new(
            "findings_compute",
            &["model", "task", "curve_cells", "curve_seconds", "coslow_seconds", "curve_over_coslow", "metrics_repeats", "all_repeats_seconds"],
        );
        if models.is_empty() {
            let summary = no_live_results("the findings on the paper's claims");
            return Ok(Output { tables: vec![claims, budgets, compute], summary, ..Default::default() });
        }
        let zero_shot_paper = published_zero_shot(ctx)?;
        let mut paragraphs = vec![format!(
            "Generated from the live results; the rule each verdict follows is fixed in code \
             (`experiments/src/findings.rs`), not chosen after seeing the numbers. The headline reading is \
             **exact match**: it is the paper's metric, what a deployed model is judged by, and it is defined on every \
             task; a 135M–270M model often scores 0 zero-shot only because it has not yet learnt the answer format, \
             which makes exact-match curves rise early, so every claim is also judged on the **format-free** reading \
             (the label with the highest answer log-likelihood), which exists only on the tasks with a closed label \
             set. Rules: (1) agrees when the 95% interval of r(zero-shot, AUC) includes 0; (2) agrees when CoS-Low's \
             mean r over repeats is above each other metric's and the 95% interval of the repeat-mean r is above 0; \
             (3) agrees when our two models' lines are more than {APART} bootstrap SDs apart in slope or intercept; \
             (4) agrees when the leave-one-task-out AUC MAE is not more than {APART} standard errors above \
             {HEADLINE_AUC_ERROR}."
        )];
        let mut verdicts: Vec<(String, Reading, Verdict)> = Vec::new();
        for reading in READINGS {
            for model in &models {
                verdicts.push((model.model.clone(), reading, zero_shot_claim(model, reading, &zero_shot_paper)));
                verdicts.push((model.model.clone(), reading, coslow_claim(model, reading)));
                verdicts.push((model.model.clone(), reading, error_claim(model, reading)));
            }
            verdicts.push(("all models".into(), reading, family_claim(&models, reading)));
        }
        verdicts.sort_by_key(|(_, reading, v)| (*reading != HEADLINE, v.claim));
        for (model, reading, v) in &verdicts {
            claims.push(vec![
                Cell::text(model),
                Cell::text(reading.name()),
                Cell::text(v.claim),
                Cell::Int(v.tasks as i64),
                Cell::text(&v.paper),
                Cell::text(&v.ours),
                Cell::text(agreement(v.agrees)),
                Cell::text(&v.sentence),
            ]);
        }
        for claim in verdicts.iter().map(|v| v.2.claim).collect::<std::collections::BTreeSet<_>>() {
            let mut lines = Vec::new();
            for (model, reading, v) in verdicts.iter().filter(|v| v.2.claim == claim) {
                let reading = if *reading == HEADLINE { String::new() } else { format!(", {}", reading.name()) };
                lines.push(format!("- `{model}`{reading} ({} tasks): {}", v.tasks, v.sentence));
            }
            let paper = &verdicts.iter().find(|v| v.2.claim == claim).expect("claim from the list").2.paper;
            paragraphs.push(format!("**Claim {claim}** (paper: {paper})\n\n{}", lines.join("\n")));
        }
        // Without the flagged curves: the headline correlation again.
        for model in &models {
            let (x, y): (Vec<f64>, Vec<f64>) = model
                .coslow_and_auc_in(HEADLINE)
                .into_iter()
                .filter(|p| p.0.noise_in(HEADLINE).flags.is_empty())
                .map(|p| (p.1, p.2))
                .unzip();
            let flagged: Vec<&str> =
                model.tasks.iter().filter(|t| !t.noise_in(HEADLINE).flags.is_empty()).map(|t| t.task.as_str()).collect();
            if flagged.is_empty() || model.coslow_and_auc_in(HEADLINE).len() < MIN_TASKS {
                continue;
            }
            let r = correlate(CorrelationKind::Pearson, &x, &y).filter(|_| x.len() >= MIN_TASKS).map_or_else(
                || format!("no r: {} unflagged task(s), at least {MIN_TASKS} needed", x.len()),
                |c| format!("r = {:.2} [{:.2}, {:.2}] with the exact-match AUC over {} task(s)", c.r, c.lo, c.hi, x.len()),
            );
            paragraphs.push(format!(
                "Without its {} flagged curve(s) ({}), `{}`'s repeat-mean CoS-Low has {r}.",
                flagged.len(),
                flagged.join(", "),
                model.model,
            ));
        }
        self.budgets(&models, &mut budgets, &mut paragraphs);
        self.compute(ctx, &models, &mut compute, &mut paragraphs);
        Ok(Output { tables: vec![claims, budgets, compute], summary: paragraphs.join("\n\n"), ..Default::default() })
    }
}

impl Findings {
    /// Per task: the budget to reach [`TARGET`] that CoS-Low alone gives — through the model's own
    /// line fitted on its other tasks, and through the paper's Llama line (all a practitioner
    /// without any curve of their own has) — against the budget the measured curve needed.
    fn budgets(&self, models: &[LiveModel], table: &mut Table, paragraphs: &mut Vec<String>) {
        let llama = &published_coefficients()[&Family::Llama];
        for model in models {
            let Ok(grid) = &model.grid else { continue };
            let pairs = model.coslow_and_auc_in(HEADLINE);
            let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
            let own = leave_one_out_predictions(&x, &y).ok();
            let mut errors = Vec::new();
            for (i, (task, coslow, auc)) in pairs.iter().enumerate() {
                let normalised = &task.live_auc_in(HEADLINE).expect("tasks with an AUC").normalised;
                let needed = budget_to_reach_on(grid, &normalised.x, &normalised.y, TARGET);
                let own_auc = own.as_ref().map(|p| p[i]);
                let own_budget = own_auc.and_then(|a| budget_for_target_on(grid, TARGET, clamp_auc(a)).ok());
                let own_error = own_budget.and_then(|b| budget_error_within(grid.max(), Some(b), needed));
                errors.extend(own_error);
                let paper_auc = predicted_auc(*coslow, llama);
                let paper_budget = budget_for_target(TARGET, clamp_auc(paper_auc)).ok();
                let noise = task.noise_in(HEADLINE);
                table.push(vec![
                    Cell::text(&model.model),
                    Cell::text(&task.task),
                    Cell::text(noise.flags_text()),
                    (*auc).into(),
                    noise.auc_se.into(),
                    (*coslow).into(),
                    needed.map_or(Cell::Empty, |n| Cell::Num(n, 0)),
                    own_auc.into(),
                    own_budget.map_or(Cell::Empty, |n| Cell::Num(n, 0)),
                    own_error.into(),
                    paper_auc.into(),
                    paper_budget.map_or(Cell::Empty, |n| Cell::Num(n, 0)),
                ]);
            }
            if !errors.is_empty() {
                let within = errors.iter().filter(|e| **e <= 1.0).count();
                paragraphs.push(format!(
                    "Budgets for a normalised score of {TARGET} on `{}` (table `findings_budgets`): the model's own line, fitted \
                     on its other tasks, puts {within} of {} task(s) within a factor of two of the budget the measured curve \
                     needed (median miss ×{:.2}). The paper's Llama line turned into a budget on the paper's 5,000-example \
                     axis is beside it: it is what a practitioner with CoS-Low alone would be told, and on a 512-example \
                     study it can only be read as an order of magnitude.",
                    model.model,
                    errors.len(),
                    dataeff::evaluate::summarise(&errors).median.exp2(),
                ));
            }
        }
    }

    /// The wall-clock time of each task's cells (`timings.jsonl`): the full curve against CoS-Low
    /// (the confidence pass and one metrics repeat, what a practitioner runs), per model.
    fn compute(&self, ctx: &Context, models: &[LiveModel], table: &mut Table, paragraphs: &mut Vec<String>) {
        for (model, results) in models.iter().zip(&ctx.live) {
            let seconds = |prefix: &str| -> (usize, f64) {
                let cells: Vec<f64> = results.timings.iter().filter(|(id, _)| id.starts_with(prefix)).map(|(_, s)| *s).collect();
                (cells.len(), cells.iter().sum())
            };
            let (mut curve_total, mut coslow_total, mut all_total) = (0.0, 0.0, 0.0);
            let mut ratios = Vec::new();
            for task in &model.tasks {
                let (curve_cells, curve) = seconds(&format!("curve/{}/", task.task));
                let (_, confidence) = seconds(&format!("confidence/{}", task.task));
                let first = task.metrics.first().map(|c| results.timings.get(&c.id).copied());
                let (repeats, metrics) = seconds(&format!("metrics/{}/", task.task));
                if curve_cells == 0 && repeats == 0 {
                    continue;
                }
                let coslow = first.flatten().map(|m| confidence + m);
                let ratio = coslow.filter(|c| *c > 0.0 && curve_cells > 0).map(|c| curve / c);
                ratios.extend(ratio);
                curve_total += curve;
                coslow_total += coslow.unwrap_or(0.0);
                all_total += confidence + metrics;
                table.push(vec![
                    Cell::text(&model.model),
                    Cell::text(&task.task),
                    Cell::Int(curve_cells as i64),
                    Cell::Num(curve, 0),
                    coslow.map_or(Cell::Empty, |c| Cell::Num(c, 0)),
                    ratio.into(),
                    Cell::Int(repeats as i64),
                    Cell::Num(confidence + metrics, 0),
                ]);
            }
            if ratios.is_empty() {
                continue;
            }
            let hours = |s: f64| s / 3600.0;
            paragraphs.push(format!(
                "Compute on `{}` (wall-clock, from `timings.jsonl`; the 2-core machine was at times shared with builds): \
                 {:.1} h of fine-tuning curves and {:.1} h for the metrics with all their repeats, {:.1} h in all. One \
                 task's full curve took {:.1}× (median over {} task(s)) the time of its CoS-Low — the confidence pass and \
                 one metrics repeat, which is all a practitioner runs ({:.1} h for every task together).",
                model.model,
                hours(curve_total),
                hours(all_total),
                hours(curve_total + all_total),
                dataeff::evaluate::summarise(&ratios).median,
                ratios.len(),
                hours(coslow_total),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_zero_shot_correlation_names_its_cause() {
        let few = why_no_correlation(&[0.1, 0.2], &[0.5, 0.6]);
        assert!(few.starts_with("only 2 task(s)"), "{few}");
        let n = MIN_TASKS.max(4);
        let flat_zero_shot = why_no_correlation(&vec![0.0; n], &(0..n).map(|i| i as f64 / 10.0).collect::<Vec<_>>());
        assert!(flat_zero_shot.starts_with(&format!("the zero-shot score is 0.000 on all {n} tasks")), "{flat_zero_shot}");
        let flat_auc = why_no_correlation(&(0..n).map(|i| i as f64 / 10.0).collect::<Vec<_>>(), &vec![0.7; n]);
        assert!(flat_auc.starts_with(&format!("the AUC is 0.700 on all {n} tasks")), "{flat_auc}");
    }
}
