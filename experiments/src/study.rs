//! The published curves, computed once per (family, task) from the transcribed data: what most
//! experiments start from.

use std::collections::BTreeMap;

use anyhow::Context as _;
use dataeff::curve::{NormalisedCurve, normalised_curve, select_scores, auc};
use dataeff::{AucSummary, Family};

use crate::experiment::Context;

/// One task's published curve for one family.
#[derive(Clone, Debug)]
pub struct TaskCurve {
    pub family: Family,
    pub task: String,
    /// Kept `(budget, raw score)` points, sorted by budget.
    pub points: Vec<(u32, f64)>,
    pub summary: AucSummary,
    pub normalised: NormalisedCurve,
    /// Raw score at budget 0, when the file has one.
    pub zero_shot: Option<f64>,
    /// Whether all three families have this task (the paper's 30).
    pub shared: bool,
}

/// Every (family, task) curve of the published data, keyed by (family, task).
pub fn published_curves(ctx: &Context) -> anyhow::Result<BTreeMap<(Family, String), TaskCurve>> {
    let data = &ctx.published;
    let shared: Vec<&str> = data.shared_tasks();
    let mut out = BTreeMap::new();
    for ((family, task), results) in &data.scores {
        let human = data.human_level(task);
        let curve = (|| -> anyhow::Result<TaskCurve> {
            let points = select_scores(task, results)?;
            Ok(TaskCurve {
                family: *family,
                task: task.clone(),
                summary: auc(&points, human)?,
                normalised: normalised_curve(&points, human)?,
                zero_shot: points.iter().find(|p| p.0 == 0).map(|p| p.1),
                shared: shared.contains(&task.as_str()),
                points,
            })
        })()
        .with_context(|| format!("family `{family}`, task `{task}`"))?;
        out.insert((*family, task.clone()), curve);
    }
    Ok(out)
}

/// The curves of one family, optionally only the paper's 30 shared tasks, sorted by task name.
pub fn family_curves(
    curves: &BTreeMap<(Family, String), TaskCurve>,
    family: Family,
    shared_only: bool,
) -> Vec<&TaskCurve> {
    curves.values().filter(|c| c.family == family && (c.shared || !shared_only)).collect()
}

/// Scopes summarised by the beyond-the-paper experiments: each family, then all three together.
pub fn scopes() -> Vec<(String, Option<Family>)> {
    Family::ALL.iter().map(|f| (f.prefix().to_string(), Some(*f))).chain([("all".to_string(), None)]).collect()
}

/// The 90 curves the beyond-the-paper experiments evaluate: the paper's 30 shared tasks × 3
/// families, in (family, task) order.
pub fn paper_curves(ctx: &Context) -> anyhow::Result<Vec<TaskCurve>> {
    Ok(published_curves(ctx)?.into_values().filter(|c| c.shared).collect())
}
