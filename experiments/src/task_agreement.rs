//! `task_agreement`: does a small model find the same tasks data-efficient as the paper's 7–14B
//! models? For the live tasks named like a published task: Spearman's ρ and Kendall's τ-b of the
//! live AUC with each published family's AUC, per model and live ceiling, with n shown.

use dataeff::stats::{CorrelationKind, kendall, spearman};
use dataeff::Family;

use crate::correlation::correlate;
use crate::experiment::{Context, Experiment, LIVE_INPUTS, Output};
use crate::live_tasks::{Ceiling, MIN_TASKS, live_models, no_live_results, too_few_tasks};
use crate::study::published_curves;
use crate::table::{Cell, Table};

pub struct TaskAgreement;

const CEILINGS: [(Ceiling, &str); 2] = [(Ceiling::MaxScore, "max_score"), (Ceiling::Paper, "paper")];

impl Experiment for TaskAgreement {
    fn id(&self) -> &'static str {
        "task_agreement"
    }
    fn title(&self) -> &'static str {
        "Table: rank agreement of the live AUC with each published family's AUC on the tasks they share"
    }
    fn inputs(&self) -> &'static [&'static str] {
        LIVE_INPUTS
    }

    fn run(&self, ctx: &Context) -> anyhow::Result<Output> {
        let models = live_models(ctx);
        let mut table = Table::new(
            "task_agreement",
            &["model", "family", "live_ceiling", "n", "spearman", "ci_low", "ci_high", "p_value", "kendall_tau_b", "tasks", "note"],
        );
        let mut columns = vec!["model", "task", "live_auc", "live_auc_paper_ceiling"];
        let family_columns: Vec<String> = Family::ALL.iter().map(|f| format!("auc_{}", f.prefix())).collect();
        columns.extend(family_columns.iter().map(String::as_str));
        let mut by_task = Table::new("task_agreement_by_task", &columns);
        if models.is_empty() {
            let summary = no_live_results("the agreement of the live AUC with the published AUC");
            return Ok(Output { tables: vec![table, by_task], summary, ..Default::default() });
        }
        let published = published_curves(ctx)?;
        let published_auc =
            |f: Family, task: &str| published.get(&(f, task.to_string())).map(|c| c.summary.extrapolation_auc);
        let mut paragraphs = vec![
            "A live task is matched with a published one by name. Spearman's ρ (95% interval from 4 tasks on) and \
             Kendall's τ-b of the live AUC with each family's published AUC, over the tasks both have, once with the \
             live AUC's primary ceiling (max score) and once with the paper's (human level, where transcribed; \
             the published AUCs always use the paper's). A high ρ means the small model and the paper's model \
             find the same tasks data-efficient."
                .to_string(),
        ];
        for model in &models {
            let matched: Vec<_> = model.tasks.iter().filter(|t| Family::ALL.iter().any(|&f| published_auc(f, &t.task).is_some())).collect();
            for t in &matched {
                let mut row = vec![
                    Cell::text(&model.model),
                    Cell::text(&t.task),
                    t.auc_under(Ceiling::MaxScore).into(),
                    t.auc_under(Ceiling::Paper).into(),
                ];
                row.extend(Family::ALL.iter().map(|&f| Cell::from(published_auc(f, &t.task))));
                by_task.push(row);
            }
            let mut described = Vec::new();
            for (ceiling, ceiling_name) in CEILINGS {
                for family in Family::ALL {
                    let pairs: Vec<(&str, f64, f64)> = model
                        .tasks
                        .iter()
                        .filter_map(|t| Some((t.task.as_str(), t.auc_under(ceiling)?, published_auc(family, &t.task)?)))
                        .collect();
                    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().map(|p| (p.1, p.2)).unzip();
                    let n = x.len();
                    let (rho, tau, note) = if n < MIN_TASKS {
                        (None, None, too_few_tasks(&model.model, n, &format!(" shared with {}", family.prefix())))
                    } else {
                        let (rho, tau) = (spearman(&x, &y), kendall(&x, &y));
                        let note = if rho.is_none() { "undefined: one side has the same AUC on every task".into() } else { String::new() };
                        (rho, tau, note)
                    };
                    let interval = correlate(CorrelationKind::Spearman, &x, &y).filter(|_| rho.is_some());
                    table.push(vec![
                        Cell::text(&model.model),
                        Cell::text(family.prefix()),
                        Cell::text(ceiling_name),
                        Cell::Int(n as i64),
                        rho.into(),
                        interval.map(|c| c.lo).into(),
                        interval.map(|c| c.hi).into(),
                        interval.map_or(Cell::Empty, |c| Cell::Sci(c.p_value)),
                        tau.into(),
                        Cell::text(pairs.iter().map(|p| p.0).collect::<Vec<_>>().join(" ")),
                        Cell::text(&note),
                    ]);
                    if ceiling == Ceiling::MaxScore {
                        described.push(match rho {
                            Some(r) => format!("{} ρ = {r:.2}, τ = {:.2} (n = {n})", family.model(), tau.unwrap_or(f64::NAN)),
                            None if n < MIN_TASKS => format!("{} {note}", family.model()),
                            None => format!("{} undefined (n = {n})", family.model()),
                        });
                    }
                }
            }
            paragraphs.push(format!(
                "`{}`: {} of its {} task(s) have a published namesake. Live AUC (ceiling = max score) against: {}.",
                model.model,
                matched.len(),
                model.tasks.len(),
                described.join("; ")
            ));
        }
        Ok(Output { tables: vec![table, by_task], summary: paragraphs.join("\n\n"), ..Default::default() })
    }
}
